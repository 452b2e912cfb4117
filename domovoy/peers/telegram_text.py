"""How Telegram reads the strings a bot sends, re-implemented so the emulator refuses the same.

tdlib (``td/telegram/misc.cpp``: ``clean_input_string``, ``strip_empty_characters``) first
refuses any string that is not valid UTF-8 — a lone surrogate, which Python strings and JSON
escapes can carry, is the usual way a bot gets there — then replaces control characters with
spaces and drops ``\\r``, the line/paragraph separators and bidi embeddings, and finally calls a
text *empty* when nothing but spaces and "empty characters" (zero-width space, BOM, braille
blank, ideographic space, ...) is left. Python's ``str.strip()`` knows none of the latter, so a
bot that checks emptiness with it still sends what Telegram answers "message text is empty".
"""

from __future__ import annotations

import json
from typing import Any

NOT_UTF8 = "strings must be encoded in UTF-8"

# Replaced by a space before anything else (``strip_empty_characters``' list, and the tag
# characters U+E0000–U+E007F it matches by their first UTF-8 bytes).
_SPACE_LIKE = frozenset("\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                        "\u2009\u200a\u202e\u202f\u205f\u2800\u3000\ufffc")
# Left out when tdlib looks for "some non-empty character".
_EMPTY = frozenset(" \n\u200b\u200c\u200d\u200e\u200f\u202e\ufeff\u00a0")
# Removed by ``clean_input_string``: line and paragraph separators, bidi embeddings, and three
# combining marks that draw vertical lines over the text.
_REMOVED = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")


def has_lone_surrogate(value: Any) -> bool:
    """True when a string anywhere in ``value`` (a JSON-encoded parameter included) holds half
    of a surrogate pair, which no UTF-8 encoder, and so no Telegram server, accepts."""
    if isinstance(value, str):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return True
        if value[:1] in ("{", "[", '"') and "\\u" in value:
            try:
                decoded = json.loads(value)
            except ValueError:
                return False
            return has_lone_surrogate(decoded)
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def clean_text(text: str) -> str:
    """The text as Telegram keeps it: control characters become spaces (``\\n`` stays), and
    ``\\r``, separators and bidi embeddings are dropped."""
    out = []
    for ch in text:
        if ch in _REMOVED:
            continue
        out.append(" " if (ch < " " and ch != "\n") else ch)
    return "".join(out)


def is_empty_text(text: str) -> bool:
    """Whether Telegram would call ``text`` empty ("message text is empty")."""
    for ch in clean_text(text):
        if ch in _SPACE_LIKE or ch in _EMPTY or "\U000e0000" <= ch <= "\U000e007f":
            continue
        return False
    return True
