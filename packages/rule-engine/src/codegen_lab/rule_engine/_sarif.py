"""Lint results as SARIF 2.1.0, for code-scanning dashboards."""

from __future__ import annotations

from typing import Any

from codegen_lab.rule_engine._lint import CHECKS, LintReport
from codegen_lab.rule_engine._model import Severity

__all__ = ["SARIF_SCHEMA", "to_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(report: LintReport, *, version: str) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log with one run; paths stay relative to the root (`%SRCROOT%`)."""
    rules = [
        {
            "id": check.code,
            "name": check.code,
            "shortDescription": {"text": check.title},
            "defaultConfiguration": {"level": _LEVELS[check.severity]},
            "properties": {"fixable": check.fixable},
        }
        for check in CHECKS.values()
    ]
    index = {check.code: position for position, check in enumerate(CHECKS.values())}
    results: list[dict[str, Any]] = []
    for diagnostic in report.diagnostics:
        region = {"startLine": diagnostic.line} if diagnostic.line else {}
        location: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": diagnostic.path, "uriBaseId": "%SRCROOT%"},
                **({"region": region} if region else {}),
            }
        }
        results.append(
            {
                "ruleId": diagnostic.code,
                "ruleIndex": index.get(diagnostic.code, -1),
                "level": _LEVELS[diagnostic.severity],
                "message": {"text": diagnostic.message},
                "locations": [location],
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "codegen-lab-rules",
                        "version": version,
                        "informationUri": "https://github.com/codegen-lab/codegen-lab",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
