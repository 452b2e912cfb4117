"""Channel health, as ``domovoy status`` shows it: last poll, last success, last error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from workflow.db import SessionFactory
from workflow.models import ChannelHealth


async def record_health(sessions: SessionFactory, channel: str, now: datetime,
                        error: str | None = None) -> None:
    """``error`` is a readable sentence ("IMAP login refused: ..."), None after a good poll."""
    async with sessions.begin() as session:
        row = await session.get(ChannelHealth, channel)
        if row is None:
            row = ChannelHealth(channel=channel)
            session.add(row)
        row.last_poll_at = now
        if error is None:
            row.last_ok_at = now
        else:
            row.last_error = error
            row.last_error_at = now


async def read_health(sessions: SessionFactory) -> list[ChannelHealth]:
    async with sessions() as session:
        return list((await session.scalars(select(ChannelHealth)
                                           .order_by(ChannelHealth.channel))).all())
