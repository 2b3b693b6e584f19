# pyright: basic
"""Runs `mutmut` in the target interpreter, inside the sandbox, with the arguments given.

testgen copies this file into the sandbox's work folder. mutmut makes its mutants in a `multiprocessing.Pool`,
whose locks need a writable `/dev/shm`, which the sandbox does not give; here the mutants of the one file
testgen asks for are made in this process instead. Everything else (the forked test runs of each mutant) is
mutmut's own.
"""

import sys

import mutmut.__main__ as mutmut_main


class InProcessPool:
    """What mutmut asks of `multiprocessing.Pool` when making mutants, done in this process."""

    def __init__(self, processes=None):
        self.processes = processes

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def imap_unordered(self, function, items):
        for item in items:
            yield function(item)


mutmut_main.Pool = InProcessPool  # pyright: ignore[reportPrivateImportUsage]

if __name__ == "__main__":
    sys.argv = ["mutmut", *sys.argv[1:]]
    mutmut_main.cli()
