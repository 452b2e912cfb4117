"""What real Telegram users do that the happy path does not: odd message types, odd commands,
stale and double button presses, blocked and deleted accounts, foreign groups, and staff
who edit, format, write long answers, or lose their topic.

Each test drives the real bot through the Bot API emulator and asserts what a person would
notice: a clear answer (never silence), nothing lost, nothing duplicated, and nothing sent that
the Bot API would refuse. Message types the emulator's ``user_sends`` does not build (stickers,
GIFs, video notes, polls, dice, venues, forwards) are put together here as Telegram sends them
and queued as updates.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.callbacks import CaseCb, CommentCb, ReclassCb, StaffFormCb, UnfiledCb
from domovoy.peers.telegram_api import BotAPIEmulator
from domovoy.peers.telegram_state import copy_json, new_message
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, TelegramHarness
from workflow.clock import ManualClock
from workflow.models import Case, Event, Feedback, Identity, Message, Quarantine

RESIDENT = 5001
IVAN, MARIA = STAFF_IDS["ivan"], STAFF_IDS["maria"]
OUTSIDER = 7777
HOUSE_CHAT = -1002000000077  # the residents' own house chat, which someone added the bot to

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]


# --- helpers --------------------------------------------------------------------------------


def register(emu: BotAPIEmulator, user: int = RESIDENT) -> None:
    """The resident opens the building's link, gives flat 7 and skips the phone."""
    emu.add_private_chat(user, "Анна")
    emu.user_sends(user, "/start lenina-5")
    emu.user_sends(user, "7")
    emu.user_sends(user, "Пропустить")


def raw_message(emu: BotAPIEmulator, user: int, content: Json, *,
                chat_id: int | None = None, kind: str = "message") -> Json:
    """Queue a message of a type ``user_sends`` cannot build, shaped as Telegram sends it."""
    w = emu.world(emu.token)
    w.ensure_user(user)
    if chat_id is None:
        chat = w.private_chat(user)
    else:
        chat = w.chat(chat_id)
        chat.members.setdefault(user, "member")
    msg = new_message(chat, copy_json(w.users[user]), None, None)
    msg.update(content)
    chat.messages[msg["message_id"]] = msg
    w.enqueue(kind, msg)
    return copy_json(msg)


def file_obj(tag: str, **extra: Any) -> Json:
    return {"file_id": f"FILE_{tag}_{time.monotonic_ns()}", "file_unique_id": f"U{tag}",
            "file_size": 2048, **extra}


def refused(emu: BotAPIEmulator, *, allowed: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Calls the Bot API refused (a real server would have too), except those a test caused
    on purpose (``allowed`` are fragments of the expected error descriptions)."""
    return [(r.method, r.description or "") for r in emu.requests
            if r.method != "getUpdates" and r.ok is False
            and not any(a in (r.description or "") for a in allowed)]


async def cases_of(h: TelegramHarness) -> list[Case]:
    async with h.app.wf.sessions() as session:
        return list((await session.scalars(select(Case).order_by(Case.id))).all())


async def quarantined(h: TelegramHarness) -> int:
    async with h.app.wf.sessions() as session:
        return int(await session.scalar(select(func.count(Quarantine.id))) or 0)


async def run(h: TelegramHarness) -> None:
    """Let the bot take every update, then deliver the outbox twice (acks, then cards)."""
    await h.settle()
    await h.deliver()
    await h.deliver()


async def open_case(h: TelegramHarness, text: str = "Течёт кран на кухне, вода на полу",
                    user: int = RESIDENT) -> tuple[Case, Json]:
    h.emu.add_private_chat(user, "Анна")
    h.emu.user_sends(user, text)
    await run(h)
    case = (await cases_of(h))[-1]
    card = next(m for m in h.emu.sent_messages(STAFF_CHAT)
                if case.number in (m.get("text") or "") and m.get("reply_markup"))
    return case, card


async def press(h: TelegramHarness, user: int, message: Json, data: str) -> Json:
    query = h.emu.user_presses(user, message, data, check_button=False)
    await run(h)
    return query


def answer_to(h: TelegramHarness, query: Json) -> Json:
    [answered] = [a for a in h.emu.callback_answers if a["callback_query_id"] == query["id"]]
    return answered


async def resolve(h: TelegramHarness, case: Case, card: Json) -> Json:
    """Ivan takes and resolves the case; returns the resident's "resolved" message."""
    for action in ("take", "resolve"):
        await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                    CaseCb(a=action, id=case.id).pack())
    return next(m for m in h.emu.sent_messages(RESIDENT)
                if f"rate:{case.number}:5" in str(m.get("reply_markup")))


# --- residents: message types ---------------------------------------------------------------


async def test_a_sticker_is_answered_and_opens_nothing(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    before = len(h.texts_to(RESIDENT))
    raw_message(h.emu, RESIDENT, {"sticker": file_obj(
        "sticker", type="regular", width=512, height=512, is_animated=False, is_video=False,
        emoji="😡")})
    await run(h)
    assert len(h.texts_to(RESIDENT)) == before + 1  # "this kind of message is not taken"
    assert await cases_of(h) == [] and await quarantined(h) == 0
    assert not refused(h.emu)


async def test_a_gif_without_words_is_not_silently_dropped(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    before = len(h.texts_to(RESIDENT))
    gif = file_obj("gif", width=320, height=240, duration=3, file_name="leak.mp4",
                   mime_type="video/mp4")
    # Telegram sends a GIF as an animation and, for old clients, as a document too.
    raw_message(h.emu, RESIDENT, {"animation": gif, "document": {
        k: gif[k] for k in ("file_id", "file_unique_id", "file_size", "file_name", "mime_type")}})
    await run(h)
    assert len(h.texts_to(RESIDENT)) > before
    assert await quarantined(h) == 0 and not refused(h.emu)


async def test_a_voice_message_reaches_staff_and_the_resident_hears_back(
        telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    before = len(h.texts_to(RESIDENT))
    h.emu.user_sends(RESIDENT, voice=b"OggS voice: the pipe burst in the basement")
    await run(h)
    assert len(h.texts_to(RESIDENT)) > before
    async with h.app.wf.sessions() as session:
        kept = await session.scalar(select(Message).where(Message.attachments != []))
    assert kept is not None and kept.attachments[0]["content_type"].startswith("audio/")
    assert not refused(h.emu)


async def test_a_video_note_is_kept_like_a_voice_message(telegram: TelegramHarness) -> None:
    """A round video of the leak is evidence, like a voice message or a video: it is kept for
    staff, not answered with "this kind of message is not taken"."""
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "Течёт с потолка в ванной, вот видео")
    await run(h)
    raw_message(h.emu, RESIDENT, {"video_note": file_obj("vnote", length=240, duration=8)})
    await run(h)
    [case] = await cases_of(h)
    async with h.app.wf.sessions() as session:
        kept = (await session.scalars(select(Message).where(
            Message.case_id == case.id, Message.attachments != []))).all()
    assert len(kept) == 1
    unsupported = "Этот тип сообщения бот не принимает"
    assert not any(unsupported in t for t in h.texts_to(RESIDENT))
    # Staff are shown the video itself under the card. (The emulator cannot copy a video note
    # and answers "message can't be copied"; Telegram copies it like any video.)
    assert len(h.emu.calls("copyMessage")) == 1
    assert not refused(h.emu, allowed=("message can't be copied",))


async def test_someone_elses_contact_card_is_filed_not_lost(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Не работает домофон, вот телефон мастера, который обещал прийти")
    await run(h)
    h.emu.user_shares_contact(RESIDENT, "+79995550011", own=False, first_name="Мастер")
    await run(h)
    [case] = await cases_of(h)
    async with h.app.wf.sessions() as session:
        texts = list(await session.scalars(select(Message.text).where(
            Message.case_id == case.id, Message.direction == "in")))
    assert any("+79995550011" in (t or "") for t in texts)
    assert not refused(h.emu)


async def test_a_location_after_the_words_joins_the_case(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Во дворе открыт канализационный люк, дети рядом играют")
    await run(h)
    h.emu.user_sends(RESIDENT, location=(55.751244, 37.618423))
    await run(h)
    [case] = await cases_of(h)
    staff = h.texts_to(STAFF_CHAT)
    assert any("55.751244" in t for t in staff)  # the spot reaches whoever goes there
    acks = [t for t in h.texts_to(RESIDENT) if case.number in t]
    assert len(acks) == 1
    assert not refused(h.emu)


async def test_a_venue_keeps_its_name_and_address(telegram: TelegramHarness) -> None:
    """A venue is a location with a name and an address; the address is what staff need."""
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Здесь вторую неделю не вывозят мусор, контейнеры переполнены")
    await run(h)
    location = {"latitude": 55.75, "longitude": 37.61}
    raw_message(h.emu, RESIDENT, {"location": location, "venue": {
        "location": location, "title": "Контейнерная площадка", "address": "ул. Ленина, 5 к2"}})
    await run(h)
    async with h.app.wf.sessions() as session:
        texts = list(await session.scalars(select(Message.text).where(
            Message.direction == "in")))
    assert any("ул. Ленина, 5 к2" in (t or "") for t in texts)


@pytest.mark.parametrize("content", [
    {"poll": {"id": "1", "question": "Кто за ремонт подъезда?",
              "options": [{"persistent_id": "a", "text": "за", "voter_count": 0},
                          {"persistent_id": "b", "text": "против", "voter_count": 0}],
              "total_voter_count": 0, "is_closed": False, "is_anonymous": True,
              "type": "regular", "allows_multiple_answers": False, "allows_revoting": False,
              "members_only": False}},
    {"dice": {"emoji": "🎲", "value": 4}},
], ids=["poll", "dice"])
async def test_a_poll_or_a_dice_is_answered_not_ignored(telegram: TelegramHarness,
                                                        content: Json) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    before = len(h.texts_to(RESIDENT))
    raw_message(h.emu, RESIDENT, content)
    await run(h)
    assert len(h.texts_to(RESIDENT)) == before + 1
    assert await cases_of(h) == [] and await quarantined(h) == 0
    assert not refused(h.emu)


async def test_a_post_forwarded_from_a_channel_is_read_and_answered(
        telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    channel = {"id": -1003000000001, "type": "channel", "title": "Новости района"}
    raw_message(h.emu, RESIDENT, {
        "text": "Внимание! В доме по ул. Ленина, 5 нет горячей воды третий день",
        "forward_origin": {"type": "channel", "chat": channel, "message_id": 77,
                           "date": int(time.time()) - 3600},
        "forward_from_chat": channel, "forward_from_message_id": 77,
        "forward_date": int(time.time()) - 3600})
    await run(h)
    [case] = await cases_of(h)
    assert any(case.number in t for t in h.texts_to(RESIDENT))
    assert await quarantined(h) == 0 and not refused(h.emu)


async def test_an_edit_of_a_report_adds_to_its_case_quietly(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    sent = h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    told = len(h.texts_to(RESIDENT))
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, уже залило соседей снизу",
                     edit_of=sent["message_id"])
    await run(h)
    [case] = await cases_of(h)
    assert len(h.texts_to(RESIDENT)) == told  # no second acknowledgement
    assert any("залило соседей" in t for t in h.texts_to(STAFF_CHAT))  # staff see the new words
    async with h.app.wf.sessions() as session:
        edits = (await session.scalars(select(Message).where(
            Message.case_id == case.id, Message.text.like("%залило%")))).all()
    assert len(edits) == 1


async def test_editing_the_flat_number_during_registration_files_nothing(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    flat = h.emu.user_sends(RESIDENT, "7")
    await run(h)
    h.emu.user_sends(RESIDENT, "17", edit_of=flat["message_id"])
    await run(h)
    assert await cases_of(h) == []
    assert not [t for t in h.texts_to(STAFF_CHAT) if "17" in t]  # no "unfiled" noise for staff


async def test_a_reply_to_an_old_acknowledgement_joins_that_case(
        telegram: TelegramHarness) -> None:
    h = telegram
    clock = h.app.wf.clock
    assert isinstance(clock, ManualClock)
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Не работает лифт во втором подъезде")
    await run(h)
    [lift] = await cases_of(h)
    ack = next(m for m in h.emu.sent_messages(RESIDENT) if lift.number in (m.get("text") or ""))
    clock.advance(timedelta(minutes=30))
    h.emu.user_sends(RESIDENT, "Во дворе не убран мусор")  # another matter in between
    await run(h)
    clock.advance(timedelta(minutes=30))
    h.emu.user_sends(RESIDENT, "Он так и стоит на пятом этаже",
                     reply_to_message_id=ack["message_id"])
    await run(h)
    cases = await cases_of(h)
    assert len(cases) == 2
    async with h.app.wf.sessions() as session:
        reply = await session.scalar(select(Message).where(Message.text.like("%пятом этаже%")))
    assert reply is not None and reply.case_id == lift.id


async def test_the_longest_message_telegram_allows_gets_a_card_telegram_accepts(
        telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    # 4096 UTF-16 units, half of them emoji (each two units): Telegram's own maximum.
    text = ("Течёт кран на кухне, вода на полу. " + "💧" * 1800)
    text += "ы" * (4096 - len(text.encode("utf-16-le")) // 2)
    assert len(text.encode("utf-16-le")) // 2 == 4096
    h.emu.user_sends(RESIDENT, text)
    await run(h)
    [case] = await cases_of(h)
    assert case.text == text  # kept whole
    assert any(case.number in t for t in h.texts_to(STAFF_CHAT))
    assert any(case.number in t for t in h.texts_to(RESIDENT))
    # A follow-up this long is relayed to staff whole, in as many parts as it takes.
    h.emu.user_sends(RESIDENT, "Ещё: " + "ю" * 4090)
    await run(h)
    relayed = "".join(t for t in h.texts_to(STAFF_CHAT))
    assert relayed.count("ю") == 4090
    assert not refused(h.emu)


async def test_text_full_of_html_reaches_everyone_as_typed(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    text = 'Течёт кран <b>на кухне</b> & в ванной, "срочно" <script>alert(1)</script> &amp; 5<7'
    h.emu.user_sends(RESIDENT, text)
    await run(h)
    [case] = await cases_of(h)
    assert case.text == text
    card = next(t for t in h.texts_to(STAFF_CHAT) if case.number in t)
    assert text in card and "&lt;" not in card
    h.emu.user_sends(RESIDENT, f"/case {case.number}")
    await run(h)
    assert text in h.texts_to(RESIDENT)[-1]
    assert not any(r.params.get("parse_mode") for r in h.emu.calls("sendMessage"))
    assert not refused(h.emu)


async def test_emoji_only_gets_an_answer_and_reaches_staff(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    before = len(h.texts_to(RESIDENT))
    h.emu.user_sends(RESIDENT, "😡😡😡🚰💦")
    await run(h)
    assert len(h.texts_to(RESIDENT)) == before + 1
    assert any("😡😡😡" in t for t in h.texts_to(STAFF_CHAT))
    assert not refused(h.emu)


# --- residents: commands --------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["/START", "/Start", "/HELP", "/Cases"])
async def test_a_command_in_capitals_is_the_command(telegram: TelegramHarness,
                                                    typed: str) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, typed)
    await run(h)
    [answer] = h.texts_to(RESIDENT)
    assert "незнакома" not in answer, answer


async def test_case_command_takes_the_number_however_typed(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    [case] = await cases_of(h)
    digits = case.number.split("-")[1]
    me = h.emu.world(h.emu.token).bot_user["username"]
    for typed in (f"/case {case.number.lower()}", f"/case   {case.number}  ",
                  f"/case@{me} {case.number}", f"/CASE {case.number}",
                  f"/case А-{digits}"):  # a Cyrillic А, as a Russian keyboard types it
        h.emu.user_sends(RESIDENT, typed)
        await run(h)
        assert f"Обращение {case.number}:" in h.texts_to(RESIDENT)[-1], typed


async def test_a_command_addressed_to_another_bot_is_answered_clearly(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/case@OtherBot A-1001")
    await run(h)
    [answer] = h.texts_to(RESIDENT)
    assert "/case@OtherBot" in answer  # not "/case is unknown", which it is not
    assert await cases_of(h) == []


@pytest.mark.parametrize("payload", [
    "x" * 64, "y" * 500, "LENINA-5", "lenina-5 кв 7", "<b>lenina-5</b>", "lenina-5%20", "🏠",
    "../../etc/passwd", "lenina-5\u200b",
])
async def test_start_with_an_odd_deep_link_is_answered(telegram: TelegramHarness,
                                                       payload: str) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, f"/start {payload}")
    await run(h)
    answers = h.texts_to(RESIDENT)
    assert answers and all(a.strip() for a in answers)
    assert await quarantined(h) == 0 and not refused(h.emu)
    # Whatever the link said, the next message is a report like any other.
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    if "кв" in h.texts_to(RESIDENT)[-2] or "квартир" in answers[-1]:
        return  # it asked for the flat: "Течёт кран" is not one, and is asked again
    assert len(await cases_of(h)) == 1


# --- residents: unreachable -----------------------------------------------------------------


@pytest.mark.parametrize("error", [
    (403, "Forbidden: user is deactivated"),
    (400, "Bad Request: chat not found"),
    (403, "Forbidden: bot was blocked by the user"),
])
async def test_a_deleted_or_blocking_account_is_marked_and_staff_are_told(
        make_telegram: MakeTelegram, error: tuple[int, str]) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    thread = card["message_thread_id"]
    h.emu.fail_next("sendMessage", chat_id=RESIDENT, error_code=error[0],
                    description=error[1], n=5)
    sent = h.emu.user_sends(IVAN, "Мастер придёт завтра в 10:00", chat_id=STAFF_CHAT,
                            message_thread_id=thread)
    await run(h)
    async with h.app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == str(RESIDENT)))
    assert ident is not None and ident.unreachable
    reactions = h.emu.world(h.emu.token).reactions
    await h.until(lambda: any(r["message_id"] == sent["message_id"] for r in reactions),
                  what="a mark on the staff reply")
    assert [r["reaction"][0]["emoji"] for r in reactions
            if r["message_id"] == sent["message_id"]] == ["👎"]
    staff = h.texts_to(STAFF_CHAT)
    assert any("не удалось доставить" in t for t in staff)
    # Ivan answers again: he is told at once that nobody can receive it.
    h.emu.user_sends(IVAN, "Повторяю: мастер придёт завтра", chat_id=STAFF_CHAT,
                     message_thread_id=thread)
    await run(h)
    assert any(case.number in t and "недоступен" in t for t in h.texts_to(STAFF_CHAT))
    assert not refused(h.emu, allowed=(error[1],))


# --- residents: where the bot is not meant to talk ------------------------------------------


async def test_messages_in_a_foreign_group_open_nothing_and_break_nothing(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_supergroup(HOUSE_CHAT, "Ленина 5 — соседи", bot_status="member")
    w = h.emu.world(h.emu.token)
    bot = w.bot_public()
    # Someone adds the bot to the house chat: Telegram tells it so.
    w.enqueue("my_chat_member", {
        "chat": w.chat(HOUSE_CHAT).public(), "from": w.ensure_user(RESIDENT, "Анна"),
        "date": int(time.time()),
        "old_chat_member": {"status": "left", "user": bot},
        "new_chat_member": {"status": "member", "user": bot}})
    h.emu.user_sends(RESIDENT, "/start", chat_id=HOUSE_CHAT)
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу", chat_id=HOUSE_CHAT)
    h.emu.user_sends(RESIDENT, "/case@" + bot["username"] + " A-1001", chat_id=HOUSE_CHAT)
    await run(h)
    assert await cases_of(h) == [] and await quarantined(h) == 0
    assert not refused(h.emu)
    # Residents' words in someone else's chat are not filed, and nothing is posted there
    # (the house chat is not a place to discuss anyone's case).
    assert not [m for m in h.emu.sent_messages(HOUSE_CHAT) if "A-1001" in (m.get("text") or "")]


async def test_a_command_to_the_bot_in_a_foreign_group_points_to_the_private_chat(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_supergroup(HOUSE_CHAT, "Ленина 5 — соседи", bot_status="member")
    me = h.emu.world(h.emu.token).bot_user["username"]
    h.emu.user_sends(RESIDENT, f"/start@{me}", chat_id=HOUSE_CHAT)
    await run(h)
    assert any(me in t for t in h.texts_to(HOUSE_CHAT))


async def test_a_channel_post_is_never_taken_for_a_resident(telegram: TelegramHarness) -> None:
    h = telegram
    w = h.emu.world(h.emu.token)
    channel = {"id": -1003000000002, "type": "channel", "title": "УК Домовой — новости"}
    w.enqueue("channel_post", {"message_id": 5, "chat": channel, "date": int(time.time()),
                               "sender_chat": channel, "text": "Плановое отключение воды"})
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/help")  # the bot still serves residents after it
    await run(h)
    assert h.texts_to(RESIDENT)
    assert await cases_of(h) == [] and not refused(h.emu)


async def test_block_then_unblock_restores_the_resident(telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT + 9, "Незнакомец")
    h.emu.block_user(RESIDENT + 9)  # someone who never wrote blocks the bot: nothing to do
    case, card = await open_case(h)
    h.emu.block_user(RESIDENT)
    await run(h)
    h.emu.unblock_user(RESIDENT)
    await run(h)
    async with h.app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == str(RESIDENT)))
    assert ident is not None and not ident.unreachable
    await press(h, IVAN, card, CaseCb(a="take", id=case.id).pack())
    assert any("в работе" in t for t in h.texts_to(RESIDENT))


# --- residents: buttons ---------------------------------------------------------------------


async def test_rating_twice_quickly_thanks_once(telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    before = len(h.texts_to(RESIDENT))
    h.emu.user_presses(RESIDENT, resolved, f"rate:{case.number}:5")
    h.emu.user_presses(RESIDENT, resolved, f"rate:{case.number}:5", check_button=False)
    await run(h)
    assert len(h.texts_to(RESIDENT)) == before + 1  # one "thank you for the rating"
    async with h.app.wf.sessions() as session:
        feedback = (await session.scalars(select(Feedback))).all()
    assert [f.rating for f in feedback] == [5]
    assert all(a["callback_query_id"] for a in h.emu.callback_answers)
    assert not refused(h.emu)


async def test_an_old_rating_button_after_the_case_reopened_is_refused(
        telegram: TelegramHarness) -> None:
    """Anna said it still leaks, the case is open again: the "5" still on her screen under the
    old "resolved" message must not score a job that is not done."""
    h = telegram
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    h.emu.user_sends(RESIDENT, "Не починили, кран опять течёт",
                     reply_to_message_id=resolved["message_id"])
    await run(h)
    assert (await cases_of(h))[0].stage not in ("resolved", "closed")
    before = len(h.texts_to(RESIDENT))
    query = await press(h, RESIDENT, resolved, f"rate:{case.number}:5")
    async with h.app.wf.sessions() as session:
        assert await session.scalar(select(Feedback)) is None
    assert answer_to(h, query)["text"]  # told why, not left spinning
    assert len(h.texts_to(RESIDENT)) == before  # and no "thanks for your 5"


async def test_rating_again_after_a_rating_replaces_it(telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    await press(h, RESIDENT, resolved, f"rate:{case.number}:2")
    await press(h, RESIDENT, h.emu.sent_messages(RESIDENT)[-1], CommentCb(a="skip").pack())
    await press(h, RESIDENT, resolved, f"rate:{case.number}:4")  # a client still showing them
    async with h.app.wf.sessions() as session:
        feedback = (await session.scalars(select(Feedback))).all()
    assert [f.rating for f in feedback] == [4]
    assert not refused(h.emu)


async def test_a_complaint_written_as_the_rating_comment_reaches_staff(
        make_telegram: MakeTelegram) -> None:
    """After pressing "3" the bot asks for a comment; what Anna writes is that it leaks again.
    By mail "3, опять течёт" reopens the case; from the button it must not just be filed away."""
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    await press(h, RESIDENT, resolved, f"rate:{case.number}:3")
    h.emu.user_sends(RESIDENT, "Кран опять течёт, как и раньше")
    await run(h)
    staff = h.texts_to(STAFF_CHAT)
    assert any("опять течёт" in t for t in staff) or \
        (await cases_of(h))[0].stage not in ("resolved", "closed")
    async with h.app.wf.sessions() as session:
        feedback = await session.scalar(select(Feedback))
    assert feedback is not None and feedback.rating == 3


async def test_a_button_under_a_message_too_old_to_show_is_still_answered(
        telegram: TelegramHarness) -> None:
    """Telegram sends a button press under a message older than 48 hours with an
    "inaccessible message" (date 0, no content)."""
    h = telegram
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    w = h.emu.world(h.emu.token)
    query = {"id": f"{w.bot_id}99", "from": copy_json(w.users[RESIDENT]),
             "chat_instance": "1", "data": f"rate:{case.number}:4",
             "message": {"chat": resolved["chat"], "message_id": resolved["message_id"],
                         "date": 0}}
    w.callback_queries[query["id"]] = {"query": query, "answered": False}
    w.enqueue("callback_query", query)
    await run(h)
    assert answer_to(h, query)
    async with h.app.wf.sessions() as session:
        feedback = await session.scalar(select(Feedback))
    assert feedback is not None and feedback.rating == 4
    assert await quarantined(h) == 0


# --- staff ----------------------------------------------------------------------------------


async def test_a_reply_in_the_topic_of_a_closed_case_still_reaches_the_resident(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    thread = card["message_thread_id"]
    for action in ("take", "resolve", "close"):
        await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                    CaseCb(a=action, id=case.id).pack())
    assert h.emu.topics(STAFF_CHAT)[0]["closed"]
    sent = h.emu.user_sends(IVAN, "Забыл сказать: гарантия на работу 1 год", chat_id=STAFF_CHAT,
                            message_thread_id=thread)
    await run(h)
    assert sum("гарантия на работу" in t for t in h.texts_to(RESIDENT)) == 1
    reactions = h.emu.world(h.emu.token).reactions
    await h.until(lambda: any(r["message_id"] == sent["message_id"] for r in reactions))
    assert not refused(h.emu)


@pytest.mark.parametrize("data", [
    CaseCb(a="need_info", id=0).pack(), CaseCb(a="rc", id=0).pack(),
    CaseCb(a="card", id=0).pack(), CaseCb(a="show", id=0).pack(),
    CaseCb(a="reopen", id=0).pack(), CaseCb(a="resolve", id=0).pack(),
    ReclassCb(id=0, axis="category").pack(), ReclassCb(id=0, axis="category", v="noise").pack(),
    StaffFormCb(a="x").pack(), StaffFormCb(a="b", v="lenina-5").pack(),
    StaffFormCb(a="c", v="phone").pack(),
])
async def test_an_outsider_in_the_staff_group_is_refused_every_button(
        telegram: TelegramHarness, data: str) -> None:
    h = telegram
    case, card = await open_case(h)
    data = data.replace(":0", f":{case.id}", 1) if ":0" in data else data
    # Ivan has a /new form open in the group: an outsider's press must not touch it either.
    h.emu.user_sends(IVAN, "/new", chat_id=STAFF_CHAT)
    await run(h)
    form = h.emu.sent_messages(STAFF_CHAT)[-1]
    target = form if data.startswith("sf:") else h.emu.message(STAFF_CHAT, card["message_id"])
    markup_before = h.emu.message(STAFF_CHAT, target["message_id"]).get("reply_markup")
    before = await cases_of(h)
    query = await press(h, OUTSIDER, target, data)
    answered = answer_to(h, query)
    assert answered["show_alert"] and "Извините" in (answered["text"] or ""), answered
    after = await cases_of(h)
    assert [(c.stage, c.category, c.assignee_id) for c in after] == \
        [(c.stage, c.category, c.assignee_id) for c in before]
    assert h.emu.message(STAFF_CHAT, target["message_id"]).get("reply_markup") == markup_before
    assert not [m for m in h.emu.sent_messages(STAFF_CHAT) if "Обращение" in (m.get("text") or "")
                and m["message_id"] > form["message_id"]]  # no case details shown to them


async def test_an_outsider_cannot_file_a_set_aside_message(telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Добрый день!")
    await run(h)
    note = next(m for m in h.emu.sent_messages(STAFF_CHAT)
                if "u:" in str(m.get("reply_markup")))
    data = note["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    query = await press(h, OUTSIDER, note, data)
    assert answer_to(h, query)["show_alert"]
    assert await cases_of(h) == []
    assert UnfiledCb.unpack(data).m


async def test_the_staff_group_upgraded_to_a_supergroup(make_telegram: MakeTelegram) -> None:
    """A basic staff group is upgraded (Telegram does so when an admin turns on topics or
    history): the old id answers 400 "group chat was upgraded to a supergroup chat" with the
    new id in ``migrate_to_chat_id``. New cards must not vanish or loop silently."""
    h = await make_telegram()
    new_id = -1009000000001
    h.emu.upgrade_group(STAFF_CHAT, new_id, notify=False)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу")
    await run(h)
    [case] = await cases_of(h)
    [card] = [m for m in h.emu.sent_messages(new_id) if case.number in (m.get("text") or "")
              and m.get("reply_markup")]
    # Staff work in the new group: a reply to the card reaches the resident.
    h.emu.user_sends(IVAN, "Сантехник будет в 15:00", chat_id=new_id,
                     reply_to_message_id=card["message_id"])
    await run(h)
    assert any("в 15:00" in t for t in h.texts_to(RESIDENT))
    # The next case goes straight there.
    h.emu.add_private_chat(RESIDENT + 1, "Борис")
    h.emu.user_sends(RESIDENT + 1, "Не работает лифт во втором подъезде")
    await run(h)
    second = (await cases_of(h))[-1]
    assert any(second.number in t for t in h.texts_to(new_id))
    to_old_id = [r for r in h.emu.requests if str(r.params.get("chat_id")) == str(STAFF_CHAT)]
    assert len(to_old_id) == 1  # the old id was tried once, then never again


async def test_a_migration_notice_in_the_staff_group_is_followed(
        telegram: TelegramHarness) -> None:
    """Telegram posts "migrate_to_chat_id" in the old group when it is upgraded."""
    h = telegram
    new_id = -1009000000002
    h.emu.add_supergroup(new_id, "Диспетчерская")
    raw_message(h.emu, IVAN, {"migrate_to_chat_id": new_id}, chat_id=STAFF_CHAT)
    await run(h)
    h.emu.user_sends(IVAN, "/open", chat_id=new_id)
    await run(h)
    assert h.texts_to(new_id)  # the bot now listens to staff in the new group


async def test_a_deleted_topic_is_recreated_for_a_staff_answer(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    h.emu.delete_topic(STAFF_CHAT, card["message_thread_id"])
    await press(h, IVAN, card, CaseCb(a="take", id=case.id).pack())  # edits a card now gone
    h.emu.user_sends(RESIDENT, "Вода уже у соседей снизу")
    await run(h)
    live = [t for t in h.emu.topics(STAFF_CHAT) if not t["deleted"]]
    assert len(live) == 1
    thread = live[0]["message_thread_id"]
    in_topic = [m.get("text") or "" for m in h.emu.sent_messages(STAFF_CHAT, thread_id=thread)]
    assert any(case.number in t for t in in_topic) and any("соседей снизу" in t for t in in_topic)
    h.emu.user_sends(IVAN, "Перекройте стояк, мастер выехал", chat_id=STAFF_CHAT,
                     message_thread_id=thread)
    await run(h)
    assert any("мастер выехал" in t for t in h.texts_to(RESIDENT))


async def test_a_long_staff_reply_reaches_the_resident_whole(make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    text = "Порядок работ: " + " ".join(f"шаг {i} — проверить стояк;" for i in range(400))
    text = text[:4096]
    h.emu.user_sends(IVAN, text, chat_id=STAFF_CHAT, message_thread_id=card["message_thread_id"])
    await run(h)
    got = "".join(t for t in h.texts_to(RESIDENT) if "шаг" in t)
    words = [w for w in text.split() if w]
    assert all(w in got for w in words[-5:]) and "шаг 0 " in got
    assert not refused(h.emu)


async def test_a_link_in_a_staff_reply_keeps_its_address(make_telegram: MakeTelegram) -> None:
    """Staff format answers: bold, and links hidden behind words. The resident gets plain
    text, so a link's address must not vanish with its formatting."""
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    text = "Оплатить вызов можно здесь, а график — на сайте."
    url = "https://pay.example.org/invoice/42"
    entities = [{"type": "bold", "offset": 0, "length": 8},
                {"type": "text_link", "offset": text.index("здесь"), "length": 5, "url": url}]
    h.emu.user_sends(IVAN, text, chat_id=STAFF_CHAT, message_thread_id=card["message_thread_id"],
                     entities=entities)
    await run(h)
    got = [t for t in h.texts_to(RESIDENT) if "Оплатить" in t]
    assert len(got) == 1 and url in got[0]
    assert not refused(h.emu)


async def test_a_link_in_an_edited_staff_reply_keeps_its_address(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    sent = h.emu.user_sends(IVAN, "Оплатить можно на сайте", chat_id=STAFF_CHAT,
                            message_thread_id=card["message_thread_id"])
    await run(h)
    url = "https://pay.example.org/i/43"
    text = "Оплатить можно по ссылке"
    h.emu.user_sends(IVAN, text, chat_id=STAFF_CHAT, edit_of=sent["message_id"], entities=[
        {"type": "text_link", "offset": text.index("ссылке"), "length": 6, "url": url}])
    await run(h)
    corrected = [t for t in h.texts_to(RESIDENT) if "по ссылке" in t]
    assert len(corrected) == 1 and url in corrected[0]


@pytest.mark.parametrize("typed", ["/CASE {n}", "/Case {n}", "/case {low}"])
async def test_staff_commands_in_any_case(telegram: TelegramHarness, typed: str) -> None:
    h = telegram
    case, _card = await open_case(h)
    h.emu.user_sends(IVAN, typed.format(n=case.number, low=case.number.lower()),
                     chat_id=STAFF_CHAT)
    await run(h)
    last = h.texts_to(STAFF_CHAT)[-1]
    assert case.number in last and "незнаком" not in last, last


async def test_an_outsider_writing_in_a_case_topic_is_refused_and_nothing_is_relayed(
        make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    h.emu.user_sends(OUTSIDER, "Я сосед, у меня тоже течёт", chat_id=STAFF_CHAT,
                     message_thread_id=card["message_thread_id"])
    await run(h)
    assert not any("я сосед" in t.lower() for t in h.texts_to(RESIDENT))
    assert "Извините" in h.texts_to(STAFF_CHAT)[-1]


async def test_two_presses_of_take_by_the_same_person(telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    data = CaseCb(a="take", id=case.id).pack()
    q1 = h.emu.user_presses(IVAN, card, data)
    q2 = h.emu.user_presses(IVAN, card, data)
    await run(h)
    async with h.app.wf.sessions() as session:
        taken = (await session.scalars(select(Event).where(Event.action == "taken"))).all()
    assert len(taken) == 1
    assert answer_to(h, q1)["text"] and answer_to(h, q2)["text"]
    assert sum("в работе" in t for t in h.texts_to(RESIDENT)) == 1


async def test_a_stale_card_button_says_where_the_case_stands(telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    old = h.emu.message(STAFF_CHAT, card["message_id"])  # as a second phone still shows it
    for action in ("take", "resolve", "close"):
        await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                    CaseCb(a=action, id=case.id).pack())
    query = await press(h, MARIA, old, CaseCb(a="progress", id=case.id).pack())
    answered = answer_to(h, query)
    assert answered["show_alert"] and "закрыто" in answered["text"].lower(), answered
    assert (await cases_of(h))[0].stage == "closed"


async def test_send_pressed_twice_in_the_form_makes_one_case(telegram: TelegramHarness) -> None:
    from bot.callbacks import FormCb

    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/new")
    await run(h)
    await press(h, RESIDENT, h.emu.sent_messages(RESIDENT)[-1], FormCb(a="t", v="plumbing").pack())
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    await press(h, RESIDENT, h.emu.sent_messages(RESIDENT)[-1], FormCb(a="d").pack())
    confirm = h.emu.sent_messages(RESIDENT)[-1]
    q1 = h.emu.user_presses(RESIDENT, confirm, FormCb(a="s").pack())
    q2 = h.emu.user_presses(RESIDENT, confirm, FormCb(a="s").pack())
    await run(h)
    assert len(await cases_of(h)) == 1
    assert answer_to(h, q1) and answer_to(h, q2)["text"]  # the second: "no longer works"
    case = (await cases_of(h))[0]
    assert sum(case.number in t for t in h.texts_to(RESIDENT)) == 1
    assert not refused(h.emu)


async def test_a_sticker_in_a_case_topic_is_not_thought_delivered(
        make_telegram: MakeTelegram) -> None:
    """Staff answer with a 👍 sticker or a location pin: only text reaches the resident, so
    they are told, as for a photo."""
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    thread = card["message_thread_id"]
    w = h.emu.world(h.emu.token)
    chat = w.chat(STAFF_CHAT)
    for content in ({"sticker": file_obj("st", type="regular", width=512, height=512,
                                         is_animated=False, is_video=False, emoji="👍")},
                    {"location": {"latitude": 55.75, "longitude": 37.61}}):
        msg = new_message(chat, copy_json(w.users[IVAN]), thread, chat.messages[thread])
        msg.update(content)
        chat.messages[msg["message_id"]] = msg
        w.enqueue("message", msg)
    await run(h)
    told = [m for m in h.emu.sent_messages(STAFF_CHAT, thread_id=thread)
            if "не отправлено" in (m.get("text") or "")]
    assert len(told) == 2


async def resolved_report(h: TelegramHarness, text: str) -> dict[str, Any]:
    """A registered resident's report, resolved by staff; the resident's message as sent."""
    register(h.emu)
    sent = h.emu.user_sends(RESIDENT, text)
    await run(h)
    [case] = await cases_of(h)
    card = next(m for m in h.emu.sent_messages(STAFF_CHAT)
                if case.number in (m.get("text") or "") and m.get("reply_markup"))
    await resolve(h, case, card)
    return sent


async def test_an_edit_of_the_first_message_after_resolution_does_not_reopen(
        telegram: TelegramHarness) -> None:
    """Anna fixes a typo in her report after the job was done: the case stays resolved."""
    h = telegram
    sent = await resolved_report(h, "Течёт кран на кухне, вода на плу")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне, вода на полу", edit_of=sent["message_id"])
    await run(h)
    assert [c.stage for c in await cases_of(h)] == ["resolved"]


async def test_an_edit_that_says_the_fault_is_back_still_reaches_staff(
        telegram: TelegramHarness) -> None:
    h = telegram
    sent = await resolved_report(h, "Течёт кран на кухне")
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне. UPD: починили, но через час снова потекло",
                     edit_of=sent["message_id"])
    await run(h)
    [case] = await cases_of(h)
    assert case.stage == "investigating"  # reopened: the edit is news, not a typo
    async with h.app.wf.sessions() as session:
        edit = await session.scalar(select(Message).where(Message.text.like("%снова потекло%")))
    assert edit is not None and edit.case_id == case.id


async def test_the_words_that_reopen_a_case_reach_staff(make_telegram: MakeTelegram) -> None:
    h = await make_telegram(forum=True)
    case, card = await open_case(h)
    resolved = await resolve(h, case, card)
    h.emu.user_sends(RESIDENT, "Не починили, под раковиной опять лужа",
                     reply_to_message_id=resolved["message_id"])
    await run(h)
    assert (await cases_of(h))[0].stage == "investigating"
    assert any("опять лужа" in t for t in h.texts_to(STAFF_CHAT))


async def test_choosing_a_language_twice_quickly_confirms_once(telegram: TelegramHarness) -> None:
    from bot.callbacks import LangCb

    h = telegram
    h.emu.add_private_chat(RESIDENT, "Anna", language_code="ru")
    h.emu.user_sends(RESIDENT, "/lang")
    await run(h)
    menu = h.emu.sent_messages(RESIDENT)[-1]
    q1 = h.emu.user_presses(RESIDENT, menu, LangCb(code="en").pack())
    q2 = h.emu.user_presses(RESIDENT, menu, LangCb(code="en").pack())
    await run(h)
    assert h.texts_to(RESIDENT)[1:] == ["Language: English."]
    assert answer_to(h, q1) and answer_to(h, q2)["text"] == "Language: English."
    h.emu.user_sends(RESIDENT, "/help")
    await run(h)
    assert "/new" in h.texts_to(RESIDENT)[-1] and "Как" not in h.texts_to(RESIDENT)[-1]
