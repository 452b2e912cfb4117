"""Separating what the resident wrote now from the quoted history and signatures.

The case and the classifier should see the new text only: a reply quoting our whole
acknowledgement would otherwise be classified as our own template. The rules are deliberately
conservative ("when unsure, keep more text"): a cut needs a recognisable reply header, a quote
block or a signature separator, and sign-offs such as "С уважением, Иван, кв. 12" are kept because
they carry contact data. The raw mail and ``full_text`` keep everything.
"""

from __future__ import annotations

import re
from itertools import pairwise

__all__ = [
    "is_forward_subject",
    "is_reply_subject",
    "strip_quotes",
    "strip_signature",
    "trailing_attribution",
]

_ORIGINAL = re.compile(
    r"^[\s>]*[-_=*]{2,}\s*(original message|исходное сообщение|оригинальное сообщение|"
    r"ursprüngliche nachricht|reply message|ответное сообщение)\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^[\s>]*([-_=*]{2,}\s*)?(forwarded message|пересылаемое сообщение|пересланное сообщение|"
    r"переслано|begin forwarded message|начало переадресованного сообщения|"
    r"weitergeleitete nachricht|message transféré)",
    re.IGNORECASE,
)
_WROTE = re.compile(
    r"(wrote|writes|пишет|пишут|писали|написал|написала|написали|написал\(а\)|schrieb|a écrit|"
    r"escribió|scrisse|napisał\(a\)|napisał|schreef)\s*:\s*$",
    re.IGNORECASE,
)
_WROTE_INNER = re.compile(
    r"\b(wrote|schrieb|пишет|писали|написал\w*|a écrit|escribió)\b.{0,200}:\s*$", re.IGNORECASE
)
_ADDR_COLON = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+\s*>?\]?\s*:\s*$")
_STARTER = re.compile(
    r"^\s*(>\s*)?(on|am|le|el|il|op|em|w dniu|den|в|\d|(пн|вт|ср|чт|пт|сб|вс|mon|tue|wed|thu|fri|"
    r"sat|sun|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье)\b|\*?(от|from):)",
    re.IGNORECASE,
)
_HEADER_KEY = re.compile(
    r"^\s*(?:\*\s*)?(from|to|cc|sent|date|subject|reply-to|от|кому|копия|отправлено|дата|тема|"
    r"von|an|gesendet|betreff|datum|de|envoyé|objet|à)\s*:\*?\s*",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_SENT_KEY = re.compile(r"^\s*(?:\*\s*)?(sent|отправлено|gesendet|envoyé)\s*:", re.IGNORECASE)
_MARKS = str.maketrans("", "", "\u200e\u200f")
_FROM_KEY = re.compile(r"^\s*(?:\*\s*)?(from|от|von|de)\s*:", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*[_\-=]{8,}\s*$")
_SIG_DASHES = re.compile(r"^--\s?$")
_MOBILE = re.compile(
    r"^\s*(sent from my|sent from |sent with |sent via |get outlook for|"
    r"отправлено (из|с|со|через)\b.{0,40}$|получить outlook для|"
    r"отправлено с моего|отправлено из мобильной|von meinem .* gesendet|envoyé de mon|"
    r"enviado desde mi|скачайте .*почт)",
    re.IGNORECASE,
)
_FWD_SUBJECT = re.compile(
    r"^\s*(fwd?|fw|пересл|переслано|пересылка|wg|tr)"
    r"\s*(?:\[\d+\]\s*)?:",
    re.IGNORECASE,
)
_REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|отв|ответ)\s*(?:\[\d+\]\s*)?:", re.IGNORECASE)
# After a "-- " separator, the lines that say where the resident lives: the flat and building
# are read from the text, and a signature is where many residents keep their address.
_ADDRESS_LINE = re.compile(
    r"\b(?:кв|квартира|flat|apt|apartment|д|дом)\.?\s*(?:№\s*)?\d"
    r"|\b(?:ул|улица|пр-т|проспект|пер|переулок|бульвар|б-р|наб)\.?\s+[^\W\d_]",
    re.IGNORECASE,
)


def is_forward_subject(subject: str) -> bool:
    """Forwarded mail keeps its inner header block: that content *is* the resident's report."""
    return bool(_FWD_SUBJECT.match(subject or ""))


def is_reply_subject(subject: str) -> bool:
    """"Re:", "AW:", "Отв:": the letter answers another, so ">" lines in it are quotes."""
    return bool(_REPLY_SUBJECT.match(subject or ""))


# The Bat! quotes with the author's initials before the ">" ("Д> ", "ИИ> ").
_INITIALS_QUOTE = re.compile(r"^\s*[A-Za-zА-Яа-яЁё]{1,3}>(\s|$)")


def _is_quote_line(line: str) -> bool:
    return line.lstrip().startswith(">") or bool(_INITIALS_QUOTE.match(line))


# A reply's attribution names an address, a time or a date; "Мария (кв. 7) пишет:" in a
# resident's own letter names a flat.
_WHEN = re.compile(r"\d{1,2}:\d{2}|\b\d{4}\b|\b\d{1,2}[./-]\d{1,2}\b")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def _has_contact(text: str) -> bool:
    return "@" in text or bool(_WHEN.search(text))


def _attribution_start(lines: list[str], j: int) -> int | None:
    """If line ``j`` ends an "On <date>, <name> wrote:" attribution (possibly wrapped over up to
    three lines by the sender's client), return the line where it starts."""
    line = lines[j].strip()
    if not line.endswith(":") or len(line) > 300:
        return None
    wrote = bool(_WROTE.search(line)) or bool(_WROTE_INNER.search(line) and _has_contact(line))
    if not wrote and not _ADDR_COLON.search(line):
        return None
    for k in (3, 2):
        i = j - k + 1
        if i < 0:
            continue
        window = [lines[n].strip() for n in range(i, j + 1)]
        if not all(window) or sum(len(w) for w in window) > 300:
            continue
        if any(_is_quote_line(lines[n]) and not _is_quote_line(lines[j]) for n in range(i, j)):
            continue
        joined = " ".join(window)
        if _STARTER.match(window[0]) and _has_contact(joined):
            return i
    if _has_contact(line) and (wrote or _STARTER.match(line)):
        return j
    return None


def trailing_attribution(text: str) -> int | None:
    """Where a reply attribution that ends ``text`` starts (an offset into ``text``), or None:
    what introduces a quote container in HTML ("11.03.2025 12:15, УК пишет:")."""
    lines = text.rstrip().split("\n")
    start = _attribution_start(lines, len(lines) - 1)
    return None if start is None else sum(len(line) + 1 for line in lines[:start])


def _header_block_at(lines: list[str], i: int) -> bool:
    """An Outlook/Hotmail style "From: … Sent: … To: … Subject:" block starts at line ``i``."""
    if not _HEADER_KEY.match(lines[i]):
        return False
    keys = 0
    has_from = False
    stamped = False
    n = i
    while n < len(lines) and n < i + 8:
        line = lines[n]
        if _HEADER_KEY.match(line):
            keys += 1
            has_from = has_from or bool(_FROM_KEY.match(line))
            # a mail's header names an address or a sending time; a formal statement's
            # "От: Иванов, кв. 12 / Кому: директору / Дата: 15.01.2024" names neither
            stamped = stamped or "@" in line or bool(_SENT_KEY.match(line)) \
                or bool(_CLOCK.search(line.translate(_MARKS)))
        elif line.strip() and keys and not line.startswith((" ", "\t")):
            break
        n += 1
    return keys >= 3 and has_from and stamped


def _next_text(lines: list[str], n: int) -> int:
    """The first non-blank line at or after ``n`` (``len(lines)`` if none)."""
    while n < len(lines) and not lines[n].strip():
        n += 1
    return n


def _prose_attribution(lines: list[str], start: int, j: int) -> bool:
    """An attribution without a client's stamp that is not followed by quoted lines is the
    resident's own sentence: "В ответе от 15.01 вы написали: «…»", "5 декабря в 10:00 ваш
    диспетчер мне написал:". Mail clients stamp their attributions with an address, or with a
    time and a full date ("11.03.2025, 12:15"); a resident recalling last week names no year."""
    joined = " ".join(lines[start:j + 1])
    if "@" in joined or (_CLOCK.search(joined) and _YEAR.search(joined)):
        return False
    nxt = _next_text(lines, j + 1)
    return nxt >= len(lines) or not _is_quote_line(lines[nxt])


def _bottom_posted(lines: list[str], j: int) -> bool:
    """Whether the attribution ending at line ``j`` introduces quoted lines that the writer's
    own text then follows (The Bat!'s greeting, "Вы писали …:", the quote, the answer)."""
    n = _next_text(lines, j + 1)
    if n >= len(lines) or not _is_quote_line(lines[n]):
        return False
    while n < len(lines) and (not lines[n].strip() or _is_quote_line(lines[n])):
        n += 1
    return n < len(lines) and not _SIG_DASHES.match(lines[n])


def _first_marker(lines: list[str], forward: bool) -> int | None:
    for j, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _FORWARD.match(stripped):
            return None  # everything below is a forwarded message: keep it
        if not forward and _ORIGINAL.match(stripped):
            return j
        if not forward and _header_block_at(lines, j):
            # An underscore/dash rule right above belongs to the history too.
            k = j - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            return k if k >= 0 and _SEPARATOR.match(lines[k]) else j
        start = _attribution_start(lines, j)
        if start is not None and not _prose_attribution(lines, start, j):
            # A quote answered below is no history to cut: the quoted lines go further down.
            return None if _bottom_posted(lines, j) else start
    return None


def _forward_at(lines: list[str]) -> int:
    """The writer's own line that introduces a forwarded letter (a forward marker inside a
    quote does not count), or ``len(lines)``."""
    for n, line in enumerate(lines):
        if not _is_quote_line(line) and _FORWARD.match(line.strip()):
            return n
    return len(lines)


_ONE_LEVEL = re.compile(r"^\s*> ?")


def _unquote_forward(lines: list[str]) -> list[str]:
    """Apple Mail quotes the whole letter under its "Begin forwarded message:" with "> ". That
    letter is the report: it loses the one level of quoting; other layouts are kept as they are."""
    body = [line for line in lines[1:] if line.strip()]
    if not body or not all(line.lstrip().startswith(">") for line in body):
        return lines
    return [lines[0], *(_ONE_LEVEL.sub("", line, count=1) for line in lines[1:])]


def _has_attribution(lines: list[str]) -> bool:
    return any(_attribution_start(lines, n) is not None for n in range(len(lines)))


def _drop_quoted(lines: list[str]) -> list[str]:
    """Bottom-posted and interleaved replies lose their ``>`` lines and the attribution lines
    that introduce them."""
    if not any(_is_quote_line(line) for line in lines):
        return lines
    kept: list[str] = []
    n = 0
    while n < len(lines):
        line = lines[n]
        if _is_quote_line(line):
            n += 1
            continue
        start = _attribution_start(lines, n)
        if start is not None:
            nxt = _next_text(lines, n + 1)
            if nxt >= len(lines) or _is_quote_line(lines[nxt]):
                # Drop the attribution (and its wrapped first lines) with its quote.
                del kept[len(kept) - (n - start) :]
                n = nxt
                continue
        kept.append(line)
        n += 1
    return kept


def strip_quotes(
    text: str, *, forward: bool = False, quote_at: int | None = None, reply: bool = True
) -> str:
    """Return the new part of a reply.

    Top-posted replies are cut at the first reply header; bottom-posted and interleaved replies
    lose their ``>`` lines and the attribution lines that introduce them. A letter forwarded
    below the writer's text is kept, ``>`` lines included. ``quote_at`` is where an HTML quote
    container started (from :func:`~intake.email.html_text.html_to_text`). ``reply`` is False
    for a brand-new letter (no In-Reply-To, References or "Re:"): without an attribution line
    its ``>`` lines are the writer's own ("> 16 градусов"), not a quote.
    """
    # A forward's quote container holds the letter forwarded, which is the report itself.
    if quote_at is not None and not forward and text[:quote_at].strip():
        text = text[:quote_at]
    lines = text.split("\n")
    marker = _first_marker(lines, forward)
    if marker is not None and any(
        line.strip() and not _is_quote_line(line) for line in lines[:marker]
    ):
        lines = lines[:marker]
    fwd = _forward_at(lines)
    own, forwarded = lines[:fwd], _unquote_forward(lines[fwd:])
    if reply or marker is not None or _has_attribution(own):
        own = _drop_quoted(own)
    return _tidy(own + forwarded)


def _letter_start(lines: list[str], n: int) -> bool:
    """A forwarded or original letter's first line: a writer's signature ends above it."""
    stripped = lines[n].strip()
    return bool(_FORWARD.match(stripped) or _ORIGINAL.match(stripped)) \
        or _header_block_at(lines, n)


_BARE_LINK = re.compile(r"^<?https?://\S+>?$")


def _signature_tail(line: str) -> bool:
    """What a phone or webmail may put under its "Sent from" line: blanks, rules, bare links."""
    stripped = line.strip()
    return not stripped or bool(_SIG_DASHES.match(line) or _SEPARATOR.match(line)
                                or _BARE_LINK.match(stripped))


def _mobile_line(lines: list[str], continues: bool) -> int | None:
    """The "Sent from my iPhone" line that ends the text, or None. Only blanks, rules, links and
    more such lines may follow it: "Отправлено через Госуслуги 20.11, ответа нет." with the
    letter going on below is the resident's own sentence."""
    cut = None
    for n in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
        if _MOBILE.match(lines[n]):
            if continues or any(line.strip() for line in lines[:n]):
                cut = n
        elif not _signature_tail(lines[n]):
            break
    return cut


def _strip_section(lines: list[str], continues: bool) -> list[str]:
    """One letter's text without its signature; the address lines of a ``-- `` signature stay
    (the case's building and flat are read from the text)."""
    address: list[str] = []
    for n in range(len(lines) - 1, -1, -1):
        if (
            _SIG_DASHES.match(lines[n])
            and len(lines) - n <= 30
            and (continues or any(line.strip() for line in lines[:n]))
        ):
            address = [line for line in lines[n + 1 :] if _ADDRESS_LINE.search(line)]
            lines = lines[:n]
            break
    cut = _mobile_line(lines, continues)
    if cut is not None:
        lines = lines[:cut]
    while lines and (not lines[-1].strip() or _SEPARATOR.match(lines[-1])):
        lines.pop()
    return [*lines, "", *address] if address else lines


def strip_signature(text: str, *, continues: bool = False) -> str:
    """Drop an RFC 3676 ``-- `` signature and "Sent from my phone" lines at the end of the
    writer's text and of each letter forwarded below it (Gmail puts the forwarder's signature
    above "Forwarded message": the letter under it is the report).

    ``continues``: the text goes on from an earlier part of the same letter (an iPhone puts
    "Отправлено с iPhone" in a part of its own after an inline photo), so a signature may
    stand at its very top; otherwise a letter that is nothing but such a line is kept."""
    lines = text.split("\n")
    starts = [_letter_start(lines, n) for n in range(len(lines))]
    # a header block right under "Forwarded message" belongs to the same letter
    bounds = [0, *(n for n in range(1, len(lines)) if starts[n] and not starts[n - 1]),
              len(lines)]
    out: list[str] = []
    for a, b in pairwise(bounds):
        # a letter forwarded below means the writer's part is not the whole text
        out += [*_strip_section(lines[a:b], continues or b < len(lines)), ""]
    return _tidy(out)


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
