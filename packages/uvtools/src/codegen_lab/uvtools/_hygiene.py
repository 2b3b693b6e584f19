"""Dependency hygiene: each member's imports against what it declares, and consistency across members."""

from __future__ import annotations

import ast
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from codegen_lab.uvtools._lock import Lock
from codegen_lab.uvtools._lockops import member_closure
from codegen_lab.uvtools._model import Member, Workspace, normalize_name
from codegen_lab.uvtools._process import run, uv_binary
from codegen_lab.uvtools.errors import CommandError, WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import DepsResult, Finding as FindingResult, LintResult

__all__ = ["DepsReport", "Finding", "check_deps", "imports_by_need", "imports_of", "lint", "lint_result", "module_map"]

logger = logging.getLogger(__name__)

_SKIPPED_FOLDERS = frozenset({"tests", "test", ".venv", "venv", "node_modules", "build", "dist", "__pycache__"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: `kind` names it, `member` and `subject` say where and what, `message` says it in words."""

    kind: str
    member: str | None
    subject: str
    message: str

    def to_result(self) -> FindingResult:
        """The finding as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import Finding as FindingResult  # noqa: PLC0415

        return FindingResult(kind=self.kind, member=self.member, subject=self.subject, message=self.message)


@dataclass(slots=True)
class DepsReport:
    """What `check_deps` found, and how it mapped modules to distributions."""

    findings: list[Finding] = field(default_factory=list[Finding])
    module_source: str = ""
    checked: list[str] = field(default_factory=list[str])

    def to_result(self) -> DepsResult:
        """The report as the result the CLI prints as JSON and the MCP tool returns."""
        from codegen_lab.uvtools._tool_results import DepsResult  # noqa: PLC0415

        findings = [finding.to_result() for finding in self.findings]
        return DepsResult(module_source=self.module_source, checked=self.checked, findings=findings)


def _source_files(member: Member, workspace: Workspace) -> Iterator[Path]:
    """The member's Python files, without tests, build output or nested members."""
    nested = {other.path for other in workspace.members if other.path != member.path}
    stack = [member.path]
    while stack:
        folder = stack.pop()
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                if entry.name not in _SKIPPED_FOLDERS and not entry.name.startswith(".") and entry not in nested:
                    stack.append(entry)
            elif entry.suffix == ".py" and not entry.name.startswith("test_") and entry.name != "conftest.py":
                yield entry


def imports_of(path: Path) -> set[str]:
    """The absolute imports of a Python file, as dotted module names (relative imports are the member's own)."""
    required, optional = imports_by_need(path)
    return required | optional


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    if caught is None:
        return True
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(
        (isinstance(name, ast.Name) and name.id in _IMPORT_ERRORS)
        or (isinstance(name, ast.Attribute) and name.attr in _IMPORT_ERRORS)
        for name in names
    )


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def imports_by_need(path: Path) -> tuple[set[str], set[str]]:
    """A file's absolute imports: `(required, optional)`, optional ones guarded by `try: ... except ImportError`."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError) as exc:
        logger.warning("skipping %s: %s", path, exc)
        return set(), set()
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try | ast.TryStar) and any(_catches_import_error(h) for h in node.handlers):
            guarded.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    required: set[str] = set()
    optional: set[str] = set()
    for node in ast.walk(tree):
        (optional if id(node) in guarded else required).update(_imported(node))
    return required - optional, optional


_PROBE = (
    "import json, importlib.metadata as m\n"
    "print(json.dumps({k: sorted(set(v)) for k, v in m.packages_distributions().items()}))\n"
)


def _venv_python(workspace: Workspace) -> Path | None:
    for candidate in (Path(".venv", "bin", "python"), Path(".venv", "Scripts", "python.exe")):
        if (workspace.root / candidate).is_file():
            return workspace.root / candidate
    return None


def module_map(workspace: Workspace, python: str | Path | None = None) -> tuple[dict[str, set[str]], str]:
    """Top-level (or dotted) module names mapped to the distributions that provide them, and where that came from.

    From the interpreter `python` when given; else uv's module map (`uv workspace metadata`, when this uv offers
    one); else the distributions installed in the workspace's `.venv`.

    Raises:
        WorkspaceError: When there is no `python`, no module map from uv and no `.venv`: the running
            interpreter's distributions say nothing about the workspace's, so it refuses and says how to make one.
        CommandError: When the interpreter cannot be asked.
    """
    if python is not None:
        return _probe(Path(python)), f"distributions of {python}"
    command = [uv_binary(), "workspace", "metadata", "--frozen", "--offline", "--preview-features"]
    command += ["workspace-metadata", "--directory", str(workspace.root)]
    try:
        document: dict[str, Any] = json.loads(run(command, cwd=workspace.root).stdout)
        modules: dict[str, set[str]] = {}
        for module, entry in document["modules"].items():
            owners = {normalize_name(str(owner["package_id"]).split("==")[0]) for owner in entry["owners"]}
            modules[str(module)] = owners
        if modules:
            return modules, "uv workspace metadata"
    except (CommandError, ValueError, KeyError, TypeError) as exc:
        logger.debug("no module map from uv: %s", exc)
    venv = _venv_python(workspace)
    if venv is None:
        raise WorkspaceError(
            f"no virtual environment at {workspace.root / '.venv'}: imports cannot be matched to distributions",
            hint="Create it with `uv sync --all-packages`, or pass the interpreter to use (--python PATH)",
        )
    return _probe(venv), f"distributions in {venv.parent.parent}"


def _probe(python: Path) -> dict[str, set[str]]:
    completed = run([str(python), "-c", _PROBE], cwd=python.parent)
    try:
        mapping: dict[str, list[str]] = json.loads(completed.stdout)
    except ValueError:
        raise CommandError([str(python), "-c", "..."], 0, "did not print a module map") from None
    return {module: {normalize_name(d) for d in owners} for module, owners in mapping.items()}


def _declared(member: Member, lock: Lock | None) -> tuple[set[str], set[str], bool]:
    """What `member` declares: `(all names but groups, [project] dependencies names, known)`.

    A member whose dependencies are dynamic is read from its entry in uv.lock (`requires-dist`); without one
    they are not known.
    """
    if not member.dynamic_dependencies:
        names = {dep.name for dep in member.dependencies if dep.kind != "group"}
        return names, {dep.name for dep in member.dependencies if dep.kind == "project"}, True
    package = next((p for p in (lock.by_name(member.name) if lock else []) if p.is_local), None)
    if package is None:
        return set(), set(), False
    names = {normalize_name(item.name) for item in package.requires_dist}
    project = {normalize_name(item.name) for item in package.requires_dist if "extra" not in (item.marker or "")}
    return names, project, True


def _module_name(path: Path, member: Member) -> str | None:
    base = member.path / "src" if (member.path / "src").is_dir() else member.path
    try:
        parts = list(path.relative_to(base).with_suffix("").parts)
    except ValueError:
        return None
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or None


def _own_modules(workspace: Workspace) -> dict[str, set[str]]:
    """Every module of every member (dotted, with its packages), mapped to the members that hold it."""
    found: dict[str, set[str]] = {}
    for member in workspace.members:
        for path in _source_files(member, workspace):
            name = _module_name(path, member)
            if name is None:
                continue
            parts = name.split(".")
            for length in range(1, len(parts) + 1):
                found.setdefault(".".join(parts[:length]), set()).add(member.name)
    return found


def _owners(module: str, modules: Mapping[str, set[str]]) -> set[str]:
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        found = modules.get(".".join(parts[:length]))
        if found:
            return found
    return {normalize_name(parts[0])}


def check_deps(
    workspace: Workspace,
    lock: Lock | None = None,
    *,
    members: list[str] | None = None,
    python: str | Path | None = None,
) -> DepsReport:
    """Each member's imports against its declared dependencies.

    Findings: `missing` (imported, not declared, not even reachable), `transitive` (imported, not declared, but
    installed through another dependency), `unused` (declared in `[project] dependencies`, never imported),
    `unknown` (a member whose dependencies are dynamic and not in uv.lock: not checked). Tests and nested members
    are not scanned; extras count as declared; an import guarded by `try: ... except ImportError` is optional,
    never missing. Modules are matched to distributions in the workspace's `.venv` (or `python`).

    Raises:
        WorkspaceError: When there is no `.venv` and no `python` (the hint says how to make one).
    """
    modules, source = module_map(workspace, python)
    modules = {**modules, **_own_modules(workspace)}
    report = DepsReport(module_source=source)
    stdlib = set(sys.stdlib_module_names)
    for member in workspace.members if members is None else [workspace.member(name) for name in members]:
        if not member.packaged:
            continue
        declared, project, known = _declared(member, lock)
        if not known:
            message = f"{member.name}'s dependencies are dynamic and uv.lock does not record them: run `uv lock`"
            report.findings.append(Finding(kind="unknown", member=member.name, subject=member.name, message=message))
            continue
        report.checked.append(member.name)
        declared |= {member.name}
        used: set[str] = set()
        reported: set[str] = set()
        closure = set(member_closure(lock, member.name)) if lock is not None else set[str]()
        for path in _source_files(member, workspace):
            required, optional = imports_by_need(path)
            for module in sorted(required | optional):
                if module.split(".")[0] in stdlib or module == "__future__":
                    continue
                owners = _owners(module, modules)
                used |= owners
                if module in optional or owners & declared or not owners.isdisjoint(reported):
                    continue
                reported |= owners
                relative = path.relative_to(workspace.root).as_posix()
                owner = sorted(owners)[0]
                if owners & closure:
                    report.findings.append(
                        Finding(
                            kind="transitive",
                            member=member.name,
                            subject=owner,
                            message=f"{relative} imports {module}, which {owner} provides "
                            "only through another dependency: declare it",
                        )
                    )
                else:
                    report.findings.append(
                        Finding(
                            kind="missing",
                            member=member.name,
                            subject=owner,
                            message=f"{relative} imports {module}, but {owner} is not declared",
                        )
                    )
        report.findings.extend(
            Finding(kind="unused", member=member.name, subject=name, message=f"{name} is declared but never imported")
            for name in sorted(project - used - {member.name})
        )
    return report


def _normalized_specifier(text: str) -> str:
    try:
        return str(SpecifierSet(text))
    except InvalidSpecifier:
        return text


def lint(workspace: Workspace) -> list[Finding]:
    """Consistency across members.

    Findings: `inconsistent-specifier` (one external dependency required differently by members),
    `requires-python` (a member's `requires-python` differs from the root's, or members disagree),
    `internal-excludes-version` (a member requires another at a version range that excludes its current version),
    `missing-workspace-source` (an internal dependency without `{ workspace = true }`).
    """
    return [*_lint_specifiers(workspace), *_lint_python(workspace), *_lint_internal(workspace)]


def _lint_specifiers(workspace: Workspace) -> list[Finding]:
    findings: list[Finding] = []
    specifiers: dict[str, dict[str, list[str]]] = {}
    for member in workspace.members:
        for dep in member.external_dependencies:
            if dep.kind == "project":
                specifiers.setdefault(dep.name, {}).setdefault(
                    _normalized_specifier(dep.specifier) or "(any)", []
                ).append(member.name)
    for name, variants in sorted(specifiers.items()):
        if len(variants) > 1:
            detail = "; ".join(
                f"{spec} in {', '.join(sorted(set(members)))}" for spec, members in sorted(variants.items())
            )
            findings.append(
                Finding(
                    kind="inconsistent-specifier",
                    member=None,
                    subject=name,
                    message=f"{name} is required differently: {detail}",
                )
            )
    return findings


def _lint_python(workspace: Workspace) -> list[Finding]:
    findings: list[Finding] = []
    pythons = {member.name: member.requires_python for member in workspace.members}
    expected = workspace.requires_python
    if expected is None:
        values = [value for value in pythons.values() if value]
        expected = max(set(values), key=values.count) if values else None
    for name, value in sorted(pythons.items()):
        if (
            value is not None
            and expected is not None
            and _normalized_specifier(value) != _normalized_specifier(expected)
        ):
            findings.append(
                Finding(
                    kind="requires-python",
                    member=name,
                    subject=value,
                    message=f"{name} requires-python {value!r}, the workspace {expected!r}",
                )
            )
    return findings


def _lint_internal(workspace: Workspace) -> list[Finding]:
    findings: list[Finding] = []
    for member in workspace.members:
        for dep in member.dependencies:
            if not dep.internal or dep.name == member.name:
                continue
            target = workspace.member(dep.name)
            if (
                target.version is not None
                and dep.specifier
                and not SpecifierSet(dep.specifier).contains(target.version, prereleases=True)
            ):
                findings.append(
                    Finding(
                        kind="internal-excludes-version",
                        member=member.name,
                        subject=dep.name,
                        message=f"{member.name} requires {dep.requirement!r}, but {dep.name} is at {target.version}",
                    )
                )
            if dep.source != "workspace":
                findings.append(
                    Finding(
                        kind="missing-workspace-source",
                        member=member.name,
                        subject=dep.name,
                        message=f"{member.name} depends on the member {dep.name} without "
                        f"`{dep.name} = {{ workspace = true }}` in [tool.uv.sources]",
                    )
                )
    return findings


def lint_result(findings: list[Finding]) -> LintResult:
    """`lint`'s findings as the result the CLI prints as JSON and the MCP tool returns."""
    from codegen_lab.uvtools._tool_results import LintResult  # noqa: PLC0415

    return LintResult(findings=[finding.to_result() for finding in findings])
