from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from codegen_lab.testgen._interpreter import probe_python
from codegen_lab.testgen._sandbox import SANDBOX_UID, Limits, Sandbox, bubblewrap_path, namespaces_error

PROBE = r"""
import json, os, socket
report = {"uid": os.getuid(), "interfaces": [name for _, name in socket.if_nameindex()], "env": dict(os.environ)}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    report["network"] = True
except OSError:
    report["network"] = False
outside = os.environ["OUTSIDE"]
try:
    with open(os.path.join(outside, "written-from-the-sandbox"), "w") as sink:
        sink.write("x")
    report["wrote_outside"] = True
except OSError:
    report["wrote_outside"] = False
with open("/tmp/scratch", "w") as sink:  # a fresh tmpfs is writable
    sink.write("x")
report["outside_files"] = sorted(os.listdir(outside))
report["capabilities"] = [line.split()[1] for line in open("/proc/self/status") if line.startswith("CapEff")][0]
report["root_home_visible"] = os.path.exists("/root/.bashrc") or os.path.exists("/root/.profile")
with open("result.json", "w") as sink:
    json.dump(report, sink)
"""


def ends_soon(pid: int) -> bool:
    """Whether the process `pid` is gone (or a zombie) within 30 seconds (the machine may be busy)."""
    status = Path("/proc") / str(pid) / "status"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in status.read_text():
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def sandbox(tmp_path: Path, isolation: str, **limits: float) -> tuple[Sandbox, Path, Path]:
    outside = tmp_path / "project"
    outside.mkdir()
    (outside / "module.py").write_text("x = 1\n", encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    box = Sandbox(
        probe_python(sys.executable),
        read_only=[outside],
        limits=Limits(**limits),  # type: ignore[arg-type]
        isolation=isolation,  # type: ignore[arg-type]
        allow_unsandboxed=isolation == "none",
    )
    return box, outside, workdir


def test_bubblewrap_isolates_uid_network_files_and_environment(
    tmp_path: Path, require_bubblewrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVER_API_KEY", "secret-of-the-server")
    box, outside, workdir = sandbox(tmp_path, "bubblewrap")
    result = box.run_python(["-c", PROBE], workdir=workdir, env={"OUTSIDE": str(outside)})
    assert result.returncode == 0, result.stderr
    assert result.isolation == "bubblewrap"
    report = json.loads((workdir / "result.json").read_text())
    assert report["uid"] == (SANDBOX_UID if os.geteuid() == 0 else os.geteuid())
    assert report["uid"] != 0
    assert report["interfaces"] == ["lo"]
    assert report["network"] is False
    assert report["wrote_outside"] is False
    assert report["outside_files"] == ["module.py"]
    assert report["capabilities"] == "0000000000000000"
    assert report["root_home_visible"] is False
    assert "SERVER_API_KEY" not in report["env"]
    assert not (outside / "written-from-the-sandbox").exists()


def test_unsandboxed_the_result_says_so_and_the_environment_is_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVER_API_KEY", "secret-of-the-server")
    box, _, workdir = sandbox(tmp_path, "none")
    result = box.run_python(["-c", "import os, json; print(json.dumps(dict(os.environ)))"], workdir=workdir)
    assert result.isolation == "none"
    env = json.loads(result.stdout)
    assert "SERVER_API_KEY" not in env
    assert env["HOME"] == str(workdir.resolve())


@pytest.mark.parametrize("isolation", ["bubblewrap", "namespaces", "none"])
def test_the_wall_clock_timeout_kills_the_process_group(tmp_path: Path, isolation: str) -> None:
    if isolation == "bubblewrap" and bubblewrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    if isolation == "namespaces" and namespaces_error() is not None:
        pytest.skip(f"namespaces cannot be made here: {namespaces_error()}")
    box, _, workdir = sandbox(tmp_path, isolation, timeout=1.0)
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "time.sleep(60)\n"
    )
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.timed_out
    assert result.outcome == "timeout"
    assert result.returncode < 0
    assert result.seconds < 30


def test_output_is_capped(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", output_bytes=1000)
    result = box.run_python(["-c", "print('x' * 100_000)"], workdir=workdir)
    assert result.returncode == 0
    assert result.outcome == "ok"
    assert result.truncated
    assert result.stdout.startswith("x" * 1000)
    assert result.stdout.endswith("[output cut by the sandbox]\n")


def test_memory_is_limited(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", memory_bytes=512 * 1024**2)
    result = box.run_python(["-c", "b = bytearray(1024**3)"], workdir=workdir)
    assert result.returncode == 1
    assert result.outcome == "failed"
    assert "MemoryError" in result.stderr


def test_file_size_is_limited(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", file_bytes=1024)
    code = (
        "import os, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "fd = os.open('big', os.O_WRONLY | os.O_CREAT)\n"
        "print(os.write(fd, b'x' * 4096))\n"
        "os.write(fd, b'x')\n"
    )
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.stdout == "1024\n"
    assert result.returncode == 1
    assert "File too large" in result.stderr
    assert (workdir / "big").stat().st_size == 1024


def test_output_past_the_limit_stops_the_process_while_it_runs(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", output_bytes=1000, output_limit=100_000)
    result = box.run_python(["-c", "import os\nwhile True:\n    os.write(1, b'x' * 65536)"], workdir=workdir)
    assert result.output_exceeded
    assert result.outcome == "output_limit"
    assert not result.timed_out
    assert result.killed_by == signal.SIGKILL
    assert len(result.stdout) < 2000
    assert result.stop_reason(box.limits, box.limits.timeout) == (
        "wrote more than 100000 bytes of output and were stopped"
    )


def test_cpu_time_is_limited_and_said_so(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", cpu_seconds=1)
    result = box.run_python(["-c", "while True:\n    pass"], workdir=workdir)
    assert result.killed_by in {signal.SIGXCPU, signal.SIGKILL}
    assert result.outcome == "killed"
    assert not result.timed_out
    reason = result.stop_reason(box.limits, box.limits.timeout) or ""
    assert reason.endswith("past the limit of 1 s of CPU time")


def test_code_runs_at_a_lower_priority(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", niceness=7)
    result = box.run_python(["-c", "import os; print(os.nice(0))"], workdir=workdir)
    assert int(result.stdout) == min(os.nice(0) + 7, 19)


def test_the_fresh_tmp_is_size_limited(tmp_path: Path, require_bubblewrap: str) -> None:
    box, _, workdir = sandbox(tmp_path, "bubblewrap", tmp_bytes=1024**2)
    code = "with open('/tmp/fill', 'wb') as sink:\n    sink.write(b'x' * 2 * 1024**2)"
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.returncode == 1
    assert "No space left on device" in result.stderr


def test_processes_left_behind_are_killed_when_it_ends(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "none")
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid)\n"
    )
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.returncode == 0
    assert result.seconds < 20
    assert ends_soon(int(result.stdout))


def test_a_virtual_environment_behind_a_link_runs_where_the_project_is_not_mounted(
    tmp_path: Path, require_bubblewrap: str
) -> None:
    venv = tmp_path / "elsewhere" / ".venv"
    venv.parent.mkdir()
    venv.symlink_to(sys.prefix, target_is_directory=True)
    workdir = tmp_path / "work"
    workdir.mkdir()
    box = Sandbox(probe_python(venv / "bin" / "python"), isolation="bubblewrap")
    result = box.run_python(["-c", "import sys, pytest; print(sys.prefix)"], workdir=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(venv)


def test_processes_are_limited(tmp_path: Path, require_bubblewrap: str) -> None:
    box, _, workdir = sandbox(tmp_path, "bubblewrap", processes=5)
    code = (
        "import os, time\n"
        "made = 0\n"
        "for _ in range(50):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    made += 1\n"
        "print(made)\n"
    )
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) <= 5
    assert result.seconds < 20


@pytest.mark.skipif(os.geteuid() != 0, reason="privileges are dropped only when testgen runs as root")
def test_without_setpriv_the_interpreter_drops_privileges_itself(
    tmp_path: Path, require_bubblewrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from codegen_lab.testgen import _sandbox

    which = shutil.which
    monkeypatch.setattr(_sandbox.shutil, "which", lambda name, **kw: None if name == "setpriv" else which(name, **kw))
    box, _, workdir = sandbox(tmp_path, "bubblewrap")
    result = box.run_python(["-c", "import os; print(os.getuid(), os.getgid(), os.getgroups())"], workdir=workdir)
    assert result.stdout == f"{SANDBOX_UID} {SANDBOX_UID} []\n", result.stderr


def test_a_child_that_left_the_session_is_killed_on_time_too(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "none", timeout=1.0)
    code = (
        "import subprocess, sys, time\n"
        "sleeper = [sys.executable, '-c', 'import time; time.sleep(60)']\n"
        "quiet = {'stdout': subprocess.DEVNULL, 'stderr': subprocess.DEVNULL}\n"
        "child = subprocess.Popen(sleeper, start_new_session=True, **quiet)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.timed_out
    assert ends_soon(int(result.stdout))
