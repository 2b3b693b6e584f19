"""Wiring of the code loop: the rule engine, the LLM service and testgen's sandbox, passed to `CodeLoop`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codegen_lab.codegen import CodeLoop, TestOutcome
    from codegen_lab.common import Settings
    from codegen_lab.llm import Completer

__all__ = ["code_loop", "sandboxed_tests"]


def sandboxed_tests(tests: Sequence[str], root: Path, python: Path | None) -> TestOutcome:
    """Run test files in testgen's sandbox: the `TestRunner` the code loop is given."""
    from codegen_lab.codegen import TestOutcome  # noqa: PLC0415
    from codegen_lab.testgen import run_tests  # noqa: PLC0415

    result = run_tests(list(tests), root=root, python=python, timeout=300)
    failures = [{"test": test.nodeid, "message": test.message} for test in result.tests if test.outcome != "passed"]
    return TestOutcome(result.passed, result.failed, result.isolation, failures)


def code_loop(settings: Settings, llm: Callable[[], Completer]) -> Callable[[], CodeLoop]:
    """The code loop of the settings' root, made on each call with the model `llm()` gives (made on first use)."""

    def make() -> CodeLoop:
        from codegen_lab.codegen import CodeLoop, ImportPolicy  # noqa: PLC0415
        from codegen_lab.rule_engine import RuleEngine  # noqa: PLC0415

        return CodeLoop(
            root=settings.root,
            llm=llm(),
            rules=RuleEngine.load,
            run_tests=sandboxed_tests,
            state_dir=settings.state_dir_path,
            policy=ImportPolicy.for_project(settings.root, settings.codegen_allowed_imports),
        )

    return make
