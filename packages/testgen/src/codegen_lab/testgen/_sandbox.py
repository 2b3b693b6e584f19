"""The sandbox the code under test runs in.

Every run gets resource limits, a wall-clock timeout, a clean environment and its whole process group killed at
the end; what else isolates it is the best this machine allows, and every result says which (`isolation`):

- `bubblewrap` (`bwrap` on PATH): new network, PID, IPC and UTS namespaces (no network at all), a file system
  that shows read-only only what the interpreter needs plus the project, one writable work folder and a fresh
  `/tmp`, an unprivileged uid. As root, bubblewrap mounts as root and the process then drops to uid 65534
  before the interpreter starts: the interpreter may live in `/root` (pyenv), which that uid could not reach on
  the host but reaches inside, where its folder is mounted on its own.
- `namespaces` (util-linux's `unshare`, without bubblewrap): new network, PID (with a fresh `/proc`), mount, IPC
  and UTS namespaces; the shared temporary folders and the folders the uid could not enter are covered by empty
  file systems, the interpreter's folders and the project are shown again read-only, the work folder writable;
  then uid 65534 (as root) or no capability at all (in a user namespace, as another user). The PID namespace
  dies with the run, so nothing it started survives it.
- `uid` (root, where namespaces cannot be made): uid and gid 65534 with no supplementary group and no new
  privileges, so the process limit holds, the server's `/proc/<pid>/environ` and root's files are unreadable.
- `none`: only the limits, the timeout and the clean environment; it runs only when the user allowed it
  (`CODEGEN_LAB_ALLOW_UNSANDBOXED=1`, or `allow_unsandboxed=True`), else the sandbox refuses.

A run started from a thread whose context holds a cancel event (`cancel_with`) is killed when it is set.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Literal

from codegen_lab.common.tracing import SANDBOX_RUN, annotate, event, traced
from codegen_lab.testgen._interpreter import TargetPython
from codegen_lab.testgen.errors import TestgenOperationError, TestgenUsageError

__all__ = [
    "ALLOW_UNSANDBOXED",
    "SANDBOX_UID",
    "Isolation",
    "Limits",
    "Requested",
    "Sandbox",
    "SandboxResult",
    "bubblewrap_path",
    "cancel_with",
    "isolation_for",
    "namespaces_error",
    "unsandboxed_allowed",
]

logger = logging.getLogger(__name__)

Isolation = Literal["bubblewrap", "namespaces", "uid", "none"]
"""Which isolation a run got, strongest first."""

Requested = Literal["auto", "bubblewrap", "namespaces", "uid", "none"]
"""Which isolation to use: `auto` is the strongest that works here."""

ALLOW_UNSANDBOXED = "CODEGEN_LAB_ALLOW_UNSANDBOXED"
"""The environment variable that, set to `1`, lets code run with isolation `none` when nothing better works."""

_REQUESTS: tuple[Requested, ...] = ("auto", "bubblewrap", "namespaces", "uid", "none")
_SYSTEM_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
_SCRIPTS = Path(__file__).parent / "_scripts"
_CANCEL: ContextVar[threading.Event | None] = ContextVar("testgen_sandbox_cancel", default=None)

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
            As root it holds because the code runs as uid 65534 (isolation `none` as root has no such limit).
        output_bytes: Bytes kept of stdout and of stderr each; the rest is dropped and the result says so.
        output_limit: Bytes of stdout or of stderr after which the process group is killed, while it runs.
        tmp_bytes: Size of the fresh `/tmp` (`bubblewrap` and `namespaces`: a tmpfs, held in memory).
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
        isolation: `bubblewrap`, `namespaces`, `uid` or `none` (limits, timeout and a clean environment only).
        cancelled: Whether it was killed because the caller cancelled the run.
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
    cancelled: bool = False

    @property
    def outcome(self) -> str:
        """How it ended, in one word.

        `ok`, `failed` (a non-zero status), `timeout`, `cancelled`, `output_limit` or `killed` (by a signal, such as
        a limit's).
        """
        if self.cancelled:
            return "cancelled"
        if self.timed_out:
            return "timeout"
        if self.output_exceeded:
            return "output_limit"
        if self.killed_by is not None:
            return "killed"
        return "ok" if self.returncode == 0 else "failed"

    @property
    def killed_by(self) -> int | None:
        """The signal that killed it, when one did (in a PID namespace, reported as 128 plus the signal)."""
        if self.returncode < 0:
            return -self.returncode
        if self.isolation in {"bubblewrap", "namespaces"} and 128 < self.returncode < 128 + signal.NSIG:
            return self.returncode - 128
        return None

    def stop_reason(self, limits: Limits, timeout: float) -> str | None:
        """Why it was stopped, as the end of a sentence (`the tests ...`), when a limit stopped it.

        Args:
            limits: The limits it ran under.
            timeout: The wall-clock timeout it ran under.
        """
        if self.cancelled:
            return "were cancelled and stopped"
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


def _system_tool(name: str) -> str | None:
    """A util-linux tool from the system's own folders (never from a PATH that the project could change)."""
    return shutil.which(name, path=_SYSTEM_PATH)


def _namespace_flags() -> list[str]:
    flags = ["--net", "--pid", "--ipc", "--uts", "--mount", "--fork", "--kill-child", "--mount-proc"]
    return flags if os.geteuid() == 0 else [*flags, "--user", "--map-root-user"]


@cache
def namespaces_error() -> str | None:
    """Why util-linux's `unshare` cannot make the `namespaces` sandbox here (None when it can)."""
    unshare = _system_tool("unshare")
    if unshare is None:
        return "util-linux's unshare is not installed"
    try:
        completed = subprocess.run(  # noqa: S603 (a fixed system tool with fixed arguments)
            [unshare, *_namespace_flags(), "--", sys.executable, "-I", "-S", "-c", "pass"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{unshare} cannot run: {exc}"
    if completed.returncode != 0:
        return completed.stderr.decode(errors="replace").strip() or f"{unshare} exited with {completed.returncode}"
    return None


def unsandboxed_allowed(allow: bool | None = None) -> bool:
    """Whether code may run with isolation `none`: `allow` when given, else `CODEGEN_LAB_ALLOW_UNSANDBOXED=1`."""
    if allow is not None:
        return allow
    return os.environ.get(ALLOW_UNSANDBOXED, "").strip().lower() in {"1", "true", "yes"}


def isolation_for(wanted: Requested = "auto", allow_unsandboxed: bool | None = None) -> Isolation:
    """The isolation a run asking for `wanted` gets on this machine (what `Sandbox.mode` reports).

    Raises:
        TestgenUsageError: When the isolation asked for cannot run here, or only `none` can and it is not allowed.
    """
    if wanted not in _REQUESTS:
        raise TestgenUsageError(f"isolation {wanted!r} is unknown", hint=f"Pass one of {', '.join(_REQUESTS)}")
    if wanted in {"auto", "bubblewrap"} and bubblewrap_path() is not None:
        return "bubblewrap"
    if wanted == "bubblewrap":
        raise TestgenUsageError(
            "bubblewrap is not available here", hint="Install it (apt-get install bubblewrap) or use isolation auto"
        )
    if wanted in {"auto", "namespaces"} and namespaces_error() is None:
        return "namespaces"
    if wanted == "namespaces":
        raise TestgenUsageError(f"namespaces cannot be made here: {namespaces_error()}")
    if wanted in {"auto", "uid"} and os.geteuid() == 0:
        return "uid"
    if wanted == "uid":
        raise TestgenUsageError("isolation uid needs testgen to run as root, to change the uid")
    if wanted == "none" and not unsandboxed_allowed(allow_unsandboxed):
        raise TestgenUsageError(
            "isolation none runs code without a sandbox, which is not allowed",
            hint=f"Set {ALLOW_UNSANDBOXED}=1 (allow-unsandboxed) to run it anyway, or use isolation auto",
        )
    if not unsandboxed_allowed(allow_unsandboxed):
        raise TestgenUsageError(
            f"no sandbox can run code here (asked for {wanted}; bubblewrap: "
            f"{'found' if bubblewrap_path() else 'not usable'}; namespaces: {namespaces_error() or 'usable'}; "
            f"uid change: {'possible' if os.geteuid() == 0 else 'needs root'}), "
            "and running it unsandboxed is not allowed",
            hint=f"Install bubblewrap, or set {ALLOW_UNSANDBOXED}=1 (allow-unsandboxed) to run it anyway",
        )
    return "none"


@contextlib.contextmanager
def cancel_with(event: threading.Event) -> Generator[threading.Event]:
    """Sandboxed runs started in this context (and in threads that copy it) are killed when `event` is set."""
    token = _CANCEL.set(event)
    try:
        yield event
    finally:
        _CANCEL.reset(token)


@dataclass(slots=True)
class Sandbox:
    """Runs the target interpreter on the code under test, isolated.

    Args:
        python: The target interpreter, as `probe_python` described it.
        read_only: More folders to show read-only, such as the project holding the code under test.
        limits: What the code may use.
        isolation: `auto` uses the strongest isolation that works here; any other value insists on that one.
        allow_unsandboxed: Whether isolation `none` may run (default: `CODEGEN_LAB_ALLOW_UNSANDBOXED=1`).
    """

    python: TargetPython
    read_only: Sequence[Path] = ()
    limits: Limits = field(default_factory=Limits)
    isolation: Requested = "auto"
    allow_unsandboxed: bool | None = None

    @property
    def mode(self) -> Isolation:
        """The isolation a run gets.

        Raises:
            TestgenUsageError: When the isolation asked for cannot run here, or only `none` can and it is not allowed.
        """
        return isolation_for(self.isolation, self.allow_unsandboxed)

    @traced("codegen_lab.testgen.sandbox_run")
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
            TestgenUsageError: When no allowed isolation can run here, or the sandbox's uid cannot read a folder.
            TestgenOperationError: When the sandbox itself cannot start.
        """
        mode = self.mode
        annotate(isolation=mode)
        workdir = workdir.resolve()
        directory = (cwd or workdir).resolve()
        fresh_tmp = mode in {"bubblewrap", "namespaces"}
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "TMPDIR": "/tmp" if fresh_tmp else str(workdir),  # noqa: S108 (a fresh tmpfs in the sandbox)
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0",
            **(env or {}),
        }
        python = str(self.python.executable)
        as_root = os.geteuid() == 0
        drops = as_root and mode != "none"
        if drops:
            _check_readable(self.read_only)
            _hand_over(workdir, SANDBOX_UID)
        process_env: dict[str, str] = environment
        if mode == "bubblewrap":
            bwrap = bubblewrap_path() or "bwrap"
            command = [bwrap, *self._bubblewrap_arguments(workdir, directory, environment, as_root=as_root), "--"]
            command += _dropping_privileges(python) if as_root else [python]
            command += list(args)
            process_env = {}
        elif mode == "namespaces":
            command = [*self._namespace_command(workdir, directory), python, *args]
        else:
            if mode == "uid":
                _check_reachable(self.python)
            reaper = [sys.executable, "-I", "-S", str(_SCRIPTS / "reap.py"), str(SANDBOX_UID) if drops else "-", "--"]
            command = [*reaper, python, *args]
        result = self._execute(
            command,
            cwd=directory if mode in {"uid", "none"} else workdir,
            env=process_env,
            timeout=self.limits.timeout if timeout is None else timeout,
            nproc_uid=SANDBOX_UID if drops else os.geteuid(),
            mode=mode,
        )
        event(SANDBOX_RUN, isolation=mode, outcome=result.outcome)  # a span event, and counted by the server
        return result

    def _namespace_command(self, workdir: Path, cwd: Path) -> list[str]:
        """`unshare` and the script that sets up the file system, drops privileges and runs what follows."""
        unshare = _system_tool("unshare") or "unshare"
        read_only = _outermost(
            [folder.resolve() for folder in (*self.python.mounts(), *self.read_only) if folder.exists()]
        )
        shown = [*read_only, workdir]
        tmp = [folder for folder in ("/tmp", "/var/tmp", "/dev/shm") if Path(folder).is_dir()]  # noqa: S108
        hide = [Path(folder) for folder in tmp]
        for folder in shown:
            hide += [ancestor for ancestor in folder.parents if not _enterable(ancestor)]
        hidden = _outermost(hide)
        # A folder named through a link (a project's `.venv` linking elsewhere) that no mount shows gets its link.
        aliases = [Path(os.path.abspath(folder)) for folder in (*self.python.mounts(), *self.read_only)]
        links = [
            (str(alias), str(alias.resolve()))
            for alias in _outermost(aliases)
            if alias != alias.resolve() and _under(alias, hidden) and not _under(alias, shown)
        ]
        plan = {
            "links": links,
            "read_only": [str(folder) for folder in read_only if folder != workdir],
            "writable": [str(workdir)],
            "hide": [str(folder) for folder in hidden],  # inside one already hidden, none is left to hide
            "tmp": tmp,
            "tmp_bytes": self.limits.tmp_bytes,
            "uid": SANDBOX_UID if os.geteuid() == 0 else None,
            "cwd": str(cwd),
        }
        script = str(_SCRIPTS / "enter_namespaces.py")
        return [unshare, *_namespace_flags(), "--", sys.executable, "-I", "-S", script, json.dumps(plan), "--"]

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
        cancel = _CANCEL.get()
        namespace = mode in {"bubblewrap", "namespaces"}
        deadline = started + max(timeout, 0.1)
        stop = _supervise(process, (out, err), wake, deadline=deadline, cancel=cancel, namespace=namespace)
        _kill_group(process, namespace=namespace)  # what it left running in its group, even when it ended by itself
        out.join()
        err.join()
        return SandboxResult(
            returncode=process.returncode,
            stdout=out.text(),
            stderr=err.text(),
            timed_out=stop == "timeout",
            truncated=out.dropped or err.dropped,
            isolation=mode,
            seconds=round(time.monotonic() - started, 3),
            output_exceeded=out.exceeded or err.exceeded,
            cancelled=stop == "cancelled",
        )


def _size(count: int) -> str:
    return f"{count / 1024**2:g} MiB" if count >= 1024**2 else f"{count} bytes"


def _supervise(
    process: subprocess.Popen[bytes],
    streams: Sequence[_Capped],
    wake: threading.Event,
    *,
    deadline: float,
    cancel: threading.Event | None,
    namespace: bool,
) -> Literal["timeout", "cancelled"] | None:
    """Wait for `process` to end; kill its group when a stream passes its limit, at `deadline` or on `cancel`."""
    while True:
        wake.clear()
        remaining = deadline - time.monotonic()
        if cancel is not None and cancel.is_set():
            _kill_group(process, namespace=namespace)
            return "cancelled"
        if any(stream.exceeded for stream in streams):
            _kill_group(process, namespace=namespace)
            return None
        if all(stream.ended for stream in streams):  # the usual end: the pipes close as the process exits
            if _wait(process, min(remaining, 0.5)):
                return None
            if remaining <= 0.5:
                _kill_group(process, namespace=namespace)
                return "timeout"
            continue
        if process.poll() is not None:  # it ended, but something it started holds its pipes
            return None
        if remaining <= 0:
            _kill_group(process, namespace=namespace)
            return "timeout"
        wake.wait(timeout=min(remaining, 0.1 if cancel is not None else 0.5))


def _wait(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(timeout=max(seconds, 0.0))
    except subprocess.TimeoutExpired:
        return False
    return True


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


def _kill_group(process: subprocess.Popen[bytes], *, namespace: bool = False) -> None:
    """Kill the process, its group (its own session) and every descendant, even those that left the group.

    With `namespace` (bubblewrap, unshare) the PID namespace dies with the group, and all in it. Else the first
    process is a child subreaper (`_scripts/reap.py`), which holds all the run started as descendants: those out
    of the group are killed first, while it still holds them, then the group at once.
    """
    for _ in range(0 if namespace else 100):
        alive = process.poll() is None
        stray = [pid for pid in _descendants(process.pid) if _group(pid) != process.pid] if alive else []
        if not stray:
            break
        for pid in stray:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _group(pid: int) -> int | None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        return os.getpgid(pid)
    return None


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


def _enterable(folder: Path) -> bool:
    """Whether any uid may pass through `folder` (its mode has the others' execute bit)."""
    try:
        return bool(folder.stat().st_mode & 0o001)
    except OSError:
        return False


def _check_reachable(python: TargetPython) -> None:
    """Isolation `uid` shows the host's file system as it is: the sandbox's uid must reach the interpreter."""
    for folder in python.mounts():
        blocked = [ancestor for ancestor in (folder, *folder.parents) if not _enterable(ancestor)]
        if blocked:
            raise TestgenUsageError(
                f"the interpreter's folder {folder} lies in {blocked[-1]}, which uid {SANDBOX_UID} cannot enter, "
                "and without namespaces the sandbox cannot show it elsewhere",
                hint="Use an interpreter outside it (such as a virtual environment made from /usr/bin/python3)",
            )


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
                hint=f"Run `chmod o+rx {folder}`",
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
