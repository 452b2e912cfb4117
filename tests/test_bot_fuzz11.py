"""Round eleven: what residents do in a real Telegram chat that a strict Bot API server still
showed up.

Each test drives the real bot through the tests' strict emulator and asserts what a resident,
a staff member or a manager would notice. Sections:

1. a photo (or an album) sent first and the words typed a moment later, as most people write
   in a chat: the photo opened a case of «прочее, обычная» for manual triage, acknowledged
   at once, and the words only joined it, so "Сильно пахнет газом" was due in a week, went to
   the wrong department and told the resident nothing of what to do now. The words now give
   the case its labels, deadlines and card, and the resident reads the case as it stands
   (once, when the first acknowledgement had not gone yet);
2. a location or a place on the map sent where registration asks for the flat: it ended the
   step, was filed as a stray message, and the flat was never asked again;
3. a checklist (a Premium user's list of what is broken) was "a kind of message the bot does
   not take", and the list was lost; one staff post in a case's topic got no word at all;
4. a resident who blocked the bot and unblocked it: nobody told them what became of their
   case meanwhile (resolved, the staff answer lost), and staff, told of the block, never
   heard they were back;
5. what already held, pinned: a long report the Telegram client split in two is one case,
   and business-account updates are never asked for, so a manager's own chats that they
   connect the bot to are never filed as residents' reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from bot.callbacks import CaseCb
from tests.peers.telegram import STAFF_CHAT, TelegramHarness
from tests.test_bot_fuzz import (
    IVAN,
    RESIDENT,
    cases_of,
    open_case,
    press,
    raw_message,
    refused,
    register,
    run,
)
from tests.test_bot_strict import PNG
from workflow.models import Identity, OutboxItem

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]

GAS = "Сильно пахнет газом в подъезде на 3 этаже"


def card_of(h: TelegramHarness, number: str) -> str:
    """The case's card as staff see it now (the emulator keeps edits in place)."""
    return next(m["text"] for m in h.emu.sent_messages(STAFF_CHAT)
                if number in (m.get("text") or "") and m.get("reply_markup"))


def about(h: TelegramHarness, number: str) -> list[str]:
    return [t for t in h.texts_to(RESIDENT) if number in t]


async def registered(h: TelegramHarness) -> int:
    """Register the resident; how many messages they have read so far."""
    register(h.emu)
    await run(h)
    return len(h.texts_to(RESIDENT))


# --- 1. files first, words after ------------------------------------------------------------


async def test_a_gas_smell_typed_after_its_photo_is_an_emergency(
        telegram: TelegramHarness) -> None:
    """The photo and the words come a second apart, before the outbox has said anything: one
    case, an emergency of its own department, one acknowledgement with what to do now."""
    h = telegram
    await registered(h)
    h.emu.user_sends(RESIDENT, photo=PNG)
    h.emu.user_sends(RESIDENT, GAS)
    await run(h)
    [case] = await cases_of(h)
    assert (case.urgency, case.category, case.text) == ("emergency", "safety", GAS)
    assert not case.manual_triage
    [ack] = about(h, case.number)
    assert "зарегистрировано" in ack and "авария" in ack and "газом" in ack.split(GAS)[0]
    card = card_of(h, case.number)
    assert "АВАРИЯ" in card and GAS in card
    assert [m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("photo")]
    assert not refused(h.emu)


async def test_an_album_acknowledged_before_its_words_is_corrected_for_resident_and_staff(
        telegram: TelegramHarness) -> None:
    """Three photos of a stain, acknowledged as «прочее», then "Протекает потолок в ванной":
    the resident reads the case's new topic and dates, and the card staff already have shows
    them too (it stayed «прочее» above the words)."""
    h = telegram
    await registered(h)
    for _ in range(3):
        h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="stain")
    await run(h)
    [case] = await cases_of(h)
    assert "прочее" in card_of(h, case.number)
    h.emu.user_sends(RESIDENT, "Протекает потолок в ванной, с верхнего этажа")
    await run(h)
    [case] = await cases_of(h)
    assert case.category == "plumbing"
    first, revised = about(h, case.number)
    assert "прочее" in first and "уточнено" in revised and "водоснабжение" in revised
    card = card_of(h, case.number)
    assert "водоснабжение" in card and "прочее" not in card.split("\n")[0]
    assert len([m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("photo")]) == 3
    assert not refused(h.emu)


async def test_words_that_report_nothing_leave_a_photos_case_as_it_is(
        telegram: TelegramHarness) -> None:
    """"Вот" under a photo says nothing to classify: the case stays for manual triage and the
    resident is not acknowledged twice."""
    h = telegram
    await registered(h)
    h.emu.user_sends(RESIDENT, photo=PNG)
    await run(h)
    h.emu.user_sends(RESIDENT, "Вот")
    await run(h)
    [case] = await cases_of(h)
    assert case.manual_triage and case.category == "other"
    assert len(about(h, case.number)) == 1


# --- 2. a place for the flat ----------------------------------------------------------------


async def test_a_location_or_a_place_sent_for_the_flat_asks_for_the_flat_again(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    await run(h)
    h.emu.user_sends(RESIDENT, location=(55.7512, 37.6184))
    await run(h)
    raw_message(h.emu, RESIDENT, {
        "location": {"latitude": 55.7512, "longitude": 37.6184},
        "venue": {"location": {"latitude": 55.7512, "longitude": 37.6184},
                  "title": "Дом", "address": "ул. Ленина, 5"}})
    await run(h)
    asked = h.texts_to(RESIDENT)[-2:]
    assert all("Ленина, 5" in t and "номер квартиры" in t for t in asked)
    h.emu.user_sends(RESIDENT, "7")
    await run(h)
    assert "Квартира 7" in h.texts_to(RESIDENT)[-1]
    assert await cases_of(h) == []
    assert not h.texts_to(STAFF_CHAT)  # no stray note of coordinates
    assert not refused(h.emu)


# --- 3. checklists --------------------------------------------------------------------------


async def test_a_checklist_is_a_report_with_its_tasks(telegram: TelegramHarness) -> None:
    h = telegram
    before = await registered(h)
    raw_message(h.emu, RESIDENT, {"checklist": {
        "title": "Что сломано в подъезде",
        "tasks": [{"id": 1, "text": "Не горит свет на 3 этаже"},
                  {"id": 2, "text": "Сломан доводчик входной двери"}]}})
    await run(h)
    [case] = await cases_of(h)
    assert "Не горит свет на 3 этаже" in case.text and "доводчик" in case.text
    assert "доводчик" in card_of(h, case.number)
    assert len(h.texts_to(RESIDENT)) == before + 1 and case.number in h.texts_to(RESIDENT)[-1]
    assert not refused(h.emu)


async def test_a_checklist_posted_in_a_cases_topic_is_said_not_to_reach_the_resident(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _, card = await open_case(h)
    before = len(h.texts_to(STAFF_CHAT))
    raw_message(h.emu, IVAN, {"checklist": {"title": "Что взять мастеру",
                                            "tasks": [{"id": 1, "text": "ключ на 24"}]},
                              "message_thread_id": card["message_thread_id"],
                              "is_topic_message": True}, chat_id=STAFF_CHAT)
    await run(h)
    [note] = h.texts_to(STAFF_CHAT)[before:]
    assert "не отправлено" in note
    assert not any("ключ" in t for t in h.texts_to(RESIDENT))


# --- 4. blocked, then unblocked -------------------------------------------------------------


async def test_a_resident_back_after_blocking_the_bot_hears_where_their_case_stands(
        telegram: TelegramHarness) -> None:
    """Anna blocked the bot; meanwhile her case was resolved and Ivan answered. When she
    unblocks it, she is shown her case resolved (and how to see it); nothing of it had
    reached her."""
    h = telegram
    case, card = await open_case(h)
    h.emu.block_user(RESIDENT)
    await run(h)
    for action in ("take", "resolve"):
        await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                    CaseCb(a=action, id=case.id).pack())
    before = len(h.texts_to(RESIDENT))
    h.emu.unblock_user(RESIDENT)
    await run(h)
    [back] = h.texts_to(RESIDENT)[before:]
    assert "заблокирован" in back and case.number in back and "решено" in back
    async with h.app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == str(RESIDENT)))
    assert ident is not None and not ident.unreachable
    assert not refused(h.emu, allowed=("blocked",))


async def test_staff_hear_that_a_resident_who_blocked_the_bot_is_back(
        telegram: TelegramHarness) -> None:
    h = telegram
    await open_case(h)
    h.emu.block_user(RESIDENT)
    await run(h)
    h.emu.unblock_user(RESIDENT)
    await run(h)
    blocked, back = [t for t in h.texts_to(STAFF_CHAT) if "заблокировал" in t
                     or "снова на связи" in t]
    assert "заблокировал бота" in blocked and "снова на связи" in back
    # and nothing is said twice when the same news comes again
    h.emu.unblock_user(RESIDENT)
    await run(h)
    assert len([t for t in h.texts_to(STAFF_CHAT) if "снова на связи" in t]) == 1


async def test_a_resident_who_never_blocked_the_bot_is_told_nothing_on_a_member_update(
        telegram: TelegramHarness) -> None:
    """Telegram may send "member" for a chat that was never blocked (the first /start): it
    is no return, and says nothing to anyone."""
    h = telegram
    before = await registered(h)
    h.emu.block_user(RESIDENT, notify=False)
    h.emu.unblock_user(RESIDENT)
    await run(h)
    assert len(h.texts_to(RESIDENT)) == before and not h.texts_to(STAFF_CHAT)


# --- 5. pinned ------------------------------------------------------------------------------


async def test_a_long_report_the_client_split_in_two_is_one_case(
        telegram: TelegramHarness) -> None:
    """Telegram's apps send a text over 4096 characters as two messages a moment apart."""
    h = telegram
    await registered(h)
    whole = ("Протекает потолок в ванной, вода капает на стиральную машину. " * 80)
    h.emu.user_sends(RESIDENT, whole[:4096])
    h.emu.user_sends(RESIDENT, whole[4096:])
    await run(h)
    [case] = await cases_of(h)
    assert len(about(h, case.number)) == 1
    async with h.app.wf.sessions() as session:
        staff_posts = (await session.scalars(select(OutboxItem).where(
            OutboxItem.case_id == case.id, OutboxItem.channel == "staff"))).all()
    assert {p.purpose for p in staff_posts} == {"staff_new_case", "staff_resident_message"}
    assert not refused(h.emu)


async def test_business_updates_are_never_asked_for(telegram: TelegramHarness) -> None:
    h = telegram
    assert h.channel is not None
    asked_for = set(h.channel.allowed_updates)
    assert {"message", "edited_message", "callback_query", "my_chat_member",
            "message_reaction"} <= asked_for
    assert not asked_for & {"business_message", "edited_business_message",
                            "business_connection", "channel_post"}
