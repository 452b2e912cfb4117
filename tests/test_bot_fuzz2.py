"""The second robustness round: an update the bot cannot read, a staff group that moved before
a restart, a GIF with no words, and forwarded posts.

As in ``test_bot_fuzz.py``, each test drives the real bot through the Bot API emulator over
HTTP and asserts what a person would notice: the next message is still answered, the new
group gets the cards at once, a reaction GIF opens no case, and a forwarded post is read as
the resident's message but not as the resident's own words.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from sqlalchemy import select

from bot.sender import TelegramOutput
from bot.settings import TelegramConfig
from bot.staffchat import StaffChats
from bot.tables import TelegramChatMove
from domovoy.app import App
from domovoy.peers.dovecot import free_port
from intake.quarantine import requeue
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, TelegramHarness
from tests.test_bot_fuzz import (
    cases_of,
    file_obj,
    quarantined,
    raw_message,
    refused,
    register,
    run,
)
from workflow.clock import ManualClock
from workflow.models import Identity, Message, Quarantine, Resident
from workflow.render import Renderer

RESIDENT = 5001
IVAN = STAFF_IDS["ivan"]
NEW_STAFF_CHAT = -1009000000011  # the staff group's id after Telegram upgraded it

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


def unreadable(text: str = "Течёт кран на кухне") -> Json:
    """A message update whose date is not a number: a shape aiogram's models refuse."""
    return {"message": {"message_id": 900, "date": "вчера", "text": text,
                        "chat": {"id": RESIDENT, "type": "private", "first_name": "Анна"},
                        "from": {"id": RESIDENT, "is_bot": False, "first_name": "Анна"}}}


async def quarantine_rows(h: TelegramHarness) -> list[Quarantine]:
    async with h.app.wf.sessions() as session:
        return list((await session.scalars(select(Quarantine))).all())


def to_old_id(h: TelegramHarness) -> list[str]:
    """Calls the bot made to the staff group's old id (each refused: it moved)."""
    return [r.method for r in h.emu.requests if str(r.params.get("chat_id")) == str(STAFF_CHAT)]


def acks(h: TelegramHarness) -> list[str]:
    return [t for t in h.texts_to(RESIDENT) if "зарегистрировано под номером" in t]


# --- 1. an update aiogram cannot read -------------------------------------------------------


async def test_an_unreadable_update_does_not_stop_the_messages_after_it(
        telegram: TelegramHarness, caplog: pytest.LogCaptureFixture) -> None:
    """Before: getUpdates failed as a whole and was retried forever at the same offset, so
    the report after the bad update was never answered."""
    h = telegram
    register(h.emu)
    await run(h)
    bad = h.emu.inject_update(unreadable())
    h.emu.user_sends(RESIDENT, "Не работает лифт во втором подъезде")  # the same batch
    with caplog.at_level(logging.ERROR, logger="bot.unreadable"):
        await run(h)
    [case] = await cases_of(h)
    assert "лифт" in case.text
    assert len(acks(h)) == 1
    [row] = await quarantine_rows(h)
    assert row.channel == "telegram" and row.source == f"update {bad['update_id']}"
    assert json.loads(row.raw)["update"] == bad  # the whole update, for an operator
    assert "date" in row.reason
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert str(bad["update_id"]) in logged.getMessage() and "date" in logged.getMessage()
    assert not h.emu.pending_updates and not refused(h.emu)
    # `domovoy requeue` says why it leaves the update where it is, and leaves it
    [said] = await requeue(h.app.intake, h.app.wf.sessions)
    assert "kept for inspection" in said
    assert len(await quarantine_rows(h)) == 1


async def test_an_unreadable_update_last_in_its_batch_is_confirmed_too(
        telegram: TelegramHarness) -> None:
    """The offset moves past a bad update even when no update follows it in the batch (the
    stand-in is confirmed as any update is: only after the ones before it were handled)."""
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    h.emu.inject_update(unreadable())
    await run(h)  # returns only once the emulator holds no unconfirmed update
    assert len(await cases_of(h)) == 1 and await quarantined(h) == 1
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=2))  # another matter, not part of the first report
    h.emu.user_sends(RESIDENT, "Во дворе не убран мусор")
    await run(h)
    assert len(acks(h)) == 2
    assert await quarantined(h) == 1  # kept once, not once per poll


async def test_an_unreadable_update_over_the_webhook_is_answered_and_kept(
        make_telegram: MakeTelegram) -> None:
    """Before: the webhook answered 500 and Telegram sent the same update forever, holding
    back every update after it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    h = await make_telegram(mode="webhook", webhook_url=url,
                            webhook_listen=f"127.0.0.1:{port}", webhook_secret="s3cret_-x")
    h.emu.add_private_chat(RESIDENT, "Анна")
    bad = h.emu.inject_update(unreadable())
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    assert len(await cases_of(h)) == 1
    [row] = await quarantine_rows(h)
    assert json.loads(row.raw)["update"] == bad
    webhook = h.emu.world(h.emu.token).webhook
    assert webhook is not None and webhook["last_error"] is None  # answered 2xx at once
    # A stranger without the secret cannot fill the quarantine.
    async with aiohttp.ClientSession() as http, http.post(
            url, json={"update_id": 1, **unreadable()},
            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as answer:
        assert answer.status == 401
    assert await quarantined(h) == 1


# --- 2. a staff group upgraded to a supergroup ----------------------------------------------


async def test_a_moved_staff_group_is_followed_at_once_after_a_restart(
        make_telegram: MakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    h = await make_telegram()
    h.emu.upgrade_group(STAFF_CHAT, NEW_STAFF_CHAT, notify=False)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    first = (await cases_of(h))[-1]
    assert any(first.number in t for t in h.texts_to(NEW_STAFF_CHAT))
    async with h.app.wf.sessions() as session:
        move = await session.get(TelegramChatMove, STAFF_CHAT)
    assert move is not None and move.new_chat_id == NEW_STAFF_CHAT

    tried_before = len(to_old_id(h))
    assert tried_before >= 1
    await h.stop()
    with caplog.at_level(logging.ERROR, logger="bot.staffchat"):
        await h.start()
    # The operator is still asked to put the new id in the configuration.
    assert any(str(NEW_STAFF_CHAT) in r.getMessage() and "configuration" in r.getMessage()
               for r in caplog.records if r.levelno == logging.ERROR)
    h.emu.add_private_chat(RESIDENT + 1, "Борис")
    h.emu.user_sends(RESIDENT + 1, "Не работает лифт во втором подъезде")
    await run(h)
    second = (await cases_of(h))[-1]
    assert any(second.number in t for t in h.texts_to(NEW_STAFF_CHAT))
    assert len(to_old_id(h)) == tried_before  # the old id is not tried again after a restart


async def test_staff_in_the_moved_group_are_heard_after_a_restart(
        make_telegram: MakeTelegram) -> None:
    """The bot learnt the move from Telegram's notice; after a restart it still takes staff
    in the new group for staff (not for strangers in a house chat) and posts cards there."""
    h = await make_telegram()
    h.emu.upgrade_group(STAFF_CHAT, NEW_STAFF_CHAT)
    await run(h)
    await h.stop()
    await h.start()
    h.emu.user_sends(IVAN, "/open", chat_id=NEW_STAFF_CHAT)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    [case] = await cases_of(h)
    answers = h.texts_to(NEW_STAFF_CHAT)
    assert any(case.number in t for t in answers)
    assert not any("/start@" in t or "t.me/" in t for t in answers)  # not a group hint
    assert len(answers) >= 2  # the card and the answer to /open
    assert not to_old_id(h) and not refused(h.emu)


async def test_a_group_move_is_kept_on_either_database(any_app: App) -> None:
    """Chat ids are 64-bit and negative; the move is written once however often it is met."""
    config = TelegramConfig.model_validate({"token": "123456:test", "staff_chat_id": STAFF_CHAT})
    output = TelegramOutput(Bot(config.token))
    try:
        before = StaffChats(config, any_app.wf, output)
        await before.migrated(STAFF_CHAT, NEW_STAFF_CHAT)
        await before.migrated(STAFF_CHAT, NEW_STAFF_CHAT)  # the notice, then a refused post
        after = StaffChats(config, any_app.wf, output)  # a restart
        assert after.resolve(STAFF_CHAT) == STAFF_CHAT
        await after.load()
        assert after.resolve(STAFF_CHAT) == NEW_STAFF_CHAT
        assert NEW_STAFF_CHAT in after.chat_ids()
    finally:
        await output.bot.session.close()


# --- 3. a GIF --------------------------------------------------------------------------------


def gif(caption: str | None = None, *, as_document: bool = True) -> Json:
    """A GIF as Telegram sends it: an animation and, for old clients, the same file as a
    document (newer API versions may leave the document out)."""
    anim = file_obj("gif", width=320, height=240, duration=3, file_name="leak.mp4",
                    mime_type="video/mp4")
    content: Json = {"animation": anim}
    if as_document:
        content["document"] = {k: anim[k] for k in
                               ("file_id", "file_unique_id", "file_size", "file_name",
                                "mime_type")}
    if caption is not None:
        content["caption"] = caption
    return content


async def test_a_gif_alone_opens_no_case_and_says_how_to_report(
        telegram: TelegramHarness) -> None:
    """A GIF with no words is a reaction far more often than a report, as a sticker is: it
    used to open a case of nothing, with an acknowledgement and a card for staff."""
    h = telegram
    register(h.emu)
    await run(h)
    before, staff_before = len(h.texts_to(RESIDENT)), len(h.texts_to(STAFF_CHAT))
    raw_message(h.emu, RESIDENT, gif())
    await run(h)
    assert await cases_of(h) == [] and await quarantined(h) == 0
    [answer] = h.texts_to(RESIDENT)[before:]
    assert "GIF" in answer and "подпис" in answer
    assert len(h.texts_to(STAFF_CHAT)) == staff_before
    assert not refused(h.emu)


@pytest.mark.parametrize("as_document", [True, False], ids=["with-document", "animation-only"])
async def test_a_gif_with_a_caption_is_a_report_with_its_media(
        telegram: TelegramHarness, as_document: bool) -> None:
    h = telegram
    register(h.emu)
    raw_message(h.emu, RESIDENT, gif("Течёт кран на кухне, вода на полу",
                                     as_document=as_document))
    await run(h)
    [case] = await cases_of(h)
    assert case.category == "plumbing" and len(acks(h)) == 1
    async with h.app.wf.sessions() as session:
        kept = await session.scalar(select(Message).where(Message.attachments != []))
    assert kept is not None and kept.attachments[0]["content_type"] == "video/mp4"
    assert len(h.emu.calls("copyMessage")) == 1  # staff see the GIF under the card
    assert not refused(h.emu)


async def test_a_gif_right_after_a_report_shows_that_report(telegram: TelegramHarness) -> None:
    """A muted video of the leak is sent as a GIF: right after the words it belongs to them."""
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Течёт с потолка в ванной")
    await run(h)
    raw_message(h.emu, RESIDENT, gif())
    await run(h)
    [case] = await cases_of(h)
    async with h.app.wf.sessions() as session:
        kept = (await session.scalars(select(Message).where(
            Message.case_id == case.id, Message.attachments != []))).all()
    assert len(kept) == 1
    assert not any("GIF" in t for t in h.texts_to(RESIDENT))


# --- 4. forwards -----------------------------------------------------------------------------

NEWS = {"id": -1003000000001, "type": "channel", "title": "Новости района"}
HOUSE_CHAT = {"id": -1002000000077, "type": "supergroup", "title": "Ленина 5 — соседи"}
NEIGHBOUR = {"id": 6001, "is_bot": False, "first_name": "Пётр", "last_name": "Соседов"}


def forwarded(text: str, origin: Json, legacy: Json) -> Json:
    when = int(time.time()) - 3600
    return {"text": text, "forward_origin": {**origin, "date": when}, "forward_date": when,
            **legacy}


FORWARDS = {
    "channel": (forwarded("В доме по ул. Ленина, 5 отключат горячую воду с 1 по 14 июля",
                          {"type": "channel", "chat": NEWS, "message_id": 77},
                          {"forward_from_chat": NEWS, "forward_from_message_id": 77}),
                "Переслано из канала «Новости района»"),
    "group": (forwarded("В доме по ул. Ленина, 5 отключат горячую воду с 1 по 14 июля",
                        {"type": "chat", "sender_chat": HOUSE_CHAT},
                        {"forward_from_chat": HOUSE_CHAT}),
              "Переслано из группы «Ленина 5 — соседи»"),
    "user": (forwarded("У меня с потолка капает, кв. 11, это от вас?",
                       {"type": "user", "sender_user": NEIGHBOUR},
                       {"forward_from": NEIGHBOUR}),
             "Пересланное сообщение (автор: Пётр Соседов)"),
    "hidden user": (forwarded("У меня с потолка капает, кв. 11, это от вас?",
                              {"type": "hidden_user", "sender_user_name": "Пётр"},
                              {"forward_sender_name": "Пётр"}),
                    "Пересланное сообщение (автор: Пётр)"),
}


@pytest.mark.parametrize("origin", list(FORWARDS))
async def test_a_forward_is_the_residents_message_in_someone_elses_words(
        telegram: TelegramHarness, origin: str) -> None:
    """Anna asks "это про наш дом?" and forwards a post. Before, staff saw the post as if
    Anna had written it (a planned outage read as her report of no hot water)."""
    h = telegram
    content, label = FORWARDS[origin]
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Это про наш дом?")
    raw_message(h.emu, RESIDENT, content)
    await run(h)
    [case] = await cases_of(h)
    staff = "\n".join(h.texts_to(STAFF_CHAT))
    assert f"↪ {label}:\n{content['text']}" in staff
    assert "Это про наш дом?" in staff
    assert len(acks(h)) == 1 and case.number in acks(h)[0]  # Anna is answered, once
    async with h.app.wf.sessions() as session:
        identities = (await session.scalars(select(Identity))).all()
        residents = (await session.scalars(select(Resident))).all()
    # The forward's origin is nobody's identity here: the sender is Anna, as registered.
    assert [(i.channel, i.address) for i in identities] == [("telegram", str(RESIDENT))]
    assert [(r.name, r.apartment, r.id) for r in residents] == [("Анна", "7", case.resident_id)]
    assert await quarantined(h) == 0 and not refused(h.emu)


async def test_a_forwarded_sticker_is_still_only_a_sticker(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    before = len(h.texts_to(RESIDENT))
    raw_message(h.emu, RESIDENT, {
        "sticker": file_obj("st", type="regular", width=512, height=512, is_animated=False,
                            is_video=False, emoji="👍"),
        "forward_origin": {"type": "channel", "chat": NEWS, "message_id": 78,
                           "date": int(time.time())}})
    await run(h)
    assert len(h.texts_to(RESIDENT)) == before + 1  # "this kind of message is not taken"
    assert await cases_of(h) == []


# --- texts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("file", ["bot_resident", "bot_staff", "bot_buttons"])
def test_every_bot_message_exists_in_both_languages(file: str) -> None:
    env = Renderer().env
    ru, en = (set(env.get_template(f"{lang}/{file}.j2").blocks) for lang in ("ru", "en"))
    assert ru == en, ru ^ en
