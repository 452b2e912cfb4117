"""Telegram's limits on what the bot sends, counted the way Telegram counts them.

Telegram measures texts in UTF-16 code units (an emoji outside the BMP is two), refuses any
string that is not valid UTF-8 (a lone surrogate, which a Python string can hold, is the usual
way to get there), and calls a text of invisible characters empty. ``len()`` and
``str.strip()`` know none of this, so every limit the bot keeps goes through here. The bot sends
plain text (no parse mode), so a cut can never leave half an HTML entity behind; it is made on
a whole character and, where that is cheap to see, a whole emoji (never between a letter and
its combining mark, inside a ZWJ sequence, or between the two halves of a flag).
"""

from __future__ import annotations

import unicodedata

TEXT_LIMIT = 4096  # a message's text, in UTF-16 units
CALLBACK_ANSWER_LIMIT = 200  # the toast or alert after a button press
CALLBACK_DATA_LIMIT = 64  # a button's callback data, in bytes
TOPIC_NAME_LIMIT = 128  # a forum topic's name
COMMAND_DESCRIPTION_LIMIT = 256  # a command's description in the menu
ELLIPSIS = "…"

_ZWJ = "\u200d"
# Characters tdlib leaves out when it decides whether a text has "some non-empty character"
# (``strip_empty_characters`` in td/telegram/misc.cpp), plus the control characters it turns
# into spaces and what ``clean_input_string`` drops: separators, bidi embeddings, and three
# combining marks that draw lines over the text (a part of nothing but those was refused).
_INVISIBLE = frozenset(
    " \n\t\r\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u202f"
    "\u205f\u2800\u3000\ufeff\ufffc\u0333\u033f\u030a")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (a split pair is joined again):
    aiohttp cannot even encode such a string, so the request never left and the outbox kept
    retrying it while every later message to that chat waited behind it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def is_blank(text: str) -> bool:
    """Whether Telegram would refuse ``text`` as empty: nothing but spaces, control characters
    and invisible ones (zero-width space, BOM, braille blank, ideographic space, ...)."""
    return all(ch in _INVISIBLE or ch < " " or "\U000e0000" <= ch <= "\U000e007f"
               for ch in text)


def _extends(ch: str) -> bool:
    """A character that belongs to the one before it: a combining mark, a joiner, a variation
    selector, a skin tone, a keycap, an emoji tag."""
    return (ch == _ZWJ or "\ufe00" <= ch <= "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff"
            or ch == "\u20e3" or "\U000e0020" <= ch <= "\U000e007f"
            or "\U000e0100" <= ch <= "\U000e01ef"
            or unicodedata.category(ch) in ("Mn", "Me", "Mc"))


def _regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def boundary(text: str, index: int) -> int:
    """The nearest index at or before ``index`` where ``text`` can be cut without splitting a
    character from its marks, an emoji ZWJ sequence, or a flag (a pair of regional letters).
    A cluster that starts the text and is itself longer than the cut is cut inside: a split
    must always move on."""
    index = i = max(0, min(index, len(text)))
    while 0 < i < len(text) and (_extends(text[i]) or text[i - 1] == _ZWJ):
        i -= 1
    if 0 < i < len(text) and _regional(text[i]):
        run = 0
        while run < i and _regional(text[i - 1 - run]):
            run += 1
        if run % 2:
            i -= 1
    return i or index


def prefix_within(text: str, limit: int) -> int:
    """The longest prefix of ``text`` (in characters) whose UTF-16 length is within ``limit``,
    moved back to a :func:`boundary`."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return boundary(text, i)
    return len(text)


def fit(text: str, limit: int) -> str:
    """``text`` cleaned and, when over ``limit`` UTF-16 units, cut on a whole character with an
    ellipsis, the whole within ``limit``."""
    text = clean(text)
    if utf16_len(text) <= limit:
        return text
    cut = prefix_within(text, limit - utf16_len(ELLIPSIS))
    return text[:cut].rstrip() + ELLIPSIS
