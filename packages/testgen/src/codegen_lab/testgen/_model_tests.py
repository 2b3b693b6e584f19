"""Test functions written by a model, as CoverUp does, kept only when they pass twice and add coverage.

The prompt carries the module's source with line numbers, its uncovered lines marked, how to import it and the
tests kept so far. Each top-level `test_*` function of the answer's ```python blocks, with the imports and helper
definitions it uses, is one candidate. Candidates that do not parse, import other modules than the one under
test, pytest and the standard library, or call what a test has no business calling are dropped and counted,
never run. The rest run in the sandbox under coverage, twice; a test is kept when it passed both times and ran
lines or branches that no kept test did. A test that failed is sent back once, with its failure, for a fix.
"""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen_lab.llm import Completer, CompletionRequest, Message
from codegen_lab.testgen._llm import TOOL
from codegen_lab.testgen._models import ModelTestsReport
from codegen_lab.testgen._render import RenderedTest
from codegen_lab.testgen._runner import SCRIPTS, Project
from codegen_lab.testgen._target import Target

__all__ = ["ModelTest", "check_source", "model_tests", "parse_answer", "prompt_for", "render_model_test"]

logger = logging.getLogger(__name__)

NO_MODEL = "no LLM is available here: the offline strategies ran alone"

_SYSTEM = (
    "You write pytest tests for Python code. Answer with the test functions in one ```python block: complete, "
    "runnable pytest code that passes on the code as it is, no prose inside the block."
)
_MAX_TOKENS = 4000
"""Tokens of each answer."""
_MAX_PROMPTS = 4
"""Prompts in one generation: fresh rounds and retries together."""
_MAX_TESTS = 20
"""Candidate tests taken from one answer."""
_MAX_RETRIED = 5
"""Failing tests sent back in one retry prompt."""
_MAX_SOURCE_LINES = 1500
"""Past this, the prompt shows only the code around the uncovered lines."""
_MIN_SECONDS = 3.0
"""A round is not started with less time than this left."""
_FENCE = re.compile(r"```(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL)
_DENIED_MODULES = frozenset(
    {
        "asyncio", "code", "codeop", "concurrent", "ctypes", "ftplib", "http", "imaplib", "importlib", "marshal",
        "multiprocessing", "pickle", "poplib", "pty", "runpy", "sched", "secrets", "shutil", "signal", "smtplib",
        "socket", "socketserver", "ssl", "subprocess", "telnetlib", "urllib", "webbrowser", "xmlrpc",
    }
)  # fmt: skip
"""Standard-library modules a unit test has no business with: network, processes, code loading, deletion."""
_DENIED_CALLS = frozenset({"eval", "exec", "compile", "__import__", "breakpoint", "input", "exit", "quit"})
_DENIED_OS = re.compile(
    r"^(system|popen|fork\w*|kill\w*|remove\w*|unlink|rmdir|rename\w*|replace|chdir|chmod|chown|exec\w*|spawn\w*"
    r"|posix_spawn\w*|_exit|abort|putenv|unsetenv|setuid|setgid)$"
)
_DENIED_ATTRIBUTES = frozenset({"__subclasses__", "__globals__", "__builtins__", "__code__", "__import__"})


@dataclass(frozen=True, slots=True)
class ModelTest:
    """One test function from the model, with the imports and helper definitions it uses."""

    id: str
    name: str
    imports: tuple[str, ...]
    helpers: tuple[str, ...]
    function: str

    @property
    def source(self) -> str:
        """The test as a module of its own."""
        parts = ["\n".join(self.imports), *self.helpers, self.function]
        return "\n\n\n".join(part for part in parts if part) + "\n"


@dataclass(slots=True)
class _Kept:
    test: ModelTest
    gain: int


@dataclass(slots=True)
class _Run:
    passed: bool
    message: str
    lines: set[int] = field(default_factory=set[int])
    arcs: set[tuple[int, int]] = field(default_factory=set[tuple[int, int]])


def allowed_import(module: str, names: Sequence[str], target: str) -> bool:
    """Whether a test may import `module` (`from module import names` when names are given)."""
    root = module.split(".", maxsplit=1)[0]
    if module == target or module.startswith(f"{target}.") or any(f"{module}.{name}" == target for name in names):
        return True
    if root == "pytest":
        return True
    return root in sys.stdlib_module_names and root not in _DENIED_MODULES and not root.startswith("_")


def check_source(tree: ast.AST, target: str) -> str | None:
    """Why the code in `tree` may not run as a test of `target` (a denied import or call), or None."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not allowed_import(alias.name, (), target):
                    return f"imports {alias.name}"
                if alias.name == "os" and alias.asname:
                    return f"imports os as {alias.asname}"
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [alias.name for alias in node.names]
            if node.level or not allowed_import(module, names, target):
                return f"imports from {'.' * node.level}{module}"
            if module == "os" and any(_DENIED_OS.match(name) for name in names):
                return f"imports {', '.join(names)} from os"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _DENIED_CALLS:
            return f"calls {node.func.id}()"
        elif isinstance(node, ast.Attribute):
            if node.attr in _DENIED_ATTRIBUTES:
                return f"uses {node.attr}"
            if isinstance(node.value, ast.Name) and node.value.id == "os" and _DENIED_OS.match(node.attr):
                return f"uses os.{node.attr}"
    return None


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Import):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        return {alias.asname or alias.name for alias in node.names}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {name.id for target in node.targets for name in ast.walk(target) if isinstance(name, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def _used_names(node: ast.AST) -> set[str]:
    names = {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        names |= {argument.arg for argument in node.args.args}  # fixtures, by parameter name
    return names


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, ast.Import | ast.ImportFrom)


def _is_test(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name.startswith("test")


def parse_answer(answer: str, target: str, prefix: str) -> tuple[list[ModelTest], list[str]]:
    """The candidate tests in the model's answer, and why each dropped piece was dropped (nothing runs here)."""
    blocks = _FENCE.findall(answer) or ([answer] if "def test" in answer else [])
    found: list[ModelTest] = []
    dropped: list[str] = []
    for block in blocks:
        try:
            tree = ast.parse(block)
        except SyntaxError as exc:
            dropped.append(f"does not parse: {exc.msg} (line {exc.lineno})")
            continue
        tests = [node for node in tree.body if isinstance(node, ast.FunctionDef) and _is_test(node)]
        if not tests:
            dropped.append("defines no test function")
            continue
        top_level = [node for node in tree.body if not _is_import(node)]
        refused = check_source(ast.Module([node for node in tree.body if not _is_test(node)], []), target)
        if refused is not None:  # the block's own imports and helpers: none of its tests runs
            dropped += [f"{node.name}: {refused}" for node in tests]
            continue
        definitions = {name: node for node in top_level if not _is_test(node) for name in _bound_names(node)}
        imports = {name: node for node in tree.body if _is_import(node) for name in _bound_names(node)}
        for test in tests:
            reason = check_source(test, target)
            if reason is not None:
                dropped.append(f"{test.name}: {reason}")
                continue
            needed: list[ast.stmt] = []
            pending = _used_names(test)
            seen: set[str] = set()
            while pending:
                name = pending.pop()
                if name in seen:
                    continue
                seen.add(name)
                node = definitions.get(name) or imports.get(name)
                if node is not None and node not in needed:
                    needed.append(node)
                    pending |= _used_names(node)
            order = {id(node): index for index, node in enumerate(tree.body)}
            needed.sort(key=lambda node: order[id(node)])
            segment = ast.get_source_segment
            found.append(
                ModelTest(
                    id=f"{prefix}{len(found)}",
                    name=test.name,
                    imports=tuple(segment(block, node) or "" for node in needed if _is_import(node)),
                    helpers=tuple(_with_decorators(block, node) for node in needed if not _is_import(node)),
                    function=_with_decorators(block, test),
                )
            )
            if len(found) >= _MAX_TESTS:
                return found, dropped
    return found, dropped


def _with_decorators(source: str, node: ast.stmt) -> str:
    lines = source.splitlines()
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(decorator.lineno for decorator in decorators)])
    return "\n".join(lines[first - 1 : node.end_lineno or node.lineno]).rstrip()


def _numbered(source: str, uncovered: set[int]) -> str:
    lines = source.splitlines()
    shown = range(1, len(lines) + 1)
    if len(lines) > _MAX_SOURCE_LINES:
        near = {at for line in uncovered for at in range(line - 20, line + 21)}
        shown = [number for number in shown if number in near]
    text: list[str] = []
    previous = 0
    for number in shown:
        if number != previous + 1:
            text.append("  ...")
        text.append(f"{number:>5}{'*' if number in uncovered else ' '} {lines[number - 1]}")
        previous = number
    return "\n".join(text)


def prompt_for(source: str, target: Target, uncovered: set[int], kept: Sequence[str]) -> str:
    """The first prompt: the code with its uncovered lines marked, how to import it, and the rules."""
    owner, _, name = target.module.rpartition(".")
    how = f"from {owner} import {name}" if owner else f"import {name}"
    tests = ", ".join(kept) if kept else "none yet"
    return (
        f"Here is the Python module `{target.module}` ({target.file.name}), with line numbers. The lines marked "
        f"`*` are not run by any test yet.\n\n```python\n{_numbered(source, uncovered)}\n```\n\n"
        f"Write pytest test functions that run the lines marked `*` and check what the code does there, with "
        f"`assert` on the values it returns or `pytest.raises` for the errors it raises.\n"
        f"- Import the module as `{how}`; import nothing else but `pytest` and the standard library.\n"
        "- Only top-level `def test_...():` functions (plus small helpers they call), one behaviour per test, "
        "names that say the behaviour.\n"
        "- No network, no clock, no randomness, no files outside the `tmp_path` fixture.\n"
        "- The tests must pass on the code as it is: assert what it does, not what it should do.\n"
        f"- Tests kept so far (do not repeat them): {tests}.\n"
    )


def retry_prompt(failures: Sequence[tuple[ModelTest, str]]) -> str:
    """The follow-up: each failing test with its failure, asking for a fix."""
    parts = [
        "These tests failed when they ran. Fix each so that it passes on the code as it is (or leave it out), "
        "and answer with the corrected test functions, with their imports, in one ```python block."
    ]
    for test, message in failures:
        parts.append(f"\n`{test.name}` failed:\n```\n{message.strip()[:1500]}\n```")
    return "\n".join(parts)


def model_tests(
    completer: Completer,
    *,
    project: Project,
    target: Target,
    workdir: Path,
    statements: set[int],
    covered_lines: set[int],
    covered_arcs: set[tuple[int, int]],
    kept_names: Sequence[str],
    deadline: float,
) -> tuple[list[_Kept], ModelTestsReport]:
    """Ask the model for tests of the uncovered lines; keep those that pass twice and add coverage.

    `covered_lines` and `covered_arcs` grow with what the kept tests run. The model is asked at most
    `_MAX_PROMPTS` times, each answer at most `_MAX_TOKENS` long, and no round starts after `deadline`.
    """
    report = ModelTestsReport(used=True)
    kept: list[_Kept] = []
    source = target.file.read_text(encoding="utf-8")
    names = list(kept_names)
    while report.prompts < _MAX_PROMPTS:
        uncovered = statements - covered_lines
        if not uncovered:
            report.note = "every line was already covered: the model was not asked"
            break
        if deadline - time.monotonic() < _MIN_SECONDS:
            break
        conversation: list[Message] = [Message("user", prompt_for(source, target, uncovered, names))]
        answer = _ask(completer, conversation, report, deadline)
        if answer is None:
            break
        gained, failures = _try(answer, project, target, workdir, covered_lines, covered_arcs, report, kept, deadline)
        names += [entry.test.name for entry in kept[-gained:]] if gained else []
        if failures and report.prompts < _MAX_PROMPTS and deadline - time.monotonic() >= _MIN_SECONDS:
            reply = Message("assistant", answer)
            follow_up = Message("user", retry_prompt(failures[:_MAX_RETRIED]))
            conversation += [reply, follow_up]
            report.retried += len(failures[:_MAX_RETRIED])
            fixed = _ask(completer, conversation, report, deadline)
            if fixed is not None:
                again, _ = _try(fixed, project, target, workdir, covered_lines, covered_arcs, report, kept, deadline)
                names += [entry.test.name for entry in kept[-again:]] if again else []
                gained += again
        if not gained:
            break
    report.kept = len(kept)
    return kept, report


def _ask(completer: Completer, conversation: list[Message], report: ModelTestsReport, deadline: float) -> str | None:
    """The model's answer, or None (and a note) when it fails or the time runs out."""
    report.prompts += 1
    remaining = deadline - time.monotonic()

    request = CompletionRequest(messages=tuple(conversation), system=_SYSTEM, max_tokens=_MAX_TOKENS)

    async def ask() -> str:
        return (await asyncio.wait_for(completer.complete(request, tool=TOOL), remaining)).text

    try:
        return asyncio.run(ask())
    except TimeoutError:
        report.note = "the model did not answer within the budget"
    except Exception as exc:  # a model that fails leaves the offline tests as they are
        logger.warning("the model could not be asked for tests", exc_info=True)
        report.note = f"the model could not be asked: {type(exc).__name__}: {exc}"
    return None


def _try(
    answer: str,
    project: Project,
    target: Target,
    workdir: Path,
    covered_lines: set[int],
    covered_arcs: set[tuple[int, int]],
    report: ModelTestsReport,
    kept: list[_Kept],
    deadline: float,
) -> tuple[int, list[tuple[ModelTest, str]]]:
    """Run the tests of one answer twice; keep the useful ones. Returns how many were kept, and the failures."""
    candidates, dropped = parse_answer(answer, target.module, f"m{report.prompts}t")
    report.proposed += len(candidates) + len(dropped)
    report.malformed += len(dropped)
    for reason in dropped:
        logger.info("a model-written test was dropped without running: %s", reason)
    if not candidates:
        return 0, []
    first = _run(candidates, project, target, workdir, deadline, hash_seed=0)
    passing = [test for test in candidates if first[test.id].passed]
    second = _run(passing, project, target, workdir, deadline, hash_seed=1) if passing else {}
    failures = [(test, first[test.id].message) for test in candidates if not first[test.id].passed]
    failures += [(test, second[test.id].message) for test in passing if not second[test.id].passed]
    report.failed += len(failures)
    before = len(kept)
    for test in passing:
        if not second[test.id].passed:
            continue
        ran = first[test.id]
        gain = len(ran.lines - covered_lines) + len(ran.arcs - covered_arcs)
        if gain == 0:
            report.no_gain += 1
            continue
        covered_lines |= ran.lines
        covered_arcs |= ran.arcs
        kept.append(_Kept(test, gain))
    return len(kept) - before, failures


def _run(
    tests: Sequence[ModelTest], project: Project, target: Target, workdir: Path, deadline: float, *, hash_seed: int
) -> dict[str, _Run]:
    """Run each test in a file of its own, all in one pytest process in the sandbox, under coverage."""
    folder = workdir / "model_tests"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for test in tests:
        (folder / f"test_{test.id}.py").write_text(test.source, encoding="utf-8")
    shutil.copyfile(SCRIPTS / "run_pytest.py", workdir / "_testgen_run_pytest.py")
    shutil.copyfile(SCRIPTS / "run_model_tests.py", workdir / "_testgen_run_model_tests.py")
    job = workdir / "_testgen_model_job.json"
    answer = workdir / "_testgen_model_report.json"
    answer.unlink(missing_ok=True)
    data_file = workdir / ".coverage_model"
    data_file.unlink(missing_ok=True)
    job.write_text(
        json.dumps(
            {
                "folder": str(folder),
                "file": str(target.file),
                "sys_path": [str(target.import_root)],
                "data_file": str(data_file),
            }
        ),
        encoding="utf-8",
    )
    timeout = max(min(deadline - time.monotonic(), 60.0), 5.0)
    result = project.sandbox.run_python(
        [str(workdir / "_testgen_run_model_tests.py"), str(job), str(answer)],
        workdir=workdir,
        env={"PYTHONHASHSEED": str(hash_seed)},
        timeout=timeout,
    )
    if not answer.exists():
        reason = result.stop_reason(project.sandbox.limits, timeout) or f"exited with status {result.returncode}"
        tail = (result.stderr or result.stdout)[-1000:]
        return {test.id: _Run(False, f"the tests {reason}\n{tail}") for test in tests}
    data: dict[str, Any] = json.loads(answer.read_text(encoding="utf-8"))
    runs = {test.id: _Run(True, "") for test in tests}
    seen: set[str] = set()
    for entry in data["tests"]:
        test_id = _test_id(str(entry["nodeid"]))
        if test_id not in runs:
            continue
        seen.add(test_id)
        if entry["outcome"] not in {"passed", "xfailed"}:
            runs[test_id].passed = False
            runs[test_id].message = runs[test_id].message or str(entry["message"])
    for context, ran in data["coverage"].items():
        test_id = _test_id(context)
        if test_id in runs:
            runs[test_id].lines |= {int(line) for line in ran["lines"]}
            runs[test_id].arcs |= {(int(a), int(b)) for a, b in ran["arcs"]}
    for test_id in runs.keys() - seen:
        runs[test_id] = _Run(False, "pytest collected no test from it")
    return runs


def _test_id(nodeid: str) -> str:
    """`m1t0` from `.../test_m1t0.py::test_name[...]`."""
    file = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return file.removeprefix("test_").removesuffix(".py")


def render_model_test(kept: _Kept, taken: set[str], defined: set[str]) -> RenderedTest:
    """The kept test as part of the generated module, marked as written by the model.

    `taken` holds the test names used so far, `defined` the helper definitions written so far (each once).
    """
    test = kept.test
    name = test.name
    number = 2
    while name in taken:
        name = f"{test.name}_{number}"
        number += 1
    taken.add(name)
    function = re.sub(rf"^def {re.escape(test.name)}\(", f"def {name}(", test.function, count=1, flags=re.MULTILINE)
    lines = ["# Written by the model; kept because it passed twice and ran code no test before it did."]
    for helper in test.helpers:
        if helper not in defined:
            defined.add(helper)
            lines += [*helper.splitlines(), "", ""]
    lines += function.splitlines()
    return RenderedTest(
        name=name,
        kind="model",
        target=test.name,
        lines=lines,
        imports=set(test.imports),
        candidate_id=test.id,
        new_coverage=kept.gain,
    )
