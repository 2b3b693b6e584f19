from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (the shared fixtures)

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "cursor-rules"

MakeRepo = Callable[[dict[str, str]], Path]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty home folder: no test reads the assistant settings of whoever runs the tests."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in ("CODEX_HOME", "GEMINI_CLI_HOME", "XDG_CONFIG_HOME", "CONTINUE_GLOBAL_DIR"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """Write `{relative path: text}` under a fresh root (text dedented) and return the root."""

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "repo"
        for relpath, text in files.items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root

    return make


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "MANIFEST.json").is_file():
        pytest.skip(f"the rule corpus is not at {CORPUS} (it sits in ../shared beside the checkout in CI)")
    return CORPUS
