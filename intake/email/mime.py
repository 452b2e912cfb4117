"""Walking the MIME tree: which parts are the body, which are attachments, what came back in a
bounce, and how to get text out of structurally broken mail.

We parse with the stdlib's fast ``compat32`` parser and read raw header values ourselves:
``compat32`` keeps 8-bit header bytes as surrogates, which :mod:`intake.email.charsets` can then
decode properly instead of producing mojibake. Part references follow IMAP section numbering
("1", "2.1", …), so an attachment can be fetched again with ``BODY.PEEK[<ref>]``.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.utils
import hashlib
import itertools
import mimetypes
import quopri
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message

from intake.email.calendar import CalendarEvent, read_calendar
from intake.email.captions import caption
from intake.email.charsets import (
    blank_controls,
    decode_bytes,
    decode_header_value,
    normalize_charset,
    unfold,
    unwrap_encoded_address,
    wide_codec,
)
from intake.email.html_text import html_to_text, unescape_references
from intake.email.images import MAX_IMAGES, image_sources, inline_image, small_pictures
from intake.email.richtext import enriched_to_text
from intake.message import Attachment

__all__ = [
    "DsnRecipient",
    "HeaderView",
    "MimeLimits",
    "MimeResult",
    "Segment",
    "format_size",
    "parse_params",
    "sanitize_filename",
    "walk_message",
]

_STRUCTURAL_DEFECTS = {
    "StartBoundaryNotFoundDefect": "MIME boundary not found",
    "NoBoundaryInMultipartDefect": "multipart without a boundary",
    "MultipartInvariantViolationDefect": "multipart without parts",
    "CloseBoundaryNotFoundDefect": "closing MIME boundary missing",
    "MissingHeaderBodySeparatorDefect": "header/body separator missing",
}
_FORWARD_TYPES = frozenset({"message/rfc822", "message/global", "message/news"})
# RFC 6533 (SMTPUTF8 mail, an address like иванова@почта-дома.рф) returns the headers as
# message/global-headers and reports as message/global-delivery-status.
RETURNED_TYPES = frozenset(
    {"message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers"}
)
DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
# Machine-readable parts of a multipart/report (RFC 6522): bounces, abuse reports, receipts.
_REPORT_TYPES = DSN_TYPES | {
    "message/feedback-report", "message/disposition-notification",
    "message/global-disposition-notification",
}
# S/MIME with the letter inside the signature (RFC 8551 "opaque" signing): readable without a key.
_OPAQUE_SIGNED_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
# A document a resident names as they would title a letter ("Заявление на перерасчёт.pdf",
# "Акт о заливе кв 45.docx"): sent with no words, its name says what it is about.
_DOCUMENT_TYPES = frozenset({
    "application/pdf", "application/msword", "application/rtf", "text/rtf",
    "application/vnd.ms-excel", "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
})
_UNSAID_TYPES = frozenset({"application/octet-stream", "application/x-download",
                           "binary/octet-stream"})
_DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".rtf", ".odt", ".xls", ".xlsx", ".ods")


def _document(ctype: str, filename: str | None) -> bool:
    """Whether a part is a document by its type, or by its name under a type that says
    nothing (a phone's or webmail's "application/octet-stream")."""
    if ctype in _DOCUMENT_TYPES:
        return True
    return filename is not None and ctype in _UNSAID_TYPES \
        and filename.lower().rstrip().endswith(_DOCUMENT_EXTENSIONS)


_EXT = {
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/pjpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "text/x-vcard": ".vcf",
    "text/vcard": ".vcf",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "message/global-headers": ".txt",
    "message/global-disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
    "message/feedback-report": ".txt",
    "message/disposition-notification": ".txt",
    "application/zip": ".zip",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/ms-tnef": ".dat",
    "audio/mpeg": ".mp3",
    # voice messages and phone videos, which arrive with a type and no name
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/amr": ".amr",
    "audio/aac": ".aac",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/m4a": ".m4a",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/3gpp": ".3gp",
    "audio/3gpp": ".3gp",
    "text/rtf": ".rtf",
    "application/rtf": ".rtf",
    "application/pkcs7-signature": ".p7s",
    "application/pgp-signature": ".asc",
}
_MSGID = re.compile(r"<([^<>\s]+)>")
_FILENAME_BAD = re.compile(r'[<>:"|?*]')
_WS = re.compile(r"\s+")
_QP_HINT = re.compile(rb"=[0-9A-F]{2}")
_BOUNDARY_LINE = re.compile(rb"^--([^\s]{1,200}?)(--)?[ \t]*\r?\n(?=[A-Za-z][\w-]*:)", re.M)
_HTML_HINT = re.compile(r"<(html|body|div|p|br|table|span)\b", re.IGNORECASE)
_HTML_DOCUMENT = re.compile(r"\s*(<!doctype html|<html\b)", re.IGNORECASE)
_DSN_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*)$", re.M)


class HeaderView:
    """Raw header values of one entity, looked up case-insensitively, unfolded."""

    def __init__(self, msg: Message) -> None:
        self._values: dict[str, list[str]] = {}
        try:
            items = msg.raw_items()
        except Exception:
            items = iter(())
        for name, value in items:
            if not isinstance(value, str):
                value = str(value)
            self._values.setdefault(name.strip().lower(), []).append(unfold(value))

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __len__(self) -> int:
        return len(self._values)


def _split_params(value: str) -> list[str]:
    """``value`` split at each ";" outside double quotes. Without a quote every ";" splits,
    and ``str.split`` does it: reading character by character cost 1-2% of a parse."""
    if '"' not in value:
        return value.split(";")
    out: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            buf.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch == ";" and not quoted:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return out


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        # Only an escaped quote or backslash is unescaped, as mail clients do: old Windows
        # mailers send "C:\Documents and Settings\…\скан.pdf" unescaped, and dropping each
        # backslash would glue the folders into the name.
        inner = value[1:-1]
        return re.sub(r'\\(["\\])', r"\1", inner) if "\\" in inner else inner
    if value.startswith('"'):  # unterminated quote: take what is there
        return value[1:]
    return value


def _pct_bytes(value: str) -> bytes:
    try:
        raw = value.encode("latin-1", "surrogateescape")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


_MAIN_VALUE = re.compile(r'\s*"?([^\s,;"]*)"?[\s,]*(.*)', re.S)


def parse_params(value: str | None, hint: str | None = None) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; a=b; c*0*=…`` into the lower-cased main value and decoded params.

    RFC 2231 continuations are joined as *bytes* before decoding, so a UTF-8 character split
    between ``filename*0*`` and ``filename*1*`` survives; RFC 2047 words and raw 8-bit bytes
    inside plain values (both common in filenames, both illegal) are decoded too.
    """
    if not value:
        return "", {}
    pieces = _split_params(value)
    # Site scripts write "text/html charset=utf-8" or "text/html, charset=utf-8": the value is
    # its first word, and what follows it a parameter (else the letter became a file)
    head = _MAIN_VALUE.match(pieces[0])
    main = head.group(1).lower() if head else ""
    if head and head.group(2).strip():
        pieces.insert(1, head.group(2))
    plain: dict[str, str] = {}
    extended: dict[str, dict[int, tuple[bool, str]]] = {}
    for piece in pieces[1:]:
        if "=" not in piece:
            continue
        name, _, val = piece.partition("=")
        name = name.strip().lower()
        if not name:
            continue
        if "*" in name:
            base, _, rest = name.partition("*")
            encoded = rest.endswith("*") or rest == ""
            index_text = rest.rstrip("*")
            try:
                index = int(index_text) if index_text else 0
            except ValueError:
                continue
            extended.setdefault(base, {})[index] = (encoded, _unquote(val))
        elif name not in plain:
            plain[name] = _unquote(val)
    params: dict[str, str] = {}
    for name, val in plain.items():
        params[name] = decode_header_value(val, hint) if ("=?" in val or not val.isascii()) else val
    for base, segments in extended.items():
        # (charset, the bytes of each segment) for each run of segments in one charset
        runs: list[tuple[str | None, list[bytes]]] = []
        for n, index in enumerate(sorted(segments)):
            encoded, val = segments[index]
            charset: str | None = runs[-1][0] if runs else None
            if encoded and val.count("'") >= 2:
                # the first segment names the charset; some mailers name one in every
                # segment, a few another one (filename*1*=koi8-r''…): each is read in its own
                named, _, rest = val.split("'", 2)
                if n == 0 or normalize_charset(named):
                    charset, val = named or None, rest
            data = _pct_bytes(val) if encoded else _pct_bytes(val.replace("%", "%25"))
            if runs and runs[-1][0] == charset:
                runs[-1][1].append(data)
            else:
                runs.append((charset, [data]))
        joined = "".join(_decode_segments(charset, pieces, hint) for charset, pieces in runs)
        # Some clients split a long name into plain continuations of RFC 2047 words
        # (filename*0="=?UTF-8?B?…?="; filename*1="=?UTF-8?B?…?="): decode what they joined.
        if not joined and params.get(base):
            # "filename*=utf-8''" left empty by a mailer that failed to encode the name, beside
            # the name it wrote as an RFC 2047 word: the empty one named the file "image-2.jpg"
            continue
        params[base] = decode_header_value(joined, hint) if "=?" in joined else joined
    return main, params


def _utf8_so_far(data: bytes, decoder: codecs.IncrementalDecoder | None = None) -> bool:
    """Whether ``data`` is UTF-8 (continuing what ``decoder`` read before), but for a
    character its last bytes may have begun. A decoder that refuses it is left as it was."""
    decoder = decoder or codecs.getincrementaldecoder("utf-8")()
    state = decoder.getstate()
    try:
        decoder.decode(data, final=False)
    except UnicodeDecodeError:
        decoder.setstate(state)
        return False
    return True


def _decode_segments(charset: str | None, pieces: list[bytes], hint: str | None) -> str:
    """RFC 2231 segments in one declared charset, decoded joined (a UTF-8 letter may be split
    between two). Where the join is no UTF-8 but some segments are, the writer put segments
    of two encodings under one label (a UTF-8 name with a cp1251 part a second program
    appended): each run of UTF-8 segments is read as UTF-8, the rest by :func:`decode_bytes`."""
    joined = b"".join(pieces)
    if len(pieces) == 1 or joined.isascii() or _utf8_so_far(joined) \
            or not any(not p.isascii() and _utf8_so_far(p) for p in pieces):
        return decode_bytes(joined, charset, hint)
    groups: list[tuple[bool, bytearray]] = []  # (UTF-8, bytes)
    decoder = codecs.getincrementaldecoder("utf-8")()  # where the last UTF-8 run has got to
    for piece in pieces:
        if groups and groups[-1][0] and _utf8_so_far(piece, decoder):
            groups[-1][1].extend(piece)
            continue
        if groups and piece.isascii():  # ".jpg" after a cp1251 piece: part of that run
            groups[-1][1].extend(piece)
            continue
        fresh = codecs.getincrementaldecoder("utf-8")()
        if _utf8_so_far(piece, fresh):
            decoder = fresh
            groups.append((True, bytearray(piece)))
        elif groups and not groups[-1][0]:
            groups[-1][1].extend(piece)
        else:
            groups.append((False, bytearray(piece)))
    other = None if normalize_charset(charset) == "utf_8" else charset
    return "".join(decode_bytes(bytes(data), "utf-8" if utf8 else other, hint)
                   for utf8, data in groups)


# A percent escape of a byte above ASCII: a letter of a URL-encoded name
_PERCENT_HIGH = re.compile(r"%[89A-Fa-f][0-9A-Fa-f]")


def _percent_decoded(name: str) -> str:
    """``name`` URL-decoded when it is a URL-encoded name: mobile apps and scripts put
    "filename=%D0%A4%D0%BE%D1%82%D0%BE.jpg" (RFC 2231's encoding without its "*"), and staff
    saw a file named in percent codes. Only a name with escapes of bytes beyond ASCII is
    decoded, its bytes read as raw 8-bit names are (UTF-8, else the Russian code page they
    read as); "скидка 100%.pdf" and "50%25.txt" stay."""
    if not _PERCENT_HIGH.search(name) or not name.isascii():
        return name
    return decode_bytes(urllib.parse.unquote_to_bytes(name))


def sanitize_filename(name: str | None, content_type: str, ref: str) -> str:
    """A name safe to show and to store: URL-decoded (see :func:`_percent_decoded`), no
    directories, no control or bidi characters, at most 150 characters with the extension
    kept."""
    cleaned = ""
    if name:
        name = _percent_decoded(name)
        cleaned = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
        cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch)[0] != "C")
        cleaned = _WS.sub(" ", _FILENAME_BAD.sub("_", cleaned)).strip(" .")
    if not cleaned:
        prefix = "image" if content_type.startswith("image/") else "attachment"
        cleaned = f"{prefix}-{ref or '1'}{_EXT.get(content_type, '.bin')}"
    if len(cleaned) > 150:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            cleaned = stem[: 149 - len(ext)].rstrip() + "." + ext
        else:
            cleaned = cleaned[:150]
    return cleaned


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


@dataclass(frozen=True)
class MimeLimits:
    max_attachment_bytes: int
    max_attachments: int
    max_depth: int
    max_parts: int


@dataclass
class Segment:
    """A piece of body text in reading order."""

    text: str
    html: bool = False
    quote_at: int | None = None
    forward_header: bool = False
    # Raw HTML not yet converted: alternatives convert only the branch they end up using.
    pending_html: bool = False

    def finish(self) -> Segment:
        if self.pending_html:
            self.text, self.quote_at = html_to_text(self.text)
            self.pending_html = False
        return self


@dataclass
class DsnRecipient:
    address: str
    action: str
    status: str
    # what the receiving server answered ("smtp; 550 5.1.1 User unknown"): staff read it
    diagnostic: str = ""


@dataclass
class MimeResult:
    segments: list[Segment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    # files past the count cap, said in one note of ``dropped`` (at ``over_cap_note``)
    over_cap: list[str] = field(default_factory=list)
    over_cap_note: int = 0
    notes: list[str] = field(default_factory=list)
    recovered: bool = False
    returned_ids: list[str] = field(default_factory=list)
    returned_recipients: list[str] = field(default_factory=list)
    # The returned letter's In-Reply-To and References, and its Subject: a relay may give our
    # letter a Message-ID of its own, but what it answered and its case tag stay ours.
    returned_refs: list[str] = field(default_factory=list)
    returned_subject: str | None = None
    dsn: list[DsnRecipient] = field(default_factory=list)
    # Delivery-status records found inside forwarded messages: not this mail's own (a resident
    # forwarding a bounce is no bounce), but what failed if the mail is a bounce on other
    # grounds (a gateway that re-wraps a bounce as an attachment).
    enclosed_dsn: list[DsnRecipient] = field(default_factory=list)
    report_fields: dict[str, str] = field(default_factory=dict)
    forwarded_from: str | None = None
    # (Message-ID, author's address) of each letter forwarded as an attachment: a resident
    # re-sending their own letter ("Повторно направляю обращение") names the case it opened
    forwarded_ids: list[tuple[str, str]] = field(default_factory=list)
    body_charset: str | None = None
    encrypted: bool = False
    # The events of calendar invitations in the letter (its text when it has no other).
    calendar: list[CalendarEvent] = field(default_factory=list)
    # (number, total) of a message/partial fragment: one piece of a letter split in several.
    partial: tuple[int | None, int | None] | None = None
    # The ``<img>`` sources of the letter's HTML: a letter of pictures alone has no text.
    images: list[str] = field(default_factory=list)
    # What the photos' and videos' descriptions or file names say ("протечка в ванной.jpg"):
    # the words of a letter that is only a photo.
    captions: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def _join(path: str, index: int | str) -> str:
    return f"{path}.{index}" if path else str(index)


# A soft line break followed by spaces a transport added ("= \n"): still a soft break (RFC 2045).
_QP_SOFT_WS = re.compile(rb"=[ \t]+(?=\r?\n)")
_B64_CHUNK = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_B64_LINE = re.compile(rb"[A-Za-z0-9+/=]+")
_B64_STRAY = re.compile(rb"[^A-Za-z0-9+/=]")
_WS_RUN = re.compile(rb"[ \t\x0b\x0c]+")
_QP_HIGH = re.compile(rb"=[89A-F][0-9A-F]|=\r?\n")


# What the standard library decodes (or leaves as it is, rightly); anything else is a guess.
_KNOWN_CTE = frozenset({"7bit", "8bit", "binary", "quoted-printable", "base64",
                        "uuencode", "x-uuencode", "uue", "x-uue"})
# Labels that say the body is sent as it is: PHP scripts and 1C write "8bit" over a body they
# encoded as base64 or quoted-printable all the same.
_UNENCODED_CTE = frozenset({"7bit", "8bit", "binary"})


# An RFC 822 comment, which RFC 2045 allows around the mechanism ("quoted-printable (qp)")
_CTE_COMMENT = re.compile(r"\([^()]*\)")


def _transfer_encoding(part: Message) -> str:
    """The part's Content-Transfer-Encoding as meant: "base64" quoted, with a trailing space
    or a comment, or ended with a ";" as PHP scripts write it ("base64;", as if parameters
    followed) included."""
    value = _CTE_COMMENT.sub(" ", str(part.get("content-transfer-encoding", "")))
    return value.partition(";")[0].strip().strip("\"'").strip().lower()


def _b64_line(line: bytes) -> bytes | None:
    """The base64 characters of one encoded line, or None when it is not one (a footer's
    words). RFC 2045 has decoders skip what is not in the alphabet, and gateways do put it
    there: blanks or tabs inside a line, a stray "!" or NBSP. A line counts if it is mostly
    code: twenty or more code characters, blanks splitting it into at most three pieces or
    into long ones (text has a blank every few letters), and at most a few other strays."""
    if _B64_LINE.fullmatch(line):
        return line
    pieces = _WS_RUN.split(line)
    joined = b"".join(pieces)
    if len(pieces) > 3 and len(joined) < 16 * len(pieces):
        return None
    code = _B64_STRAY.sub(b"", joined)
    strays = len(joined) - len(code)
    if len(code) < 20 or strays > max(2, len(code) // 30):
        return None
    return code


def _b64_decode(data: bytes) -> bytes:
    """Base64 that may be several encoded pieces joined together, each with its own padding
    (the standard decoder stops at the first "=" and drops the rest of the text), with blanks
    and stray characters inside its lines (see :func:`_b64_line`). The encoded lines end at
    the first line that is not base64 or after a padded last line: a plain footer that a list
    or a virus scanner appended is kept as it is."""
    lines = data.split(b"\n")
    encoded: list[bytes] = []
    n = 0
    while n < len(lines):
        line = lines[n].strip()
        n += 1
        if not line:
            if encoded:
                break
            continue
        code = _b64_line(line)
        if code is None:
            n -= 1
            break
        encoded.append(code)
        if code.endswith(b"=") and not (n < len(lines) and len(
                _b64_line(lines[n].strip()) or b"") >= len(code)):
            break  # padding ends the stream unless a full-length encoded line follows
    out = []
    for chunk in _B64_CHUNK.findall(b"".join(encoded)):
        body = chunk.rstrip(b"=")
        body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
        if body:
            out.append(binascii.a2b_base64(body + b"=" * (-len(body) % 4)))
    trailer = b"\n".join(lines[n:]).strip()
    return b"".join(out) + (b"\n\n" + trailer if trailer else b"")


def _few_high_bytes(data: bytes) -> bool:
    """At most one byte in fifty above ASCII: strays in code, not words of 8-bit text."""
    return 50 * len(data.translate(None, bytes(range(128)))) <= len(data)


def _payload_bytes(part: Message) -> bytes:
    cte = _transfer_encoding(part)
    # The resident's text is decoded by hand, tolerating what sloppy clients write; files are
    # left to the standard library (a footer kept after their bytes would corrupt them).
    if cte in ("quoted-printable", "base64") and part.get_content_maintype() == "text":
        encoded = part.get_payload()
        if isinstance(encoded, str):
            as_bytes = encoded.encode("utf-8", "surrogateescape")
            if not as_bytes.isascii() and not (
                    cte == "quoted-printable" and _QP_HIGH.search(as_bytes)) and not (
                    cte == "base64" and _few_high_bytes(as_bytes)):
                # raw 8-bit text under a transfer encoding that would have made it ASCII: the
                # header is wrong ("ХВС=123" is no quoted-printable); a stray NBSP or two a
                # gateway put into base64 is no text
                return as_bytes
            try:
                if cte == "quoted-printable":
                    return quopri.decodestring(_QP_SOFT_WS.sub(b"=", as_bytes))
                return _b64_decode(as_bytes)
            except (binascii.Error, ValueError):
                pass
    if cte in ("quoted-printable", "base64") \
            and str(part.get("content-transfer-encoding", "")).lower() != cte:
        # the standard library decodes only a label written exactly: a photo under "base64 "
        # or "base64;" was kept as its code, a file that opens nowhere
        encoded = part.get_payload()
        if isinstance(encoded, str):
            as_bytes = encoded.encode("ascii", "replace")
            try:
                return quopri.decodestring(as_bytes) if cte == "quoted-printable" \
                    else binascii.a2b_base64(as_bytes)
            except (binascii.Error, ValueError):
                pass
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


class _Walker:
    def __init__(self, limits: MimeLimits, hint: str | None) -> None:
        self.limits = limits
        self.result = MimeResult()
        self.hint = hint
        self.parts = 0
        self.defer_html = False
        # How many forwarded messages enclose the part being walked: a report in one belongs to
        # that message (a bounce the resident got and forwards), not to the mail at hand.
        self.forwarded = 0
        # Letter text found in parts kept as files, a winmail.dat or an RTF body, with a note
        # that says where: used only if the mail has none of its own (Outlook usually sends a
        # plain text part beside the TNEF one, and that is the letter).
        self.file_bodies: list[tuple[Segment, str]] = []
        # The Content-IDs of pictures the HTML shows at a logo's or an icon's size.
        self.decorations: frozenset[str] = frozenset()

    # -- dispatch ---------------------------------------------------------------------------

    def entity(
        self, part: Message, path: str, depth: int, *, root: bool, role: str = "body"
    ) -> None:
        """``role`` is "body" (resident's text), "attachment" (never body), "returned" or
        "signature" (what signs a multipart/signed letter: an attachment unless a signature)."""
        self.parts += 1
        if self.parts > self.limits.max_parts:
            if self.parts == self.limits.max_parts + 1:
                self.result.note(f"more than {self.limits.max_parts} MIME parts: the rest ignored")
            return
        headers = HeaderView(part)
        for defect in getattr(part, "defects", ()):
            label = _STRUCTURAL_DEFECTS.get(type(defect).__name__)
            if label:
                self.result.recovered = True
                self.result.note(f"parsed with recovery: {label}")
        ctype, params = parse_params(headers.get("content-type"), self.hint)
        if not ctype and part.get_default_type() == "message/rfc822":
            # a part of multipart/digest (KMail's "forward as digest", list digests) is a
            # whole letter unless it says otherwise (RFC 2046): read as text, it was nothing
            ctype = "message/rfc822"
        elif "/" not in ctype:
            ctype = "application/octet-stream" if "name" in params else "text/plain"
        elif ctype in ("plain/text", "html/text"):  # PHP scripts' transposed type
            ctype = "text/" + ctype.partition("/")[0]
        if ctype.startswith("multipart/"):
            children = (
                [c for c in part.get_payload() if isinstance(c, Message)]
                if (part.is_multipart())
                else []
            )
            if children:
                if depth >= self.limits.max_depth:
                    self.result.note("MIME nesting too deep: inner parts read one by one")
                    self.flat(children, path, depth, role)
                    return
                self.multipart(ctype, params, children, path, depth, role)
            else:
                self.broken_multipart(part, path, depth, role)
            return
        ref = _join(path, 1) if root else (path or "1")
        self.leaf(part, headers, ctype, params, ref, depth, role)

    def flat(self, children: list[Message], path: str, depth: int, role: str) -> None:
        """The parts below the nesting limit, each read at the limit's depth without recursing
        (a loop, not a call per level). Ignored, they took the resident's only text with them:
        a mail nested deeper than the limit (a generator gone wrong, a chain of forwards)
        opened an empty case. Of a multipart/alternative only its first text/plain branch is
        read, so the letter is not there twice."""
        stack = [(child, _join(path, i)) for i, child in reversed(list(enumerate(children, 1)))]
        while stack:
            part, at = stack.pop()
            inner = ([c for c in part.get_payload() if isinstance(c, Message)]
                     if part.is_multipart() else [])
            if not inner:
                self.entity(part, at, depth, root=False, role=role)
                continue
            numbered = list(enumerate(inner, 1))
            if part.get_content_type() == "multipart/alternative":
                plain = [(i, c) for i, c in numbered if c.get_content_type() == "text/plain"]
                numbered = plain[:1] or numbered
            stack.extend((c, _join(at, i)) for i, c in reversed(numbered))

    def children(self, children: list[Message], path: str, depth: int, role: str,
                 *, main: int | None = None, main_role: str = "body") -> None:
        """Walk sub-parts; the part at index ``main`` (0-based) gets ``main_role``."""
        for i, child in enumerate(children):
            if isinstance(child, Message):
                self.entity(child, _join(path, i + 1), depth + 1, root=False,
                            role=main_role if i == main else role)

    def multipart(
        self,
        ctype: str,
        params: dict[str, str],
        children: list[Message],
        path: str,
        depth: int,
        role: str,
    ) -> None:
        sub = ctype.split("/", 1)[1]
        if sub == "appledouble" and len(children) > 1 and parse_params(
                HeaderView(children[0]).get("content-type"))[0] == "application/applefile":
            # A file from a Mac in two parts (RFC 1740): its Finder data and resource fork,
            # then the file itself. The first part is no file of the resident's: listed, every
            # scan came twice under the same name.
            self.result.note(f"Mac resource fork part {_join(path, 1)} not listed as a file")
            for i, child in enumerate(children[1:], 2):
                self.entity(child, _join(path, i), depth + 1, root=False, role=role)
            return
        if role != "body":
            self.children(children, path, depth, role)
        elif sub == "alternative":
            self.alternative(children, path, depth)
        elif sub == "related" and params.get("type", "").strip().lower() in _SMIL_TYPES:
            # an MMS an operator's gateway mailed: the SMIL only lays out its words and
            # pictures, which are the message (the words come as "text_0.txt")
            self.children(children, path, depth, "body")
        elif sub == "related":
            root = 0
            start = params.get("start", "").strip("<> ")
            if start:
                for i, child in enumerate(children):
                    if start in (HeaderView(child).get("content-id") or ""):
                        root = i
            self.children(children, path, depth, "attachment", main=root)
        elif sub == "report":
            if not self.forwarded:
                self.result.report_fields.setdefault("report-type", params.get("report-type", ""))
            self.children(children, path, depth, "returned", main=0)
        elif sub == "signed":
            self.children(children, path, depth, "signature", main=0)
        elif sub == "encrypted":
            self.encrypted()
            self.children(children, path, depth, "attachment")
        else:
            self.children(children, path, depth, role)

    def alternative(self, children: list[Message], path: str, depth: int) -> None:
        """Prefer the text/plain alternative unless it is empty or only a stand-in for the HTML
        one; keep every branch's attachments (a phone often puts the photo only in the HTML
        branch)."""
        branches: list[MimeResult] = []
        outer, outer_defer = self.result, self.defer_html
        self.defer_html = True
        for i, child in enumerate(children, 1):
            self.result = MimeResult()
            self.entity(child, _join(path, i), depth + 1, root=False, role="body")
            branches.append(self.result)
        self.result, self.defer_html = outer, outer_defer
        chosen = _readable_branch(branches, html=False)
        # The HTML is converted only when the plain text is short enough to be a stand-in for
        # it: most mail never pays for a conversion it does not use.
        if chosen is None or _is_short(chosen):
            rich = _readable_branch(branches, html=True)
            if rich is not None and (chosen is None or _plain_stands_in_for(chosen, rich)):
                chosen = rich
        if chosen is None:
            chosen = next((b for b in branches if b.segments), branches[0] if branches else None)
        if chosen is not None and not self.defer_html:
            for seg in chosen.segments:
                seg.finish()
        for branch in branches:
            self._merge(branch, with_text=branch is chosen)

    def _merge(self, branch: MimeResult, *, with_text: bool) -> None:
        r = self.result
        if with_text:
            r.segments.extend(branch.segments)
            r.forwarded_from = r.forwarded_from or branch.forwarded_from
            r.forwarded_ids.extend(branch.forwarded_ids)
        for att in branch.attachments:
            if all(a.ref != att.ref for a in r.attachments):
                r.attachments.append(att)
        r.dropped.extend(d for d in branch.dropped if d not in r.dropped)
        for note in branch.notes:
            r.note(note)
        r.recovered = r.recovered or branch.recovered
        r.returned_ids.extend(branch.returned_ids)
        r.returned_recipients.extend(branch.returned_recipients)
        r.returned_refs.extend(branch.returned_refs)
        r.returned_subject = r.returned_subject or branch.returned_subject
        r.dsn.extend(branch.dsn)
        r.enclosed_dsn.extend(branch.enclosed_dsn)
        r.body_charset = r.body_charset or branch.body_charset
        r.encrypted = r.encrypted or branch.encrypted
        r.calendar.extend(branch.calendar)
        r.partial = r.partial or branch.partial
        r.images.extend(src for src in branch.images[:MAX_IMAGES - len(r.images)]
                        if src not in r.images)

    # -- leaves -----------------------------------------------------------------------------

    def leaf(
        self,
        part: Message,
        headers: HeaderView,
        ctype: str,
        params: dict[str, str],
        ref: str,
        depth: int,
        role: str,
    ) -> None:
        disposition, dparams = parse_params(headers.get("content-disposition"), self.hint)
        filename = dparams.get("filename") or params.get("name")
        if ctype in _REPORT_TYPES:
            if self.forwarded:
                # A bounce the resident got and forwards: listed, or read as this mail's own, its
                # report would make this mail a bounce too. It stays readable in the forwarded
                # message's attachment; only the failed addresses are kept aside.
                if ctype in DSN_TYPES:
                    self.result.enclosed_dsn.extend(_dsn_records(part))
                return
            if ctype in DSN_TYPES:
                self.result.dsn.extend(_dsn_records(part))
                filename = filename or "delivery-status.txt"
            else:
                self.report_part(part)
            self.attachment(part, ctype, filename, ref)
            return
        if _letter_signature(role, ctype, filename):
            # The mail client's signature over the letter (RFC 1847), not a file the resident
            # attached: listed, a signed "Спасибо" would count as a letter with a document
            # (for staff to read; a resolved case reopened). The raw mail keeps it.
            self.result.note(f"digital signature part {ref} ({ctype}) not listed as a file")
            return
        if ctype in _SMIL_TYPES:
            self.result.note(f"MMS layout part {ref} (SMIL) not listed as a file")
            return
        if ctype == "application/pgp-keys":
            # Thunderbird attaches the sender's public key ("OpenPGP_0x….asc") to letters it
            # signs, by default: a key for mail programs, no document for the case (listed, a
            # signed "Спасибо" reopened a resolved case as a letter with a file)
            self.result.note(f"OpenPGP public key part {ref} not listed as a file")
            return
        if ctype == "text/rfc822-headers" and role != "returned" and "protected-headers" in params:
            # Enigmail's protected headers: the signed letter's own From, To and Subject again,
            # inside what the signature covers, for mail programs to check against the mail's
            # (listed, a signed "Спасибо" came with a file and reopened a resolved case)
            self.result.note(f"protected headers part {ref} not listed as a file")
            return
        if ctype == "application/pgp-encrypted" and role == "attachment" \
                and _payload_bytes(part).lstrip()[:8].lower() == b"version:":
            # PGP/MIME's "Version: 1" label before the cipher (RFC 3156): listed, staff got an
            # "attachment-1.bin" of eleven bytes beside the encrypted.asc that is the letter
            self.result.note(f"PGP/MIME version part {ref} not listed as a file")
            return
        if role == "returned" and ctype in RETURNED_TYPES:
            if not self.forwarded:
                self.returned(part, ctype)
            self.attachment(part, ctype, filename, ref)
            return
        if role != "returned" and (ctype in _FORWARD_TYPES or _eml_file(part, ctype, filename)):
            self.forward(part, ctype, filename, ref, depth, role)
            return
        if role == "body" and ctype in _OPAQUE_SIGNED_TYPES:
            self.opaque_signed(part, ctype, params, filename, ref, depth)
            return
        if ctype in _TNEF_TYPES or (filename or "").strip().lower() in _TNEF_NAMES:
            self.tnef(part, ctype, filename, ref, role)
            return
        if ctype == "message/partial":
            self.partial(part, params, ref, depth, role)
            return
        if ctype == "message/external-body" and self.external_link(params, role):
            return
        if role == "body" and ctype in _CALENDAR_TYPES:
            self.calendar(part, params)
        is_text = ctype in _TEXT_TYPES or (ctype.startswith("text/") and not filename
                                           and ctype not in _FILE_TEXT_TYPES)
        # A text part without a file name is the letter's text even when marked "attachment"
        # (some phone apps and gateways mark the body so): no person attached it as a file,
        # nor one named by a program (_PROGRAM_NAMED_TEXT).
        # A named one shown inline is the text only while the letter has none yet: after the
        # body it is a file (Apple Mail shows "pokazaniya.txt" inline in multipart/mixed).
        as_attachment = bool(filename) and not _PROGRAM_NAMED_TEXT.fullmatch(filename or "") \
            and (disposition != "inline" or bool(self.result.segments))
        if role == "body" and ctype in _RTF_TYPES and not as_attachment:
            self.rtf_body(part, params, ref)
        if role == "body" and is_text and not as_attachment:
            # UTF-16 and UTF-32 text is full of NUL bytes (.NET's Encoding.Unicode, PowerShell)
            data = _payload_bytes(part)
            if wide_codec(data, params.get("charset")) is None and _looks_binary(data):
                self.result.note(f"binary data in text part {ref} kept as an attachment")
            else:
                self.body(part, headers, ctype, params, ref, data)
                return
        self.attachment(part, ctype, filename, ref)

    def body(self, part: Message, headers: HeaderView, ctype: str, params: dict[str, str],
             ref: str, data: bytes) -> None:
        """The text part ``part`` as the letter's text. ``data``: its bytes as
        :func:`_payload_bytes` decodes them, which the caller already has (decoding them a
        second time here cost 3% of a parse)."""
        cte = _transfer_encoding(part)
        if cte not in _KNOWN_CTE or cte in _UNENCODED_CTE:
            # none, one nobody defined ("base-64", "quoted printable"), or "8bit" over a body
            # a script encoded anyway: the bytes say
            if _looks_qp(data):
                data = quopri.decodestring(data)
                self.result.note(
                    "quoted-printable body without a usable transfer-encoding header decoded")
            else:
                decoded = _unlabelled_base64(data)
                if decoded is not None:
                    data = decoded
                    self.result.note(
                        "base64 body without a usable transfer-encoding header decoded")
        charset = next(iter((params.get("charset") or "").split()), None)
        self.result.body_charset = self.result.body_charset or charset
        text = decode_bytes(data, charset, self.hint)
        # A site form's mail with no Content-Type at all defaults to text/plain, but a whole
        # HTML document is not meant to be read with its tags.
        html = ctype == "text/html" or (headers.get("content-type") is None
                                        and _HTML_DOCUMENT.match(text) is not None)
        if ctype in _ENRICHED_TYPES:
            text = enriched_to_text(text, richtext=ctype == "text/richtext")
        elif html:
            self.html_images(text, ref)
        else:
            if "begin" in text:
                text = self.uuencoded(text, ref)
            if _PGP_BEGIN in text:
                text = self.pgp_messages(text, ref)
        self.add_text(text, html=html, flowed=params)

    def rtf_body(self, part: Message, params: dict[str, str], ref: str) -> None:
        """A letter written as RTF (WordPad, old Outlook with "send as rich text"): its words
        wait in ``file_bodies`` for :func:`walk_message`, as a winmail.dat's do, and the part
        stays listed as the file it also is."""
        converted = _rtf_text(_payload_bytes(part), normalize_charset(params.get("charset")),
                              self.hint)
        if converted is not None and converted[0].strip():
            self.file_bodies.append((_text_segment(converted[0], html=converted[1]),
                                     f"text read from the RTF part {ref}"))

    def html_images(self, html: str, ref: str) -> None:
        """Remember what pictures the HTML shows, and list those pasted into it as ``data:``
        addresses as files, numbered under the HTML part's ref (as a winmail.dat's files are;
        IMAP cannot fetch them, the HTML part has to be)."""
        n = 0
        seen = self.result.images
        self.decorations |= small_pictures(html)
        for src in image_sources(html):
            if len(seen) < MAX_IMAGES and src not in seen:
                seen.append(src)
            image = inline_image(src)
            if image is not None:
                n += 1
                self._record(None, image.content_type, len(image.data), _join(ref, n),
                             data=image.data)

    def calendar(self, part: Message, params: dict[str, str]) -> None:
        """An invitation's event, kept for :func:`walk_message`: the text of a letter that has
        no other (the part also stays listed as the .ics file it is), and what tells a calendar
        program's answer. One inside a forwarded letter is neither: the forward has its header's
        words, and a resident forwarding an "Accepted" is no program."""
        if self.forwarded:
            return
        data = _payload_bytes(part)
        event = read_calendar(decode_bytes(data, params.get("charset") or "utf-8", self.hint),
                              params.get("method", ""))
        if event is not None:
            self.result.calendar.append(event)

    def partial(self, part: Message, params: dict[str, str], ref: str, depth: int,
                role: str) -> None:
        """One fragment of a letter the sender's mail program split into several mails (RFC
        2046 message/partial). One fragment cannot be put back together into the letter; the
        first one starts with the letter's headers and often holds all its text, which is
        read as far as it goes (its files are cut off, and not listed). Every fragment is
        listed as a file, so the raw piece stays reachable and the case opens."""
        number, total = _int_param(params.get("number")), _int_param(params.get("total"))
        self.result.partial = self.result.partial or (number, total)
        of = f" of {total}" if total else ""
        self.result.note(f"message/partial: part {number or '?'}{of} of a split message "
                         f"(id {params.get('id', '?')[:200]}); the parts cannot be joined here")
        inner = _inner_message(part)
        size = _message_size(inner) if inner is not None else len(_payload_bytes(part))
        name = f"message-part-{number or 'x'}{f'-of-{total}' if total else ''}.txt"
        self._record(name, "message/partial", size, ref)
        if number != 1 or inner is None or role != "body" or depth >= self.limits.max_depth:
            return
        outer, self.result = self.result, MimeResult()
        try:
            self.entity(inner, ref, depth + 1, root=True, role="body")
            words = self.result.segments
        finally:
            self.result = outer
        self.result.segments.extend(words)

    def uuencoded(self, text: str, ref: str) -> str:
        """``text`` without the files an old mailer uuencoded into it (Outlook Express, The Bat!
        and Unix ``mail`` with uuencode on): each is listed under its own name, numbered under
        the text part's ref as the files in a winmail.dat are, and its lines of code are no
        words of the letter. A block that does not decode stays text."""
        text = text.replace("\r\n", "\n")
        kept: list[str] = []
        pos = n = 0
        for m in _UU_BLOCK.finditer(text):
            base64_block = m.group("code64") is not None
            data = _b64_block(m.group("code64")) if base64_block else _uudecode(m.group("code"))
            if data is None:
                continue
            n += 1
            name = m.group("name64" if base64_block else "name").strip()
            self._record(name, _guess_type(name, ""), len(data), _join(ref, n), data=data)
            kept.append(text[pos:m.start()])
            pos = m.end()
        return "".join(kept) + text[pos:] if n else text

    def encrypted(self) -> None:
        self.result.encrypted = True
        self.result.note("encrypted message: the content cannot be read")

    def pgp_messages(self, text: str, ref: str) -> str:
        """``text`` without the OpenPGP messages pasted into it (an add-on that encrypts inside
        webmail, Thunderbird's inline mode): each is listed as an encrypted file, numbered
        under the text part's ref as uuencoded files are, and the letter is said to be
        encrypted. Its lines of cipher are no words: read as the letter they made a "complaint
        about staff" of nothing, and without a subject a letter nobody saw."""
        text = text.replace("\r\n", "\n")
        kept: list[str] = []
        pos = n = 0
        for m in _PGP_MESSAGE.finditer(text):
            n += 1
            self._record("encrypted.asc", "application/pgp-encrypted", len(m.group()),
                         _join(ref, n), data=m.group().encode())
            kept.append(text[pos:m.start()])
            pos = m.end()
        if not n:
            return text
        self.encrypted()
        return "".join(kept) + text[pos:]

    def external_link(self, params: dict[str, str], role: str) -> bool:
        """Whether a message/external-body part pointed at a web address (RFC 2017's access
        type URL), which then is a line of the letter's text where staff can open it: listed
        as a file, it was a few bytes of headers named "attachment-2.bin" and the link (the
        resident's video on a cloud disk) was nowhere staff could see. Other access types (FTP,
        a local file, a mail server) stay a file."""
        url = "".join(params.get("url", "").split())  # RFC 2017 lets a long URL be folded
        if role != "body" or params.get("access-type", "").strip().lower() != "url" \
                or not url.lower().startswith(("http://", "https://")):
            return False
        self.add_text(url, html=False)
        return True

    def add_text(self, text: str, *, html: bool, flowed: dict[str, str] | None = None) -> None:
        segment = _text_segment(text, html=html, flowed=flowed)
        self.result.segments.append(segment if self.defer_html else segment.finish())

    def attachment(self, part: Message, ctype: str, filename: str | None, ref: str) -> None:
        if ctype in _FORWARD_TYPES:
            inner = _inner_message(part)
            size = _message_size(inner) if inner is not None else len(_payload_bytes(part))
            if not filename and inner is not None:
                subject = decode_header_value(HeaderView(inner).get("subject"), self.hint)
                filename = f"{subject}.eml" if subject else "message.eml"
        elif ctype in _REPORT_TYPES:
            size = len(_report_text(part).encode("utf-8", "replace"))
        elif isinstance(part.get_payload(), list):  # message/global-headers: parsed as a message
            size = sum(_message_size(m) for m in part.get_payload() if isinstance(m, Message))
        else:
            data = _payload_bytes(part)
            if ctype in _UNSAID_TYPES and filename:
                # a phone's, a webmail's or a copier's "application/octet-stream" over
                # "IMG_0001.jpg" or "SKM_C258.pdf": the name says what the file is (its
                # caption was unread, and a scan from the office's copier was taken for ours)
                said = _guess_type(filename.strip(), "")
                if said.startswith(("image/", "video/", "audio/")) or said == "application/pdf":
                    ctype = said
            if ctype.startswith("image/") and self.decoration(part, data, ref):
                return
            if ctype.startswith(("image/", "video/")) or _document(ctype, filename):
                self.caption(part, sanitize_filename(filename, ctype, ref) if filename else None)
            self._record(filename, ctype, len(data), ref, data=data)
            return
        self._record(filename, ctype, size, ref)

    def decoration(self, part: Message, data: bytes, ref: str) -> bool:
        """Whether a picture is a signature's logo or icon: the HTML shows it that small and
        it is too few bytes to be a photo shown small. Not listed: every letter from an
        Outlook with a logo in its signature came with a picture, and a "Спасибо" for a
        resolved case reopened it as a letter with a photo."""
        cid = str(part.get("content-id") or "").strip().strip("<>").strip().lower()
        if not cid or cid not in self.decorations or len(data) > _LOGO_BYTES:
            return False
        self.result.note(f"picture {ref} shown at a logo's size (a signature's) not listed")
        return True

    def caption(self, part: Message, filename: str | None) -> None:
        description = part.get("content-description")
        said = caption(filename,
                       decode_header_value(str(description), self.hint) if description else None)
        if said is not None and said not in self.result.captions:
            self.result.captions.append(said)

    def _record(self, filename: str | None, ctype: str, size: int, ref: str,
                data: bytes | None = None) -> None:
        """List an attachment, with its bytes' digest when they are at hand (``data``), or
        say why it was dropped (too many, too big)."""
        r = self.result
        name = sanitize_filename(filename, ctype, ref)
        if "." not in name and ctype in _EXT and len(name) < 140:
            # "noname" (Mail.ru's agent), "Скан": a file without an extension does not open
            # with a double click on staff's computers; its type says what it is
            name += _EXT[ctype]
        if len(r.attachments) >= self.limits.max_attachments:
            # one note for all of them: fifty photos over the cap are not fifty lines for staff
            cap = self.limits.max_attachments
            r.over_cap.append(name)
            note = (f"attachment '{name}' dropped: more than {cap} attachments"
                    if len(r.over_cap) == 1 else
                    f"{len(r.over_cap)} attachments dropped ('{r.over_cap[0]}' … '{name}'): "
                    f"more than {cap} attachments; they stay in the mail")
            if len(r.over_cap) == 1:
                r.over_cap_note = len(r.dropped)
                r.dropped.append(note)
            else:
                r.dropped[r.over_cap_note] = note
            return
        if size > self.limits.max_attachment_bytes:
            r.dropped.append(
                f"attachment '{name}' dropped: {format_size(size)} over the "
                f"{format_size(self.limits.max_attachment_bytes)} limit"
            )
            return
        digest = hashlib.sha256(data).hexdigest() if data is not None else None
        r.attachments.append(Attachment(filename=name, content_type=ctype, size=size, ref=ref,
                                        digest=digest))

    def forward(
        self, part: Message, ctype: str, filename: str | None, ref: str, depth: int, role: str
    ) -> None:
        """A forwarded message: the resident is the forwarder, but the inner author and text are
        what the case is about, so both go into the body; the inner message is also kept as an
        attachment."""
        self.attachment(part, ctype, filename, ref)
        inner = _inner_message(part)
        if inner is None or role != "body":
            return
        if depth >= self.limits.max_depth:
            self.result.note("forwarded messages nested too deep: inner text ignored")
            return
        inner_headers = HeaderView(inner)
        from_raw = unwrap_encoded_address(inner_headers.get("from") or "", self.hint)
        name, addr = email.utils.parseaddr(from_raw)
        name = decode_header_value(name, self.hint)
        who = f"{name} <{addr}>" if name and addr else (addr or name or "unknown sender")
        subject = decode_header_value(inner_headers.get("subject"), self.hint)
        self.result.forwarded_from = self.result.forwarded_from or (addr or name or None)
        self.result.forwarded_ids.extend(
            (i, addr.lower()) for i in _MSGID.findall(inner_headers.get("message-id") or ""))
        header = f"Forwarded from {who}" + (f": {subject}" if subject else ":")
        self.result.segments.append(Segment(header, False, None, forward_header=True))
        self.forwarded += 1
        try:
            self.entity(inner, ref, depth + 1, root=True, role="body")
        finally:
            self.forwarded -= 1

    def opaque_signed(
        self, part: Message, ctype: str, params: dict[str, str], filename: str | None,
        ref: str, depth: int
    ) -> None:
        """An S/MIME mail signed without a separate signature part (Outlook with "send clear
        text signed" off): the letter is the signed content inside the .p7m. The .p7m stays an
        attachment (it holds the signature); the letter inside is walked like an enclosed
        message, its parts numbered under the .p7m's ref. An encrypted .p7m (by its smime-type
        or, without one, by its content type) is said to be one, as PGP/MIME's is: otherwise
        staff get an empty case and no word why. Damaged data is only the attachment."""
        self.attachment(part, ctype, filename, ref)
        data = _payload_bytes(part)
        if (params.get("smime-type", "").lower() in _ENCRYPTED_SMIME
                or _cms_content_type(data) in _ENVELOPED_OIDS):
            self.encrypted()
            return
        if depth >= self.limits.max_depth:
            return
        content = _signed_content(data)
        if not content:
            return
        try:
            inner = email.message_from_bytes(content)
        except Exception:
            return
        self.entity(inner, ref, depth + 1, root=True, role="body")

    def tnef(
        self, part: Message, ctype: str, filename: str | None, ref: str, role: str
    ) -> None:
        """A winmail.dat: kept as an attachment as it is, and the files inside it listed too,
        numbered under its ref in the order they sit in it ("2.1", "2.2"; IMAP cannot fetch
        them, the TNEF part "2" has to be fetched and read). Its text waits in
        ``file_bodies`` for :func:`walk_message`. Unreadable TNEF is only the attachment."""
        data = _payload_bytes(part)
        self._record(filename, ctype, len(data), ref, data=data)
        tnef = _read_tnef(data)
        if tnef is None:
            return
        for n, inner in enumerate(_tnef_files(tnef, self.hint), 1):
            if inner is not None:
                self._record(inner.name, inner.content_type, len(inner.data), _join(ref, n),
                             data=inner.data)
        body = _tnef_body(tnef, self.hint) if role == "body" else None
        if body is not None:
            self.file_bodies.append(
                (body, "text read from the winmail.dat (Outlook rich text) attachment"))

    def returned(self, part: Message, ctype: str) -> None:
        """The original message inside a bounce (RFC 3464 returns all of it, or its headers
        alone): its Message-ID, In-Reply-To, References and Subject's case tag find our case."""
        if ctype == "text/rfc822-headers":
            text = decode_bytes(_payload_bytes(part))
            try:
                inner: Message | None = email.message_from_string(text)
            except Exception:
                inner = None
        else:
            inner = _inner_message(part)
        if inner is None:
            return
        hv = HeaderView(inner)
        for value in hv.get_all("message-id"):
            ids = _MSGID.findall(value) or [value.strip()]
            self.result.returned_ids.extend(i for i in ids if i)
        for name in ("in-reply-to", "references"):
            for value in hv.get_all(name):
                self.result.returned_refs.extend(_MSGID.findall(value))
        subject = decode_header_value(hv.get("subject"), self.hint)
        if subject and self.result.returned_subject is None:
            self.result.returned_subject = subject
        for value in hv.get_all("to"):
            for _, addr in email.utils.getaddresses([value]):
                if "@" in addr:
                    self.result.returned_recipients.append(addr.lower())

    def report_part(self, part: Message) -> None:
        text = _report_text(part)
        for key, value in _DSN_FIELD.findall(text):
            self.result.report_fields.setdefault(key.lower(), value.strip())

    # -- recovery ---------------------------------------------------------------------------

    def broken_multipart(self, part: Message, path: str, depth: int, role: str) -> None:
        """A multipart whose boundary never shows up: look for the boundary actually used; else
        read the body as text so the resident's words are not lost."""
        r = self.result
        r.recovered = True
        raw = _payload_bytes(part)
        if not raw.strip():
            r.note("parsed with recovery: multipart message has no body")
            return
        m = _BOUNDARY_LINE.search(raw)
        if m and depth < self.limits.max_depth:
            boundary = m.group(1).decode("ascii", "replace").replace('"', "")
            synthetic = f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode() + raw
            msg = email.message_from_bytes(synthetic)
            children = (
                [c for c in msg.get_payload() if isinstance(c, Message)]
                if (msg.is_multipart())
                else []
            )
            if children:
                r.note("parsed with recovery: used the MIME boundary found in the body")
                self.children(children, path, depth, role)
                return
        r.note("parsed with recovery: multipart body without usable boundaries read as text")
        if role != "body":
            return
        if _looks_qp(raw):
            raw = quopri.decodestring(raw)
        text = decode_bytes(raw, None, self.hint)
        self.add_text(text, html=bool(_HTML_HINT.search(text[:5000])))


_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
_ENRICHED_TYPES = frozenset({"text/enriched", "text/richtext"})
_TEXT_TYPES = frozenset({"text/plain", "text/html"}) | _ENRICHED_TYPES
# Text that is a file, not a letter's words. Any other text subtype without a file name is read
# as plain text, as RFC 2046 asks: a script's "text/plian" or "text/x-plain" letter reached
# staff as an empty case with an "attachment-1.bin".
_FILE_TEXT_TYPES = _CALENDAR_TYPES | RETURNED_TYPES | frozenset({
    "text/rtf", "text/vcard", "text/x-vcard", "text/directory", "text/csv", "text/xml",
    "text/tab-separated-values", "text/css", "text/javascript", "text/x-diff", "text/x-patch"})


# A signature's logo or icon is a few kilobytes; a photo shown small is still a photo's size.
_LOGO_BYTES = 30 * 1024
# An MMS mailed by an operator's gateway: a SMIL presentation, and its words in "text_0.txt".
_SMIL_TYPES = frozenset({"application/smil", "application/smil+xml"})
# Names a program gave the letter's own words, not a file a person attached: an MMS gateway's
# "text_0.txt", and Exchange's "ATT00001.txt" / "ATT00001.htm" for the text that follows a
# photo placed inside a letter (Apple Mail, an iPhone) or a list's footer
_PROGRAM_NAMED_TEXT = re.compile(r"\s*(?:text_\d{1,2}\.txt|att\d{5}\.(?:txt|html?))\s*",
                                 re.IGNORECASE)
# The names mail programs give the signature over a letter (Outlook, Thunderbird, Apple Mail,
# Enigmail, K-9); a signed document's own signature is named after it ("заявление.pdf.sig").
_LETTER_SIGNATURE_NAMES = frozenset({"smime.p7s", "signature.asc", "signature.p7s",
                                     "openpgp-digital-signature.asc"})


def _letter_signature(role: str, ctype: str, filename: str | None) -> bool:
    """Whether a part is the signature a mail program put over the letter: the second part of
    a multipart/signed, whatever its label (".asc" labelled octet-stream), or a signature
    under a mail program's own name where a gateway or a list made the signed letter a
    multipart/mixed."""
    name = (filename or "").strip().lower()
    if role == "signature":
        return ctype in _SIGNATURE_TYPES or name.endswith((".p7s", ".asc", ".sig"))
    return role != "returned" and ctype in _SIGNATURE_TYPES \
        and name in _LETTER_SIGNATURE_NAMES | {""}


def _int_param(value: str | None) -> int | None:
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    return number if 0 < number < 100_000 else None


_PGP_BEGIN = "-----BEGIN PGP MESSAGE-----"
# An armoured OpenPGP message at a line's start (one quoted with "> " is history, not this
# letter's), to its END line
_PGP_MESSAGE = re.compile(
    r"^-----BEGIN PGP MESSAGE-----[ \t]*\n(?:(?!-----END PGP MESSAGE-----)[^\n]*\n){1,200000}?"
    r"-----END PGP MESSAGE-----[ \t]*$\n?", re.M)
# A uuencoded file, or one that POSIX "uuencode -m" wrote in base64 between "begin-base64" and
# "====" (a building's camera or meter script mailing its snapshot)
_UU_BLOCK = re.compile(
    r"^begin [0-7]{3,4} (?P<name>[^\n]+)\n(?P<code>(?:[!-`][ -`]*\n){1,200000}?)end[ \t]*$\n?"
    r"|^begin-base64 [0-7]{3,4} (?P<name64>[^\n]+)\n"
    r"(?P<code64>(?:[A-Za-z0-9+/=]+[ \t]*\n){1,200000}?)====[ \t]*$\n?",
    re.M)


def _uudecode(code: str) -> bytes | None:
    """The bytes of a uuencoded block's lines, or None when a line is not uuencoding (then the
    "begin" line was the writer's own word). ``a2b_uu`` reads a line whose trailing spaces a
    mailer stripped as if they were there."""
    out = []
    for line in code.split("\n"):
        if not line or line == "`":
            continue
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            return None
    return b"".join(out)


def _b64_block(code: str) -> bytes | None:
    """The bytes of a "begin-base64" block's lines, or None when they are not base64."""
    try:
        return binascii.a2b_base64("".join(code.split()).encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):
        return None


_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"BZh", b"\x1f\x8b")
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _looks_binary(data: bytes) -> bool:
    """A "text" part that is really an image or archive (mislabelled base64 data)."""
    head = data[:4096]
    if not head:
        return False
    if head.startswith(_MAGIC):
        return True
    return len(head) - len(head.translate(None, _CONTROL)) > len(head) // 10


# A plain alternative this short may be a stand-in for the HTML ("This is an HTML-only message",
# "Это сообщение в формате HTML", "View this email in your browser"); longer ones are real text.
_STUB_MAX_WORDS = 40
# …and a plain text under this many words with a quarter of the HTML's words or less leaves the
# request itself to the HTML (a form mailer's one-line summary).
_THIN_PLAIN_WORDS = 30
_WORD = re.compile(r"\w+")
# What a stand-in says: the mail is HTML, or look at it elsewhere (a browser, a web version).
# Gaps are bounded and stop at a sentence end, so a search stays linear on any text.
_STUB_PHRASE = re.compile(
    r"\bhtml\W{0,3}(?:only|format|version|message|e-?mail|letter)"
    r"|\b(?:view|read|see|display|open|activate|enable|turn on|switch)\w{0,12}"
    r"[^.!?\n]{0,60}?\b(?:html|browser|web[- ]?version|online)\b"
    r"|\b(?:support|show|render)\w{0,12}[^.!?\n]{0,20}?\bhtml\b"
    r"|формат\w{0,12}\W{1,3}html|html\W{0,3}формат|поддерж\w{0,12}\W{1,3}html"
    r"|(?:просмотр|прочтени|прочита|открыт|откройте|отображ)\w{0,12}[^.!?\n]{0,60}?"
    r"(?:html|браузер|веб-?верси)"
    r"|(?:веб|web)[- ]?(?:верси|version)",
    re.IGNORECASE,
)


def _readable_branch(branches: list[MimeResult], *, html: bool) -> MimeResult | None:
    """The first alternative whose text is all plain (or all HTML, then converted) and not
    blank."""
    for branch in branches:
        texts = [s for s in branch.segments if not s.forward_header]
        if html:
            texts = [s.finish() for s in texts]
        if texts and all(s.html == html for s in texts) and any(s.text.strip() for s in texts):
            return branch
    return None


def _branch_text(branch: MimeResult) -> str:
    return "\n".join(s.text for s in branch.segments if not s.forward_header)


def _is_short(branch: MimeResult) -> bool:
    """Fewer than _STUB_MAX_WORDS words, counted no further than that."""
    words = _WORD.finditer(_branch_text(branch))
    return sum(1 for _ in itertools.islice(words, _STUB_MAX_WORDS)) < _STUB_MAX_WORDS


def _words(branch: MimeResult) -> list[str]:
    return _WORD.findall(_branch_text(branch).lower())


def _plain_stands_in_for(plain: MimeResult, rich: MimeResult) -> bool:
    """Whether the plain alternative is only a placeholder for the (converted) HTML one: it
    says so, or the HTML carries far more text. Mail whose two alternatives carry the same words
    keeps its plain text (the stand-in's own words would show in the HTML too)."""
    plain_words, rich_words = _words(plain), _words(rich)
    if len(plain_words) < _THIN_PLAIN_WORDS and 4 * len(plain_words) < len(rich_words):
        return True
    if len(plain_words) >= _STUB_MAX_WORDS:
        return False
    stub = _STUB_PHRASE.search(_branch_text(plain))
    if stub is None:
        return False
    phrase = " ".join(_WORD.findall(stub.group(0).lower()))
    return phrase not in " ".join(rich_words)


def _looks_qp(data: bytes) -> bool:
    # quoted-printable is 7-bit by construction: raw 8-bit text with "ХВС=123" in it is not
    if b"=" not in data or not data.isascii():
        return False
    hits = len(_QP_HINT.findall(data))
    return hits >= 2 and (b"=3D" in data or b"=\n" in data or b"=\r\n" in data)


_B64_BODY_LINE = re.compile(rb"[A-Za-z0-9+/]{16,}={0,2}")
_B64_TAIL_LINE = re.compile(rb"[A-Za-z0-9+/]{2,}={0,2}")


def _unlabelled_base64(data: bytes) -> bytes | None:
    """A text body sent as base64 with its Content-Transfer-Encoding left out (1C, PHP scripts):
    the bytes it decodes to, or None. Words have spaces and punctuation; only base64 lines of
    one length (the last may be shorter) that decode to text count."""
    if b" " in data or b"\t" in data:  # a letter's words; base64 has no spaces
        return None
    lines = data.split()
    # the last line holds what is left over, as short as four characters
    if not lines or not all(_B64_BODY_LINE.fullmatch(line) for line in lines[:-1]) \
            or not (_B64_BODY_LINE if len(lines) == 1 else _B64_TAIL_LINE).fullmatch(lines[-1]):
        return None
    if len(lines) > 1 and (len({len(line) for line in lines[:-1]}) != 1
                           or len(lines[-1]) > len(lines[0])):
        return None
    joined = b"".join(lines)
    if len(joined) % 4:
        return None
    try:
        decoded = binascii.a2b_base64(joined)
    except (binascii.Error, ValueError):
        return None
    if not decoded.strip() or _looks_binary(decoded) or (decoded.isascii() and len(lines) == 1):
        return None
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        # single-byte Russian: mostly letters (0xC0-0xFF in cp1251 and KOI8-R) and spaces
        high = len(decoded.translate(None, bytes(range(0xC0))))
        if high * 2 < len(decoded) - decoded.count(b" ") - decoded.count(b"\n"):
            return None
    return decoded


def _text_segment(text: str, *, html: bool, flowed: dict[str, str] | None = None) -> Segment:
    """Body text as a segment: line ends and no-break spaces made plain, flowed lines joined;
    HTML is left for :meth:`Segment.finish` to convert."""
    text = blank_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if html:
        return Segment(text.replace("\u00a0", " "), True, None, pending_html=True)
    text = unescape_references(text).replace("\u00a0", " ")
    if flowed and flowed.get("format", "").lower() == "flowed":
        text = _unflow(text, flowed.get("delsp", "").lower() == "yes")
    return Segment(text, False)


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft-broken lines so sentences are not cut mid-way."""
    out: list[str] = []
    buf = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]
        if line.endswith(" ") and line.rstrip() not in ("--", "") and not line.startswith(">"):
            buf += line[:-1] if delsp else line
        else:
            out.append(buf + line)
            buf = ""
    if buf:
        out.append(buf)
    return "\n".join(out)


def _inner_message(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return _transfer_decoded(part, payload[0])
    data = _payload_bytes(part)
    if not data.strip():
        return None
    try:
        return email.message_from_bytes(data)
    except Exception:
        return None


def _eml_file(part: Message, ctype: str, filename: str | None) -> bool:
    """A forwarded letter attached as a plain file ("письмо.eml" as application/octet-stream,
    as phones and Outlook's "save as" then "attach" send it): read like message/rfc822, so the
    neighbour's complaint a resident passes on is in the case, not only in a file."""
    if ctype not in ("application/octet-stream", "application/eml", "message/x-eml") or \
            not (filename or "").strip().lower().endswith(".eml"):
        return False
    inner = _inner_message(part)
    return inner is not None and ("from" in inner or "subject" in inner)


def _transfer_decoded(part: Message, inner: Message) -> Message:
    """The message a forward encoded in base64 or quoted-printable (RFC 2046 forbids it; some
    webmails and Exchange do it): the standard parser ignores the encoding and reads its code
    as the message, so the forwarded letter's author and words were lost."""
    cte = _transfer_encoding(part)
    if cte not in ("base64", "quoted-printable"):
        return inner
    try:
        raw = inner.as_bytes()
    except Exception:
        return inner
    if cte == "base64" and len(inner) == 0:
        # no header was found in the code: the whole message is its text
        decoded = _b64_decode(raw.strip())
    elif cte == "quoted-printable" and _looks_qp(raw):
        decoded = quopri.decodestring(raw)
    else:
        return inner  # the label is wrong, the message is as written
    try:
        found = email.message_from_bytes(decoded)
    except Exception:
        return inner
    return found if len(found) else inner


def _message_size(msg: Message) -> int:
    """Size of an enclosed message as it sits in the mail, without re-serialising it (the
    generator is slow on deeply nested forwards); header and body bytes, boundaries ignored."""
    total = 0
    stack = [msg]
    while stack:
        part = stack.pop()
        for name, value in part.raw_items():
            total += len(name) + len(str(value)) + 4
        try:
            payload = part.get_payload()
        except (TypeError, ValueError, LookupError):
            # the stdlib decodes an 8-bit body with the part's charset, and an RFC 2231
            # charset (a tuple) or a NUL in it breaks that: count the bytes instead
            payload = part.get_payload(decode=True)
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
        elif isinstance(payload, str | bytes):
            total += len(payload) + 2
    return total


# -- CMS (S/MIME) signed data --------------------------------------------------------------------

_SIGNED_DATA_OID = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2, id-signedData
# id-envelopedData (1.2.840.113549.1.7.3) and id-ct-authEnvelopedData (…1.9.16.1.23)
_ENVELOPED_OIDS = frozenset({bytes.fromhex("2a864886f70d010703"),
                             bytes.fromhex("2a864886f70d0109100117")})
_ENCRYPTED_SMIME = frozenset({"enveloped-data", "authenveloped-data"})
_BER_MAX_DEPTH = 32
_SEQUENCE, _OID, _OCTETS, _OCTETS_CONSTRUCTED, _CONTEXT_0 = 0x30, 0x06, 0x04, 0x24, 0xA0


@dataclass(frozen=True)
class _Ber:
    """One BER element: its tag byte and where its content starts and ends (for an
    indefinite length, where the end-of-contents mark starts), and where the next one starts."""

    tag: int
    start: int
    stop: int
    after: int


def _ber_element(data: bytes, pos: int, depth: int = 0) -> _Ber:
    """Read the element at ``pos``; ValueError on anything malformed or nested too deep."""
    if depth > _BER_MAX_DEPTH or pos + 2 > len(data):
        raise ValueError("truncated or too deep")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:  # a high tag number: skip its base-128 bytes (none we look for)
        while pos < len(data) and data[pos] & 0x80:
            pos += 1
        pos += 1
    if pos >= len(data):
        raise ValueError("truncated")
    first = data[pos]
    pos += 1
    if first == 0x80:  # indefinite length (BER, "openssl smime -stream"): children up to 00 00
        if not tag & 0x20:
            raise ValueError("indefinite length on a primitive element")
        end = pos
        while data[end:end + 2] != b"\0\0":
            end = _ber_element(data, end, depth + 1).after
        return _Ber(tag, pos, end, end + 2)
    if first & 0x80:
        size = first & 0x7F
        if size > 4 or pos + size > len(data):
            raise ValueError("length too long")
        length = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    else:
        length = first
    if pos + length > len(data):
        raise ValueError("truncated")
    return _Ber(tag, pos, pos + length, pos + length)


def _ber_children(data: bytes, parent: _Ber, depth: int) -> list[_Ber]:
    out = []
    pos = parent.start
    while pos < parent.stop:
        child = _ber_element(data, pos, depth + 1)
        if child.after > parent.stop:
            raise ValueError("child runs past its parent")
        out.append(child)
        pos = child.after
    return out


def _ber_child(data: bytes, parent: _Ber, index: int, tag: int, depth: int) -> _Ber:
    children = _ber_children(data, parent, depth)
    if len(children) <= index or children[index].tag != tag:
        raise ValueError(f"expected tag {tag:#x} at {index}")
    return children[index]


def _ber_octets(data: bytes, element: _Ber, depth: int) -> bytes:
    """An OCTET STRING's bytes, joined from its chunks when it is constructed (BER streaming)."""
    if element.tag == _OCTETS:
        return data[element.start:element.stop]
    if element.tag != _OCTETS_CONSTRUCTED or depth > _BER_MAX_DEPTH:
        raise ValueError("not an OCTET STRING")
    return b"".join(_ber_octets(data, c, depth + 1) for c in _ber_children(data, element, depth))


def _cms_content_type(der: bytes) -> bytes | None:
    """The content type OID (its encoded bytes) of a CMS ContentInfo; None for other bytes."""
    try:
        info = _ber_element(der, 0)
        if info.tag != _SEQUENCE:
            return None
        oid = _ber_child(der, info, 0, _OID, 0)
        return der[oid.start:oid.stop]
    except (ValueError, RecursionError):
        return None


def _signed_content(der: bytes) -> bytes | None:
    """The content a CMS SignedData carries (RFC 5652): ContentInfo → [0] SignedData →
    encapContentInfo → [0] OCTET STRING. None for anything else (enveloped, that is encrypted,
    data; a detached signature; damaged bytes). The signature is not checked: nothing here
    trusts it, the sender is read from the headers as for any mail."""
    if _cms_content_type(der) != _SIGNED_DATA_OID:
        return None
    try:
        explicit = _ber_child(der, _ber_element(der, 0), 1, _CONTEXT_0, 0)
        signed = _ber_child(der, explicit, 0, _SEQUENCE, 1)
        # version, digestAlgorithms, encapContentInfo, …
        encap = _ber_child(der, signed, 2, _SEQUENCE, 2)
        content = _ber_child(der, encap, 1, _CONTEXT_0, 3)
        octets = _ber_children(der, content, 4)
        return _ber_octets(der, octets[0], 5) if octets else None
    except (ValueError, RecursionError):
        return None


# -- TNEF (winmail.dat) -------------------------------------------------------------------------
# Outlook sending rich text (RTF) wraps the letter's attachments, and sometimes its text, into
# one application/ms-tnef part (MS-OXTNEF). Everything below reads untrusted bytes: each length
# is checked against what is left, counts and sizes are capped, and any inconsistency makes the
# reader give up (the part then stays the plain "winmail.dat" attachment it always was).

_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_RTF_TYPES = frozenset({"text/rtf", "application/rtf"})
_TNEF_NAMES = frozenset({"winmail.dat", "win.dat"})
_TNEF_SIGNATURE = 0x223E9F78
_TNEF_MAX_BYTES = 64 * 1024 * 1024
_TNEF_MAX_ATTRIBUTES = 4096
_TNEF_MAX_PROPS = 2048
_LEVEL_MESSAGE, _LEVEL_ATTACHMENT = 1, 2
# Attribute ids (low word; the high word repeats the attribute's type).
_ATT_BODY = 0x800C
_ATT_ATTACH_DATA = 0x800F
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACH_REND_DATA = 0x9002
_ATT_MSG_PROPS = 0x9003
_ATT_ATTACHMENT = 0x9005
_ATT_OEM_CODEPAGE = 0x9007
# MAPI property ids and types.
_PR_BODY, _PR_RTF_COMPRESSED, _PR_BODY_HTML = 0x1000, 0x1009, 0x1013
_PR_DISPLAY_NAME = 0x3001
_PR_ATTACH_DATA, _PR_ATTACH_FILENAME, _PR_ATTACH_LONG_FILENAME = 0x3701, 0x3704, 0x3707
_PR_ATTACH_MIME_TAG = 0x370E
_PR_INTERNET_CPID = 0x3FDE
_PT_STRING8, _PT_UNICODE, _PT_BINARY, _PT_MV = 0x001E, 0x001F, 0x0102, 0x1000
# Every fixed-size value is padded to four bytes in TNEF; variable ones carry a count and sizes.
_PT_FIXED = {0x0002: 4, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x000A: 4,
             0x000B: 4, 0x0014: 8, 0x0040: 8, 0x0048: 16}
_PT_VARIABLE = frozenset({0x000D, _PT_STRING8, _PT_UNICODE, 0x00FB, _PT_BINARY})
# Windows code pages whose Python codec is not simply "cp<number>".
_CODEPAGES = {65001: "utf-8", 20866: "koi8-r", 21866: "koi8-u", 28595: "iso8859-5",
              28591: "latin-1"}
_MIME_TAG = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")
# The first listed type wins for an extension (".jpg" is image/jpeg, not image/pjpeg).
_TYPE_BY_EXT = {ext: ctype for ctype, ext in reversed(_EXT.items())} | {".jpeg": "image/jpeg"}

_Prop = tuple[int, bytes]  # a MAPI property's type (without the multi-value flag), first value


class _Reader:
    """Little-endian reads that raise ValueError instead of running past the end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, size: int) -> bytes:
        if size < 0 or size > self.left:
            raise ValueError("truncated")
        self.pos += size
        return self.data[self.pos - size:self.pos]

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "little")


@dataclass
class _TnefAttachment:
    title: bytes | None = None
    data: bytes | None = None
    props: dict[int, _Prop] = field(default_factory=dict)


@dataclass
class _Tnef:
    codepage: int | None = None
    body: bytes | None = None
    props: dict[int, _Prop] = field(default_factory=dict)
    attachments: list[_TnefAttachment] = field(default_factory=list)

    def add(self, level: int, attribute: int, value: bytes) -> None:
        if attribute == _ATT_ATTACH_REND_DATA:  # each attachment starts with its rendering
            self.attachments.append(_TnefAttachment())
        elif level == _LEVEL_ATTACHMENT:
            if not self.attachments:  # a writer that skipped the rendering attribute
                self.attachments.append(_TnefAttachment())
            current = self.attachments[-1]
            if attribute == _ATT_ATTACH_TITLE:
                current.title = value
            elif attribute == _ATT_ATTACH_DATA:
                current.data = value
            elif attribute == _ATT_ATTACHMENT:
                current.props = _mapi_props(value)
        elif attribute == _ATT_BODY:
            self.body = value
        elif attribute == _ATT_OEM_CODEPAGE and len(value) >= 4:
            self.codepage = int.from_bytes(value[:4], "little")
        elif attribute == _ATT_MSG_PROPS:
            self.props = _mapi_props(value)


def _read_tnef(data: bytes) -> _Tnef | None:
    """The attributes of a TNEF stream, or None if it is not one or is damaged anywhere (a wrong
    checksum, a length running past the end, an unknown level, too many attributes)."""
    if len(data) > _TNEF_MAX_BYTES:
        return None
    reader = _Reader(data)
    tnef = _Tnef()
    try:
        if reader.uint(4) != _TNEF_SIGNATURE:
            return None
        reader.take(2)  # the legacy key ties OLE attachments to the message: nothing to read
        for _ in range(_TNEF_MAX_ATTRIBUTES):
            if not reader.left:
                break
            level, attribute = reader.uint(1), reader.uint(4) & 0xFFFF
            value = reader.take(reader.uint(4))
            checksum = reader.uint(2)
            if level not in (_LEVEL_MESSAGE, _LEVEL_ATTACHMENT) or checksum != sum(value) & 0xFFFF:
                return None
            tnef.add(level, attribute, value)
    except ValueError:
        return None
    return None if reader.left else tnef  # else more attributes than any real message has


def _mapi_props(data: bytes) -> dict[int, _Prop]:
    """The properties of an attMsgProps or attAttachment block by id (first value only; named
    properties are skipped, their ids mean nothing outside the sender's store). Reading stops
    at the first property it cannot size, keeping the ones before it."""
    reader = _Reader(data)
    props: dict[int, _Prop] = {}
    try:
        for _ in range(min(reader.uint(4), _TNEF_MAX_PROPS)):
            tag = reader.uint(4)
            ptype, pid = tag & 0xFFFF, tag >> 16
            if pid >= 0x8000:  # named: a GUID, then a number (kind 0) or a UTF-16 name (kind 1)
                reader.take(16)
                if reader.uint(4) == 1:
                    size = reader.uint(4)
                    reader.take(size + -size % 4)
                else:
                    reader.take(4)
            value = _mapi_value(reader, ptype)
            if pid < 0x8000:
                props.setdefault(pid, (ptype & ~_PT_MV, value))
    except ValueError:
        pass
    return props


def _mapi_value(reader: _Reader, ptype: int) -> bytes:
    """Read one property's value(s), returning the first; ValueError for a type of unknown
    size (nothing after it can be found then)."""
    base = ptype & ~_PT_MV
    if base in _PT_VARIABLE:  # a count even for a single value, then size, bytes, padding
        count, first = reader.uint(4), b""
        for n in range(count):  # each value takes at least 4 bytes: bounded by the data
            size = reader.uint(4)
            value = reader.take(size)
            reader.take(-size % 4)
            first = value if n == 0 else first
        return first
    width = _PT_FIXED.get(base)
    if width is None:
        raise ValueError(f"MAPI type {ptype:#x}")
    count, first = (reader.uint(4) if ptype & _PT_MV else 1), b""
    for n in range(count):  # each value takes at least 4 bytes: bounded by the data
        value = reader.take(width)
        first = value if n == 0 else first
    return first


def _codec(codepage: int | None) -> str | None:
    if codepage is None:
        return None
    name = _CODEPAGES.get(codepage, f"cp{codepage}")
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def _tnef_string(value: bytes | None, unicode: bool, codec: str | None, hint: str | None) -> str:
    """A TNEF or MAPI string without its terminating NUL: UTF-16 for PT_UNICODE, otherwise
    8-bit text in the message's code page (cp1252 when it names none, as Outlook does)."""
    if not value:
        return ""
    if unicode:
        return value.decode("utf-16-le", "replace").split("\0", 1)[0]
    return decode_bytes(value.split(b"\0", 1)[0], codec or "cp1252", hint)


def _prop_string(props: dict[int, _Prop], pid: int, codec: str | None, hint: str | None) -> str:
    ptype, value = props.get(pid, (0, b""))
    if ptype not in (_PT_STRING8, _PT_UNICODE, _PT_BINARY):
        return ""
    return _tnef_string(value, ptype == _PT_UNICODE, codec, hint)


@dataclass(frozen=True)
class _TnefFile:
    name: str
    content_type: str
    data: bytes


def _tnef_files(tnef: _Tnef, hint: str | None) -> list[_TnefFile | None]:
    """The attachments in stream order (their position is their number); None for one without
    bytes (an embedded Outlook item, a link)."""
    codec = _codec(tnef.codepage)
    out: list[_TnefFile | None] = []
    for att in tnef.attachments:
        data = att.data
        if data is None and att.props.get(_PR_ATTACH_DATA, (0, b""))[0] == _PT_BINARY:
            data = att.props[_PR_ATTACH_DATA][1]
        if data is None:
            out.append(None)
            continue
        # the long name first: the title is an 8.3 stand-in ("ФОТОПР~1.JPG")
        name = (_prop_string(att.props, _PR_ATTACH_LONG_FILENAME, codec, hint)
                or _tnef_string(att.title, False, codec, hint)
                or _prop_string(att.props, _PR_ATTACH_FILENAME, codec, hint)
                or _prop_string(att.props, _PR_DISPLAY_NAME, codec, hint))
        tag = _prop_string(att.props, _PR_ATTACH_MIME_TAG, codec, hint).strip().lower()
        out.append(_TnefFile(name, _guess_type(name, tag), data))
    return out


def _guess_type(name: str, tag: str) -> str:
    """By the file's extension (what the resident's viewer goes by too), else the MIME tag Outlook
    recorded, else plain bytes."""
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    guessed = _TYPE_BY_EXT.get(ext) or (mimetypes.guess_type("x" + ext, strict=False)[0]
                                         if ext else None)
    return guessed or (tag if _MIME_TAG.fullmatch(tag) else "application/octet-stream")


def _tnef_body(tnef: _Tnef, hint: str | None) -> Segment | None:
    """The letter's text: plain text (attBody, PR_BODY) first, then the HTML, then the RTF."""
    codec = _codec(tnef.codepage)
    for plain in (_tnef_string(tnef.body, False, codec, hint),
                  _prop_string(tnef.props, _PR_BODY, codec, hint)):
        if plain.strip():
            return _text_segment(plain, html=False)
    cpid = tnef.props.get(_PR_INTERNET_CPID, (0, b""))[1]
    html_codec = _codec(int.from_bytes(cpid[:4], "little")) if len(cpid) >= 4 else codec
    html = _prop_string(tnef.props, _PR_BODY_HTML, html_codec, hint)
    if html.strip():
        return _text_segment(html, html=True)
    ptype, compressed = tnef.props.get(_PR_RTF_COMPRESSED, (0, b""))
    rtf = _lzfu_decompress(compressed) if ptype == _PT_BINARY else None
    converted = _rtf_text(rtf, codec, hint) if rtf else None
    if converted is None or not converted[0].strip():
        return None
    text, is_html = converted
    return _text_segment(text, html=is_html)


# -- compressed RTF (MS-OXRTFCP) ------------------------------------------------------------------

_LZFU_COMPRESSED, _LZFU_RAW = 0x75465A4C, 0x414C454D  # "LZFu", "MELA"
_LZFU_PREFIX = (
    b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
    b"\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
    b"\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
)
# Enough for any letter's text (Outlook keeps pasted pictures as attachments, leaving only a
# placeholder in the RTF). Decompressing and reading RTF are Python loops at about a microsecond
# a byte: text past this is lost rather than a hostile mail stalling the poll loop.
_RTF_MAX_BYTES = 512 * 1024


def _lzfu_decompress(data: bytes) -> bytes | None:
    """PR_RTF_COMPRESSED to RTF: a 16-byte header, then LZ77 over a 4 KB ring dictionary that
    starts filled with common RTF words. The CRC is not checked: the TNEF checksum covered these
    bytes already, and every read below is bounds-checked anyway."""
    if len(data) < 16:
        return None
    raw_size = int.from_bytes(data[4:8], "little")
    kind = int.from_bytes(data[8:12], "little")
    limit = min(raw_size, _RTF_MAX_BYTES)
    if kind == _LZFU_RAW:
        return data[16:16 + limit]
    if kind != _LZFU_COMPRESSED:
        return None
    ring = bytearray(4096)
    ring[:len(_LZFU_PREFIX)] = _LZFU_PREFIX
    write = len(_LZFU_PREFIX)
    out = bytearray()
    pos = 16
    while pos < len(data) and len(out) < limit:
        control = data[pos]
        pos += 1
        for bit in range(8):
            if pos >= len(data) or len(out) >= limit:
                break
            if not control & (1 << bit):
                out.append(data[pos])
                ring[write] = data[pos]
                write = (write + 1) & 0xFFF
                pos += 1
                continue
            if pos + 2 > len(data):
                return bytes(out)
            token = int.from_bytes(data[pos:pos + 2], "big")
            pos += 2
            offset, length = token >> 4, (token & 0xF) + 2
            if offset == write:  # a reference to the write position ends the stream
                return bytes(out)
            for i in range(length):  # byte by byte: a run may read what it has just written
                byte = ring[(offset + i) & 0xFFF]
                out.append(byte)
                ring[write] = byte
                write = (write + 1) & 0xFFF
    return bytes(out[:limit])


# -- RTF to text ----------------------------------------------------------------------------------

_RTF_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # a control word and its parameter
    rb"|\\'([0-9a-fA-F]{2})"  # a byte in the document's code page
    rb"|\\(.)"  # a control symbol
    rb"|([{}])"
    rb"|[\r\n]+"  # line breaks in the source are no text
    rb"|([^\\{}\r\n]+)",
    re.S,
)
# Groups that hold no letter text: tables of fonts, colours and styles, metadata, pictures,
# field instructions (a hyperlink's URL; its shown text is in \fldrslt and is kept).
_RTF_SKIP = frozenset({
    "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "fldinst", "header",
    "headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "footnote",
    "listtable", "listoverridetable", "revtbl", "rsidtbl", "generator", "xmlnstbl",
    "themedata", "colorschememapping", "latentstyles", "datastore", "filetbl", "pgdsctbl",
    "nonshppict", "private", "bkmkstart", "bkmkend", "xe", "tc", "mhtmltag", "htmlbase",
})
_RTF_CHARS = {
    "par": "\n", "line": "\n", "sect": "\n", "page": "\n", "row": "\n", "tab": "\t",
    "cell": "\t", "emdash": "—", "endash": "–", "bullet": "•", "lquote": "‘", "rquote": "’",
    "ldblquote": "“", "rdblquote": "”", "emspace": " ", "enspace": " ", "qmspace": " ",
}
_RTF_SYMBOLS = {"\\": "\\", "{": "{", "}": "}", "~": " ", "_": "-", "\n": "\n", "\r": "\n"}
_RTF_MAX_DEPTH = 256


@dataclass
class _RtfGroup:
    skip: bool = False  # a destination with no text for the reader
    uc: int = 1  # how many fallback characters follow a \uN
    htmlrtf: bool = False  # encapsulated HTML: RTF-only formatting, not part of the HTML
    htmltag: bool = False  # encapsulated HTML: a piece of the original HTML source


class _RtfText:
    """Collects the text of an RTF document. Its bytes (in the document's code page) are decoded
    in one go at the end, so the charset guess sees whole words and a hostile document of
    alternating bytes and characters costs one decode, not one per piece; the characters that
    come as such (\\uN, typographic symbols) wait in ``chars``, a NUL marking each one's place
    (NUL is the same byte in every code page, and never text in RTF)."""

    def __init__(self, codec: str | None, hint: str | None) -> None:
        self.codec, self.hint = codec, hint
        self.data = bytearray()
        self.chars: list[str] = []

    def add(self, text: str | bytes) -> None:
        if isinstance(text, bytes):
            self.data += text.replace(b"\0", b"")
        elif text.isascii():
            self.data += text.encode("ascii").replace(b"\0", b"")
        else:
            self.data += b"\0"
            self.chars.append(text)

    def text(self) -> str:
        parts = decode_bytes(bytes(self.data), self.codec or "cp1252", self.hint).split("\0")
        if len(parts) != len(self.chars) + 1:  # a decoder that did not keep NULs: text only
            return "".join(parts)
        pieces = [p for pair in itertools.zip_longest(parts, self.chars, fillvalue="")
                  for p in pair]
        # characters beyond the BMP come as two \\uN halves of a UTF-16 surrogate pair
        joined = "".join(pieces).encode("utf-16-le", "surrogatepass")
        return joined.decode("utf-16-le", "replace")


def _rtf_text(rtf: bytes, codec: str | None, hint: str | None) -> tuple[str, bool] | None:
    """The text of an RTF body and whether it is HTML: Outlook stores an HTML letter as RTF with
    the HTML source encapsulated (\\fromhtml1, MS-OXRTFEX), which is taken out as it was.
    Only what carries the letter's words is read; layout, fonts, pictures and the like are
    skipped. None if it is no RTF at all."""
    if not rtf.lstrip().startswith(b"{\\rtf"):
        return None
    out = _RtfText(codec, hint)
    state = _RtfGroup()
    stack: list[_RtfGroup] = []
    overflow = 0  # groups nested past _RTF_MAX_DEPTH: skipped whole, only counted
    html = star = False
    skip_next = 0  # fallback characters still to drop after a \uN
    pos = 0
    while pos < len(rtf):
        m = _RTF_TOKEN.match(rtf, pos)
        if m is None:  # a lone backslash at the end
            break
        pos = m.end()
        word, param, hexbyte, symbol, brace, text = m.groups()
        after_star, star = star, symbol == b"*"  # {\*\dest …}: a destination to skip if unknown
        if brace is not None:
            skip_next = 0
            if brace == b"}":
                if overflow:
                    overflow -= 1
                elif stack:
                    state = stack.pop()
            elif len(stack) < _RTF_MAX_DEPTH and not overflow:
                stack.append(state)
                state = _RtfGroup(state.skip, state.uc, state.htmlrtf, state.htmltag)
            else:
                overflow += 1
            continue
        if overflow:
            continue
        shown = not state.skip and (state.htmltag or not (html and state.htmlrtf))
        if word is not None:
            name, number = word.decode("ascii"), int(param) if param else None
            if name == "bin":  # raw binary data follows: step over it
                pos += max(number or 0, 0)
            elif after_star:
                state.htmltag = html and name == "htmltag"
                state.skip = state.skip or not state.htmltag
            elif name in _RTF_SKIP:
                state.skip = True
            elif name == "fromhtml":
                html = number != 0
            elif name == "htmlrtf":
                state.htmlrtf = number != 0
            elif name == "ansicpg" and number is not None:
                out.codec = _codec(number) or out.codec
            elif name == "uc" and number is not None:
                state.uc = max(0, min(number, 8))
            elif name == "u" and number is not None:
                if shown:
                    out.add(chr(number % 65536))
                skip_next = state.uc
            elif name in _RTF_CHARS and shown:
                out.add(_RTF_CHARS[name])
        elif symbol is not None:
            if shown and not star:
                out.add(_RTF_SYMBOLS.get(symbol.decode("latin-1"), ""))
        elif (chunk := bytes.fromhex(hexbyte.decode()) if hexbyte else text) is not None:
            dropped = min(skip_next, len(chunk))
            skip_next -= dropped
            if shown and chunk[dropped:]:
                out.add(chunk[dropped:])
    return out.text(), html


def dsn_address(fields: dict[str, str]) -> str | None:
    """The address a delivery-status record is about, as we wrote it: a mail server that
    forwarded the letter (an alias, a domain forwarding to Gmail) reports the forwarding target
    as Final-Recipient and the address it received, the resident's, as Original-Recipient."""
    values = [fields.get("original-recipient"), fields.get("final-recipient")]
    addresses = [v.split(";", 1)[-1].strip().strip("<>").strip() for v in values if v]
    return next((a for a in addresses if "@" in a), addresses[-1] if addresses else None)


def _dsn_records(part: Message) -> list[DsnRecipient]:
    out = []
    for block in re.split(r"\n\s*\n", _report_text(part)):
        fields = {k.lower(): v.strip() for k, v in _DSN_FIELD.findall(block)}
        address = dsn_address(fields)
        if not address:
            continue
        out.append(
            DsnRecipient(
                address=address.lower(),
                action=fields.get("action", "").lower(),
                status=fields.get("status", ""),
                diagnostic=fields.get("diagnostic-code", ""),
            )
        )
    return out


def _report_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                # raw 8-bit header values (a Russian Diagnostic-Code) come as surrogates
                blocks.append("\n".join(
                    f"{k}: {unfold(decode_bytes(str(v).encode('utf-8', 'surrogateescape')))}"
                    for k, v in block.raw_items()))
                # the stdlib reads only message/delivery-status as a list of field blocks:
                # another report type (message/global-delivery-status) is one "message" whose
                # body holds the per-recipient blocks
                rest = _payload_bytes(block) if not block.is_multipart() else b""
                if rest.strip():
                    blocks.append(decode_bytes(rest).replace("\r\n", "\n").strip("\n"))
        return "\n\n".join(blocks)
    return decode_bytes(_payload_bytes(part)).replace("\r\n", "\n")


def walk_message(msg: Message, limits: MimeLimits, hint: str | None = None) -> MimeResult:
    walker = _Walker(limits, hint)
    walker.entity(msg, "", 0, root=True)
    result = walker.result
    for seg in result.segments:
        seg.finish()
    own_text = any(s.text.strip() for s in result.segments if not s.forward_header)
    if walker.file_bodies and not own_text:
        body, note = walker.file_bodies[0]
        result.segments.append(body.finish())
        result.note(note)
    return result
