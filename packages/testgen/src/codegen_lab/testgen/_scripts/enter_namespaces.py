# pyright: basic
"""Set up the file system of testgen's namespaces sandbox, drop privileges and start the code under test.

Run by testgen's own interpreter (`python -I -S`), as root in new mount, PID, network, IPC and UTS namespaces
(made by util-linux's `unshare`), before any code under test: `enter_namespaces.py PLAN -- PROGRAM ARGS...`.
PLAN is JSON: `hide` (folders covered by an empty tmpfs: the shared temporary folders and the folders the
sandbox's uid could not enter), `read_only` and `writable` (folders shown again at their own path, read-only or
not), `links` (links to shown folders, made again where they were hidden), `tmp` (the hidden folders that are
fresh temporary folders), `tmp_bytes` (their size), `uid` (the uid and gid to drop to, or null to keep the uid
and drop every capability) and `cwd`. Folders are opened before anything is hidden and mounted again from those
descriptors, so what is hidden stays reachable only where the plan shows it. It stays, as root, the first process
of the PID namespace and runs the program as its child, so that the program gets signals as any process does;
it ends as bubblewrap does, with the program's exit status or 128 plus the signal that killed it.
"""

import ctypes
import json
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 24, 28, 38
SECBIT_NOROOT, SECBIT_NOROOT_LOCKED = 1, 2
LIBC = ctypes.CDLL(None, use_errno=True)


def call(result, what):
    if result != 0:
        number = ctypes.get_errno()
        sys.stderr.write(f"testgen sandbox: {what}: {os.strerror(number)}\n")
        os._exit(125)


def mount(source, target, fstype, flags, data=None):
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    what = f"mount {source} on {target}"
    call(LIBC.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)), what)


def main():
    plan = json.loads(sys.argv[1])
    program = sys.argv[3:]
    os.umask(0o022)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    shown = [(folder, True) for folder in plan["read_only"]] + [(folder, False) for folder in plan["writable"]]
    opened = [(folder, read_only, os.open(folder, os.O_PATH | os.O_DIRECTORY)) for folder, read_only in shown]
    for folder in plan["hide"]:
        options = f"mode=1777,size={plan['tmp_bytes']}" if folder in plan["tmp"] else "mode=0755,size=1m"
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for folder, read_only, descriptor in sorted(opened, key=lambda item: item[0].count("/")):
        os.makedirs(folder, mode=0o755, exist_ok=True)
        mount(f"/proc/self/fd/{descriptor}", folder, None, MS_BIND | MS_REC)
        flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (MS_RDONLY if read_only else 0)
        mount(None, folder, None, flags)
        os.close(descriptor)
    for link, target in plan["links"]:
        try:
            os.makedirs(os.path.dirname(link), mode=0o755, exist_ok=True)
            os.symlink(target, link)
        except OSError as exc:
            sys.stderr.write(f"testgen sandbox: cannot show {link}: {exc}\n")
    os.chdir(plan["cwd"])
    child = os.fork()
    if child == 0:
        try:
            drop_privileges(plan["uid"])
            os.execv(program[0], program)
        except OSError as exc:
            sys.stderr.write(f"testgen sandbox: cannot run {program[0]}: {exc}\n")
        os._exit(126)
    # The first process of the PID namespace: it reaps orphans, and when the program ends, so does the namespace.
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        if pid == child:
            break
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def drop_privileges(uid):
    if uid is None:  # root of a user namespace, which is the caller's own uid: keep no capability past exec
        call(LIBC.prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0), "secure bits")
        for capability in range(64):
            if LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                break
    else:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    call(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")


main()
