"""One sanitizer for hidden Unicode: what lint flags and what is stripped before a text reaches a model.

Hidden characters can smuggle instructions past a reviewer: Unicode tag characters (U+E0000-E007F) spell ASCII
invisibly, bidirectional controls reorder what is shown, zero-width and filler characters hide text, and
variation selectors (U+FE00-FE0F, U+E0100-E01EF) can carry a byte each after any character. The joiners and
selectors that valid emoji sequences use are kept: a ZWJ between pictographs (technologist = person, ZWJ,
laptop), U+FE0F after an emoji or a keycap base (red heart, keycap one), and the tag sequences of the three
subdivision flags (England, Scotland, Wales).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import cast

__all__ = ["HiddenCharacter", "sanitize_data", "sanitize_text"]

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u034f\u17b4\u17b5")
_FILLERS = frozenset("\u3164\uffa0\u115f\u1160\u00ad\ufff9\ufffa\ufffb")
_ZWJ = "\u200d"
_ZWNJ = "\u200c"
_EMOJI_VS = "\ufe0f"
_TEXT_VS = "\ufe0e"
_KEYCAP = "\u20e3"
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"
_FLAG_TAGS = frozenset({"gbeng", "gbsct", "gbwls"})
# Extended_Pictographic, approximately: the symbol blocks where emoji live.
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x21AA),
    (0x231A, 0x23FF),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x1F000, 0x1FAFF),
)


_CANDIDATE = re.compile(
    "[" + "".join(sorted(_BIDI | _ZERO_WIDTH | _FILLERS)) + "\ufe00-\ufe0f\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


@dataclass(frozen=True, slots=True)
class HiddenCharacter:
    """A hidden character found (and taken out) by `sanitize_text`."""

    char: str
    line: int
    """1-based line of the text it was on."""
    column: int
    """1-based column."""
    kind: str
    """`tag`, `bidi`, `zero-width`, `variation-selector` or `filler`."""

    @property
    def label(self) -> str:
        """`U+202E RIGHT-TO-LEFT OVERRIDE`."""
        code = ord(self.char)
        fallback = (
            "TAG" if 0xE0000 <= code <= 0xE007F else "VARIATION SELECTOR" if self.kind == "variation-selector" else "?"
        )
        return f"U+{code:04X} {unicodedata.name(self.char, fallback)}"


def _kind(char: str) -> str | None:
    code = ord(char)
    if 0xE0000 <= code <= 0xE007F:
        return "tag"
    if char in _BIDI:
        return "bidi"
    if char in _ZERO_WIDTH:
        return "zero-width"
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return "variation-selector"
    if char in _FILLERS:
        return "filler"
    return None


def _pictographic(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _PICTOGRAPHIC)


def _emoji_base(char: str) -> bool:
    """A character an emoji presentation selector may follow: a pictograph, or a keycap base."""
    return _pictographic(char) or char in "0123456789#*"


def _joined_letters(before: str, after: str) -> bool:
    """ZWJ/ZWNJ between two letters of a script that needs them (Persian, Indic), not Latin."""
    return all(char.isalpha() and ord(char) >= 0x0590 for char in (before, after))


def _allowed(text: str, index: int) -> int:
    """How many characters from `index` (a hidden one) belong to a valid emoji or script sequence (0: none)."""
    char = text[index]
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if char in (_EMOJI_VS, _TEXT_VS):
        return 1 if before and _emoji_base(before) else 0
    if char == _ZWJ:
        # 🧑‍💻: the pictograph before may carry a selector or a skin tone (both in the pictographic blocks).
        base = text[index - 2] if before == _EMOJI_VS and index >= 2 else before
        if base and _pictographic(base) and after and _pictographic(after):
            return 1
        return 1 if before and after and _joined_letters(before, after) else 0
    if char == _ZWNJ:
        return 1 if before and after and _joined_letters(before, after) else 0
    if 0xE0020 <= ord(char) <= 0xE007E and before == _BLACK_FLAG:
        end = text.find(_CANCEL_TAG, index)
        if end != -1 and "".join(chr(ord(tag) - 0xE0000) for tag in text[index:end]) in _FLAG_TAGS:
            return end - index + 1
    return 0


def sanitize_text(text: str) -> tuple[str, list[HiddenCharacter]]:
    r"""`text` without its hidden characters, and what was taken out, in order.

    Stripped: tag characters, bidirectional controls, zero-width and invisible characters (U+200B-200D,
    U+2060-2064, U+FEFF, U+180E, U+034F, U+17B4-17B5), variation selectors outside valid emoji sequences, the
    soft hyphen U+00AD, the Hangul fillers U+3164, U+FFA0, U+115F, U+1160 and the interlinear annotation
    characters. Kept: the joiners, selectors and tags of valid emoji sequences, and ZWJ/ZWNJ between the letters
    of scripts that write with them. A byte-order mark at the very start is kept.

    Example:
        ```python
        clean, found = sanitize_text("Be kind.\u202e")
        assert clean == "Be kind." and found[0].kind == "bidi"
        ```
    """
    if text.isascii():
        return text, []
    kept: list[str] = []
    found: list[HiddenCharacter] = []
    done = 0  # text[:done] is copied (or dropped) already
    skip = 0  # candidates before this index belong to an allowed sequence
    line, line_start = 1, 0  # the line number of text[line_start], a line's first character
    for match in _CANDIDATE.finditer(text):
        index = match.start()
        if index < skip or (index == 0 and text[0] == "\ufeff"):
            continue
        span = _allowed(text, index)
        if span:
            skip = index + span
            continue
        line += text.count("\n", line_start, index)
        line_start = text.rfind("\n", 0, index) + 1
        kind = _kind(text[index]) or "zero-width"
        found.append(HiddenCharacter(text[index], line, index - line_start + 1, kind))
        kept.append(text[done:index])
        done = index + 1
    if not found:
        return text, []
    kept.append(text[done:])
    return "".join(kept), found


def clean(text: str) -> str:
    """`text` without its hidden characters (`sanitize_text`, the findings dropped)."""
    return sanitize_text(text)[0]


def sanitize_data(value: object) -> object:
    """A JSON-like value (dicts, lists, strings) with every string, key included, passed through `clean`."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        mapping = cast("dict[object, object]", value)
        return {sanitize_data(key): sanitize_data(item) for key, item in mapping.items()}
    if isinstance(value, (list, tuple)):
        items = cast("list[object]", value)
        return [sanitize_data(item) for item in items]
    return value
