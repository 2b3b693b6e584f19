# pyright: basic
"""Runs pytest (under coverage when asked) in the target interpreter, inside the sandbox.

testgen copies this file into the sandbox's work folder and runs it with the target interpreter, which may be
any Python from 3.8 on and has none of Codegen Lab installed: this file uses only the standard library, pytest
and coverage. The results go to the JSON file named by TESTGEN_REPORT.
"""

import json
import os
import sys

import pytest


def _message(report):
    longrepr = getattr(report, "longrepr", None)
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)[:2000]
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (file, line, reason)
        return str(longrepr[2])[:2000]
    text = getattr(report, "longreprtext", "") or ""
    return text[-2000:]


class Recorder:
    def __init__(self):
        self.tests = {}
        # One line per finished test, flushed as it ends: what ran before a time-out stopped the run.
        progress = os.environ.get("TESTGEN_PROGRESS")
        self.progress = open(progress, "a", encoding="utf-8") if progress else None  # noqa: SIM115

    def pytest_runtest_logfinish(self, nodeid, location):
        if self.progress is not None and nodeid in self.tests:
            self.progress.write(json.dumps(self.tests[nodeid]) + "\n")
            self.progress.flush()

    def pytest_configure(self, config):
        # pytest-benchmark (as it starts) and Hypothesis (its examples and caches) write to the current folder,
        # the user's project: they write to the work folder, where this file was copied, instead.
        work = os.path.dirname(os.path.abspath(__file__))
        if getattr(config.option, "benchmark_storage", None) == "file://./.benchmarks":
            config.option.benchmark_storage = "file://" + os.path.join(work, ".benchmarks")
        os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(work, ".hypothesis"))

    def _entry(self, nodeid):
        return self.tests.setdefault(nodeid, {"nodeid": nodeid, "outcome": "passed", "message": "", "duration": 0.0})

    def pytest_collectreport(self, report):
        if report.failed:
            entry = self._entry(report.nodeid or "<collection>")
            entry["outcome"] = "error"
            entry["message"] = _message(report)

    def pytest_runtest_logreport(self, report):
        entry = self._entry(report.nodeid)
        entry["duration"] = round(entry["duration"] + float(getattr(report, "duration", 0.0)), 6)
        if entry["outcome"] in ("failed", "error"):
            return
        wasxfail = hasattr(report, "wasxfail")
        if report.when == "call" and wasxfail:
            entry["outcome"] = "xfailed" if report.skipped else "xpassed"
            entry["message"] = str(report.wasxfail)
        elif report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["message"] = _message(report)
        elif report.skipped:
            entry["outcome"] = "xfailed" if wasxfail else "skipped"
            entry["message"] = _message(report)


def main():
    sys.path.insert(0, os.getcwd())
    if os.environ.get("TESTGEN_FIRST_PATH"):
        sys.path.insert(0, os.environ["TESTGEN_FIRST_PATH"])
    settings = json.loads(os.environ.get("TESTGEN_COVERAGE") or "null")
    recorder = Recorder()
    cov = None
    if settings:
        import coverage

        cov = coverage.Coverage(
            data_file=settings["data_file"],
            branch=True,
            source=settings.get("source") or None,
            include=settings.get("include") or None,
            omit=settings.get("omit") or None,
            config_file=False,
        )
        cov.start()
    try:
        code = int(pytest.main(sys.argv[1:], plugins=[recorder]))
    finally:
        if cov is not None:
            cov.stop()
            cov.save()
    measured = False
    if cov is not None:
        try:
            cov.json_report(outfile=settings["json"])
            if settings.get("html"):
                cov.html_report(directory=settings["html"])
            measured = True
        except coverage.CoverageException:  # nothing ran: no data to report
            measured = False
    with open(os.environ["TESTGEN_REPORT"], "w", encoding="utf-8") as sink:
        json.dump({"exit_code": code, "tests": list(recorder.tests.values()), "measured": measured}, sink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
