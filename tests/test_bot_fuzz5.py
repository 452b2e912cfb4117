"""Round five: the bot against a Bot API server as strict as Telegram about a group's pace.

Telegram asks for about one message a second in any chat, groups included, beside a group's
20 a minute, and answers a burst with 429. The bot kept only the 20 a minute for groups, so a
card with ten photos, an outbox pass of new cards or a district-wide outage went out back to
back. The emulator the bot's tests use now keeps that pace (``pace_groups``), and these tests
drive the real bot through the bursts a busy day brings and assert what staff would notice:
every card and photo arrives once, in order, without a 429, and an answer to a staff command
comes, late rather than never, when the group's budget is spent.

Windows are shrunk (Telegram's 60 s to a few seconds, with the bot's budget and the pace
scaled alike) so the tests take seconds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.callbacks import CaseCb
from bot.sender import SendLimits
from domovoy.peers.telegram_flood import FloodLimits
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, StrictBotAPIEmulator, TelegramHarness
from tests.test_bot_fuzz import answer_to, cases_of, open_case, press, refused, register, run
from tests.test_bot_strict import PNG
from workflow.clock import ManualClock

RESIDENT = 5001
IVAN = STAFF_IDS["ivan"]

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


async def scaled(make_telegram: MakeTelegram, window: float, group_max: int = 20,
                 private_interval: float = 1.0, **config: Any) -> TelegramHarness:
    """The bot and the server on the same shrunk group window (the pace 1/60 of it, as
    Telegram's 1 s is of its 60 s) and the same private chat's pace."""
    h = await make_telegram(limits=SendLimits(group_max=group_max, group_window_s=window,
                                              private_interval_s=private_interval), **config)
    h.emu.flood_limits = FloodLimits(group_max=group_max, group_window=window,
                                     private_per_second=1 / private_interval)
    return h


def cards(h: TelegramHarness) -> Counter[str]:
    return Counter(re.findall(r"A-\d+", m.get("text") or "")[0]
                   for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup"))


# --- a group's pace -------------------------------------------------------------------------


async def test_a_card_and_ten_photos_reach_staff_without_a_429(
        make_telegram: MakeTelegram) -> None:
    """A resident's album of ten photos: the card and its ten copies went to the group back
    to back, and Telegram answered the second one with 429."""
    h = await scaled(make_telegram, window=6.0)
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Потолок в ванной течёт, вот фото",
                     media_group_id="album")
    for _ in range(9):
        h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="album")
    await run(h)
    staff = h.emu.sent_messages(STAFF_CHAT)
    assert sum(1 for m in staff if m.get("photo")) == 10
    assert sum(cards(h).values()) == 1
    assert h.emu.flood_error_count == 0, h.emu.flood_hits
    assert not refused(h.emu)


async def test_an_outbox_pass_of_new_cards_is_paced_not_refused(
        make_telegram: MakeTelegram) -> None:
    """A dozen residents write within a minute: one outbox pass posts a dozen cards to the
    same group, each once, and none is refused."""
    h = await scaled(make_telegram, window=6.0)
    for i in range(12):
        h.emu.add_private_chat(6000 + i, f"Житель {i}")
        h.emu.user_sends(6000 + i, f"Не работает лифт в подъезде {i + 1}, застряли соседи")
    await run(h)
    numbers = {c.number for c in await cases_of(h)}
    assert len(numbers) == 12 and set(cards(h)) == numbers and set(cards(h).values()) == {1}
    assert h.emu.flood_error_count == 0, h.emu.flood_hits
    assert not refused(h.emu)


async def test_a_district_wide_outage_over_the_groups_minute_reaches_staff_without_a_429(
        make_telegram: MakeTelegram) -> None:
    """Thirty residents report the same outage at once: more cards than the group takes in
    its window, and each must wait its turn, neither refused nor lost nor posted twice."""
    h = await scaled(make_telegram, window=3.0)
    for i in range(30):
        h.emu.add_private_chat(6100 + i, f"Житель {i}")
        h.emu.user_sends(6100 + i, "Во всём доме нет света с утра, лифты стоят")
    await h.settle(timeout=20)
    numbers = {c.number for c in await cases_of(h)}
    for _ in range(20):
        await h.deliver()
        if set(cards(h)) == numbers:
            break
        await h.until(lambda: True, timeout=0.5)
    assert set(cards(h)) == numbers and set(cards(h).values()) == {1}
    assert h.emu.flood_error_count == 0, h.emu.flood_hits
    assert not refused(h.emu)


# --- answers to staff when the group's budget is spent --------------------------------------


async def test_staff_commands_are_answered_in_order_when_the_groups_budget_is_spent(
        make_telegram: MakeTelegram) -> None:
    """New cards have spent the group's budget (2 posts in 4 s here, Telegram's 20 a minute
    scaled down) when a staff member types /open and /case: the answers waited 3 s and were
    dropped, and staff had to type the commands again. They come once the budget allows,
    in the order asked, and the resident writing meanwhile is not held up."""
    h = await scaled(make_telegram, window=4.0, group_max=2)
    first, _ = await open_case(h)
    await open_case(h, "Не горит свет в подъезде", user=5002)
    before = len(h.texts_to(STAFF_CHAT))
    h.emu.user_sends(IVAN, "/open", chat_id=STAFF_CHAT)
    h.emu.user_sends(IVAN, f"/case {first.number}", chat_id=STAFF_CHAT)
    h.emu.user_sends(RESIDENT, "/cases")
    await h.settle(timeout=2.5)  # nobody's updates wait for the staff chat's budget
    assert any(first.number in t for t in h.texts_to(RESIDENT)[-1:])  # /cases answered

    def answers() -> list[str]:
        return h.texts_to(STAFF_CHAT)[before:]

    await h.until(lambda: len(answers()) >= 2, timeout=12, what="both answers")
    listing, detail = answers()
    assert listing.startswith("Открытые обращения: 2")
    assert detail.startswith(first.number) and "Срок ответа" in detail
    assert h.emu.flood_error_count == 0, h.emu.flood_hits
    assert not refused(h.emu)


async def test_staff_learn_that_a_resident_blocked_the_bot_when_the_groups_budget_is_spent(
        make_telegram: MakeTelegram) -> None:
    """The notice that a resident blocked the bot waited 3 s for a staff chat whose budget
    new cards had spent, and was dropped: staff went on answering someone who could no longer
    read them. It now waits its turn in the outbox."""
    h = await scaled(make_telegram, window=4.0, group_max=2)
    _case, card = await open_case(h)
    await open_case(h, "Не горит свет в подъезде", user=5002)
    h.emu.block_user(RESIDENT)
    await h.settle(timeout=2.5)
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)

    async def told() -> bool:
        clock.advance(timedelta(seconds=5))
        await h.deliver()
        return any("заблокировал бота" in m.get("text", "")
                   and (m.get("reply_to_message") or {}).get("message_id") == card["message_id"]
                   for m in h.emu.sent_messages(STAFF_CHAT))

    await h.until(told, timeout=10, what="staff to be told on the card")
    assert sum("заблокировал бота" in t for t in h.texts_to(STAFF_CHAT)) == 1
    assert h.emu.flood_error_count == 0, h.emu.flood_hits


# --- a button press answered in time -------------------------------------------------------


async def test_resolving_a_large_incident_answers_the_press_before_redrawing_its_cards(
        make_telegram: MakeTelegram) -> None:
    """Eight residents report one outage; resolving it redraws all eight cards. The press was
    answered only after every redraw, each a round trip to Telegram: past the query's life the
    answer is refused, and staff saw the button spin and then nothing. The press is answered
    first, and the cards are redrawn all the same."""
    h = await scaled(make_telegram, window=6.0, private_interval=0.05)  # eight sign-ups
    users = [RESIDENT + i for i in range(8)]
    for user in users:
        register(h.emu, user)
        h.emu.user_sends(user, "Во всём подъезде нет света, весь дом без электричества")
    await run(h)
    first, *others = await cases_of(h)
    assert {c.incident_id for c in others} == {first.incident_id} != {None}
    card = next(m for m in h.emu.sent_messages(STAFF_CHAT)
                if first.number in (m.get("text") or "") and m.get("reply_markup"))
    await press(h, IVAN, card, CaseCb(a="take", id=first.id).pack())
    assert isinstance(h.emu, StrictBotAPIEmulator)
    h.emu.round_trip["editMessageText"] = 0.25  # eight redraws: 2 s
    h.emu.callback_query_life = 1.0  # Telegram's, shrunk alike
    query = await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                        CaseCb(a="resolve", id=first.id).pack())
    assert first.number in answer_to(h, query)["text"]
    assert not refused(h.emu)
    redrawn = [h.emu.message(STAFF_CHAT, m["message_id"])["text"]
               for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup")]
    assert len(redrawn) == 8 and all("Решено" in t for t in redrawn)


# --- a card someone deleted ------------------------------------------------------------------


async def test_a_card_someone_deleted_is_posted_again_when_its_case_moves_on(
        telegram: TelegramHarness) -> None:
    """An admin tidying the chat deletes a case's card. Telegram refuses every redraw of it
    ("message to edit not found"), and the case went on with no card showing its stage and
    no buttons to press. When the case moves on, a new card shows where it stands."""
    h = telegram
    case, card = await open_case(h)
    h.emu.world(h.emu.token).chat(STAFF_CHAT).deleted.add(card["message_id"])
    h.emu.user_sends(IVAN, f"/case {case.number}", chat_id=STAFF_CHAT)
    await run(h)
    detail = h.emu.sent_messages(STAFF_CHAT)[-1]
    await press(h, IVAN, detail, CaseCb(a="take", id=case.id).pack())
    [again] = [m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup")
               and case.number in (m.get("text") or "")
               and m["message_id"] not in (card["message_id"], detail["message_id"])]
    assert "Иван" in again["text"] and again["text"] != card["text"]  # taken, by whom
    assert CaseCb(a="resolve", id=case.id).pack() in str(again["reply_markup"])
    assert not refused(h.emu, allowed=("message to edit not found",))
