"""Reading one rule file into a `Rule`: strict YAML first, then the tolerant reader; never an exception."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from codegen_lab.rule_engine._document import Document, parse_document, read_value
from codegen_lab.rule_engine._formats import RuleFormat
from codegen_lab.rule_engine._model import Diagnostic, ParseMode, Reference, Rule, Severity, derive_type

__all__ = ["Frontmatter", "read_frontmatter", "read_rule", "rule_from_text"]

_FENCE = re.compile(r"^\s*(```|~~~)")
_AT_FILE = re.compile(r"(?:^|[\s(\[])@((?:\.{1,2}/)?[\w.-]+(?:/[\w.-]+)*)(?![\w(/.-])")
_FILE_SUFFIXES = frozenset(
    (
        "md mdc txt py pyi ts tsx js jsx mjs cjs json jsonc yaml yml toml ini cfg env sh go rs java kt rb php cs c h"
        " cc cpp hpp swift sql html css scss vue svelte astro graphql proto lock"
    ).split()
)
_MDC_LINK = re.compile(r"\]\(mdc:([^)\s]+)\)")


@dataclass(frozen=True, slots=True)
class Frontmatter:
    """A document's frontmatter, parsed."""

    document: Document
    mode: ParseMode
    data: dict[str, Any]
    yaml_error: str | None = None
    yaml_error_line: int | None = None


def read_frontmatter(document: Document) -> Frontmatter:
    """Parse the frontmatter with strict YAML; when that fails, read it field by field as Cursor does."""
    text = document.frontmatter_text
    if text is None:
        return Frontmatter(document, ParseMode.NONE, {})
    import yaml  # noqa: PLC0415 (only the readers need YAML; the server starts without it)

    try:
        loaded: object = yaml.load(text, Loader=_safe_loader())  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the opening ---
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return Frontmatter(document, ParseMode.TOLERANT, _tolerant(document), str(problem), line)
    if loaded is None:
        return Frontmatter(document, ParseMode.YAML, {})
    if not isinstance(loaded, dict):
        kind = type(loaded).__name__
        return Frontmatter(document, ParseMode.TOLERANT, _tolerant(document), f"the frontmatter is a {kind}", 2)
    mapping = cast("dict[object, Any]", loaded)
    data: dict[str, Any] = {str(key): value for key, value in mapping.items()}
    return Frontmatter(document, ParseMode.YAML, data)


def _tolerant(document: Document) -> dict[str, Any]:
    return {key: read_value(span).value for key, span in document.fields.items()}


@cache
def _safe_loader() -> Any:
    import yaml  # noqa: PLC0415

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it

    class Loader(base):
        """SafeLoader without timestamps: `date: 2024-01-01` stays the text the author wrote."""

    Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def read_rule(path: Path, root: Path, fmt: RuleFormat) -> Rule:
    """Read the rule file at `path` (inside `root`) in the format `fmt`. Never raises for the file's content."""
    relpath = path.relative_to(root).as_posix()
    diagnostics: list[Diagnostic] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        diagnostics.append(Diagnostic("RE024", Severity.ERROR, f"cannot be read: {exc.strerror}", relpath))
        raw = b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace")
        diagnostics.append(
            Diagnostic(
                "RE024", Severity.WARNING, f"not valid UTF-8 at byte {exc.start}; read with replacements", relpath
            )
        )
    return rule_from_text(text, path=path, relpath=relpath, fmt=fmt, diagnostics=diagnostics)


def rule_from_text(
    text: str, *, path: Path, relpath: str, fmt: RuleFormat, diagnostics: list[Diagnostic] | None = None
) -> Rule:
    """Make a `Rule` of `text`, the content of the file at `relpath` in the format `fmt`."""
    found = list(diagnostics or [])
    document = parse_document(text)
    frontmatter = read_frontmatter(document)
    if document.unclosed:
        found.append(
            Diagnostic("RE001", Severity.ERROR, "the frontmatter opened on line 1 is never closed with ---", relpath, 1)
        )
    elif frontmatter.mode is ParseMode.TOLERANT:
        found.append(
            Diagnostic(
                "RE003",
                Severity.INFO,
                f"the frontmatter is not valid YAML ({frontmatter.yaml_error}); read as Cursor reads it",
                relpath,
                frontmatter.yaml_error_line,
            )
        )
    if frontmatter.mode is ParseMode.TOLERANT and getattr(fmt, "yaml_only", False):
        # Cline fails open: a frontmatter its YAML parser rejects is no condition, the rule is always on.
        meaning = fmt.interpret({}, {})
    else:
        meaning = fmt.interpret(frontmatter.data, document.fields)
    rule_type = meaning.type or derive_type(
        always_apply=meaning.always_apply, globs=meaning.globs.patterns, description=meaning.description
    )
    unknown = {key: value for key, value in frontmatter.data.items() if key not in fmt.known_keys}
    return Rule(
        path=path,
        relpath=relpath,
        format=fmt.name,
        name=fmt.rule_name(relpath),
        description=meaning.description,
        globs=meaning.globs.patterns,
        glob_shape=meaning.globs.shape,
        always_apply=meaning.always_apply,
        type=rule_type,
        body=document.body,
        body_line=document.body_start + 1,
        parse_mode=frontmatter.mode,
        scope=fmt.scope(relpath),
        frontmatter=frontmatter.data,
        unknown_keys=unknown,
        references=tuple(find_references(document)),
        diagnostics=found,
        anchored=bool(getattr(fmt, "anchored", False)),
        dead_globs=tuple(getattr(meaning, "dead", ())),
    )


def find_references(document: Document) -> list[Reference]:
    """`@path/to/file.ext` mentions and `[text](mdc:path)` links in the body, outside fenced code."""
    references: list[Reference] = []
    fenced = False
    for index in range(document.body_start, len(document.lines)):
        line = document.lines[index]
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        without_code = re.sub(r"`[^`]*`", "", line)
        references.extend(
            Reference("file", target, index + 1)
            for target in (match.group(1) for match in _AT_FILE.finditer(without_code))
            if _looks_like_a_file(target)
        )
        references.extend(Reference("mdc", match.group(1), index + 1) for match in _MDC_LINK.finditer(line))
    return references


def _looks_like_a_file(target: str) -> bool:
    """`@src/app.py` and `@README.md` are files; `@pytest.fixture`, `@Component` and `@types/node` are not."""
    base = target.rsplit("/", 1)[-1]
    suffix = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    return suffix in _FILE_SUFFIXES or (target.startswith(("./", "../")) and bool(base))
