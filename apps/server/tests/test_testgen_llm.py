"""testgen's model-written tests through the composed server, its LLM service and a loopback Anthropic API."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client

from codegen_lab.common import load_settings
from codegen_lab.llm.testing import FakeAnthropic
from codegen_lab.server import create_server
from codegen_lab.server._cli import cli

VAULT = (
    "def unlock(word: str) -> str:\n    if word == 'open' + ' sesame':\n        return 'opened'\n    return 'closed'\n"
)
TESTS = """```python
import vault


def test_unlock_with_the_passphrase_opens():
    assert vault.unlock("open sesame") == "opened"
```"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    root.chmod(0o755)
    (root / "vault.py").write_text(VAULT, encoding="utf-8")
    (root / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return root


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    def reply(body: dict[str, Any]) -> str:
        return TESTS if "pytest tests" in FakeAnthropic.system_text(body) else ""  # no candidate calls, one test

    with FakeAnthropic(reply=reply) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


async def generate(root: Path) -> dict[str, Any]:
    async with Client(create_server(load_settings(root))) as client:
        result = await client.call_tool(
            "testgen_generate", {"target": "vault.py", "budget": 120, "llm": True, "out": "tests"}
        )
    assert not result.is_error, result.content
    return result.structured_content or {}


@pytest.mark.slow
@pytest.mark.anyio
async def test_testgen_generate_keeps_a_test_the_servers_llm_wrote(workspace: Path, fake: FakeAnthropic) -> None:
    report = await generate(workspace)
    assert report["llm"]["used"] is True
    assert (report["llm"]["proposed"], report["llm"]["kept"]) == (1, 1)
    assert report["line_percent"] == 100
    assert "def test_unlock_with_the_passphrase_opens():" in report["code"]
    assert "# Written by the model" in (workspace / "tests" / "test_vault_generated.py").read_text(encoding="utf-8")
    asked = [request.body for request in fake.requests if "pytest tests" in FakeAnthropic.system_text(request.body)]
    assert len(asked) == 1
    assert "    3*         return 'opened'" in asked[0]["messages"][0]["content"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_without_an_llm_testgen_generate_says_the_offline_strategies_ran_alone(workspace: Path) -> None:
    report = await generate(workspace)
    assert report["llm"]["used"] is False
    assert "offline strategies ran alone" in report["llm"]["note"]
    assert report["tests"]


@pytest.mark.slow
def test_the_cli_passes_its_llm_to_testgen_generate(workspace: Path, fake: FakeAnthropic) -> None:
    arguments = ["testgen", "generate", "vault.py", "--root", str(workspace), "--budget", "120", "--llm", "--print"]
    result = CliRunner().invoke(cli, [*arguments, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["llm"]["used"], report["llm"]["kept"]) == (True, 1), report["llm"]
    assert "def test_unlock_with_the_passphrase_opens():" in report["code"]
