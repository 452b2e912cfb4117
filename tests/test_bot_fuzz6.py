"""Round six: the bot against a Bot API server strict about flood waits, moved groups and
restarts.

The tests' emulator now keeps a chat's flood wait: after a 429 every post and edit there is
refused until ``retry_after`` has passed, as Telegram does. Each test drives the real bot and
asserts what a resident or staff member would notice: buttons that should go away do, a menu
pressed for appears, photos reach the group staff work in, an answer to a command arrives
although the bot restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.callbacks import CaseCb
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, TelegramHarness
from tests.test_bot_fuzz import open_case, press, refused, resolve, run
from tests.test_bot_strict import PNG
from workflow.clock import ManualClock

RESIDENT = 5001
IVAN = STAFF_IDS["ivan"]
INJECTED = "retry after 2"  # the 429 a test injects on purpose

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


def buttons(message: Json) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b.get("callback_data") or "" for row in rows for b in row]


async def delivered(h: TelegramHarness, what_came: Callable[[], list[Any]], *, what: str,
                    timeout: float = 10.0) -> None:
    """Deliver the outbox until ``what_came`` is not empty (a 429 puts an item off by its
    ``retry_after``, so one pass is not enough), the app's manual clock keeping up with the
    time the test waits."""
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)

    async def poll() -> None:
        while True:
            await h.deliver()
            if what_came():
                return
            await asyncio.sleep(0.2)
            clock.advance(timedelta(seconds=0.2))

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"{what} did not come in {timeout} s") from None


# --- 1. edits keep a chat's flood wait ------------------------------------------------------


async def rated_while_held_back(h: TelegramHarness, retry_after: int) -> Json:
    """The resident's chat is held back by a 429 of ``retry_after`` s when they rate the
    resolved case: the message whose rating buttons are to go."""
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    h.emu.fail_next("sendMessage", chat_id=RESIDENT, error_code=429, retry_after=retry_after)
    h.emu.user_sends(RESIDENT, "/status")
    await run(h)
    await press(h, RESIDENT, resolved, f"rate:{case.number}:5")
    return resolved


async def test_rating_buttons_go_away_after_a_flood_wait_in_the_residents_chat(
        telegram: TelegramHarness) -> None:
    """Telegram answered a message to the resident with 429; the resident then rated the
    job. Removing the rating buttons went at once, was refused (the chat's wait was not
    over) and was never tried again: the buttons stayed to be pressed again."""
    h = telegram
    resolved = await rated_while_held_back(h, retry_after=2)
    await h.until(lambda: not buttons(h.emu.message(RESIDENT, resolved["message_id"])),
                  timeout=6, what="the rating buttons to go away")
    assert refused(h.emu, allowed=(INJECTED,)) == []
    assert h.emu.flood_error_count == 0, h.emu.flood_hits


async def test_the_reclassify_menu_appears_after_a_flood_wait_in_the_staff_chat(
        telegram: TelegramHarness) -> None:
    """A staff command's answer met 429, then a dispatcher pressed "Reclassify": the menu
    was refused (the group's wait was not over) and never shown; the press did nothing."""
    h = telegram
    case, card = await open_case(h)
    h.emu.fail_next("sendMessage", chat_id=STAFF_CHAT, error_code=429, retry_after=2)
    h.emu.user_sends(IVAN, "/open", chat_id=STAFF_CHAT)
    await run(h)
    await press(h, IVAN, card, CaseCb(a="rc", id=case.id).pack())
    await h.until(lambda: any("r:" in b or "axis" in b for b in
                              buttons(h.emu.message(STAFF_CHAT, card["message_id"]))),
                  timeout=6, what="the reclassify menu")
    assert refused(h.emu, allowed=(INJECTED,)) == []
    assert h.emu.flood_error_count == 0, h.emu.flood_hits


async def test_a_card_taken_during_a_flood_wait_shows_who_took_it(
        telegram: TelegramHarness) -> None:
    """The card's redraw after Take ignored the group's flood wait: refused, then drawn by
    luck of a retry; now it waits for the pause Telegram asked for and is drawn once."""
    h = telegram
    case, card = await open_case(h)
    h.emu.fail_next("sendMessage", chat_id=STAFF_CHAT, error_code=429, retry_after=2)
    h.emu.user_sends(IVAN, "/open", chat_id=STAFF_CHAT)
    await run(h)
    await press(h, IVAN, card, CaseCb(a="take", id=case.id).pack())
    await h.until(lambda: "Иван Петров" in (h.emu.message(STAFF_CHAT, card["message_id"])
                                            .get("text") or ""), timeout=6, what="the redraw")
    assert refused(h.emu, allowed=(INJECTED,)) == []
    assert len(h.emu.calls("editMessageText")) == 1


# --- 2. photos follow a staff group that moved ----------------------------------------------


NEW_STAFF_CHAT = -1009000000061  # the staff group's id after Telegram upgraded it


async def test_a_photo_after_the_staff_group_moved_reaches_staff_under_a_card_there(
        make_telegram: MakeTelegram) -> None:
    """The case's card (and topic) was in the old group; the group was upgraded, and the
    resident sent a photo of the leak. The photo was copied into the old topic's id in the
    new group ("message thread not found"), and staff never saw it; the words came without
    a card or buttons. Now the case gets its card (and topic) in the new group first, and
    the photo follows it there."""
    h = await make_telegram(forum=True)
    case, _ = await open_case(h)
    h.emu.upgrade_group(STAFF_CHAT, NEW_STAFF_CHAT)
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Вот фото, вода уже на полу")
    await run(h)
    await run(h)
    moved = h.emu.sent_messages(NEW_STAFF_CHAT)
    [card] = [m for m in moved if case.number in (m.get("text") or "") and m.get("reply_markup")]
    [photo] = [m for m in moved if m.get("photo")]
    assert card.get("message_thread_id") is not None
    assert photo.get("message_thread_id") == card["message_thread_id"]
    assert refused(h.emu, allowed=("upgraded to a supergroup",)) == []


async def test_a_photo_after_a_plain_staff_group_moved_follows_its_new_card(
        make_telegram: MakeTelegram) -> None:
    """Without topics: the photo was sent as a reply to the old card's message id in the new
    group, where that id is some other message (or none)."""
    h = await make_telegram()
    case, _ = await open_case(h)
    h.emu.upgrade_group(STAFF_CHAT, NEW_STAFF_CHAT)
    await run(h)
    for i in range(3):  # the new group has messages of its own by now
        h.emu.user_sends(IVAN, f"Доброе утро {i}", chat_id=NEW_STAFF_CHAT)
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Вот фото, вода уже на полу")
    await run(h)
    await run(h)
    moved = h.emu.sent_messages(NEW_STAFF_CHAT)
    [card] = [m for m in moved if case.number in (m.get("text") or "") and m.get("reply_markup")]
    [photo] = [m for m in moved if m.get("photo")]
    assert (photo.get("reply_to_message") or {}).get("message_id") == card["message_id"]
    assert refused(h.emu, allowed=("upgraded to a supergroup",)) == []


async def test_a_case_taken_after_the_staff_group_moved_gets_its_card_there(
        make_telegram: MakeTelegram) -> None:
    """After the move, a dispatcher took a case from its /case detail in the new group. The
    card's redraw went to the old group's id, was refused ("upgraded to a supergroup") and
    only logged: the new group had no card showing who took the case, and no buttons."""
    h = await make_telegram()
    case, _ = await open_case(h)
    h.emu.upgrade_group(STAFF_CHAT, NEW_STAFF_CHAT)
    await run(h)
    h.emu.user_sends(IVAN, f"/case {case.number}", chat_id=NEW_STAFF_CHAT)
    await run(h)
    [detail] = [m for m in h.emu.sent_messages(NEW_STAFF_CHAT) if m.get("reply_markup")]
    await press(h, IVAN, detail, CaseCb(a="take", id=case.id).pack())
    await run(h)

    def cards() -> list[Json]:
        return [m for m in h.emu.sent_messages(NEW_STAFF_CHAT)
                if m is not detail and m["message_id"] != detail["message_id"]
                and case.number in (m.get("text") or "") and m.get("reply_markup")]

    await h.until(lambda: any("Иван Петров" in (h.emu.message(NEW_STAFF_CHAT, m["message_id"])
                                                .get("text") or "") for m in cards()),
                  timeout=6, what="a card in the new group showing who took the case")
    assert len(cards()) == 1


# --- 3. answers waiting when the bot stops --------------------------------------------------


async def test_an_answer_waiting_when_the_bot_stops_arrives_after_the_restart(
        telegram: TelegramHarness) -> None:
    """A resident asked for their cases while Telegram held their chat back with 429; the
    bot was restarted before the answer's turn came. The answer was cancelled with the
    channel and never arrived; now it is kept in the outbox and sent after the restart, once,
    with its buttons."""
    h = telegram
    case, _ = await open_case(h)
    before = len(h.emu.sent_messages(RESIDENT))
    h.emu.fail_next("sendMessage", chat_id=RESIDENT, error_code=429, retry_after=5)
    h.emu.user_sends(RESIDENT, "/cases")
    await h.settle(timeout=8)
    assert len(h.emu.sent_messages(RESIDENT)) == before  # still waiting its turn
    await h.stop()
    await h.start()
    await delivered(h, lambda: h.emu.sent_messages(RESIDENT)[before:], what="the answer")
    answers = h.emu.sent_messages(RESIDENT)[before:]
    assert len(answers) == 1 and case.number in answers[0]["text"]
    await run(h)
    assert len(h.emu.sent_messages(RESIDENT)) == before + 1  # once, not again


async def case_answer_kept_over_a_restart(
        h: TelegramHarness, *, in_topic: bool) -> tuple[Json, Callable[[], list[Json]]]:
    """A dispatcher asks for a case's details while Telegram holds the staff chat back with
    429, and the bot restarts before the answer's turn: the case's card, and the answers
    that came after the restart (waited for)."""
    case, card = await open_case(h)
    thread = card["message_thread_id"] if in_topic else None
    h.emu.fail_next("sendMessage", chat_id=STAFF_CHAT, error_code=429, retry_after=5)
    h.emu.user_sends(IVAN, f"/case {case.number}", chat_id=STAFF_CHAT, message_thread_id=thread)
    await h.settle(timeout=8)
    await h.stop()
    await h.start()

    def details() -> list[Json]:
        return [m for m in h.emu.sent_messages(STAFF_CHAT) if case.number in
                (m.get("text") or "") and m["message_id"] != card["message_id"]]

    await delivered(h, details, what="the /case answer")
    return card, details


async def test_a_staff_answer_waiting_when_the_bot_stops_comes_in_its_topic(
        make_telegram: MakeTelegram) -> None:
    """The same in a staff forum: a dispatcher's /case answer, held up by a flood wait when
    the bot restarted, comes after the restart in the topic it was asked in."""
    h = await make_telegram(forum=True)
    card, details = await case_answer_kept_over_a_restart(h, in_topic=True)
    thread = card["message_thread_id"]
    assert len(details()) == 1 and details()[0].get("message_thread_id") == thread
    assert buttons(details()[0])  # the case's buttons came with it


async def test_a_staff_reply_to_a_case_answer_kept_over_a_restart_reaches_the_resident(
        make_telegram: MakeTelegram) -> None:
    """In a group without topics staff answer a case by replying to its details: the kept
    /case answer came after the restart, but linked to nothing, so the reply to it was
    answered "no case here" instead of reaching the resident."""
    h = await make_telegram()
    _, details = await case_answer_kept_over_a_restart(h, in_topic=False)
    h.emu.user_sends(IVAN, "Сантехник будет в 15:00", chat_id=STAFF_CHAT,
                     reply_to_message_id=details()[-1]["message_id"])
    await run(h)
    await delivered(h, lambda: [t for t in h.texts_to(RESIDENT) if "в 15:00" in t],
                    what="the staff answer at the resident's")


# --- 4. a card's redraw waiting when the bot stops ------------------------------------------


async def test_a_card_redraw_held_back_when_the_bot_stops_is_made_after_the_restart(
        telegram: TelegramHarness) -> None:
    """Telegram answered the card's redraw after Take with 429 and a long pause, and the bot
    was restarted within it: the redraw waiting in memory was dropped, and the card showed
    the taken case as nobody's until the case happened to change again."""
    h = telegram
    case, card = await open_case(h)
    h.emu.fail_next("editMessageText", chat_id=STAFF_CHAT, error_code=429, retry_after=4)
    await press(h, IVAN, card, CaseCb(a="take", id=case.id).pack())
    await h.stop()
    await h.start()

    def taken() -> list[Json]:
        shown = h.emu.message(STAFF_CHAT, card["message_id"])
        return [shown] if "Иван Петров" in (shown.get("text") or "") else []

    await delivered(h, taken, what="the card showing who took the case")
