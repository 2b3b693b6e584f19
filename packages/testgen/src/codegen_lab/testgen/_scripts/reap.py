# pyright: basic
"""Run a program as a child, then kill every process it left behind: testgen's sandbox without a PID namespace.

Run by testgen's own interpreter (`python -I -S`): `reap.py UID -- PROGRAM ARGS...`. It makes itself a child
subreaper, so that whatever the program starts stays its descendant even when the program leaves its session
(`setsid`) and its parent dies; the child drops to UID (and that gid, no supplementary group, no new
privileges) unless UID is `-`, and runs the program. When the program ends, every descendant still running is
killed, and this process ends as the program did (with its exit status, or killed by the same signal).
"""

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
LIBC = ctypes.CDLL(None, use_errno=True)


def descendants():
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as source:
                    stat = source.read()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rfind(")") + 2 :].split()[1]), []).append(int(entry))
    found, pending = [], [os.getpid()]
    while pending:
        below = children.get(pending.pop(), [])
        found += below
        pending += below
    return found


def kill_all():
    while True:
        left = descendants()
        if not left:
            return
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:  # reap what was killed (zombies are descendants too)
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break


def main():
    uid = sys.argv[1]
    program = sys.argv[3:]
    if LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("testgen sandbox: cannot become a child subreaper\n")
        os._exit(125)
    child = os.fork()
    if child == 0:
        try:
            if uid != "-":
                os.setgroups([])
                os.setgid(int(uid))
                os.setuid(int(uid))
            if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
            os.execv(program[0], program)
        except OSError as exc:
            sys.stderr.write(f"testgen sandbox: cannot run {program[0]}: {exc}\n")
        os._exit(126)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda *_: (kill_all(), os._exit(128 + signal.SIGTERM)))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    kill_all()
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


main()
