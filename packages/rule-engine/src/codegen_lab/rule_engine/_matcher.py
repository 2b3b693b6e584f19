"""All rules' patterns compiled into one matcher.

Each pattern is brace-expanded and translated to a regular expression once (with wcmatch, the glob library);
the expansions are bucketed by the file extension they require, so a path is tested only against the patterns
that could match it. Semantics, as `.gitignore` has them: a pattern without `/` matches a file name at any depth
of its scope; otherwise it is anchored at the scope (the root, or the folder of a nested rule set); `**` crosses
folders; `{a,b}` alternates; a leading `!` excludes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["CompiledRules", "PatternMatch", "glob_flags", "scoped_pattern"]

_WILDCARDS = re.compile(r"[*?\]]")


def glob_flags() -> int:
    """The wcmatch flags of the matcher's semantics (globstar, braces, dot files), for `wcmatch.glob.globmatch`."""
    from wcmatch import glob  # noqa: PLC0415

    return glob.GLOBSTAR | glob.BRACE | glob.DOTGLOB


def scoped_pattern(pattern: str, scope: str, *, anchored: bool = False) -> str:
    """The pattern relative to the root: `*.py` in scope `api` is `api/**/*.py`; `src/*.py` is `api/src/*.py`.

    With `anchored` (Cline's picomatch semantics), a pattern without `/` is not floated: `*.py` is `api/*.py`.
    """
    placed = pattern if anchored or "/" in pattern.rstrip("/") else f"**/{pattern}"
    if placed.endswith("/"):
        placed += "**"
    return f"{scope}/{placed}" if scope else placed


@dataclass(frozen=True, slots=True)
class PatternMatch:
    """A rule's pattern that matched a path."""

    rule: int
    """Index of the rule in the list the matcher was built from."""
    pattern: str
    """The pattern as the rule wrote it (normalised, `!` included for an exclusion)."""
    negated: bool


@dataclass(frozen=True, slots=True)
class _Compiled:
    regex: re.Pattern[str]
    positive: tuple[tuple[int, str], ...]
    """(rule index, the rule's pattern) for every rule that uses this expansion to include paths."""
    negative: tuple[tuple[int, str], ...]
    """The same for the rules that use it to exclude paths (`!pattern`)."""


_Key = tuple[str | None, str | None]


class CompiledRules:
    """The patterns of many rules, compiled once; `match(path)` gives every rule pattern that matches.

    Expansions are bucketed by the literal first folder they require (`src` for `src/**/*.py`) and by the
    extension (`.py`), so a path is tested against few of them.

    Args:
        rules: For each rule, its scope folder (`""` for the root) and its patterns, and optionally whether the
            patterns are anchored at the scope (see `scoped_pattern`).
    """

    def __init__(self, rules: Sequence[tuple[str, Sequence[str]] | tuple[str, Sequence[str], bool]]) -> None:
        import bracex  # noqa: PLC0415
        from wcmatch import glob  # noqa: PLC0415

        flags = glob.GLOBSTAR | glob.DOTGLOB
        owners: dict[str, tuple[list[tuple[int, str]], list[tuple[int, str]]]] = {}
        for index, (scope, patterns, *rest) in enumerate(rules):
            anchored = bool(rest and rest[0])
            for written in patterns:
                negated = written.startswith("!")
                body = written[1:] if negated else written
                if not body:
                    continue
                scoped = scoped_pattern(body, scope, anchored=anchored)
                try:
                    expansions = bracex.expand(scoped, limit=1000)
                except (ValueError, RuntimeError):  # an unbalanced or runaway brace: match it literally
                    expansions = [scoped]
                for expansion in dict.fromkeys(expansions):
                    users = owners.setdefault(expansion, ([], []))
                    users[1 if negated else 0].append((index, written))
        self._buckets: dict[_Key, list[_Compiled]] = {}
        for expansion, (positive, negative) in owners.items():
            (regex,), _ = glob.translate(expansion, flags=flags)
            compiled = _Compiled(re.compile(regex), tuple(positive), tuple(negative))
            self._buckets.setdefault((_required_folder(expansion), _required_suffix(expansion)), []).append(compiled)
        self.size = len(owners)
        """How many distinct patterns (after brace expansion) were compiled."""

    def _candidates(self, path: str) -> list[_Compiled]:
        slash = path.find("/")
        folder = path[:slash] if slash > 0 else None
        base = path[path.rfind("/") + 1 :]
        dot = base.rfind(".")
        suffix = base[dot:] if dot >= 0 else None
        buckets = self._buckets
        found: list[_Compiled] = []
        for key in dict.fromkeys(((None, None), (None, suffix), (folder, None), (folder, suffix))):
            bucket = buckets.get(key)
            if bucket:
                found.extend(bucket)
        return found

    def match(self, path: str) -> list[PatternMatch]:
        """Every rule pattern that matches `path` (relative to the root, `/` separators)."""
        found: list[PatternMatch] = []
        for compiled in self._candidates(path):
            if compiled.regex.match(path) is not None:
                found.extend(PatternMatch(rule, pattern, False) for rule, pattern in compiled.positive)
                found.extend(PatternMatch(rule, pattern, True) for rule, pattern in compiled.negative)
        return found

    def live(self, paths: Iterable[str]) -> set[tuple[int, str]]:
        """The (rule index, pattern) pairs that match at least one of `paths` (negated ones included).

        Each compiled pattern is tested only until it first matches, and the walk stops once all have: much less
        work than `match` on every path when most patterns are live.
        """
        pending = {id(compiled) for bucket in self._buckets.values() for compiled in bucket}
        found: set[tuple[int, str]] = set()
        for path in paths:
            if not pending:
                break
            for compiled in self._candidates(path):
                if id(compiled) in pending and compiled.regex.match(path) is not None:
                    pending.discard(id(compiled))
                    found.update(compiled.positive)
                    found.update(compiled.negative)
        return found

    def attached(self, path: str) -> dict[int, str]:
        """The rules whose patterns attach them to `path`: a positive pattern matched and no negated one did."""
        positive: dict[int, str] = {}
        excluded: set[int] = set()
        for compiled in self._candidates(path):
            if compiled.regex.match(path) is not None:
                for rule, pattern in compiled.positive:
                    positive.setdefault(rule, pattern)
                for rule, _ in compiled.negative:
                    excluded.add(rule)
        if excluded:
            return {rule: pattern for rule, pattern in positive.items() if rule not in excluded}
        return positive


def _required_folder(pattern: str) -> str | None:
    """The literal first folder a matching path must start with (`src` for `src/**/*.py`), if there is one."""
    if "/" not in pattern:
        return None
    first = pattern.split("/", 1)[0]
    return None if not first or any(char in first for char in "*?[]{}!\\") else first


def _required_suffix(pattern: str) -> str | None:
    """The extension a matching path must end with (`.py` for `**/*.py`), or None when any path may match."""
    last = pattern.rsplit("/", 1)[-1]
    wildcards = list(_WILDCARDS.finditer(last))
    tail = last[wildcards[-1].end() :] if wildcards else last
    if "[" in tail or "\\" in tail:
        return None
    dot = tail.rfind(".")
    return tail[dot:] if dot >= 0 and dot + 1 < len(tail) else None
