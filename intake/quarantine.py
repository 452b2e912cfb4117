"""Input that could not be processed is kept whole in the ``quarantine`` table, never dropped.

The channel moves on past it (one poisonous message must not stall the office inbox or the
bot); an operator sees the count in ``domovoy status`` and retries with ``domovoy requeue`` once
the cause (a bug, a database outage) is fixed. Mail is kept raw and parsed again; other channels
keep the normalised message beside their raw input (``{"inbound": ...}``), which is retried as is.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import func, select

from intake.email.backlog import describe_error, ingest_raw
from intake.email.loops import DEFAULT_AUTHORITY_DOMAINS
from intake.message import InboundMessage, message_from_json
from workflow.db import SessionFactory
from workflow.intake import IntakeService
from workflow.models import Quarantine

log = logging.getLogger(__name__)


async def store(sessions: SessionFactory, *, channel: str, source: str, raw: bytes,
                reason: str, now: datetime) -> int:
    """Keep ``raw`` with its reason; returns the row id.

    The poller may see the same message again (a crash before its cursor moved): an unresolved
    row for the same source is updated instead of duplicated.
    """
    async with sessions.begin() as session:
        row = await session.scalar(select(Quarantine).where(
            Quarantine.source == source, Quarantine.resolved_at.is_(None)))
        if row is None:
            row = Quarantine(channel=channel, source=source, raw=raw, reason=reason,
                             attempts=1, created_at=now)
            session.add(row)
        else:
            row.reason = reason
        await session.flush()
        row_id = row.id
    log.warning("quarantined %s (%d bytes): %s", source, len(raw), reason)
    return row_id


async def pending_count(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int(await session.scalar(
            select(func.count(Quarantine.id)).where(Quarantine.resolved_at.is_(None))) or 0)


async def requeue(intake: IntakeService, sessions: SessionFactory, *,
                  own_addresses: frozenset[str] = frozenset(),
                  authority_domains: tuple[str, ...] = DEFAULT_AUTHORITY_DOMAINS,
                  ids: list[int] | None = None) -> list[str]:
    """Retry every unresolved item (or only ``ids``); one readable line per item.

    Success marks the row resolved; failure keeps it, counts the attempt and records the new
    reason. Dedupe makes a retry of something that did get in after all a harmless duplicate.
    """
    query = select(Quarantine.id).where(Quarantine.resolved_at.is_(None))
    if ids is not None:
        query = query.where(Quarantine.id.in_(ids))
    async with sessions() as session:
        todo = list((await session.scalars(query.order_by(Quarantine.id))).all())
    lines: list[str] = []
    for item_id in todo:
        async with sessions() as session:
            row = await session.get_one(Quarantine, item_id)
            raw, source, channel = row.raw, row.source, row.channel
        stored = None if channel == "email" else _stored_message(raw)
        if channel != "email" and stored is None:
            # an update the bot could not read (bot/unreadable.py): kept for an engineer to
            # look at, since reading it again would fail the same way
            lines.append(f"#{item_id} {source}: skipped, kept for inspection: it holds no "
                         "message Domovoy can read, so a retry would fail the same way")
            continue
        try:
            if stored is not None:
                result = await intake.ingest(stored)
            else:
                _, result = await ingest_raw(intake, raw, raw_ref=source,
                                             own_addresses=own_addresses,
                                             authority_domains=authority_domains)
        except Exception as exc:
            reason = describe_error(exc)
            async with sessions.begin() as session:
                row = await session.get_one(Quarantine, item_id)
                row.attempts += 1
                row.reason = reason
                attempts = row.attempts
            lines.append(f"#{item_id} {source}: still failing (attempt {attempts}): {reason}")
            continue
        async with sessions.begin() as session:
            row = await session.get_one(Quarantine, item_id)
            row.resolved_at = intake.wf.clock.now()
        case = f" {result.case_number}" if result.case_number else ""
        lines.append(f"#{item_id} {source}: {result.action}{case}")
    return lines


def _stored_message(raw: bytes) -> InboundMessage | None:
    """The normalised message a channel kept beside its raw input, if it kept one."""
    try:
        data = json.loads(raw)
        return message_from_json(data["inbound"]) if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
