"""The staff chat: buttons on cards, replies to residents on their own channel, refusals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import CaseCb, StaffFormCb
from domovoy.peers.smtp_sink import SmtpSink
from intake.email.smtp import SmtpSender
from intake.message import Channel, InboundMessage, SenderIdentity
from tests.peers.mail import MAIL_DOMAIN, smtp_config
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, TelegramHarness
from workflow.clock import ManualClock
from workflow.models import Case, Event, Identity

RESIDENT = 5001
IVAN, OLEG, MARIA = STAFF_IDS["ivan"], STAFF_IDS["oleg"], STAFF_IDS["maria"]
OUTSIDER = 7777

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]


async def open_case(h: TelegramHarness, text: str = "Течёт кран на кухне, вода на полу",
                    user: int = RESIDENT) -> tuple[Case, dict[str, Any]]:
    """A resident writes; returns the case and its card in the staff chat."""
    h.emu.add_private_chat(user, "Анна")
    h.emu.user_sends(user, text)
    await h.settle()
    await h.deliver()
    async with h.app.wf.sessions() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()))
    assert case is not None
    card = next(m for m in h.emu.sent_messages(STAFF_CHAT)
                if case.number in (m.get("text") or "") and m.get("reply_markup"))
    return case, card


async def stage_of(h: TelegramHarness, case_id: int) -> tuple[str, int | None]:
    async with h.app.wf.sessions() as session:
        case = await session.get_one(Case, case_id)
        return case.stage, case.assignee_id


def answers_to(h: TelegramHarness, user: int) -> list[str]:
    return [a["text"] or "" for a in h.emu.callback_answers if a["query"]["from"]["id"] == user]


async def test_take_resolve_close_reach_the_resident(make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    assert card.get("message_thread_id"), "a forum gets a topic per case"
    for action in ("take", "resolve", "close"):
        h.emu.user_presses(IVAN, card, CaseCb(a=action, id=case.id).pack())
        await h.settle()
        await h.deliver()
        card = h.emu.message(STAFF_CHAT, card["message_id"])
    assert (await stage_of(h, case.id))[0] == "closed"
    to_resident = h.texts_to(RESIDENT)
    assert any("в работе" in t for t in to_resident)
    resolved = [m for m in h.emu.sent_messages(RESIDENT) if "решено" in (m.get("text") or "")]
    assert resolved and len(resolved[0]["reply_markup"]["inline_keyboard"][0]) == 5
    assert any("закрыто" in t for t in to_resident)
    topic = h.emu.topics(STAFF_CHAT)[0]
    assert topic["closed"] is True
    # The card shows where the case stands now.
    assert "Закрыто" in h.emu.message(STAFF_CHAT, card["message_id"])["text"]
    # The resident rates it from the button under the "resolved" message.
    h.emu.user_presses(RESIDENT, resolved[0], f"rate:{case.number}:5")
    h.emu.user_sends(RESIDENT, "Спасибо, быстро!")
    await h.settle()
    async with h.app.wf.sessions() as session:
        rated = await session.scalar(select(Event).where(Event.action == "rated")
                                     .order_by(Event.id.desc()))
    assert rated is not None and rated.note == "5: Спасибо, быстро!"


async def test_two_staff_press_take_at_once(telegram: TelegramHarness) -> None:
    case, card = await open_case(telegram)
    data = CaseCb(a="take", id=case.id).pack()
    telegram.emu.user_presses(IVAN, card, data)
    telegram.emu.user_presses(OLEG, card, data)
    await telegram.settle()
    _, _assignee = await stage_of(telegram, case.id)
    async with telegram.app.wf.sessions() as session:
        taken = (await session.scalars(select(Event).where(Event.action == "taken"))).all()
    assert len(taken) == 1
    assert "Иван Петров" in answers_to(telegram, OLEG)[0]
    assert answers_to(telegram, IVAN)[0].startswith(case.number)


async def test_outsider_pressing_a_button_changes_nothing(telegram: TelegramHarness) -> None:
    case, card = await open_case(telegram)
    before = await stage_of(telegram, case.id)
    for action in ("take", "close", "escalate"):
        telegram.emu.user_presses(OUTSIDER, card, CaseCb(a=action, id=case.id).pack())
    telegram.emu.user_sends(OUTSIDER, "/close " + case.number + " всё", chat_id=STAFF_CHAT)
    await telegram.settle()
    assert await stage_of(telegram, case.id) == before
    answers = [a for a in telegram.emu.callback_answers if a["query"]["from"]["id"] == OUTSIDER]
    assert len(answers) == 3 and all(a["show_alert"] and "Извините" in a["text"]
                                     for a in answers)
    assert "Извините" in telegram.texts_to(STAFF_CHAT)[-1]
    # A plain staff member cannot escalate either (it needs the head role).
    telegram.emu.user_presses(IVAN, card, CaseCb(a="escalate", id=case.id).pack())
    await telegram.settle()
    assert "роль" in answers_to(telegram, IVAN)[-1]


async def test_an_anonymous_admin_is_told_why_nothing_happened(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    thread = card["message_thread_id"]
    before = await stage_of(h, case.id)
    h.emu.user_sends(IVAN, "Сантехник придёт завтра", chat_id=STAFF_CHAT,
                     message_thread_id=thread, anonymous=True)
    h.emu.user_sends(IVAN, f"/close {case.number} готово", chat_id=STAFF_CHAT, anonymous=True)
    h.emu.user_sends(IVAN, "коллеги, кто сегодня дежурит?", chat_id=STAFF_CHAT, anonymous=True)
    await h.settle()
    await h.deliver()
    assert await stage_of(h, case.id) == before
    assert not any("завтра" in t for t in h.texts_to(RESIDENT))
    told = [t for t in h.texts_to(STAFF_CHAT) if "анонимно" in t]
    assert len(told) == 2  # the reply and the command; the chatter is nobody's business


async def test_staff_reply_in_topic_reaches_resident_with_a_tick(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    thread = card["message_thread_id"]
    sent = h.emu.user_sends(IVAN, "Сантехник придёт сегодня до 18:00 <b>точно</b>",
                            chat_id=STAFF_CHAT, message_thread_id=thread)
    h.emu.user_sends(IVAN, "/note ключи у консьержа", chat_id=STAFF_CHAT,
                     message_thread_id=thread)
    await h.settle()
    await h.deliver()
    assert any("до 18:00 <b>точно</b>" in t for t in h.texts_to(RESIDENT))
    assert not any("консьерж" in t for t in h.texts_to(RESIDENT))
    reactions = h.emu.world(h.emu.token).reactions
    await h.until(lambda: any(r["message_id"] == sent["message_id"] for r in reactions))
    assert reactions[-1]["reaction"][0]["emoji"] == "👍"
    # The resident answers; it shows up in the case's topic.
    h.emu.user_sends(RESIDENT, "Хорошо, буду дома")
    await h.settle()
    await h.deliver()
    assert any("буду дома" in (m.get("text") or "")
               for m in h.emu.sent_messages(STAFF_CHAT, thread_id=thread))


async def test_a_corrected_staff_reply_reaches_the_resident_marked_as_such(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    thread = card["message_thread_id"]
    sent = h.emu.user_sends(IVAN, "Сантехник придёт в среду", chat_id=STAFF_CHAT,
                            message_thread_id=thread)
    note = h.emu.user_sends(IVAN, "/note ключи у консьержа", chat_id=STAFF_CHAT,
                            message_thread_id=thread)
    await h.settle()
    await h.deliver()
    h.emu.user_sends(IVAN, "Сантехник придёт в четверг", chat_id=STAFF_CHAT,
                     edit_of=sent["message_id"])
    h.emu.user_sends(IVAN, "/note ключи у соседки", chat_id=STAFF_CHAT, edit_of=note["message_id"])
    await h.settle()
    await h.deliver()
    to_resident = h.texts_to(RESIDENT)
    assert any("в среду" in t for t in to_resident)
    corrected = [t for t in to_resident if "в четверг" in t]
    assert len(corrected) == 1 and "Исправление" in corrected[0]
    assert not any("соседк" in t or "консьерж" in t for t in to_resident)


async def test_a_question_asked_from_a_direct_ping_reaches_the_resident(
        telegram: TelegramHarness) -> None:
    h = telegram
    case, _card = await open_case(h)
    h.emu.add_private_chat(IVAN, "Иван")
    h.emu.user_sends(MARIA, f"/assign {case.number} ivan", chat_id=STAFF_CHAT)
    await h.settle()
    await h.deliver()
    ping = next(m for m in h.emu.sent_messages(IVAN) if m.get("reply_markup"))
    h.emu.user_presses(IVAN, ping, CaseCb(a="show", id=case.id).pack())
    await h.settle()
    detail = next(m for m in h.emu.sent_messages(IVAN)
                  if CaseCb(a="need_info", id=case.id).pack() in str(m.get("reply_markup")))
    h.emu.user_presses(IVAN, detail, CaseCb(a="need_info", id=case.id).pack())
    await h.settle()
    h.emu.user_sends(IVAN, "На каком этаже квартира и кто будет дома?")
    await h.settle()
    await h.deliver()
    assert any("кто будет дома" in t for t in h.texts_to(RESIDENT))
    async with h.app.wf.sessions() as session:
        cases = (await session.scalars(select(Case))).all()
    assert len(cases) == 1  # the question did not become a case of Ivan's own
    assert cases[0].paused_at is not None  # waiting for the resident's answer


async def test_staff_are_told_a_file_in_a_case_topic_does_not_reach_the_resident(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    thread = card["message_thread_id"]
    h.emu.user_sends(IVAN, photo=b"\xff\xd8 the invoice", caption="Вот счёт за работы",
                     chat_id=STAFF_CHAT, message_thread_id=thread)
    h.emu.user_sends(IVAN, photo=b"\xff\xd8 the mended pipe", chat_id=STAFF_CHAT,
                     message_thread_id=thread)
    h.emu.user_sends(IVAN, photo=b"\xff\xd8 a cat", chat_id=STAFF_CHAT)  # general chatter
    await h.settle()
    await h.deliver()
    assert any("Вот счёт за работы" in t for t in h.texts_to(RESIDENT))
    told = [m for m in h.emu.sent_messages(STAFF_CHAT)
            if "Вложение жителю не отправлено" in (m.get("text") or "")]
    assert len(told) == 2 and all(m.get("message_thread_id") == thread for m in told)


async def test_staff_reply_to_email_resident_goes_by_mail_threaded(
        telegram: TelegramHarness, smtp_sink: SmtpSink) -> None:
    app = telegram.app
    app.register_sender("email", SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN))
    first_id = "first-123@mail.example.test"
    result = await app.intake.ingest(InboundMessage(
        channel=Channel.EMAIL, external_id=first_id,
        sender=SenderIdentity(Channel.EMAIL, "anna@mail.example.test", "Анна"),
        text="В подъезде не горит свет на третьем этаже", subject="Свет",
        received_at=datetime.now(UTC), building_code="lenina-5", apartment="3"))
    await telegram.deliver()
    await smtp_sink.wait_for(1)
    card = next(m for m in telegram.emu.sent_messages(STAFF_CHAT)
                if result.case_number and result.case_number in (m.get("text") or ""))
    reply = telegram.emu.user_sends(MARIA, "Электрик заменит лампу завтра утром",
                                    chat_id=STAFF_CHAT, reply_to_message_id=card["message_id"])
    await telegram.settle()
    await telegram.deliver()
    received = await smtp_sink.wait_for(2)
    mail = received[-1].message
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and "Электрик заменит лампу" in body.get_content()
    assert f"<{first_id}>" in mail["References"]
    assert result.case_number in mail["Subject"]
    reactions = telegram.emu.world(telegram.emu.token).reactions
    await telegram.until(lambda: any(r["message_id"] == reply["message_id"] for r in reactions))


async def test_blocked_resident_gets_email_and_staff_are_told(
        telegram: TelegramHarness, smtp_sink: SmtpSink) -> None:
    app = telegram.app
    app.register_sender("email", SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN))
    case, card = await open_case(telegram)
    async with app.wf.sessions.begin() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == str(RESIDENT)))
        assert ident is not None
        session.add(Identity(resident_id=ident.resident_id, channel="email",
                             address="anna@mail.example.test", created_at=app.wf.clock.now()))
    # The resident blocks the bot without Telegram telling us (no my_chat_member update).
    telegram.emu.block_user(RESIDENT, notify=False)
    telegram.emu.user_presses(IVAN, card, CaseCb(a="take", id=case.id).pack())
    await telegram.settle()
    await telegram.deliver()
    await telegram.deliver()
    async with app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == str(RESIDENT)))
        assert ident is not None and ident.unreachable
    mails = await smtp_sink.wait_for(1)
    assert case.number in mails[-1].message["Subject"]
    assert any("не удалось доставить" in t for t in telegram.texts_to(STAFF_CHAT))


async def test_blocking_the_bot_is_noticed_at_once(telegram: TelegramHarness) -> None:
    _case, _ = await open_case(telegram)
    telegram.emu.block_user(RESIDENT)  # Telegram sends my_chat_member: kicked
    await telegram.settle()
    async with telegram.app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == str(RESIDENT)))
        assert ident is not None and ident.unreachable
    assert any("заблокировал бота" in t for t in telegram.texts_to(STAFF_CHAT))


async def test_mistyped_staff_command_is_answered_not_relayed(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    thread = card["message_thread_id"]
    h.emu.user_sends(IVAN, "/clsoe всё готово", chat_id=STAFF_CHAT, message_thread_id=thread)
    h.emu.user_sends(IVAN, "/roll@some_other_bot 20", chat_id=STAFF_CHAT,
                     message_thread_id=thread)
    await h.settle()
    await h.deliver()
    assert not any("всё готово" in t for t in h.texts_to(RESIDENT))
    answers = [m.get("text") or "" for m in h.emu.sent_messages(STAFF_CHAT, thread_id=thread)]
    assert any("/clsoe" in a and "/close" in a for a in answers)
    assert not any("/roll" in a for a in answers)  # another bot's command is left alone


async def test_delivery_mark_survives_a_restart(make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    thread = card["message_thread_id"]
    sent = h.emu.user_sends(IVAN, "Мастер будет завтра в 10:00", chat_id=STAFF_CHAT,
                            message_thread_id=thread)
    await h.settle()
    await h.stop()  # the bot goes down before the reply has even left the outbox
    await h.start()
    await h.deliver()
    reactions = h.emu.world(h.emu.token).reactions
    await h.until(lambda: any(r["message_id"] == sent["message_id"] for r in reactions),
                  what="the 👍 on the staff message after the restart")
    assert [r["reaction"][0]["emoji"] for r in reactions
            if r["message_id"] == sent["message_id"]] == ["👍"]


@pytest.mark.parametrize("forum", [True, False])
async def test_a_question_pending_on_one_case_never_reaches_another_cases_resident(
        make_telegram: MakeTelegram, forum: bool) -> None:
    """Ivan presses "need info" on Anna's case, then answers Boris in Boris's own topic (or
    as a reply to Boris's card): the words are Boris's, and Anna must not see them."""
    h = await make_telegram(forum=forum)
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)
    case_a, card_a = await open_case(h, user=RESIDENT)
    clock.advance(timedelta(minutes=5))
    _, card_b = await open_case(h, "Не работает лифт во втором подъезде", user=RESIDENT + 1)
    h.emu.user_presses(IVAN, card_a, CaseCb(a="need_info", id=case_a.id).pack())
    await h.settle()
    clock.advance(timedelta(minutes=20))
    where = ({"message_thread_id": card_b["message_thread_id"]} if forum
             else {"reply_to_message_id": card_b["message_id"]})
    h.emu.user_sends(IVAN, "Лифтёр приедет завтра в 10:00", chat_id=STAFF_CHAT, **where)
    await h.settle()
    await h.deliver()
    assert not any("Лифтёр" in t for t in h.texts_to(RESIDENT))
    assert any("Лифтёр" in t for t in h.texts_to(RESIDENT + 1))


async def test_an_abandoned_staff_form_does_not_swallow_a_reply_in_a_case_topic(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _, card_b = await open_case(h, "Не работает лифт во втором подъезде")
    h.emu.user_sends(IVAN, "/new", chat_id=STAFF_CHAT)
    await h.settle()
    menu = h.emu.sent_messages(STAFF_CHAT)[-1]
    h.emu.user_presses(IVAN, menu, StaffFormCb(a="b", v="lenina-5").pack())
    await h.settle()
    h.emu.user_sends(IVAN, "Лифтёр приедет завтра в 10:00", chat_id=STAFF_CHAT,
                     message_thread_id=card_b["message_thread_id"])
    await h.settle()
    await h.deliver()
    assert any("Лифтёр" in t for t in h.texts_to(RESIDENT))


async def test_pressing_back_twice_sends_telegram_no_edit_it_would_refuse(
        telegram: TelegramHarness) -> None:
    h, emu = telegram, telegram.emu
    case, card = await open_case(h)
    emu.user_presses(IVAN, card, CaseCb(a="rc", id=case.id).pack())
    await h.settle()
    back = CaseCb(a="card", id=case.id).pack()
    emu.user_presses(IVAN, emu.message(STAFF_CHAT, card["message_id"]), back)
    await h.settle()
    # the card's own buttons are back; a second tap (its "Back" still on screen) changes nothing
    emu.user_presses(IVAN, emu.message(STAFF_CHAT, card["message_id"]), back, check_button=False)
    await h.settle()
    refused = [r for r in emu.requests if r.method != "getUpdates" and r.ok is False]
    assert not refused, [(r.method, r.description) for r in refused]
    emu.user_presses(OUTSIDER, emu.message(STAFF_CHAT, card["message_id"]), back,
                     check_button=False)
    await h.settle()
    assert any(answers_to(h, OUTSIDER))  # refused, with a word
