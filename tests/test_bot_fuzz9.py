"""Round nine: what a housing office meets in Telegram that a strict Bot API server shows up.

Each test drives the real bot through the tests' strict emulator and asserts what a resident,
a staff member or a manager would notice. Sections: the bot removed from, restricted in, and
added back to the staff chat (and the managers' chat); the command menu per scope and
language, and after the staff group's upgrade; a resident editing the answer to "need more
info"; and further situations (listed at their section).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import CaseCb
from tests.peers.telegram import MANAGERS_CHAT, STAFF_CHAT, STAFF_IDS, TelegramHarness
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
from tests.test_bot_strict import PNG
from workflow.health import read_health
from workflow.models import Case, Event, Message, OutboxItem

RESIDENT = 5001
NEIGHBOUR = 5002
ANNA = STAFF_IDS["anna"]  # the manager

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


async def outbox(h: TelegramHarness) -> list[OutboxItem]:
    async with h.app.wf.sessions() as session:
        return list((await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def events(h: TelegramHarness, case: Case, action: str) -> list[Event]:
    async with h.app.wf.sessions() as session:
        return list((await session.scalars(select(Event).where(
            Event.case_id == case.id, Event.action == action))).all())


def cards_in(h: TelegramHarness, chat_id: int, number: str) -> list[Json]:
    return [m for m in h.emu.sent_messages(chat_id)
            if number in (m.get("text") or "") and m.get("reply_markup")]


async def health_of(h: TelegramHarness, chat_id: int) -> Any:
    return next((r for r in await read_health(h.app.wf.sessions)
                 if r.channel == f"telegram chat {chat_id}"), None)


# --- the bot removed from, restricted in, added back to the staff chat -------------------------


async def test_a_bot_removed_from_the_staff_chat_is_told_at_once_and_its_cards_follow_it_back(
        make_telegram: MakeTelegram) -> None:
    """An admin tidying the group removes the bot. Telegram says so at once (my_chat_member),
    yet the office learnt of it only when a card was refused, and the cards refused while the
    bot was out were given up for good: re-added, the bot showed staff nothing of the night's
    cases. Now the managers hear of it at once, in their chat and directly, `domovoy status`
    names the chat, and once the bot is back every refused card is posted, in order, once."""
    h = await make_telegram()
    h.emu.set_bot_status(STAFF_CHAT, "kicked", by=IVAN)
    await run(h)
    told = [t for t in h.texts_to(MANAGERS_CHAT) if "чат сотрудников" in t]
    assert len(told) == 1 and str(STAFF_CHAT) in told[0] and "Ivan" in told[0], told
    assert len([t for t in h.texts_to(ANNA) if "чат сотрудников" in t]) == 1
    health = await health_of(h, STAFF_CHAT)
    assert health is not None and health.last_error and "Ivan" in health.last_error

    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    h.emu.add_private_chat(NEIGHBOUR, "Пётр")
    h.emu.user_sends(NEIGHBOUR, "Не работает домофон в 3 подъезде")
    await run(h)
    assert len([t for t in h.texts_to(MANAGERS_CHAT) if "чат сотрудников" in t]) == 1
    assert "pending" not in {i.state for i in await outbox(h)}  # refused once, no loop

    h.emu.set_bot_status(STAFF_CHAT, "administrator", by=IVAN)
    await run(h)
    await h.deliver()
    first, second = await cases_of(h)
    assert len(cards_in(h, STAFF_CHAT, first.number)) == 1
    assert len(cards_in(h, STAFF_CHAT, second.number)) == 1
    posted = [m["message_id"] for m in h.emu.sent_messages(STAFF_CHAT)
              if first.number in (m.get("text") or "") or second.number in (m.get("text") or "")]
    assert posted == sorted(posted)
    back = [t for t in h.texts_to(STAFF_CHAT) if "снова в этом чате" in t]
    assert len(back) == 1 and "(2)" in back[0], back
    assert len([t for t in h.texts_to(MANAGERS_CHAT) if "снова может писать" in t]) == 1
    health = await health_of(h, STAFF_CHAT)
    assert health.last_ok_at is not None and health.last_ok_at >= health.last_error_at
    # staff can work the card the bot came back with
    [card] = cards_in(h, STAFF_CHAT, first.number)
    await press(h, IVAN, card, CaseCb(a="take", id=first.id).pack())
    assert (await cases_of(h))[0].stage == "investigating"
    assert not refused(h.emu, allowed=("kicked",))


async def test_a_bot_restricted_in_the_staff_chat_is_told_at_once_and_posts_as_soon_as_freed(
        make_telegram: MakeTelegram) -> None:
    """An admin restricts the bot (it may send nothing). The managers hear at once that
    cards wait; when the right is given back, the waiting card is posted then, not after the
    outbox's growing backoff (hours, by the fourth refusal)."""
    h = await make_telegram()
    h.emu.set_bot_status(STAFF_CHAT, "restricted", by=IVAN)
    await run(h)
    told = [t for t in h.texts_to(MANAGERS_CHAT) if "чат сотрудников" in t]
    assert len(told) == 1 and "ждут" in told[0], told
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    [case] = await cases_of(h)
    [card_item] = [i for i in await outbox(h) if i.purpose == "staff_new_case"]
    assert card_item.state == "pending" and card_item.attempts >= 1
    h.emu.set_bot_status(STAFF_CHAT, "administrator", by=IVAN)
    await run(h)
    await h.deliver()
    assert len(cards_in(h, STAFF_CHAT, case.number)) == 1
    assert len([t for t in h.texts_to(MANAGERS_CHAT) if "чат сотрудников" in t]) == 1


async def test_a_bot_removed_from_the_managers_chat_tells_staff_and_escalations_follow_it_back(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram()
    case, card = await open_case(h)
    h.emu.set_bot_status(MANAGERS_CHAT, "left", by=ANNA)
    await run(h)
    told = [t for t in h.texts_to(STAFF_CHAT) if "чат руководства" in t]
    assert len(told) == 1 and str(MANAGERS_CHAT) in told[0], told
    await press(h, STAFF_IDS["maria"], card, CaseCb(a="escalate", id=case.id).pack())
    await run(h)
    assert not any(case.number in t for t in h.texts_to(MANAGERS_CHAT))
    h.emu.set_bot_status(MANAGERS_CHAT, "administrator", by=ANNA)
    await run(h)
    await h.deliver()
    assert any(case.number in t for t in h.texts_to(MANAGERS_CHAT))
    assert len([t for t in h.texts_to(STAFF_CHAT) if "снова может писать" in t]) == 1


async def test_the_bot_added_to_the_staff_chat_for_the_first_time_only_sets_its_menu(
        make_telegram: MakeTelegram) -> None:
    """Nothing was lost: being made an admin after being a member posts nothing."""
    h = await make_telegram()
    before = len(h.emu.sent_messages(STAFF_CHAT))
    h.emu.set_bot_status(STAFF_CHAT, "member", by=IVAN)
    await run(h)
    h.emu.set_bot_status(STAFF_CHAT, "administrator", by=IVAN)
    await run(h)
    assert len(h.emu.sent_messages(STAFF_CHAT)) == before
    assert not refused(h.emu)


# --- the command menu --------------------------------------------------------------------------


def menu(h: TelegramHarness, scope: Json, language: str = "") -> list[str]:
    import json
    key = json.dumps([scope, language], sort_keys=True)
    return [c["command"] for c in h.emu.my_commands.get(key, [])]


async def test_the_menu_is_set_for_each_language_and_each_staff_chat(
        telegram: TelegramHarness) -> None:
    h = telegram
    private = {"type": "all_private_chats"}
    assert "cases" in menu(h, private)
    for lang in ("ru", "en"):
        assert "cases" in menu(h, private, lang), lang
    ru = h.emu.my_commands[next(k for k in h.emu.my_commands if '"ru"' in k)]
    assert any("обращ" in c["description"].lower() for c in ru)
    for chat in (STAFF_CHAT, MANAGERS_CHAT):
        assert "open" in menu(h, {"type": "chat", "chat_id": chat}), chat
    assert not refused(h.emu)


async def test_a_staff_group_upgraded_to_a_supergroup_gets_the_staff_menu_at_its_new_id(
        telegram: TelegramHarness) -> None:
    """The staff menu belongs to the chat's id: after Telegram upgraded the group, staff in
    the new supergroup saw no commands until the bot was restarted."""
    h = telegram
    new_id = STAFF_CHAT - 7
    h.emu.upgrade_group(STAFF_CHAT, new_id)
    await run(h)
    assert "open" in menu(h, {"type": "chat", "chat_id": new_id})


async def test_the_staff_menu_comes_back_with_the_bot(make_telegram: MakeTelegram) -> None:
    """Removed before a restart, the staff chat's menu could not be set (Telegram refuses a
    chat the bot is not in); added back, staff had no commands until the next restart."""
    h = await make_telegram()
    h.emu.set_bot_status(STAFF_CHAT, "kicked", notify=False)
    await h.stop()
    h.emu.my_commands.clear()
    await h.start()
    assert menu(h, {"type": "chat", "chat_id": STAFF_CHAT}) == []
    h.emu.set_bot_status(STAFF_CHAT, "administrator", by=IVAN)
    await run(h)
    assert "open" in menu(h, {"type": "chat", "chat_id": STAFF_CHAT})


# --- a resident edits the answer to "need more info" -------------------------------------------


async def asked(h: TelegramHarness) -> tuple[Case, Json, Json]:
    """A case whose staff asked the resident a question; returns the case, its card, and the
    question as the resident got it."""
    case, card = await open_case(h)
    await press(h, IVAN, card, CaseCb(a="need_info", id=case.id).pack())
    h.emu.user_sends(IVAN, "На каком этаже квартира?", chat_id=STAFF_CHAT,
                     reply_to_message_id=card["message_id"])
    await run(h)
    question = next(m for m in h.emu.sent_messages(RESIDENT)
                    if "На каком этаже" in (m.get("text") or ""))
    return case, card, question


@pytest.mark.parametrize("as_reply", [True, False], ids=["reply", "typed"])
async def test_an_edited_answer_to_the_question_reaches_the_case_once_marked_as_a_correction(
        telegram: TelegramHarness, as_reply: bool) -> None:
    """The resident answers "3 этаж", then mends it to "5 этаж, кв. 12". The mended answer
    came to staff like one more message under the first, and nobody could tell which stood;
    a mere change of formatting (a word made bold) came again as news. Now the correction is
    marked as one, on the same case, opening no other, and a formatting change adds nothing."""
    h = telegram
    case, _, question = await asked(h)
    answer = h.emu.user_sends(RESIDENT, "3 этаж", **(
        {"reply_to_message_id": question["message_id"]} if as_reply else {}))
    await run(h)
    h.emu.user_sends(RESIDENT, "3 этаж", edit_of=answer["message_id"],
                     entities=[{"type": "bold", "offset": 0, "length": 1}])
    await run(h)
    assert len([t for t in h.texts_to(STAFF_CHAT) if "3 этаж" in t]) == 1
    h.emu.user_sends(RESIDENT, "5 этаж, кв. 12", edit_of=answer["message_id"])
    await run(h)
    h.emu.user_sends(RESIDENT, "5 этаж, кв. 12", edit_of=answer["message_id"],
                     entities=[{"type": "italic", "offset": 0, "length": 6}])
    await run(h)
    assert len(await cases_of(h)) == 1
    corrected = [t for t in h.texts_to(STAFF_CHAT) if "5 этаж, кв. 12" in t]
    assert len(corrected) == 1 and "исправил" in corrected[0], corrected
    assert (await cases_of(h))[0].paused_at is None  # the answer gave the clock back
    async with h.app.wf.sessions() as session:
        logged = (await session.scalars(select(Message.text).where(
            Message.case_id == case.id, Message.direction == "in"))).all()
    assert any("5 этаж" in (t or "") for t in logged)


# --- further situations --------------------------------------------------------------------
# A sticker as the answer to staff's question (and as thanks under "resolved"); a reply to a
# post of the house chat or a channel ("reply in another chat", with a quote); a resident's
# album sent while the bot was out of the staff chat; a location and a contact card as the
# answer to a question; a card's button pressed in the staff chat after the bot came back;
# a resident with no username and a right-to-left name.


async def test_a_sticker_answering_the_question_reaches_staff_and_gives_the_clock_back(
        telegram: TelegramHarness) -> None:
    """"Can the plumber come at 10?" answered with a 👍 sticker: it was refused as a message
    the bot does not take, the case stayed paused, and staff never heard."""
    h = telegram
    _, _, question = await asked(h)
    raw_message(h.emu, RESIDENT, {"sticker": file_obj(
        "thumbs", type="regular", width=512, height=512, is_animated=False, is_video=False,
        emoji="👍"), "reply_to_message": question})
    await run(h)
    assert any("👍" in t for t in h.texts_to(STAFF_CHAT))
    [only] = await cases_of(h)
    assert only.paused_at is None
    assert not any("не принимает" in t for t in h.texts_to(RESIDENT))


async def test_a_sticker_under_resolved_is_no_reopening(telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    raw_message(h.emu, RESIDENT, {"sticker": file_obj(
        "thanks", type="regular", width=512, height=512, is_animated=False, is_video=False,
        emoji="🙏"), "reply_to_message": resolved})
    await run(h)
    assert (await cases_of(h))[0].stage == "resolved"


async def test_a_reply_to_a_house_chat_post_tells_staff_what_it_answers(
        telegram: TelegramHarness) -> None:
    """A resident answers, in the bot's chat, a neighbour's post in the house chat ("reply in
    another chat", quoting it): staff got "Опять то же самое" and nothing of what it was."""
    h = telegram
    register(h.emu, RESIDENT)
    await run(h)
    raw_message(h.emu, RESIDENT, {
        "text": "Опять то же самое, второй день подряд",
        "external_reply": {
            "origin": {"type": "user", "date": 1_700_000_000,
                       "sender_user": {"id": 6001, "is_bot": False, "first_name": "Пётр"}},
            "chat": {"id": HOUSE_CHAT, "type": "supergroup", "title": "Ленина 5 — соседи"},
            "message_id": 77},
        "quote": {"text": "В третьем подъезде опять не работает лифт", "position": 0}})
    await run(h)
    [case] = await cases_of(h)
    assert "не работает лифт" in (case.text or "") and "Ленина 5 — соседи" in (case.text or "")
    assert case.category == "elevator", case.category


async def test_an_album_sent_while_the_bot_was_out_of_the_staff_chat_follows_it_back(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    h.emu.set_bot_status(STAFF_CHAT, "kicked", by=IVAN)
    await run(h)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Протекает потолок в ванной",
                     media_group_id="album-9")
    h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="album-9")
    await run(h)
    h.emu.set_bot_status(STAFF_CHAT, "administrator", by=IVAN)
    await run(h)
    await h.deliver()
    [case] = await cases_of(h)
    [card] = cards_in(h, STAFF_CHAT, case.number)
    photos = [m for m in h.emu.sent_messages(STAFF_CHAT, thread_id=card["message_thread_id"])
              if m.get("photo")]
    assert len(photos) == 2
    assert not refused(h.emu, allowed=("kicked",))


@pytest.mark.parametrize("kind", ["location", "contact"])
async def test_a_location_or_a_contact_answering_the_question_reaches_the_case(
        telegram: TelegramHarness, kind: str) -> None:
    """"Where exactly is the leak?" answered with a pin, or "whom do we call?" with a
    neighbour's contact card: both join the case and give the clock back."""
    h = telegram
    _, _, question = await asked(h)
    content: Json = ({"location": {"latitude": 55.75, "longitude": 37.61}} if kind == "location"
                     else {"contact": {"phone_number": "+79001234567", "first_name": "Сосед",
                                       "user_id": 6002}})
    raw_message(h.emu, RESIDENT, {**content, "reply_to_message": question})
    await run(h)
    [only] = await cases_of(h)
    assert only.paused_at is None
    assert any(("55.75" if kind == "location" else "+79001234567") in t
               for t in h.texts_to(STAFF_CHAT))


async def test_a_resident_with_no_username_and_a_right_to_left_name_is_greeted_and_carded(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "דוד")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    [case] = await cases_of(h)
    assert any("דוד" in t for t in h.texts_to(RESIDENT))
    assert any("דוד" in t for t in h.texts_to(STAFF_CHAT) if case.number in t)
    assert not refused(h.emu)
