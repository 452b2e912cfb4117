"""Round seven: what a strict Bot API server, a restart and people's habits still did to
residents and staff.

Each test drives the real bot through the tests' strict emulator and asserts what a resident
or staff member would notice: a case's topic that shows its stage and category although
Telegram held the group back with 429, an answer that arrives once although the bot stopped
while sending it, an edit whose original never reached the bot, answers that follow a staff
group Telegram moved, buttons and ticks that change although the bot stopped during a flood
wait; and commands as people type them (a capitalised building, a case number with a full
stop, a photo captioned "/new"), and a staff member answering the bot's ping in private.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from bot.callbacks import CaseCb, ReclassCb
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, StrictBotAPIEmulator, TelegramHarness
from tests.test_bot_fuzz import (
    cases_of,
    open_case,
    press,
    raw_message,
    refused,
    register,
    resolve,
    run,
)
from tests.test_bot_fuzz6 import buttons, delivered, rated_while_held_back
from tests.test_bot_strict import PNG
from workflow.models import Case, Event

RESIDENT = 5001
IVAN = STAFF_IDS["ivan"]
INJECTED = "retry after"  # the 429s a test injects on purpose
NEW_STAFF_CHAT = -1009000000071  # the staff group's id after Telegram upgraded it

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


def topic(h: TelegramHarness, thread_id: int) -> Json:
    [found] = [t for t in h.emu.topics(STAFF_CHAT) if t["message_thread_id"] == thread_id]
    return found


# --- 1. forum topics wait out a 429 ----------------------------------------------------------


async def test_a_topic_renamed_during_a_flood_wait_shows_the_new_category(
        make_telegram: MakeTelegram) -> None:
    """A dispatcher reclassified a leak as electrical while Telegram held the group back:
    the topic's rename was tried once, refused, and the list of topics went on showing
    "Сантехника" for an electrician's case."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    thread = card["message_thread_id"]
    was = topic(h, thread)["name"]
    h.emu.fail_next("editForumTopic", chat_id=STAFF_CHAT, retry_after=2)
    await press(h, IVAN, card, ReclassCb(id=case.id, axis="category", v="electrical").pack())
    await h.until(lambda: topic(h, thread)["name"] != was, timeout=8,
                  what="the topic to be renamed")
    assert case.number in topic(h, thread)["name"]
    assert refused(h.emu, allowed=(INJECTED,)) == []
    assert h.emu.flood_error_count == 0, h.emu.flood_hits  # the pause was kept


async def closed_while_held_back(h: TelegramHarness, retry_after: int) -> tuple[Case, Json]:
    """A resolved case closed from its card while closing its topic meets a 429 of
    ``retry_after`` s: the case and its card."""
    case, card = await open_case(h)
    await resolve(h, case, card)
    h.emu.fail_next("closeForumTopic", chat_id=STAFF_CHAT, retry_after=retry_after)
    await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                CaseCb(a="close", id=case.id).pack())
    return case, card


async def test_a_topic_closed_during_a_flood_wait_is_closed(make_telegram: MakeTelegram) -> None:
    """A case was closed while Telegram held the group back: closing its topic was tried once
    and the topic stayed open among the live ones, as if the case were not done."""
    h = await make_telegram(forum=True)
    _, card = await closed_while_held_back(h, retry_after=2)
    await h.until(lambda: topic(h, card["message_thread_id"])["closed"], timeout=8,
                  what="the closed case's topic to close")
    assert refused(h.emu, allowed=(INJECTED,)) == []
    assert h.emu.flood_error_count == 0, h.emu.flood_hits  # the pause was kept


async def test_a_topic_reopened_during_a_flood_wait_is_open(make_telegram: MakeTelegram) -> None:
    """The same when a closed case is reopened: the topic stayed closed, and staff who are
    not admins could not write in it."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    await resolve(h, case, card)
    await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                CaseCb(a="close", id=case.id).pack())
    await h.until(lambda: topic(h, card["message_thread_id"])["closed"], what="closed topic")
    h.emu.fail_next("reopenForumTopic", chat_id=STAFF_CHAT, retry_after=2)
    await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                CaseCb(a="reopen", id=case.id).pack())
    await h.until(lambda: not topic(h, card["message_thread_id"])["closed"], timeout=8,
                  what="the reopened case's topic to reopen")
    assert refused(h.emu, allowed=(INJECTED,)) == []
    assert h.emu.flood_error_count == 0, h.emu.flood_hits  # the pause was kept


async def test_a_topic_for_a_new_card_during_a_flood_wait_is_made_once(
        make_telegram: MakeTelegram) -> None:
    """Creating a new case's topic met 429: the card comes in a topic of its own once the
    pause is over, and no second, empty topic is left behind."""
    h = await make_telegram(forum=True)
    h.emu.fail_next("createForumTopic", chat_id=STAFF_CHAT, retry_after=2)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    [case] = await cases_of(h)

    def card() -> list[Json]:
        return [m for m in h.emu.sent_messages(STAFF_CHAT)
                if case.number in (m.get("text") or "") and m.get("reply_markup")]

    await delivered(h, card, what="the card")
    assert card()[0].get("message_thread_id") is not None
    assert len(h.emu.topics(STAFF_CHAT)) == 1
    assert refused(h.emu, allowed=(INJECTED,)) == []


async def test_a_topic_closed_while_the_bot_stops_is_closed_after_the_restart(
        make_telegram: MakeTelegram) -> None:
    """Closing the topic waited out a long 429 and the bot was restarted meanwhile: the close
    was forgotten with the process."""
    h = await make_telegram(forum=True)
    case, card = await closed_while_held_back(h, retry_after=4)
    await h.stop()
    await h.start()
    await delivered(h, lambda: [1] if topic(h, card["message_thread_id"])["closed"] else [],
                    what="the closed case's topic to close")
    # and the bot knows it did: reopening the case reopens the topic
    await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                CaseCb(a="reopen", id=case.id).pack())
    await h.until(lambda: not topic(h, card["message_thread_id"])["closed"], timeout=8,
                  what="the reopened case's topic to reopen")


# --- 2. a reply on its way when the bot stops ------------------------------------------------


async def test_an_answer_on_its_way_when_the_bot_stops_arrives_once(
        telegram: TelegramHarness) -> None:
    """The bot stopped while its answer to /cases was on its way to Telegram (a slow round
    trip): the request was cut off in the bot, not at Telegram, which posted the answer; the
    bot, not knowing, kept it and sent it again after the restart."""
    h = telegram
    case, _ = await open_case(h)
    before = len(h.emu.sent_messages(RESIDENT))
    assert isinstance(h.emu, StrictBotAPIEmulator)
    h.emu.round_trip["sendMessage"] = 4.5  # longer than a handler waits for its answer
    h.emu.user_sends(RESIDENT, "/cases")
    await h.settle(timeout=8)
    await h.stop()
    h.emu.round_trip.clear()
    await h.start()
    await h.until(lambda: h.emu.sent_messages(RESIDENT)[before:], timeout=8, what="the answer")
    await run(h)
    await run(h)
    answers = [t for t in h.texts_to(RESIDENT)[before:] if case.number in t]
    assert len(answers) == 1, answers


# --- 3. an edit of a message the bot never got ---------------------------------------------


async def test_an_edit_of_a_message_the_bot_never_got_is_a_report(
        telegram: TelegramHarness) -> None:
    """The resident's report never reached the bot (it was down longer than Telegram keeps
    updates), and then the resident corrected it: the edit was dropped as an edit of a
    command, and the report was lost without a word."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    raw_message(h.emu, RESIDENT, {"text": "В подъезде не горит свет третий день",
                                  "edit_date": 1_800_000_000}, kind="edited_message")
    await run(h)
    [case] = await cases_of(h)
    assert any(case.number in t for t in h.texts_to(RESIDENT))  # acknowledged
    assert any("не горит свет" in t for t in h.texts_to(STAFF_CHAT))
    # a second correction of the same message is an edit of that case, not a new one
    raw_message(h.emu, RESIDENT, {"text": "В подъезде не горит свет уже четвёртый день",
                                  "edit_date": 1_800_000_100}, kind="edited_message")
    await run(h)
    assert len(await cases_of(h)) == 1


async def test_an_edit_of_an_unknown_command_or_step_files_nothing(
        telegram: TelegramHarness) -> None:
    """What the bot did not file before (a command, a bare flat number) stays unfiled when
    its edit comes, known or not."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    for text in ("/cases", "17"):
        raw_message(h.emu, RESIDENT, {"text": text, "edit_date": 1_800_000_000},
                    kind="edited_message")
    await run(h)
    assert await cases_of(h) == []


# --- 4. an answer kept over a restart, to a group that moved ---------------------------------


async def answer_kept_for_a_group_that_moved(h: TelegramHarness, *, in_topic: bool) -> None:
    """A dispatcher asks for a case's details while Telegram holds the staff chat back with
    429; the bot restarts before the answer's turn, and Telegram upgrades the group while it is
    down: the answer comes once, in the new group, and nothing is refused but the old id."""
    case, card = await open_case(h)
    h.emu.fail_next("sendMessage", chat_id=STAFF_CHAT, error_code=429, retry_after=5)
    h.emu.user_sends(IVAN, f"/case {case.number}", chat_id=STAFF_CHAT,
                     message_thread_id=card["message_thread_id"] if in_topic else None)
    await h.settle(timeout=8)
    await h.stop()
    h.emu.upgrade_group(STAFF_CHAT, NEW_STAFF_CHAT, notify=False)
    await h.start()

    def details() -> list[Json]:  # nothing else about the case is posted there meanwhile
        return [m for m in h.emu.sent_messages(NEW_STAFF_CHAT)
                if case.number in (m.get("text") or "")]

    await delivered(h, details, what="the /case answer in the new group")
    assert len(details()) == 1
    assert refused(h.emu, allowed=(INJECTED, "upgraded to a supergroup")) == []


async def test_an_answer_kept_for_a_group_that_moved_meanwhile_reaches_the_new_group(
        make_telegram: MakeTelegram) -> None:
    """The kept answer was refused by the old id and given up: the dispatcher never saw it."""
    await answer_kept_for_a_group_that_moved(await make_telegram(), in_topic=False)


async def test_a_kept_staff_answer_in_a_topic_follows_a_moved_forum(
        make_telegram: MakeTelegram) -> None:
    """In a forum the kept answer was for a topic of the old group, whose id means nothing in
    the new one: it still reaches staff there."""
    await answer_kept_for_a_group_that_moved(await make_telegram(forum=True), in_topic=True)


# --- 5. edits waiting when the bot stops -----------------------------------------------------


async def test_rating_buttons_waiting_to_go_when_the_bot_stops_go_after_the_restart(
        telegram: TelegramHarness) -> None:
    """The resident rated the job while Telegram held their chat back; the bot was restarted
    before the pause ended, and the buttons it was to remove stayed to be pressed again."""
    h = telegram
    resolved = await rated_while_held_back(h, retry_after=5)
    assert buttons(h.emu.message(RESIDENT, resolved["message_id"]))  # still waiting
    await h.stop()
    await h.start()
    await delivered(h, lambda: [] if buttons(h.emu.message(RESIDENT, resolved["message_id"]))
                    else [1], what="the rating buttons to go away")
    assert refused(h.emu, allowed=(INJECTED,)) == []


async def test_a_tick_waiting_when_the_bot_stops_is_set_after_the_restart(
        make_telegram: MakeTelegram) -> None:
    """A staff answer reached the resident, but its 👍 met a flood wait and the bot was
    restarted within it: the staff member never saw that the answer went."""
    h = await make_telegram(forum=True)
    _, card = await open_case(h)
    h.emu.fail_next("setMessageReaction", chat_id=STAFF_CHAT, retry_after=5)
    answer = h.emu.user_sends(IVAN, "Сантехник будет в 15:00", chat_id=STAFF_CHAT,
                              message_thread_id=card["message_thread_id"])
    await run(h)
    await delivered(h, lambda: [t for t in h.texts_to(RESIDENT) if "в 15:00" in t],
                    what="the answer at the resident's")
    await h.until(lambda: h.emu.calls("setMessageReaction"), what="the tick tried")
    await h.stop()
    await h.start()

    reactions = h.emu.world(h.emu.token).reactions

    def ticked() -> list[Any]:
        return [r for r in reactions if r["message_id"] == answer["message_id"]]

    await delivered(h, ticked, what="the tick on the staff answer")


# --- 6. /open with an argument typed as people type it ---------------------------------------


async def test_open_finds_a_building_or_department_however_it_is_typed(
        telegram: TelegramHarness) -> None:
    """A dispatcher typed "/open Lenina-5" (the phone capitalised it) and was told there were
    no open cases: anything not spelled as configured was taken for a department's code."""
    h = telegram
    register(h.emu)  # a resident of lenina-5
    await run(h)
    case, _ = await open_case(h)
    before = len(h.texts_to(STAFF_CHAT))
    for typed in ("/open Lenina-5", "/open PLUMBING", "/open Mine"):
        h.emu.user_sends(IVAN, typed, chat_id=STAFF_CHAT)
        await h.settle(timeout=8)
    h.emu.user_sends(IVAN, "/case " + case.number, chat_id=STAFF_CHAT)  # nothing of Ivan's
    await h.settle(timeout=8)
    answers = h.texts_to(STAFF_CHAT)[before:before + 3]
    assert len(answers) == 3
    assert case.number in answers[0] and case.number in answers[1], answers
    assert "mine" in answers[2].lower() and case.number not in answers[2], answers


async def test_open_with_a_word_it_does_not_know_says_what_it_takes(
        telegram: TelegramHarness) -> None:
    """"/open сантехника" was answered "no open cases (сантехника)", and the dispatcher
    believed it; now the answer says the word is no building or department and lists them."""
    h = telegram
    await open_case(h)
    before = len(h.texts_to(STAFF_CHAT))
    h.emu.user_sends(IVAN, "/open сантехника", chat_id=STAFF_CHAT)
    await h.settle(timeout=8)
    [answer] = h.texts_to(STAFF_CHAT)[before:]
    assert "lenina-5" in answer and "plumbing" in answer, answer


async def test_an_answer_waiting_when_the_staff_group_moves_reaches_the_new_group(
        telegram: TelegramHarness) -> None:
    """A dispatcher's /open waited out a 429 in the staff group, and Telegram upgraded the
    group meanwhile: the answer was refused by the old id and dropped with a log line."""
    h = telegram
    case, _ = await open_case(h)
    h.emu.fail_next("sendMessage", chat_id=STAFF_CHAT, error_code=429, retry_after=3)
    h.emu.user_sends(IVAN, "/open", chat_id=STAFF_CHAT)
    await h.settle(timeout=8)
    h.emu.upgrade_group(STAFF_CHAT, NEW_STAFF_CHAT, notify=False)
    await h.until(lambda: [t for t in h.texts_to(NEW_STAFF_CHAT) if case.number in t],
                  timeout=8, what="the /open answer in the new group")
    assert refused(h.emu, allowed=(INJECTED, "upgraded to a supergroup")) == []


# --- 7. a case number written in a sentence ---------------------------------------------------


async def test_a_case_number_with_punctuation_around_it_is_the_number(
        telegram: TelegramHarness) -> None:
    """"/case A-1001." (a sentence's full stop) told the resident the case was not among
    theirs, and "/close A-1001, починили" told the dispatcher how to use /close."""
    h = telegram
    case, _ = await open_case(h)
    before = len(h.texts_to(RESIDENT))
    h.emu.user_sends(RESIDENT, f"/case {case.number}.")
    await h.settle(timeout=8)
    [answer] = h.texts_to(RESIDENT)[before:]
    assert "не найдено" not in answer and case.number in answer, answer
    staff_before = len(h.texts_to(STAFF_CHAT))
    h.emu.user_sends(IVAN, f"/case ({case.number})", chat_id=STAFF_CHAT)
    h.emu.user_sends(IVAN, f"/close {case.number}, починили", chat_id=STAFF_CHAT)
    await h.settle(timeout=10)
    await h.until(lambda: len(h.texts_to(STAFF_CHAT)) >= staff_before + 2, timeout=8,
                  what="two answers")
    detail, closed = h.texts_to(STAFF_CHAT)[staff_before:staff_before + 2]
    assert "Срок ответа" in detail, detail
    assert "Использование" not in closed and case.number in closed, closed


# --- 8. a staff member answering the bot's ping in private -----------------------------------


async def test_a_staff_member_answering_a_ping_in_private_is_not_taken_for_a_resident(
        telegram: TelegramHarness) -> None:
    """Ivan answered his assignment ping in his private chat with the bot ("Принял, еду"):
    he was registered as a resident, thanked for his "message", and the staff chat was told
    of a message that opened no case. Now his words are a note on the case, and he is told
    the resident did not get them and where to answer."""
    h = telegram
    case, _ = await open_case(h)
    h.emu.user_sends(STAFF_IDS["maria"], f"/assign {case.number} @ivan", chat_id=STAFF_CHAT)
    await h.settle(timeout=8)
    await delivered(h, lambda: h.emu.sent_messages(IVAN), what="the assignment ping")
    [ping] = h.emu.sent_messages(IVAN)
    staff_before = len(h.texts_to(STAFF_CHAT))
    h.emu.user_sends(IVAN, "Принял, еду", reply_to_message_id=ping["message_id"])
    await run(h)
    await run(h)
    [answer] = h.texts_to(IVAN)[1:]
    assert case.number in answer and "Спасибо, сообщение получено" not in answer, answer
    assert h.texts_to(STAFF_CHAT)[staff_before:] == []
    assert not [t for t in h.texts_to(RESIDENT) if "еду" in t]
    async with h.app.wf.sessions() as session:
        notes = (await session.scalars(select(Event.note).where(
            Event.case_id == case.id, Event.action == "note"))).all()
    assert notes == ["Принял, еду"]


# --- 9. a photo captioned with a command -----------------------------------------------------


async def test_a_photo_captioned_with_a_command_is_not_lost(telegram: TelegramHarness) -> None:
    """A resident who had learnt "/new" sent the leak's photo captioned "/new течёт кран": the
    form started and the photo was dropped without a word. A command is typed, not captioned:
    the photo and its words are the report, and reach staff."""
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="/new течёт кран под раковиной")
    await run(h)
    await run(h)
    [case] = await cases_of(h)
    assert any(m.get("photo") for m in h.emu.sent_messages(STAFF_CHAT))
    assert any(case.number in t for t in h.texts_to(RESIDENT))
