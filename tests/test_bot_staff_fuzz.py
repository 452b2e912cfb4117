"""The staff side under stress: what staff type, press and do to their group that the happy path
does not, and what Telegram does to the group in return.

As in ``test_bot_fuzz.py``, each test drives the real bot through the Bot API emulator over
HTTP and asserts what a person would notice: the resident gets the words staff typed (no more,
no fewer, to nobody else), staff are told whenever something they did went nowhere, the card
and its topic show the case as it is, and nothing is sent that Telegram would refuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import CaseCb, ReclassCb
from bot.sender import SendLimits, utf16_len
from domovoy.peers.smtp_sink import SmtpSink
from domovoy.peers.telegram_flood import FloodLimits
from intake.email.smtp import SmtpSender
from intake.message import Channel, InboundMessage, SenderIdentity
from tests.peers.mail import MAIL_DOMAIN, smtp_config
from tests.peers.telegram import MANAGERS_CHAT, STAFF_CHAT, STAFF_IDS, TelegramHarness
from tests.test_bot_fuzz import answer_to, cases_of, open_case, press, refused, register, run
from workflow.models import Case, Event, OutboxItem, Staff

RESIDENT = 5001
IVAN, OLEG, MARIA, ANNA = (STAFF_IDS[n] for n in ("ivan", "oleg", "maria", "anna"))
MAIL_RESIDENT = "olga@mail.example.test"

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]

# What staff paste into an answer: markup-looking text, a link with query parameters, code.
HTML_LIKE = ('Проверьте <b>кран</b> & стояк; a < b > c; "кавычки" & \'апострофы\'\n'
             "Ссылка: https://pay.example.org/p?a=1&b=2&amp;c=<3>\n"
             "<script>alert(1)</script> if (x<3 && y>2) { return &nbsp; }")


# --- helpers --------------------------------------------------------------------------------


async def mail_case(h: TelegramHarness, sink: SmtpSink,
                    text: str = "В подъезде не горит свет на третьем этаже") -> Case:
    """A resident writes by mail; the staff chat gets the card as for a Telegram case."""
    h.app.register_sender("email", SmtpSender(smtp_config(sink), MAIL_DOMAIN))
    await h.app.intake.ingest(InboundMessage(
        channel=Channel.EMAIL, external_id="first-1@mail.example.test",
        sender=SenderIdentity(Channel.EMAIL, MAIL_RESIDENT, "Ольга"), text=text,
        subject="Свет", received_at=datetime.now(UTC), building_code="lenina-5", apartment="3"))
    await run(h)
    return (await cases_of(h))[-1]


def card_of(h: TelegramHarness, case: Case) -> Json:
    return next(m for m in h.emu.sent_messages(STAFF_CHAT)
                if case.number in (m.get("text") or "") and m.get("reply_markup"))


def where(card: Json) -> dict[str, Any]:
    """How a staff member answers a case: in its topic, or as a reply to its card."""
    if card.get("message_thread_id"):
        return {"message_thread_id": card["message_thread_id"]}
    return {"reply_to_message_id": card["message_id"]}


async def staff_says(h: TelegramHarness, text: str, card: Json, user: int = IVAN) -> Json:
    sent = h.emu.user_sends(user, text, chat_id=STAFF_CHAT, **where(card))
    await run(h)
    return sent


def staff_texts_after(h: TelegramHarness, message: Json, chat_id: int = STAFF_CHAT) -> list[str]:
    return [m.get("text") or "" for m in h.emu.sent_messages(chat_id)
            if m["message_id"] > message["message_id"]]


async def events(h: TelegramHarness, case: Case, action: str) -> list[Event]:
    async with h.app.wf.sessions() as session:
        return list((await session.scalars(select(Event).where(
            Event.case_id == case.id, Event.action == action))).all())


# --- what staff type reaches the resident as typed -------------------------------------------


async def test_html_looking_staff_reply_reaches_a_telegram_resident_as_typed(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    await staff_says(h, HTML_LIKE, card)
    got = [t for t in h.texts_to(RESIDENT) if "кран" in t]
    assert len(got) == 1 and HTML_LIKE in got[0]
    assert not refused(h.emu)


async def test_html_looking_staff_reply_by_mail_is_escaped_once(
        telegram: TelegramHarness, smtp_sink: SmtpSink) -> None:
    h = telegram
    case = await mail_case(h, smtp_sink)
    await staff_says(h, HTML_LIKE, card_of(h, case), user=MARIA)
    mail = (await smtp_sink.wait_for(2))[-1].message
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None and HTML_LIKE in plain.get_content().replace("\r\n", "\n")
    assert html is not None
    markup = html.get_content()
    assert "<script>" not in markup and "<b>кран</b>" not in markup
    assert "&lt;b&gt;кран&lt;/b&gt;" in markup
    assert "a=1&amp;b=2&amp;amp;c=&lt;3&gt;" in markup  # escaped once, not twice, not never


async def test_a_staff_reply_full_of_emoji_at_telegrams_limit_arrives_whole(
        make_telegram: MakeTelegram) -> None:
    """Staff may type up to 4096 UTF-16 units; the bot adds a signature, so the relay is
    longer than Telegram takes in one message and must be split without breaking an emoji."""
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    text = "План работ: " + " ".join(["🔧💧"] * 800)
    text += "ж" * (4096 - utf16_len(text))
    assert utf16_len(text) == 4096
    await staff_says(h, text, card)
    parts = [t for t in h.texts_to(RESIDENT) if "🔧" in t or "ж" in t]
    assert len(parts) >= 2 and all(utf16_len(p) <= 4096 for p in parts)
    joined = "".join(parts)
    assert joined.count("🔧💧") == 800 and "ж" * 10 in joined
    assert not refused(h.emu)


async def test_a_long_staff_reply_goes_by_mail_in_one_piece(
        telegram: TelegramHarness, smtp_sink: SmtpSink) -> None:
    h = telegram
    case = await mail_case(h, smtp_sink)
    text = "Порядок работ: " + " ".join(f"шаг {i};" for i in range(600))
    text = text[:4096]
    await staff_says(h, text, card_of(h, case), user=MARIA)
    received = await smtp_sink.wait_for(2)
    assert len(received) == 2  # the acknowledgement and one answer, not one mail per part
    plain = received[-1].message.get_body(preferencelist=("plain",))
    assert plain is not None and text in plain.get_content().replace("\r\n", "\n")


async def test_a_card_of_a_huge_email_full_of_emoji_is_one_message_telegram_takes(
        telegram: TelegramHarness, smtp_sink: SmtpSink) -> None:
    h = telegram
    body = "Течёт крыша над 9 этажом, залило подъезд. " + "🌧️☔" * 3000 + " конец"
    case = await mail_case(h, smtp_sink, body)
    card = card_of(h, case)
    assert utf16_len(card["text"]) <= 4096
    await press(h, MARIA, card, CaseCb(a="take", id=case.id).pack())  # the card is redrawn
    assert "Мария" in h.emu.message(STAFF_CHAT, card["message_id"])["text"]
    assert not refused(h.emu)


# --- buttons ------------------------------------------------------------------------------


async def test_three_staff_press_take_at_once_one_wins_two_are_told(
        telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    data = CaseCb(a="take", id=case.id).pack()
    queries = [h.emu.user_presses(u, card, data) for u in (IVAN, OLEG, MARIA)]
    await run(h)
    assert len(await events(h, case, "taken")) == 1
    answers = [answer_to(h, q)["text"] or "" for q in queries]
    assert answers[0].startswith(case.number)
    assert all("Иван Петров" in a for a in answers[1:])
    assert sum("в работе" in t for t in h.texts_to(RESIDENT)) == 1


async def test_a_reclassified_case_shows_its_new_category_on_the_card_and_the_topic(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    await press(h, MARIA, card, ReclassCb(id=case.id, axis="category", v="electrical").pack())
    [updated] = await cases_of(h)
    assert updated.category == "electrical" and updated.department == "electric"
    assert "электроснабжение" in h.emu.message(STAFF_CHAT, card["message_id"])["text"]
    [topic] = h.emu.topics(STAFF_CHAT)
    assert "электроснабжение" in topic["name"], topic
    # The card's own buttons still act on the case after it moved department.
    query = await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                        CaseCb(a="take", id=case.id).pack())
    assert answer_to(h, query)["text"].startswith(case.number)
    assert not refused(h.emu)


async def test_resolving_an_incident_redraws_every_card_of_it(
        make_telegram: MakeTelegram) -> None:
    """Two residents report the same outage; resolving one resolves the incident. Staff must
    see that on both cards (and both topics), not only on the one they pressed."""
    h = await make_telegram(forum=True)
    for user in (RESIDENT, RESIDENT + 1):
        register(h.emu, user)
        h.emu.user_sends(user, "Во всём подъезде нет света, весь дом без электричества")
        await run(h)
    first, second = await cases_of(h)
    assert first.incident_id is not None and second.incident_id == first.incident_id
    card1, card2 = card_of(h, first), card_of(h, second)
    for action in ("take", "resolve"):
        await press(h, MARIA, h.emu.message(STAFF_CHAT, card1["message_id"]),
                    CaseCb(a=action, id=first.id).pack())
    assert [c.stage for c in await cases_of(h)] == ["resolved", "resolved"]
    shown = h.emu.message(STAFF_CHAT, card2["message_id"])
    assert "Решено" in shown["text"], shown["text"]
    assert CaseCb(a="take", id=second.id).pack() not in str(shown["reply_markup"])
    await press(h, MARIA, h.emu.message(STAFF_CHAT, card1["message_id"]),
                CaseCb(a="close", id=first.id).pack())
    assert all(t["closed"] for t in h.emu.topics(STAFF_CHAT))
    assert not refused(h.emu)


# --- replies: which message staff answer, and where --------------------------------------


async def test_a_reply_to_a_relayed_resident_message_reaches_that_resident(
        telegram: TelegramHarness) -> None:
    h = telegram
    case, _card = await open_case(h)
    await open_case(h, "Не работает лифт во втором подъезде", user=RESIDENT + 1)
    h.emu.user_sends(RESIDENT, "Вода уже у соседей снизу")
    await run(h)
    relayed = next(m for m in h.emu.sent_messages(STAFF_CHAT)
                   if "соседей снизу" in (m.get("text") or ""))
    h.emu.user_sends(IVAN, "Перекройте вентиль под раковиной", chat_id=STAFF_CHAT,
                     reply_to_message_id=relayed["message_id"])
    await run(h)
    assert any("вентиль" in t for t in h.texts_to(RESIDENT))
    assert not any("вентиль" in t for t in h.texts_to(RESIDENT + 1))
    assert case.number in relayed["text"]


async def test_a_reply_to_the_case_details_reaches_the_resident(
        telegram: TelegramHarness) -> None:
    """Staff look a case up with /case and answer the details the bot posted."""
    h = telegram
    case, _card = await open_case(h)
    h.emu.user_sends(IVAN, f"/case {case.number}", chat_id=STAFF_CHAT)
    await run(h)
    detail = h.emu.sent_messages(STAFF_CHAT)[-1]
    assert case.number in detail["text"]
    h.emu.user_sends(IVAN, "Сантехник придёт в 15:00", chat_id=STAFF_CHAT,
                     reply_to_message_id=detail["message_id"])
    await run(h)
    assert any("в 15:00" in t for t in h.texts_to(RESIDENT))


async def test_a_reply_to_a_bot_message_about_no_case_is_answered_not_dropped(
        telegram: TelegramHarness) -> None:
    """A reply to the bot's /open list goes to no resident: staff must hear so, not guess."""
    h = telegram
    await open_case(h)
    h.emu.user_sends(IVAN, "/open", chat_id=STAFF_CHAT)
    await run(h)
    listing = h.emu.sent_messages(STAFF_CHAT)[-1]
    sent = h.emu.user_sends(IVAN, "Беру первое, выезжаю", chat_id=STAFF_CHAT,
                            reply_to_message_id=listing["message_id"])
    await run(h)
    assert not any("выезжаю" in t for t in h.texts_to(RESIDENT))
    assert any("Ответьте на карточку" in t for t in staff_texts_after(h, sent))
    # Colleagues replying to each other is chatter, and stays unanswered.
    chat = h.emu.user_sends(OLEG, "Ок, удачи", chat_id=STAFF_CHAT,
                            reply_to_message_id=sent["message_id"])
    await run(h)
    assert staff_texts_after(h, chat) == []


async def test_chatter_in_the_general_topic_of_a_forum_goes_nowhere(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    await open_case(h)
    sent = h.emu.user_sends(IVAN, "Коллеги, кто сегодня дежурит?", chat_id=STAFF_CHAT)
    await run(h)
    assert not any("дежурит" in t for t in h.texts_to(RESIDENT))
    assert staff_texts_after(h, sent) == []


async def test_an_edit_of_an_answer_after_the_case_was_closed_still_reaches_the_resident(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    sent = await staff_says(h, "Сантехник приходил в среду", card)
    for action in ("take", "resolve", "close"):
        await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                    CaseCb(a=action, id=case.id).pack())
    h.emu.user_sends(IVAN, "Сантехник приходил в четверг", chat_id=STAFF_CHAT,
                     edit_of=sent["message_id"])
    await run(h)
    corrected = [t for t in h.texts_to(RESIDENT) if "в четверг" in t]
    assert len(corrected) == 1 and "Исправление" in corrected[0]
    assert (await cases_of(h))[0].stage == "closed"
    assert not refused(h.emu)


async def test_a_photo_with_a_caption_for_a_mail_resident_sends_the_words_only(
        telegram: TelegramHarness, smtp_sink: SmtpSink) -> None:
    h = telegram
    case = await mail_case(h, smtp_sink)
    card = card_of(h, case)
    h.emu.user_sends(MARIA, photo=b"\xff\xd8 the new lamp", caption="Лампу заменили <ok>",
                     chat_id=STAFF_CHAT, reply_to_message_id=card["message_id"])
    await run(h)
    mail = (await smtp_sink.wait_for(2))[-1].message
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None and "Лампу заменили <ok>" in plain.get_content()
    assert not [p for p in mail.walk() if p.get_content_maintype() == "image"]
    assert any("Вложение жителю не отправлено" in t for t in h.texts_to(STAFF_CHAT))


# --- commands -----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["/case@{bot} {n}", "/CASE@{BOT} {n}", "/case {cyr}",
                                   "/case@{bot} {cyr}"])
async def test_a_case_command_with_the_bots_name_or_a_russian_keyboard(
        telegram: TelegramHarness, typed: str) -> None:
    h = telegram
    case, _card = await open_case(h)
    bot = h.emu.world(h.emu.token).bot_user["username"]
    cyr = case.number.replace("A", "А")  # the Cyrillic letter
    sent = h.emu.user_sends(IVAN, typed.format(bot=bot, BOT=bot.upper(), n=case.number, cyr=cyr),
                            chat_id=STAFF_CHAT)
    await run(h)
    [answer] = staff_texts_after(h, sent)
    assert case.number in answer and "не найдено" not in answer, answer


async def test_close_and_assign_with_a_cyrillic_number(telegram: TelegramHarness) -> None:
    h = telegram
    case, _card = await open_case(h)
    cyr = case.number.replace("A", "а")
    h.emu.add_private_chat(OLEG, "Oleg")
    h.emu.user_sends(MARIA, f"/assign {cyr} @oleg", chat_id=STAFF_CHAT)
    h.emu.user_sends(MARIA, f"/close {cyr} Всё починили", chat_id=STAFF_CHAT)
    await run(h)
    [closed] = await cases_of(h)
    assert closed.stage == "closed" and closed.assignee_id is not None
    assert any("Всё починили" in t for t in h.texts_to(RESIDENT))


@pytest.mark.parametrize("typed", ["/closee@{bot} A-1", "/старт", "/ ", "/5 минут и буду"])
async def test_odd_slash_messages_in_a_topic_are_never_relayed(
        make_telegram: MakeTelegram, typed: str) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    bot = h.emu.world(h.emu.token).bot_user["username"]
    text = typed.format(bot=bot)
    sent = await staff_says(h, text, card)
    after = staff_texts_after(h, sent)
    to_resident = [t for t in h.texts_to(RESIDENT) if text.strip() in t]
    # Either answered as a command, or relayed as words; never silently dropped.
    assert after or to_resident, (text, after)
    assert not refused(h.emu)


# --- people and the group change under the bot -------------------------------------------


@pytest.mark.parametrize("failure", [
    {"error_code": 403, "description": "Forbidden: bot can't initiate conversation with a user"},
    {"error_code": 403, "description": "Forbidden: user is deactivated"},
    {"error_code": 400, "description": "Bad Request: chat not found"},
], ids=["never-started", "deleted-account", "no-chat"])
async def test_an_assignment_ping_that_cannot_reach_the_assignee_is_shown_on_the_case(
        make_telegram: MakeTelegram, failure: dict[str, Any]) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    h.emu.add_private_chat(OLEG, "Oleg")
    h.emu.fail_next("sendMessage", chat_id=OLEG, **failure)
    h.emu.user_sends(MARIA, f"/assign {case.number} @oleg", chat_id=STAFF_CHAT)
    await run(h)
    await run(h)
    in_topic = [m.get("text") or "" for m in h.emu.sent_messages(
        STAFF_CHAT, thread_id=card["message_thread_id"])]
    assert any("Олег Сидоров" in t and "не доставлено" in t for t in in_topic), in_topic
    assert await events(h, case, "delivery_failed")


async def test_an_escalation_to_a_managers_chat_the_bot_was_removed_from_is_shown(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    h.emu.add_private_chat(ANNA, "Anna")
    h.emu.world(h.emu.token).chat(MANAGERS_CHAT).bot_status = "kicked"
    await press(h, MARIA, card, CaseCb(a="escalate", id=case.id).pack())
    await run(h)
    assert any(case.number in t for t in h.texts_to(ANNA))  # the direct message still went
    in_topic = [m.get("text") or "" for m in h.emu.sent_messages(
        STAFF_CHAT, thread_id=card["message_thread_id"])]
    assert any("не доставлено" in t for t in in_topic), in_topic
    async with h.app.wf.sessions() as session:
        states = (await session.scalars(select(OutboxItem.state))).all()
    assert "pending" not in states  # recorded once, not retried or reported in a loop


async def test_a_staff_chat_that_is_gone_fails_its_card_once_without_a_loop(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram()
    h.emu.world(h.emu.token).chat(STAFF_CHAT).bot_status = "kicked"
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    for _ in range(4):
        await run(h)
    [case] = await cases_of(h)
    async with h.app.wf.sessions() as session:
        items = (await session.scalars(select(OutboxItem).where(
            OutboxItem.channel == "staff"))).all()
    cards = [i for i in items if i.purpose != "staff_chat_lost"]
    assert [i.state for i in cards] == ["failed"], [(i.purpose, i.state) for i in items]
    assert await events(h, case, "delivery_failed")  # on the case's history for /case
    # the managers hear of the lost chat (test_bot_strict), never through that chat: no loop
    told = [i for i in items if i.purpose == "staff_chat_lost"]
    assert told and all(not i.recipient.startswith("chat:") for i in told)


async def test_a_forum_without_topic_rights_still_gets_every_card(
        make_telegram: MakeTelegram) -> None:
    """An admin took the bot's right to manage topics: it cannot open a topic per case, so
    the card goes to the general topic, and staff answer it by replying."""
    h = await make_telegram(forum=True)
    h.emu.world(h.emu.token).chat(STAFF_CHAT).bot_status = "member"
    case, card = await open_case(h)
    assert not card.get("message_thread_id")
    h.emu.user_sends(IVAN, "Мастер будет в 12:00", chat_id=STAFF_CHAT,
                     reply_to_message_id=card["message_id"])
    await run(h)
    assert any("в 12:00" in t for t in h.texts_to(RESIDENT))
    await press(h, IVAN, card, CaseCb(a="take", id=case.id).pack())
    assert (await cases_of(h))[0].stage == "investigating"
    assert not refused(h.emu, allowed=("not enough rights",))


async def test_a_topic_closed_by_a_person_is_reopened_for_the_residents_next_words(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    thread = card["message_thread_id"]
    h.emu.user_toggles_topic(MARIA, STAFF_CHAT, thread)
    await run(h)
    h.emu.user_sends(RESIDENT, "Вода уже у соседей снизу")
    await run(h)
    assert any("соседей снизу" in (m.get("text") or "")
               for m in h.emu.sent_messages(STAFF_CHAT, thread_id=thread))
    [topic] = h.emu.topics(STAFF_CHAT)
    assert topic["closed"] is False  # staff can answer there again
    assert not refused(h.emu)


@pytest.mark.parametrize("forum,as_reply", [(True, False), (False, True), (False, False)],
                         ids=["in-topic", "reply-to-card", "plain"])
async def test_a_question_typed_after_need_info_pauses_the_clock(
        make_telegram: MakeTelegram, forum: bool, as_reply: bool) -> None:
    """In a forum every message in a topic "replies" to the topic's opening, and that was
    taken for a reply elsewhere: the question went out as a plain answer, the clock ran on.
    So did a question typed as a reply to the very card "need info" was pressed on."""
    h = await make_telegram(forum=forum)
    case, card = await open_case(h)
    await press(h, IVAN, card, CaseCb(a="need_info", id=case.id).pack())
    h.emu.user_sends(IVAN, "На каком этаже квартира?", chat_id=STAFF_CHAT,
                     **(where(card) if forum or as_reply else {}))
    await run(h)
    assert any("На каком этаже" in t for t in h.texts_to(RESIDENT))
    assert len(await events(h, case, "need_info")) == 1
    assert (await cases_of(h))[0].paused_at is not None


async def test_a_mistyped_command_while_a_question_is_pending_is_not_the_question(
        telegram: TelegramHarness) -> None:
    """Ivan pressed "need info"; before typing the question he mistypes a command. It used to
    go to the resident as the question; the question is still awaited afterwards."""
    h = telegram
    case, card = await open_case(h)
    await press(h, IVAN, card, CaseCb(a="need_info", id=case.id).pack())
    sent = h.emu.user_sends(IVAN, "/clsoe всё готово", chat_id=STAFF_CHAT)
    await run(h)
    assert not any("всё готово" in t for t in h.texts_to(RESIDENT))
    assert any("/clsoe" in t for t in staff_texts_after(h, sent))
    h.emu.user_sends(IVAN, "На каком этаже квартира?", chat_id=STAFF_CHAT)
    await run(h)
    assert any("На каком этаже" in t for t in h.texts_to(RESIDENT))
    assert (await cases_of(h))[0].paused_at is not None


async def test_a_staff_member_removed_from_the_list_can_no_longer_act_or_answer(
        make_telegram: MakeTelegram) -> None:
    """Oleg left the company: he is still in the group and still the assignee, but no longer
    active staff. His presses and answers change nothing and reach nobody."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    await press(h, OLEG, card, CaseCb(a="take", id=case.id).pack())
    async with h.app.wf.sessions.begin() as session:
        oleg = await session.scalar(select(Staff).where(Staff.telegram_user_id == OLEG))
        assert oleg is not None
        oleg.active = False
    before = [(c.stage, c.assignee_id) for c in await cases_of(h)]
    query = await press(h, OLEG, h.emu.message(STAFF_CHAT, card["message_id"]),
                        CaseCb(a="resolve", id=case.id).pack())
    assert answer_to(h, query)["show_alert"]
    sent = await staff_says(h, "Я уже не работаю, но починю", card, user=OLEG)
    assert [(c.stage, c.assignee_id) for c in await cases_of(h)] == before
    assert not any("не работаю" in t for t in h.texts_to(RESIDENT))
    assert any("Извините" in t for t in staff_texts_after(h, sent))


# --- flood ----------------------------------------------------------------------------------


async def test_forty_cases_in_a_minute_queue_their_cards_and_answers_keep_their_order(
        make_telegram: MakeTelegram, tg_emulator: Any) -> None:
    """Telegram's group limit (20 a minute, shrunk here to 20 in 2 s with the bot's budget
    shrunk alike): 40 cards must wait their turn, none lost or doubled, no 429 caused, and a
    staff member's three quick answers, like a resident's three follow-ups, keep their order."""
    tg_emulator.flood_limits = FloodLimits(group_max=20, group_window=2.0)
    h = await make_telegram(limits=SendLimits(group_max=20, group_window_s=2.0))
    outbox = asyncio.create_task(h.app.outbox.run(idle=0.1))
    try:
        first, card = await open_case(h)
        for i in range(1, 40):
            h.emu.add_private_chat(6000 + i, f"Житель {i}")
            h.emu.user_sends(6000 + i, f"Течёт труба в квартире {i}, заливает соседей")
        words = ("первое", "второе", "третье")
        for word in words:
            h.emu.user_sends(IVAN, f"Ответ {word}", chat_id=STAFF_CHAT,
                             reply_to_message_id=card["message_id"])
            h.emu.user_sends(RESIDENT, f"Дополнение {word}")
        await h.settle(timeout=30)

        def cards() -> list[str]:
            return [re.findall(r"A-\d+", m.get("text") or "")[0]
                    for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup")]

        await h.until(lambda: len(cards()) >= 40, timeout=30, what="every card")
        await h.until(lambda: sum("Дополнение" in t for t in h.texts_to(STAFF_CHAT)) >= 3,
                      timeout=30, what="the resident's follow-ups")
        await h.until(lambda: sum("Ответ " in t for t in h.texts_to(RESIDENT)) >= 3,
                      timeout=10, what="the answers")
    finally:
        outbox.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await outbox
    numbers = {c.number for c in await cases_of(h)}
    assert len(numbers) == 40 and sorted(cards()) == sorted(numbers)
    answers = [t for t in h.texts_to(RESIDENT) if "Ответ " in t]
    assert [w for t in answers for w in words if w in t] == list(words)
    relayed = [t for t in h.texts_to(STAFF_CHAT) if "Дополнение" in t]
    assert [w for t in relayed for w in words if w in t] == list(words)
    assert first.number in relayed[0]
    assert h.emu.flood_error_count == 0, h.emu.flood_hits
    assert not refused(h.emu)
