"""Bursts, flood control and restarts: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import func, select

from bot.sender import SendLimits, split_text, utf16_len
from domovoy.app import build_app
from domovoy.peers.telegram_api import BotAPIEmulator, FloodLimits
from tests.conftest import make_config
from tests.peers.telegram import STAFF_CHAT, TelegramHarness, add_staff_chats, telegram_config
from workflow.models import Case, Message, OutboxItem

BURST = 50


async def test_burst_of_50_cards_with_a_429_every_card_once(tmp_path: Path) -> None:
    # Telegram's windows shrunk 30-fold (20 messages per 2 s to a group) so this runs in
    # seconds; the bot is given the same numbers it uses in production, scaled the same way.
    flood = FloodLimits(group_max=20, group_window=2.0)
    limits = SendLimits(group_max=20, group_window_s=2.0)
    app = await build_app(make_config(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}"))
    async with BotAPIEmulator(flood_limits=flood) as emu:
        add_staff_chats(emu)
        harness = TelegramHarness(app, emu, telegram_config(emu), limits)
        await harness.start()
        outbox = asyncio.create_task(app.outbox.run(idle=0.2))
        try:
            emu.fail_next("sendMessage", chat_id=STAFF_CHAT, error_code=429, retry_after=1)
            for i in range(BURST):
                user = 6000 + i
                emu.add_private_chat(user, f"Житель {i}")
                emu.user_sends(user, f"Течёт труба в квартире {i + 1}, заливает соседей")
            started = time.monotonic()
            await harness.settle(timeout=30)

            def cards() -> Counter[str]:
                return Counter(re.findall(r"A-\d+", m.get("text") or "")[0]
                               for m in emu.sent_messages(STAFF_CHAT) if m.get("reply_markup"))

            await harness.until(lambda: sum(cards().values()) >= BURST, timeout=40,
                                what="every card")
            elapsed = time.monotonic() - started

            async def outbox_state() -> dict[str, int]:
                async with app.wf.sessions() as session:
                    rows = (await session.execute(select(OutboxItem.state, func.count())
                                                  .group_by(OutboxItem.state))).all()
                return {state: n for state, n in rows}

            async def drained() -> bool:
                return "pending" not in await outbox_state()

            await harness.until(drained, timeout=20, what="the outbox to drain")
            async with app.wf.sessions() as session:
                numbers = set((await session.scalars(select(Case.number))).all())
            assert await outbox_state() == {"sent": 2 * BURST}  # an ack and a card each
            assert len(numbers) == BURST
            assert set(cards()) == numbers and set(cards().values()) == {1}
            # The injected 429 was honoured; the bot's own pacing caused no other.
            assert emu.flood_error_count == 0, emu.flood_hits
            assert harness.channel is not None
            assert harness.channel.output.retry_afters == 1
            # 50 cards at 20 per 2 s cannot take less than ~4 s: they were paced, not dropped.
            assert elapsed > 3.0
        finally:
            outbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await outbox
            await harness.stop()
    await app.close()


async def test_restart_mid_burst_loses_nothing_and_duplicates_nothing(
        make_telegram: Callable[..., Awaitable[TelegramHarness]],
        tg_emulator: BotAPIEmulator) -> None:
    harness: TelegramHarness = await make_telegram()
    await harness.stop()
    emu = tg_emulator
    for i in range(30):
        user = 7000 + i
        emu.add_private_chat(user, f"Житель {i}")
        emu.user_sends(user, f"Не работает лифт в подъезде {i + 1}")
    await harness.start()

    async def cases() -> int:
        async with harness.app.wf.sessions() as session:
            return await session.scalar(select(func.count(Case.id))) or 0

    await harness.until(lambda: _at_least(cases, 5), timeout=10, what="a few cases")
    await harness.stop()  # mid-burst: some updates handled, the rest still pending
    handled_before = await cases()
    assert handled_before < 30 and emu.pending_updates
    await harness.start()
    await harness.settle(timeout=20)
    async with harness.app.wf.sessions() as session:
        assert await session.scalar(select(func.count(Case.id))) == 30
        ext = (await session.scalars(select(Message.external_id).where(
            Message.direction == "in"))).all()
    assert len(ext) == len(set(ext)) == 30


async def _at_least(count: Callable[[], Awaitable[int]], n: int) -> bool:
    return await count() >= n


def test_long_texts_are_split_within_telegram_limits() -> None:
    text = ("Абзац с эмодзи 🚰 и текстом. " * 40 + "\n\n") * 10
    parts = split_text(text)
    assert len(parts) > 1 and all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == \
        text.strip().replace(" ", "").replace("\n", "")
