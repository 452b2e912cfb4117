"""Round ten: what residents and staff do in a real Telegram chat that a strict Bot API server
shows up.

Each test drives the real bot through the tests' strict emulator and asserts what a resident,
a staff member or a manager would notice. Sections:

1. a link hidden behind words (``text_link``: "фото тут") in a resident's message, a photo's
   caption, an edit, the ``/new`` form and a message forwarded into the staff form: the
   address reached nobody; other formatting (bold, a spoiler, a custom emoji) leaves the words
   as typed, offsets counted in UTF-16 past emoji and Cyrillic; and a report mended by an
   edit, then followed by its photo, which opened a second case;
2. a registered resident answering the office's "a number to call?" with their own contact
   card or a typed phone: taken for a late registration answer, it was answered "you are
   registered" and staff never heard it;
3. a reaction (👍) put on staff's question: the bot did not ask Telegram for reactions, and
   the case stayed paused;
4. a reply quoting part of the office's message: staff could not tell which question "Да"
   answered;
5. what already held, pinned: a resident whose Telegram speaks Ukrainian, Kazakh or German,
   a voice note with a caption, an anonymous admin's command in a house chat, a text of
   Telegram's full length made of characters HTML would escape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import CaseCb
from tests.peers.telegram import STAFF_CHAT, TelegramHarness
from tests.test_bot_fuzz import (
    HOUSE_CHAT,
    IVAN,
    cases_of,
    file_obj,
    open_case,
    press,
    raw_message,
    refused,
    register,
    resolve,
    run,
)
from tests.test_bot_fuzz4 import form_done_and_send, form_to_step
from tests.test_bot_fuzz9 import asked
from tests.test_bot_strict import PNG, staff_form
from workflow.models import Message

RESIDENT = 5001
PETR = 6001
DISK = "https://disk.yandex.ru/i/Xy7-протечка"

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def link_over(text: str, words: str, url: str = DISK) -> Json:
    """A ``text_link`` entity over ``words`` in ``text``, counted as Telegram counts."""
    start = text.index(words)
    return {"type": "text_link", "offset": utf16(text[:start]), "length": utf16(words),
            "url": url}


def card_of(h: TelegramHarness, number: str) -> str:
    return next(m["text"] for m in h.emu.sent_messages(STAFF_CHAT)
                if number in (m.get("text") or "") and m.get("reply_markup"))


# --- 1. a link hidden behind words ----------------------------------------------------------

LINKED = "💧💧 Протекает потолок в ванной, фото тут, а видео вот здесь"


async def test_a_link_behind_a_residents_words_reaches_staff_with_its_address(
        telegram: TelegramHarness) -> None:
    """"Фото тут" with the photos on a cloud disk behind "тут": staff got the words, not the
    address, and asked the resident for photos they had already sent. Emoji before the link
    count twice in Telegram's offsets; bold, a spoiler and a custom emoji change no word."""
    h = telegram
    register(h.emu)
    video = "https://youtu.be/abc123"
    h.emu.user_sends(RESIDENT, LINKED, entities=[
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "custom_emoji", "offset": 0, "length": 2,
         "custom_emoji_id": "5368324170671202286"},
        link_over(LINKED, "тут"), link_over(LINKED, "здесь", video),
        {"type": "spoiler", "offset": utf16(LINKED[:LINKED.index("а видео")]), "length": 7}])
    await run(h)
    [case] = await cases_of(h)
    assert case.text == (f"💧💧 Протекает потолок в ванной, фото тут ({DISK}), а видео вот "
                         f"здесь ({video})")
    assert DISK in card_of(h, case.number) and video in card_of(h, case.number)
    assert not refused(h.emu)


async def test_a_link_in_a_photos_caption_reaches_staff(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    caption = "Протекает потолок в подъезде, остальные фото тут"
    raw_message(h.emu, RESIDENT, {"photo": [file_obj("crack", width=800, height=600)],
                                  "caption": caption,
                                  "caption_entities": [link_over(caption, "тут")]})
    await run(h)
    [case] = await cases_of(h)
    assert f"фото тут ({DISK})" in card_of(h, case.number)


async def test_a_link_added_by_an_edit_reaches_staff_and_a_link_already_shown_is_not_doubled(
        telegram: TelegramHarness) -> None:
    """The resident edits "фото тут" to hide the address behind "тут": staff get the
    correction with the address. A link whose address is the words themselves is left as
    typed, and making a word bold afterwards still adds nothing."""
    h = telegram
    register(h.emu)
    sent = h.emu.user_sends(RESIDENT, "Протекает потолок в ванной, фото тут")
    await run(h)
    text = "Протекает потолок в ванной, фото тут"
    h.emu.user_sends(RESIDENT, text, edit_of=sent["message_id"],
                     entities=[link_over(text, "тут")])
    await run(h)
    corrected = [t for t in h.texts_to(STAFF_CHAT) if DISK in t]
    assert len(corrected) == 1 and "исправил" in corrected[0]
    h.emu.user_sends(RESIDENT, text, edit_of=sent["message_id"],
                     entities=[link_over(text, "тут"), {"type": "bold", "offset": 0,
                                                       "length": 9}])
    await run(h)
    assert len([t for t in h.texts_to(STAFF_CHAT) if DISK in t]) == 1
    plain = f"Ещё фото: {DISK}"
    h.emu.user_sends(RESIDENT, plain, entities=[link_over(plain, DISK)])
    await run(h)
    assert any(plain in t for t in h.texts_to(STAFF_CHAT))
    assert not any(f"{DISK} ({DISK})" in t for t in h.texts_to(STAFF_CHAT))


async def test_a_link_in_the_forms_description_reaches_staff(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    await form_to_step(h, describe=False)
    text = "Течёт стояк в ванной, видео тут"
    h.emu.user_sends(RESIDENT, text, entities=[link_over(text, "тут")])
    await run(h)
    await form_done_and_send(h)
    [case] = await cases_of(h)
    assert f"видео тут ({DISK})" in card_of(h, case.number)


async def test_a_link_in_a_message_forwarded_into_the_staff_form_reaches_the_card(
        telegram: TelegramHarness) -> None:
    """Ivan files a resident's message forwarded from his private chat: its photos were
    behind "вот ссылка", and the card had only those words."""
    h = telegram
    await staff_form(h, "lenina-5")
    text = "Протекает крыша над 9 этажом, фото вот ссылка"
    raw_message(h.emu, IVAN, {"text": text, "entities": [link_over(text, "вот ссылка")],
                              "forward_origin": {"type": "hidden_user", "date": 1_700_000_000,
                                                 "sender_user_name": "Ольга"}},
                chat_id=STAFF_CHAT)
    await run(h)
    [case] = await cases_of(h)
    assert f"вот ссылка ({DISK})" in card_of(h, case.number)


async def test_a_report_mended_then_followed_by_its_photo_is_one_case(
        telegram: TelegramHarness) -> None:
    """"Течёт кран в ванне" mended to "в ванной", and a captioned photo sent a moment later:
    the edit was taken for the resident's last message, which belongs to no burst, and the
    photo opened a second case of its own."""
    h = telegram
    register(h.emu)
    sent = h.emu.user_sends(RESIDENT, "Течёт кран в ванне, вода на полу")
    await run(h)
    h.emu.user_sends(RESIDENT, "Течёт кран в ванной, вода на полу", edit_of=sent["message_id"])
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Вот фото, уже течёт к соседям снизу")
    await run(h)
    assert len(await cases_of(h)) == 1
    assert [m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("photo")]
    assert len([m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup")]) == 1


# --- 2. the resident's own phone given as an answer ------------------------------------------


@pytest.mark.parametrize("how", ["contact", "typed"])
async def test_a_phone_given_to_the_office_question_reaches_staff_not_registration(
        telegram: TelegramHarness, how: str) -> None:
    """A registered resident who skipped the phone is asked "Оставьте номер для мастера":
    their own contact card (in reply) or the number typed (not in reply) was taken for a late
    answer to registration: "Готово, вы зарегистрированы", staff never heard, and the case
    stayed paused."""
    h = telegram
    register(h.emu)
    await run(h)
    case, _, question = await asked(h)
    if how == "contact":
        raw_message(h.emu, RESIDENT, {"contact": {"phone_number": "+79001234567",
                                                  "first_name": "Анна", "user_id": RESIDENT},
                                      "reply_to_message": question})
    else:
        h.emu.user_sends(RESIDENT, "+79001234567")
    await run(h)
    assert any("+79001234567" in t and case.number in t for t in h.texts_to(STAFF_CHAT))
    [only] = await cases_of(h)
    assert only.paused_at is None
    assert not any("зарегистрированы" in t for t in h.texts_to(RESIDENT)[-2:])


async def test_the_phone_shared_after_registration_lapsed_still_registers_it(
        telegram: TelegramHarness) -> None:
    """With nothing asked about a case, the own contact card is still the registration's
    late answer (round eight), not a report."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    h.emu.user_sends(RESIDENT, "7")
    await run(h)
    h.emu.user_shares_contact(RESIDENT, "+79001234567")
    await run(h)
    assert "зарегистрированы" in h.texts_to(RESIDENT)[-1]
    assert await cases_of(h) == []


# --- 3. a reaction on staff's words ----------------------------------------------------------


def react(h: TelegramHarness, message: Json, *emoji: str, old: tuple[str, ...] = ()) -> None:
    """The resident puts ``emoji`` on ``message`` (in place of ``old``), as Telegram reports."""
    h.emu.world(h.emu.token).enqueue("message_reaction", {
        "chat": message["chat"], "message_id": message["message_id"],
        "user": {"id": RESIDENT, "is_bot": False, "first_name": "Анна"},
        "date": 1_700_000_000 + len(h.emu.requests),
        "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
        "new_reaction": [{"type": "emoji", "emoji": e} for e in emoji]})


async def test_a_reaction_on_staffs_question_is_the_answer(telegram: TelegramHarness) -> None:
    """"Can the plumber come tomorrow at 10?" answered with a 👍 put on it, as people do in
    Telegram: the bot did not even ask Telegram for reactions, staff never knew, and the case
    stayed paused. Taking the 👍 off again says nothing more."""
    h = telegram
    case, _, question = await asked(h)
    react(h, question, "👍")
    await run(h)
    assert "message_reaction" in h.emu.calls("getUpdates")[-1].json_param("allowed_updates")
    said = [t for t in h.texts_to(STAFF_CHAT) if "👍" in t]
    assert len(said) == 1 and case.number in said[0]
    [only] = await cases_of(h)
    assert only.paused_at is None
    before = len(h.texts_to(STAFF_CHAT))
    react(h, question, old=("👍",))
    await run(h)
    assert len(h.texts_to(STAFF_CHAT)) == before
    assert not refused(h.emu)


async def test_a_reaction_on_an_acknowledgement_or_under_resolved_says_nothing(
        telegram: TelegramHarness) -> None:
    """A 👍 on "your case is registered" is no answer to anything, and a 🙏 under "resolved"
    is thanks: neither reaches staff, nor reopens the case."""
    h = telegram
    case, card = await open_case(h)
    ack = next(m for m in h.emu.sent_messages(RESIDENT) if case.number in (m.get("text") or ""))
    react(h, ack, "👍")
    await run(h)
    assert not any("реакци" in t for t in h.texts_to(STAFF_CHAT))
    resolved = await resolve(h, case, card)
    react(h, resolved, "🙏")
    await run(h)
    assert not any("реакци" in t for t in h.texts_to(STAFF_CHAT))
    assert (await cases_of(h))[0].stage == "resolved"


# --- 4. a reply quoting part of the office's message -----------------------------------------


async def test_a_reply_quoting_one_of_staffs_questions_tells_staff_which(
        telegram: TelegramHarness) -> None:
    """Ivan asked two things at once; the resident answered "Да" quoting the second. Staff
    got a bare "Да", and could not tell whether the plumber may come or the flat is empty."""
    h = telegram
    case, card = await open_case(h)
    await press(h, IVAN, card, CaseCb(a="need_info", id=case.id).pack())
    h.emu.user_sends(IVAN, "Мастер может прийти завтра в 10? Вода перекрыта?",
                     chat_id=STAFF_CHAT, reply_to_message_id=card["message_id"])
    await run(h)
    question = next(m for m in h.emu.sent_messages(RESIDENT)
                    if "Мастер может" in (m.get("text") or ""))
    raw_message(h.emu, RESIDENT, {"text": "Да", "reply_to_message": question,
                                  "quote": {"text": "Вода перекрыта?", "position": 40}})
    await run(h)
    assert any("«Вода перекрыта?»" in t and t.endswith("\nДа") for t in h.texts_to(STAFF_CHAT))
    async with h.app.wf.sessions() as session:
        logged = (await session.scalars(select(Message.text).where(
            Message.case_id == case.id, Message.direction == "in"))).all()
    assert any("Вода перекрыта?" in (t or "") for t in logged)
    assert (await cases_of(h))[0].paused_at is None


# --- 5. what already held ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["uk", "kk", "de"])
async def test_a_resident_in_another_language_is_answered_in_the_offices_and_heard(
        telegram: TelegramHarness, language: str) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Оксана", language_code=language)
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    h.emu.user_sends(RESIDENT, "7")
    h.emu.user_sends(RESIDENT, "Пропустить")
    h.emu.user_sends(RESIDENT, "Тече кран на кухні, вода на підлозі")
    await run(h)
    [case] = await cases_of(h)
    assert all("Здравствуйте" in t or "Спасибо" in t or "Готово" in t
               for t in h.texts_to(RESIDENT)), h.texts_to(RESIDENT)
    assert f"под номером {case.number}" in h.texts_to(RESIDENT)[-1]
    assert "підлозі" in card_of(h, case.number)
    assert not refused(h.emu)


async def test_a_voice_note_with_a_caption_is_a_report_with_its_recording(
        telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, voice=b"OggS" + b"\0" * 200, caption="Послушайте, как гудит труба")
    await run(h)
    [case] = await cases_of(h)
    assert "гудит труба" in card_of(h, case.number)
    assert [m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("voice")]


async def test_an_anonymous_admins_command_in_a_house_chat_is_answered(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_supergroup(HOUSE_CHAT, "Ленина 5 — соседи")
    h.emu.add_member(HOUSE_CHAT, PETR, "Пётр")
    h.emu.user_sends(PETR, "/help", chat_id=HOUSE_CHAT, anonymous=True)
    await run(h)
    [hint] = h.texts_to(HOUSE_CHAT)
    assert "t.me/" in hint
    assert await cases_of(h) == [] and not refused(h.emu)


async def test_a_full_length_text_of_angle_brackets_and_ampersands_reaches_staff_as_typed(
        telegram: TelegramHarness) -> None:
    """4096 characters of < & > would be over Telegram's limit once escaped for HTML: the bot
    sends plain text, so the card carries them as typed, cut to fit."""
    h = telegram
    register(h.emu)
    text = "Течёт кран <кухня> & ванная. " + "<&>" * 1400
    text = text[:4096]
    assert utf16(text) == 4096
    h.emu.user_sends(RESIDENT, text)
    await run(h)
    [case] = await cases_of(h)
    assert case.text == text
    assert "Течёт кран <кухня> & ванная. <&><&>" in card_of(h, case.number)
    assert not refused(h.emu)

