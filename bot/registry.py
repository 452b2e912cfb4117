"""Residents as the bot knows them: their Telegram identity, registration and bursts.

Registration (building, flat, phone) happens before a resident's first message, so the bot
creates the resident and identity rows itself, exactly as intake would; intake then finds the
identity by (channel, address) and uses what registration stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.message import Attachment, Channel
from workflow.cases import typed_case_number
from workflow.models import Building, Case, Event, Message, Resident
from workflow.residents import find_identity, find_or_create

TELEGRAM = Channel.TELEGRAM.value


# "/command" or "/command@botname" at the start of a message (Telegram's own command syntax).
COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?=\s|$)")


# What a sentence puts around a case number: "/case A-1042." or "/close A-1042, done" or
# "(A-1042)". Left on, it made the number unknown ("A-1042. not found among yours").
NUMBER_SURROUNDINGS = ".,;:!?()[]{}«»\"'"


def case_number_in(typed: str) -> str:
    """A case number as typed in a command's arguments ("A 1042.", "A-1042 please"), in the
    form it is stored; what is no number comes back upper-cased, as ``typed_case_number``."""
    whole = typed_case_number(typed.strip().strip(NUMBER_SURROUNDINGS))
    if not any(c.isspace() for c in whole):
        return whole
    return typed_case_number((typed.split() or [""])[0].strip(NUMBER_SURROUNDINGS))


def language_of(code: str | None, default: str) -> str:
    if code and code.lower().startswith("en"):
        return "en"
    if code and code.lower().startswith("ru"):
        return "ru"
    return default


async def resident_of(session: AsyncSession, user_id: int) -> Resident | None:
    found = await find_identity(session, TELEGRAM, str(user_id))
    return found[0] if found is not None else None


async def ensure_resident(session: AsyncSession, user_id: int, name: str | None,
                          language: str, now: datetime) -> Resident:
    resident, _, _ = await find_or_create(session, TELEGRAM, str(user_id), now, name=name,
                                          language=language)
    return resident


async def building_by_code(session: AsyncSession, code: str) -> Building | None:
    return await session.scalar(select(Building).where(Building.code == code))


@dataclass(frozen=True)
class Burst:
    key: str | None
    carried: tuple[Attachment, ...] = ()


async def recent_burst(session: AsyncSession, resident_id: int | None, now: datetime,
                       window: timedelta) -> Burst:
    """The burst key of this resident's last Telegram message if it was sent within
    ``window``: text then photos (or an album) then join one case.

    Attachments of a last message that opened no case (a photo with no words) are carried
    into the next one, so the photo is not lost when the words follow.

    What is filed on a case outside any burst (an edit, a reaction, the form's case) is no
    message of one: a typo mended in "Течёт кран" and the photo sent a moment later made the
    photo a second case.
    """
    if resident_id is None or window <= timedelta(0):
        return Burst(None)
    last = await session.scalar(
        select(Message).where(Message.resident_id == resident_id, Message.channel == TELEGRAM,
                              Message.direction == "in", Message.created_at >= now - window,
                              Message.burst_key.is_not(None) | Message.case_id.is_(None))
        .order_by(Message.id.desc()).limit(1))
    if last is None:
        return Burst(None)
    if last.case_id is None:
        return Burst(None, tuple(_attachment(a) for a in last.attachments or []))
    return Burst(last.burst_key)


def media_ref(chat_id: int, message_id: int, file_id: str) -> str:
    """A Telegram attachment's ref: the message that carries it, then its file_id. Staff are
    shown a copy of that message, which need not be the one the attachment is filed on (the
    form's photos go with its description, a photo without words with the words after it)."""
    return f"{chat_id}:{message_id}:{file_id}"


def media_sources(messages: Iterable[Message]) -> list[str]:
    """The "<chat>:<message>" of every Telegram message carrying these messages' attachments,
    oldest first, each once. An attachment stored before refs named their message (a bare
    file_id) is taken to be on the message it is filed on."""
    sources: dict[str, None] = {}
    for m in messages:
        for raw in m.attachments or []:
            chat, _, rest = str(raw.get("ref") or "").partition(":")
            message_id = rest.partition(":")[0]
            if chat.lstrip("-").isdigit() and message_id.isdigit():
                sources[f"{chat}:{message_id}"] = None
            elif m.external_id:
                sources[m.external_id] = None
    return list(sources)


def _attachment(raw: dict[str, Any]) -> Attachment:
    return Attachment(filename=str(raw.get("filename") or "file"),
                      content_type=str(raw.get("content_type") or "application/octet-stream"),
                      size=int(raw.get("size") or 0), ref=raw.get("ref"))


async def resident_cases(session: AsyncSession, resident_id: int, limit: int = 10) -> list[Case]:
    return list((await session.scalars(
        select(Case).where(Case.resident_id == resident_id)
        .order_by(Case.id.desc()).limit(limit))).all())


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    kind: str  # "in", "out" or "stage"
    text: str


async def case_history(session: AsyncSession, case: Case) -> list[HistoryItem]:
    """What the resident may see: their messages, our answers and stage changes —
    not internal notes or who did what."""
    items: list[HistoryItem] = []
    for m in (await session.scalars(select(Message).where(
            Message.case_id == case.id, Message.direction.in_(("in", "out")))
            .order_by(Message.id))).all():
        text = m.text or (f"[{len(m.attachments)}]" if m.attachments else "")
        items.append(HistoryItem(m.created_at, m.direction, text))
    for e in (await session.scalars(select(Event).where(
            Event.case_id == case.id, Event.to_stage.is_not(None)).order_by(Event.id))).all():
        assert e.to_stage is not None
        items.append(HistoryItem(e.at, "stage", e.to_stage))
    items.sort(key=lambda i: i.at)
    return items
