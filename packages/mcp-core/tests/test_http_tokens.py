from __future__ import annotations

from pathlib import Path

import pytest

from codegen_lab.common import Settings, UsageError
from codegen_lab.mcp_core import BearerAuth, load_tokens

WRITE = "w" * 20
READ = "r" * 20


def test_tokens_from_the_environment_and_a_file(tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"# team tokens\nread {READ}\n\nwrite {WRITE}x\n", encoding="utf-8")
    settings = Settings(root=tmp_path, http_tokens_file=tokens_file)
    tokens = load_tokens(settings, {"CODEGEN_LAB_HTTP_TOKENS": f"write:{WRITE}"})
    assert tokens == {WRITE: "write", READ: "read", f"{WRITE}x": "write"}


@pytest.mark.parametrize(
    ("variable", "message"),
    [("admin:" + WRITE, "role 'admin' is not read or write"), ("write:short", "shorter than 16 characters")],
)
def test_bad_tokens_are_refused_without_showing_them(tmp_path: Path, variable: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        load_tokens(Settings(root=tmp_path), {"CODEGEN_LAB_HTTP_TOKENS": variable})
    assert WRITE not in str(caught.value)
    assert "short" not in str(caught.value).split(":", 1)[0]


def test_roles_are_found_by_constant_time_comparison() -> None:
    auth = BearerAuth(app=None, tokens={WRITE: "write", READ: "read"}, read_only_tools=set(), max_body=10)
    assert auth.role_of(f"Bearer {READ}") == "read"
    assert auth.role_of(f"bearer {WRITE}") == "write"
    assert auth.role_of(f"Bearer {WRITE[:-1]}") is None
    assert auth.role_of(None) is None
    assert auth.role_of(f"Basic {WRITE}") is None
