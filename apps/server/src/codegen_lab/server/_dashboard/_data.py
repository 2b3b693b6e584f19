"""What each view shows, read from the same library functions as the CLI and the MCP tools.

Server: the `server_info` tool's own report, the tools' schemas, the audit log's summary, the rate limits' state,
testgen's sandbox isolation. Rules: `RuleIndex`, `RuleEngine.explain` (the `which` explanation),
`render_context`, `lint`. Workspace: `load_workspace`, `Graph`, `affected`, `diff_locks`. Tests: testgen's kept
reports (`last_reports`). Changes: the journal (`recent_changes`, `undo_last`).
"""

from __future__ import annotations

import difflib
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen_lab.common.errors import CodegenLabError
from codegen_lab.common.results import to_json

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.common import Settings
    from codegen_lab.common.files import Change
    from codegen_lab.mcp_core._audit import AuditLog
    from codegen_lab.mcp_core._ratelimit import RateLimits
    from codegen_lab.rule_engine import LintReport, RuleEngine, RuleIndex

__all__ = ["Dashboard", "ViewError"]

_PATHS_SHOWN = 50
_DIFF_LINES = 400
_SOURCE_BYTES = 2_000_000


class ViewError(Exception):
    """What a view could not show, in one line (a bad path or ref, a folder that is not a workspace)."""


def _explained(exc: Exception) -> ViewError:
    return ViewError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@dataclass(slots=True)
class Dashboard:
    """The data behind the views, for one server (or one local project with `codegen-lab dashboard`).

    Args:
        settings: The server's settings (its root and state folder).
        server: The composed MCP server: its `server_info` report and its tools.
        rate_limits: The server's rate limits, whose state the Server view shows (None: fresh ones from settings).
    """

    settings: Settings
    server: MCPServer
    rate_limits: RateLimits | None = None
    started: float = field(default_factory=time.monotonic)
    _tools: list[dict[str, Any]] | None = field(default=None, init=False)
    _index: RuleIndex | None = field(default=None, init=False)
    _lint: tuple[RuleEngine, LintReport] | None = field(default=None, init=False)
    _audit: AuditLog | None = field(default=None, init=False)

    @property
    def root(self) -> Path:
        """The project root every view reads."""
        return self.settings.root.resolve()

    # Server

    async def server_view(self) -> dict[str, Any]:
        """Version, toolkits and tools with schemas, uptime, calls per tool, rate limits, LLM, isolation."""
        info = await self._server_info()
        if self._tools is None:
            self._tools = [
                {
                    "name": tool.name,
                    "description": (tool.description or "").split("\n\n")[0],
                    "schema": tool.input_schema,
                    "read_only": bool(tool.annotations and tool.annotations.read_only_hint),
                }
                for tool in await self.server.list_tools()
            ]
        tools = {tool["name"]: tool for tool in self._tools}
        toolkits = [
            {**toolkit, "tools": [tools[name] for name in toolkit["tools"] if name in tools]}
            for toolkit in info.get("toolkits", [])
        ]
        limits = self.rate_limits
        if limits is None:
            from codegen_lab.mcp_core import RateLimits  # noqa: PLC0415

            limits = RateLimits(self.settings.rate_limits, per_client=self.settings.client_rate_limits)
        return {
            "name": info.get("name", "codegen-lab"),
            "version": info.get("version"),
            "packages": info.get("packages", {}),
            "workspace_root": info.get("workspace_root", str(self.root)),
            "uptime_seconds": round(time.monotonic() - self.started, 1),
            "python": info.get("python"),
            "toolkits": toolkits,
            "calls": self.calls(),
            "rate_limits": limits.state(),
            "llm": info.get("llm"),
            "isolation": _isolation(self.settings.allow_unsandboxed),
        }

    async def _server_info(self) -> dict[str, Any]:
        """The `server_info` report, read as its resource (the same report; a dashboard poll is no audited call)."""
        from mcp_types import InputRequiredResult  # noqa: PLC0415

        from codegen_lab.mcp_core import INFO_URI  # noqa: PLC0415

        contents = await self.server.read_resource(INFO_URI)
        if isinstance(contents, InputRequiredResult):  # pragma: no cover - the report asks the client nothing
            return {}
        for content in contents:
            report: dict[str, Any] = json.loads(content.content)
            return report
        return {}

    def calls(self) -> list[dict[str, Any]]:
        """Calls per tool from the audit log: count, errors, p50 and p99 in milliseconds."""
        path = self.settings.state_dir_path / "audit.sqlite3"
        if not path.exists():
            return []
        if self._audit is None:
            from codegen_lab.mcp_core._audit import AuditLog  # noqa: PLC0415

            self._audit = AuditLog(path)
        return [
            {**item, "p50_ms": round(item["p50"] * 1000, 1), "p99_ms": round(item["p99"] * 1000, 1)}
            for item in self._audit.summary()
        ]

    # Rules

    def engine(self) -> RuleEngine:
        """The project's rules, from an index kept between requests (reloaded when the tree changes)."""
        if self._index is None:
            from codegen_lab.rule_engine import RuleIndex  # noqa: PLC0415

            self._index = RuleIndex()
        return self._index.engine(self.root)

    def paths(self, query: str) -> list[str]:
        """Files of the project whose path holds `query` (those starting with it first), for the path picker."""
        needle = query.strip().lower()
        found = [path for path in self.engine().repository_paths if needle in path.lower()]
        found.sort(
            key=lambda path: (
                not path.rpartition("/")[2].lower().startswith(needle),
                not path.lower().startswith(needle),
                len(path),
                path,
            )
        )
        return found[:_PATHS_SHOWN]

    def rules_view(self, path: str, assistant: str, budget: int) -> dict[str, Any]:
        """The rule files by assistant, the verdicts for `path`, the context rendered for `assistant`, the lint."""
        from codegen_lab.rule_engine import RuleEngine, lint  # noqa: PLC0415

        engine = self.engine()
        by_format: dict[str, list[dict[str, Any]]] = {}
        for rule in engine.rules:
            by_format.setdefault(rule.format, []).append(rule.summary())
        if self._lint is None or self._lint[0] is not engine:
            self._lint = (engine, lint(engine))
        view: dict[str, Any] = {
            "formats": dict(sorted(by_format.items())),
            "path": path,
            "assistant": assistant if assistant in by_format else next(iter(sorted(by_format)), ""),
            "budget": budget,
            "lint": to_json(self._lint[1]),
            "which": None,
            "rendering": None,
            "error": None,
        }
        if path:
            try:
                view["which"] = to_json(engine.explain(path))
            except (CodegenLabError, ValueError, OSError) as exc:
                view["error"] = f"path {path!r}: {_explained(exc)}"
        chosen = [rule for rule in engine.rules if rule.format == view["assistant"]]
        if chosen and view["error"] is None:
            own = RuleEngine(engine.root, chosen, repository_paths=engine.repository_paths, folders=engine.folders)
            view["rendering"] = to_json(own.render_context([path] if path else [], budget=budget))
        return view

    # Workspace

    def workspace_view(self, since: str, before: str, after: str) -> dict[str, Any]:
        """The member graph laid out, `affected --since` when asked, and the lock diff between two refs."""
        from codegen_lab.server._dashboard._layout import layout  # noqa: PLC0415
        from codegen_lab.uvtools import Graph, affected, diff_locks, load_workspace, lock_at  # noqa: PLC0415

        view: dict[str, Any] = {"since": since, "before": before, "after": after, "affected": None, "lock": None}
        try:
            workspace = load_workspace(self.root)
            graph = Graph.of(workspace)
        except (CodegenLabError, ValueError, OSError) as exc:
            view["error"] = f"workspace at {self.root}: {_explained(exc)}"
            return view
        view["error"] = None
        edges = [
            (name, target, graph.kinds(name, target)) for name in graph.names for target in graph.dependencies(name)
        ]
        versions = {member.name: member.version for member in workspace.members}
        view["graph"] = layout(graph.names, edges, versions)
        view["edges_from"] = to_json(graph.provenance)
        view["edge_kinds"] = sorted({_family(kind) for _, _, kinds in edges for kind in kinds})
        if since:
            try:
                found = affected(workspace, since, graph=graph)
            except (CodegenLabError, ValueError, OSError) as exc:
                view["error"] = f"since {since!r}: {_explained(exc)}"
            else:
                view["affected"] = {
                    "changed": list(found.changed),
                    "affected": list(found.affected),
                    "files": list(found.files[:200]),
                    "reasons": found.reasons,
                }
        if before:
            try:
                old = lock_at(workspace.root, before)
                new = lock_at(workspace.root, after or None)
            except (CodegenLabError, ValueError, OSError) as exc:
                view["error"] = f"lock diff {before!r}..{after or 'working tree'!r}: {_explained(exc)}"
            else:
                view["lock"] = to_json(diff_locks(old, new, labels=(before, after or "working tree")))
        return view

    # Tests

    def tests_view(self, module: str) -> dict[str, Any]:
        """Testgen's last reports: coverage per module with the source coloured, kept tests, mutation survivors."""
        from codegen_lab.testgen import last_reports  # noqa: PLC0415

        reports: list[dict[str, Any]] = [
            {**entry, "when": _when(float(entry.get("time", 0)))}
            for entry in last_reports(self.root, state_dir=self.settings.state_dir_path)
        ]
        coverage = next((entry for entry in reports if entry["kind"] == "coverage"), None)
        files: list[dict[str, Any]] = coverage["report"]["files"] if coverage is not None else []
        generated = [entry for entry in reports if entry["kind"] == "generate"]
        mutations = [entry for entry in reports if entry["kind"] == "mutate"]
        view: dict[str, Any] = {
            "coverage": coverage,
            "files": files,
            "generated": generated,
            "mutations": [
                {**entry, "survivors": [m for m in entry["report"]["mutants"] if not m["killed"]]}
                for entry in mutations
            ],
            "module": module,
            "source": None,
            "error": None,
        }
        worst = max(files, key=lambda item: (len(item["missing_lines"]), item["path"]), default=None)
        chosen = next((item for item in files if item["path"] == module), None if module else worst)
        if chosen is not None:
            view["module"] = chosen["path"]
            executed = set(chosen.get("executed_lines", []))
            missing = set(chosen["missing_lines"])
            view["source"] = self._source(chosen["path"], lambda number: _status(number, executed, missing))
        elif module:
            entry = next((item for item in generated if item["report"]["source"] == module), None)
            if entry is None:
                view["error"] = f"module {module!r}: no testgen report measures it"
            else:
                missing = set(entry["report"]["missing_lines"])
                view["source"] = self._generated_source(entry["report"]["source"], missing)
        return view

    def _generated_source(self, path: str, missing: set[int]) -> dict[str, Any] | None:
        """A generated report's source: its executable lines (the compiler's) are run unless missing."""
        text = self._read(path)
        if text is None:
            return None
        executable = _executable_lines(text, path)
        return self._source(path, lambda number: "miss" if number in missing else "hit" if number in executable else "")

    def _read(self, path: str) -> str | None:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root) or not target.is_file() or target.stat().st_size > _SOURCE_BYTES:
            return None
        return target.read_text(encoding="utf-8", errors="replace")

    def _source(self, path: str, status: Callable[[int], str]) -> dict[str, Any] | None:
        text = self._read(path)
        if text is None:
            return None
        lines = [
            {"number": number, "text": line, "status": status(number)}
            for number, line in enumerate(text.splitlines(), start=1)
        ]
        return {"path": path, "lines": lines}

    # Changes

    def changes_view(self) -> dict[str, Any]:
        """The journal under the root, newest first, each file with a diff from before the change to now."""
        from codegen_lab.common.files import recent_changes  # noqa: PLC0415

        state = self.settings.state_dir_path
        changes = recent_changes(self.root, state_dir=state)
        undoable = next((change.id for change in changes if change.undone is None and change.complete), None)
        return {
            "root": str(self.root),
            "undoable": undoable,
            "changes": [
                {**to_json(change), "diffs": self._diffs(change, state), "when": _when(change.time)}
                for change in changes
            ],
        }

    def _diffs(self, change: Change, state: Path) -> list[dict[str, Any]]:
        diffs: list[dict[str, Any]] = []
        seen: set[str] = set()
        for item in change.files:
            if item.path in seen:
                continue
            seen.add(item.path)
            backup = state / "backups" / change.id / item.backup if item.backup is not None else None
            before = _text(backup) if backup is not None else ""
            current = change.root / item.path
            now = _text(current) if current.is_file() else ""
            lines = list(
                difflib.unified_diff(
                    (before or "").splitlines(),
                    (now or "").splitlines(),
                    f"{item.path} (before the change)",
                    f"{item.path} (now)",
                    lineterm="",
                )
            )
            diffs.append(
                {
                    "path": item.path,
                    "action": item.action,
                    "lines": lines[:_DIFF_LINES],
                    "cut": max(0, len(lines) - _DIFF_LINES),
                    "readable": before is not None and now is not None,
                }
            )
        return diffs

    def undo(self, *, force: bool) -> dict[str, Any]:
        """Take back the newest change under the root (`codegen-lab undo`).

        Raises:
            UsageError: When there is nothing to undo or a file was edited since (without `force`).
            OperationError: When a backup cannot be read or a file cannot be restored.
        """
        from codegen_lab.common.files import undo_last  # noqa: PLC0415

        return to_json(undo_last(self.root, force=force, state_dir=self.settings.state_dir_path))


def _status(number: int, executed: set[int], missing: set[int]) -> str:
    return "miss" if number in missing else "hit" if number in executed else ""


def _family(kind: str) -> str:
    """`project`, `extra` or `group`: the family of an edge kind (`extra:NAME`, `group:NAME`)."""
    return kind.partition(":")[0]


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _executable_lines(text: str, path: str) -> set[int]:
    """The lines the compiler makes code for, in every function and class of `text`."""
    try:
        code = compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return set()
    lines: set[int] = set()
    pending = [code]
    while pending:
        current = pending.pop()
        lines.update(line for _, _, line in current.co_lines() if line is not None)
        pending.extend(const for const in current.co_consts if hasattr(const, "co_lines"))
    return lines


@functools.cache
def _isolation(allow_unsandboxed: bool) -> str:
    """The isolation testgen's sandbox gets here (the first answer is kept: it runs a process)."""
    from codegen_lab.testgen._sandbox import isolation_for  # noqa: PLC0415

    try:
        return isolation_for("auto", allow_unsandboxed)
    except CodegenLabError as exc:
        return f"none allowed: {str(exc).splitlines()[0]}"
