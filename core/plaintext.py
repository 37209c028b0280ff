"""Text typed by people (names, addresses, titles, codes): the characters it must never hold.

Bidirectional embeddings, overrides and isolates reorder what a reader sees (a name shown as
"Aigerim exe.gnp" on a label, a title that reads backwards on the seller's desk); zero-width spaces,
word joiners and byte-order marks hide inside a word (two SKUs or names that look the same and are
not); control characters (NUL above all) have no place in a line of text. Zero-width non-joiner and
joiner (U+200C, U+200D) stay: Persian and Indic scripts and emoji sequences need them.
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _

HIDDEN = frozenset({0x200B, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2060, 0x2066, 0x2067, 0x2068,
                    0x2069, 0xFEFF})


def hidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character of ``value`` that typed text must not hold, as ``U+202E``, else None.
    ``multiline`` lets tabs and line breaks through (descriptions, notes)."""
    for ch in value:
        code = ord(ch)
        if code in HIDDEN or (unicodedata.category(ch) == "Cc" and not (multiline and ch in "\t\n\r")):
            return f"U+{code:04X}"
    return None


def hidden_message(character: str) -> str:
    return _("Remove the invisible or control character %(char)s.") % {"char": character}
