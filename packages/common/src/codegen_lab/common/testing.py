"""Fixtures and settings that every test suite of the workspace shares, defined once.

Only a `conftest.py` imports this module: it needs pytest and Hypothesis, which are not dependencies of the
package, only of each member's `dev` group. A conftest imports the fixtures it wants by name, so nothing here
reaches a user's project unasked:

```python
from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (fixtures)
```

Importing it also registers and loads the Hypothesis profile `codegen-lab`: no deadline and no `too_slow` health
check, since both measure the wall clock, which a loaded machine stretches. Set `HYPOTHESIS_PROFILE` to load
another registered profile (`default` is Hypothesis's own).
"""

from __future__ import annotations

import inspect
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

__all__ = [
    "ESCAPES",
    "HYPOTHESIS_PROFILE",
    "NginxBalancer",
    "RedisServer",
    "anyio_backend",
    "enterable_folder",
    "exports_defined_elsewhere",
    "free_port",
    "hostile_project",
    "isolated_state",
    "load_hypothesis_profile",
    "processes_naming",
]

HYPOTHESIS_PROFILE = "codegen-lab"
"""The name of the Hypothesis settings profile the workspace's tests run under."""


def load_hypothesis_profile() -> None:
    """Register the `codegen-lab` Hypothesis profile and load it, or the one `HYPOTHESIS_PROFILE` names.

    The profile keeps Hypothesis's example counts and checks, without those that time the machine: the
    per-example `deadline` and the `too_slow` health check. A test's own `@settings(...)` overrides only the
    values it names: one that names `suppress_health_check` must list `HealthCheck.too_slow` again.
    """
    settings.register_profile(HYPOTHESIS_PROFILE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", HYPOTHESIS_PROFILE))


def exports_defined_elsewhere(package: ModuleType) -> dict[str, str]:
    """The classes and functions in `package.__all__` defined outside the package, with the package defining each.

    Every name is looked up (a lazily imported one is imported). The defining package is `codegen_lab.<name>`
    for the workspace's packages, else the top-level module (`mcp`, `mcp_types`): a re-export is an API decision
    that a test states, not an accident of an import.

    Raises:
        AttributeError: When a name of `__all__` is missing.
    """
    found: dict[str, str] = {}
    for name in package.__all__:
        value: object = getattr(package, name)
        if not (inspect.isclass(value) or (callable(value) and inspect.isfunction(inspect.unwrap(value)))):
            continue  # constants, type aliases, callable instances: no module of their own
        module: str = getattr(value, "__module__", "")
        if module != package.__name__ and not module.startswith(package.__name__ + "."):
            parts = module.split(".")
            found[name] = ".".join(parts[:2] if parts[0] == "codegen_lab" else parts[:1])
    return found


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit log, backups, the journal and the caches of each test live in temporary folders, never the user's.

    The user's own config file is not read either (`CODEGEN_LAB_CONFIG` empty).
    """
    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("CODEGEN_LAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("CODEGEN_LAB_CONFIG", "")  # nor the user's own config file


@pytest.fixture
def anyio_backend() -> str:
    """The anyio tests run on asyncio (the MCP SDK's loop), not on trio as well."""
    return "asyncio"


load_hypothesis_profile()


ESCAPES = (
    "../outside/secret.txt",
    "src/../../outside/secret.txt",
    "/etc/passwd",
    "link_out/secret.txt",
    "/proc/self/root/etc/passwd",
    "/proc/self/cwd/../../etc/passwd",
)
"""Paths that leave a `hostile_project` root, from real MCP server escapes: `..`, absolute, a link out, `/proc`."""


def hostile_project(tmp_path: Path) -> Path:
    """A project root `tmp_path/app` beside the places a path guard must keep a caller out of.

    `app/src/main.py`; `app-evil/` (a sibling whose name starts with the root's) and `outside/`, each holding
    `secret.txt` and `secret.py`; in `app`, `link_out` (to `outside`), `link_in` (to `src`) and `loop` (to
    itself).
    """
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.py").write_text("def main() -> int:\n    return 1\n", encoding="utf-8")
    for name in ("app-evil", "outside"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "secret.txt").write_text("secret\n", encoding="utf-8")
        (tmp_path / name / "secret.py").write_text("SECRET = 1\n", encoding="utf-8")
    (root / "link_out").symlink_to(tmp_path / "outside")
    (root / "link_in").symlink_to(root / "src")
    (root / "loop").symlink_to("loop")
    return root


@contextmanager
def enterable_folder(prefix: str) -> Generator[Path]:
    """A new folder every uid may enter (pytest's own are 0700), so that a sandbox's other uid can read it.

    It is removed when the block ends.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def processes_naming(token: str) -> list[str]:
    """The pids of the processes whose command line holds `token` (a test's own mark on what it started)."""
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in command:
                found.append(entry.name)
    return found


def free_port() -> int:
    """A TCP port free on the loopback address now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A real `redis-server` (the Debian package) on a free loopback port, without persistence, for a test.

    `start` waits until it answers PING (up to `bound` seconds, a guard against hanging), `stop` ends it; it may
    be started again on the same port. Tests skip when `redis-server` is not installed (`.ci/run` installs it).

    Args:
        folder: Its working folder.
        bound: The longest a start may take before the test fails.
    """

    def __init__(self, folder: Path, *, bound: float = 30.0) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
        self.executable = executable
        self.folder = folder
        self.bound = bound
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        command += ["no", "--dir", str(self.folder), "--protected-mode", "no", "--loglevel", "warning"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + self.bound
        while not self.answers():
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server did not answer PING within {self.bound:g} s")
            time.sleep(0.02)

    def answers(self) -> bool:
        """Whether it answers PING now."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """End it, and wait until it has ended."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=self.bound)
        self.process = None


class NginxBalancer:
    """nginx (the Debian package) on a free loopback port, with a deployment's configuration, for a test.

    The configuration folder holds `nginx.conf`, which includes `listen.conf`, `upstream.conf` and
    `replicas.conf` (as deploy/nginx does): they are written here for loopback ports, so that `/mcp` is balanced
    over `replicas` and `/replicas/N/metrics` reads replica N (from 1). Tests skip when nginx is not installed.

    Args:
        folder: Its prefix folder (configuration copy, pid file, temporary files, error log).
        config: The folder of the deployment's `nginx.conf`.
        replicas: The loopback ports of the replicas.
        bound: The longest a start may take before the test fails.
    """

    def __init__(self, folder: Path, config: Path, replicas: Sequence[int], *, bound: float = 30.0) -> None:
        executable = shutil.which("nginx") or next((path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None)
        if executable is None:
            pytest.skip("nginx is not installed (apt-get install -y nginx-light)")
        self.executable = executable
        self.folder = folder
        self.config = config
        self.replicas = list(replicas)
        self.bound = bound
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Write the included files, check the configuration (`nginx -t`), start nginx and wait for its port."""
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.config / "nginx.conf", self.folder / "nginx.conf")
        (self.folder / "listen.conf").write_text(f"listen 127.0.0.1:{self.port};\n", encoding="utf-8")
        upstream = "".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=30s;\n" for port in self.replicas)
        (self.folder / "upstream.conf").write_text(upstream, encoding="utf-8")
        locations = "".join(
            f"location = /replicas/{number}/metrics {{ proxy_pass http://127.0.0.1:{port}/metrics; }}\n"
            for number, port in enumerate(self.replicas, start=1)
        )
        (self.folder / "replicas.conf").write_text(locations, encoding="utf-8")
        command = [self.executable, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)  # noqa: S603
        if checked.returncode != 0:
            pytest.fail(f"nginx -t refused the configuration: {checked.stderr}")
        with (self.folder / "error.log").open("wb") as log:
            self.process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=log)  # noqa: S603
        deadline = time.monotonic() + self.bound
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {(self.folder / 'error.log').read_text(errors='replace')}")
                time.sleep(0.02)

    def stop(self) -> None:
        """End it, and wait until it has ended."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=self.bound)
        self.process = None
