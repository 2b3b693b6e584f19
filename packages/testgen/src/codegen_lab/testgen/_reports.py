"""The last reports of testgen's commands and tools, kept per project in the state folder.

`generate`, `coverage` and `mutate` (the `codegen-lab testgen` commands and the `testgen_*` tools) each keep
their latest report for a target: `STATE/testgen/reports/<root digest>/<kind>--<target digest>.json`, holding
`{"kind", "root", "target", "time", "report"}`. A coverage report keeps each file's executed lines too, so that a
reader can colour the source. Writing a report never fails the command: a state folder that cannot be written is
logged and skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Literal

from codegen_lab.common._folders import default_state_dir
from codegen_lab.testgen._models import CoverageReport, GenerationReport, MutationReport

__all__ = ["ReportKind", "last_reports", "save_report"]

logger = logging.getLogger(__name__)

ReportKind = Literal["generate", "coverage", "mutate"]


def _folder(root: Path, state_dir: Path | None) -> Path:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return (state_dir if state_dir is not None else default_state_dir()) / "testgen" / "reports" / digest


def save_report(
    report: GenerationReport | CoverageReport | MutationReport, *, root: Path | str | None, state_dir: Path | None
) -> Path | None:
    """Keep `report` as the latest of its kind and target for the project at `root` (default: the current folder).

    Returns:
        The file written, or None when the state folder could not be written (logged).
    """
    base = Path(root if root is not None else Path.cwd()).expanduser().resolve()
    data: dict[str, Any] = report.model_dump(mode="json")
    if isinstance(report, CoverageReport):
        kind: ReportKind = "coverage"
        target = ""
        for dumped, measured in zip(data["files"], report.files, strict=True):
            dumped["executed_lines"] = list(measured.executed_lines)
    else:
        kind = "generate" if isinstance(report, GenerationReport) else "mutate"
        target = report.target
    entry = {"kind": kind, "root": str(base), "target": target, "time": time.time(), "report": data}
    folder = _folder(base, state_dir)
    path = folder / f"{kind}--{hashlib.sha256(target.encode()).hexdigest()[:12]}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entry), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        logger.warning("could not keep the %s report in %s: %s", kind, folder, exc)
        return None
    return path


def last_reports(
    root: Path | str, *, state_dir: Path | None = None, kind: ReportKind | None = None
) -> list[dict[str, Any]]:
    """The reports kept for the project at `root`, newest first (only those of `kind` when given).

    A file that cannot be read is skipped (logged).
    """
    folder = _folder(Path(root).expanduser(), state_dir)
    found: list[dict[str, Any]] = []
    for path in folder.glob(f"{kind or '*'}--*.json") if folder.is_dir() else ():
        try:
            entry: object = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("skipped the testgen report %s: %s", path, exc)
            continue
        if isinstance(entry, dict) and "report" in entry:
            found.append(dict(entry))  # pyright: ignore[reportUnknownArgumentType]
    return sorted(found, key=lambda entry: -float(entry.get("time", 0)))
