"""The sandbox without bubblewrap: what broke out of the resource-limits sandbox as root must now be contained.

Each payload ran as root, read secrets or left processes behind before `namespaces` and `uid` existed. The
`namespaces` cases run this environment's interpreter, which lives in `/root/.pyenv` under pyenv (a folder uid
65534 cannot enter on the host); the `uid` cases need an interpreter that uid can reach, such as /usr/bin/python3.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from codegen_lab.common.testing import enterable_folder, processes_naming
from codegen_lab.testgen import TestgenUsageError, _sandbox
from codegen_lab.testgen._interpreter import probe_python
from codegen_lab.testgen._sandbox import SANDBOX_UID, Limits, Sandbox, namespaces_error

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the uid is dropped only when testgen runs as root")
SYSTEM_PYTHON = Path("/usr/bin/python3")
SHARED_TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm")  # noqa: S108 (writing there from the sandbox is the point)


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where bubblewrap is not found (and `unshare` is still found, in the system's own folders)."""
    monkeypatch.setattr(_sandbox, "bubblewrap_path", lambda: None)
    monkeypatch.setenv("PATH", "/nonexistent")


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every uid may enter (pytest's own are 0700): holds the project and the work folder."""
    with enterable_folder("testgen-isolation-") as folder:
        yield folder


def make_box(mode: str, folder: Path, **limits: float) -> tuple[Sandbox, Path, Path]:
    """A sandbox of `mode` (`auto` here means namespaces), its project (read-only) and its work folder."""
    if mode in {"auto", "namespaces"} and namespaces_error() is not None:
        pytest.skip(f"namespaces cannot be made here: {namespaces_error()}")
    if mode == "uid":
        if os.geteuid() != 0:
            pytest.skip("isolation uid needs root")
        if not SYSTEM_PYTHON.exists():
            pytest.skip("no /usr/bin/python3, which uid 65534 could reach")
    python = probe_python(SYSTEM_PYTHON if mode == "uid" else sys.executable)
    project = folder / "project"
    project.mkdir(mode=0o755)
    (project / "module.py").write_text("x = 1\n", encoding="utf-8")
    workdir = folder / "work"
    workdir.mkdir()
    box = Sandbox(python, read_only=[project], limits=Limits(**limits), isolation=mode)  # type: ignore[arg-type]
    return box, project, workdir


FALLBACKS = [pytest.param("namespaces", id="namespaces"), pytest.param("uid", id="uid", marks=ROOT_ONLY)]


@ROOT_ONLY
def test_auto_without_bubblewrap_runs_the_code_as_nobody_in_namespaces(without_bubblewrap: None, shared: Path) -> None:
    box, _, workdir = make_box("auto", shared)
    code = "import os, pytest; print(os.getuid(), os.getgid(), os.getgroups(), 6 * 7, os.getpid())"
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.isolation == "namespaces"
    assert result.stdout == f"{SANDBOX_UID} {SANDBOX_UID} [] 42 2\n", result.stderr  # its own PID namespace


@ROOT_ONLY
def test_isolation_uid_runs_the_code_as_nobody(without_bubblewrap: None, shared: Path) -> None:
    box, _, workdir = make_box("uid", shared)
    result = box.run_python(
        ["-c", "import os; print(os.getuid(), os.getgid(), os.getgroups(), 6 * 7)"], workdir=workdir
    )
    assert result.isolation == "uid"
    assert result.stdout == f"{SANDBOX_UID} {SANDBOX_UID} [] 42\n", result.stderr


@pytest.mark.parametrize("mode", FALLBACKS)
def test_etc_shadow_is_unreadable(without_bubblewrap: None, shared: Path, mode: str) -> None:
    box, _, workdir = make_box(mode, shared)
    code = "try:\n    open('/etc/shadow').read()\n    print('read')\nexcept OSError as exc:\n    print(exc.errno)"
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.stdout == "13\n", result.stderr  # EACCES


ENVIRON = """
import os, pathlib, sys
name, value, host_pid = sys.argv[1:]
proc = pathlib.Path("/proc")
places = {proc / host_pid, proc / str(os.getppid()), *proc.glob("[0-9]*")}
texts = [repr(dict(os.environ))]
for place in sorted(places):
    try:
        texts.append((place / "environ").read_bytes().decode(errors="replace"))
    except OSError:
        continue
print(any(name in text for text in texts), any(value in text for text in texts))
"""


@pytest.mark.parametrize("mode", FALLBACKS)
def test_the_parents_environment_is_unreadable(
    without_bubblewrap: None, shared: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = f"sk-canary-{uuid.uuid4().hex}"
    monkeypatch.setenv("TESTGEN_SERVER_SECRET", canary)
    box, _, workdir = make_box(mode, shared)
    arguments = ["TESTGEN_SERVER_SECRET", canary, str(os.getpid())]  # in its command line, not its environment
    result = box.run_python(["-c", ENVIRON, *arguments], workdir=workdir)
    assert result.stdout == "False False\n", result.stderr


def test_a_server_on_the_hosts_loopback_is_unreachable(without_bubblewrap: None, shared: Path) -> None:
    box, _, workdir = make_box("namespaces", shared)
    code = (
        "import socket, sys\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5).close()\n"
        "    print('connected')\n"
        "except OSError:\n"
        "    print('unreachable')\n"
    )
    with socket.create_server(("127.0.0.1", 0)) as listener:
        result = box.run_python(["-c", code, str(listener.getsockname()[1])], workdir=workdir)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert result.stdout == "unreachable\n", result.stderr


FORKS = """
import os, time
made = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    made += 1
print(made)
"""


@pytest.mark.parametrize("mode", FALLBACKS)
def test_300_processes_are_refused(without_bubblewrap: None, shared: Path, mode: str) -> None:
    box, _, workdir = make_box(mode, shared, processes=100)
    result = box.run_python(["-c", FORKS], workdir=workdir)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) < 300


LEAVES = """
import subprocess, sys
quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
code = "import os, time\\nif os.fork() == 0:\\n    time.sleep(60)\\ntime.sleep(60)"
subprocess.Popen([sys.executable, "-c", code, sys.argv[1]], start_new_session=True, **quiet)
print("left")
"""


@pytest.mark.parametrize("mode", [*FALLBACKS, pytest.param("none", id="none")])
def test_a_setsid_child_does_not_survive_the_run(
    without_bubblewrap: None, shared: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEGEN_LAB_ALLOW_UNSANDBOXED", "1")
    box, _, workdir = make_box(mode, shared)
    token = f"testgen-survivor-{uuid.uuid4().hex}"
    result = box.run_python(["-c", LEAVES, token], workdir=workdir)
    assert result.stdout == "left\n", result.stderr
    assert processes_naming(token) == []


WRITES = """
import os, sys
landed = []
for target in sys.argv[1:]:
    try:
        with open(target, "w") as sink:
            sink.write("escaped")
        landed.append(target)
    except OSError:
        pass
with open(os.path.join(os.environ["HOME"], "allowed"), "w") as sink:
    sink.write("the work folder is writable")
print(landed)
"""


def test_writes_outside_the_work_folder_do_not_land(without_bubblewrap: None, shared: Path) -> None:
    box, project, workdir = make_box("namespaces", shared)
    name = f"escaped-{uuid.uuid4().hex}"
    open_folder = shared / "open"
    open_folder.mkdir(mode=0o777)
    open_folder.chmod(0o777)
    targets = [
        project / name,
        open_folder / name,
        *(Path(folder) / name for folder in SHARED_TEMPORARY),
    ]
    try:
        result = box.run_python(["-c", WRITES, *map(str, targets)], workdir=workdir)
        assert result.returncode == 0, result.stderr
        assert [target for target in targets if target.exists()] == []
        assert (workdir / "allowed").read_text() == "the work folder is writable"
    finally:
        for target in targets:
            target.unlink(missing_ok=True)


@ROOT_ONLY
def test_isolation_uid_keeps_root_owned_files(without_bubblewrap: None, shared: Path) -> None:
    box, project, workdir = make_box("uid", shared)
    name = f"escaped-{uuid.uuid4().hex}"
    targets = [project / name, Path("/etc") / name, Path("/root") / name]
    try:
        result = box.run_python(["-c", WRITES, *map(str, targets)], workdir=workdir)
        assert result.stdout == "[]\n", result.stderr
        assert [target for target in targets if target.exists()] == []
    finally:
        for target in targets:
            target.unlink(missing_ok=True)


@ROOT_ONLY
def test_isolation_uid_refuses_an_interpreter_the_uid_cannot_reach(without_bubblewrap: None, shared: Path) -> None:
    if all(os.stat(folder).st_mode & 0o001 for folder in Path(sys.base_prefix).resolve().parents):
        pytest.skip("this interpreter is reachable by every uid")
    project = shared / "project"
    project.mkdir(mode=0o755)
    box = Sandbox(probe_python(sys.executable), read_only=[project], isolation="uid")
    with pytest.raises(TestgenUsageError, match=f"which uid {SANDBOX_UID} cannot enter"):
        box.run_python(["-c", "pass"], workdir=shared)


def test_without_any_sandbox_code_runs_only_when_allowed(
    without_bubblewrap: None, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = probe_python(sys.executable)
    monkeypatch.delenv("CODEGEN_LAB_ALLOW_UNSANDBOXED", raising=False)
    monkeypatch.setattr(_sandbox, "namespaces_error", lambda: "unshare: unshare failed: Operation not permitted")
    monkeypatch.setattr(_sandbox.os, "geteuid", lambda: 1000)  # not root: no uid change either
    box = Sandbox(python)
    with pytest.raises(TestgenUsageError, match=r"no sandbox can run code here .* not allowed") as caught:
        _ = box.mode
    assert "CODEGEN_LAB_ALLOW_UNSANDBOXED=1" in str(caught.value)
    with pytest.raises(TestgenUsageError, match="isolation none runs code without a sandbox"):
        _ = Sandbox(python, isolation="none").mode
    assert Sandbox(python, allow_unsandboxed=True).mode == "none"
    monkeypatch.setenv("CODEGEN_LAB_ALLOW_UNSANDBOXED", "1")
    assert box.mode == "none"


@pytest.mark.anyio
async def test_cancelling_the_awaiting_task_kills_the_sandboxed_processes(shared: Path) -> None:
    from codegen_lab.testgen.mcp import _in_thread  # pyright: ignore[reportPrivateUsage]

    box, _, workdir = make_box("auto", shared, timeout=600)
    token = f"testgen-cancelled-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, time\n"
        "sleeper = [sys.executable, '-c', 'import time; time.sleep(600)', sys.argv[1]]\n"
        "subprocess.Popen(sleeper, start_new_session=True)\n"
        "open('started', 'w').close()\n"
        "time.sleep(600)\n"
    )
    finished: list[object] = []

    async def run() -> None:
        finished.append(await _in_thread(lambda: box.run_python(["-c", code, token], workdir=workdir)))

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(run)
            with anyio.fail_after(120):
                while not (workdir / "started").exists():  # noqa: ASYNC110 (polling a file: there is no event)
                    await anyio.sleep(0.05)
            scope.cancel()
    assert scope.cancelled_caught
    assert finished == []
    assert processes_naming(token) == []
