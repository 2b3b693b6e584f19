"""The seed's loop: the rules that apply, an LLM, validation of what comes back, and a careful write.

`generate_code` gathers the rules for the target and its context files (and only those), asks the LLM, extracts
the code, validates it (syntax, ruff with the security rules, a policy of forbidden calls) and writes it only
when asked, atomically, with a backup that `codegen-lab undo` restores. `review_code` checks a file
against its rules and the linters, with the LLM when one is available and statically otherwise.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen_lab.common.errors import CodegenLabError, UsageError

if TYPE_CHECKING:
    from codegen_lab.common import Settings
    from codegen_lab.llm import Completion, LLMService, StreamCallback

__all__ = ["GenerationResult", "ReviewResult", "generate_code", "review_code", "validate_code"]

CONTEXT_CAP = 40_000
"""Characters of each context file (and of the target's current text) put in the prompt."""
FORBIDDEN_CALLS = {
    "eval": "evaluates arbitrary text as code",
    "exec": "runs arbitrary text as code",
    "os.system": "runs a shell command",
    "os.popen": "runs a shell command",
    "pickle.loads": "unpickling runs arbitrary code",
    "marshal.loads": "loads arbitrary code objects",
    "__import__": "imports a module chosen at run time",
}
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
_SYSTEM = (
    "You are a careful Python engineer. Follow the project rules below. Answer with the complete new content of "
    "the target file in one ```python fenced block, and nothing after the block."
)


@dataclass
class Validation:
    """What the checks found in generated code."""

    syntax_error: str | None = None
    lint: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    policy: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    tests: dict[str, Any] | None = None
    """The target's tests, run in testgen's sandbox against the new code, when there are some."""

    @property
    def passed(self) -> bool:
        """No syntax error, no ruff finding, no forbidden call, and every test that ran passed."""
        tests_ok = self.tests is None or (self.tests["failed"] == 0 and not self.tests.get("error"))
        return self.syntax_error is None and not self.lint and not self.policy and tests_ok

    def as_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "passed": self.passed,
            "syntax_error": self.syntax_error,
            "lint": self.lint,
            "policy": self.policy,
            "tests": self.tests,
        }


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

    def as_json(self) -> dict[str, Any]:
        """The result as JSON."""
        return {
            "target": self.target,
            "code": self.code,
            "validation": self.validation.as_json(),
            "rules": self.rules,
            "llm": self.llm,
            "written": self.written,
            "note": self.note,
        }


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

    def as_json(self) -> dict[str, Any]:
        """The result as JSON."""
        return {
            "path": self.path,
            "mode": self.mode,
            "rules": self.rules,
            "validation": self.validation.as_json(),
            "review": self.review,
            "llm": self.llm,
        }


def validate_code(code: str, filename: str = "generated.py", *, typecheck: bool = False) -> Validation:
    """Syntax (ast), ruff (with the security rules), the forbidden-call policy and, with `typecheck`, basedpyright.

    basedpyright runs when it is installed (it is a development tool, not a dependency); when it is not, the
    report says so instead.
    """
    validation = Validation()
    try:
        tree = ast.parse(code, filename=filename)
    except SyntaxError as exc:
        validation.syntax_error = f"line {exc.lineno}: {exc.msg}"
        return validation
    validation.lint = _ruff(code, filename)
    validation.policy = _policy(tree)
    if typecheck:
        validation.lint += _basedpyright(code)
    return validation


def _basedpyright(code: str) -> list[dict[str, Any]]:
    import shutil  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    checker = shutil.which("basedpyright") or shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    if checker is None:
        return [{"code": "basedpyright", "line": None, "message": "basedpyright is not installed: no type check"}]
    with tempfile.TemporaryDirectory(prefix="codegen-lab-typecheck-") as folder:
        source = Path(folder) / "generated.py"
        source.write_text(code, encoding="utf-8")
        completed = subprocess.run(  # noqa: S603 (the checker's path, arguments as a list)
            # The file is ours, in a fresh folder (its path cannot start with "-"); that folder has no settings.
            [checker, "--outputjson", str(source)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    try:
        report: dict[str, Any] = json.loads(completed.stdout)
    except json.JSONDecodeError:
        return [{"code": "basedpyright", "line": None, "message": completed.stderr.strip()[:300] or "no report"}]
    return [
        {
            "code": f"basedpyright:{item.get('rule', 'error')}",
            "line": item["range"]["start"]["line"] + 1,
            "message": item["message"],
        }
        for item in report.get("generalDiagnostics", [])
        if item.get("severity") == "error"
    ]


def _ruff(code: str, filename: str) -> list[dict[str, Any]]:
    from ruff.__main__ import find_ruff_bin  # noqa: PLC0415

    completed = subprocess.run(  # noqa: S603 (the ruff binary, arguments as a list)
        [
            find_ruff_bin(),
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "E9,F,B,S",
            "--output-format",
            "json",
            "--stdin-filename",
            filename,
            "-",
        ],
        input=code,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode not in (0, 1):
        return [{"code": "ruff", "line": None, "message": completed.stderr.strip()[:500]}]
    findings: list[dict[str, Any]] = json.loads(completed.stdout or "[]")
    return [{"code": f["code"], "line": f["location"]["row"], "message": f["message"]} for f in findings]


def _policy(tree: ast.AST) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in FORBIDDEN_CALLS:
                found.append({"call": name, "line": node.lineno, "message": f"{name}: {FORBIDDEN_CALLS[name]}"})
            shell = any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords)
            if name is not None and name.startswith("subprocess.") and shell:
                found.append({"call": name, "line": node.lineno, "message": f"{name} with shell=True"})
    return found


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _read_capped(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text if len(text) <= CONTEXT_CAP else text[:CONTEXT_CAP] + "\n# [... cut]\n"


async def generate_code(
    settings: Settings,
    llm: LLMService,
    *,
    task: str,
    target_path: str,
    context_paths: list[str] | None = None,
    write: bool = False,
    tests: list[str] | None = None,
    typecheck: bool = False,
    session: Any = None,
    on_text: StreamCallback | None = None,
) -> GenerationResult:
    """Write (or rewrite) `target_path` for `task`, following the project's rules.

    Raises:
        UsageError: When a path is outside the root or a context file does not exist.
        LLMUnavailableError: When no LLM could answer.
    """
    from codegen_lab.llm import CompletionRequest, Message  # noqa: PLC0415
    from codegen_lab.rule_engine import RuleEngine  # noqa: PLC0415

    engine = RuleEngine.load(settings.root)
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
    rules_text = engine.render([target, *context])
    request = CompletionRequest(
        system=f"{_SYSTEM}\n\n# Project rules\n\n{rules_text}",
        messages=(Message("user", "\n\n".join(parts)),),
        max_tokens=4096,
        temperature=0.0,
    )
    completion = await llm.complete(request, tool="generate_code", session=session, on_text=on_text)
    blocks = _FENCE.findall(completion.text)
    code = (blocks[0] if blocks else completion.text).strip("\n") + "\n"
    validation = validate_code(code, target, typecheck=typecheck)
    test_paths = [engine.relative(path) for path in tests] if tests else _tests_for(engine.root, target)
    if validation.syntax_error is None and test_paths:
        validation.tests = await _run_tests_against(engine.root, target, code, test_paths)
    llm_info = _llm_info(completion)
    result = GenerationResult(target, code, validation, rules, llm_info)
    if write and validation.passed:
        from codegen_lab.common.files import ChangeSet  # noqa: PLC0415

        with ChangeSet(engine.root, f"generate_code {target}", state_dir=settings.state_dir_path) as change:
            change.write(current, code)
        result.written = True
        result.note = "written atomically; `codegen-lab undo` restores the previous file"
    elif write:
        result.note = "not written: the code did not pass validation"
    return result


async def review_code(settings: Settings, llm: LLMService, *, path: str, session: Any = None) -> ReviewResult:
    """Review the file at `path` against the rules that apply to it and the linters; with the LLM when possible.

    Raises:
        UsageError: When the path is outside the root or not a file.
    """
    from codegen_lab.common.errors import LLMUnavailableError  # noqa: PLC0415
    from codegen_lab.llm import CompletionRequest, Message  # noqa: PLC0415
    from codegen_lab.rule_engine import RuleEngine  # noqa: PLC0415

    engine = RuleEngine.load(settings.root)
    relpath = engine.relative(path)
    file = engine.root / relpath
    if not file.is_file():
        raise UsageError(f"path {path!r} is not a file under {engine.root}")
    code = _read_capped(file)
    validation = validate_code(code, relpath) if relpath.endswith(".py") else Validation()
    rules = [rule.relpath for rule in engine.rules_for(relpath)]
    static = _static_review(relpath, rules, validation)
    if not llm.available(session):
        return ReviewResult(relpath, "static", rules, validation, static + "\n(no LLM available: static review)")
    request = CompletionRequest(
        system="You review code against the project's rules. List concrete problems with line numbers, then fixes. "
        f"Be brief.\n\n# Project rules\n\n{engine.render([relpath])}",
        messages=(Message("user", f"# File: {relpath}\n\n```\n{code}\n```\n\n# Linter findings\n\n{static}"),),
        max_tokens=2048,
        temperature=0.0,
    )
    try:
        completion = await llm.complete(request, tool="review_code", session=session)
    except LLMUnavailableError as exc:
        return ReviewResult(relpath, "static", rules, validation, f"{static}\n({exc}; static review)")
    llm_info = _llm_info(completion)
    return ReviewResult(relpath, "llm", rules, validation, completion.text, llm_info)


def _llm_info(completion: Completion) -> dict[str, Any]:
    """Which backend and model answered, whether from the cache, what the service noted, and the tokens spent."""
    return {
        "backend": completion.backend,
        "model": completion.model,
        "cached": completion.cached,
        "notes": list(completion.notes),
        "usage": {
            "input_tokens": completion.usage.input_tokens,
            "output_tokens": completion.usage.output_tokens,
            "latency_seconds": round(completion.latency_seconds, 3),
        },
    }


def _tests_for(root: Path, target: str) -> list[str]:
    """The target's tests, when the project has them: `test_<name>.py` beside it or under `tests/`."""
    name = f"test_{Path(target).stem}.py"
    found = [root / Path(target).parent / name, root / "tests" / name, *sorted((root / "tests").glob(f"**/{name}"))]
    return list(dict.fromkeys(path.relative_to(root).as_posix() for path in found if path.is_file()))


_COPY_SKIPS = (".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")


async def _run_tests_against(root: Path, target: str, code: str, tests: list[str]) -> dict[str, Any]:
    """Run `tests` in testgen's sandbox on a copy of the project where `target` holds `code`.

    The project itself is not touched; its own interpreter (`.venv`) runs the tests when it has one.
    """
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    import anyio  # noqa: PLC0415

    from codegen_lab.testgen import run_tests  # noqa: PLC0415

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="codegen-lab-generate-") as scratch:
            copy = Path(scratch) / "project"
            shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(*_COPY_SKIPS))
            os.chmod(scratch, 0o755)  # noqa: S103 (the sandbox's unprivileged uid reads the copy, nothing secret)
            (copy / target).parent.mkdir(parents=True, exist_ok=True)
            (copy / target).write_text(code, encoding="utf-8")
            interpreter = root / ".venv" / "bin" / "python"
            try:
                result = run_tests(tests, root=copy, python=interpreter if interpreter.exists() else None, timeout=300)
            except CodegenLabError as exc:
                return {"passed": 0, "failed": 0, "error": str(exc), "isolation": None, "tests": tests}
            failures = [{"test": t.nodeid, "message": t.message} for t in result.tests if t.outcome != "passed"]
            return {
                "passed": result.passed,
                "failed": result.failed,
                "isolation": result.isolation,
                "tests": tests,
                "failures": failures[:20],
            }

    return await anyio.to_thread.run_sync(run)


def _static_review(relpath: str, rules: list[str], validation: Validation) -> str:
    lines = [f"{relpath}: {len(rules)} rules apply ({', '.join(rules) or 'none'})."]
    if validation.syntax_error:
        lines.append(f"- syntax error at {validation.syntax_error}")
    lines += [f"- line {item['line']}: {item['code']} {item['message']}" for item in validation.lint]
    lines += [f"- line {item['line']}: forbidden call {item['message']}" for item in validation.policy]
    if len(lines) == 1:
        lines.append("- the linters found nothing")
    return "\n".join(lines)
