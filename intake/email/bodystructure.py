"""What an IMAP server says of a mail's structure (BODYSTRUCTURE), and a small stand-in for a
mail too big to fetch whole: its headers and the start of its first text part, with a note of
what stayed on the server.

Pure functions over the server's response lines, so the poller (:mod:`intake.email.imap`) only
fetches; a resident's 50 MB video still opens a case, and staff read what was not fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise, takewhile
from typing import Any

from intake.email.mime import format_size, parse_params, sanitize_filename

_TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|\{(\d+)\+?\}|([^\s()"]+))', re.S)
_ESCAPED = re.compile(rb"\\(.)", re.S)
_REPLACED_FIELDS = frozenset({b"content-type", b"content-transfer-encoding",
                              b"content-disposition"})
_TEXT_PARAMS = ("charset", "format", "delsp", "reply-type")
MAX_PARTS = 1000
MAX_LISTED = 5
_LITERAL = ("literal", b"")


@dataclass(frozen=True)
class MimePart:
    """One leaf of a BODYSTRUCTURE: enough to fetch it alone and to name it to staff."""

    section: str
    content_type: str
    params: dict[str, str]
    encoding: str
    size: int
    disposition: str | None = None
    disposition_params: dict[str, str] = field(default_factory=dict)

    @property
    def filename(self) -> str | None:
        """The decoded file name (RFC 2231 and RFC 2047 forms included), if it has one."""
        for value, key in ((self.disposition_params, "filename"), (self.params, "name")):
            if value:
                _, decoded = parse_params("x/y" + "".join(
                    f"; {k}={v}" if k.endswith("*") else f'; {k}="{_quote(v)}"'
                    for k, v in value.items()))
                if decoded.get(key):
                    return decoded[key]
        return None

    @property
    def attached(self) -> bool:
        return self.disposition == "attachment" or self.filename is not None

    @property
    def decoded_size(self) -> int:
        """Roughly what staff would have been sent: base64 is 3 bytes in 4, in lines of 76
        characters and a CRLF."""
        if self.encoding == "base64":
            return self.size * 76 // 78 * 3 // 4
        return self.size


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


def _imap_tokens(lines: list[Any]) -> list[tuple[str, bytes]]:
    """A FETCH response as tokens; aioimaplib hands a literal (``{n}`` then n bytes) over as
    its own bytearray line, which takes the place of its ``{n}``."""
    tokens: list[tuple[str, bytes]] = []
    for line in lines:
        if isinstance(line, bytearray):
            if _LITERAL in tokens:
                at = len(tokens) - 1 - tokens[::-1].index(_LITERAL)
                tokens[at] = ("string", bytes(line))
            continue
        if not isinstance(line, bytes):
            continue
        for m in _TOKEN.finditer(line):
            if m.group(1):
                tokens.append(("(", b""))
            elif m.group(2):
                tokens.append((")", b""))
            elif m.group(3) is not None:
                tokens.append(("string", _ESCAPED.sub(rb"\1", m.group(3))))
            elif m.group(4):
                tokens.append(_LITERAL)
            elif m.group(5):
                tokens.append(("atom", m.group(5)))
    return tokens


def _imap_values(tokens: list[tuple[str, bytes]]) -> list[Any]:
    """Tokens as nested lists: strings as text, NIL as None, numbers as ints. Iterative, so a
    deeply nested structure cannot exhaust the stack."""
    root: list[Any] = []
    stack = [root]
    for kind, value in tokens:
        if kind == "(":
            child: list[Any] = []
            stack[-1].append(child)
            stack.append(child)
        elif kind == ")":
            if len(stack) > 1:
                stack.pop()
        elif kind == "atom":
            text = value.decode("ascii", "replace")
            stack[-1].append(None if text.upper() == "NIL"
                             else int(text) if text.isdigit() else text)
        else:
            stack[-1].append(value.decode("utf-8", "replace"))
    return root


def body_structure(lines: list[Any]) -> list[Any] | None:
    """The BODYSTRUCTURE in a ``UID FETCH … (UID BODYSTRUCTURE)`` response, as nested lists."""
    for item in _imap_values(_imap_tokens(lines)):
        if not isinstance(item, list):
            continue
        for key, value in pairwise(item):
            if isinstance(key, str) and key.upper() == "BODYSTRUCTURE" \
                    and isinstance(value, list):
                return value
    return None


def _lower(node: list[Any], index: int) -> str | None:
    value = node[index] if index < len(node) else None
    return value.lower() if isinstance(value, str) else None


def _pairs(value: Any) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    return {str(k).lower(): str(v) for k, v in zip(value[::2], value[1::2], strict=False)
            if k is not None and v is not None}


def _leaf(node: list[Any], section: str) -> MimePart:
    """A single part: type, subtype, params, id, description, encoding, size, then (text:
    lines; message/rfc822: envelope, body, lines) MD5 and the disposition."""
    ctype = f"{_lower(node, 0) or 'application'}/{_lower(node, 1) or 'octet-stream'}"
    at = 9 if ctype.startswith("text/") else 11 if ctype == "message/rfc822" else 8
    disposition = node[at] if at < len(node) and isinstance(node[at], list) else []
    size = node[6] if len(node) > 6 and isinstance(node[6], int) else 0
    return MimePart(section=section, content_type=ctype,
                    params=_pairs(node[2] if len(node) > 2 else None),
                    encoding=_lower(node, 5) or "7bit", size=size,
                    disposition=_lower(disposition, 0) if disposition else None,
                    disposition_params=_pairs(disposition[1] if len(disposition) > 1
                                              else None))


def mime_parts(structure: list[Any]) -> list[MimePart]:
    """The leaves of a BODYSTRUCTURE in order, each with its IMAP section ("1", "2.1", …); a
    single-part mail is section 1. Forwarded mail (message/rfc822) is one leaf."""
    parts: list[MimePart] = []
    todo: list[tuple[Any, str]] = [(structure, "")]
    while todo and len(parts) < MAX_PARTS:
        node, section = todo.pop()
        if not isinstance(node, list) or not node:
            continue
        if isinstance(node[0], list):  # multipart: its parts, then subtype and params
            children = list(takewhile(lambda c: isinstance(c, list), node))
            todo.extend((child, f"{section}.{n}" if section else str(n))
                        for n, child in reversed(list(enumerate(children, 1))))
        else:
            parts.append(_leaf(node, section or "1"))
    return parts


def first_text_part(parts: list[MimePart]) -> MimePart | None:
    """The part the resident wrote in: the first plain text that is not an attached file,
    else the first such HTML."""
    for wanted in ("text/plain", "text/html"):
        for part in parts:
            if part.content_type == wanted and not part.attached:
                return part
    return None


def cut_at_line(data: bytes) -> bytes:
    """A partial fetch stops at a byte count, which may fall inside a UTF-8 letter, a
    quoted-printable escape or a base64 quantum; ending at the last line break (or space)
    avoids all three."""
    for separator in (b"\n", b" "):
        at = data.rfind(separator)
        if at > 0:
            return data[:at + 1]
    return data


def without_fields(header: bytes, names: frozenset[bytes]) -> bytes:
    """``header`` without the named fields (continuation lines included)."""
    kept: list[bytes] = []
    dropping = False
    for line in header.splitlines(keepends=True):
        if line[:1] not in (b" ", b"\t"):
            dropping = line.split(b":", 1)[0].strip().lower() in names
        if not dropping and line.strip():
            kept.append(line)
    return b"".join(kept)


def partial_message(header: bytes, text: MimePart | None, body: bytes) -> bytes:
    """The mail's own header with the text part's type and encoding in place of the whole
    mail's (multipart/mixed with a boundary the text alone does not have), then the text:
    the parser reads it as the single-part mail it now is."""
    if text is None:
        ctype, body = "text/plain; charset=us-ascii", b""
        encoding = "7bit"
    else:
        ctype = text.content_type + "".join(f'; {k}="{_quote(text.params[k])}"'
                                            for k in _TEXT_PARAMS if k in text.params)
        encoding = text.encoding
    own = f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {encoding}\r\n"
    return (without_fields(header, _REPLACED_FIELDS) + own.encode("utf-8", "replace")
            + b"\r\n" + body)


def _shown_name(part: MimePart) -> str:
    """A file's name as staff may safely read it (no control or bidi characters), else its
    type."""
    name = part.filename
    return sanitize_filename(name, part.content_type, part.section) if name \
        else part.content_type


def oversize_note(size: int, limit: int, parts: list[MimePart], text: MimePart | None,
                  text_cut: int | None) -> str:
    """What staff read on the case: what was left on the server, and why."""
    rest = [p for p in parts if p is not text
            and (p.attached or not p.content_type.startswith("text/"))]
    said: list[str] = []
    if rest:
        names = [f"{_shown_name(p)} ({format_size(p.decoded_size)})" for p in rest[:MAX_LISTED]]
        more = f" and {len(rest) - MAX_LISTED} more" if len(rest) > MAX_LISTED else ""
        said.append("not fetched: " + ", ".join(names) + more)
    if text is None:
        said.append("no text part found: only its headers were read")
    elif text_cut is not None:
        said.append(f"only the first {format_size(text_cut)} of its text was fetched, "
                    "the rest was not fetched")
    if not said:
        said.append("only its headers and text were fetched")
    return (f"mail over the {format_size(limit)} limit ({format_size(size)}): "
            + "; ".join(said))
