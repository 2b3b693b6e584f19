"""A canary key in the server's environment appears nowhere: not in logs (DEBUG), results, errors or the audit log.

A real `codegen-lab serve` process over stdio, with DEBUG logging, an Anthropic key and another token in its
environment, answers calls that use the key (code generation against a local fake Messages API), calls that
fail, a command that prints its environment, and a test run in the sandbox that reads it.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from codegen_lab.llm.testing import FakeAnthropic

pytestmark = [pytest.mark.anyio, pytest.mark.e2e, pytest.mark.slow]

KEY = "sk-ant-canary-0f9e8d7c6b5a4938271605f4e3d2c1b0"
TOKEN = "ghp_canaryTOKEN_5a4b3c2d1e0f9a8b7c6d5e4f"  # noqa: S105 - the canary, not a credential


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / ".cursor" / "rules").mkdir(parents=True)
    (root / ".cursor" / "rules" / "python.mdc").write_text(
        "---\ndescription: Python style\nglobs: src/*.py\nalwaysApply: false\n---\nUse type hints.\n", encoding="utf-8"
    )
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    (root / "tests" / "test_env.py").write_text(
        textwrap.dedent("""
            import os

            def test_prints_the_environment():
                print(dict(os.environ))
                assert False, repr(dict(os.environ))
        """),
        encoding="utf-8",
    )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\n\n[tool.uv.workspace]\nmembers = ["pkg"]\n', encoding="utf-8"
    )
    (root / "pkg").mkdir()
    (root / "pkg" / "pyproject.toml").write_text('[project]\nname = "pkg"\nversion = "0.1.0"\n', encoding="utf-8")
    (root / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return root


async def test_the_canary_key_appears_nowhere(project: Path, tmp_path: Path, codegen_lab: list[str]) -> None:
    state = tmp_path / "state"
    log = tmp_path / "server.log"
    code = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
    transcript: list[Any] = []
    with FakeAnthropic(reply=code) as fake, log.open("w") as errlog:
        environment = {
            **os.environ,
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_BASE_URL": fake.url,
            "DEPLOY_TOKEN": TOKEN,
            "CODEGEN_LAB_LOG_LEVEL": "DEBUG",
            "CODEGEN_LAB_STATE_DIR": str(state),
        }
        parameters = StdioServerParameters(
            command=codegen_lab[0], args=["serve", "--root", str(project)], env=environment, cwd=str(project)
        )
        async with stdio_client(parameters, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            calls: list[tuple[str, dict[str, Any]]] = [
                ("server_info", {}),
                ("generate_code", {"task": "add two numbers", "target_path": "src/calc.py"}),
                ("review_code", {"path": "src/calc.py"}),
                ("rules_lint", {}),
                ("rules_for_path", {"path": "/etc/passwd"}),
                ("generate_code", {"task": 3}),
                ("ws_run", {"command": ["printenv"], "apply": True}),
                (
                    "ws_run",
                    {"command": [sys.executable, "-c", "import os; raise SystemExit(str(os.environ))"], "apply": 1},
                ),
                ("testgen_run", {"paths": ["tests/test_env.py"], "python": ".venv/bin/python"}),
                ("no_such_tool", {}),
            ]
            for name, arguments in calls:
                result = await session.call_tool(name, arguments)
                transcript.append(result.model_dump(mode="json", by_alias=True))

    assert fake.requests, "the key was never used: the generate_code call did not reach the fake API"
    headers = fake.requests[0].headers
    assert KEY in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer "))
    printed = json.dumps(transcript)
    assert "DEPLOY_TOKEN" in printed or "ANTHROPIC_BASE_URL" in printed, "printenv's output is not in the results"
    logs = log.read_text(encoding="utf-8")
    assert "DEBUG" in logs
    audit = b"".join(path.read_bytes() for path in state.rglob("*") if path.is_file())
    assert b"ws_run" in audit, "the audit log did not record the calls"
    for secret in (KEY, TOKEN):
        assert secret not in printed
        assert secret not in logs
        assert secret.encode() not in audit
