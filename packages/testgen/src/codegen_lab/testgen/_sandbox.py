"""The sandbox the code under test runs in.

With bubblewrap (`bwrap`) on PATH: new network, PID, IPC and UTS namespaces (no network at all), a file system
that shows read-only only what the interpreter needs plus the project, one writable work folder and a fresh
`/tmp`, an unprivileged uid, resource limits, a wall-clock timeout and a clean environment. As root, bubblewrap
mounts as root and the process then drops to uid 65534 before the interpreter starts: the interpreter may live
in `/root` (pyenv), which that uid could not reach on the host but reaches inside, where its folder is mounted
on its own. Without bubblewrap: resource limits, the timeout and a clean environment only, and every result
says which isolation ran.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Literal

from codegen_lab.testgen._interpreter import TargetPython
from codegen_lab.testgen.errors import TestgenOperationError, TestgenUsageError

__all__ = ["SANDBOX_UID", "Isolation", "Limits", "Sandbox", "SandboxResult", "bubblewrap_path"]

logger = logging.getLogger(__name__)

Isolation = Literal["bubblewrap", "rlimits"]

SANDBOX_UID = 65534
"""The uid (and gid) code runs as in the sandbox when testgen itself runs as root: `nobody`."""

_DROP_PRIVILEGES = (
    "import os, sys; os.setgroups([]); os.setgid({uid}); os.setuid({uid}); os.execv(sys.argv[1], sys.argv[1:])"
)
_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = (
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/mime.types",
)


@dataclass(frozen=True, slots=True)
class Limits:
    """What code in the sandbox may use.

    Attributes:
        timeout: Wall-clock seconds before the whole process group is killed.
        cpu_seconds: CPU seconds (RLIMIT_CPU).
        memory_bytes: Address space (RLIMIT_AS).
        file_bytes: Size of any file written (RLIMIT_FSIZE).
        processes: Processes and threads of the sandbox's uid (RLIMIT_NPROC), beyond those it already runs.
            The kernel does not hold root to it: without bubblewrap, as root, only the timeout stops a fork bomb.
        output_bytes: Bytes kept of stdout and of stderr each; the rest is dropped and the result says so.
        output_limit: Bytes of stdout or of stderr after which the process group is killed, while it runs.
        tmp_bytes: Size of the fresh `/tmp` (bubblewrap only: a tmpfs, held in memory).
        niceness: How much lower than testgen's the code's scheduling priority is, so the server keeps answering.
    """

    timeout: float = 300.0
    cpu_seconds: int = 300
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 256 * 1024**2
    processes: int = 256
    output_bytes: int = 1024**2
    output_limit: int = 64 * 1024**2
    tmp_bytes: int = 512 * 1024**2
    niceness: int = 10


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """How a sandboxed process ended.

    Attributes:
        returncode: Its exit status (negative: killed by that signal).
        stdout: What it printed, cut at `Limits.output_bytes`.
        stderr: Its error output, cut at `Limits.output_bytes`.
        timed_out: Whether the wall-clock timeout killed it.
        truncated: Whether output was cut.
        output_exceeded: Whether it was killed for writing more than `Limits.output_limit` bytes of output.
        isolation: `bubblewrap` or `rlimits` (no namespaces: limits, timeout and a clean environment only).
        seconds: Wall time it took.
    """

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    truncated: bool
    isolation: Isolation
    seconds: float
    output_exceeded: bool = False

    @property
    def killed_by(self) -> int | None:
        """The signal that killed it, when one did (bubblewrap reports it as 128 plus the signal)."""
        if self.returncode < 0:
            return -self.returncode
        if self.isolation == "bubblewrap" and 128 < self.returncode < 128 + signal.NSIG:
            return self.returncode - 128
        return None

    def stop_reason(self, limits: Limits, timeout: float) -> str | None:
        """Why it was stopped, as the end of a sentence (`the tests ...`), when a limit stopped it.

        Args:
            limits: The limits it ran under.
            timeout: The wall-clock timeout it ran under.
        """
        if self.timed_out:
            return f"did not finish within {timeout:g} s and were stopped"
        if self.output_exceeded:
            return f"wrote more than {_size(limits.output_limit)} of output and were stopped"
        number = self.killed_by
        if number is None:
            return None
        name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
        if number in {signal.SIGXCPU, signal.SIGKILL} and self.seconds >= limits.cpu_seconds:
            return f"were killed by {name}, past the limit of {limits.cpu_seconds} s of CPU time"
        return f"were killed by {name}"


@cache
def bubblewrap_path() -> str | None:
    """The `bwrap` executable when it is installed and can make a sandbox on this machine, else None."""
    found = shutil.which("bwrap")
    if found is None:
        return None
    command = [found, "--unshare-net", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    if os.geteuid() != 0:
        command.insert(1, "--unshare-user")
    try:
        completed = subprocess.run(command, capture_output=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("bubblewrap at %s cannot run (%s); falling back to resource limits", found, exc)
        return None
    if completed.returncode != 0:
        logger.warning(
            "bubblewrap at %s cannot make a sandbox here (%s); falling back to resource limits",
            found,
            completed.stderr.decode(errors="replace").strip(),
        )
        return None
    return found


@dataclass(slots=True)
class Sandbox:
    """Runs the target interpreter on the code under test, isolated.

    Args:
        python: The target interpreter, as `probe_python` described it.
        read_only: More folders to show read-only, such as the project holding the code under test.
        limits: What the code may use.
        isolation: `auto` uses bubblewrap when it works here; `rlimits` never does; `bubblewrap` insists.
    """

    python: TargetPython
    read_only: Sequence[Path] = ()
    limits: Limits = field(default_factory=Limits)
    isolation: Literal["auto", "bubblewrap", "rlimits"] = "auto"

    @property
    def mode(self) -> Isolation:
        """The isolation a run gets.

        Raises:
            TestgenUsageError: When `isolation="bubblewrap"` but bubblewrap cannot run here.
        """
        if self.isolation == "rlimits":
            return "rlimits"
        if bubblewrap_path() is not None:
            return "bubblewrap"
        if self.isolation == "bubblewrap":
            raise TestgenUsageError(
                "bubblewrap is not available here", hint="Install it (apt-get install bubblewrap) or use isolation auto"
            )
        return "rlimits"

    def run_python(
        self,
        args: Sequence[str],
        *,
        workdir: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SandboxResult:
        """Run the target interpreter with `args` in `workdir`, the one folder it may write.

        Args:
            args: Arguments after the interpreter, such as `["-m", "pytest", "tests"]`.
            workdir: The one folder the code may write (besides a fresh `/tmp`); results are written there.
            cwd: The working directory (default: `workdir`); it must be `workdir` or a read-only folder.
            env: Variables added to the clean environment.
            timeout: Wall-clock seconds (default: `limits.timeout`).

        Returns:
            How the process ended, with its capped output.

        Raises:
            TestgenOperationError: When the sandbox itself cannot start.
        """
        mode = self.mode
        workdir = workdir.resolve()
        directory = (cwd or workdir).resolve()
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "TMPDIR": "/tmp" if mode == "bubblewrap" else str(workdir),  # noqa: S108 (a fresh tmpfs in the sandbox)
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0",
            **(env or {}),
        }
        python = str(self.python.executable)
        uid = os.geteuid()
        if mode == "bubblewrap" and uid == 0:
            _check_readable(self.read_only)
        if mode == "bubblewrap":
            bwrap = bubblewrap_path() or "bwrap"
            if uid == 0:
                _hand_over(workdir, SANDBOX_UID)
            command = [bwrap, *self._bubblewrap_arguments(workdir, directory, environment, as_root=uid == 0), "--"]
            command += _dropping_privileges(python) if uid == 0 else [python]
            command += list(args)
            nproc_uid = SANDBOX_UID if uid == 0 else uid
            process_env: dict[str, str] = {}
        else:
            command = [python, *args]
            nproc_uid = uid
            process_env = environment
        return self._execute(
            command,
            cwd=directory if mode == "rlimits" else workdir,
            env=process_env,
            timeout=self.limits.timeout if timeout is None else timeout,
            nproc_uid=nproc_uid,
            mode=mode,
        )

    def _bubblewrap_arguments(
        self, workdir: Path, cwd: Path, environment: Mapping[str, str], *, as_root: bool
    ) -> list[str]:
        arguments = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        arguments += ["--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox"]
        if as_root:
            # Mount as root, then drop to SANDBOX_UID inside (the interpreter does it before anything else runs).
            arguments += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            arguments += ["--unshare-user"]
        for folder in _SYSTEM_FOLDERS:
            path = Path(folder)
            if path.is_symlink():
                arguments += ["--symlink", os.readlink(path), folder]
            elif path.is_dir():
                arguments += ["--ro-bind", folder, folder]
        arguments += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777"]
        if _bubblewrap_sizes_tmpfs():
            arguments += ["--size", str(self.limits.tmp_bytes)]
        arguments += ["--tmpfs", "/tmp"]  # noqa: S108
        # Host folders whose content shows as is; /tmp is a fresh tmpfs, so folders under it are mounted on it.
        mounted: list[Path] = [Path(folder) for folder in (*_SYSTEM_FOLDERS, "/proc", "/dev")]
        made: set[Path] = {Path("/tmp")}  # noqa: S108
        for system_file in _SYSTEM_FILES:
            if Path(system_file).exists():
                arguments += _ancestors(Path(system_file), mounted, made)
                arguments += ["--ro-bind", system_file, system_file]
        arguments += self._read_only_arguments(workdir, mounted, made)
        arguments += _ancestors(workdir, mounted, made)
        arguments += ["--bind", str(workdir), str(workdir), "--chdir", str(cwd)]
        for name, value in environment.items():
            arguments += ["--setenv", name, value]
        return arguments

    def _read_only_arguments(self, workdir: Path, mounted: list[Path], made: set[Path]) -> list[str]:
        """Mounts of the interpreter's folders and `read_only`; `mounted` and `made` grow with them."""
        arguments: list[str] = []
        read_only = [folder for folder in (*self.python.mounts(), *self.read_only) if folder.exists()]
        for path in _outermost([folder.resolve() for folder in read_only]):
            if path == workdir or _under(path, mounted):
                continue
            arguments += _ancestors(path, mounted, made)
            arguments += ["--ro-bind", str(path), str(path)]
            mounted.append(path)
        # A folder reached through a symbolic link (a project's `.venv` linking elsewhere) shows at its own path
        # too, when nothing mounted holds the link: the interpreter finds its virtual environment by that path.
        for alias in _outermost([Path(os.path.abspath(folder)) for folder in read_only]):
            if alias != alias.resolve() and alias != workdir and not _under(alias, mounted):
                arguments += _ancestors(alias, mounted, made)
                arguments += ["--ro-bind", str(alias.resolve()), str(alias)]
                mounted.append(alias)
        return arguments

    def _execute(
        self,
        command: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        nproc_uid: int,
        mode: Isolation,
    ) -> SandboxResult:
        limits = self.limits
        nproc = limits.processes + _processes_of(nproc_uid)

        def limit() -> None:  # runs in the child, before exec
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            os.nice(limits.niceness)

        logger.debug("sandbox (%s): %s", mode, command)
        started = time.monotonic()
        try:
            process = subprocess.Popen(  # noqa: S603 (running the code under test is the point; it is sandboxed)
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=limit,  # noqa: PLW1509 (resource limits must be set between fork and exec)
                start_new_session=True,
            )
        except OSError as exc:
            raise TestgenOperationError(f"the sandbox could not start {command[0]}: {exc}") from exc
        if process.stdout is None or process.stderr is None:  # pragma: no cover (both are pipes)
            raise TestgenOperationError("the sandbox's output pipes are missing")
        wake = threading.Event()
        out = _Capped(process.stdout, limits.output_bytes, limits.output_limit, wake)
        err = _Capped(process.stderr, limits.output_bytes, limits.output_limit, wake)
        timed_out = _supervise(process, (out, err), wake, deadline=started + max(timeout, 0.1))
        _kill_group(process)  # what it left running in its group, even when it ended by itself
        out.join()
        err.join()
        return SandboxResult(
            returncode=process.returncode,
            stdout=out.text(),
            stderr=err.text(),
            timed_out=timed_out,
            truncated=out.dropped or err.dropped,
            isolation=mode,
            seconds=round(time.monotonic() - started, 3),
            output_exceeded=out.exceeded or err.exceeded,
        )


def _size(count: int) -> str:
    return f"{count / 1024**2:g} MiB" if count >= 1024**2 else f"{count} bytes"


def _supervise(
    process: subprocess.Popen[bytes], streams: Sequence[_Capped], wake: threading.Event, *, deadline: float
) -> bool:
    """Wait for `process` to end; kill its group when a stream passes its limit or at `deadline` (then True)."""
    while True:
        wake.clear()
        remaining = deadline - time.monotonic()
        if any(stream.exceeded for stream in streams):
            _kill_group(process)
            return False
        if all(stream.ended for stream in streams):  # the usual end: the pipes close as the process exits
            try:
                process.wait(timeout=max(remaining, 0.0))
            except subprocess.TimeoutExpired:
                _kill_group(process)
                return True
            return False
        if process.poll() is not None:  # it ended, but something it started holds its pipes
            return False
        if remaining <= 0:
            _kill_group(process)
            return True
        wake.wait(timeout=min(remaining, 0.5))


class _Capped:
    """Reads a pipe to its end on a thread, keeping the first `keep` bytes; sets `wake` past `limit` and at the end."""

    def __init__(self, stream: IO[bytes], keep: int, limit: int, wake: threading.Event) -> None:
        self._stream = stream
        self._keep = keep
        self._limit = limit
        self._wake = wake
        self._chunks: list[bytes] = []
        self._kept = 0
        self._read_bytes = 0
        self.dropped = False
        self.exceeded = False
        self.ended = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._stream:
                while chunk := os.read(self._stream.fileno(), 65536):
                    self._keep_part(chunk)
        finally:
            self.ended = True
            self._wake.set()

    def _keep_part(self, chunk: bytes) -> None:
        self._read_bytes += len(chunk)
        if self._read_bytes > self._limit and not self.exceeded:
            self.exceeded = True
            self._wake.set()  # the supervising thread kills the group; reading goes on and drains what is left
        room = self._keep - self._kept
        if len(chunk) > room:
            self.dropped = True
            chunk = chunk[: max(room, 0)]
        if chunk:
            self._chunks.append(chunk)
            self._kept += len(chunk)

    def join(self) -> None:
        self._thread.join(timeout=30)

    def text(self) -> str:
        text = b"".join(self._chunks).decode("utf-8", errors="replace")
        return text + "\n[output cut by the sandbox]\n" if self.dropped else text


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the process, its group (its own session) and, while it runs, descendants that left the group; reap it.

    A descendant that left the session and whose parent died first is no longer known as one: bubblewrap's PID
    namespace takes it down with the rest, the resource-limits sandbox cannot.
    """
    stray = _descendants(process.pid) if process.poll() is None else []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in stray:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _descendants(pid: int) -> list[int]:
    """The processes below `pid` now, by their parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after the command name, which may hold spaces
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [pid]
    while pending:
        below = children.get(pending.pop(), [])
        found += below
        pending += below
    return found


def _dropping_privileges(python: str) -> list[str]:
    """The start of a command that runs `python` as SANDBOX_UID, from root inside the sandbox.

    util-linux's `setpriv` when the system has it (a small program, quick to start), else the interpreter itself.
    """
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin")
    if setpriv is not None:
        return [setpriv, f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups", "--", python]
    return [python, "-I", "-S", "-c", _DROP_PRIVILEGES.format(uid=SANDBOX_UID), python]


@cache
def _bubblewrap_sizes_tmpfs() -> bool:
    """Whether this bubblewrap takes `--size` for a tmpfs (0.8 on)."""
    found = bubblewrap_path()
    if found is None:
        return False
    try:
        completed = subprocess.run([found, "--help"], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in completed.stdout


def _processes_of(uid: int) -> int:
    """How many processes `uid` runs now (RLIMIT_NPROC counts them all, not only the sandbox's)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _hand_over(workdir: Path, uid: int) -> None:
    """Give the work folder and what is in it to the sandbox's uid, so that it can write there."""
    for folder, folders, files in os.walk(workdir):
        os.chown(folder, uid, uid)
        for name in [*folders, *files]:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def _check_readable(folders: Sequence[Path]) -> None:
    """As root, code runs as SANDBOX_UID, which reads only what others may read: say so before it fails."""
    for folder in folders:
        try:
            mode = folder.stat().st_mode
        except OSError:
            continue
        if folder.is_dir() and (mode & 0o005) != 0o005:
            raise TestgenUsageError(
                f"{folder} is not readable by others (mode {oct(mode & 0o777)}), so the sandbox's uid "
                f"{SANDBOX_UID} cannot read it",
                hint=f"Run `chmod o+rx {folder}`, or pass isolation rlimits (no uid change, no namespaces)",
            )


def _under(path: Path, folders: Sequence[Path]) -> bool:
    """Whether `path` is one of `folders` or inside one (absolute paths; compared as text, which is fast)."""
    text = str(path)
    return any(text == str(folder) or text.startswith(str(folder).rstrip("/") + "/") for folder in folders)


def _outermost(paths: Sequence[Path]) -> list[Path]:
    """`paths` without duplicates and without those inside another one, parents first."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda item: (len(item.parts), str(item))):
        if not _under(path, kept):
            kept.append(path)
    return kept


def _ancestors(path: Path, mounted: Sequence[Path], made: set[Path]) -> list[str]:
    """Arguments that create the folders above `path` world-readable (bubblewrap would make them 0700)."""
    arguments: list[str] = []
    for ancestor in reversed(path.parents):
        if ancestor == Path("/") or ancestor in made or _under(ancestor, mounted):
            continue
        arguments += ["--perms", "0755", "--dir", str(ancestor)]
        made.add(ancestor)
    return arguments
