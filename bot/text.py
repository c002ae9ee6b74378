"""What Baton keeps of text a person typed: their words, without the invisible characters that
could make it read differently from what it is."""

from __future__ import annotations

import re
import unicodedata

#: Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), and the
#: marks that steer them: text after them can display in another order than it is stored.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(f"[{_BIDI}\u200b\u2060\ufeff]")


def clean(value: str) -> str:
    """`value` without bidirectional controls, zero-width characters and control characters
    (line breaks and tabs kept as spaces in a one-line value, kept as they are otherwise)."""
    value = _INVISIBLE.sub("", value)
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) != "Cc" else " "
                   for ch in value)
