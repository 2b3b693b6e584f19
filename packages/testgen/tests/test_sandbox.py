from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from codegen_lab.testgen._interpreter import probe_python
from codegen_lab.testgen._sandbox import SANDBOX_UID, Limits, Sandbox, bubblewrap_path

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


def sandbox(tmp_path: Path, isolation: str, **limits: float) -> tuple[Sandbox, Path, Path]:
    outside = tmp_path / "project"
    outside.mkdir()
    (outside / "module.py").write_text("x = 1\n", encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    box = Sandbox(probe_python(sys.executable), read_only=[outside], limits=Limits(**limits), isolation=isolation)  # type: ignore[arg-type]
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


def test_without_bubblewrap_the_result_says_so_and_the_environment_is_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVER_API_KEY", "secret-of-the-server")
    box, _, workdir = sandbox(tmp_path, "rlimits")
    result = box.run_python(["-c", "import os, json; print(json.dumps(dict(os.environ)))"], workdir=workdir)
    assert result.isolation == "rlimits"
    env = json.loads(result.stdout)
    assert "SERVER_API_KEY" not in env
    assert env["HOME"] == str(workdir.resolve())


@pytest.mark.parametrize("isolation", ["bubblewrap", "rlimits"])
def test_the_wall_clock_timeout_kills_the_process_group(tmp_path: Path, isolation: str) -> None:
    if isolation == "bubblewrap" and bubblewrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    box, _, workdir = sandbox(tmp_path, isolation, timeout=1.0)
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "time.sleep(60)\n"
    )
    result = box.run_python(["-c", code], workdir=workdir)
    assert result.timed_out
    assert result.returncode < 0
    assert result.seconds < 30


def test_output_is_capped(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", output_bytes=1000)
    result = box.run_python(["-c", "print('x' * 100_000)"], workdir=workdir)
    assert result.returncode == 0
    assert result.truncated
    assert result.stdout.startswith("x" * 1000)
    assert result.stdout.endswith("[output cut by the sandbox]\n")


def test_memory_is_limited(tmp_path: Path) -> None:
    box, _, workdir = sandbox(tmp_path, "auto", memory_bytes=512 * 1024**2)
    result = box.run_python(["-c", "b = bytearray(1024**3)"], workdir=workdir)
    assert result.returncode == 1
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
