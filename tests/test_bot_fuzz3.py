"""The third robustness round: the Telegram side under its send budgets, and what reaches staff.

As in ``test_bot_fuzz.py``, each test drives the real bot through the Bot API emulator over
HTTP and asserts what a person would notice: every building's card reaches a shared staff
chat however long the queue, the photos of the guided form (or sent before the words) are
shown to staff, an album gets one note, a gas card is not held behind a department head's
escalation pings, and a webhook secret or URL Telegram would refuse is a configuration error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import FormCb
from bot.sender import SendLimits
from domovoy.app import App, build_app
from domovoy.config import ConfigError, load_config
from domovoy.peers.telegram_api import BotAPIEmulator
from tests.conftest import ORG, make_config
from tests.peers.telegram import (
    STAFF_CHAT,
    STAFF_IDS,
    TelegramHarness,
    add_staff_chats,
    telegram_config,
)
from tests.test_bot_fuzz import cases_of, run
from workflow.clock import ManualClock, ShiftedClock
from workflow.models import Message

RESIDENT = 5001
IVAN = STAFF_IDS["ivan"]
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]


@contextlib.asynccontextmanager
async def outbox_running(app: App) -> AsyncIterator[None]:
    """The outbox as `domovoy run` runs it: woken by new items, and when a retry is due."""
    task = asyncio.create_task(app.outbox.run(idle=0.05))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def cards(h: TelegramHarness) -> list[dict[str, Any]]:
    return [m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup")]


async def test_every_buildings_card_reaches_a_shared_staff_chat_however_long_it_waits(
        tmp_path: Path) -> None:
    """Sixteen buildings share one staff chat and sixteen reports arrive at once, more than
    the chat's budget takes: each card waits its turn, and none is given up (waiting turns
    counted as failed deliveries, and the last four cards never reached staff)."""
    n = 16
    org = dict(ORG)
    org["buildings"] = [{"code": f"b{i}", "address": f"ул. Тестовая, {i}"} for i in range(n)]
    app = await build_app(make_config(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}", **org),
                          clock=ShiftedClock())
    async with BotAPIEmulator() as emu:
        emu.flood_limits_enabled = False
        add_staff_chats(emu)
        # Telegram's 20 a minute in its steady state, scaled: one post every 0.3 s.
        h = TelegramHarness(app, emu, telegram_config(emu),
                            SendLimits(group_max=1, group_window_s=0.3, private_interval_s=0.01))
        await h.start()
        try:
            for i in range(n):
                emu.add_private_chat(7000 + i, f"Житель {i}")
                emu.user_sends(7000 + i, f"/start b{i}")
                emu.user_sends(7000 + i, "7")
                emu.user_sends(7000 + i, "Пропустить")
            await h.settle(timeout=30)
            for i in range(n):
                emu.user_sends(7000 + i, f"Течёт труба в подъезде {i}, вода на полу")
            await h.settle(timeout=30)
            async with outbox_running(app):
                await h.until(lambda: len(cards(h)) >= n, timeout=40,
                              what="every building's card in the staff chat")
            assert len(await cases_of(h)) == n
        finally:
            await h.stop()
            await app.close()


async def pings_queued_to_one_head(make_telegram: MakeTelegram,
                                   clock: ManualClock) -> TelegramHarness:
    """Twelve residents' cases overdue, and a ping for each queued to the plumbing head, whose
    private chat takes one message a second (Telegram's own budgets)."""
    h = await make_telegram(limits=SendLimits())
    for i in range(12):
        h.emu.add_private_chat(6000 + i, f"Житель {i}")
        h.emu.user_sends(6000 + i, f"Капает кран в ванной, квартира {i}")
    await h.settle(timeout=30)
    while await h.deliver():
        pass
    clock.advance(timedelta(days=3))
    await h.app.escalator.run_pass()
    return h


def gas_card_shown(h: TelegramHarness) -> bool:
    return any("газом" in (m.get("text") or "") for m in h.emu.sent_messages(STAFF_CHAT))


async def test_a_gas_card_is_not_held_behind_escalation_pings_to_one_head(
        make_telegram: MakeTelegram, clock: ManualClock) -> None:
    """An escalation pass queues a ping per overdue case to one department head, whose private
    chat takes one message a second; a gas report queued after them reaches the staff chat at
    once, not after the twelve seconds the pings take (the outbox served one item at a time
    and slept for each ping's turn)."""
    h = await pings_queued_to_one_head(make_telegram, clock)
    h.emu.add_private_chat(6200, "Пётр")
    h.emu.user_sends(6200, "Сильно пахнет газом в подъезде, срочно!")
    await h.settle()
    start = time.monotonic()
    delivering = asyncio.create_task(h.deliver())
    try:
        await h.until(lambda: gas_card_shown(h),
                      timeout=10, what="the gas card in the staff chat")
        assert time.monotonic() - start < 3
    finally:
        await delivering


async def test_a_gas_card_queued_while_pings_go_out_is_not_held_until_they_are_done(
        make_telegram: MakeTelegram, clock: ManualClock) -> None:
    """The same pings, already going out when the gas report arrives: the running outbox
    looks again when woken and starts the staff chat beside the head's chat, rather than
    leaving the card for its next pass, twelve seconds later."""
    h = await pings_queued_to_one_head(make_telegram, clock)
    async with outbox_running(h.app):
        head = STAFF_IDS["maria"]  # plumbing's head
        await h.until(lambda: len(h.emu.sent_messages(head)) >= 2, timeout=10,
                      what="the head's pings under way")
        h.emu.add_private_chat(6200, "Пётр")
        h.emu.user_sends(6200, "Сильно пахнет газом в подъезде, срочно!")
        start = time.monotonic()
        await h.until(lambda: gas_card_shown(h),
                      timeout=15, what="the gas card in the staff chat")
        assert time.monotonic() - start < 4


async def test_photos_sent_in_the_new_form_are_shown_to_staff(
        telegram: TelegramHarness) -> None:
    """The card said «Вложений: 2», and staff saw a copy of the description instead."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/new")
    await run(h)
    h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1],
                       FormCb(a="t", v="plumbing").pack())
    await run(h)
    h.emu.user_sends(RESIDENT, "Течёт стояк в ванной")
    await run(h)
    for _ in range(2):
        h.emu.user_sends(RESIDENT, photo=PNG)
        await run(h)
    h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1], FormCb(a="d").pack())
    await run(h)
    h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1], FormCb(a="s").pack())
    await run(h)
    await run(h)
    assert len([m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("photo")]) == 2
    assert sum("Течёт стояк" in t for t in h.texts_to(STAFF_CHAT)) == 1  # the card alone


async def test_a_photo_sent_before_the_words_is_shown_under_their_card(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    h.emu.user_sends(RESIDENT, "7")
    h.emu.user_sends(RESIDENT, "Пропустить")
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG)
    await run(h)
    h.emu.user_sends(RESIDENT, "Вот такая трещина на потолке в подъезде, течёт с крыши")
    await run(h)
    await run(h)
    assert [m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("photo")]


async def test_an_album_posted_in_a_case_topic_gets_one_note(
        make_telegram: MakeTelegram) -> None:
    """Three photos sent together: one «not sent to the resident» note, not three (each
    spent the group's budget that new cards need)."""
    h = await make_telegram(forum=True)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    card = cards(h)[0]
    before = len(h.emu.sent_messages(STAFF_CHAT))
    for _ in range(3):
        h.emu.user_sends(IVAN, photo=PNG, media_group_id="alb1", chat_id=STAFF_CHAT,
                         message_thread_id=card["message_thread_id"])
    await run(h)
    assert len(h.emu.sent_messages(STAFF_CHAT)) == before + 1


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("webhook_secret", "q8Zr+Jx/1m4=", "A-Z a-z 0-9 _ - only"),  # `openssl rand -base64`
    ("webhook_url", "http://bot.example.org/tg", "https://"),
    ("webhook_url", "https://bot.example.org:8080/tg", "port 443, 80, 88, 8443"),
])
def test_a_webhook_telegram_would_refuse_fails_the_config_check(
        tmp_path: Path, key: str, value: str, problem: str) -> None:
    """Telegram refused setWebhook at start, and the channel died; the check said OK."""
    settings = {"webhook_url": "https://bot.example.org/tg", key: value}
    path = tmp_path / "domovoy.yaml"
    path.write_text("telegram:\n  token: 123456:abc\n  mode: webhook\n" + "".join(
        f"  {k}: '{v}'\n" for k, v in settings.items()), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    line = 4 + list(settings).index(key)
    assert f"line {line}: telegram.{key}:" in str(err.value)
    assert problem in str(err.value) and str(path) in str(err.value)


def test_a_self_hosted_bot_api_server_may_post_to_plain_http(tmp_path: Path) -> None:
    path = tmp_path / "domovoy.yaml"
    path.write_text("telegram:\n  token: 123456:abc\n  mode: webhook\n"
                    "  api_base_url: http://127.0.0.1:8081\n"
                    "  webhook_url: http://127.0.0.1:8443/tg\n", encoding="utf-8")
    config = load_config(path, env={})
    assert config.telegram is not None and config.telegram.webhook_url


async def test_a_reply_to_the_last_part_of_a_long_answer_joins_the_case(
        make_telegram: MakeTelegram, clock: ManualClock) -> None:
    """A staff answer too long for one message reaches the resident in parts; the resident
    answers the part they see last (the one with the signature): it joins the case, as a
    reply to the first part does (only the first part's id was known, and it opened as a new
    message)."""
    h = await make_telegram(forum=True)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    card = next(m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup"))
    steps = "Порядок работ: " + " ".join(f"шаг {i} — проверить стояк;" for i in range(400))
    h.emu.user_sends(IVAN, steps[:4090], chat_id=STAFF_CHAT,
                     message_thread_id=card["message_thread_id"])
    await run(h)
    parts = [m for m in h.emu.sent_messages(RESIDENT) if "шаг" in (m.get("text") or "")]
    assert len(h.emu.sent_messages(RESIDENT)) >= 3 and parts  # ack, then the answer in parts
    clock.advance(timedelta(hours=2))
    h.emu.user_sends(RESIDENT, "Хорошо, завтра с 10 до 12 буду дома",
                     reply_to_message_id=h.emu.sent_messages(RESIDENT)[-1]["message_id"])
    await run(h)
    [case] = await cases_of(h)
    async with h.app.wf.sessions() as session:
        answer = await session.scalar(select(Message).where(
            Message.direction == "in", Message.text.contains("буду дома")))
    assert answer is not None and answer.case_id == case.id
