"""Ticks on staff replies: 👍 once the resident's copy went out, 👎 when it could not.

The reply goes through the outbox and may leave by email, through another channel's sender,
so the bot learns the outcome by watching the outbox rows rather than from its own sender.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from aiogram.exceptions import TelegramAPIError
from aiogram.methods import SetMessageReaction
from aiogram.types import ReactionTypeEmoji
from sqlalchemy import select

from bot.sender import TelegramOutput
from workflow.clock import wait_event
from workflow.context import Workflow
from workflow.models import OutboxItem

log = logging.getLogger(__name__)

DELIVERED = "👍"
FAILED = "👎"
# After a restart, replies this recent whose outcome was never shown get their mark.
RESTORE_WINDOW = timedelta(days=2)


@dataclass(frozen=True)
class Tracked:
    chat_id: int
    message_id: int


class DeliveryWatch:
    def __init__(self, wf: Workflow, output: TelegramOutput, interval: float = 1.0) -> None:
        self.wf = wf
        self.output = output
        self.interval = interval
        self._pending: dict[int, Tracked] = {}
        self._wake = asyncio.Event()

    def track(self, outbox_id: int, chat_id: int, message_id: int) -> None:
        self._pending[outbox_id] = Tracked(chat_id, message_id)
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def check(self) -> None:
        """One pass over the tracked replies."""
        if not self._pending:
            return
        async with self.wf.sessions() as session:
            items = (await session.scalars(select(OutboxItem).where(
                OutboxItem.id.in_(list(self._pending))))).all()
            outcomes: list[tuple[int, str | None, int | None]] = []
            for item in items:
                if item.state == "pending":
                    continue
                if item.state == "sent":
                    outcomes.append((item.id, DELIVERED, None))
                    continue
                # Failed on this channel: the workflow may have re-sent it through another.
                fallback = await session.scalar(select(OutboxItem.id).where(
                    OutboxItem.idempotency_key.like(f"{item.idempotency_key}:fallback:%")))
                outcomes.append((item.id, None if fallback else FAILED, fallback))
        for outbox_id, emoji, fallback in outcomes:
            where = self._pending.pop(outbox_id)
            if fallback is not None:
                self._pending[fallback] = where
            if emoji is not None:
                await self._react(where, emoji)
            await self._mark_shown(outbox_id)  # settled here; a fallback carries it on

    async def restore(self) -> None:
        """Pick up replies whose mark was never shown (the bot restarted meanwhile): the
        staff message each came from is kept in the reply's outbox row."""
        since = self.wf.clock.now() - RESTORE_WINDOW
        async with self.wf.sessions() as session:
            items = (await session.scalars(select(OutboxItem).where(
                OutboxItem.purpose == "staff_reply", OutboxItem.created_at >= since))).all()
        for item in items:
            origin = str(item.payload.get("origin") or "")
            chat, _, message = origin.partition(":")
            if item.payload.get("shown") or not message.isdigit():
                continue
            self._pending.setdefault(item.id, Tracked(int(chat), int(message)))

    async def _mark_shown(self, outbox_id: int) -> None:
        async with self.wf.sessions.begin() as session:
            item = await session.get(OutboxItem, outbox_id)
            if item is not None:
                item.payload = {**item.payload, "shown": True}

    async def _react(self, where: Tracked, emoji: str) -> None:
        try:
            await self.output.edit(where.chat_id, where.message_id, SetMessageReaction(
                chat_id=where.chat_id, message_id=where.message_id,
                reaction=[ReactionTypeEmoji(emoji=emoji)]))
        except TelegramAPIError as exc:
            log.warning("tick on %s:%s not set: %s", where.chat_id, where.message_id, exc)

    async def run(self) -> None:
        await self.restore()
        while True:
            self._wake.clear()
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery watch pass failed")
            await wait_event(self._wake, self.interval)
