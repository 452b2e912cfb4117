"""text/enriched (RFC 1896) and its predecessor text/richtext (RFC 1341) to plain text.

Old Mac mail programs, Eudora and mutt users send styled text this way, sometimes as the only
body. It is not HTML and no browser reads it; left as a file, the resident's letter was an
attachment named "attachment-1.bin" and the case had no text.
"""

from __future__ import annotations

import re

__all__ = ["enriched_to_text"]

# A formatting command: <bold>, </italic>, <param>…</param> (its argument: a colour, a font).
_PARAM = re.compile(r"<param>[^<]*</param>", re.IGNORECASE)
_COMMAND = re.compile(r"<(/?)([A-Za-z0-9-]{1,60})>")
_LT = "\x00"  # "<<" (a literal "<") kept out of the way of the commands
_RICHTEXT_BREAKS = {"nl": "\n", "np": "\n\n", "lt": _LT}


def enriched_to_text(text: str, *, richtext: bool = False) -> str:
    """The words of an enriched (or, ``richtext``, richtext) body: commands dropped, a
    parameter's argument dropped with it, line breaks as the format means them."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if richtext:
        # richtext: line ends are blanks, <nl> and <np> break lines, <lt> is "<"
        text = text.replace("\n", " ")
        text = _COMMAND.sub(
            lambda m: "" if m.group(1) else _RICHTEXT_BREAKS.get(m.group(2).lower(), ""), text
        )
        return "\n".join(line.strip() for line in text.replace(_LT, "<").split("\n")).strip()
    text = _PARAM.sub("", text.replace("<<", _LT))
    pieces: list[str] = []
    nofill = 0
    pos = 0
    for m in _COMMAND.finditer(text):
        pieces.append(_fill(text[pos : m.start()], nofill > 0))
        name = m.group(2).lower()
        if name == "nofill":
            nofill = max(0, nofill + (-1 if m.group(1) else 1))
        pos = m.end()
    pieces.append(_fill(text[pos:], nofill > 0))
    return "".join(pieces).replace(_LT, "<").strip()


_NEWLINES = re.compile(r"\n+")


def _fill(text: str, nofill: bool) -> str:
    """Outside <nofill>, a lone line end is a blank and n line ends are n - 1 line breaks."""
    if nofill:
        return text
    return _NEWLINES.sub(
        lambda m: " " if len(m.group(0)) == 1 else "\n" * (len(m.group(0)) - 1), text
    )
