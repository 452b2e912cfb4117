"""Review of round 19 (email) and round 9 (Telegram): what a resident or staff would hit.

- A Date header in Russian naming March ("мар", "марта") was read as May: the letter was
  dated two months late (a backlog import sorted it in the future, its deadlines with it).
- A resident's message that answers a post in another chat (the house chat, a channel) is
  filed with a line saying what it answers; an edit of it was compared with that line
  included, so a word made bold came to staff again as a "correction", and a typo mended
  after "resolved" reopened the case.
"""

from __future__ import annotations

from typing import Any

import pytest

from intake.email import parse_mail
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, TelegramHarness, telegram_config
from tests.test_bot_fuzz import HOUSE_CHAT, IVAN, cases_of, raw_message, register, resolve, run
from tests.test_email_fuzz7 import OFFICE, OWN

RESIDENT = 5001
Json = dict[str, Any]

# --- email: a Russian month ---------------------------------------------------------------


def _dated(date: str) -> bytes:
    return (f"From: Иван <ivan@mail.ru>\r\nTo: {OFFICE}\r\nSubject: Течёт кран\r\n"
            f"Date: {date}\r\nMessage-ID: <review14.{abs(hash(date))}@mail.ru>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Течёт кран на кухне.\r\n").encode()


@pytest.mark.parametrize(("date", "iso"), [
    ("Вс, 15 мар 2026 12:00:00 +0300", "2026-03-15T12:00:00+03:00"),
    ("15 марта 2026 г. 12:00:00 +0300", "2026-03-15T12:00:00+03:00"),
    ("15 мая 2026 г. 12:00:00 +0300", "2026-05-15T12:00:00+03:00"),
    ("Пт, 15 май 2026 12:00:00 +0300", "2026-05-15T12:00:00+03:00"),
])
def test_a_russian_month_is_read_as_itself(date: str, iso: str) -> None:
    parsed = parse_mail(_dated(date), own_addresses=OWN)
    assert parsed.date is not None and parsed.date.isoformat() == iso


# --- Telegram: an edit of a reply to another chat's post --------------------------------------

_EXTERNAL = {
    "external_reply": {
        "origin": {"type": "user", "date": 1_700_000_000,
                   "sender_user": {"id": 6001, "is_bot": False, "first_name": "Пётр"}},
        "chat": {"id": HOUSE_CHAT, "type": "supergroup", "title": "Ленина 5 — соседи"},
        "message_id": 77},
    "quote": {"text": "В третьем подъезде опять не работает лифт", "position": 0},
}
_WORDS = "Опять то же самое, второй день подряд"


async def _reply_in_another_chat(h: TelegramHarness) -> Json:
    register(h.emu, RESIDENT)
    await run(h)
    sent = raw_message(h.emu, RESIDENT, {"text": _WORDS, **_EXTERNAL})
    await run(h)
    return sent


def _edit(h: TelegramHarness, sent: Json, text: str, **extra: Any) -> None:
    raw_message(h.emu, RESIDENT, {**sent, "text": text, "edit_date": sent["date"] + 60,
                                  **extra}, kind="edited_message")


async def test_a_formatting_edit_of_a_reply_to_another_chat_adds_nothing(
        telegram: TelegramHarness) -> None:
    h = telegram
    sent = await _reply_in_another_chat(h)
    before = len([t for t in h.texts_to(STAFF_CHAT) if _WORDS in t])
    _edit(h, sent, _WORDS, entities=[{"type": "bold", "offset": 0, "length": 5}])
    await run(h)
    assert len([t for t in h.texts_to(STAFF_CHAT) if _WORDS in t]) == before


async def test_a_real_edit_of_a_reply_to_another_chat_keeps_what_it_answers(
        telegram: TelegramHarness) -> None:
    h = telegram
    sent = await _reply_in_another_chat(h)
    _edit(h, sent, "Опять то же самое, третий день подряд")
    await run(h)
    [corrected] = [t for t in h.texts_to(STAFF_CHAT) if "третий день" in t]
    assert "исправил" in corrected and "Ленина 5 — соседи" in corrected, corrected


async def test_a_typo_mended_after_resolved_in_a_reply_to_another_chat_reopens_nothing(
        telegram: TelegramHarness) -> None:
    h = telegram
    sent = await _reply_in_another_chat(h)
    [case] = await cases_of(h)
    card = next(m for m in h.emu.sent_messages(STAFF_CHAT)
                if case.number in (m.get("text") or "") and m.get("reply_markup"))
    await resolve(h, case, card)
    _edit(h, sent, "Опять то же самое, второй день подряд!")
    await run(h)
    assert (await cases_of(h))[0].stage == "resolved"


# --- email: a robot's contact block is no form's e-mail field ---------------------------------


def _from(sender: str, subject: str, body: str) -> bytes:
    return (f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: {subject}\r\n"
            "Date: Thu, 15 Jan 2026 12:00:00 +0300\r\n"
            f"Message-ID: <review14.{abs(hash(body))}@mail.example>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


def test_a_utilitys_notice_is_not_answered_at_its_contact_address() -> None:
    # a water company's notice of a planned outage, from a robot's mailbox, with its own
    # contacts in a block: the office's acknowledgement went to the company's info@ mailbox
    body = ("Уважаемые партнёры!\n\n20 января с 10:00 до 18:00 по адресу ул. Ленина, 5\n"
            "будет отключена холодная вода.\n\nПричина\nзамена задвижки на вводе\n\n"
            "Контактный телефон\n8-800-100-00-00\n\nЭлектронная почта\ninfo@vodokanal.ru\n")
    parsed = parse_mail(_from("Водоканал <noreply@vodokanal.ru>", "Плановое отключение воды",
                              body), own_addresses=OWN)
    assert parsed.sender != "info@vodokanal.ru"


def test_a_residents_letter_about_a_broken_form_is_answered_at_their_own_address() -> None:
    # a person's own letter saying the site's form failed, with a work address in it
    body = ("Здравствуйте,\nпытался отправить заявку через форму на сайте, не получилось.\n\n"
            "Адрес\nул. Ленина 5, кв. 12\n\nЧто случилось\nтечёт кран на кухне\n\n"
            "Эл. почта\nivan.work@company.ru\n")
    parsed = parse_mail(_from("Иван <ivan.sidorov@mail.ru>", "Заявка с сайта не работает",
                              body), own_addresses=OWN)
    assert parsed.sender == "ivan.sidorov@mail.ru"


# --- Telegram: the staff chat replaced in the configuration, as the loss notice asks ----------

NEW_STAFF_CHAT = -1009000000014


async def test_cards_refused_while_the_bot_was_out_follow_to_the_chat_put_in_its_place(
        make_telegram: Any) -> None:
    """The bot is removed from the staff chat at night; the managers are told to add it back
    or to "put the new chat in telegram.staff_chat_id and restart the bot". Those who do the
    second lost the night's cards for good: only the bot's return to the old chat sent them
    again, and that never comes."""
    h: TelegramHarness = await make_telegram()
    h.emu.set_bot_status(STAFF_CHAT, "kicked", by=IVAN)
    await run(h)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    [case] = await cases_of(h)
    assert not [t for t in h.texts_to(STAFF_CHAT) if case.number in t]
    await h.stop()
    h.emu.add_supergroup(NEW_STAFF_CHAT, "Диспетчерская (новая)")
    for name, uid in STAFF_IDS.items():
        h.emu.add_member(NEW_STAFF_CHAT, uid, name.capitalize(), username=name)
    again = TelegramHarness(h.app, h.emu, telegram_config(h.emu, staff_chat_id=NEW_STAFF_CHAT))
    try:
        await again.start()
        await again.deliver()
        assert [t for t in again.texts_to(NEW_STAFF_CHAT) if case.number in t]
    finally:
        await again.stop()


# --- email: a resident's sentence naming a neighbour's address over the neighbour's words -----


@pytest.mark.parametrize("body", [
    "Пишу также от имени соседа Петрова <petrov@mail.ru>:\n"
    "> У меня течёт потолок, кв. 46, уже неделю\nПрошу разобраться, кв. 12.",
    "Прошу переслать ответ и соседу Петрову (petrov@mail.ru):\n> заявка от 10.01 по кв. 12\n"
    "Спасибо",
])
def test_a_residents_own_line_naming_an_address_over_quoted_words_stays(body: str) -> None:
    # round 19 took any line naming an address in brackets over '>' lines for a client's
    # quote header: the neighbour's flat and the resident's own sentence were cut off
    parsed = parse_mail(_from("Иван <ivan.sidorov@mail.ru>", "Течёт потолок", body),
                        own_addresses=OWN)
    assert parsed.text == body
