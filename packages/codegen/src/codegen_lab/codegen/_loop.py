"""The code loop: the rules that apply, a model, validation of what comes back, and a careful write.

`CodeLoop.generate` gathers the rules for the target and its context files (and only those), asks the model,
extracts the code and validates it (syntax, ruff with the security rules, the import allowlist and call policy).
Only code that passed that validation runs, and only in the sandbox: the target's tests, on a copy of the
project. The file is written only when asked and everything passed, atomically, with a backup that
`codegen-lab undo` restores. When the code fails validation, the failures go back to the model in the same
conversation and it tries again (`repair_rounds`); the result lists each round's failures. Only an answer that
passed validation is cached. `CodeLoop.review` checks a file against its rules and the linters, with the model
when one is available and statically otherwise.

The loop imports no other library: the server passes what it needs, the rules (`RuleSource`, which the rule
engine's `RuleEngine` satisfies), the model (a `codegen_lab.llm.Completer`) and the sandboxed test run
(`TestRunner`, which testgen provides).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from codegen_lab.codegen._policy import ImportPolicy
from codegen_lab.codegen._validate import Validation, validate_code
from codegen_lab.common.errors import CodegenLabError, LLMUnavailableError, UsageError
from codegen_lab.llm import CachingCompleter, CompletionRequest, Message

if TYPE_CHECKING:
    from codegen_lab.codegen._tool_results import GenerationOutput, ReviewOutput
    from codegen_lab.llm import Completer, Completion, StreamCallback

__all__ = ["CodeLoop", "GenerationResult", "ReviewResult", "RuleSource", "TestOutcome", "TestRunner"]

CONTEXT_CAP = 40_000
"""Characters of each context file (and of the target's current text) put in the prompt."""
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
_SYSTEM = (
    "You are a careful Python engineer. Follow the project rules below. Answer with the complete new content of "
    "the target file in one ```python fenced block, and nothing after the block."
)
_COPY_SKIPS = (".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")


class _Named(Protocol):
    @property
    def relpath(self) -> str: ...


class RuleSource(Protocol):
    """The project's rules, as the loop needs them (`codegen_lab.rule_engine.RuleEngine` is one)."""

    @property
    def root(self) -> Path:
        """The project root."""
        ...

    def relative(self, path: str) -> str:
        """`path` relative to the root, refused when it lies outside."""
        ...

    def rules_for(self, path: str) -> Sequence[_Named]:
        """The rules that apply to `path`."""
        ...

    def render(self, paths: Sequence[str]) -> str:
        """The text of the rules that apply to `paths`, for a model."""
        ...


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """What a sandboxed run of tests reported."""

    __test__ = False  # a result, not a test class for pytest to collect

    passed: int
    failed: int
    isolation: str | None
    failures: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    """Each failing test's node id and message."""


TestRunner = Callable[[Sequence[str], Path, Path | None], TestOutcome]
"""Runs test files (relative paths) in the sandbox on a project folder, with an interpreter (None: the default).

Raises `CodegenLabError` when the tests cannot run; testgen's `run_tests` is what the server passes.
"""


@dataclass
class GenerationResult:
    """What `generate_code` produced."""

    target: str
    code: str
    validation: Validation
    rules: list[str]
    llm: dict[str, Any]
    written: bool = False
    note: str = ""
    rounds: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    """Each answer the model gave: its round (1 is the first answer), whether it passed, and its failures."""

    def to_result(self) -> GenerationOutput:
        """The result as `generate_code` returns it and `codegen-lab generate --format json` prints it."""
        from codegen_lab.codegen._tool_results import GenerationOutput  # noqa: PLC0415

        return GenerationOutput.model_validate(self, from_attributes=True)


@dataclass
class ReviewResult:
    """What `review_code` found."""

    path: str
    mode: str
    """`llm` when an LLM reviewed the file, `static` when only the rules and linters did."""
    rules: list[str]
    validation: Validation
    review: str
    llm: dict[str, Any] | None = None

    def to_result(self) -> ReviewOutput:
        """The result as `review_code` returns it and `codegen-lab review --format json` prints it."""
        from codegen_lab.codegen._tool_results import ReviewOutput  # noqa: PLC0415

        return ReviewOutput.model_validate(self, from_attributes=True)


@dataclass
class CodeLoop:
    """The generate/review loop of one project, with what it is given.

    Attributes:
        root: The project root.
        llm: The model (the server's `LLMService`).
        rules: Loads the rules of a root (`RuleEngine.load`); called on every request so edits are seen.
        run_tests: Runs the target's tests in the sandbox; None skips them and says so.
        state_dir: Where the journal of written files lives (the server's state folder).
        policy: Which imports generated code may use.
        repair_rounds: How many times code that failed validation goes back to the model with its failures.
        max_tokens: Tokens an answer may take (the `llm-max-tokens` setting); a longer one is an error.
    """

    root: Path
    llm: Completer
    rules: Callable[[Path], RuleSource]
    run_tests: TestRunner | None = None
    state_dir: Path | None = None
    policy: ImportPolicy = field(default_factory=ImportPolicy)
    repair_rounds: int = 2
    max_tokens: int = 4096

    async def _ask(
        self,
        request: CompletionRequest,
        *,
        tool: str,
        session: Any,
        on_text: StreamCallback | None = None,
        cache: bool,
        store: bool,
    ) -> Completion:
        """The model's answer, from the cache only when `cache`, stored there only when `store`.

        The loop stores a generated answer itself (`remember`), once it passed validation.
        """
        if isinstance(self.llm, CachingCompleter):
            return await self.llm.complete(
                request, tool=tool, session=session, on_text=on_text, use_cache=cache, store=store and cache
            )
        return await self.llm.complete(request, tool=tool, session=session, on_text=on_text)

    async def generate(
        self,
        *,
        task: str,
        target_path: str,
        context_paths: Sequence[str] | None = None,
        write: bool = False,
        tests: Sequence[str] | None = None,
        typecheck: bool = False,
        session: Any = None,
        on_text: StreamCallback | None = None,
        cache: bool = True,
    ) -> GenerationResult:
        """Write (or rewrite) `target_path` for `task`, following the project's rules.

        Code that fails validation (syntax, ruff, the policy, the type check, the target's tests) goes back to the
        model with its failures, in the same conversation, up to `repair_rounds` times. With `cache` false the
        model is asked even when the cache holds an answer; an answer is cached only once it passed validation.

        Raises:
            UsageError: When a path is outside the root or a context file does not exist.
            LLMUnavailableError: When no model could answer.
        """
        engine = self.rules(self.root)
        target = engine.relative(target_path)
        if not target.endswith(".py"):
            raise UsageError(f"target_path {target_path!r} is not a Python file", hint="Give a path ending in .py")
        context = [engine.relative(path) for path in context_paths or []]
        for relpath in context:
            if not (engine.root / relpath).is_file():
                raise UsageError(f"context path {relpath!r} is not a file under {engine.root}")
        rules = sorted({rule.relpath for path in [target, *context] for rule in engine.rules_for(path)})
        parts = [f"# Task\n\n{task.strip()}", f"# Target file: {target}"]
        current = engine.root / target
        if current.is_file():
            parts.append(f"## Its current content\n\n```python\n{_read_capped(current)}\n```")
        parts.extend(
            f"## Context file: {relpath}\n\n```\n{_read_capped(engine.root / relpath)}\n```" for relpath in context
        )
        request = CompletionRequest(
            system=f"{_SYSTEM}\n\n# Project rules\n\n{engine.render([target, *context])}",
            messages=(Message("user", "\n\n".join(parts)),),
            max_tokens=self.max_tokens,
            temperature=0.0,
        )
        test_paths = [engine.relative(path) for path in tests] if tests else _tests_for(engine.root, target)
        rounds: list[dict[str, Any]] = []
        spent: list[Completion] = []
        while True:
            completion = await self._ask(
                request, tool="generate_code", session=session, on_text=on_text, cache=cache, store=False
            )
            spent.append(completion)
            blocks = _FENCE.findall(completion.text)
            code = (blocks[0] if blocks else completion.text).strip("\n") + "\n"
            validation = await self._validate(code, target, engine.root, test_paths, typecheck=typecheck)
            failures = _failures(validation)
            rounds.append(
                {
                    "round": len(rounds) + 1,
                    "passed": validation.passed,
                    "cached": completion.cached,
                    "failures": failures,
                }
            )
            if validation.passed:
                if cache and isinstance(self.llm, CachingCompleter):
                    self.llm.remember(request, completion)
                break
            if len(rounds) > self.repair_rounds:
                break
            request = replace(
                request,
                messages=(
                    *request.messages,
                    Message("assistant", completion.text),
                    Message("user", _repair_prompt(target, failures)),
                ),
            )
        info = _llm_info(completion)
        info["requests"] = sum(not item.cached for item in spent)
        info["cost_usd"] = round(sum(item.cost_usd or 0.0 for item in spent), 6)
        result = GenerationResult(target, code, validation, rules, info, rounds=rounds)
        if write and validation.passed:
            from codegen_lab.common.files import ChangeSet  # noqa: PLC0415 (only when writing)

            with ChangeSet(engine.root, f"generate_code {target}", state_dir=self.state_dir) as change:
                change.write(current, code)
            result.written = True
            result.note = "written atomically; `codegen-lab undo` restores the previous file"
        elif write:
            result.note = f"not written: the code did not pass validation in {len(rounds)} rounds"
        return result

    async def _validate(
        self, code: str, target: str, root: Path, test_paths: list[str], *, typecheck: bool
    ) -> Validation:
        """Static validation, then the target's tests in the sandbox when it passed."""
        validation = validate_code(code, target, typecheck=typecheck, policy=self.policy)
        if test_paths:
            if not validation.passed:
                # Code that failed static validation never runs, not even in the sandbox.
                validation.tests = {"skipped": "not run: the code failed static validation", "tests": test_paths}
            elif self.run_tests is None:
                validation.tests = {"skipped": "not run: no test runner is configured", "tests": test_paths}
            else:
                validation.tests = await _run_tests_against(self.run_tests, root, target, code, test_paths)
        return validation

    async def review(self, *, path: str, session: Any = None, cache: bool = True) -> ReviewResult:
        """Review the file at `path` against the rules that apply to it and the linters; with the model when possible.

        When the model cannot answer (no backend, an outage, a broken answer), the review is static and says why.
        With `cache` false the model is asked even when the cache holds an answer.

        Raises:
            UsageError: When the path is outside the root or not a file.
        """
        engine = self.rules(self.root)
        relpath = engine.relative(path)
        file = engine.root / relpath
        if not file.is_file():
            raise UsageError(f"path {path!r} is not a file under {engine.root}")
        code = _read_capped(file)
        validation = validate_code(code, relpath, policy=self.policy) if relpath.endswith(".py") else Validation()
        rules = [rule.relpath for rule in engine.rules_for(relpath)]
        static = _static_review(relpath, rules, validation)
        if not self.llm.available(session):
            return ReviewResult(relpath, "static", rules, validation, static + "\n(no LLM available: static review)")
        request = CompletionRequest(
            system="You review code against the project's rules. List concrete problems with line numbers, then "
            f"fixes. Be brief.\n\n# Project rules\n\n{engine.render([relpath])}",
            messages=(Message("user", f"# File: {relpath}\n\n```\n{code}\n```\n\n# Linter findings\n\n{static}"),),
            max_tokens=self.max_tokens,
            temperature=0.0,
        )
        try:
            completion = await self._ask(request, tool="review_code", session=session, cache=cache, store=True)
        except LLMUnavailableError as exc:
            return ReviewResult(relpath, "static", rules, validation, f"{static}\n({exc}; static review)")
        return ReviewResult(relpath, "llm", rules, validation, completion.text, _llm_info(completion))


def _read_capped(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text if len(text) <= CONTEXT_CAP else text[:CONTEXT_CAP] + "\n# [... cut]\n"


def _llm_info(completion: Completion) -> dict[str, Any]:
    """Which backend and model answered, whether from the cache, what the service noted, and the tokens spent."""
    return {
        "backend": completion.backend,
        "model": completion.model,
        "cached": completion.cached,
        "notes": list(completion.notes),
        "cost_usd": completion.cost_usd,
        "usage": {
            "input_tokens": completion.usage.input_tokens,
            "output_tokens": completion.usage.output_tokens,
            "cache_read_input_tokens": completion.usage.cache_read_input_tokens,
            "cache_creation_input_tokens": completion.usage.cache_creation_input_tokens,
            "latency_seconds": round(completion.latency_seconds, 3),
        },
    }


def _failures(validation: Validation) -> list[str]:
    """What failed, one line each: the syntax error, ruff's and the type checker's findings, the policy, tests."""
    found: list[str] = []
    if validation.syntax_error:
        found.append(f"syntax error at {validation.syntax_error}")
    found += [f"line {item['line']}: {item['code']} {item['message']}" for item in validation.lint]
    found += [f"line {item['line']}: policy: {item['message']}" for item in validation.policy]
    tests = validation.tests or {}
    if tests.get("error"):
        found.append(f"the tests could not run: {tests['error']}")
    found += [f"test {item['test']} failed: {item['message'][:1000]}" for item in tests.get("failures", [])]
    if tests.get("failed") and not tests.get("failures"):
        found.append(f"{tests['failed']} tests failed")
    return found


def _repair_prompt(target: str, failures: list[str]) -> str:
    listed = "\n".join(f"- {failure}" for failure in failures)
    return (
        f"The code you wrote for {target} failed these checks:\n\n{listed}\n\nFix every problem. Answer with the "
        "complete new content of the target file in one ```python fenced block, and nothing after the block."
    )


def _tests_for(root: Path, target: str) -> list[str]:
    """The target's tests, when the project has them: `test_<name>.py` beside it or under `tests/`."""
    name = f"test_{Path(target).stem}.py"
    found = [root / Path(target).parent / name, root / "tests" / name, *sorted((root / "tests").glob(f"**/{name}"))]
    return list(dict.fromkeys(path.relative_to(root).as_posix() for path in found if path.is_file()))


async def _run_tests_against(
    run_tests: TestRunner, root: Path, target: str, code: str, tests: list[str]
) -> dict[str, Any]:
    """Run `tests` in the sandbox on a copy of the project where `target` holds `code`.

    The project itself is not touched; its own interpreter (`.venv`) runs the tests when it has one.
    """
    import anyio  # noqa: PLC0415 (only when tests run)

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="codegen-lab-generate-") as scratch:
            copy = Path(scratch) / "project"
            shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(*_COPY_SKIPS))
            os.chmod(scratch, 0o755)  # noqa: S103 (the sandbox's unprivileged uid reads the copy, nothing secret)
            (copy / target).parent.mkdir(parents=True, exist_ok=True)
            (copy / target).write_text(code, encoding="utf-8")
            interpreter = root / ".venv" / "bin" / "python"
            try:
                outcome = run_tests(tests, copy, interpreter if interpreter.exists() else None)
            except CodegenLabError as exc:
                return {"passed": 0, "failed": 0, "error": str(exc), "isolation": None, "tests": tests}
            return {
                "passed": outcome.passed,
                "failed": outcome.failed,
                "isolation": outcome.isolation,
                "tests": tests,
                "failures": outcome.failures[:20],
            }

    return await anyio.to_thread.run_sync(run)


def _static_review(relpath: str, rules: list[str], validation: Validation) -> str:
    lines = [f"{relpath}: {len(rules)} rules apply ({', '.join(rules) or 'none'})."]
    if validation.syntax_error:
        lines.append(f"- syntax error at {validation.syntax_error}")
    lines += [f"- line {item['line']}: {item['code']} {item['message']}" for item in validation.lint]
    lines += [f"- line {item['line']}: policy: {item['message']}" for item in validation.policy]
    if len(lines) == 1:
        lines.append("- the linters found nothing")
    return "\n".join(lines)
