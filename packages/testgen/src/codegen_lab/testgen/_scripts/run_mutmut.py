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

mutmut runs the tests several times in that one process (and its forks): stats, the clean run, each mutant,
each time only the tests that reached the mutated functions, in the order of a set (so different from one run
to the next). A suite that passes as a whole, in its own order (as testgen checked it), may then fail on the
unchanged code: a test whose parse hits a class-level cache that another test filled and a third test (left
out of the subset) cleared. So each of mutmut's pytest runs starts from fresh imports of the copied code and
the tests (module state does not leak from one run to the next) and runs the whole selected suite in its own
order (file, then line): a mutant is judged by the suite that was checked, not by a reordered part of it.
"""

import sys
from pathlib import Path

import mutmut.__main__ as mutmut_main
from mutmut.runners.harness import PytestRunner
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


def forget_modules_under(folder):
    """Drop from `sys.modules` every module whose file is under `folder` (the copied code, tests, conftest)."""
    folder = Path(folder).resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(folder):
            del sys.modules[name]


class SuiteOrder:
    """A pytest plugin: run the selected tests in the order of the suite (file, then line), not mutmut's."""

    def pytest_collection_modifyitems(self, items):
        items.sort(key=lambda item: (item.location[0], item.location[1] if item.location[1] is not None else -1))


original_execute_pytest = PytestRunner.execute_pytest


def execute_pytest(self, params, **kwargs):
    forget_modules_under(Path.cwd())  # mutmut runs pytest inside its mutants/ folder
    kwargs["plugins"] = [*(kwargs.get("plugins") or []), SuiteOrder()]
    return original_execute_pytest(self, params, **kwargs)


PytestRunner.execute_pytest = execute_pytest
original_run_tests = PytestRunner.run_tests


def run_tests(self, *, mutant_name, tests):
    return original_run_tests(self, mutant_name=mutant_name, tests=[])  # no tests named: the whole selection


PytestRunner.run_tests = run_tests


def setup_source_paths():
    original_setup_source_paths()
    forget_copied_modules()


mutmut_main.setup_source_paths = setup_source_paths  # pyright: ignore[reportPrivateImportUsage]

if __name__ == "__main__":
    sys.argv = ["mutmut", *sys.argv[1:]]
    mutmut_main.cli()
