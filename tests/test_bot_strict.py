"""Round four: what a strict Bot API server refuses, and what it would cost residents and staff.

Telegram measures texts in UTF-16 code units after it has cleaned them, calls a text of
invisible characters empty, wants callback data of at most 64 *bytes* and strings that are
valid UTF-8, and answers a burst with 429 and ``retry_after``. The emulator now refuses what
Telegram refuses in each of these (the first tests pin that down), and the rest drive the real
bot through it and assert what a person would notice: a button press is answered, an answer
arrives once and whole, a card shows where its case stands, staff learn that the managers'
chat is gone, and a complaint forwarded into the staff form says whose words it carries.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import CreateForumTopic
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import select

from bot.callbacks import CaseCb, ReclassCb, StaffFormCb
from bot.limits import fit, utf16_len
from bot.sender import SendLimits
from domovoy.app import build_app
from domovoy.peers.telegram_api import BotAPIEmulator
from domovoy.peers.telegram_flood import FloodLimits
from tests.conftest import ORG, make_config
from tests.peers.telegram import (
    MANAGERS_CHAT,
    STAFF_CHAT,
    STAFF_IDS,
    TelegramHarness,
    add_staff_chats,
    telegram_config,
)
from tests.test_bot_fuzz import (
    answer_to,
    cases_of,
    file_obj,
    open_case,
    press,
    raw_message,
    refused,
    register,
    run,
)
from workflow.clock import ManualClock
from workflow.models import Building, OutboxItem, Staff
from workflow.reports import queue_report

RESIDENT = 5001
IVAN, MARIA, ANNA = (STAFF_IDS[n] for n in ("ivan", "maria", "anna"))
NEIGHBOUR = {"id": 6001, "is_bot": False, "first_name": "Пётр", "last_name": "Соседов"}
NEWS = {"id": -1003000000001, "type": "channel", "title": "Новости района"}
# A code as an office writes one for a long address: within the deep link's 64 characters,
# but "sf:b:" before it in a button is more than Telegram's 64 bytes of callback data.
LONG_CODE = "ulitsa-konstantina-eduardovicha-tsiolkovskogo-dom-15-korpus-2"

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
async def bot(tg_emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    """A plain aiogram client of the emulator, for what the emulator itself must refuse."""
    tg_emulator.add_private_chat(RESIDENT, "Анна")
    add_staff_chats(tg_emulator, forum=True)
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg_emulator.base_url))
    yield Bot(tg_emulator.token, session=session)
    await session.close()


def whole(text: str) -> bool:
    """No half of a surrogate pair, and no emoji sequence cut after its joiner."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not text.rstrip("…").endswith(("\u200d", "\ufe0f"))


def outbox_states(rows: list[OutboxItem]) -> list[tuple[str, str]]:
    return [(r.recipient, r.state) for r in rows]


async def outbox(h: TelegramHarness) -> list[OutboxItem]:
    async with h.app.wf.sessions() as session:
        return list((await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def staff_form(h: TelegramHarness, building: str, *, staff: int = IVAN) -> None:
    """A staff member opens /new and answers every step up to the complaint's words."""
    h.emu.user_sends(staff, "/new", chat_id=STAFF_CHAT)
    await run(h)
    menu = h.emu.sent_messages(STAFF_CHAT)[-1]
    rows = (menu.get("reply_markup") or {}).get("inline_keyboard") or []
    [data] = [b["callback_data"] for row in rows for b in row if b["text"] == building]
    await press(h, staff, menu, data)
    h.emu.user_sends(staff, "12", chat_id=STAFF_CHAT)
    await run(h)
    h.emu.user_sends(staff, "+7 999 000-11-22", chat_id=STAFF_CHAT)
    await run(h)
    channel = h.emu.sent_messages(STAFF_CHAT)[-1]
    await press(h, staff, channel, StaffFormCb(a="c", v="phone").pack())


# --- the emulator refuses what Telegram refuses ---------------------------------------------


async def test_the_emulator_refuses_half_an_emoji_anywhere_in_a_request(bot: Bot) -> None:
    """Telegram's server reads every string as UTF-8: a lone surrogate (here in a button,
    sent JSON-escaped as "\\ud83d") is refused before anything is sent."""
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text="Готово \ud83d", callback_data="d")]])
    with pytest.raises(TelegramBadRequest, match="strings must be encoded in UTF-8"):
        await bot.send_message(RESIDENT, "Проверьте обращение", reply_markup=markup)


@pytest.mark.parametrize("blank", ["\u200b", "\u2800\n\u2800", "\u3000 \u00a0", "\ufeff\t\r\n"],
                         ids=["zero-width", "braille-blank", "ideographic", "bom-and-controls"])
async def test_the_emulator_calls_a_text_of_invisible_characters_empty(bot: Bot,
                                                                      blank: str) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(RESIDENT, blank)
    # A Hangul filler is no "empty character" to Telegram: it is sent.
    await bot.send_message(RESIDENT, "\u3164")


async def test_the_emulator_measures_a_topic_name_in_utf16_units(bot: Bot) -> None:
    """tdlib cuts a topic name at 128 characters; the emulator takes the stricter reading
    (128 UTF-16 units, as for every other text) so a bot that fits it fits either."""
    with pytest.raises(TelegramBadRequest, match="TOPIC_TITLE_INVALID"):
        await bot(CreateForumTopic(chat_id=STAFF_CHAT, name="A-1001 · " + "🚰" * 60))
    await bot(CreateForumTopic(chat_id=STAFF_CHAT, name="A-1001 · " + "🚰" * 59))


# --- limits counted as Telegram counts them -------------------------------------------------


def test_fit_counts_utf16_units_and_cuts_on_whole_characters() -> None:
    worker = "👩‍🔧"  # woman, zero-width joiner, wrench: five UTF-16 units, one picture
    text = "Уже взято: " + worker * 60
    cut = fit(text, 200)
    assert utf16_len(cut) <= 200 and cut.endswith(worker + "…") and whole(cut)
    assert fit("🇷🇺" * 60, 9) == "🇷🇺🇷🇺…"  # a flag is two regional indicators, never one
    assert fit("короткий", 200) == "короткий"
    assert fit("половина \ud83d", 200) == "половина \ufffd"


async def test_a_toast_naming_a_staff_member_with_emoji_fits_telegrams_200_units(
        telegram: TelegramHarness) -> None:
    """Ivan presses Take after Maria: he is told who took the case. Her name as the office
    wrote it is long and full of emoji; the toast was cut at 200 *characters* and Telegram,
    which counts UTF-16 units, refused it, so Ivan's button just spun."""
    h = telegram
    name = "Мария Иванова, старший диспетчер " + "👩‍🔧" * 40
    async with h.app.wf.sessions.begin() as session:
        maria = await session.scalar(select(Staff).where(Staff.telegram_user_id == MARIA))
        assert maria is not None
        maria.name = name
    case, card = await open_case(h)
    take = CaseCb(a="take", id=case.id).pack()
    await press(h, MARIA, card, take)
    query = await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]), take)
    told = answer_to(h, query)["text"] or ""
    assert told.startswith("Уже взято: Мария Иванова") and told.endswith("…")
    assert utf16_len(told) <= 200 and whole(told)
    assert not refused(h.emu)


async def test_staff_new_form_offers_a_building_whose_code_is_long(tmp_path: Path) -> None:
    """A building code may be 64 characters (a deep link's limit); "sf:b:" and such a code
    is over Telegram's 64 bytes of callback data, so /new answered nothing at all."""
    buildings = [*cast(list[Json], ORG["buildings"]),
                 {"code": LONG_CODE, "address": "ул. Циолковского, 15к2"}]
    app = await build_app(make_config(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}",
                                      buildings=buildings))
    async with BotAPIEmulator() as emu:
        add_staff_chats(emu)
        h = TelegramHarness(app, emu, telegram_config(emu))
        await h.start()
        try:
            await staff_form(h, LONG_CODE)
            h.emu.user_sends(IVAN, "Житель звонил: в подъезде не горит свет", chat_id=STAFF_CHAT)
            await run(h)
            [case] = await cases_of(h)
            async with app.wf.sessions() as session:
                building = await session.get(Building, case.building_id)
            assert building is not None and building.code == LONG_CODE
            assert any(case.number in t for t in h.texts_to(STAFF_CHAT))
            assert not refused(emu)
        finally:
            await h.stop()
    await app.close()


# --- text Telegram would refuse ---------------------------------------------------------------


async def test_a_staff_answer_with_half_an_emoji_still_reaches_the_resident(
        make_telegram: MakeTelegram) -> None:
    """A client sent Ivan's answer with an emoji cut in half (a lone "\\ud83d" in the
    update). The answer must still reach the resident, with a replacement character, and not
    sit in the outbox failing to encode while every later message to her waits behind it."""
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    h.emu.user_sends(IVAN, "Мастер придёт завтра в 10:00 \ud83d", chat_id=STAFF_CHAT,
                     message_thread_id=card["message_thread_id"])
    await run(h)
    got = [t for t in h.texts_to(RESIDENT) if "Мастер придёт" in t]
    assert len(got) == 1 and "\ufffd" in got[0]
    assert "pending" not in {r.state for r in await outbox(h)}
    assert not refused(h.emu)


async def test_a_long_post_ending_in_blank_spacer_lines_reaches_staff_whole(
        telegram: TelegramHarness) -> None:
    """Channel posts use lines of U+2800 (braille blank) as spacers. A resident forwards a
    long one: split at 4096 units its last part was only spacers, which Telegram calls an
    empty message, so the relay failed after its first part."""
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    h.emu.user_sends(RESIDENT, "Ещё: " + "ю" * 4050 + "\n\n" + "\u2800\n" * 30)
    await run(h)
    relayed = "".join(h.texts_to(STAFF_CHAT))
    assert relayed.count("ю") == 4050
    assert not refused(h.emu)
    assert "failed" not in {r.state for r in await outbox(h)}


# --- flood control --------------------------------------------------------------------------


async def test_a_long_answer_hit_by_flood_control_midway_arrives_once(
        make_telegram: MakeTelegram) -> None:
    """Ivan's long answer goes out in two messages. Telegram answered the second with 429:
    the whole answer was retried later, and the resident got its first half twice."""
    h = await make_telegram(forum=True, limits=SendLimits(private_interval_s=0.0, margin_s=0.0))
    _case, card = await open_case(h)
    await asyncio.sleep(1.1)  # the resident's chat has its whole budget again
    h.emu.flood_limits = FloodLimits(private_burst=1)
    text = "Порядок работ: " + " ".join(f"шаг {i} — проверить стояк;" for i in range(200))
    assert utf16_len(text) > 4096
    h.emu.user_sends(IVAN, text, chat_id=STAFF_CHAT, message_thread_id=card["message_thread_id"])
    await h.settle()
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)
    for _ in range(3):
        await h.deliver()
        await asyncio.sleep(1.1)
        clock.advance(timedelta(seconds=5))
    parts = [t for t in h.texts_to(RESIDENT) if "шаг" in t]
    assert sum("Порядок работ" in t for t in parts) == 1, parts
    assert sum("шаг 199 " in t for t in parts) == 1
    assert h.emu.flood_hits  # Telegram did say 429 midway


async def test_flood_control_on_a_card_edit_is_waited_out_and_the_press_is_answered(
        telegram: TelegramHarness) -> None:
    """Telegram answered the card's redraw after Take with 429. The press went unanswered
    (the button spun) and the card kept showing the case as nobody's."""
    h = telegram
    case, card = await open_case(h)
    h.emu.fail_next("editMessageText", chat_id=STAFF_CHAT, error_code=429, retry_after=1)
    query = await press(h, IVAN, card, CaseCb(a="take", id=case.id).pack())
    assert (answer_to(h, query)["text"] or "").startswith(case.number)
    await h.until(lambda: "Иван Петров" in (h.emu.message(STAFF_CHAT, card["message_id"])
                                            .get("text") or ""), timeout=5, what="the redraw")
    edits = h.emu.calls("editMessageText")
    assert len(edits) == 2 and edits[1].at - edits[0].at >= 0.9  # after retry_after, once


# --- edits that change nothing --------------------------------------------------------------


@pytest.mark.parametrize("presses", [
    [(IVAN, "take"), (IVAN, "take")], [(MARIA, "escalate")],
    [(MARIA, "rc"), (MARIA, "r:category"), (MARIA, "r:category:noise")],
], ids=["take-twice", "escalate", "reclassify-on-the-card"])
async def test_a_press_that_leaves_the_card_as_it_was_sends_no_edit(
        telegram: TelegramHarness, presses: list[tuple[int, str]]) -> None:
    """Telegram refuses an edit that changes nothing ("message is not modified"): a second
    Take, an escalation (the card looks the same), the card's buttons put back after the
    card was already redrawn with them."""
    h = telegram
    case, card = await open_case(h)
    for user, action in presses:
        _, axis, value = [*action.split(":"), "", ""][:3]
        data = (ReclassCb(id=case.id, axis=axis, v=value).pack() if action.startswith("r:")
                else CaseCb(a=action, id=case.id).pack())
        await press(h, user, h.emu.message(STAFF_CHAT, card["message_id"]), data)
    assert all(a["callback_query_id"] for a in h.emu.callback_answers)
    assert len(h.emu.callback_answers) == len(presses)
    assert not refused(h.emu)


async def test_reclassifying_what_the_topic_name_does_not_show_renames_nothing(
        make_telegram: MakeTelegram) -> None:
    """A topic is named by the case's number and category: a new urgency leaves the name as
    it was, and Telegram refuses the rename ("TOPIC_NOT_MODIFIED"). A new category renames."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    for axis, value in (("urgency", "high"), ("category", "heating")):
        await press(h, MARIA, h.emu.message(STAFF_CHAT, card["message_id"]),
                    ReclassCb(id=case.id, axis=axis, v=value).pack())
    [topic] = h.emu.topics(STAFF_CHAT)
    assert "отопление" in topic["name"], topic
    assert not refused(h.emu)


# --- the staff /new form and forwarded messages -----------------------------------------------


def forward(text: str | None, origin: Json, when: int, **content: Any) -> Json:
    body: Json = {"forward_origin": {**origin, "date": when}, "forward_date": when, **content}
    if text is not None:
        body["text"] = text
    return body


@pytest.mark.parametrize("kind", ["user", "channel-photo"])
async def test_a_message_forwarded_into_the_staff_form_shows_whose_words_and_when(
        telegram: TelegramHarness, kind: str) -> None:
    """A resident wrote to Ivan directly; Ivan opens /new and forwards her message as the
    complaint's words. The card said nothing of who wrote it or when (and a forwarded photo
    with a caption was not taken at all)."""
    h = telegram
    when = int(time.time()) - 2 * 86400
    await staff_form(h, "lenina-5")
    if kind == "user":
        words = "У меня с потолка капает, кв. 11, это от вас?"
        content = forward(words, {"type": "user", "sender_user": NEIGHBOUR}, when,
                          forward_from=NEIGHBOUR)
        whose = "Пересланное сообщение (автор: Пётр Соседов)"
    else:
        words = "В доме по ул. Ленина, 5 прорвало трубу в подвале"
        content = forward(None, {"type": "channel", "chat": NEWS, "message_id": 7}, when,
                          photo=[file_obj("p", width=800, height=600)], caption=words)
        whose = "Переслано из канала «Новости района»"
    raw_message(h.emu, IVAN, content, chat_id=STAFF_CHAT)
    await run(h)
    [case] = await cases_of(h)
    card = next(t for t in h.texts_to(STAFF_CHAT) if case.number in t and words in t)
    written = datetime.fromtimestamp(when, UTC).astimezone(h.app.wf.renderer.tz)
    assert re.search(rf"↪ {re.escape(whose)}, {written:%d\.%m\.%Y %H:%M}:\n{re.escape(words)}",
                     card), card
    assert not refused(h.emu)


async def test_a_forwarded_voice_message_in_the_staff_form_is_answered_not_swallowed(
        telegram: TelegramHarness) -> None:
    """A resident's voice note forwarded as the complaint's words: the form cannot take it
    (only text reaches the case), and said nothing, so Ivan believed it was filed."""
    h = telegram
    await staff_form(h, "lenina-5")
    before = len(h.texts_to(STAFF_CHAT))
    raw_message(h.emu, IVAN, forward(None, {"type": "user", "sender_user": NEIGHBOUR},
                                     int(time.time()), voice=file_obj("v", duration=5)),
                chat_id=STAFF_CHAT)
    await run(h)
    assert await cases_of(h) == []
    [told] = h.texts_to(STAFF_CHAT)[before:]
    assert "текст" in told.lower()
    # The form still waits for the words: typed next, they file the case.
    h.emu.user_sends(IVAN, "Житель говорит: с потолка капает в ванной", chat_id=STAFF_CHAT)
    await run(h)
    [case] = await cases_of(h)
    assert "капает в ванной" in (case.text or "")


# --- the managers' chat is gone -------------------------------------------------------------


@pytest.mark.parametrize("gone", ["kicked", "deleted"])
async def test_staff_are_told_once_when_the_managers_chat_is_gone(
        make_telegram: MakeTelegram, gone: str) -> None:
    """The bot was removed from the managers' chat, or the chat was deleted. Reports and
    escalations to it failed one by one, and only the outbox knew."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    h.emu.add_private_chat(ANNA, "Anna")
    if gone == "kicked":
        h.emu.world(h.emu.token).chat(MANAGERS_CHAT).bot_status = "kicked"
    else:
        h.emu.delete_chat(MANAGERS_CHAT)
    await queue_report(h.app.wf)
    await run(h)
    await press(h, MARIA, card, CaseCb(a="escalate", id=case.id).pack())
    await run(h)
    await queue_report(h.app.wf, days=30)
    await run(h)
    general = [m.get("text") or "" for m in h.emu.sent_messages(STAFF_CHAT)
               if not m.get("message_thread_id")]
    told = [t for t in general if "руководства" in t]
    assert len(told) == 1, general
    assert str(MANAGERS_CHAT) in told[0]
    assert any("отчёт" in t.lower() for t in h.texts_to(ANNA))  # managers still get it directly
    assert "pending" not in {r.state for r in await outbox(h)}


@pytest.mark.parametrize("gone", ["kicked", "deleted"])
async def test_managers_are_told_once_when_the_staff_chat_is_gone(
        make_telegram: MakeTelegram, gone: str) -> None:
    """The bot was removed from the staff chat, or the chat was deleted: new cases and residents'
    messages reached nobody, and only the outbox knew. The managers hear of it, in their chat
    and directly, once, however many posts fail."""
    h = await make_telegram(forum=True)
    await open_case(h)
    h.emu.add_private_chat(ANNA, "Anna")
    if gone == "kicked":
        h.emu.world(h.emu.token).chat(STAFF_CHAT).bot_status = "kicked"
    else:
        h.emu.delete_chat(STAFF_CHAT)
    h.emu.add_private_chat(RESIDENT + 1, "Пётр")
    h.emu.user_sends(RESIDENT + 1, "Не работает домофон в 3 подъезде")
    await run(h)
    h.emu.user_sends(RESIDENT + 1, "И лампочка на 2 этаже не горит")
    await run(h)
    in_chat = [t for t in (m.get("text") or "" for m in h.emu.sent_messages(MANAGERS_CHAT))
               if "чат сотрудников" in t]
    assert len(in_chat) == 1 and str(STAFF_CHAT) in in_chat[0]
    assert len([t for t in h.texts_to(ANNA) if "чат сотрудников" in t]) == 1
    assert "pending" not in {r.state for r in await outbox(h)}


# --- the staff chat's budget runs out halfway ---------------------------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


async def test_an_album_reaches_staff_whole_when_the_groups_budget_runs_out_halfway(
        make_telegram: MakeTelegram) -> None:
    """Six photos of a leak, in a group whose budget (here 4 messages per 2 s, Telegram's 20
    a minute scaled down) is spent after the card and three of them: the other three never
    reached staff (the card's retry found the card posted and stopped). Every photo must reach
    staff once, and no text twice (a note's retry for its photo posted the note again)."""
    h = await make_telegram(limits=SendLimits(group_max=4, group_window_s=2.0))
    h.emu.flood_limits = FloodLimits(group_max=4, group_window=2.0)
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Протекает потолок в ванной, фото",
                     media_group_id="album-1")
    for _ in range(5):
        h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="album-1")
    await h.settle()
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)

    async def deliver_while_budget_allows() -> None:
        for _ in range(4):
            await h.deliver()
            await asyncio.sleep(2.1)
            clock.advance(timedelta(seconds=10))

    await deliver_while_budget_allows()
    # Then more words and one more photo: the photo's note takes the last message the budget
    # allows, and the photo itself has to wait for the next window.
    for words in ("Вода уже на полу", "Соседи снизу тоже жалуются", "Перекрыла кран"):
        h.emu.user_sends(RESIDENT, words)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Вот как сейчас")
    await h.settle()
    await deliver_while_budget_allows()
    staff = h.emu.sent_messages(STAFF_CHAT)
    photos = [m for m in staff if m.get("photo")]
    texts = [m["text"] for m in staff if m.get("text")]
    assert len(photos) == 7, [m.get("caption") for m in photos]
    assert len(texts) == len(set(texts)), texts
    assert "pending" not in {r.state for r in await outbox(h)}
    assert h.emu.flood_error_count == 0, h.emu.flood_hits



# --- what the channel noted on a report reaches the card -----------------------------------------


async def test_a_file_dropped_over_the_limit_is_said_on_the_card(
        telegram: TelegramHarness) -> None:
    """A letter whose 30 MB video was dropped over the size limit opens its case (issue 3);
    the staff card says so, or staff answer as if they had seen everything."""
    import dataclasses

    from tests.helpers import mail

    h = telegram
    note = "attachment 'video.mp4' (30.0 MB) dropped: over the 10 MB limit"
    letter = dataclasses.replace(
        mail("olga@example.org", "Течёт кран на кухне, кв. 8, видео во вложении",
             h.app.wf.clock.now()), notes=(note,))
    await h.app.intake.ingest(letter)
    await run(h)
    [card] = [m.get("text") or "" for m in h.emu.sent_messages(STAFF_CHAT)
              if "Течёт кран" in (m.get("text") or "")]
    assert f"⚙ При приёме: {note}" in card
