"""The fourth robustness round: what the Telegram audit of 6 December found.

As in ``test_bot_fuzz.py``, each test drives the real bot through the Bot API emulator over
HTTP and asserts what a person would notice: a live location shared for an hour does not
flood the staff chat with empty notes, a card the staff chat refuses for lack of rights is
not lost unseen, every building stays reachable from the ``/new`` menu, a long-captioned
photo still reaches staff, and staff commands answer what was meant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from aiohttp import ClientSession
from sqlalchemy import select

from bot.callbacks import CaseCb, FormCb, StaffFormCb
from domovoy.app import build_app
from domovoy.peers.telegram_api import BotAPIEmulator
from tests.conftest import ORG, make_config
from tests.peers.telegram import (
    MANAGERS_CHAT,
    STAFF_CHAT,
    STAFF_IDS,
    TelegramHarness,
    add_staff_chats,
    telegram_config,
)
from tests.test_bot_fuzz import cases_of, open_case, refused, register, run
from workflow.clock import ManualClock, ShiftedClock
from workflow.models import Message, OutboxItem, Staff

RESIDENT = 5001
IVAN, MARIA, OLEG, ANNA = (STAFF_IDS["ivan"], STAFF_IDS["maria"], STAFF_IDS["oleg"],
                           STAFF_IDS["anna"])
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]


def staff_posts(h: TelegramHarness) -> list[str]:
    return h.texts_to(STAFF_CHAT)


async def test_a_moving_live_location_posts_nothing_empty_to_staff(
        telegram: TelegramHarness) -> None:
    """A resident shares a live location after the report: every move of it arrives as an
    edit, for up to eight hours. None of them may become an empty "the resident writes" note
    in the staff chat (each used up the group's budget ahead of other cards), nor may a
    photo's caption being removed."""
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "Во дворе прорвало трубу, вода бьёт из асфальта")
    live = h.emu.user_sends(RESIDENT, location=(55.75, 37.61), live_period=3600)
    photo = h.emu.user_sends(RESIDENT, photo=PNG, caption="вот так выглядит")
    await run(h)
    [case] = await cases_of(h)
    before = len(staff_posts(h))
    for step in range(1, 4):
        h.emu.user_sends(RESIDENT, location=(55.75 + step * 0.001, 37.61),
                         edit_of=live["message_id"])
        await run(h)
    h.emu.user_sends(RESIDENT, caption="", edit_of=photo["message_id"])
    await run(h)
    assert staff_posts(h)[before:] == []
    async with h.app.wf.sessions() as session:
        texts = (await session.scalars(select(Message.text).where(
            Message.case_id == case.id, Message.direction == "in"))).all()
    assert all(t.strip() for t in texts), texts
    assert refused(h.emu) == []


async def test_a_card_the_staff_chat_refuses_for_lack_of_rights_waits_and_managers_are_told(
        telegram: TelegramHarness, clock: ManualClock) -> None:
    """An admin restricts the bot in the staff group (or demotes it where members may not
    write): Telegram refuses the gas card with 400 "not enough rights". The managers are told
    at once, in their chat and directly, and the card is not given up: once the bot may write
    again it reaches staff (it used to fail for good, and nobody knew)."""
    h = telegram
    h.emu.restrict_bot(STAFF_CHAT)
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "Пахнет газом в подъезде, сильный запах у лифта!")
    await run(h)
    [case] = await cases_of(h)
    assert not any(case.number in t for t in staff_posts(h))
    for managers in (MANAGERS_CHAT, ANNA):
        assert any(str(STAFF_CHAT) in t for t in h.texts_to(managers)), managers
    told = len(h.texts_to(MANAGERS_CHAT))
    clock.advance(timedelta(seconds=30))
    await h.deliver()  # still refused: the managers are not told twice
    assert len(h.texts_to(MANAGERS_CHAT)) == told
    h.emu.restrict_bot(STAFF_CHAT, restricted=False)
    clock.advance(timedelta(minutes=5))
    await h.deliver()
    assert any(case.number in t and "газ" in t.lower() for t in staff_posts(h))


async def test_every_one_of_120_buildings_can_be_chosen_in_the_new_form(tmp_path: Path) -> None:
    """A company with 120 buildings: staff's ``/new`` menu used to put all 121 buttons under
    one message, which Telegram refuses (over 100), so staff saw nothing at all. Every
    building is reachable, page by page, and the chosen one carries the form on."""
    codes = [f"dom-{i}" for i in range(120)]
    org = {**ORG, "buildings": [{"code": c, "address": f"ул. Тестовая, {c}"} for c in codes]}
    app = await build_app(make_config(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}", **org),
                          clock=ShiftedClock())
    async with BotAPIEmulator() as emu:
        add_staff_chats(emu)
        h = TelegramHarness(app, emu, telegram_config(emu))
        await h.start()
        try:
            emu.user_sends(IVAN, "/new", chat_id=STAFF_CHAT)
            await run(h)
            [menu] = [m for m in emu.sent_messages(STAFF_CHAT) if m.get("reply_markup")]
            seen: list[str] = []
            page = 0
            while True:
                rows = emu.message(STAFF_CHAT, menu["message_id"])["reply_markup"][
                    "inline_keyboard"]
                seen += [b["text"] for row in rows for b in row if b["text"].startswith("dom-")]
                onward = StaffFormCb(a="p", v=str(page + 1)).pack()
                if onward not in [b["callback_data"] for row in rows for b in row]:
                    break
                emu.user_presses(IVAN, (STAFF_CHAT, menu["message_id"]), onward)
                await run(h)
                page += 1
            assert sorted(seen) == sorted(codes)
            last = emu.message(STAFF_CHAT, menu["message_id"])
            emu.user_presses(IVAN, last, "sf:b:dom-119")
            await run(h)
            assert any("квартир" in t.lower() for t in h.texts_to(STAFF_CHAT))
            assert refused(emu) == []
        finally:
            await h.stop()
            await app.close()


async def test_a_photo_with_a_premium_length_caption_still_reaches_staff(
        telegram: TelegramHarness) -> None:
    """A Telegram Premium resident may caption a photo with more than the 1024 characters a
    bot may send. Telegram refuses to copy such a photo as a reply under the card, and the
    photo never reached staff; it follows the card instead, and a staff reply to it is an
    answer on the case."""
    h = telegram
    register(h.emu)
    await run(h)
    caption = ("С потолка в ванной течёт после ремонта у соседей сверху, пятно растёт. " * 20)
    assert len(caption) > 1024
    h.emu.user_sends(RESIDENT, photo=PNG, caption=caption.strip())
    await run(h)
    assert len(await cases_of(h)) == 1
    [card] = [m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("reply_markup")]
    photos = [m for m in h.emu.sent_messages(STAFF_CHAT) if "photo" in m]
    assert len(photos) == 1 and photos[0]["message_id"] > card["message_id"]
    assert refused(h.emu, allowed=("caption is too long",)) == []
    h.emu.user_sends(IVAN, "Завтра в 10:00 придёт сантехник, будьте дома.", chat_id=STAFF_CHAT,
                     reply_to_message_id=photos[0]["message_id"])
    await run(h)
    assert any("сантехник" in t for t in h.texts_to(RESIDENT))


async def test_a_case_cannot_be_assigned_to_a_former_staff_member(
        telegram: TelegramHarness) -> None:
    """Oleg has left (no longer active): the head's ``/assign … @oleg`` is refused with a
    clear answer, and the case is neither his nor pinged to him (he could not act on it)."""
    h = telegram
    case, _ = await open_case(h)
    async with h.app.wf.sessions.begin() as session:
        oleg = await session.scalar(select(Staff).where(Staff.telegram_user_id == OLEG))
        assert oleg is not None
        oleg.active = False
    before = len(staff_posts(h))
    h.emu.user_sends(MARIA, f"/assign {case.number} @oleg", chat_id=STAFF_CHAT)
    await run(h)
    [answer] = staff_posts(h)[before:]
    assert "@oleg" in answer and "не найдено" not in answer
    [after] = await cases_of(h)
    assert after.assignee_id is None
    assert h.texts_to(OLEG) == []


async def test_assign_takes_a_username_however_capitalised_and_names_an_unknown_person(
        telegram: TelegramHarness) -> None:
    """Telegram usernames ignore case: ``@Ivan`` is ``ivan``. A name that is nobody on the
    staff is answered as an unknown staff member, not as a case that was not found."""
    h = telegram
    case, _ = await open_case(h)
    before = len(staff_posts(h))
    h.emu.user_sends(MARIA, f"/assign {case.number} @Ivan", chat_id=STAFF_CHAT)
    await run(h)
    [after] = await cases_of(h)
    async with h.app.wf.sessions() as session:
        ivan = await session.scalar(select(Staff).where(Staff.telegram_user_id == IVAN))
    assert ivan is not None and after.assignee_id == ivan.id
    assert any(ivan.name in t for t in staff_posts(h)[before:])
    before = len(staff_posts(h))
    h.emu.user_sends(MARIA, f"/assign {case.number} @nobody", chat_id=STAFF_CHAT)
    await run(h)
    [answer] = staff_posts(h)[before:]
    assert "@nobody" in answer and "Обращение" not in answer


async def test_a_command_typed_on_a_russian_keyboard_is_answered_not_filed(
        telegram: TelegramHarness) -> None:
    """``/помощь`` or ``/старт`` (a command in Cyrillic, which Telegram does not take for
    one) gets the unknown-command answer with the help, as in the staff chat; it used to be
    thanked as a report and posted to staff as an unfiled message. Words after the slash
    word are still a report."""
    h = telegram
    register(h.emu)
    await run(h)
    before = len(staff_posts(h))
    for typed in ("/помощь", "/старт", "/"):
        sent = h.emu.user_sends(RESIDENT, typed)
        await run(h)
        [answer] = [m["text"] for m in h.emu.sent_messages(RESIDENT)
                    if m["message_id"] > sent["message_id"]]
        assert typed in answer and "/cases" in answer
    assert await cases_of(h) == [] and staff_posts(h)[before:] == []
    h.emu.user_sends(RESIDENT, "/помощь течёт кран в ванной, вода на полу")
    await run(h)
    assert len(await cases_of(h)) == 1


async def form_to_step(h: TelegramHarness, describe: bool = True) -> None:
    """The resident opens the ``/new`` form, picks plumbing and (``describe``) types it."""
    h.emu.user_sends(RESIDENT, "/new")
    await run(h)
    h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1],
                       FormCb(a="t", v="plumbing").pack())
    await run(h)
    if describe:
        h.emu.user_sends(RESIDENT, "Течёт стояк в ванной, капает на пол")
        await run(h)


async def form_done_and_send(h: TelegramHarness) -> None:
    for action in ("d", "s"):
        h.emu.user_presses(RESIDENT, h.emu.sent_messages(RESIDENT)[-1],
                           FormCb(a=action).pack())
        await run(h)
    await run(h)


async def test_a_voice_note_at_the_forms_photo_step_is_kept_and_shown_to_staff(
        telegram: TelegramHarness) -> None:
    """At the form's photo step the resident records a voice note (or sends a video): it is
    taken like a photo and reaches staff under the card. It used to get only "press a
    button", and the case went out without it, the resident never told."""
    h = telegram
    register(h.emu)
    await run(h)
    await form_to_step(h)
    sent = h.emu.user_sends(RESIDENT, voice=b"OggS" + b"0" * 64)
    await run(h)
    [answer] = [m["text"] for m in h.emu.sent_messages(RESIDENT)
                if m["message_id"] > sent["message_id"]]
    assert "1" in answer and "нажмите кнопку" not in answer.lower()
    await form_done_and_send(h)
    assert len(await cases_of(h)) == 1
    assert len([m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("voice")]) == 1


async def test_a_photo_captioned_with_the_description_fills_the_forms_description(
        telegram: TelegramHarness) -> None:
    """Asked to describe the problem, the resident sends a photo with the words as its
    caption: the words are the description and the photo is its first, both reach staff
    (the form answered "a text description is needed" and dropped the photo)."""
    h = telegram
    register(h.emu)
    await run(h)
    await form_to_step(h, describe=False)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Течёт труба под раковиной, вот фото")
    await run(h)
    await form_done_and_send(h)
    [case] = await cases_of(h)
    posts = h.emu.sent_messages(STAFF_CHAT)
    assert sum("Течёт труба под раковиной" in m.get("text", "") for m in posts) == 1  # the card
    assert len([m for m in posts if m.get("photo")]) == 1
    assert case.category == "plumbing"


async def test_the_open_list_and_case_details_keep_their_lines(telegram: TelegramHarness) -> None:
    """``/open`` puts its heading and each case on lines of their own, staff's ``/case`` the
    flat and the assignee, and the resident's history marks the office's own messages as
    ours, not as written "to us" (the line breaks were lost after a line ending in a
    condition, and the list read "Открытые обращения: 1• A-1001 …")."""
    h = telegram
    register(h.emu)
    await run(h)
    case, card = await open_case(h)
    h.emu.user_presses(IVAN, card, CaseCb(a="take", id=case.id).pack())
    await run(h)
    h.emu.user_sends(IVAN, "/open", chat_id=STAFF_CHAT)
    await run(h)
    assert h.texts_to(STAFF_CHAT)[-1].splitlines()[1].startswith(f"• {case.number}")
    h.emu.user_sends(IVAN, f"/case {case.number}", chat_id=STAFF_CHAT)
    await run(h)
    lines = h.texts_to(STAFF_CHAT)[-1].splitlines()
    assert "Дом: lenina-5, кв. 7" in lines and "Ответственный: Иван Петров" in lines
    h.emu.user_sends(RESIDENT, f"/case {case.number}")
    await run(h)
    history = h.texts_to(RESIDENT)[-1]
    assert "— мы: " in history and "— нам: " not in history


async def test_a_long_message_ending_in_marks_telegram_erases_reaches_staff_whole(
        telegram: TelegramHarness) -> None:
    """A resident's long follow-up ends, past Telegram's 4096, in combining marks Telegram
    erases (U+0333, U+033F, U+030A): that tail is no part of its own, which Telegram refuses
    as empty and which failed the relay after its first part had been posted."""
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    ack = h.emu.sent_messages(RESIDENT)[-1]
    long = "а" * 4060 + " " + "\u0333\u033f\u030a" * 7
    h.emu.user_sends(RESIDENT, long, reply_to_message_id=ack["message_id"])
    await run(h)
    assert sum(t.count("а") for t in staff_posts(h)) >= 4060
    assert refused(h.emu) == []
    async with h.app.wf.sessions() as session:
        states = (await session.scalars(select(OutboxItem.state))).all()
    assert "failed" not in states


async def test_a_buildings_own_chat_lists_only_its_cases_after_telegram_upgrades_it(
        tmp_path: Path) -> None:
    """Lenina 5 has its own staff chat, which Telegram upgrades to a supergroup (a new id the
    bot follows): ``/open`` there still lists only Lenina 5's cases, not every building's."""
    lenina_chat, upgraded = -1001000000055, -1009000000055
    buildings = [{"code": "lenina-5", "address": "ул. Ленина, 5", "staff_chat_id": lenina_chat},
                 {"code": "pushkina-10", "address": "ул. Пушкина, 10"}]
    app = await build_app(make_config(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}",
                                      buildings=buildings), clock=ShiftedClock())
    async with BotAPIEmulator() as emu:
        add_staff_chats(emu)
        emu.add_supergroup(lenina_chat, "Ленина 5")
        emu.add_member(lenina_chat, IVAN, "Ivan", username="ivan")
        h = TelegramHarness(app, emu, telegram_config(emu))
        await h.start()
        try:
            for uid, code, text in [(5001, "lenina-5", "Течёт кран на кухне"),
                                    (5002, "pushkina-10", "Не работает лифт в подъезде")]:
                emu.add_private_chat(uid, "Житель")
                for typed in (f"/start {code}", "7", "Пропустить", text):
                    emu.user_sends(uid, typed)
                await run(h)
            lenina, pushkina = await cases_of(h)
            emu.upgrade_group(lenina_chat, upgraded)
            await run(h)
            emu.user_sends(IVAN, "/open", chat_id=upgraded)
            await run(h)
            listed = h.texts_to(upgraded)[-1]
            assert lenina.number in listed and pushkina.number not in listed
        finally:
            await h.stop()
            await app.close()


async def test_staff_see_their_answer_ticked_with_a_reaction_telegram_allows(
        telegram: TelegramHarness) -> None:
    """The 👍 on a relayed answer is one of the reactions Telegram lets a bot set; the
    emulator now refuses any other as Telegram does (it took any emoji), so a tick Telegram
    would refuse cannot pass unnoticed."""
    h = telegram
    _, card = await open_case(h)
    sent = h.emu.user_sends(IVAN, "Сантехник придёт завтра в 10:00", chat_id=STAFF_CHAT,
                            reply_to_message_id=card["message_id"])
    await run(h)
    reactions = h.emu.world(h.emu.token).reactions
    await h.until(lambda: any(r["message_id"] == sent["message_id"] for r in reactions))
    assert refused(h.emu) == []
    url = f"{h.emu.base_url}/bot{h.emu.token}/setMessageReaction"
    async with ClientSession() as http, http.post(url, json={
            "chat_id": STAFF_CHAT, "message_id": sent["message_id"],
            "reaction": [{"type": "emoji", "emoji": "✅"}]}) as r:
        assert r.status == 400 and "REACTION_INVALID" in (await r.json())["description"]
