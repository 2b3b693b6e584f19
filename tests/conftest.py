"""Fixtures for the cross-package and end-to-end tests: real server processes and a real MCP client."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (the shared fixtures)

TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `container` build an image for minutes: they run only when `-m` names them."""
    if "container" in str(config.getoption("markexpr", "")):
        return
    skip = pytest.mark.skip(reason="builds the server image with podman (minutes): run with -m container")
    for item in items:
        if item.get_closest_marker("container") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def codegen_lab() -> list[str]:
    """The installed `codegen-lab` script of this environment, as a user runs it."""
    script = Path(sys.executable).parent / "codegen-lab"
    assert script.is_file(), f"{script} is missing: run `uv sync --all-packages`"
    return [str(script)]


@dataclass
class HttpServer:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path, codegen_lab: list[str]) -> Iterator[Callable[..., HttpServer]]:
    """Start `codegen-lab serve --transport http` on a free loopback port; every server started is stopped after."""
    started: list[HttpServer] = []

    def start(*extra: str, env: dict[str, str] | None = None) -> HttpServer:
        port = _free_port()
        log = tmp_path / f"server-{port}.log"
        command = [*codegen_lab, "serve", "--transport", "http", "--port", str(port), "--root", str(tmp_path), *extra]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        server = HttpServer(process, f"http://127.0.0.1:{port}/mcp", log)
        started.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}: {log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                time.sleep(0.05)
            else:
                return server
        raise AssertionError(f"the server did not listen within 60 s: {log.read_text()}")

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def inspector() -> Path:
    """The MCP Inspector CLI pinned in tests/package-lock.json, installed with `npm ci` when it is not yet.

    One pytest-xdist worker (or pytest run of this checkout) installs it while the others wait: they lock the
    lock file itself (an advisory lock, which npm does not see).
    """
    binary = TESTS / "node_modules" / ".bin" / "mcp-inspector"
    lock = TESTS / "package-lock.json"
    installed = TESTS / "node_modules" / ".package-lock.json"
    with lock.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # released when the file closes
        if not binary.exists() or not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
            npm = shutil.which("npm")
            assert npm is not None, "npm is needed for the end-to-end tests (Node.js 20 or newer)"
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TESTS, check=True, timeout=600)
    return binary


@pytest.fixture
def inspector_env(tmp_path: Path) -> dict[str, str]:
    """The environment for the Inspector: its catalog in a temporary folder, not the user's home."""
    return {**os.environ, "MCP_CATALOG_PATH": str(tmp_path / "inspector-catalog.json"), "NO_COLOR": "1"}
