"""Round eight: what residents and staff still met that a strict Bot API server shows up.

Each test drives the real bot through the tests' strict emulator and asserts what a resident
or staff member would notice: a registration answered after its step had lapsed (the flat
number, "Skip", the phone shared by its button) that opened a case of nothing; a menu left
in the language the resident had just switched away from; an album sent where the form asked
for words, answered once a photo and then lost; a command in a house chat's topic answered in
another topic, or refused in a closed one; a report typed where registration asked the flat
or phone, and lost; a staff answer written as a channel, dropped unseen; the "could not
process" answer in the wrong language; a staff member's /case in private answered as a
resident's; «кв. 12» refused as a flat; a poll in a case's topic taken for delivered; a
forwarded description taken for the resident's own words; a resident's words for a topic
closed to the bot, refused (the emulator now keeps a closed topic shut, as Telegram does);
a manager's remark on an escalation sent to the resident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import CaseCb, LangCb
from bot.fsm_storage import FORM_TTL
from domovoy.peers.telegram_state import Topic
from tests.peers.telegram import MANAGERS_CHAT, STAFF_CHAT, STAFF_IDS, TelegramHarness
from tests.test_bot_fuzz import (
    HOUSE_CHAT,
    IVAN,
    MARIA,
    cases_of,
    open_case,
    press,
    raw_message,
    refused,
    register,
    run,
)
from tests.test_bot_fuzz2 import FORWARDS
from tests.test_bot_fuzz4 import form_done_and_send, form_to_step
from tests.test_bot_strict import PNG
from workflow.clock import ManualClock
from workflow.models import Event, Message, Resident

RESIDENT = 5001
ANNA = STAFF_IDS["anna"]

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


def later(h: TelegramHarness, by: timedelta) -> None:
    """The resident comes back ``by`` later (the app's clock, which the form's life counts)."""
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)
    clock.advance(by)


async def resident_row(h: TelegramHarness) -> Resident:
    async with h.app.wf.sessions() as session:
        [resident] = (await session.scalars(select(Resident))).all()
        return resident


def markup_of(h: TelegramHarness, message: Json) -> Json:
    """The reply_markup the bot sent ``message`` with (a reply keyboard is not echoed in the
    Message, only kept by the client)."""
    [request] = [r for r in h.emu.calls("sendMessage") if r.ok and isinstance(r.result, dict)
                 and r.result["message_id"] == message["message_id"]
                 and r.result["chat"]["id"] == message["chat"]["id"]]
    return dict(request.json_param("reply_markup") or {})


async def logged_messages(h: TelegramHarness) -> list[Message]:
    async with h.app.wf.sessions() as session:
        return list((await session.scalars(select(Message).where(
            Message.direction == "in"))).all())


# --- 1. registration answers after the step lapsed ------------------------------------------


async def test_a_flat_number_given_after_the_step_lapsed_registers_it(
        telegram: TelegramHarness) -> None:
    """Anna opened the building's link and was asked her flat; she answered "7" two hours
    later, when the step had been forgotten: "7" was filed as a message, staff got a note
    about a stray "7", Anna was told it opened no case, and her flat stayed unknown."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    await run(h)
    later(h, FORM_TTL * 2)
    staff_before = len(h.emu.sent_messages(STAFF_CHAT))
    asked = h.emu.user_sends(RESIDENT, "7")
    await run(h)
    assert (await resident_row(h)).apartment == "7"
    [answer] = [m for m in h.emu.sent_messages(RESIDENT) if m["message_id"] > asked["message_id"]]
    assert "7" in answer["text"]  # "Квартира 7": the phone is asked next
    assert await logged_messages(h) == [] and await cases_of(h) == []
    assert h.emu.sent_messages(STAFF_CHAT)[staff_before:] == []
    assert refused(h.emu) == []


async def test_skip_or_the_phone_after_the_step_lapsed_finishes_registration(
        telegram: TelegramHarness) -> None:
    """Asked for her phone, Anna left the chat and came back two hours later to the buttons
    still shown: "📞 Share phone number" opened a case "Контакт: Анна +7999…" with a card
    for staff, and "Skip" a note about a stray "Пропустить". Either finishes registration."""
    h = telegram
    for answer in ("share", "skip"):
        user = RESIDENT if answer == "share" else RESIDENT + 1
        h.emu.add_private_chat(user, "Анна")
        h.emu.user_sends(user, "/start lenina-5")
        h.emu.user_sends(user, "7")
        await run(h)
        later(h, FORM_TTL * 2)
        if answer == "share":
            asked = h.emu.user_shares_contact(user, "+79991234567")
        else:
            asked = h.emu.user_sends(user, "Пропустить")
        await run(h)
        [done] = [m for m in h.emu.sent_messages(user) if m["message_id"] > asked["message_id"]]
        assert "зарегистрированы" in done["text"] and "кв. 7" in done["text"]
        # the menu comes with it, as at a registration finished in time
        assert "keyboard" in markup_of(h, done)
    async with h.app.wf.sessions() as session:
        phones = {r.phone for r in (await session.scalars(select(Resident))).all()}
    assert phones == {"+79991234567", None}
    assert await logged_messages(h) == [] and await cases_of(h) == []
    assert [m for m in h.emu.sent_messages(STAFF_CHAT)] == []
    assert refused(h.emu) == []


async def test_words_after_a_lapsed_registration_are_still_a_report(
        telegram: TelegramHarness) -> None:
    """The other side: a resident with a flat already, or words that are no flat number, is
    reporting something, and that is filed as before."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    await run(h)
    later(h, FORM_TTL * 2)
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    assert len(await cases_of(h)) == 1
    assert (await resident_row(h)).apartment is None


# --- 2. the menu follows the language -------------------------------------------------------


def keyboard_labels(markup: Json) -> list[str]:
    return [b["text"] if isinstance(b, dict) else str(b)
            for row in markup.get("keyboard") or [] for b in row]


async def test_the_menu_speaks_the_language_the_resident_chose(
        telegram: TelegramHarness) -> None:
    """Anna registered in Russian and switched to English with /lang: the bot answered in
    English, but the menu under the input field went on saying «📝 Новое обращение» and
    «📋 Мои обращения» until she registered again. It now comes in English with the answer."""
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "/lang")
    await run(h)
    h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1], LangCb(code="en").pack())
    await run(h)
    answer = h.emu.sent_messages(RESIDENT)[-1]
    assert "English" in answer["text"]
    assert keyboard_labels(markup_of(h, answer)) == ["📝 New request", "📋 My cases"]
    assert refused(h.emu) == []


async def test_choosing_a_language_before_registering_offers_no_menu(
        telegram: TelegramHarness) -> None:
    """A person who has not registered has no menu yet; /lang gives them none either."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Anna")
    h.emu.user_sends(RESIDENT, "/lang")
    await run(h)
    h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1], LangCb(code="en").pack())
    await run(h)
    assert markup_of(h, h.emu.sent_messages(RESIDENT)[-1]) == {}


# --- 3. photos sent where the form asks for words -------------------------------------------


async def test_an_album_sent_for_the_description_is_kept_and_answered_once(
        telegram: TelegramHarness) -> None:
    """Asked to describe the problem, Anna sent the three photos of the leak first, with no
    caption: each got «a text description is needed» (three answers a second apart) and
    each photo was dropped, so the case went to staff without them, "Вложений: 0". The
    photos are kept for the case and she is asked for the words once."""
    h = telegram
    register(h.emu)
    await run(h)
    await form_to_step(h, describe=False)
    first = h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="leak")
    for _ in range(2):
        h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="leak")
    await run(h)
    answers = [m for m in h.emu.sent_messages(RESIDENT) if m["message_id"] > first["message_id"]]
    assert len(answers) == 1 and "опишите" in answers[0]["text"].lower()
    h.emu.user_sends(RESIDENT, "Течёт стояк в ванной, капает на пол")
    await run(h)
    assert "3" in h.texts_to(RESIDENT)[-1]  # "attachments so far: 3"
    await form_done_and_send(h)
    [case] = await cases_of(h)
    assert case.category == "plumbing"
    assert len([m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("photo")]) == 3
    assert refused(h.emu) == []


# --- 4. a command in a house chat's topic ---------------------------------------------------


def house_topic(h: TelegramHarness, name: str) -> int:
    """A topic of the residents' house chat (a forum the bot is a plain member of)."""
    house = h.emu.world(h.emu.token).chat(HOUSE_CHAT)
    thread = house.new_message_id()
    house.topics[thread] = Topic(thread, name, 7322096)
    house.messages[thread] = {"message_id": thread, "chat": house.public(), "date": 0,
                              "message_thread_id": thread, "is_topic_message": True,
                              "forum_topic_created": {"name": name, "icon_color": 7322096}}
    return thread


async def test_a_command_in_a_house_chats_topic_is_answered_in_that_topic(
        telegram: TelegramHarness) -> None:
    """The house chat has topics ("Лифт", "Вода", …); Anna typed /start@bot in "Вода". The
    pointer to the private chat went to the general topic, which she was not reading (and
    which its admins often close): she saw no answer. It comes in her topic, to her."""
    h = telegram
    h.emu.add_supergroup(HOUSE_CHAT, "Ленина 5 — соседи", bot_status="member", is_forum=True)
    thread = house_topic(h, "Вода")
    me = (await h.channel.bot.me()).username if h.channel else None
    asked = h.emu.user_sends(RESIDENT, f"/start@{me}", chat_id=HOUSE_CHAT,
                             message_thread_id=thread)
    await run(h)
    [hint] = h.emu.sent_messages(HOUSE_CHAT)
    assert f"t.me/{me}" in hint["text"]
    assert hint.get("message_thread_id") == thread
    assert (hint.get("reply_to_message") or {}).get("message_id") == asked["message_id"]
    assert refused(h.emu) == []


# --- 5. a report typed at a registration step -----------------------------------------------


async def test_a_report_typed_when_the_flat_or_phone_is_asked_is_filed(
        telegram: TelegramHarness) -> None:
    """Asked for her flat, Anna wrote what was wrong instead ("Течёт кран…"): she was asked
    for the flat again and the report was gone. Asked for her phone, she did the same: that
    finished the registration, and the report was gone too. A report is filed (the flat is
    still asked for); a flat number or "no thanks" stays a registration answer."""
    h = telegram
    for step in ("flat", "phone"):
        user = RESIDENT if step == "flat" else RESIDENT + 1
        h.emu.add_private_chat(user, "Анна")
        h.emu.user_sends(user, "/start lenina-5")
        if step == "phone":
            h.emu.user_sends(user, "7")
        await run(h)
        h.emu.user_sends(user, "Течёт кран на кухне, вода на полу")
        await run(h)
        assert len(await cases_of(h)) == (1 if step == "flat" else 2)
    h.emu.user_sends(RESIDENT, "12")  # the flat, still asked for
    await run(h)
    async with h.app.wf.sessions() as session:
        flats = {r.apartment for r in (await session.scalars(select(Resident))).all()}
    assert flats == {"12", "7"}
    assert len(await cases_of(h)) == 2
    assert refused(h.emu) == []


# --- 6. a staff member writing as their channel ---------------------------------------------

CHANNEL_BOT: Json = {"id": 136817688, "is_bot": True, "first_name": "Channel",
                     "username": "Channel_Bot"}


async def test_a_staff_answer_sent_as_a_channel_is_answered_not_dropped(
        make_telegram: MakeTelegram) -> None:
    """Ivan had picked his company's channel in Telegram's "send as" and answered a case in
    its topic: Telegram sends that from Channel_Bot, with the channel as the sender, so the
    bot took it for another bot's message and dropped it. The resident got nothing and Ivan
    no word; he is told now, as an anonymous admin is, and nothing is sent or changed."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    thread = card["message_thread_id"]
    chat = h.emu.world(h.emu.token).chat(STAFF_CHAT)
    before = len(h.texts_to(RESIDENT))
    sent = raw_message(h.emu, IVAN, {
        "from": CHANNEL_BOT, "text": "Мастер придёт завтра в 10:00",
        "sender_chat": {"id": -1003000000042, "type": "channel", "title": "ЖЭК-5 Новости"},
        "message_thread_id": thread, "is_topic_message": True,
        "reply_to_message": chat.messages[thread]}, chat_id=STAFF_CHAT)
    await run(h)
    [told] = [m for m in h.emu.sent_messages(STAFF_CHAT)
              if (m.get("reply_to_message") or {}).get("message_id") == sent["message_id"]]
    assert told.get("message_thread_id") == thread and "канал" in told["text"]
    assert len(h.texts_to(RESIDENT)) == before
    async with h.app.wf.sessions() as session:
        answers = (await session.scalars(select(Message).where(
            Message.direction == "out", Message.case_id == case.id))).all()
    assert not any("Мастер придёт" in (m.text or "") for m in answers)
    assert refused(h.emu) == []


async def test_a_linked_channels_post_in_the_staff_group_is_left_alone(
        make_telegram: MakeTelegram) -> None:
    """The staff group is the discussion group of the office's channel: each channel post is
    copied into it automatically (``is_automatic_forward``). That is no staff member
    writing, and the bot says nothing about it."""
    h = await make_telegram(forum=True)
    await open_case(h)
    before = len(h.emu.sent_messages(STAFF_CHAT))
    raw_message(h.emu, IVAN, {
        "from": {"id": 777000, "is_bot": False, "first_name": "Telegram"},
        "text": "Отключение воды 12 декабря с 10 до 14",
        "sender_chat": {"id": -1003000000042, "type": "channel", "title": "ЖЭК-5 Новости"},
        "is_automatic_forward": True}, chat_id=STAFF_CHAT)
    await run(h)
    assert h.emu.sent_messages(STAFF_CHAT)[before:] == []


# --- 7. the "we could not process it" answer ------------------------------------------------


async def test_a_message_that_could_not_be_processed_is_answered_in_the_residents_language(
        telegram: TelegramHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake failed on Anna's message (it went to quarantine, to be retried): she, writing
    from an English Telegram, was told so in Russian, the office's default, although every
    other answer reached her in English."""
    h = telegram

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(h.app.intake, "ingest", broken)
    h.emu.add_private_chat(RESIDENT, "Anna", language_code="en")
    sent = h.emu.user_sends(RESIDENT, "The kitchen tap is leaking, water on the floor")
    await run(h)
    [told] = [m["text"] for m in h.emu.sent_messages(RESIDENT)
              if m["message_id"] > sent["message_id"]]
    assert "could not process" in told


# --- 8. a staff member looking a case up in private ----------------------------------------


async def test_a_staff_member_looking_up_a_case_in_private_gets_its_details(
        telegram: TelegramHarness) -> None:
    """Ivan, pinged about a case in his private chat with the bot, typed "/case A-1001"
    there: he was answered as a resident, «A-1001 is not among yours», as if the case did
    not exist. He gets the case's details and buttons, as in the staff chat; a resident
    asking about someone else's case is still told it is not theirs."""
    h = telegram
    case, _ = await open_case(h)
    asked = h.emu.user_sends(IVAN, f"/case {case.number}")
    await run(h)
    [detail] = [m for m in h.emu.sent_messages(IVAN) if m["message_id"] > asked["message_id"]]
    assert case.number in detail["text"] and "Течёт кран" in detail["text"]
    assert "не найдено" not in detail["text"]
    assert any(f"c:take:{case.id}" == b.get("callback_data")
               for row in detail["reply_markup"]["inline_keyboard"] for b in row)
    h.emu.add_private_chat(RESIDENT + 1, "Борис")
    h.emu.user_sends(RESIDENT + 1, f"/case {case.number}")
    await run(h)
    assert "не найдено среди ваших" in h.texts_to(RESIDENT + 1)[-1]
    assert refused(h.emu) == []


# --- 9. the flat number as people write it --------------------------------------------------


@pytest.mark.parametrize(("typed", "flat"), [
    ("кв. 12", "12"), ("Кв 12а", "12А"), ("квартира 7", "7"), ("№ 45", "45"),
    ("flat 3B", "3B"), ("Apt. 10", "10")])
async def test_a_flat_number_written_with_its_word_is_the_flat(
        telegram: TelegramHarness, typed: str, flat: str) -> None:
    """Asked for her flat, Anna wrote «кв. 12», as one writes an address: she was asked for
    the number again, and again, until she guessed to leave the word out."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    h.emu.user_sends(RESIDENT, typed)
    await run(h)
    assert (await resident_row(h)).apartment == flat
    assert f"Квартира {flat}" in h.texts_to(RESIDENT)[-1]


# --- 10. a poll or a dice in a case's topic -------------------------------------------------

POLL: Json = {"poll": {
    "id": "5550001", "question": "Когда вам удобно?", "total_voter_count": 0,
    "options": [{"persistent_id": "a", "text": "10:00", "voter_count": 0},
                {"persistent_id": "b", "text": "14:00", "voter_count": 0}],
    "is_closed": False, "is_anonymous": True, "type": "regular",
    "allows_multiple_answers": False, "allows_revoting": False, "members_only": False}}


@pytest.mark.parametrize("content", [POLL, {"dice": {"emoji": "🎲", "value": 4}}],
                         ids=["poll", "dice"])
async def test_a_poll_in_a_cases_topic_is_said_not_to_reach_the_resident(
        make_telegram: MakeTelegram, content: Json) -> None:
    """Ivan asked the resident by a poll in the case's topic ("Когда вам удобно? 10:00 /
    14:00"): only text reaches a resident, but a poll got no note, unlike a photo or a
    sticker, and Ivan waited for an answer that could not come."""
    h = await make_telegram(forum=True)
    _, card = await open_case(h)
    thread = card["message_thread_id"]
    chat = h.emu.world(h.emu.token).chat(STAFF_CHAT)
    before = len(h.texts_to(RESIDENT))
    sent = raw_message(h.emu, IVAN, {**content, "message_thread_id": thread,
                                     "is_topic_message": True,
                                     "reply_to_message": chat.messages[thread]},
                       chat_id=STAFF_CHAT)
    await run(h)
    [note] = [m for m in h.emu.sent_messages(STAFF_CHAT)
              if (m.get("reply_to_message") or {}).get("message_id") == sent["message_id"]]
    assert "не отправлено" in note["text"] and note.get("message_thread_id") == thread
    assert len(h.texts_to(RESIDENT)) == before


# --- 11. a forward given as the form's description ------------------------------------------


async def test_a_neighbours_message_forwarded_as_the_forms_description_says_whose_it_is(
        telegram: TelegramHarness) -> None:
    """Asked to describe the problem, Anna forwarded her neighbour's message ("У меня с
    потолка капает, кв. 11, это от вас?"). Written freely, a forward is marked for staff
    with whose words it carries; in the form it reached the card as Anna's own words, and
    staff went to the wrong flat."""
    h = telegram
    register(h.emu)
    await run(h)
    await form_to_step(h, describe=False)
    content, label = FORWARDS["user"]
    raw_message(h.emu, RESIDENT, content)
    await run(h)
    await form_done_and_send(h)
    [case] = await cases_of(h)
    [card] = [m["text"] for m in h.emu.sent_messages(STAFF_CHAT) if case.number in m["text"]
              and "потолка" in m["text"]]
    assert label in card
    assert case.category == "plumbing"


# --- 12. a closed topic the bot may no longer reopen ----------------------------------------


async def test_the_emulator_keeps_a_closed_topic_shut_to_a_bot_without_topic_rights(
        make_telegram: MakeTelegram) -> None:
    """Telegram refuses a post in a closed topic to anyone who may not manage topics, a bot
    too; the emulator took it."""
    h = await make_telegram(forum=True)
    _, card = await open_case(h)
    thread = card["message_thread_id"]
    h.emu.user_toggles_topic(MARIA, STAFF_CHAT, thread)
    h.emu.world(h.emu.token).chat(STAFF_CHAT).bot_status = "member"
    status, body = await h.emu.execute(h.emu.token, "sendMessage", {
        "chat_id": STAFF_CHAT, "message_thread_id": thread, "text": "тест"})
    assert status == 400 and "TOPIC_CLOSED" in body["description"]


async def test_a_residents_words_reach_staff_when_their_topic_is_closed_to_the_bot(
        make_telegram: MakeTelegram) -> None:
    """A dispatcher closed a case's topic by hand, and an admin had since taken the bot's
    right to manage topics: the bot could not reopen it, Telegram refused its post there
    (TOPIC_CLOSED), and the resident's "вода уже у соседей снизу" failed for good; staff
    never saw it. It comes in the general topic, with the case's number, and staff answer
    it by replying."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    thread = card["message_thread_id"]
    h.emu.user_toggles_topic(MARIA, STAFF_CHAT, thread)
    await run(h)
    h.emu.world(h.emu.token).chat(STAFF_CHAT).bot_status = "member"
    h.emu.user_sends(RESIDENT, "Вода уже у соседей снизу")
    await run(h)
    [post] = [m for m in h.emu.sent_messages(STAFF_CHAT) if "соседей снизу" in m.get("text", "")]
    assert case.number in post["text"] and not post.get("message_thread_id")
    h.emu.user_sends(IVAN, "Мастер уже идёт", chat_id=STAFF_CHAT,
                     reply_to_message_id=post["message_id"])
    await run(h)
    assert any("Мастер уже идёт" in t for t in h.texts_to(RESIDENT))
    assert refused(h.emu, allowed=("not enough rights", "TOPIC_CLOSED")) == []


# --- 13. a manager answering an escalation in the managers' chat ----------------------------


async def test_a_managers_reply_to_an_escalation_is_a_note_not_an_answer_to_the_resident(
        make_telegram: MakeTelegram) -> None:
    """Maria escalated a case; Anna, the manager, answered the ping in the managers' chat:
    «Иван, почему до сих пор не сделано?». That went to the resident as the office's
    answer. As a reply to a ping in private, it is a note on the case now, and Anna is told
    the resident did not get it and where to answer."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    await press(h, MARIA, card, CaseCb(a="escalate", id=case.id).pack())
    await run(h)
    [ping] = [m for m in h.emu.sent_messages(MANAGERS_CHAT) if case.number in m["text"]]
    before = len(h.texts_to(RESIDENT))
    said = h.emu.user_sends(ANNA, "Иван, почему до сих пор не сделано?", chat_id=MANAGERS_CHAT,
                            reply_to_message_id=ping["message_id"])
    await run(h)
    assert h.texts_to(RESIDENT)[before:] == []
    [told] = [m for m in h.emu.sent_messages(MANAGERS_CHAT)
              if (m.get("reply_to_message") or {}).get("message_id") == said["message_id"]]
    assert "не получит" in told["text"]
    async with h.app.wf.sessions() as session:
        notes = (await session.scalars(select(Event.note).where(
            Event.case_id == case.id))).all()
    assert "Иван, почему до сих пор не сделано?" in notes
    assert refused(h.emu) == []


async def test_a_command_in_a_closed_house_topic_is_answered_in_the_general_one(
        telegram: TelegramHarness) -> None:
    """An admin of the house chat typed /help@bot in "Объявления", a topic closed to
    members: the bot, a member there, may not post in it, Telegram refused the answer
    (TOPIC_CLOSED) and it was lost. It comes in the general topic instead."""
    h = telegram
    h.emu.add_supergroup(HOUSE_CHAT, "Ленина 5 — соседи", bot_status="member", is_forum=True)
    thread = house_topic(h, "Объявления")
    h.emu.world(h.emu.token).chat(HOUSE_CHAT).topics[thread].closed = True
    me = (await h.channel.bot.me()).username if h.channel else None
    h.emu.user_sends(RESIDENT, f"/help@{me}", chat_id=HOUSE_CHAT, message_thread_id=thread)
    await run(h)
    [hint] = h.emu.sent_messages(HOUSE_CHAT)
    assert f"t.me/{me}" in hint["text"] and not hint.get("message_thread_id")
    assert refused(h.emu, allowed=("TOPIC_CLOSED",)) == []
