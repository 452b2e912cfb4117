"""``parse_mail``: raw RFC 5322 bytes in, a :class:`ParsedMail` out. Pure: no I/O, no clock.

The contract that matters most: it never raises. A mail we cannot fully understand still becomes
a ParsedMail (``recovered=True`` with a note saying what went wrong) so the case opens and the raw
bytes stay the source of truth; losing a resident's complaint to a parser exception is the one
failure the email channel must not have.
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from functools import lru_cache
from typing import TYPE_CHECKING

from intake.classifier.translit import is_transliterated
from intake.email.charsets import (
    blank_controls,
    decode_bytes,
    decode_header_value,
    drop_invisible,
    unwrap_encoded_address,
)
from intake.email.html_text import html_to_text, is_html_markup, unescape_references
from intake.email.loops import (
    DEFAULT_AUTHORITY_DOMAINS,
    LoopSignals,
    authority_notice,
    detect_automated,
    is_colleague,
    is_own,
    no_auto_reply,
    office_scan,
    own_list,
    says_automatic,
)
from intake.email.mime import (
    DSN_TYPES,
    RETURNED_TYPES,
    DsnRecipient,
    HeaderView,
    MimeLimits,
    MimeResult,
    Segment,
    dsn_address,
    parse_params,
    walk_message,
)
from intake.email.quotes import (
    cut_own_forward,
    drop_forward_header,
    is_forward_subject,
    is_reply_subject,
    signature_only,
    strip_quotes,
    strip_signature,
    subject_words,
)
from intake.email.stand_in import partial_notice, stand_in
from intake.message import Attachment, Automated, Channel, InboundMessage, SenderIdentity

if TYPE_CHECKING:
    from workflow.settings import LimitsConfig

__all__ = ["MailLimits", "ParsedMail", "parse_mail"]

_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"^[^\s<>()\[\],;:\"]{1,900}$")
_ADDRESS = re.compile(
    r"^[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w](?:[\w-]{0,62}[\w])?(?:\.[\w](?:[\w-]{0,62}[\w])?)*\.?$"
)
_DATE_CORE = re.compile(
    r"((?:[A-Za-z]{3},?\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*(?:[+-]\d{4}|[A-Za-z]{1,5}))?)"
)
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?.*$")
_FAILURE_WORDS = re.compile(
    r"(fail|unknown|rejected|does not exist|doesn't exist|not found|no such|invalid|unavailable|"
    r"mailbox|undeliver|not delivered|wasn't delivered|quota|disabled|\b5\d\d\b|\b5\.\d\.\d|"
    r"не существует|не найден|недоступ|не доставлен|недоставлен|переполнен|заблокирован|"
    r"could not be delivered|couldn't be delivered|не удалось доставить|не может быть доставлен|"
    r"не выполнен|cannot be reached|could not be reached|не удается связаться|"
    r"не удалось связаться)",
    re.IGNORECASE,
)
# A line that is nothing but an address (Exchange: with the name before it in brackets; Yandex:
# after "Адресат:"): Exim,
# Mail.ru and Exchange list the failed ones so, under a heading that says they failed ("The
# following address(es) failed:", "Доставка следующим получателям не выполнена:").
# Exchange 2003 and Lotus Domino quote it and add when they gave up ("'ivan@mail.ru' on
# 15.01.2026 12:01", "… в 15.01.2026 12:01").
_ADDRESS_ALONE = re.compile(
    r"\s*(?:[^\W\d_][\w .'-]{0,60}:?\s)?[<('\"]?[^\s<>()@'\"]+@[^\s<>()@'\"]+?[>)'\"]?"
    r"(?:\s+(?:on|в)\s+[\d./:,-]+(?:\s+[\d:]+)?(?:\s*[AaPp][Mm])?)?[\s.:;]*")
# A warning that delivery is only late ("still undelivered after 4 hours, will keep trying"),
# which says nothing against the address; and what a real failure says.
_DELAY_TEXT = re.compile(
    r"(will (keep|continue) trying|will retry|still trying|has been delayed|delivery (is )?delayed|"
    r"still undelivered after|deferred|this is a warning message only|"
    r"do not need to resend|не нужно отправлять повторно|доставка задерживается|"
    r"будут продолжены попытки|повторн\w+ попытк|has not yet been delivered|"
    r"delivery attempts will continue|ещё не доставлено|еще не доставлено|пока не доставлено)",
    re.IGNORECASE,
)
_PERMANENT_TEXT = re.compile(
    r"(\b5\d\d\b|\b5\.\d{1,3}\.\d{1,3}\b|permanent|does not exist|doesn't exist|user unknown|"
    r"no such user|giving up|gave up|не существует|неизвестн\w+ (адрес|пользовател))",
    re.IGNORECASE,
)
# What a report of a successful delivery is called (Exchange in English and Russian, Gmail).
_DELIVERED_SUBJECT = re.compile(
    r"^\s*(?:delivered|relayed|доставлено|ретранслировано)\s*:"
    r"|^\s*delivery status notification\s*\(\s*(?:success|relay)\s*\)"
    r"|^\s*successful mail delivery report\b", re.IGNORECASE)
_IF_FAILS = re.compile(
    r"\bif\s+(?:the\s+)?(?:delivery|message)\s+(?:fails|is\s+not\s+delivered)\s+permanently",
    re.IGNORECASE)
# DSN actions that mean the mail is on its way (RFC 3464): a notice of only these failed nothing
_NOT_FAILED = frozenset({"delayed", "delivered", "relayed", "expanded"})
# Starting only where a run of address characters starts: tried at every position of a long
# run without an "@" (a base64 line in a bounce) the search took seconds.
_LOCAL_CHARS = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL_IN_TEXT = re.compile(rf"(?<!{_LOCAL_CHARS}){_LOCAL_CHARS}+@[\w-]+(?:\.[\w-]+)+")
_BODY_MSGID = re.compile(r"^\s*Message-ID:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
_DSN_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*)$", re.M)
# Runs, not single letters: counting a 2 KB sample letter by letter cost a few percent of an
# import.
_CYR = re.compile(r"[А-Яа-яЁё]+")
_LAT = re.compile(r"[A-Za-z]+")
_KEY_HEADERS = ("from", "to", "cc", "subject", "date")


@dataclass(frozen=True)
class MailLimits:
    """Caps that keep one hostile or huge mail from hurting the poll loop."""

    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 20
    max_text_chars: int = 20_000
    max_depth: int = 10
    max_parts: int = 500
    # How far a Date header may stray from the server's delivery time (clocks drift a little);
    # beyond it the server's time is the moment the office received the letter.
    max_date_skew: timedelta = timedelta(minutes=10)

    @classmethod
    def configured(cls, limits: LimitsConfig) -> MailLimits:
        """The caps the config's ``limits`` section sets (the rest stay built in)."""
        return cls(max_attachment_bytes=int(limits.max_attachment_mb * 1024 * 1024),
                   max_attachments=limits.max_attachments)


@dataclass(frozen=True)
class ParsedMail:
    """Everything the workflow needs from one mail, decoded and cleaned."""

    message_id: str
    sender: str | None
    sender_name: str | None
    subject: str
    text: str
    full_text: str
    html: bool = False
    attachments: tuple[Attachment, ...] = ()
    dropped: tuple[str, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    date: datetime | None = None
    automated: Automated | None = None
    bounced_recipient: str | None = None
    bounced_message_ids: tuple[str, ...] = ()
    # the Subject of our letter that came back (its case tag names the case)
    bounced_subject: str | None = None
    # the receiving server's answer about the bounced recipient
    bounce_reason: str | None = None
    forwarded_ids: tuple[str, ...] = ()
    bounce_delayed: bool = False
    recovered: bool = False
    notes: tuple[str, ...] = ()
    language: str | None = None
    message_id_synthetic: bool = False
    internal_date: datetime | None = None
    forwarded_from: str | None = None
    automated_reason: str | None = None
    header_date: datetime | None = None
    no_auto_reply: bool = False
    recipients: tuple[str, ...] = field(default=())
    # why nobody can be answered though the letter opens a case (see InboundMessage)
    review_reason: str | None = None
    # the sender forwards a letter of their own inline
    resent: bool = False
    # the person's own From when they asked for answers at another address (see InboundMessage)
    relayed_by: str | None = None

    def thread_hints(self) -> tuple[str, ...]:
        """In-Reply-To, References, the ids of the sender's own letters forwarded as
        attachments and, for bounces, the returned message's Message-ID, In-Reply-To and
        References; deduplicated."""
        seen: dict[str, None] = {}
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += list(self.references)
        if self.automated is Automated.BOUNCE:
            ids += list(self.bounced_message_ids)
        elif self.automated is None:
            ids += list(self.forwarded_ids)
        for i in ids:
            if i and i not in seen and i != self.message_id:
                seen[i] = None
        return tuple(seen)

    def to_inbound(
        self, raw_ref: str | None = None, fallback_time: datetime | None = None
    ) -> InboundMessage:
        """Map onto the channel-neutral contract. Raises ValueError only when no time is known
        at all (no Date, no Received, no INTERNALDATE) and the caller gave no ``fallback_time``."""
        received_at = self.date or self.internal_date or fallback_time
        if received_at is None:
            raise ValueError("mail has no usable date: pass fallback_time (e.g. the import time)")
        sender = (
            SenderIdentity(Channel.EMAIL, self.sender, self.sender_name, self.language)
            if self.sender
            else None
        )
        notes = list(self.notes) + [d for d in self.dropped if d not in self.notes]
        return InboundMessage(
            channel=Channel.EMAIL,
            # A mailing list's copy of a resident's letter carries the letter's Message-ID: it
            # gets an id of its own, so the copy sent to us directly is no duplicate of it.
            external_id=f"list:{self.message_id}" if self.automated is Automated.LIST
            else self.message_id,
            sender=sender,
            text=self.text,
            received_at=received_at,
            subject=self.subject,
            attachments=self.attachments,
            thread_hints=self.thread_hints(),
            raw_ref=raw_ref,
            automated=self.automated,
            bounced_recipient=self.bounced_recipient,
            bounce_reason=self.bounce_reason,
            bounce_delayed=self.bounce_delayed,
            notes=tuple(notes),
            no_auto_reply=self.no_auto_reply,
            review_reason=self.review_reason,
            resent=self.resent,
            relayed_by=self.relayed_by,
        )


def parse_mail(
    raw: bytes,
    *,
    own_addresses: frozenset[str] = frozenset(),
    internal_date: datetime | None = None,
    limits: MailLimits = MailLimits(),
    authority_domains: tuple[str, ...] = DEFAULT_AUTHORITY_DOMAINS,
) -> ParsedMail:
    """Parse one raw message. Never raises.

    ``authority_domains``: where state bodies' systems mail from (a notice from one opens a
    case for staff and is never answered; see :func:`intake.email.loops.authority_notice`)."""
    try:
        data = _as_bytes(raw)
        internal = _aware(internal_date) if isinstance(internal_date, datetime) else None
        own = frozenset(a.strip().lower() for a in own_addresses if isinstance(a, str))
        return _parse(data, own, internal, limits, authority_domains)
    except Exception as exc:
        return _fallback(raw, internal_date, exc)


# --- implementation ---------------------------------------------------------------------------


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# RFC 822's syntax, which RFC 5322 still asks readers to accept: blanks before a header's
# colon ("Subject : …", old scripts and hand-made mail)
_SPACED_COLON = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.M)


def _mend_head(data: bytes) -> bytes:
    """``data`` with its header block mended where the standard parser takes it apart (see
    :func:`_lone_crs`), and "Name :" header lines written "Name:": it reads "From :" as an
    mbox separator and "Subject :" as the start of the body, losing the sender. A mail
    written "\\r\\r\\n" throughout (CRLF written again by a Windows program's text mode) has
    CRLF line ends again: read as it was, only its first header was a header."""
    first = data.find(b"\n", 0, 4096)
    if first >= 2 and data[first - 2:first] == b"\r\r":
        data = data.replace(b"\r\r\n", b"\r\n")
    head, _ = _split_raw(data)
    fixed = _lone_crs(head)
    if b" :" in fixed or b"\t:" in fixed:  # where a blank stands before a colon, and only there
        fixed = _SPACED_COLON.sub(rb"\1:", fixed)
    return data if fixed == head else fixed + data[len(head):]


# A CR with no LF after it, and one that starts what reads as the next header field
_BARE_CR = re.compile(rb"\r(?!\n)")
_FIELD_AFTER = re.compile(rb"[!-9;-~]+:")


def _lone_crs(head: bytes) -> bytes:
    """A header block without CRs that end no line: the standard parser ends a line at every
    CR, so one inside a header (a web form's two-line subject) ended the header block there,
    the Date and the MIME headers becoming the case's text. A mail whose lines end in CR alone
    (old Mac) has more of them than LFs and is left as it is."""
    lone = head.count(b"\r") - head.count(b"\r\n")
    if not lone or lone >= head.count(b"\n"):
        return head  # none, or CR is how this mail ends its lines
    eol = b"\r\n" if b"\r\n" in head else b"\n"

    def mend(m: re.Match[bytes]) -> bytes:
        # the next field glued on by a lone CR stays a field; a line break inside a value is
        # a blank in it, as folding would have made it
        return eol if _FIELD_AFTER.match(head, m.end()) else b" "

    return _BARE_CR.sub(mend, head)


def _split_raw(data: bytes) -> tuple[bytes, bytes]:
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return data[:lf], data[lf + 2 :]
    if crlf >= 0:
        return data[:crlf], data[crlf + 4 :]
    return data, b""


def synthetic_message_id(data: bytes) -> str:
    """A stable id for mail without a Message-ID, so a re-import (IMAP or file, CRLF or LF)
    dedupes: key headers as written plus the body with line endings normalised."""
    head, body = _split_raw(data)
    wanted: dict[bytes, list[bytes]] = {}
    current: bytes | None = None
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and current is not None:
            wanted[current][-1] += b" " + line.strip()
            continue
        name, sep, value = line.partition(b":")
        key = name.strip().lower().decode("ascii", "replace")
        current = name.strip().lower() if sep and key in _KEY_HEADERS else None
        if current is not None:
            wanted.setdefault(current, []).append(value.strip())
    h = hashlib.sha256()
    for key in _KEY_HEADERS:
        for value in wanted.get(key.encode(), []):
            h.update(key.encode() + b":" + b" ".join(value.split()) + b"\n")
    h.update(b"\n")
    h.update(body.replace(b"\r\n", b"\n").rstrip())
    return "sha256:" + h.hexdigest()


def _skip_junk_prefix(data: bytes) -> bytes | None:
    """Mail whose first line is not a header (a pasted "---- Original message ----"): find where
    the real header block starts, and treat stray lines inside it as folded continuations (the
    same broken mailers also fold without leading whitespace)."""
    lines = data.split(b"\n")
    for i in range(1, min(len(lines) - 1, 20)):
        block = [ln.rstrip(b"\r") for ln in lines[i : i + 3]]
        if all(_HEADER_LINE.match(ln) for ln in block if ln) and len([b for b in block if b]) >= 2:
            out = []
            in_headers = True
            for line in lines[i:]:
                if in_headers:
                    if not line.rstrip(b"\r"):
                        in_headers = False
                    elif not _HEADER_LINE.match(line) and line[:1] not in (b" ", b"\t"):
                        line = b" " + line
                out.append(line)
            return b"\n".join(out)
    return None


# Time zone names written in Date headers (Russian mail programs, servers set to local time)
# beyond the few North American ones RFC 5322 keeps, which alone Python reads: any other it
# takes for UTC, and a letter dated "10:00:00 MSK" arrived three hours off.
_ZONES = {"MSK": 3, "MSD": 4, "KALT": 2, "SAMT": 4, "YEKT": 5, "OMST": 6, "NOVT": 7, "KRAT": 7,
          "IRKT": 8, "YAKT": 9, "VLAT": 10, "MAGT": 11, "SAKT": 11, "SRET": 11, "PETT": 12,
          "ANAT": 12, "EET": 2, "EEST": 3, "CET": 1, "CEST": 2, "WET": 0, "WEST": 1}
# the word after the time, where a zone's name stands
_ZONE_NAME = re.compile(r"\d:\d{2}(?::\d{2})?\s*([A-Za-z]{1,5})\b")


def _zone_name(value: str) -> str | None:
    """The zone name a date is written with ("MSK"), upper-cased; None when it has none."""
    m = _ZONE_NAME.search(value)
    return m.group(1).upper() if m else None


# An offset written otherwise than RFC 5322's "+0300" ("+03:00" from a script's ISO habit,
# "GMT+0300", "UTC+3"), which Python reads as no offset at all, that is UTC: three hours off.
_LOOSE_OFFSET = re.compile(
    r"(\d:\d{2}(?::\d{2})?)\s*(?:GMT|UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?(?![\d:])", re.I)
# ISO 8601 with its offset ("2026-01-15T12:00:00+03:00"), what a script writes when it formats
# a date itself (one without an offset stays unreadable: its zone is anyone's guess)
_ISO_DATE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?)\s*"
                       r"(Z|[+-]\d{2}:?\d{2})\s*$", re.I)


def _offset(m: re.Match[str]) -> str:
    return f"{m.group(1)} {m.group(2)}{int(m.group(3)):02d}{m.group(4) or '00'}"


def _iso_date(value: str) -> datetime | None:
    m = _ISO_DATE.match(value)
    if m is None:
        return None
    zone = m.group(3).upper().replace("Z", "+00:00")
    try:
        return _aware(datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{zone}"))
    except ValueError:
        return None


# A date a Russian-localised program wrote (1C, a PHP script under a Russian locale, an old
# mail program): "Чт, 15 янв 2026 12:00:00 +0300", "15 января 2026 г. 12:00", "15.01.2026
# 12:00:00 +0300". Python reads none of them, and a backlog import dated the letter by the day
# it was imported.
_RU_WEEKDAY = re.compile(r"^\s*(?:пн|вт|ср|чт|пт|сб|вс|понедельник|вторник|среда|четверг|"
                         r"пятница|суббота|воскресенье)\.?,?\s*", re.IGNORECASE)
_RU_MONTH = re.compile(r"(?<![^\W\d_])(янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек)"
                       r"[а-яё]*\.?(?:\s+(\d{4})(?:\s*г\.?(?:ода)?)?,?)?", re.IGNORECASE)
_DOTTED_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RU_MONTHS = dict(zip(("янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт",
                       "ноя", "дек"), _MONTHS, strict=True))


def _english_date(value: str) -> str | None:
    """``value`` with a Russian weekday, month and "г." or a "15.01.2026" date written as RFC
    5322 writes them; None when it has none of them."""
    def month(m: re.Match[str]) -> str:
        stem = m.group(1).lower()  # "май" and "мая" are "ма"; "мар" is March, not May
        return f"{_RU_MONTHS.get(stem) or _RU_MONTHS[stem[:2]]} {m.group(2) or ''}"

    def dotted(m: re.Match[str]) -> str:
        number = int(m.group(2))
        return f"{m.group(1)} {_MONTHS[number - 1]} {m.group(3)}" if 1 <= number <= 12 \
            else m.group(0)

    english = _DOTTED_DATE.sub(dotted, _RU_MONTH.sub(month, _RU_WEEKDAY.sub("", value)))
    return " ".join(english.split()) if english != value else None


def _parse_date(value: str | None) -> datetime | None:
    """A header's date; a zone name Python does not know is read from :data:`_ZONES`, and
    one not there either as UTC (the caller may know better: :func:`_unknown_zone`)."""
    if not value:
        return None
    iso = _iso_date(value)
    if iso is not None:
        return iso if 1980 <= iso.year <= 2200 else None
    value = _LOOSE_OFFSET.sub(_offset, value, count=1)
    candidates = [value]
    m = _DATE_CORE.search(value)
    if m and m.group(1) != value.strip():
        candidates.insert(0, m.group(1))  # "…+0200Received: from …" glued by a broken MTA
    if not value.isascii() or "." in value:
        # raw 8-bit header bytes arrive as surrogate escapes
        english = _english_date(value if value.isascii() else decode_header_value(value))
        if english is not None:
            candidates.append(english)
    for text in candidates:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if parsed is None:
            continue
        if parsed.year < 1980 or parsed.year > 2200:
            continue
        hours = _ZONES.get(_zone_name(text) or "") if parsed.tzinfo is None else None
        if hours is not None:
            return parsed.replace(tzinfo=timezone(timedelta(hours=hours)))
        return _aware(parsed)
    return None


_NUMERIC_ZONE = re.compile(r"\d:\d{2}(?::\d{2})?\s*[+-]\d{4}\b")


def _unknown_zone(value: str | None) -> bool:
    """Whether a date names a time zone neither Python nor :data:`_ZONES` knows ("10:00 XYZT"),
    or none, which was read as UTC."""
    if not value:
        return False
    value = _LOOSE_OFFSET.sub(_offset, value, count=1)
    name = _zone_name(value)
    if name in _ZONES or (name is None and _NUMERIC_ZONE.search(value)):
        return False
    # a named zone Python does not know, or none at all ("Thu Jan 15 12:00:00 2026", a
    # script's ctime): a numeric "-0000" says the time is UTC
    value = _english_date(value if value.isascii() else decode_header_value(value)) or value
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return parsed is not None and parsed.tzinfo is None


def _msg_ids(value: str | None) -> list[str]:
    if not value:
        return []
    ids = _MSGID.findall(value)
    if ids:
        return ids
    token = value.strip()
    return [token] if token and _BARE_ID.match(token) and "@" in token else []


def ascii_domain(addr: str) -> str:
    """An internationalised domain (ivanova@почта-дома.рф, raw UTF-8 under RFC 6532) in the
    ASCII form mail servers route by, so the resident can be answered; an address whose local
    part is not ASCII (иван@почта.рф) is left as it is: only SMTPUTF8 can reach it, and the
    sender uses it (:mod:`intake.email.smtp`; a server without it makes the address
    unreachable, and staff are told)."""
    if addr.isascii() or "@" not in addr:
        return addr
    try:  # raw 8-bit header bytes arrive as surrogate escapes
        addr = addr.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return addr
    local, _, domain = addr.rpartition("@")
    if not local.isascii():
        return addr
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return addr


def _valid_address(addr: str) -> bool:
    return bool(addr) and "=?" not in addr and bool(_ADDRESS.match(addr))


def _sender(
    headers: HeaderView, hint: str | None, notes: list[str]
) -> tuple[str | None, str | None, str | None]:
    """(address, display name, local part) of From; address None when unusable."""
    raw = headers.get("from")
    if raw is None or not raw.strip():
        notes.append("no From address: manual review, nothing will be sent")
        return None, None, None
    # a NUL a C program left after the address ("ivan@mail.ru\0") made it unusable: a blank
    # there is one the address reader skips, as it does a NUL's neighbour blanks
    raw = blank_controls(raw)
    unwrapped = unwrap_encoded_address(raw, hint)
    bare = _ADDRESS_AS_NAME.match(unwrapped)
    # "ivan@mail.ru <petrov@mail.ru>": the address in brackets is the sender, the other a name
    pairs = [(bare.group(1).strip(), bare.group(2).strip())] if bare \
        else _address_pairs([unwrapped])
    if not pairs:
        pairs = [email.utils.parseaddr(raw)]
    if len([p for p in pairs if p[1]]) > 1:
        notes.append("several From addresses: the first usable one is taken")
    name_raw, addr = pairs[0]
    for cand_name, cand_addr in pairs:
        if _valid_address(cand_addr):
            name_raw, addr = cand_name, cand_addr
            break
    else:
        # "Иван Петров ivan@mail.ru", the brackets left off by a hand-made or web-form header:
        # the parser reads it all as one broken address, and the resident was left unanswered
        found = set(_ANY_ADDRESS.findall(unwrapped))
        if len(found) == 1:
            addr = found.pop()
            name_raw = " ".join(unwrapped.replace(addr, " ").split())
    addr = ascii_domain(addr)
    quoted = _QUOTED_LOCAL.match(addr)
    if quoted:
        addr = f"{quoted.group(1)}@{quoted.group(2)}"  # "ivan.petrov"@mail.ru, needlessly quoted
    name = _person_name(decode_header_value(name_raw, hint), addr)
    local = addr.split("@", 1)[0].strip().lower() if addr else None
    if not addr and name and "@" not in name and " " not in name.strip():
        local = name.strip().lower()  # "From: MAILER-DAEMON"
    if not _valid_address(addr):
        if "@" not in raw and raw.strip() and not addr:
            local = raw.strip().strip("<>").lower()
        alone = None if name else _name_alone(raw, hint)
        if alone:
            notes.append(f"From {alone!r} has no address: manual review, nothing will be sent")
            return None, alone, local
        # raw 8-bit bytes arrive as surrogate escapes: shown decoded, not as "\udcd0…"
        shown = decode_header_value(addr or raw.strip(), hint)
        notes.append(f"From address {shown!r} is not usable: manual review, nothing will be sent")
        return None, name, local
    # "ivan@mail.ru." (a domain written fully qualified) is the same mailbox as without the
    # dot: kept, the resident would be a second one, their cases apart
    return addr.lower().removesuffix("."), name, local


# Google Groups' name for a letter it sends on as the group: "'Иван Петров' via Диспетчерская".
_VIA_GROUP = re.compile(r"^\s*(['\"]?)(.+?)\1\s+via\s+\S.*$")


def _list_author(headers: HeaderView, hint: str | None, own: frozenset[str], sender: str | None,
                 name: str | None, local: str | None
                 ) -> tuple[str | None, str | None, str | None]:
    """The resident who wrote a letter our own inbox's group handed on (see
    :func:`intake.email.loops.own_list`). A group that rewrites From to its own address (for
    the writer's DMARC) names the writer in its "'Иван Петров' via Диспетчерская" and, with
    no Reply-To to the writer, in X-Original-Sender or X-Original-From: taken as our own
    mail, the letter opened no case."""
    if name:
        via = _VIA_GROUP.match(name)
        if via is not None:
            name = via.group(2).strip() or name
    if not is_own(sender, own):
        return sender, name, local
    for field_name in ("x-original-sender", "x-original-from"):
        value = headers.get(field_name)
        if not value:
            continue
        pairs = _address_pairs([unwrap_encoded_address(value, hint)])
        if pairs and _valid_address(pairs[0][1]) and not is_own(pairs[0][1], own):
            addr = pairs[0][1].lower()
            named = _person_name(decode_header_value(pairs[0][0], hint), addr)
            return addr, named or name, addr.split("@", 1)[0]
    return sender, name, local


# The address written into a display name: "<ivan@mail.ru>", "(ivan@mail.ru)", or bare
_NAMED_ADDRESS = re.compile(r"[<(\[]?\s*[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+\s*[>)\]]?")
_NAME_EDGES = " \t,;:-–—"
_WRAPPING_QUOTES = {'"': '"', "'": "'", "`": "'", "«": "»"}


_CAPITALISED = r"[A-ZА-ЯЁ][a-zа-яё]+(?:-[A-ZА-ЯЁ][a-zа-яё]+)?"
_LAST_FIRST = re.compile(rf"^({_CAPITALISED}),\s*({_CAPITALISED}(?:\s+{_CAPITALISED})?)$")


def _person_name(name: str, addr: str) -> str | None:
    """A display name as a person's name, or None when it names nobody. Phones and Outlook
    put the address where no name was set ("ivan@mail.ru" <ivan@mail.ru>), some programs
    both ("Иван Петров <ivan@mail.ru>" encoded whole, "Иван (ivan@mail.ru)"), Outlook quotes
    with apostrophes ('Иван Петров'): the acknowledgement greeted "Здравствуйте,
    ivan@mail.ru!" and staff saw the address twice."""
    if "@" in name:
        name = _NAMED_ADDRESS.sub(" ", name)
    name = " ".join(name.split()).strip(_NAME_EDGES)
    if len(name) > 1 and _WRAPPING_QUOTES.get(name[0]) == name[-1]:
        name = name[1:-1].strip(_NAME_EDGES)
    # a company directory's "Петров, Иван" (Exchange's "Last, First"): greeted "Здравствуйте,
    # Петров, Иван!"; read in the order the person says it
    inverted = _LAST_FIRST.match(name)
    if inverted is not None:
        name = f"{inverted[2]} {inverted[1]}"
    return name if any(ch.isalnum() for ch in name) else None


def _name_alone(raw: str, hint: str | None) -> str | None:
    """The person a From without any address names ("From: Сергей Обухов", often in raw 8-bit
    bytes): read as what it is, a name, so staff see who wrote. A bare word stays a mailbox
    ("From: MAILER-DAEMON" is no person)."""
    if "@" in raw or "<" in raw:
        return None
    decoded = decode_header_value(raw, hint).strip(' "')
    if not decoded or (decoded.isascii() and " " not in decoded):
        return None
    return decoded


# Addresses no person reads: no-reply senders, the robots a site's contact form or a
# portal relays a resident's message from (WordPress, PHPMailer's "robot@", "forms@"), and the
# office's scanners and copiers mailing a scanned paper ("scan@", "mfp@").
_NO_REPLY = re.compile(r"^((no|do[-_.]?not)[-_.]?reply|wordpress|robot|web[-_.]?forms?|forms?|"
                       r"scan(ner)?|mfp|copier|printer|"
                       # a phone system mailing a caller's voicemail (Asterisk's own name)
                       r"voice[-_.]?mail|asterisk|pbx)\b", re.IGNORECASE)
_ANY_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


# Header values up to this long have their addresses remembered (see _remembered_pairs)
_REMEMBERED_CHARS = 256


def _address_pairs(values: list[str]) -> list[tuple[str, str]]:
    """``email.utils.getaddresses``, which recurses once per nested "(comment)": a thousand of
    them would cost the sender, so then the addresses are read plainly."""
    try:
        if sum(map(len, values)) <= _REMEMBERED_CHARS:
            return list(_remembered_pairs(tuple(values)))
        return email.utils.getaddresses(values)
    except RecursionError:
        return [("", a) for v in values for a in _ANY_ADDRESS.findall(v)]


@lru_cache(maxsize=1024)
def _remembered_pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``email.utils.getaddresses`` of short header values, remembered: every letter names the
    office in its To, a resident's From comes back letter after letter, and the standard
    library's address reader (pure Python) cost 3-4% of a parse. Long values are read every
    time, so the cache stays a few hundred kilobytes; a RecursionError is not remembered (a
    value this short nests too few comments to raise one but at a stack already deep)."""
    return tuple(email.utils.getaddresses(list(values)))
_QUOTED_LOCAL = re.compile(r'^"([A-Za-z0-9.!#$%&\'*+/=?^_`{|}~-]+)"@([^@\s]+)$')
_ADDRESS_AS_NAME = re.compile(r'^\s*([^<>",;]*@[^<>",;]*?)\s*<([^<>@\s]+@[^<>\s]+)>\s*$')


def _reply_to(headers: HeaderView, hint: str | None) -> tuple[str, str | None] | None:
    """The first Reply-To address a person could read, and its display name."""
    raw = blank_controls(headers.get("reply-to") or "")  # see _sender
    pairs = _address_pairs([unwrap_encoded_address(raw, hint)])
    for name, addr in pairs:
        if _valid_address(addr) and not _NO_REPLY.match(addr.split("@", 1)[0]):
            decoded = decode_header_value(name, hint)
            return ascii_domain(addr).lower().removesuffix("."), _nfc(decoded) if decoded else None
    return None


# A site form's fields, one per line ("Ваше имя: Ольга", "E-mail: olga@…", "Сообщение: …").
# A label alone on its line with the value under it is a field too (Bitrix's "Текст
# сообщения:" over the message).
_FORM_FIELD = re.compile(r"^[^\W\d_][\w .-]{0,30}:[ \t]*(?:\S|\r?\n[ \t]*\S)", re.MULTILINE)
# Between a field's label and its value: a colon, or a line end (Yandex Forms and Google Forms
# put the question over the answer, a required one marked "*")
_FIELD_GAP = r"[ \t]*\*?[ \t]*(?::[ \t]*(?:\r?\n[ \t]*)?|\r?\n[ \t]*)"
# "E-mail:", "Ваш e-mail:", and Bitrix's "E-mail автора:" ("E-mail отправителя:"). Over its
# value with no colon, a label is a form's question only as one asks it ("Ваш e-mail",
# "Электронная почта *", "E-mail для связи"): a bare "Электронная почта" over an address is a
# contact block (a water company's notice from its noreply@ names its own info@ so).
_FORM_EMAIL = re.compile(
    r"^[ \t]*(?P<ask>ваш[ \t]+|контактный[ \t]+)?(?:e-?mail|эл\.?[ \t]*почта"
    r"|электронная[ \t]+почта|почта|адрес[ \t]+электронной[ \t]+почты)"
    r"(?P<for>[ \t]+(?:автора|отправителя|для[ \t]+связи|для[ \t]+ответа))?"
    r"[ \t]*(?P<star>\*)?[ \t]*(?::[ \t]*(?:\r?\n[ \t]*)?|(?P<bare>)\r?\n[ \t]*)"
    r"<?(?P<address>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>?[ \t]*$", re.MULTILINE | re.IGNORECASE)
_FORM_NAME = re.compile(
    rf"^[ \t]*(?:ваше[ \t]+имя|имя|фио|автор|отправитель|name|your[ \t]+name){_FIELD_GAP}"
    r"(\S.{1,59}?)[ \t]*$",
    re.MULTILINE | re.IGNORECASE)
# A question over its answer, a paragraph of its own: "Ваше имя *" / "Иван"
_QUESTION_CHARS = 60


def _form_fields(text: str) -> int:
    """How many fields a form's letter lays out: "Поле: значение" lines, or paragraphs of a
    short question over its answer, whichever the form writes."""
    questions = 0
    for block in _PARAGRAPH.split(text):
        lines = block.strip().split("\n")
        if len(lines) >= 2 and len(lines[0]) <= _QUESTION_CHARS \
                and lines[0].rstrip()[-1:] not in (".", "!", "?"):
            questions += 1
    return max(len(_FORM_FIELD.findall(text)), questions)


# WPForms' plain-text letter heads each field "--- Email ---" over its value, a blank between
_FORM_HEADING = re.compile(r"^[ \t]*-{3}[ \t]*([^\W\d_][\w .-]{0,30}?)[ \t]*-{3}[ \t]*\n"
                           r"(?:[ \t]*\n)?", re.MULTILINE)


# The label over a form's message, alone on its line ("Комментарий или сообщение", WPForms')
_FORM_MESSAGE_LABEL = re.compile(
    r"^[ \t]*(?:ваш[ \t]+|ваше[ \t]+|your[ \t]+)?(?:сообщение|комментарий(?:[ \t]+или[ \t]+"
    r"сообщение)?|вопрос|текст(?:[ \t]+сообщения)?|message|comment(?:[ \t]+or[ \t]+message)?"
    r"|question)[ \t]*\*?[ \t]*:?[ \t]*$", re.MULTILINE | re.IGNORECASE)


def _site_of(address: str) -> str:
    """An address's domain without its host names ("uk-site.ru" of "mail.uk-site.ru")."""
    return ".".join(address.rpartition("@")[2].lower().split(".")[-2:])


def _form_sender(text: str, sender: str = "", machine: bool = False
                 ) -> tuple[str, str | None] | None:
    """The resident's address from a site form's fields, for forms that send without a
    Reply-To (Bitrix's "заполнена web-форма", Yandex Forms, WPForms): only a letter laid out
    as a form (three or more fields) with exactly one e-mail field. ``machine``: a robot or our
    own mailbox sent it; then a bare "Email" over an address is a field too (WPForms' HTML
    letter puts each label over its value), where the form also asks a name and the address is
    none of the sender's own site (a utility's notice gives its own "Электронная почта")."""
    text = _FORM_HEADING.sub(r"\1:\n", text)
    named = _FORM_NAME.search(text)
    found = [m for m in _FORM_EMAIL.finditer(text)
             if m["bare"] is None or m["ask"] or m["for"] or m["star"]
             or (machine and named is not None and _site_of(m["address"]) != _site_of(sender))]
    emails = [m["address"] for m in found]
    fields = _form_fields(text)
    if any(m["bare"] is not None for m in found) and _FORM_MESSAGE_LABEL.search(text):
        fields = max(fields, 3)  # a name, an address and a message, each label over its value
    if fields < 3:
        return None
    if len(emails) != 1:
        # Contact Form 7's template opens "От: Иван Петров <ivan@…>" ("From:"), and without a
        # Reply-To set ("Reply-To: [your-email]") that line alone gives the resident
        first = _FORM_FROM.match(text.lstrip())
        if emails or first is None or not _valid_address(first[2]):
            return None
        return ascii_domain(first[2]).lower().removesuffix("."), first[1].strip()
    if not _valid_address(emails[0]):
        return None
    return ascii_domain(emails[0]).lower().removesuffix("."), named.group(1) if named else None


# Contact Form 7's first line, "От: [your-name] <[your-email]>" ("From:" in English; newer
# versions leave the brackets off): the name beside the address the form gives in Reply-To
_FORM_FROM = re.compile(r"^[ \t]*(?:от|from)[ \t]*:[ \t]*\"?([^\n<>\"@:]{2,60}?)\"?[ \t]*<?"
                        r"([\w.+-]+@[\w-]+(?:\.[\w-]+)+)>?[ \t]*$", re.MULTILINE | re.IGNORECASE)


def _form_name(text: str, address: str) -> str | None:
    """The name a site form's letter gives its writer: the "От: Иван Петров <ivan@…>" line
    with the writer's ``address``, or a name field ("Имя:", "Автор:", "Your name:")."""
    line = next((m for m in _FORM_FROM.finditer(text) if m[2].lower() == address), None)
    if line is not None:
        return line[1].strip()
    field = _FORM_NAME.search(text)
    return field.group(1) if field else None


# What a site's form letter says of itself, whatever mailbox it was sent from ("Вам было
# отправлено сообщение через форму обратной связи", "заполнена web-форма").
_FORM_SAYS = re.compile(
    r"\b(через форму|форм\w* обратной связи|(web|веб)-?форм\w*|сообщение сайта|с сайта"
    r"|сгенерирован\w* автоматически|(contact|feedback|web) form|form submission"
    r"|submitted (via|through|from))\b", re.IGNORECASE)
# What every one of _FORM_SAYS's phrases holds ("форм", "сайт", "сгенерирован", "form",
# "submitted"), with the same flags, so a text without it cannot say it: a letter is scanned
# this way about three times faster, where _FORM_SAYS tries a dozen branches at every place.
_FORM_STEM = re.compile(r"[фсfs](?:орм|айт|генерирован|orm|ubmitted)", re.IGNORECASE)


def _says_form(text: str) -> bool:
    """Whether ``text`` calls itself a site form's letter (``_FORM_SAYS``)."""
    return _FORM_STEM.search(text) is not None and _FORM_SAYS.search(text) is not None


def _site_form(sender: str, text: str, own: frozenset[str], says_form: bool
               ) -> tuple[str, str | None] | None:
    """The form's "E-mail:" field, only for a letter a site sent (from a robot's mailbox or
    ours, or one that ``says_form``): a person's own letter is answered at its own address,
    though its signature lists an employer's "E-mail:" or it names a contractor's, or a son
    writing for his mother gives hers."""
    machine = bool(_NO_REPLY.match(sender.split("@", 1)[0])) or is_own(sender, own)
    if not (machine or says_form):
        return None
    return _form_sender(text, sender, machine)


def _relayed(sender: str, name: str | None, reply_to: tuple[str, str | None] | None,
             own: frozenset[str], notes: list[str], text: str, says_form: bool
             ) -> tuple[str | None, str | None]:
    """Who to answer: the Reply-To a letter names, as every mail client does. A site's form
    sends from whatever mailbox it was given (noreply@, zayavki@, our own) with the resident in
    Reply-To, and every form user would otherwise be one "resident". A robot without one
    cannot be answered (the case still opens, for staff to read)."""
    robot = bool(_NO_REPLY.match(sender.split("@", 1)[0]))
    if reply_to is not None and reply_to[0] != sender and not is_own(reply_to[0], own):
        notes.append(f"relayed by {sender}: the Reply-To address is the sender")
        if reply_to[1]:
            return reply_to
        if robot or is_own(sender, own) or says_form:
            # From names the site ("WordPress", "Сайт УК", the site's title), not the resident
            # that its bare Reply-To ("Reply-To: [your-email]", Contact Form 7's) gives: the
            # acknowledgement greeted the resident by it
            return reply_to[0], _form_name(text, reply_to[0])
        return reply_to[0], name  # a person's own mail program's Reply-To
    if robot:
        notes.append(f"sent from the no-reply address {sender!r}: manual review, nothing "
                     "will be sent")
        return None, name
    return sender, name


# Outlook's message recall reaching a mailbox outside the sender's Exchange: a letter its
# program wrote ("Иван хочет отозвать сообщение «…»"). Staff should see it beside the letter
# it recalls; an acknowledgement would answer a program.
_RECALL_SUBJECT = re.compile(r"^\s*(recall|отзыв)\s*:", re.IGNORECASE)
_RECALL_TEXT = re.compile(r"\b(would like to recall the message|хочет отозвать сообщение)\b",
                          re.IGNORECASE)


def _recall(subject: str, text: str) -> bool:
    return bool(_RECALL_SUBJECT.match(subject) and _RECALL_TEXT.search(text[:1000]))


def _received_date(headers: HeaderView) -> datetime | None:
    for value in headers.get_all("received"):
        if ";" in value:
            parsed = _parse_date(value.rsplit(";", 1)[1])
            if parsed:
                return parsed
    return None


def _clean_text(segments: list[Segment], subject: str, threaded: bool,
                own: frozenset[str] = frozenset()) -> tuple[str, str, bool]:
    """(text with quotes and signatures stripped, full text, whether the body came from HTML).
    ``threaded``: the mail has In-Reply-To or References; ``own``: our addresses (a letter of
    ours forwarded back under the writer's words is history, as in a reply)."""
    forward = is_forward_subject(subject)
    # in a brand-new letter, ">" may be the writer's own ("> 16 градусов"), not a quote
    reply = threaded or forward or is_reply_subject(subject)
    full_parts: list[str] = []
    clean_parts: list[str] = []
    seen: set[tuple[str, ...]] = set()
    segments = [_plain_html(seg) for seg in segments]
    for seg in segments:
        full = seg.text.strip("\n")
        if seg.forward_header:
            full_parts.append(full)
            clean_parts.append(full)
            continue
        if not full.strip():
            continue
        # A mailer that puts its plain and HTML versions side by side in multipart/mixed
        # instead of multipart/alternative (PHPMailer, site scripts) sends the letter twice.
        if len(segments) > 1:  # only a letter of several parts can hold one twice
            words = _word_key(full)
            if words in seen:
                continue
            seen.add(words)
        full_parts.append(full)
        kept = strip_quotes(seg.text, forward=forward, quote_at=seg.quote_at, reply=reply)
        if kept != full and _INLINE_ANSWERS.search(kept[:500]):
            # "Ответы ниже в тексте": the writer answered inside the quoted letter (Outlook
            # quotes without ">" marks, so the answers cannot be told from it): all of it
            kept = full
        elif own and any(o.lstrip("@") in kept.lower() for o in own):
            kept = cut_own_forward(kept, lambda a: is_own(a, own))
        stripped = strip_signature(kept, continues=bool(clean_parts))
        if stripped.strip():
            clean_parts.append(stripped)
    html = next((s.html for s in segments if not s.forward_header and s.text.strip()), False)
    return "\n\n".join(clean_parts).strip(), "\n\n".join(full_parts).strip(), html


# The writer saying the answers are inside the quoted letter ("ответы ниже в тексте",
# "комментарии по тексту", "see my answers inline").
_INLINE_ANSWERS = re.compile(
    r"\b(?:ответ\w*|отвеча\w*|комментари\w*|пояснени\w*)\s+(?:\w+\s+){0,2}?"
    r"(?:ниже|в\s+тексте|по\s+тексту|внутри\s+письма)\b"
    r"|\b(?:answers?|answered|comments?|commented|replies|replied|responses?)\s+"
    r"(?:\w+\s+){0,2}?(?:inline|below|in\s+the\s+text)\b",
    re.IGNORECASE)
_URL = re.compile(r"\(?<?https?://[^\s>)]*[>)]?")
_WORD = re.compile(r"\w+")


def _word_key(text: str) -> tuple[str, ...]:
    """A part's words, which its plain and HTML versions share (an HTML link's address shown
    beside its label is no word of the letter)."""
    return tuple(_WORD.findall(_URL.sub(" ", text).lower()))


def _plain_html(seg: Segment) -> Segment:
    """A text/plain body that is HTML source (a site form's template, PHP ``mail()``) read as
    the HTML it is: staff would see tags, and "<b>Квартира:</b> 45" hides the flat."""
    if seg.html or seg.forward_header or not is_html_markup(seg.text):
        return seg
    text, quote_at = html_to_text(seg.text)
    return replace(seg, text=text, html=True, quote_at=quote_at)


def _nfc(text: str) -> str:
    """``text`` composed (NFC) and without what shows as nothing (:func:`drop_invisible`);
    a blank left at an end once that is gone goes too, as the text's others went before."""
    if text.isascii():
        return text
    shown = drop_invisible(text)
    return unicodedata.normalize("NFC", shown if shown == text else shown.strip())


# Words of an address or a contact line. Foreign tenants copy their Russian address and phone
# into an English letter ("ул. Ленина, д. 5, кв. 45"), and those words say nothing about the
# language they can read.
_ADDRESS_WORDS = frozenset({
    "ул", "улица", "пр", "пр-т", "просп", "проспект", "пер", "переулок", "ш", "шоссе", "б-р",
    "бульвар", "пл", "площадь", "наб", "д", "дом", "корп", "корпус", "стр", "строение", "кв",
    "квартира", "подъезд", "эт", "этаж", "г", "город", "тел", "телефон", "моб", "домофон",
    "адрес", "street", "st", "road", "rd", "avenue", "ave", "apt", "apartment", "flat", "floor",
    "entrance", "tel", "phone", "mob", "mobile", "address"})
_ADDRESS_STEMS = ("улиц", "квартир", "подъезд", "этаж", "телефон", "домофон", "адрес")
_LINE_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")
# A closing line ("С уважением,", "Best regards, John") starts the signature: the name and
# details below it are as foreign to the letter's language as an address. The name is
# capitalised: "Thanks for your help" is a sentence.
_SIGN_OFF = re.compile(
    r"^\s*(?:--\s*$|(?i:с уважением|с наилучшими пожеланиями|всего доброго|best regards|"
    r"kind regards|regards|sincerely|cheers|thanks|thank you)[,.!]*"
    r"(?:\s+[A-ZА-ЯЁ][^\W\d_]*[.,]?){0,3}\s*$)")


def _language(text: str) -> str | None:
    sample = text[:2000]
    own = _own_words(sample)
    counts = _script_letters(own)
    if sum(counts) >= 10:
        return _script_language(own, counts)
    return _script_language(sample, _script_letters(sample))


def _own_words(sample: str) -> str:
    """``sample`` without its address and contact lines and without what follows a sign-off."""
    kept = []
    for line in sample.splitlines():
        if _SIGN_OFF.match(line):
            break
        if not _address_line(line):
            kept.append(line)
    return "\n".join(kept)


_DIGIT = re.compile(r"\d")


def _address_line(line: str) -> bool:
    """A line of mostly address or contact words and their numbers ("Джон Смит, кв. 45, ул.
    Ленина, д. 5", "тел. +7 912 000-00-00"); "I rent flat 45 at Lenina 5" is a sentence."""
    if not _DIGIT.search(line):
        return False
    words = [w.lower() for w in _LINE_WORD.findall(line)]
    marks = sum(w in _ADDRESS_WORDS or w.startswith(_ADDRESS_STEMS) for w in words)
    return marks > 0 and len(words) - marks <= max(3, marks)


# In windows-1251 the letters _CYR finds (А-Я, а-я, Ё, ё) are exactly the bytes 0xC0-0xFF,
# 0xA8 and 0xB8, and _LAT's are the ASCII letters; no other character encodes to any of them.
_NOT_CYR_BYTES = bytes(b for b in range(256) if b < 0xC0 and b not in (0xA8, 0xB8))
_NOT_LAT_BYTES = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha())


def _script_letters(text: str) -> tuple[int, int]:
    """How many Cyrillic (``_CYR``) and Latin (``_LAT``) letters ``text`` has. Counted on its
    windows-1251 bytes (what the codec cannot write is no letter of either), where deleting
    the other bytes is C code: finding the runs with the patterns cost 5% of a parse."""
    data = text.encode("cp1251", "ignore")
    return len(data.translate(None, _NOT_CYR_BYTES)), len(data.translate(None, _NOT_LAT_BYTES))


def _script_language(sample: str, counts: tuple[int, int]) -> str | None:
    """The language ``sample``'s script tells; ``counts``: its :func:`_script_letters`."""
    cyr, lat = counts
    if cyr + lat < 10:
        return None
    if cyr >= lat:
        return "ru"  # a Russian letter naming "Wi-Fi" or quoting an English error stays Russian
    # Mostly Latin letters: English when the words say so clearly too; a mix too close to
    # call (a Russian letter quoting an English error message) is left to the office's default.
    if len(_LAT.findall(sample)) < 3 * len(_CYR.findall(sample)):
        return None
    # "Zdravstvuyte, u nas techet voda": Russian from a phone without Cyrillic
    return "ru" if is_transliterated(_CYR.sub(" ", sample).lower()) else "en"


def _text_dsn(text: str) -> list[DsnRecipient]:
    """Delivery-status fields pasted into a bounce's text (MTAs without proper MIME)."""
    if "final-recipient" not in text.lower():
        return []
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields = {k.lower(): v.strip() for k, v in _DSN_FIELD.findall(block)}
        address = (dsn_address(fields) or "").lower()
        if _valid_address(address):
            out.append(DsnRecipient(address, fields.get("action", "").lower(),
                                    fields.get("status", ""), fields.get("diagnostic-code", "")))
    return out


def _only_delayed(text: str) -> bool:
    """A delivery notice in plain text that reports a delay, not a failure (a structured one
    says so in its Action and Status fields, read below). What it says would happen later
    ("You'll be notified if the delivery fails permanently") has not failed anything yet."""
    head = _IF_FAILS.sub("", text[:3000])
    return bool(_DELAY_TEXT.search(head)) and not _PERMANENT_TEXT.search(head)


def _bounce_details(
    mime: MimeResult,
    text: str,
    sender: str | None,
    recipients: list[str],
    headers: HeaderView,
    notes: list[str],
    subject: str,
) -> tuple[str | None, list[str], bool]:
    """The address that failed, the Message-IDs returned, and whether the notice reports only
    a delay or a delivery (nothing has failed: nobody to alert)."""
    ids = list(dict.fromkeys(mime.returned_ids + mime.returned_refs))
    if not ids:
        ids = list(dict.fromkeys(_BODY_MSGID.findall(text)))
    report_type = mime.report_fields.get("report-type", "")
    if mime.report_fields.get("feedback-type") or report_type == "feedback-report":
        notes.append(
            f"abuse/feedback report ({mime.report_fields.get('feedback-type', 'unknown')}): "
            "stop mailing this address"
        )
        rcpt = mime.report_fields.get("original-rcpt-to", "").strip("<> ")
        if not _valid_address(rcpt):
            rcpt = next(iter(mime.returned_recipients), "")
        return (rcpt.lower() or None), ids, False
    if not mime.dsn and _DELIVERED_SUBJECT.match(subject):
        # a delivery receipt (Exchange's "Delivered:", "Ретранслировано:"): it lists the
        # addresses our letter reached, which a failure notice's reader would take as failed
        notes.append("delivery report of a letter delivered: nothing failed")
        return None, ids, True
    if not mime.dsn and _only_delayed(text):
        notes.append("delivery delayed, not failed: no address is marked undeliverable")
        return None, ids, True
    # a mail server that wraps the whole bounce as an attachment: its status fields are inside
    dsn = mime.dsn or _text_dsn(text) or mime.enclosed_dsn
    # Only a permanent (5.x.x) failure makes an address undeliverable; "failed" with a 4.x.x
    # status means the MTA gave up after temporary errors (timeouts), which says little about
    # the address itself, and a delay is no failure whatever status it quotes ("THIS IS A
    # WARNING ONLY", Action: delayed, Status: 5.4.7).
    failed = [
        d
        for d in dsn
        if d.action.lower() not in _NOT_FAILED
        and (d.status.startswith("5") or (d.action.startswith("fail") and d.status[:1] != "4"))
    ]
    if failed:
        # an SMTPUTF8 report names ivanova@почта-дома.рф as written; we know her by its
        # ASCII domain, as she was answered
        return (ascii_domain(failed[0].address) or None), ids, False
    if dsn:
        delayed = ", ".join(f"{d.address} ({d.action or '?'} {d.status})".strip() for d in dsn)
        notes.append(f"delivery delayed or failed for now for {delayed}: not permanent")
        return None, ids, all(d.action.lower() in _NOT_FAILED for d in dsn)
    x_failed = headers.get("x-failed-recipients")
    if x_failed:
        addr = email.utils.parseaddr(x_failed.split(",")[0])[1]
        if _valid_address(addr):
            return addr.lower(), ids, False
    skip = {a for a in [sender, *recipients] if a}
    lines = text.split("\n")[:200]
    for n, line in enumerate(lines):
        listed = _ADDRESS_ALONE.fullmatch(line) is not None and any(
            _FAILURE_WORDS.search(above) for above in lines[max(0, n - 3):n])
        if not listed and not _FAILURE_WORDS.search(line) and not line.lstrip().startswith("<"):
            continue
        for addr in _EMAIL_IN_TEXT.findall(line):
            low = addr.lower().rstrip(".").lstrip("'")  # Exchange quotes it: 'ivan@…'
            local = low.split("@", 1)[0]
            if low in skip or local in ("mailer-daemon", "postmaster", "noreply", "no-reply"):
                continue
            notes.append("bounced recipient taken from the bounce text")
            return low, ids, False
    return None, ids, False


def _diagnostic(mime: MimeResult, text: str, recipient: str | None) -> str:
    """What the receiving server answered about ``recipient`` ("550 5.1.1 User unknown"),
    from the delivery-status fields; empty when they do not say."""
    if recipient is None:
        return ""
    for record in mime.dsn or _text_dsn(text) or mime.enclosed_dsn:
        if record.diagnostic and ascii_domain(record.address) == recipient:
            kind, sep, said = record.diagnostic.partition(";")  # "smtp; 550 …"
            typed = sep and kind.strip() and " " not in kind.strip()
            return " ".join((said if typed else record.diagnostic).split())
    return ""


_PARAGRAPH = re.compile(r"\n\s*\n")
_REASON_CHARS = 300


def _bounce_reason(text: str, address: str | None) -> str | None:
    """What a returned message's notice says about ``address``: the first paragraph naming it
    (the server's answer), without the address it opens with, whitespace joined and cut
    short; None when no paragraph names it."""
    if not address:
        return None
    for block in _PARAGRAPH.split(text):
        if address in block.lower():
            said = " ".join(block.split())
            said = re.sub(rf"^<?{re.escape(address)}>?:?\s*", "", said, flags=re.IGNORECASE)
            if len(said) > _REASON_CHARS:
                said = said[:_REASON_CHARS].rsplit(" ", 1)[0] + "…"
            return said.rstrip(". ") or None
    return None


def _bounce_text(text: str, recipient: str | None, said: str, returned: str | None) -> str:
    """A bounce's text as staff read it: the failed address with the server's answer first
    when the notice does not quote it (RFC 3464 keeps it in a part listed as a file), then the
    notice, then which letter of ours came back, whose case tag finds the case when a relay
    gave our letter a Message-ID of its own."""
    flat = " ".join(text.split()).lower()
    parts = [text]
    if recipient and said and said.lower() not in flat:
        parts.insert(0, f"{recipient}: {said}")
    if returned and " ".join(returned.split()).lower() not in flat:
        parts.append(f"Returned letter: {returned}")
    return "\n\n".join(p for p in parts if p)


_NO_NEW_TEXT = "no new text outside the quoted history"
# A mail program's line alone ("Sent from my iPhone", "Get Outlook for Android") is this short
_PHONE_LINE_CHARS = 120


def _parse(
    data: bytes, own: frozenset[str], internal: datetime | None, limits: MailLimits,
    authorities: tuple[str, ...] = DEFAULT_AUTHORITY_DOMAINS,
) -> ParsedMail:
    notes: list[str] = []
    recovered = False
    if not data.strip():
        return ParsedMail(
            message_id=synthetic_message_id(data),
            sender=None,
            sender_name=None,
            subject="",
            text="",
            full_text="",
            recovered=True,
            notes=("empty message",),
            message_id_synthetic=True,
            internal_date=internal,
            date=internal,
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte-order mark some Windows tools write before the headers
    data = _mend_head(data.lstrip(b" \t\r\n"))
    msg: Message = email.message_from_bytes(data)
    headers = HeaderView(msg)
    if len(headers) == 0:
        fixed = _skip_junk_prefix(data)
        if fixed is not None:
            msg = email.message_from_bytes(fixed)
            headers = HeaderView(msg)
            recovered = True
            notes.append("parsed with recovery: text before the headers skipped")
    _, top_params = parse_params(headers.get("content-type"))
    hint = top_params.get("charset")
    mime = walk_message(
        msg,
        MimeLimits(
            limits.max_attachment_bytes, limits.max_attachments, limits.max_depth, limits.max_parts
        ),
        hint,
    )
    hint = mime.body_charset or hint
    subject = _nfc(unescape_references(decode_header_value(headers.get("subject"), hint)))
    sender, sender_name, local = _sender(headers, hint, notes)
    alias = own_list(headers.get, own)
    if alias:
        sender, sender_name, local = _list_author(headers, hint, own, sender, sender_name, local)
    sender_name = _nfc(sender_name) if sender_name else None
    to_cc = headers.get_all("to") + headers.get_all("cc")
    recipients = [a.lower() for _, a in _address_pairs(to_cc) if _valid_address(a)]

    raw_id = headers.get("message-id")
    ids = _msg_ids(raw_id)
    if ids:
        message_id, synthetic = ids[0], False
    else:
        message_id, synthetic = synthetic_message_id(data), True
        if raw_id is not None:
            notes.append("Message-ID unusable: a content hash is used instead")
    in_reply_to = next(iter(_msg_ids(headers.get("in-reply-to"))), None)
    references = tuple(dict.fromkeys(_msg_ids(" ".join(headers.get_all("references")))))

    header_date = _parse_date(headers.get("date"))
    date = header_date
    if header_date is None:
        date = internal or _received_date(headers)
        if headers.get("date"):
            notes.append("Date header unreadable: server time used")
    elif internal is not None and abs(header_date - internal) > limits.max_date_skew:
        # A phone's clock a day behind would make an emergency overdue on arrival, one ahead
        # would start its deadlines late, and a letter queued offline was received today.
        date = internal
        notes.append("Date header off the server's delivery time: server time used")
    elif internal is None and _unknown_zone(headers.get("date")) \
            and (received := _received_date(headers)) is not None:
        date = received
        notes.append("Date header's time zone unknown: the receiving server's time used")

    text, full_text, html = _clean_text(mime.segments, subject, bool(in_reply_to or references),
                                        own)
    if full_text and not text:
        notes.append(_NO_NEW_TEXT)
    # a resident forwarding their own unanswered letter again is its author
    own_letter = drop_forward_header(text, sender) if sender else None
    if own_letter is not None:
        text = own_letter
    replying = bool(in_reply_to or references or is_reply_subject(subject))
    # asked only where it can change something: it reads the whole text again
    wordless = (bool(mime.captions) or replying) \
        and not strip_signature(text, continues=True).strip()
    if wordless and mime.captions:
        # a photo shared from a phone with its words in its name ("протечка в ванной.jpg"; a
        # document's: "Заявление на перерасчёт.pdf"),
        # under nothing but the phone's "Отправлено с iPhone"
        text = "\n".join(mime.captions)
        full_text = full_text or text
        notes.append("text read from the attached files' descriptions or file names")
    elif wordless and replying:
        # a phone user answers by typing into the subject ("Re: [A-1042] … — мастер так и не
        # пришёл"): those words are the letter (a new letter's subject is shown with it
        # anyway), not the phone's "Отправлено с iPhone" left above the quote
        text = subject_words(subject) or text
    elif not replying and not mime.captions and (matter := subject_words(subject)) \
            and (signed := signature_only(text or full_text)) is not None:
        # the matter typed into the subject ("Не работает лифт, 2 подъезд"), the body only
        # signed: the case reads the subject's words, with the flat signed below them
        text = f"{matter}\n\n{signed}".strip()
        notes = [n for n in notes if n != _NO_NEW_TEXT]
        notes.append("text read from the subject: the body is only a signature")
    text, full_text = _nfc(text), _nfc(full_text)
    # the resident's own words tell their language, not the words standing in below, nor an
    # English phone's "Sent from my iPhone" alone under a subject in Russian
    phone_only = not replying and len(text) <= _PHONE_LINE_CHARS and bool(text) \
        and not strip_signature(text, continues=True)
    language = _language(subject_words(subject) if phone_only else text or full_text)
    if not full_text and not text:
        # an invitation, a letter of pictures: words that say what it holds, not an empty case
        standing = stand_in(mime, subject, _language)
        if standing is not None:
            text = full_text = standing[0]
            notes.append(standing[1])
            language = language or (_language(text) if mime.calendar else None)
    if not full_text:
        notes.append("message has no readable text")
    notice = partial_notice(mime, subject, _language)
    if notice is not None:
        text = f"{text}\n\n{notice}" if text else notice
        full_text = f"{full_text}\n\n{notice}" if full_text else notice
    if len(full_text) > limits.max_text_chars or len(text) > limits.max_text_chars:
        notes.append(f"text trimmed to {limits.max_text_chars} characters")
        text = text[: limits.max_text_chars]
        full_text = full_text[: limits.max_text_chars]

    ctype, ct_params = parse_params(headers.get("content-type"))
    reply_to = _reply_to(headers, hint)
    # a site's form names itself in its footer ("Это сообщение отправлено с сайта …"), which
    # goes with the signature: read in the whole of a new letter (a form answers nothing)
    says_form = _says_form(text) or (not replying and _says_form(full_text))
    form = _site_form(sender, text, own, says_form) if sender else None
    signals = LoopSignals(
        header=headers.get,
        sender=sender,
        sender_local=local,
        subject=subject,
        content_type=ctype,
        report_type=(ct_params.get("report-type") or "").lower() or None,
        body_text=full_text,
        own_addresses=own,
        has_delivery_status=bool(mime.dsn)
        or any(a.content_type in DSN_TYPES for a in mime.attachments),
        has_returned_message=any(a.content_type in RETURNED_TYPES for a in mime.attachments),
        reply_to=reply_to[0] if reply_to else None,
        new_text=text,
        recipients=tuple(recipients),
        attachment_types=tuple(a.content_type for a in mime.attachments),
        authority_domains=authorities,
        own_list=alias,
        calendar_methods=tuple(event.method for event in mime.calendar),
        # a form that names its author only by an address is no proof a person wrote it
        form_author=form[0] if form and form[1] else None,
    )
    automated, reason = detect_automated(signals)
    review = _answer_nobody(automated, signals)
    if review is not None:
        # a case for staff, and nobody to write to: not the portal's robot, not ourselves
        automated, reason, sender = None, None, None
        notes.append(f"{review}: manual review, nothing will be sent")
    relayed_by = None
    if review is None and automated is None and sender:
        author = sender
        sender, sender_name = _relayed(
            sender, sender_name, reply_to or form, own, notes, text, says_form)
        if sender not in (None, author) and not _NO_REPLY.match(author.split("@", 1)[0]) \
                and not is_own(author, own):
            relayed_by = author
    bounced_recipient: str | None = None
    bounced_ids: list[str] = []
    delayed = False
    bounce_reason = None
    if automated is Automated.BOUNCE:
        bounced_recipient, bounced_ids, delayed = _bounce_details(
            mime, full_text, sender, recipients, headers, notes, subject
        )
        said = _diagnostic(mime, full_text, bounced_recipient)
        text = _bounce_text(text, bounced_recipient, said, mime.returned_subject)
        bounce_reason = _bounce_reason(text, bounced_recipient)
    if automated is not None:
        notes.insert(0, f"automated ({automated.value}): {reason}")
    recovered = recovered or mime.recovered
    all_notes = [*notes, *mime.notes]
    if recovered and not any(n.startswith("parsed with recovery") for n in all_notes):
        all_notes.insert(0, "parsed with recovery")
    all_notes.extend(mime.dropped)
    return ParsedMail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=text,
        full_text=full_text,
        html=html,
        attachments=tuple(mime.attachments),
        dropped=tuple(mime.dropped),
        in_reply_to=in_reply_to,
        references=references,
        date=date,
        automated=automated,
        bounced_recipient=bounced_recipient,
        bounced_message_ids=tuple(bounced_ids),
        bounced_subject=mime.returned_subject if automated is Automated.BOUNCE else None,
        bounce_reason=bounce_reason,
        bounce_delayed=delayed,
        recovered=recovered,
        notes=tuple(dict.fromkeys(all_notes)),
        language=language,
        message_id_synthetic=synthetic,
        internal_date=internal,
        forwarded_from=mime.forwarded_from,
        forwarded_ids=_own_forwarded(mime.forwarded_ids, sender),
        automated_reason=reason,
        no_auto_reply=no_auto_reply(headers.get) or _recall(subject, full_text),
        review_reason=review,
        resent=own_letter is not None,
        relayed_by=relayed_by,
        header_date=header_date,
        recipients=tuple(dict.fromkeys(recipients)),
    )


def _answer_nobody(automated: Automated | None, s: LoopSignals) -> str | None:
    """Why a letter that would be ignored (a state portal's notice) or taken for our own (a
    scan from the office's copier) still opens a case, for staff alone; None for the rest."""
    if automated is Automated.AUTOREPLY:
        return authority_notice(s)
    if automated is None and office_scan(s):
        if all(t.startswith("audio/") for t in s.attachment_types):
            return "a voicemail the office's own phone system mailed from the office address"
        return "a scan the office's own copier mailed from the office address"
    if automated is None and says_automatic(s):
        return "a letter whose own words say it is automatic"
    if automated is None and is_colleague(s.sender, s.own_addresses):
        return f"a colleague's letter from the office's domain ({s.sender})"
    return None


def _own_forwarded(forwarded: list[tuple[str, str]], sender: str | None) -> tuple[str, ...]:
    """The Message-IDs of letters forwarded as attachments that the sender wrote themselves:
    a resident re-sending a letter that went unanswered ("Повторно направляю обращение")
    continues its case. A letter someone else wrote is theirs, not a thread of the sender's."""
    if not sender:
        return ()
    return tuple(dict.fromkeys(i for i, author in forwarded if author == sender))


def _fallback(raw: object, internal_date: object, exc: BaseException) -> ParsedMail:
    """Last resort after an unexpected parser error: keep whatever text can be had."""
    note = f"parsed with recovery: parser error {type(exc).__name__}: {str(exc)[:200]}"
    try:
        data = _as_bytes(raw)
        message_id = synthetic_message_id(data)
        _, body = _split_raw(data)
        text = decode_bytes(body[:200_000]).replace("\r\n", "\n").strip()[:20_000]
    except Exception:
        data, message_id, text = b"", "sha256:" + hashlib.sha256(b"").hexdigest(), ""
    internal = None
    if isinstance(internal_date, datetime):
        internal = _aware(internal_date)
    return ParsedMail(
        message_id=message_id,
        sender=None,
        sender_name=None,
        subject="",
        text=text,
        full_text=text,
        recovered=True,
        notes=(note,),
        message_id_synthetic=True,
        internal_date=internal,
        date=internal,
    )
