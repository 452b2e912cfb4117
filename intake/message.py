"""The one shape every channel turns its input into.

Channel adapters (``intake.email``, ``bot``) only translate to :class:`InboundMessage`; everything
after that (dedupe, threading, classification, cases) is channel-neutral and lives in ``workflow``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    IN_PERSON = "in_person"
    PHONE = "phone"


# Channels Domovoy can write to (in-person and phone registrations have nobody to send to).
REACHABLE_CHANNELS = frozenset({Channel.TELEGRAM, Channel.EMAIL})
# Chat channels: a short automatic note to a message that opened no case is welcome there; by
# email it would answer spam. A resident first seen on another channel is offered a /link code.
CHAT_CHANNELS = frozenset({Channel.TELEGRAM})
# Channels whose messages carry an HTML alternative (the rest send the plain text only).
HTML_CHANNELS = frozenset({Channel.EMAIL})
# Channels whose message ids the sender's software writes (email's Message-ID), not the
# channel: two different messages may come under one id (a site script's "<1@localhost>").
SENDER_NAMED_IDS = frozenset({Channel.EMAIL})


# Mail providers that deliver several spellings of an address to one mailbox: the domains
# that are one login space, the canonical domain, and what the login ignores. Yandex's
# domains (narod.ru was its homepage service, with a Yandex mailbox) take a dot and a hyphen
# for one another; Gmail ignores dots (only for consumer gmail.com accounts, not for a
# company's Google Workspace domain). Both drop a "+tag". Mail.ru's domains (mail.ru, bk.ru,
# inbox.ru, list.ru) are separate mailboxes and stay out.
_Family = tuple[frozenset[str], str, Mapping[int, int | None]]
_MAILBOX_FAMILIES: tuple[_Family, ...] = (
    (frozenset({"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua",
                "narod.ru"}), "yandex.ru", str.maketrans(".", "-")),
    (frozenset({"gmail.com", "googlemail.com"}), "gmail.com", str.maketrans("", "", ".")),
)


def mailbox_key(channel: str, address: str) -> str:
    """One spelling for every address that reaches the same mailbox (``ivanov@ya.ru`` and
    ``ivanov@yandex.ru``, ``i.vanov@gmail.com`` and ``ivanov+dom@googlemail.com``), so a
    resident writing from another alias is the same resident. The key only compares: the
    address stays stored and answered as the resident typed it."""
    family = _mailbox_family(channel, address)
    if family is None:
        return address.lower()
    _, canonical, fold = family
    local = address.rpartition("@")[0].lower().split("+", 1)[0]
    return f"{local.translate(fold)}@{canonical}"


def mailbox_domains(channel: str, address: str) -> frozenset[str]:
    """The domains an alias of ``address`` may be spelt with (empty: the address has none)."""
    family = _mailbox_family(channel, address)
    return family[0] if family is not None else frozenset()


def _mailbox_family(channel: str, address: str) -> _Family | None:
    if channel != Channel.EMAIL or "@" not in address:
        return None
    domain = address.rpartition("@")[2].lower()
    return next((f for f in _MAILBOX_FAMILIES if domain in f[0]), None)


class Automated(StrEnum):
    """Why a message must never be answered (mail loops, bounces, lists, our own mail)."""

    AUTOREPLY = "autoreply"
    LIST = "list"
    BOUNCE = "bounce"
    OWN = "own"


def storable(value: str) -> str:
    """Text every database and encoder downstream accepts.

    Lone surrogates (undecodable bytes smuggled through Python's ``surrogateescape``, or a
    ``\\ud83d`` escape cut in half in JSON) cannot be encoded as UTF-8, so SQLite, PostgreSQL and
    the quarantine's own JSON would all refuse the message; they become U+FFFD (a split pair
    is joined again). NUL characters, which PostgreSQL text cannot hold, are dropped.
    """
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


class _Storable:
    """Cleans every text field (and tuple of texts) on construction, so no channel adapter can
    hand the workflow a string it cannot store or send."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, str):
                clean: object = storable(value)
            elif isinstance(value, tuple) and any(isinstance(v, str) for v in value):
                clean = tuple(storable(v) if isinstance(v, str) else v for v in value)
            else:
                continue
            if clean != value:
                object.__setattr__(self, f.name, clean)


@dataclass(frozen=True)
class SenderIdentity(_Storable):
    """How to reach the person again on the channel they used.

    ``address`` is a lower-cased email address for email, the Telegram user id (as text) for
    Telegram, and a phone number or free text for in-person/phone registrations.
    """

    channel: Channel
    address: str
    display_name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Attachment(_Storable):
    """An attachment as metadata; ``ref`` is where the bytes can be had again.

    For email the raw message is kept, so ``ref`` is the MIME part path; for Telegram it is
    ``<chat>:<message>:<file_id>``, the message that carries the file (staff are shown a copy
    of it), then its file_id. ``digest`` is a SHA-256 of the file's bytes where the channel
    has them (email): two letters alike in every word but their photos are two letters, not
    one sent twice.
    """

    filename: str
    content_type: str
    size: int
    ref: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class PresetLabels:
    """Labels the resident chose explicitly (a guided form); they beat the classifier's guesses."""

    kind: str | None = None
    category: str | None = None
    urgency: str | None = None
    scope: str | None = None


@dataclass(frozen=True)
class InboundMessage(_Storable):
    """A resident's message, normalised.

    ``external_id`` is unique per channel (email: Message-ID, or a stable hash when there is
    none; Telegram: ``<chat_id>:<message_id>``). ``thread_hints`` are external ids this message
    refers to (In-Reply-To/References, a Telegram reply-to) and let a follow-up join its case.
    ``sender`` is None when the channel could not tell who wrote (mail with no usable From): the
    case then opens for manual review and nothing is sent.
    """

    channel: Channel
    external_id: str
    sender: SenderIdentity | None
    text: str
    received_at: datetime
    subject: str = ""
    attachments: tuple[Attachment, ...] = ()
    thread_hints: tuple[str, ...] = ()
    raw_ref: str | None = None
    building_code: str | None = None
    apartment: str | None = None
    phone: str | None = None
    automated: Automated | None = None
    bounced_recipient: str | None = None
    # what the receiving server answered about that recipient ("550 5.1.1 User unknown"), as
    # the channel read it from the notice: staff see it in the delivery-failure alert
    bounce_reason: str | None = None
    # a delivery notice that reports a delay, not a failure: nothing to tell staff yet
    bounce_delayed: bool = False
    notes: tuple[str, ...] = ()
    preset: PresetLabels | None = None
    burst_key: str | None = None
    # The sender asked for no automatic answers (Outlook's X-Auto-Response-Suppress): the case
    # opens as always, but no automatic message about it (acknowledgement, stage notices,
    # rating requests) goes to that address; staff answer in person.
    no_auto_reply: bool = False
    # Why the channel could answer nobody (with ``sender`` None): a notice an authority's
    # system forwarded, a scan from the office's own copier. Staff read it on the case.
    review_reason: str | None = None
    # The sender sends a letter of their own again (forwarded, "пишу второй раз"): it may
    # continue the case that letter opened.
    resent: bool = False
    # The address a person wrote from when they asked for answers at another (a Reply-To
    # their mail program adds to every letter): their reply to a case opened from that
    # address is still theirs.
    relayed_by: str | None = None


def message_to_json(msg: InboundMessage) -> dict[str, Any]:
    """The message as plain JSON: what a channel keeps in quarantine when intake fails, so
    ``domovoy requeue`` can retry it without the channel (a Telegram update cannot be fetched
    again once its offset has moved on)."""
    data = asdict(msg)
    data["received_at"] = msg.received_at.isoformat()
    return data


def message_from_json(data: dict[str, Any]) -> InboundMessage:
    """The inverse of :func:`message_to_json`."""
    sender, preset = data.get("sender"), data.get("preset")
    return InboundMessage(
        channel=Channel(data["channel"]), external_id=data["external_id"],
        sender=SenderIdentity(**{**sender, "channel": Channel(sender["channel"])})
        if sender else None,
        text=data["text"], received_at=datetime.fromisoformat(data["received_at"]),
        subject=data.get("subject", ""),
        attachments=tuple(Attachment(**a) for a in data.get("attachments", ())),
        thread_hints=tuple(data.get("thread_hints", ())), raw_ref=data.get("raw_ref"),
        building_code=data.get("building_code"), apartment=data.get("apartment"),
        phone=data.get("phone"),
        automated=Automated(data["automated"]) if data.get("automated") else None,
        bounced_recipient=data.get("bounced_recipient"), bounce_reason=data.get("bounce_reason"),
        bounce_delayed=bool(data.get("bounce_delayed", False)), notes=tuple(data.get("notes", ())),
        preset=PresetLabels(**preset) if preset else None, burst_key=data.get("burst_key"),
        no_auto_reply=bool(data.get("no_auto_reply", False)),
        review_reason=data.get("review_reason"), resent=bool(data.get("resent", False)),
        relayed_by=data.get("relayed_by"),
    )
