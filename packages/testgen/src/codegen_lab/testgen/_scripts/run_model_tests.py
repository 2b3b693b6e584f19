# pyright: basic
"""Runs model-written test files under pytest and coverage, inside the sandbox, one coverage context per test.

testgen copies this file beside `_testgen_run_pytest.py` (whose recorder it reuses) into the sandbox's work folder
and runs it with the target interpreter: standard library, pytest and coverage only. Arguments: the job (JSON:
`folder`, `file`, `sys_path`, `data_file`) and the file to write the results to (each test's outcome and message,
and per test the lines and arcs of `file` it ran).
"""

import json
import os
import sys

import coverage
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _testgen_run_pytest import Recorder  # pyright: ignore[reportMissingImports]


class Contexts:
    """Switches coverage.py's context to each test's node id, so that each test's lines can be told apart."""

    def __init__(self, cov):
        self.cov = cov

    def pytest_runtest_setup(self, item):
        self.cov.switch_context(item.nodeid)


def main():
    with open(sys.argv[1], encoding="utf-8") as source:
        job = json.load(source)
    for path in reversed(job["sys_path"]):
        sys.path.insert(0, path)
    cov = coverage.Coverage(data_file=job["data_file"], branch=True, include=[job["file"]], config_file=False)
    recorder = Recorder()
    cov.start()
    try:
        arguments = ["-p", "no:cacheprovider", "-q", "--no-header", job["folder"]]
        code = int(pytest.main(arguments, plugins=[recorder, Contexts(cov)]))
    finally:
        cov.stop()
        cov.save()
    data = cov.get_data()
    wanted = os.path.realpath(job["file"])
    files = [name for name in data.measured_files() if os.path.realpath(name) == wanted]
    per_test = {}
    for context in data.measured_contexts():
        if not context or not files:
            continue
        data.set_query_context(context)
        per_test[context] = {
            "lines": sorted(data.lines(files[0]) or []),
            "arcs": sorted(data.arcs(files[0]) or []),
        }
    with open(sys.argv[2], "w", encoding="utf-8") as sink:
        json.dump({"exit_code": code, "tests": list(recorder.tests.values()), "coverage": per_test}, sink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
