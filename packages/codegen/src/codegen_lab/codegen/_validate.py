"""Validation of code a model wrote: syntax, ruff's security rules, the policy, and optionally a type check."""

from __future__ import annotations

import ast
import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen_lab.codegen._policy import ImportPolicy, check_policy
from codegen_lab.common.tracing import traced

if TYPE_CHECKING:
    from codegen_lab.codegen._tool_results import Validation as ValidationResult

__all__ = ["Validation", "validate_code"]


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
        tests = self.tests
        tests_ok = tests is None or "skipped" in tests or (tests.get("failed", 0) == 0 and not tests.get("error"))
        return self.syntax_error is None and not self.lint and not self.policy and tests_ok

    def to_result(self) -> ValidationResult:
        """The report as the tools return it (with `passed`)."""
        from codegen_lab.codegen._tool_results import Validation as ValidationResult  # noqa: PLC0415

        return ValidationResult.model_validate(self, from_attributes=True)


@traced("codegen_lab.codegen.validate")
def validate_code(
    code: str, filename: str = "generated.py", *, typecheck: bool = False, policy: ImportPolicy | None = None
) -> Validation:
    """Syntax (ast), ruff (with the security rules), the policy and, with `typecheck`, basedpyright.

    The policy (`check_policy`) allows only the imports on `policy`'s allowlist (default: the safe part of the
    standard library) and refuses calls that run text as code or start processes, however they are reached.
    ruff ignores `# noqa` comments: they are the model's words, not the project's. basedpyright runs when it is
    installed (it is a development tool, not a dependency); when it is not, the report says so instead.
    """
    validation = Validation()
    try:
        tree = ast.parse(code, filename=filename)
    except SyntaxError as exc:
        validation.syntax_error = f"line {exc.lineno}: {exc.msg}"
        return validation
    validation.lint = _ruff(code, filename)
    validation.policy = [asdict(finding) for finding in check_policy(tree, policy)]
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
            "--ignore-noqa",
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
