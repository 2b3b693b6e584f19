# pyright: basic
"""Runs `mutmut` in the target interpreter, inside the sandbox, with the arguments given.

testgen copies this file into the sandbox's work folder. mutmut makes its mutants in a `multiprocessing.Pool`,
whose locks need a writable `/dev/shm`, which the sandbox does not give; here the mutants of the one file
testgen asks for are made in this process instead. Everything else (the forked test runs of each mutant) is
mutmut's own.

mutmut runs the tests in its own process (and in forks of it), which has already imported mutmut's own
dependencies (`rich`, `click`, `libcst`, `coverage`, ...). When the code under test belongs to one of them
(`rich.cells`), the tests would get that already-imported original, never the mutants: no mutant would be run
by any test. Once mutmut has put its `mutants/` folder first on `sys.path`, the modules of every package it
copied there are forgotten, so that the tests import the copy.
"""

import sys
from pathlib import Path

import mutmut.__main__ as mutmut_main
from mutmut.utils.file_utils import setup_source_paths as original_setup_source_paths


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


def forget_copied_modules(mutants=Path("mutants")):
    """Drop from `sys.modules` every module of a package or module that mutmut copied into `mutants`."""
    tops = {entry.stem if entry.suffix == ".py" else entry.name for entry in mutants.iterdir()} - {"mutmut"}
    for name in list(sys.modules):
        if name.partition(".")[0] in tops:
            del sys.modules[name]


def setup_source_paths():
    original_setup_source_paths()
    forget_copied_modules()


mutmut_main.setup_source_paths = setup_source_paths  # pyright: ignore[reportPrivateImportUsage]

if __name__ == "__main__":
    sys.argv = ["mutmut", *sys.argv[1:]]
    mutmut_main.cli()
