"""PEP 508 requirements read quickly: a bare name by tests of its characters, the rest as below.

The common forms are read by one regular expression, the others by `packaging`.
`packaging.requirements` is imported only for a requirement the expression does not take: its import (the
tokenizer's and the specifiers' regular expressions) costs more than reading a whole workspace of plain ones. The
expression itself is compiled on the first requirement that is more than a name (members often name each other
bare).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

__all__ = ["InvalidRequirement", "ParsedRequirement", "parse_requirement"]

_RELEASE = r"[0-9]+(?:\.[0-9]+)*"
_SUFFIXES = r"(?:(?:a|b|rc)[0-9]*)?(?:\.post[0-9]*)?(?:\.dev[0-9]*)?"  # a missing number is 0 (PEP 440)
_CLAUSE = (
    rf"(?:(?:==|!=)\s*{_RELEASE}(?:\.\*|{_SUFFIXES})"  # wildcards only with == and !=, on a plain release
    rf"|~=\s*[0-9]+(?:\.[0-9]+)+{_SUFFIXES}"  # ~= needs two release components
    rf"|(?:<=|>=|<|>)\s*{_RELEASE}{_SUFFIXES})"
)
_URL = r"(?!file:)[A-Za-z][A-Za-z0-9+.-]*://[^\s/;@]+[^\s;]*"  # `name @ URL`; packaging judges `file:` URLs
_SIMPLE = (
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[\s*[A-Za-z0-9][A-Za-z0-9._-]*(?:\s*,\s*[A-Za-z0-9][A-Za-z0-9._-]*)*\s*\])?\s*"
    rf"(?:(?P<specifier>{_CLAUSE}(?:\s*,\s*{_CLAUSE})*)|@\s*{_URL}(?:\s|$))?\s*"
    r"(?:;\s*(?P<variable>python_version|python_full_version|sys_platform|platform_system|os_name|"
    r"platform_machine|implementation_name|platform_python_implementation)\s*"
    r"(?P<operator>==|!=|<=|>=|<|>)\s*(?:'(?P<single>[A-Za-z0-9._-]*)'|\"(?P<double>[A-Za-z0-9._-]*)\")\s*)?$"
)
_NAME_INSIDE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_SPLIT = re.compile(r"\s*,\s*")
_SPACES = re.compile(r"\s+")


@functools.cache
def _simple() -> re.Pattern[str]:
    return re.compile(_SIMPLE)


class InvalidRequirement(ValueError):
    """A requirement that is not valid PEP 508 (packaging's message, raised without importing it up front)."""


class ParsedRequirement(NamedTuple):
    """What uvtools needs of a requirement: its name as written, its specifier and its marker, normalized."""

    name: str
    specifier: str
    marker: str | None


@functools.lru_cache(maxsize=8192)
def parse_requirement(text: str) -> ParsedRequirement:
    """Parse a PEP 508 requirement; the result equals `packaging`'s (`str(specifier)`, `str(marker)`).

    Raises:
        InvalidRequirement: When `text` is not a valid requirement.
    """
    name = text.strip()
    if name[:1].isalnum() and name[-1:].isalnum() and _NAME_INSIDE.issuperset(name):
        return ParsedRequirement(name, "", None)
    simple = _simple().match(text)
    if simple is not None:
        specifier = simple["specifier"]
        clauses = sorted({_SPACES.sub("", clause) for clause in _SPLIT.split(specifier)}) if specifier else []
        operators = [clause.rstrip("0123456789.*abcrpostdev") for clause in clauses]
        if len(set(operators)) < len(operators):  # `==1` and `==1.0` are one specifier to packaging: let it decide
            return _by_packaging(text)
        marker = None
        if simple["variable"] is not None:
            value = simple["single"] if simple["single"] is not None else simple["double"]
            marker = f'{simple["variable"]} {simple["operator"]} "{value}"'
        return ParsedRequirement(simple["name"], ",".join(clauses), marker)
    return _by_packaging(text)


def _by_packaging(text: str) -> ParsedRequirement:
    from packaging.requirements import InvalidRequirement as Invalid, Requirement  # noqa: PLC0415

    try:
        requirement = Requirement(text)
    except Invalid as exc:
        raise InvalidRequirement(str(exc)) from exc
    marker = str(requirement.marker) if requirement.marker else None
    return ParsedRequirement(requirement.name, str(requirement.specifier), marker)
