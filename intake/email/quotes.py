"""Separating what the resident wrote now from the quoted history and signatures.

The case and the classifier should see the new text only: a reply quoting our whole
acknowledgement would otherwise be classified as our own template. The rules are deliberately
conservative ("when unsure, keep more text"): a cut needs a recognisable reply header, a quote
block or a signature separator, and sign-offs such as "С уважением, Иван, кв. 12" are kept because
they carry contact data. The raw mail and ``full_text`` keep everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

__all__ = [
    "cut_own_forward",
    "drop_forward_header",
    "is_forward_subject",
    "is_reply_subject",
    "signature_only",
    "strip_quotes",
    "strip_signature",
    "subject_words",
    "trailing_attribution",
]

_ORIGINAL = re.compile(
    r"^[\s>]*(?:[-_=*]{2,}\s*(original message|исходное сообщение|оригинальное сообщение|"
    # Huawei's and Honor's mail app ("Исходное письмо"), Foxmail and QQ Mail ("Original")
    r"исходное письмо|оригинальное письмо|original|"
    r"ursprüngliche nachricht|reply message|ответное сообщение)\s*[-_=*]{2,}"
    # The Bat!'s template: "===8<===========Original message text==============="
    r"|=+8<=+\s*(?:original message text|исходный текст сообщения|"
    r"текст исходного сообщения|исходное сообщение)\s*=*"
    # Lotus Notes 8 and later: '-----"УК" <office@…> написал: -----' over the quoted fields;
    # Zoho Mail's "---- On Thu, 15 Jan 2026 12:00:00 +0300 УК <office@…> wrote ----", no colon
    r"|-{3,}\s*[^-].{0,200}?\s(?:wrote|написал\w*|писал\w*|schrieb)\s*:?\s*-{3,})\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^[\s>]*(?:([-_=*]{2,}\s*)?(forwarded message|пересылаемое сообщение|"
    r"пересланное сообщение|"
    r"переслано|begin forwarded message|начало переадресованного (?:сообщения|письма)|"
    r"перенаправленное сообщение|weitergeleitete nachricht|message transféré)"
    # Lotus Notes: "----- Forwarded by Ivan Petrov/ORG on 15.01.2026 12:00 -----"; only
    # between its dashes ("Переслала вам письмо соседки" may begin a reply above our quote)
    r"|[-_=*]{2,}\s*(?:forwarded by|переслал\w*|переадресовал\w*)\s)",
    re.IGNORECASE,
)
# "писал(а)", "писал", "писала": Thunderbird's and SeaMonkey's older Russian attribution
_WROTE = re.compile(
    r"(wrote|writes|пишет|пишут|писали|писал|писала|писал\(а\)|написал|написала|написали|"
    r"написал\(а\)|schrieb|a écrit|"
    r"escribió|scrisse|napisał\(a\)|napisał|schreef)\s*:\s*$",
    re.IGNORECASE,
)
_WROTE_INNER = re.compile(
    r"\b(wrote|schrieb|пишет|писал\w*|написал\w*|a écrit|escribió)\b.{0,200}:\s*$",
    re.IGNORECASE,
)
_ADDR_COLON = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+\s*>?\]?\s*:\s*$")
_STARTER = re.compile(
    r"^\s*(>\s*)?(on|am|le|el|il|op|em|w dniu|den|в|\d|(пн|вт|ср|чт|пт|сб|вс|mon|tue|wed|thu|fri|"
    r"sat|sun|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье)\b|\*?(от|from):)",
    re.IGNORECASE,
)
_HEADER_KEY = re.compile(
    r"^\s*(?:\*\s*)?(from|to|cc|sent|date|subject|reply-to|от\s+кого|от|отправитель|кому|копия|"
    # Zimbra's Russian "Sent" is its folder's name, "Отправленные"
    r"отправлено|отправленные|дата|тема|"
    r"von|an|gesendet|betreff|datum|de|envoyé|objet|à)\s*:\*?\s*",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_SENT_KEY = re.compile(r"^\s*(?:\*\s*)?(sent|отправлено|отправленные|gesendet|envoyé)\s*:",
                       re.IGNORECASE)
_MARKS = str.maketrans("", "", "\u200e\u200f")
# mail.ru names the writer "От кого:"
_FROM_KEY = re.compile(r"^\s*(?:\*\s*)?(from|от(?:\s+кого)?|отправитель|von|de)\s*:",
                       re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*[_\-=]{8,}\s*$")
_SIG_DASHES = re.compile(r"^--\s?$")
_POSTSCRIPT = re.compile(r"^\s*(p\.\s?s\.?|ps[:.]|п\.\s?с\.?|пс[:.])", re.IGNORECASE)
_MOBILE = re.compile(
    r"^\s*(sent from my|sent from |sent with |sent via |get outlook for|"
    r"отправлено (из|с|со|через)\b.{0,40}$|получить outlook для|"
    r"отправлено с моего|отправлено из мобильной|von meinem .* gesendet|envoyé de mon|"
    r"enviado desde mi|скачайте .*почт|"
    # Outlook's and BlueMail's invitations in their other wordings, mail.com's app
    r"(?:получить|получите|загрузить|загрузите|скачать|скачайте|get)\s+(?:outlook|bluemail|"
    r"aquamail|spark)\s+(?:для|for|on)\s+\w+\s*$|sent using\s)",
    re.IGNORECASE,
)
_FWD_SUBJECT = re.compile(
    r"^\s*(fwd?|fw|пересл|переслано|пересылка|wg|tr)"
    r"\s*(?:\[\d+\]\s*)?:",
    re.IGNORECASE,
)
# The writer's own words for forwarding, where the client puts no marker (Outlook)
_SAYS_FORWARD = re.compile(
    r"\b(?:пересыла\w*|пересла\w*|перенаправля\w*|forward\w*|fwd)\b", re.IGNORECASE
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


_SUBJECT_PREFIXES = re.compile(
    rf"^(?:{_REPLY_SUBJECT.pattern[1:]}|{_FWD_SUBJECT.pattern[1:]}|\s*\[[^\]]*\])+",
    re.IGNORECASE)


def subject_words(subject: str) -> str:
    """A subject without "Re:", "Fwd:" and "[A-1042]" in front: what a resident typed there."""
    return _SUBJECT_PREFIXES.sub("", subject or "").strip()


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


def _has_contact(text: str) -> bool:
    return "@" in text or bool(_WHEN.search(text))


# Horde's and Russian webmail's and forums' label over a quote: "Quoting УК <office@…>:",
# "Цитата сообщения УК Заречье от 15.01.2026 12:00:", "Цитирую УК <office@…>:". The noun
# ("Цитата сообщения …") is a program's label; "Цитирую ваш ответ от 15.01:" may be a
# resident's sentence, as "вы написали:" is.
_CITE_LABEL = re.compile(r"^[\s>]*(?:quoting|цитата|цитирую|цитирование)\s", re.IGNORECASE)
_CITE_NOUN = re.compile(r"^[\s>]*цитата\s+(?:сообщения|письма)\s", re.IGNORECASE)


def _quote_below(lines: list[str], j: int) -> bool:
    """Whether the first line with text under line ``j`` is a quoted one."""
    n = _next_text(lines, j + 1)
    return n < len(lines) and _is_quote_line(lines[n])


def _attribution_start(lines: list[str], j: int, quoted_below: bool = False) -> int | None:
    """If line ``j`` ends an "On <date>, <name> wrote:" attribution (possibly wrapped over up to
    three lines by the sender's client), return the line where it starts. ``quoted_below``: the
    caller knows a quote follows (an HTML quote container)."""
    line = lines[j].strip()
    if not line.endswith(":") or len(line) > 300:
        return None
    wrote = bool(_WROTE.search(line)) or bool(_WROTE_INNER.search(line) and _has_contact(line)) \
        or bool(_CITE_LABEL.match(line) and _has_contact(line))
    if not wrote and not _ADDR_COLON.search(line):
        return j if _headed_quote(lines, j, quoted_below) else None
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
    return j if _headed_quote(lines, j, quoted_below) else None


# An address as a mail program writes it beside a name: "<office@…>", "(office@…)"
_BRACKETED_ADDRESS = re.compile(r"[<(][\w.+-]+@[\w-]+(?:\.[\w-]+)+[>)]")


def _headed_quote(lines: list[str], j: int, quoted_below: bool) -> bool:
    """Whether line ``j`` names an address in brackets right over a quote: its header, in any
    client's wording ("УК <office@…> 15.01.2026 12:00:", "Ответ на письмо от 15.01.2026, УК
    <office@…>:"). A resident's sentence names a bare address ("отправил на ivan@mail.ru:"),
    and one naming a neighbour's in brackets over the neighbour's words ("Пишу от имени соседа
    Петрова <petrov@…>:") says nothing of when: a client's header is stamped with the date."""
    line = lines[j]
    return "@" in line and bool(_BRACKETED_ADDRESS.search(line)) \
        and bool(_WHEN.search(_BRACKETED_ADDRESS.sub(" ", line))) \
        and (quoted_below or _quote_below(lines, j))


def trailing_attribution(text: str) -> int | None:
    """Where a reply attribution that ends ``text`` starts (an offset into ``text``), or None:
    what introduces a quote container in HTML ("11.03.2025 12:15, УК пишет:")."""
    lines = text.rstrip().split("\n")
    start = _attribution_start(lines, len(lines) - 1, quoted_below=True)
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


# Lotus Notes heads a quoted letter with its fields as labels on lines of their own, no colons:
# the writer and the time, then "To" / "cc" / "Subject" (Russian Notes: "Кому" / "Копия" /
# "Тема"), each over its value.
_NOTES_TO = frozenset({"to", "кому"})
_NOTES_CC = frozenset({"cc", "копия", "bcc", "скрытая копия"})
_NOTES_SUBJECT = frozenset({"subject", "тема"})
_NOTES_RESPOND = frozenset({"please respond to", "ответ направлять", "отвечать"})
_NOTES_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}.{0,12}\b\d{1,2}:\d{2}")


def _notes_block_at(lines: list[str], j: int) -> int | None:
    """Where a Lotus Notes quote header whose "To" label is line ``j`` starts, or None.

    The labels must be there in Notes' order ("To", then "cc" or "Subject" within a few
    lines), and above them the writer and the time of writing ("Иван Петров <ivan@…>" /
    "07.12.2026 10:15"): a resident's list that happens to have a line "Кому" names no time."""
    below = [lines[n].strip().lower() for n in range(j + 1, min(len(lines), j + 10))]
    if not any(b in _NOTES_SUBJECT for b in below) or not any(b in _NOTES_CC for b in below):
        return None
    start = None
    dated = False
    k = j - 1
    while k >= 0 and j - k <= 8:
        line = lines[k].strip()
        if not line:
            k -= 1
            continue
        if _NOTES_DATE.search(line) and len(line) <= 60:
            dated, start = True, k
            # the writer's name over the time: "Иван Петров", "Ivan Petrov/UK@UK"
            above = lines[k - 1].strip() if k else ""
            if above and len(above) <= 80 and above[-1] not in ".!?:;,":
                start = k - 1
                k -= 1
        elif ("@" in line and len(line) <= 120) or line.lower() in _NOTES_RESPOND:
            start = k
        else:
            break
        k -= 1
    return start if dated else None


def _next_text(lines: list[str], n: int) -> int:
    """The first non-blank line at or after ``n`` (``len(lines)`` if none)."""
    while n < len(lines) and not lines[n].strip():
        n += 1
    return n


def _prose_attribution(lines: list[str], start: int, j: int) -> bool:
    """An attribution without an address that is not followed by quoted lines is the
    resident's own sentence: "В ответе от 15.01 вы написали: «…»", "01.12.2025 в 10:00 ваш
    диспетчер написал мне:". Residents write dates and times the way clients stamp them, so
    only an address tells a client's header apart when no quote follows to tell it."""
    if "@" in " ".join(lines[start:j + 1]):
        return False
    if _CITE_NOUN.match(lines[start]) and _CLOCK.search(lines[j]):
        return False  # "Цитата сообщения УК от 15.01.2026 12:00:", stamped to the minute
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


# Novell GroupWise heads a quote with the writer and the time between chevrons, and quotes
# nothing: '>>> "УК Заречье" <office@uk.ru> 15.01.2026 12:00 >>>'.
_GROUPWISE = re.compile(r">>>\s.{0,200}?(?:@|\d{1,2}:\d{2}).{0,100}>>>")


def _first_marker(lines: list[str], forward: bool) -> int | None:
    for j, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not forward and stripped.startswith(">>> ") and _GROUPWISE.fullmatch(stripped):
            return j
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
        # the length first: lower-casing every line of every letter costs more than the rest
        if not forward and len(stripped) <= 4 and stripped.lower() in _NOTES_TO:
            notes = _notes_block_at(lines, j)
            if notes is not None:
                return notes
        start = _attribution_start(lines, j)
        if start is not None and not _prose_attribution(lines, start, j):
            # A quote answered below is no history to cut: the quoted lines go further down.
            return None if _bottom_posted(lines, j) else start
    return None


def _forward_marker(lines: list[str], n: int) -> bool:
    """Whether line ``n`` introduces a forwarded letter: the writer's own marker line, or one
    quoted together with the letter (Apple Mail on a Mac, Yandex 360: "> Начало
    переадресованного письма:"). A marker inside a reply's quoted history does not count:
    that quote starts above the marker or under an attribution."""
    line = lines[n]
    if not _FORWARD.match(line.strip()):
        return False
    if not _is_quote_line(line):
        return True
    if _ONE_LEVEL.sub("", line, count=1).lstrip().startswith(">"):
        return False
    k = n - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    return k < 0 or not (_is_quote_line(lines[k]) or _attribution_start(lines, k) is not None)


def _forward_at(lines: list[str], forward: bool = False) -> int:
    """The line that introduces a forwarded letter, or ``len(lines)``. In a forward (``forward``)
    so does the header of a letter quoted whole (:func:`_quoted_letter_at`)."""
    return next((n for n in range(len(lines)) if _forward_marker(lines, n)
                 or (forward and _quoted_letter_at(lines, n))), len(lines))


_ONE_LEVEL = re.compile(r"^\s*> ?")


def _quoted_letter_at(lines: list[str], n: int) -> bool:
    """Whether line ``n`` opens a letter quoted whole at one level, its own header first:
    Outlook's "prefix each line of the original message" forwards a neighbour's letter as
    "> -----Original Message----- / > От: … / > Отправлено: …". Under a forward that letter is
    the report, as it is unquoted (it was dropped with the quotes); a quote that goes on from
    lines quoted above it, or under an attribution, is the forwarded thread's history."""
    line = lines[n]
    if not line.lstrip().startswith(">"):
        return False
    bare = _ONE_LEVEL.sub("", line, count=1)
    if bare.lstrip().startswith(">"):
        return False
    k = n - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k >= 0 and (_is_quote_line(lines[k]) or _attribution_start(lines, k) is not None):
        return False
    if _ORIGINAL.match(bare.strip()):
        return True
    return _header_block_at([_ONE_LEVEL.sub("", x, count=1) for x in lines[n:n + 8]], 0)


def _unquote_forward(lines: list[str]) -> list[str]:
    """Apple Mail quotes the letter under its forward marker with "> " (on a Mac and in Yandex
    360 the marker line too). That letter is the report: the quoted run from the marker down
    loses one level of quoting. What follows the run (the forwarder's signature) and layouts
    that quote nothing are kept as they are."""
    if not lines:
        return lines
    start = 0 if lines[0].lstrip().startswith(">") else 1
    end = start
    while end < len(lines) and (not lines[end].strip() or lines[end].lstrip().startswith(">")):
        end += 1
    unquoted = [_ONE_LEVEL.sub("", line, count=1) for line in lines[start:end]]
    return [*lines[:start], *unquoted, *lines[end:]]


def _marker_verdict(lines: list[str], j: int, new_letter: bool) -> bool | None:
    """What line ``j`` says the text below it is: a forwarded letter (True), a reply's history
    (False), or nothing (None)."""
    stripped = lines[j].strip()
    if not stripped:
        return None
    if _FORWARD.match(stripped):
        return _forward_marker(lines, j)
    if _ORIGINAL.match(stripped):
        return False
    if _header_block_at(lines, j):
        # Outlook forwards under the same "От: / Отправлено: / Кому:" block it replies with:
        # a forward is a letter that answers nothing (no In-Reply-To, References or "Re:")
        # and whose writer says so above the block ("пересылаю обращение соседки")
        return new_letter and any(_SAYS_FORWARD.search(line) for line in lines[:j])
    start = _attribution_start(lines, j)
    if start is not None and not _prose_attribution(lines, start, j):
        return False
    return None


def _forwards_letter(text: str, quote_at: int | None, new_letter: bool) -> bool:
    """Whether the body forwards a letter: its first marker, or in HTML the top of its first
    quote container, is a forward's. Residents retype the "Fwd:" subject ("Протечка у соседки
    кв. 46"); the client's marker in the body stays."""
    lines = text.split("\n")
    head = len(lines) if quote_at is None else text.count("\n", 0, quote_at)
    for j in range(head):
        verdict = _marker_verdict(lines, j, new_letter)
        if verdict is not None:
            return verdict
    if quote_at is None or trailing_attribution(text[:quote_at]) is not None:
        return False
    top = _next_text(lines, head)
    return top < len(lines) and bool(_marker_verdict(lines, top, new_letter))


_ADDRESS_IN_LINE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


_QUOTE_PREFIX = re.compile(r"^[\s>]*")
# Who wrote a forwarded letter: "От:", Mail.ru's "От кого:", Apple's "Отправитель:", "From:".
_FORWARD_SENDER = re.compile(r"^(?:\*\s*)?(?:from|от(?:\s+кого)?|отправитель|von|de)\s*:",
                             re.IGNORECASE)


def _forward_shell(lines: list[str], n: int) -> tuple[int, list[str]]:
    """The forward header that starts at line ``n`` (a marker line, the header lines under it
    or an Outlook header block, or the "15.01.2026, 09:00, УК <office@…>:" line Yandex and
    Thunderbird put under the marker): the first line after it and the addresses its sender
    line names."""
    k = n + 1 if _FORWARD.match(_QUOTE_PREFIX.sub("", lines[n])) else n
    sender: list[str] | None = None
    while k < len(lines):
        bare = _QUOTE_PREFIX.sub("", lines[k]).rstrip()
        attribution = bare.endswith(":") and len(bare) <= 300 \
            and bool(_ADDRESS_IN_LINE.search(bare))
        if bare and (_FORWARD_SENDER.match(bare) or attribution):
            sender = sender if sender is not None else _ADDRESS_IN_LINE.findall(bare)
        elif bare and not _HEADER_KEY.match(bare):
            break
        k += 1
    return k, sender or []


def cut_own_forward(text: str, is_own: Callable[[str], bool]) -> str:
    """``text`` without a letter of ours forwarded below the writer's words: a resident who
    presses "Переслать" on our acknowledgement instead of "Ответить" forwards our template,
    which is no part of their report (it is quoted history, as in a reply). So does a relative
    the resident forwarded it to, which adds the resident's own forward header over ours: a
    forward that only carries ours goes with it. A forward of our letter with nothing written
    above it is left as it is."""
    if "@" not in text:
        return text
    lines = text.split("\n")
    run: int | None = None  # the first of the forward headers with nothing between them
    n = 0
    while n < len(lines):
        bare = _QUOTE_PREFIX.sub("", lines[n])
        if bare and (_ORIGINAL.match(bare) or _SEPARATOR.match(bare)):
            # Outlook's "-----Original Message-----" (or its rule) over the header block
            run = n if run is None else run
            n += 1
            continue
        if not bare or not (_FORWARD.match(bare) or _header_block_at(lines, n)):
            n += 1
            run = None if bare.strip() else run
            continue
        end, sender = _forward_shell(lines, n)
        start = n if run is None else run
        if any(is_own(a) for a in sender):
            return _tidy(lines[:start]) if _says_something(lines[:start], True) else text
        run = start
        n = max(end, n + 1)
    return text


# Yandex closes a forwarded letter with a marker of its own.
_FORWARD_END = re.compile(r"^[\s>]*[-_=*]{2,}\s*(конец пересылаемого сообщения|end of forwarded "
                          r"message)\s*[-_=*]{2,}\s*$", re.IGNORECASE)


def drop_forward_header(text: str, author: str) -> str | None:
    """``text`` without the header of a letter ``author`` wrote and forwards inline (Gmail's
    "Forwarded message", Yandex's "Пересылаемое сообщение", the iPhone's "Начало
    переадресованного сообщения:", Outlook's block), or None when no forward of theirs is
    there. A resident re-sending their own unanswered letter is its author: the letter is the
    report and what they wrote above it ("пишу второй раз") goes with it, while the header's
    "Кому: office@…" and dates are no words of theirs."""
    if author not in text:
        return None
    lines = text.split("\n")
    for n, line in enumerate(lines):
        bare = _QUOTE_PREFIX.sub("", line)
        if not bare or not (_FORWARD.match(bare) or _header_block_at(lines, n)):
            continue
        end, sender = _forward_shell(lines, n)
        if author not in (a.lower() for a in sender):
            return None  # the first forward is someone else's letter: theirs is the report
        start = n - 1 if n and _SEPARATOR.match(lines[n - 1]) else n
        rest = [ln for ln in lines[end:] if not _FORWARD_END.match(ln)]
        return _tidy([*lines[:start], "", *rest])
    return None


_PGP_SIGNED = "-----BEGIN PGP SIGNED MESSAGE-----"
_PGP_SIGNATURE = "-----BEGIN PGP SIGNATURE-----"
_PGP_END = "-----END PGP SIGNATURE-----"
# RFC 4880's armour headers, and GnuPG's "NotDashEscaped: You need GnuPG to verify this
# message" over a text it signed with --not-dash-escaped
_ARMOR_HEADER = re.compile(r"^(?:hash|charset|comment|version|messageid|notdashescaped)\s*:",
                           re.IGNORECASE)


def _armor_kept(lines: list[str]) -> list[str | None]:
    """``lines`` with inline PGP armour dropped (None): the "BEGIN PGP SIGNED MESSAGE" line
    with its "Hash:" headers and the signature block. The signed text loses its dash escaping
    (RFC 4880: "- -- " is the writer's "-- " signature separator), unless GnuPG says it
    wrote none ("NotDashEscaped:")."""
    out: list[str | None] = list(lines)
    dash_escaped = False  # inside a signed text whose "- " lines are escaped
    ends_left = True  # once no END line follows a BEGIN, none follows a later one either
    n = 0
    while n < len(lines):
        stripped = lines[n].strip()
        if stripped == _PGP_SIGNED:
            out[n] = None
            n += 1
            # its "- " lines are escaped, unless GnuPG signed them as written
            dash_escaped = True
            while n < len(lines) and _ARMOR_HEADER.match(lines[n]):
                dash_escaped = dash_escaped and not lines[n].lower().startswith("notdashescaped")
                out[n] = None
                n += 1
            if n < len(lines) and not lines[n].strip():
                out[n] = None
                n += 1
            continue
        if stripped == _PGP_SIGNATURE and ends_left:
            end = next((k for k in range(n + 1, len(lines)) if lines[k].strip() == _PGP_END), None)
            if end is not None:
                out[n:end + 1] = [None] * (end + 1 - n)
                n, dash_escaped = end + 1, False
                continue
            ends_left = False
        if dash_escaped and lines[n].startswith("- "):
            out[n] = lines[n][2:]
        n += 1
    return out


def _without_armor(text: str, quote_at: int | None) -> tuple[str, int | None]:
    """``text`` without inline PGP armour; ``quote_at`` (at a line start) moves up by what was
    dropped above it."""
    if "-----BEGIN PGP " not in text:
        return text, quote_at
    out = _armor_kept(text.split("\n"))
    if quote_at is not None:
        above = out[: text.count("\n", 0, quote_at)]
        quote_at = sum(len(line) + 1 for line in above if line is not None)
    return "\n".join(line for line in out if line is not None), quote_at


# An attribution's address that the sender's client wrapped before its closing bracket
# ("…, УК <office@uk.ru" / ">:"): the line left over reads as a quoted line.
_CUT_ADDRESS = re.compile(r"(<[\w.+-]+@[\w-]+(?:\.[\w-]+)+)\n(>[ \t]*:[ \t]*)$", re.M)


def _mend_cut_address(text: str, quote_at: int | None) -> tuple[str, int | None]:
    """``text`` with an attribution cut inside its address joined again; ``quote_at`` moves
    up by the line ends taken out above it."""
    if ">" not in text:
        return text, quote_at
    if quote_at is not None:
        quote_at -= sum(m.end(1) < quote_at for m in _CUT_ADDRESS.finditer(text))
    return _CUT_ADDRESS.sub(r"\1\2", text), quote_at


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


# How our letters end (``templates/<lang>/*.j2``): every HTML letter with ``_layout.j2``'s footer;
# the text parts with the acknowledgement's last sentence (or its Telegram line under it), a
# question's, a rating request's or a closing notice's, or staff's signature naming the case.
# A client may wrap the lines again and change a dash, so words are matched across any blanks.
# The words are kept here, not read from the templates, because they must match what residents
# quote back for years; tests/test_email_bottom_reply.py renders every letter to check them.
_OWN_CLOSINGS = (
    "Чтобы дополнить обращение, ответьте на это письмо, не меняя тему.",
    "To add to this case, reply to this email and keep the subject.",
    "Чтобы дополнить обращение, просто ответьте на это сообщение.",
    "To add anything, just reply to this message.",
    "чтобы видеть все обращения в одном месте.",
    "to see all your cases in one place.",
    "срок рассмотрения приостановлен до вашего ответа.",
    "the case clock is paused until you do.",
    "обращение откроется снова.",
    "and the case will reopen.",
    "мы откроем обращение снова.",
    "and we will reopen it.",
)


def _loose(phrase: str) -> str:
    """``phrase`` as a pattern that any blanks, line ends included, may separate."""
    return r"\s+".join(re.escape(word) for word in phrase.split())


_CLOSING_WORDS = (
    r"(?<!\w)(?:" + "|".join(map(_loose, _OWN_CLOSINGS))
    # staff's reply is signed "— Мария, УК «Заречье» (обращение A-1042)"
    + r"|\((?:обращение|case)\s+[^\W\d_]{1,5}-\d+\)"
    # "Обращение A-1042 снова в работе. / Мы ответим до 15.01.2026 12:00."
    + r"|снова\s+в\s+работе\.(?:\s+мы\s+ответим\s+до\s+[^\n]{1,30}?\d{1,2}:\d{2}\.)?"
    + r"|is\s+open\s+again\.(?:\s+we\s+will\s+respond\s+by\s+[^\n]{1,30}?\d{1,2}:\d{2}\.)?)")
# One closing and those on the lines right under it: the acknowledgement's last sentence, its
# Telegram line, the HTML footer after the office's name and the case number.
_OWN_CLOSING = re.compile(rf"{_CLOSING_WORDS}(?:\s*[^\n]{{0,160}}?{_CLOSING_WORDS})*",
                          re.IGNORECASE)


# Our longest letters (staff's answers) are a few screens: a closing further down is no longer
# the one of the letter under the header, and the search stays short on long threads.
_OWN_LETTER_CHARS = 8000


def _answer_below_own(lines: list[str], head: int) -> list[str] | None:
    """``lines`` without a letter of ours under the quote header at line ``head`` when the
    writer answered below it, or None when there is no such answer. Outlook, Samsung's mail
    and some phones copy the letter they answer under their header without ">" marks, and
    many residents type their answer under that copy: it ends where our letter's closing
    line does (:data:`_OWN_CLOSINGS`), and what the writer put over the header stays too."""
    text = "\n".join(lines[head:])
    for closing in _OWN_CLOSING.finditer(text, 0, _OWN_LETTER_CHARS):
        at = head + text.count("\n", 0, closing.start())
        if not _is_quote_line(lines[at]):
            break
    else:
        return None
    rest = text[closing.end():]
    if not rest.strip():
        return None  # a top-posted reply: the usual cut at its header says the same
    return [*lines[:head], "", *rest.split("\n")]


# What a resident may write over a quote without saying anything: "Добрый день!", "Здравствуйте,
# Мария Ивановна!", "Hello Maria," (names are capitalised: "Добрый день, пересылаю…" says more)
_GREETING = re.compile(
    r"(?i:здравствуйте|здравствуй|добрый\s+(?:день|вечер)|доброе\s+утро|доброго\s+(?:дня|"
    r"времени\s+суток)|привет|hello|hi|good\s+(?:morning|afternoon|evening)|dear)"
    r"(?:[\s,]+[А-ЯЁA-Z][\w.-]*){0,3}\s*[!.,]?")


def _says_something(lines: list[str], own_letter: bool) -> bool:
    """Whether ``lines``, over a quoted letter, hold words of the writer's own: the client's
    rule or "Original Message" line are none. Over a letter of ours (``own_letter``) a
    greeting or a signature (Outlook puts the writer's over the quote) are none either: the
    resident may have typed the answer under the quote, and a cut at its header would lose
    it. Over anyone else's letter a "Hello" is the whole reply."""
    words = "\n".join(line for line in lines if not _is_quote_line(line)
                      and not _SEPARATOR.match(line) and not _ORIGINAL.match(line.strip()))
    if not own_letter or not words.strip():
        return bool(words.strip())
    return not _GREETING.fullmatch(words.strip()) and signature_only(words) is None


# Our letters' subjects carry the case number: "[A-1042] Обращение зарегистрировано"
_CASE_TAG = re.compile(r"\[[^\W\d_]{1,5}-\d+\]")


def _names_case(lines: list[str], n: int) -> bool:
    """Whether the header block at line ``n`` gives a subject with our case number in it."""
    return any(_HEADER_KEY.match(line) and _CASE_TAG.search(line) for line in lines[n:n + 8])


def strip_quotes(
    text: str, *, forward: bool = False, quote_at: int | None = None, reply: bool = True
) -> str:
    """Return the new part of a reply.

    Top-posted replies are cut at the first reply header; bottom-posted and interleaved replies
    lose their ``>`` lines and the attribution lines that introduce them. A letter forwarded
    below the writer's text is kept, ``>`` lines included. ``quote_at`` is where an HTML quote
    container started (from :func:`~intake.email.html_text.html_to_text`). ``reply`` is False
    for a brand-new letter (no In-Reply-To, References or "Re:"): without an attribution line
    its ``>`` lines are the writer's own ("> 16 градусов"), not a quote. A forward is told by
    ``forward`` (a "Fwd:" subject) or by the body's own forward marker or container. Inline PGP
    armour is no part of the text.
    """
    text, quote_at = _without_armor(text, quote_at)
    text, quote_at = _mend_cut_address(text, quote_at)
    forward = forward or _forwards_letter(text, quote_at, new_letter=not reply)
    # as under a "Fwd:" subject: what the forwarder quotes in their own part is history
    reply = reply or forward
    # A forward's quote container holds the letter forwarded, which is the report itself.
    if quote_at is not None and not forward and text[:quote_at].strip():
        text = text[:quote_at]
        # the attribution over the container introduced it, with an address or without one
        intro = trailing_attribution(text)
        if intro is not None:
            text = text[:intro]
    lines = text.split("\n")
    marker = _first_marker(lines, forward)
    # A header with no address ("УК пишет:") over unmarked lines reads as the writer's own
    # sentence, and is no marker; our letter's closing under it says it is a client's.
    head = marker if marker is not None or forward else next(
        (s for j in range(len(lines)) if (s := _attribution_start(lines, j)) is not None), None)
    answered = None if forward or head is None else _answer_below_own(lines, head)
    if answered is not None:
        lines = answered
        marker = _first_marker(lines, forward)
    if marker is not None and _says_something(lines[:marker], _names_case(lines, marker)):
        lines = lines[:marker]
    fwd = _forward_at(lines, forward)
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


# A company's legal footer: what it says about the letter (confidential, meant for the
# addressee alone, received in error). One of these a resident may write ("прошу сохранить
# конфиденциальность"); the footer says two.
_DISCLAIMER_SAYS = (
    re.compile(r"конфиденциальн|\bconfidential|\bprivileged", re.IGNORECASE),
    re.compile(r"предназначен\w*\s+(?:(?:только|исключительно)\s+)?для\s+"
               r"(?:адресат|получател|указанн|лиц)|\bintended\s+(?:solely\s+|only\s+)?for\s+"
               r"(?:the\s+)?(?:use\s+of\s+the\s+)?(?:addressee|recipient|individual|person|named)",
               re.IGNORECASE),
    re.compile(r"по\s+ошибке|\bin\s+error\b|by\s+mistake|not\s+the\s+intended\s+recipient|"
               r"не\s+являетесь\s+(?:\w+\s+)?(?:адресат|получател)|\bunauthori[sz]ed\b|"
               r"несанкционированн|\bprohibited\b|запрещ\w*\s+(?:\w+\s+)?(?:копирован|"
               r"распространени|использовани)", re.IGNORECASE),
)


def _disclaimer_start(lines: list[str]) -> int | None:
    """Where the legal footers that end ``lines`` start (a resident writing from work: "Это
    письмо и любые вложения конфиденциальны…"), or None: noise to the case, and words the
    classifier would weigh with the report."""
    cut = None
    end = len(lines)
    while end > 0:
        while end > 0 and (not lines[end - 1].strip() or _SEPARATOR.match(lines[end - 1])):
            end -= 1
        start = end
        while start > 0 and lines[start - 1].strip() and not _SEPARATOR.match(lines[start - 1]):
            start -= 1
        paragraph = " ".join(lines[start:end])
        if start == end or sum(bool(p.search(paragraph)) for p in _DISCLAIMER_SAYS) < 2:
            break
        cut, end = start, start
    return cut


def _strip_section(lines: list[str], continues: bool) -> list[str]:
    """One letter's text without its signature and legal footer; the address lines of a ``-- ``
    signature stay (the case's building and flat are read from the text)."""
    footer = _disclaimer_start(lines)
    if footer is not None and (continues or any(line.strip() for line in lines[:footer])):
        lines = lines[:footer]
    address: list[str] = []
    dashes = sum(1 for line in lines if _SIG_DASHES.match(line))
    for n in range(len(lines) - 1, -1, -1):
        if (
            _SIG_DASHES.match(lines[n])
            and len(lines) - n <= 30
            and (continues or any(line.strip() for line in lines[:n]))
        ):
            if dashes > 1 and lines[n] != "-- ":
                # bare "--" lines dividing a list of faults, not a signature's marker
                break
            tail = lines[n + 1 :]
            ps = next((k for k, line in enumerate(tail) if _POSTSCRIPT.match(line)), len(tail))
            address = [line for line in tail[:ps] if _ADDRESS_LINE.search(line)]
            # a P.S. under the signature is the writer's again ("дома буду после 18:00")
            lines = [*lines[:n], *(["", *tail[ps:]] if ps < len(tail) else [])]
            break
    cut = _mobile_line(lines, continues)
    if cut is not None:
        lines = lines[:cut]
    # a "-- " left over the phone's line it introduced is no word either
    while lines and (not lines[-1].strip() or _SEPARATOR.match(lines[-1])
                     or (cut is not None and _SIG_DASHES.match(lines[-1]))):
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


# A closing line that opens a letter's last few lines ("С уважением, Иванов И.И., кв. 12")
_SIGN_OFF = re.compile(
    r"^\s*(?:с\s+уважением|с\s+наилучшими\s+пожеланиями|всего\s+(?:доброго|хорошего)|"
    r"(?:best|kind|warm)\s+regards|regards|(?:yours\s+)?sincerely|yours\s+faithfully)\b",
    re.IGNORECASE)
_SIGN_OFF_LINES = 5
_SIGN_OFF_CHARS = 300


def signature_only(text: str) -> str | None:
    """What stays of a text that is nothing but a signature (a "-- " block or a rule from its
    first line, a short "С уважением, Иванов И.И., кв. 12"), or None when the text has words
    of its own. Many a resident writes the matter in the subject and only signs the body: the
    subject's words are the letter, and what stays here (the flat, a P.S.) goes under them."""
    lines = [line for line in text.strip().split("\n") if line.strip()]
    if not lines:
        return None
    if _SIG_DASHES.match(lines[0]) or _SEPARATOR.match(lines[0]):
        return strip_signature(text, continues=True)
    if _SIGN_OFF.match(lines[0]) and len(lines) <= _SIGN_OFF_LINES \
            and len(text.strip()) <= _SIGN_OFF_CHARS:
        return strip_signature(text, continues=True)
    return None


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
