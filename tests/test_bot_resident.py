"""Residents talking to the bot, over real HTTP against the Bot API emulator."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import FormCb
from domovoy.peers.telegram_api import BotAPIEmulator
from tests.helpers import mail
from tests.peers.telegram import TelegramHarness
from workflow.models import Case, Identity, LinkCode, Message, Quarantine, Resident

RESIDENT = 5001


def register(emu: BotAPIEmulator) -> None:
    """Anna opens the bot from the building's link, gives flat 7 and skips the phone."""
    emu.add_private_chat(RESIDENT, "Анна")
    emu.user_sends(RESIDENT, "/start lenina-5")
    emu.user_sends(RESIDENT, "7")
    emu.user_sends(RESIDENT, "Пропустить")


async def test_registration_by_deep_link(telegram: TelegramHarness) -> None:
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна", language_code="ru")
    emu.user_sends(RESIDENT, "/start lenina-5")
    await telegram.until(lambda: len(telegram.texts_to(RESIDENT)) >= 1)
    assert "ул. Ленина, 5" in telegram.texts_to(RESIDENT)[0]
    emu.user_sends(RESIDENT, "12")
    await telegram.until(lambda: len(telegram.texts_to(RESIDENT)) >= 2)
    ask = emu.sent_messages(RESIDENT)[-1]
    assert ask.get("reply_markup", True)
    emu.user_shares_contact(RESIDENT, "+79991234567")
    await telegram.until(lambda: len(telegram.texts_to(RESIDENT)) >= 3)
    assert "кв. 12" in telegram.texts_to(RESIDENT)[-1]
    async with telegram.app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == str(RESIDENT)))
        assert ident is not None
        resident = await session.get_one(Resident, ident.resident_id)
        assert (resident.apartment, resident.phone) == ("12", "+79991234567")
        assert resident.building_id is not None


async def test_message_gets_acknowledged_with_case_number(telegram: TelegramHarness) -> None:
    emu = telegram.emu
    register(emu)
    emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await telegram.settle()
    assert await telegram.deliver() >= 1
    ack = telegram.texts_to(RESIDENT)[-1]
    async with telegram.app.wf.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None
    assert case.number in ack
    assert case.apartment == "7"
    # The staff chat got the card with its buttons.
    cards = [m for m in emu.sent_messages(telegram.config.staff_chat_id)
             if case.number in (m.get("text") or "")]
    assert len(cards) == 1 and cards[0]["reply_markup"]["inline_keyboard"]


async def test_text_with_a_broken_emoji_escape_still_gets_a_case(
        telegram: TelegramHarness) -> None:
    """The update's JSON carries "\\ud83d" with its pair cut off: valid JSON, not valid
    Unicode. The resident still gets a case and an acknowledgement."""
    emu = telegram.emu
    register(emu)
    emu.user_sends(RESIDENT, "Течёт кран на кухне \ud83d, вода на полу")
    await telegram.settle()
    assert await telegram.deliver() >= 1
    async with telegram.app.wf.sessions() as session:
        case = await session.scalar(select(Case))
    assert case is not None and case.text == "Течёт кран на кухне \ufffd, вода на полу"
    assert case.number in telegram.texts_to(RESIDENT)[-1]


async def test_photo_album_is_one_case(telegram: TelegramHarness) -> None:
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна")
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
    emu.user_sends(RESIDENT, photo=png, caption="Протекает потолок в ванной",
                   media_group_id="album-1")
    for _ in range(3):
        emu.user_sends(RESIDENT, photo=png, media_group_id="album-1")
    await telegram.settle()
    await telegram.deliver()
    async with telegram.app.wf.sessions() as session:
        cases = (await session.scalars(select(Case))).all()
        assert len(cases) == 1
        msgs = (await session.scalars(select(Message).where(Message.direction == "in"))).all()
        assert len(msgs) == 4 and {m.case_id for m in msgs} == {cases[0].id}
        assert all(m.attachments and m.attachments[0]["ref"] for m in msgs)
    acks = [t for t in telegram.texts_to(RESIDENT) if cases[0].number in t]
    assert len(acks) == 1
    # Staff see the photos themselves under the card, not just a count; none twice.
    staff = emu.sent_messages(telegram.config.staff_chat_id)
    photos = [m for m in staff if m.get("photo")]
    assert len(photos) == 4
    assert any(cases[0].number in (m.get("text") or "") for m in staff)
    assert sum(m.get("caption") == "Протекает потолок в ванной" for m in photos) == 1


async def test_text_then_photo_join_and_later_message_opens_new_case(
        telegram: TelegramHarness) -> None:
    emu, clock = telegram.emu, telegram.app.wf.clock
    emu.add_private_chat(RESIDENT, "Анна")
    emu.user_sends(RESIDENT, "Не работает лифт во втором подъезде")
    emu.user_sends(RESIDENT, photo=bytes.fromhex("ffd8ffe000104a464946"))
    await telegram.settle()
    clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    emu.user_sends(RESIDENT, "И ещё: во дворе не убран мусор")
    await telegram.settle()
    async with telegram.app.wf.sessions() as session:
        cases = (await session.scalars(select(Case).order_by(Case.id))).all()
        photo = await session.scalar(select(Message).where(Message.attachments != []))
    assert len(cases) == 2 and cases[0].category == "elevator"
    assert photo is not None and photo.case_id == cases[0].id


async def test_unknown_command_gets_the_menu_not_a_case(telegram: TelegramHarness) -> None:
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна")
    emu.user_sends(RESIDENT, "/cancle")
    await telegram.settle()
    await telegram.deliver()
    reply = telegram.texts_to(RESIDENT)[-1]
    assert "/cancle" in reply and "/new" in reply
    async with telegram.app.wf.sessions() as session:
        assert (await session.scalar(select(Case))) is None


async def test_asking_for_a_case_that_is_not_yours_is_answered_and_holds_nobody_up(
        telegram: TelegramHarness) -> None:
    # The answer used to be sent while the lookup's session was still open; with SQLite's pool
    # of one the bot then waited 30 s for a connection, and every other resident with it.
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна")
    emu.add_private_chat(RESIDENT + 1, "Борис")
    emu.user_sends(RESIDENT, "/case A-9999")
    emu.user_sends(RESIDENT + 1, "/help")
    await telegram.settle()
    assert "A-9999" in telegram.texts_to(RESIDENT)[-1]
    assert telegram.texts_to(RESIDENT + 1)


async def test_menu_buttons_after_registration(telegram: TelegramHarness) -> None:
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна")
    for text in ("/start lenina-5", "12", "Пропустить"):
        emu.user_sends(RESIDENT, text)
        await telegram.settle()
    # Telegram returns only inline keyboards in the sent Message; check what the bot asked for.
    welcome = [r for r in emu.calls("sendMessage") if str(r.params.get("chat_id")) == str(RESIDENT)]
    keyboard = welcome[-1].json_param("reply_markup")["keyboard"]
    buttons = [b["text"] for row in keyboard for b in row]
    assert buttons == ["📝 Новое обращение", "📋 Мои обращения"]
    emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await telegram.settle()
    await telegram.deliver()
    emu.user_sends(RESIDENT, "📋 Мои обращения")
    await telegram.settle()
    assert "A-1001" in telegram.texts_to(RESIDENT)[-1]
    emu.user_sends(RESIDENT, "📝 Новое обращение")
    await telegram.settle()
    form = emu.sent_messages(RESIDENT)[-1]
    assert form["reply_markup"]["inline_keyboard"]  # the topic buttons of the guided form


async def test_link_code_from_email_joins_the_telegram_identity(
        telegram: TelegramHarness) -> None:
    app, emu = telegram.app, telegram.emu
    mailed = await app.intake.ingest(mail("olga@example.org", "Прошу починить кран на кухне",
                                          app.wf.clock.now()))
    async with app.wf.sessions() as session:
        code = await session.scalar(select(LinkCode.code))
    assert code and mailed.case_number
    emu.add_private_chat(RESIDENT, "Ольга")
    emu.user_sends(RESIDENT, "Здравствуйте, течёт кран в ванной")  # a Telegram-only case first
    await telegram.settle()
    emu.user_sends(RESIDENT, f"/link {code.lower()}")
    await telegram.settle()
    assert "в одной истории" in telegram.texts_to(RESIDENT)[-1]
    emu.user_sends(RESIDENT, "/cases")
    await telegram.settle()
    assert mailed.case_number in telegram.texts_to(RESIDENT)[-1]
    async with app.wf.sessions() as session:
        owners = set(await session.scalars(select(Identity.resident_id)))
        case_owners = set(await session.scalars(select(Case.resident_id)))
        used = await session.scalar(select(LinkCode.code).where(LinkCode.code == code))
    assert len(owners) == 1 and case_owners == owners  # one person, one history
    assert used is None  # the code is single-use


async def test_message_that_fails_intake_is_quarantined_and_requeued(
        telegram: TelegramHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.quarantine import requeue

    emu, app = telegram.emu, telegram.app
    register(emu)
    await telegram.settle()

    async def database_down(msg: object) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(app.intake, "ingest", database_down)
    emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await telegram.settle()
    async with app.wf.sessions() as session:
        assert await session.scalar(select(Case)) is None
        kept = (await session.scalars(select(Quarantine))).all()
    assert len(kept) == 1 and kept[0].channel == "telegram" and "database is down" in kept[0].reason
    told = len(telegram.texts_to(RESIDENT))

    monkeypatch.undo()  # the database is back: the operator runs `domovoy requeue`
    lines = await requeue(app.intake, app.wf.sessions)
    assert len(lines) == 1 and "new_case A-" in lines[0], lines
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case))
        row = await session.get_one(Quarantine, kept[0].id)
    assert case is not None and "Течёт кран" in case.text and row.resolved_at is not None
    assert await telegram.deliver() >= 1
    assert case.number in telegram.texts_to(RESIDENT)[told]  # the resident gets the number
    assert await requeue(app.intake, app.wf.sessions) == []  # nothing left to retry


async def test_a_stop_while_the_form_is_being_sent_loses_nothing(
        telegram: TelegramHarness) -> None:
    """The bot stops after the resident pressed "Send" and before the case was recorded:
    Telegram delivers the press again, and the form must still be there to send."""
    h, emu = telegram, telegram.emu
    await describe_in_form(h, "Течёт кран на кухне, вода на полу")
    emu.user_presses(RESIDENT, emu.sent_messages(RESIDENT)[-1], FormCb(a="d").pack())
    await h.settle()
    confirm = emu.sent_messages(RESIDENT)[-1]
    # Hold the "sending…" message (sent before the case is recorded) and stop the bot there.
    name, original = emu._methods["sendmessage"]
    reached, release = asyncio.Event(), asyncio.Event()

    async def held(w: Any, p: Any) -> Any:
        if "Отправляем" in str(p.raw.get("text", "")):
            reached.set()
            await release.wait()
        return await original(w, p)

    emu._methods["sendmessage"] = (name, held)
    emu.user_presses(RESIDENT, confirm, FormCb(a="s").pack())
    await asyncio.wait_for(reached.wait(), 5)
    await h.stop()
    emu._methods["sendmessage"] = (name, original)
    release.set()
    await h.start()
    await h.settle()
    async with h.app.wf.sessions() as session:
        assert len((await session.scalars(select(Case))).all()) == 1


async def test_a_button_from_a_step_that_is_over_is_answered(telegram: TelegramHarness) -> None:
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна")
    emu.user_sends(RESIDENT, "/new")
    await telegram.settle()
    menu = emu.sent_messages(RESIDENT)[-1]
    emu.user_presses(RESIDENT, menu, FormCb(a="x").pack())  # the form is cancelled
    await telegram.settle()
    # as from a client still showing the old buttons
    press = emu.user_presses(RESIDENT, menu, FormCb(a="t", v="plumbing").pack(), check_button=False)
    await telegram.settle()
    [answered] = [a for a in emu.callback_answers if a["callback_query_id"] == press["id"]]
    assert answered["text"]


async def test_a_complaint_typed_instead_of_picking_a_topic_is_not_lost(
        telegram: TelegramHarness) -> None:
    emu = telegram.emu
    emu.add_private_chat(RESIDENT, "Анна")
    emu.user_sends(RESIDENT, "/new")
    await telegram.settle()
    emu.user_sends(RESIDENT, "В подъезде 2 не горит свет третий день")
    await telegram.settle()
    async with telegram.app.wf.sessions() as session:
        cases = (await session.scalars(select(Case))).all()
    assert len(cases) == 1 and "не горит свет" in cases[0].text


async def test_a_stray_message_while_the_form_waits_for_its_buttons_is_answered(
        telegram: TelegramHarness) -> None:
    emu = telegram.emu
    await describe_in_form(telegram, "Течёт кран на кухне")
    before = len(telegram.texts_to(RESIDENT))
    emu.user_sends(RESIDENT, "и ещё в ванной капает")
    await telegram.settle()
    assert len(telegram.texts_to(RESIDENT)) == before + 1


async def test_editing_the_forms_description_before_sending_makes_one_case_with_the_new_words(
        telegram: TelegramHarness) -> None:
    emu = telegram.emu
    described = await describe_in_form(telegram, "Течёт кран на кухне")
    emu.user_sends(RESIDENT, "Течёт кран на кухне и в ванной", edit_of=described["message_id"])
    await telegram.settle()

    def last_with_buttons() -> dict[str, Any]:
        return [m for m in emu.sent_messages(RESIDENT)
                if (m.get("reply_markup") or {}).get("inline_keyboard")][-1]

    emu.user_presses(RESIDENT, last_with_buttons(), FormCb(a="d").pack())
    await telegram.settle()
    emu.user_presses(RESIDENT, last_with_buttons(), FormCb(a="s").pack())
    await telegram.settle()
    async with telegram.app.wf.sessions() as session:
        cases = (await session.scalars(select(Case))).all()
    assert [c.text for c in cases] == ["Течёт кран на кухне и в ванной"]


async def describe_in_form(h: TelegramHarness, text: str) -> dict[str, Any]:
    """A resident opens the guided form, picks plumbing and describes the fault; returns the
    description message."""
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/new")
    await h.settle()
    h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1],
                       FormCb(a="t", v="plumbing").pack())
    await h.settle()
    described = h.emu.user_sends(RESIDENT, text)
    await h.settle()
    return described
