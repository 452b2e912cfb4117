"""More flows: the guided form, a deleted forum topic, webhook mode with its secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from sqlalchemy import func, select

from bot.callbacks import FormCb
from domovoy.peers.dovecot import free_port
from tests.peers.telegram import STAFF_CHAT, TelegramHarness
from workflow.models import Case, Message

RESIDENT = 5001
MakeTelegram = Callable[..., Awaitable[TelegramHarness]]


async def press_last(telegram: TelegramHarness, button: FormCb) -> None:
    """The resident presses a button under the bot's latest message to them."""
    telegram.emu.user_presses(RESIDENT, telegram.emu.sent_messages(RESIDENT)[-1], button.pack())
    await telegram.settle()


async def start_form_on_noise(telegram: TelegramHarness) -> None:
    telegram.emu.add_private_chat(RESIDENT, "Анна")
    telegram.emu.user_sends(RESIDENT, "/new")
    await telegram.settle()
    await press_last(telegram, FormCb(a="t", v="noise"))


async def finish_form(telegram: TelegramHarness) -> Case:
    """Done with photos, then send; the case it opened, filed under the chosen topic."""
    await press_last(telegram, FormCb(a="d"))
    await press_last(telegram, FormCb(a="s"))
    async with telegram.app.wf.sessions() as session:
        case = await session.scalar(select(Case))
    assert case is not None and case.category == "noise"
    assert "resident_choice" in case.explanation["rules"]
    return case


async def test_guided_form_presets_the_topic(telegram: TelegramHarness) -> None:
    await start_form_on_noise(telegram)
    telegram.emu.user_sends(RESIDENT, "Соседи сверху каждую ночь")
    await telegram.settle()
    await finish_form(telegram)


async def test_deleted_topic_is_recreated(make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Не работает лифт во втором подъезде")
    await h.settle()
    await h.deliver()
    first = h.emu.topics(STAFF_CHAT)[0]["message_thread_id"]
    h.emu.delete_topic(STAFF_CHAT, first)
    h.emu.user_sends(RESIDENT, "Лифт так и стоит на пятом этаже")
    await h.settle()
    await h.deliver()
    topics = h.emu.topics(STAFF_CHAT)
    assert len(topics) == 2 and not topics[1]["deleted"]
    in_new = [m.get("text") or "" for m in h.emu.sent_messages(STAFF_CHAT,
                                                              thread_id=topics[1]["message_thread_id"])]
    assert any("на пятом этаже" in t for t in in_new)
    assert any(m for m in h.emu.sent_messages(STAFF_CHAT, thread_id=topics[1]["message_thread_id"])
               if m.get("reply_markup")), "the card is posted again in the new topic"


async def test_webhook_mode_checks_the_secret(make_telegram: MakeTelegram) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    h = await make_telegram(mode="webhook", webhook_url=url,
                            webhook_listen=f"127.0.0.1:{port}", webhook_secret="s3cret_-x")
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await h.settle()
    async with h.app.wf.sessions() as session:
        assert await session.scalar(select(func.count(Case.id))) == 1
    async with aiohttp.ClientSession() as http:
        forged = {"update_id": 999, "message": {
            "message_id": 99, "date": 0, "chat": {"id": RESIDENT, "type": "private"},
            "from": {"id": RESIDENT, "is_bot": False, "first_name": "X"}, "text": "Прорвало трубу"}}
        async with http.post(url, json=forged,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
            assert r.status == 401
    async with h.app.wf.sessions() as session:
        assert await session.scalar(select(func.count(Message.id))) == 1


async def test_staff_file_a_set_aside_message_as_a_case(telegram: TelegramHarness) -> None:
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна")
    emu.user_sends(RESIDENT, "Привет")
    await telegram.settle()
    await telegram.deliver()
    note = next(m for m in emu.sent_messages(STAFF_CHAT) if m.get("reply_markup"))
    data = note["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    emu.user_presses(7777, note, data)  # not staff: refused
    await telegram.settle()
    async with telegram.app.wf.sessions() as session:
        assert await session.scalar(select(func.count(Case.id))) == 0
    emu.user_presses(1001, note, data)
    await telegram.settle()
    async with telegram.app.wf.sessions() as session:
        case = await session.scalar(select(Case))
    assert case is not None
    assert case.number in (emu.callback_answers[-1]["text"] or "")


async def test_a_restart_does_not_make_the_resident_start_the_form_over(
        telegram: TelegramHarness) -> None:
    await start_form_on_noise(telegram)
    await telegram.stop()  # the bot restarts between two steps of the form
    await telegram.start()
    telegram.emu.user_sends(RESIDENT, "Соседи сверху сверлят по ночам")
    await telegram.settle()
    telegram.emu.user_sends(RESIDENT, photo=b"\xff\xd8 a photo of the ceiling")
    await telegram.settle()
    await telegram.stop()  # and again, with a photo in the form
    await telegram.start()
    case = await finish_form(telegram)
    assert case.text.startswith("Соседи сверху сверлят")
    async with telegram.app.wf.sessions() as session:
        attachments = await session.scalar(select(Message.attachments).where(
            Message.case_id == case.id, Message.direction == "in"))
    assert attachments and len(attachments) == 1
