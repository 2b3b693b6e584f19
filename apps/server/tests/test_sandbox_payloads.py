"""Hostile code through the real tools: each payload is contained, reported, and the server keeps answering.

The payloads are pytest files in a temporary project that `testgen_run` runs in testgen's sandbox, through the
composed server and the SDK's in-memory client; meanwhile `server_info` is called again and again and must
answer promptly.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from codegen_lab.common import load_settings
from codegen_lab.server import create_server
from codegen_lab.testgen._sandbox import bubblewrap_path

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CANARY = f"sk-canary-{uuid.uuid4().hex}"
"""A fake API key in the server's environment: it must reach neither the code under test nor a result."""

SLOWEST_ANSWER = 15.0
"""Seconds `server_info` may take while a payload runs: generous for a loaded machine (a server whose event loop
the run blocked would hold the call for the whole run, up to the tool's timeout of 60 s)."""


@pytest.fixture
def bubblewrap() -> None:
    """Skips a test that needs bubblewrap where it cannot run (testgen's own tests fail on CI then)."""
    if bubblewrap_path() is None:
        pytest.skip("bubblewrap is not installed")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project readable by the sandbox's uid, whose interpreter is this environment's."""
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    for folder in (root, root / "tests"):
        folder.chmod(0o755)
    (root / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return root


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A machine where `bwrap` is not on PATH."""
    empty = tmp_path / "bin-without-bwrap"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    bubblewrap_path.cache_clear()
    yield
    bubblewrap_path.cache_clear()


async def run_payload(root: Path, code: str, *, seconds: float = 60.0, **values: object) -> tuple[CallToolResult, str]:
    """Run the payload `code` (with `NAME` placeholders replaced by `values`) as a test file with `testgen_run`.

    `seconds` is the tool's timeout. `server_info` is called throughout, and must answer each time within
    `SLOWEST_ANSWER` seconds.

    Returns:
        The tool's result and its whole text (content and structured content), to search for leaks.
    """
    text = textwrap.dedent(code)
    for name, value in values.items():
        text = text.replace(name, repr(value))
    (root / "tests" / "test_payload.py").write_text(text, encoding="utf-8")
    arguments = {"paths": ["tests/test_payload.py"], "python": ".venv/bin/python", "timeout": seconds}
    finished = anyio.Event()
    answers: list[float] = []
    result: CallToolResult | None = None
    async with Client(create_server(load_settings(root))) as client:

        async def payload() -> None:
            nonlocal result
            result = await client.call_tool("testgen_run", arguments)
            finished.set()

        async with anyio.create_task_group() as group:
            group.start_soon(payload)
            while not finished.is_set():
                started = time.perf_counter()
                with anyio.fail_after(30):
                    info = await client.call_tool("server_info", {})
                answers.append(time.perf_counter() - started)
                assert not info.is_error
                with anyio.move_on_after(0.2):
                    await finished.wait()
    assert result is not None
    assert answers, "server_info was never called while the payload ran"
    assert max(answers) < SLOWEST_ANSWER, f"server_info took {max(answers):.2f} s while the payload ran"
    whole = json.dumps([item.model_dump(mode="json") for item in result.content]) + json.dumps(
        result.structured_content
    )
    return result, whole


def passed(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    report: dict[str, Any] = result.structured_content or {}
    assert report["failed"] == 0, report["tests"]
    return report


def leftovers(marker: str) -> list[str]:
    """Processes still running whose command line names `marker` (the payload's project)."""
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in command:
                found.append(f"{entry.name}: {command}")
    return found


async def assert_no_leftovers(root: Path) -> None:
    with anyio.fail_after(10):
        while leftovers(str(root)):  # noqa: ASYNC110 (polling /proc: there is no event to wait for)
            await anyio.sleep(0.1)


NETWORK_AND_SECRETS = """
import os
import socket

import pytest


def test_runs_as_an_unprivileged_uid_in_its_own_network_namespace():
    assert os.getuid() != 0
    assert [name for _, name in socket.if_nameindex()] == ["lo"]


def test_cannot_reach_a_server_on_the_hosts_loopback():
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", PORT), timeout=2).close()


def test_sees_no_secret_of_the_server():
    seen = repr(dict(os.environ))
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as source:
                    seen += source.read().decode(errors="replace")
            except OSError:
                pass
    assert MARKER not in seen
"""


async def test_no_network_and_no_secrets_of_the_server(project: Path, bubblewrap: None) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        result, whole = await run_payload(project, NETWORK_AND_SECRETS, PORT=port, MARKER=CANARY[:16])
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
    report = passed(result)
    assert report["passed"] == 3
    assert report["isolation"] == "bubblewrap"
    assert CANARY not in whole


WRITES = """
import os


def test_writes_outside_the_work_folder():
    for target in TARGETS:
        try:
            with open(target, "w") as sink:
                sink.write("escaped")
        except OSError:
            pass
    with open(os.path.join(os.environ["HOME"], "allowed"), "w") as sink:
        sink.write("the work folder is writable")
"""


async def test_writes_outside_the_sandbox_do_not_reach_the_host(project: Path, bubblewrap: None) -> None:
    name = f"escaped-{uuid.uuid4().hex}"
    targets = [project / name, Path("/tmp") / name, Path.home() / name]  # noqa: S108 (the host's /tmp is the point)
    try:
        result, _ = await run_payload(project, WRITES, TARGETS=[str(target) for target in targets])
        report = passed(result)
        assert report["passed"] == 1
        assert [target for target in targets if target.exists()] == []
    finally:
        for target in targets:
            target.unlink(missing_ok=True)


async def test_an_infinite_loop_is_killed_on_time(project: Path) -> None:
    started = time.monotonic()
    result, whole = await run_payload(project, "def test_loop():\n    while True:\n        pass\n", seconds=2)
    assert result.is_error
    assert "did not finish within 2 s and were stopped" in whole
    assert time.monotonic() - started < 30
    await assert_no_leftovers(project)


FORK_BOMB = """
import os


def test_fork_bomb():
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""


async def test_a_fork_bomb_is_limited_and_killed_on_time(project: Path, bubblewrap: None) -> None:
    result, whole = await run_payload(project, FORK_BOMB, seconds=3)
    assert result.is_error
    assert "did not finish within 3 s and were stopped" in whole
    await assert_no_leftovers(project)


ALLOCATION = """
import pytest


def test_allocates_10_gib():
    with pytest.raises(MemoryError):
        bytearray(10 * 1024**3)
"""


async def test_a_10_gib_allocation_fails_inside(project: Path) -> None:
    result, _ = await run_payload(project, ALLOCATION)
    assert passed(result)["passed"] == 1


BIG_FILE = """
def test_writes_2_gib(tmp_path):
    chunk = b"x" * 64 * 1024**2
    with open(tmp_path / "big", "wb") as sink:
        for _ in range(32):
            sink.write(chunk)
"""


async def test_a_2_gib_file_stops_at_the_file_size_limit(project: Path) -> None:
    result, _ = await run_payload(project, BIG_FILE)
    assert not result.is_error, result.content
    report: dict[str, Any] = result.structured_content or {}
    (test,) = report["tests"]
    assert test["outcome"] == "failed"
    assert "File too large" in test["message"]


FLOOD = """
import os


def test_prints_1_gb(capfd):
    chunk = b"x" * 1024**2
    with capfd.disabled():
        for _ in range(1024):
            os.write(1, chunk)
"""

CAPTURED_FLOOD = """
def test_prints_1_gb():
    chunk = "x" * 1024**2
    for _ in range(1024):
        print(chunk)
    assert False, "pytest shows what a failed test printed"
"""


@pytest.mark.parametrize("payload", [FLOOD, CAPTURED_FLOOD], ids=["straight", "captured-by-pytest"])
async def test_1_gb_of_output_is_stopped_at_the_output_limit(project: Path, payload: str) -> None:
    started = time.monotonic()
    result, whole = await run_payload(project, payload)
    assert result.is_error
    assert "wrote more than 64 MiB of output and were stopped" in whole
    assert len(whole) < 100_000
    assert time.monotonic() - started < 30
    await assert_no_leftovers(project)


WITHOUT_BUBBLEWRAP = """
import os

import pytest


def test_sees_a_clean_environment():
    assert MARKER not in repr(dict(os.environ))
    assert os.environ["HOME"] != HOST_HOME


def test_memory_is_still_limited():
    with pytest.raises(MemoryError):
        bytearray(10 * 1024**3)
"""


async def test_without_bubblewrap_limits_and_a_clean_environment_still_hold(
    project: Path, without_bubblewrap: None
) -> None:
    result, whole = await run_payload(project, WITHOUT_BUBBLEWRAP, MARKER=CANARY[:16], HOST_HOME=str(Path.home()))
    report = passed(result)
    assert report["passed"] == 2
    assert report["isolation"] in {"namespaces", "uid"}  # without bubblewrap, still a sandbox
    assert CANARY not in whole
    looped, text = await run_payload(project, "def test_loop():\n    while True:\n        pass\n", seconds=2)
    assert looped.is_error
    assert "did not finish within 2 s and were stopped" in text
    await assert_no_leftovers(project)


GENERATED = '''
import os
import urllib.request


def probe():
    """What this code could reach: it should be nothing."""
    report = {"root": os.getuid() == 0, "secret": MARKER in repr(dict(os.environ))}
    try:
        urllib.request.urlopen(API + "/v1/models", timeout=2).close()
        report["network"] = True
    except OSError:
        report["network"] = False
    try:
        with open(ESCAPE, "w") as sink:
            sink.write("escaped")
        report["wrote"] = True
    except OSError:
        report["wrote"] = False
    return report
'''

GENERATED_TESTS = """
from calc import probe


def test_the_generated_code_is_contained():
    assert probe() == {"root": False, "secret": False, "network": False, "wrote": False}
"""


async def test_generate_code_validates_hostile_code_in_the_sandbox(
    project: Path, bubblewrap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_lab.llm.testing import FakeAnthropic

    escape = project / "escaped.txt"
    (project / "calc.py").write_text("def probe():\n    return {}\n", encoding="utf-8")
    (project / "tests" / "test_calc.py").write_text(textwrap.dedent(GENERATED_TESTS), encoding="utf-8")
    with FakeAnthropic() as fake:
        code = GENERATED.replace("MARKER", repr(CANARY[:16])).replace("API", repr(fake.url))
        # The path is built at run time: a literal under /tmp is a lint finding, and code that fails static
        # validation never runs; this code must pass it and be contained by the sandbox alone.
        fake.reply = f"```python\n{code.replace('ESCAPE', f'chr(47) + {str(escape)[1:]!r}')}```"
        monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)  # the key the server itself uses
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        async with Client(create_server(load_settings(project))) as client:
            result = await client.call_tool("generate_code", {"task": "probe", "target_path": "calc.py"})
        requests = len(fake.requests)
    assert not result.is_error, result.content
    validation: dict[str, Any] = (result.structured_content or {})["validation"]
    assert (validation["lint"], validation["policy"]) == ([], []), validation
    tests: dict[str, Any] = validation["tests"]
    assert (tests["passed"], tests["failed"], tests["isolation"]) == (1, 0, "bubblewrap"), tests
    assert requests == 1  # the server's own call; none from the sandbox
    assert not escape.exists()
    assert CANARY not in json.dumps(result.structured_content)
