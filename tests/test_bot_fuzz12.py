"""Round twelve: what residents and staff meet in a real Telegram chat that a strict Bot API
server still showed up.

Each test drives the real bot through the tests' strict emulator and asserts what a resident,
a staff member or a manager would notice. Sections:

1. Telegram's own faults (a 500 or 502 "Bad Gateway", a dropped connection) mid-conversation:
   an answer that met one was given up at once (a resident opening the building's link never
   read "your flat number?"), a card's redraw that met one left the card showing the case as
   nobody's until its next change, buttons a finished step should lose stayed to be pressed
   again, and one between the parts of a long staff answer made the outbox send the whole
   answer again, the parts already out twice; and a button press whose answer met one kept
   spinning with no word. Each is now tried again after a short pause;
2. a command typed in a registration step (/lang, /help, /cases where the flat or the phone
   was asked): the flat was asked again and the command unanswered (a resident who reads no
   Russian could not switch the language before registering), and at the phone step it ended
   registration. The command is answered and the step waits on; a language chosen there asks
   the step's question again in that language;
3. ``/assign`` naming a colleague who has no username: Telegram's client puts their name in
   the text with a ``text_mention`` carrying who it is ("Олег Сидоров", two words), and the
   bot answered with the command's usage, or "not among the staff" for a first name alone;
4. Start pressed by a registered resident (after clearing the chat, or blocking and
   restarting the bot, which takes the menu keyboard away): the greeting came without the
   menu, which never came back;
5. what a resident sends in a registration step other than words: their own number shared
   by contact where the flat was asked finished registration with no flat, never asked
   again; a photo of the leak sent there was filed and the flat never asked again (as it is
   after a report typed there); one sent where the (optional) phone was asked ended the step
   silently, so the resident was never told they were registered nor given the menu;
6. a resident whose Telegram name is in Arabic or Hebrew, or carries a right-to-left override
   (U+202E, pasted from a "fancy name" site): the name turned the rest of its line in the
   card around, so staff read the phone number after it backwards. A name with such
   characters is now isolated (U+2068 … U+2069) in the card, the unfiled note and the block
   notices; a name without them is left as it is (pinned);
7. words typed in the /new form after the description, before "Send" ("и ещё в ванной
   капает", or a photo captioned "а это в ванной"): answered "press a button" (the caption
   not at all) and lost, and the case went out without them. They join the description,
   and after "Done" the summary is shown again with them; a photo sent after "Done" (the one
   forgotten) was answered "press a button" and lost: it is kept and the summary shown again;
8. the question staff ask with "Need info", mended by an edit ("в 10:00" to "в 11:00"): the
   edit stayed in the staff chat (only relayed answers followed their edits), and the
   resident waited for the plumber at 10; and a link behind words in that question lost its
   address (only answers kept it);
9. what Telegram itself posts in the resident's chat: the resident pinned the acknowledgement
   (to keep the case number at hand), or turned on auto-delete, and the bot answered "this
   kind of message is not taken"; at the flat step it ended the step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.callbacks import CaseCb, FormCb, LangCb
from domovoy.peers.telegram_state import ApiError, RecordedRequest
from tests.peers.telegram import STAFF_CHAT, BotAPIEmulator, TelegramHarness
from tests.test_bot_fuzz import (
    IVAN,
    MARIA,
    RESIDENT,
    cases_of,
    open_case,
    press,
    quarantined,
    raw_message,
    refused,
    register,
    run,
)
from tests.test_bot_fuzz8 import keyboard_labels, markup_of
from tests.test_bot_strict import PNG

MakeTelegram = Callable[..., Awaitable[TelegramHarness]]
Json = dict[str, Any]

BAD_GATEWAY = "Bad Gateway"


def fail_nth(emu: BotAPIEmulator, method: str, chat_id: int, nth: int,
             status: int = 502) -> None:
    """Answer the ``nth`` call (from now) of ``method`` to ``chat_id`` with Telegram's own
    fault, not carrying it out: ``fail_next`` takes only the very next call."""
    execute, seen = emu.execute, [0]

    async def faulty(token: str, name: str, raw: dict[str, Any]) -> tuple[int, Json]:
        if name.lower() == method.lower() and str(raw.get("chat_id")) == str(chat_id):
            seen[0] += 1
            if seen[0] == nth:
                error = ApiError(status, BAD_GATEWAY)
                emu.world(token).requests.append(RecordedRequest(
                    name, raw, 0.0, False, status, error.description))
                return status, error.body()
        return await execute(token, name, raw)

    emu.execute = faulty  # type: ignore[method-assign,assignment]


def faults(emu: BotAPIEmulator) -> list[tuple[str, str]]:
    """Calls refused, Telegram's injected faults aside."""
    return refused(emu, allowed=(BAD_GATEWAY, "Internal Server Error"))


# --- 1. Telegram's own faults ----------------------------------------------------------------


async def test_an_answer_that_met_a_bad_gateway_still_comes(telegram: TelegramHarness) -> None:
    """The resident opens the building's link; Telegram answers the bot's question with 502:
    the question comes a moment later (it was never sent, and the resident waited for it)."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.fail_next("sendMessage", chat_id=RESIDENT, error_code=502)
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    await h.settle()
    await h.until(lambda: h.texts_to(RESIDENT), timeout=8, what="the flat asked for")
    [greeting] = h.texts_to(RESIDENT)
    assert "номер вашей квартиры" in greeting
    h.emu.user_sends(RESIDENT, "7")
    await h.settle()
    await h.until(lambda: len(h.texts_to(RESIDENT)) == 2, what="the phone asked for")
    assert "Квартира 7" in h.texts_to(RESIDENT)[1]
    assert not faults(h.emu)


async def test_an_internal_error_on_a_staff_answer_is_tried_again(
        telegram: TelegramHarness) -> None:
    """/open in the staff chat met Telegram's 500: the list comes all the same."""
    h = telegram
    await open_case(h)
    h.emu.fail_next("sendMessage", chat_id=STAFF_CHAT, error_code=500)
    h.emu.user_sends(IVAN, "/open", chat_id=STAFF_CHAT)
    await h.settle()
    await h.until(lambda: any("/open" not in t and "A-1001" in t and "Кран" not in t
                              for t in h.texts_to(STAFF_CHAT)[1:]), timeout=8,
                  what="the /open list")
    assert not faults(h.emu)


async def test_a_card_redraw_that_met_a_bad_gateway_is_drawn_again(
        telegram: TelegramHarness) -> None:
    """Ivan takes the case; the card's edit meets 502: it showed the case as nobody's until
    the case next changed."""
    h = telegram
    register(h.emu)
    await run(h)
    case, card = await open_case(h)
    h.emu.fail_next("editMessageText", chat_id=STAFF_CHAT, error_code=502)
    await press(h, IVAN, h.emu.message(STAFF_CHAT, card["message_id"]),
                CaseCb(a="take", id=case.id).pack())
    await h.until(lambda: "Иван" in h.emu.message(STAFF_CHAT, card["message_id"])["text"],
                  timeout=8, what="the card redrawn")
    assert not faults(h.emu)


async def test_buttons_of_a_finished_step_go_away_after_a_bad_gateway(
        telegram: TelegramHarness) -> None:
    """The resident picks a topic in /new; removing the topic buttons meets 502: they stayed
    under the message, to be pressed again."""
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "/new")
    await run(h)
    menu = h.emu.sent_messages(RESIDENT)[-1]
    h.emu.fail_next("editMessageReplyMarkup", chat_id=RESIDENT, error_code=502)
    await press(h, RESIDENT, menu, FormCb(a="t", v="plumbing").pack())
    await h.until(lambda: not h.emu.message(RESIDENT, menu["message_id"]).get("reply_markup"),
                  timeout=8, what="the topic buttons removed")
    assert not faults(h.emu)


async def test_a_bad_gateway_between_the_parts_of_a_long_answer_sends_no_part_twice(
        make_telegram: MakeTelegram) -> None:
    """A staff answer the length of a Telegram message goes in two parts (the signature makes
    it longer); the second met 502, the outbox tried the item again from the start, and the
    resident read the first part twice."""
    h = await make_telegram(forum=True)
    _case, card = await open_case(h)
    before = len(h.texts_to(RESIDENT))
    text = ("Порядок работ: " + " ".join(f"шаг {i} — проверить стояк;" for i in range(400)))
    fail_nth(h.emu, "sendMessage", RESIDENT, 2)
    h.emu.user_sends(IVAN, text[:4096], chat_id=STAFF_CHAT,
                     message_thread_id=card["message_thread_id"])
    await run(h)
    await h.until(lambda: len(h.texts_to(RESIDENT)) >= before + 2, timeout=8,
                  what="both parts")
    await asyncio.sleep(0.5)
    await h.deliver()
    parts = h.texts_to(RESIDENT)[before:]
    assert len(parts) == 2 and parts[0].startswith("Порядок работ") and "шаг 0 " in parts[0]
    assert "шаг 0 " not in parts[1]
    assert not faults(h.emu)
    assert len(await cases_of(h)) == 1


async def test_a_press_whose_answer_met_a_bad_gateway_is_answered(
        telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    h.emu.fail_next("answerCallbackQuery", error_code=502)
    query = await press(h, IVAN, card, CaseCb(a="take", id=case.id).pack())
    [answer] = [a for a in h.emu.callback_answers if a["callback_query_id"] == query["id"]]
    assert case.number in answer["text"]
    assert not faults(h.emu)


# --- 2. commands in a registration step ------------------------------------------------------


async def test_lang_typed_where_the_flat_is_asked_switches_and_asks_again(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "John")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    h.emu.user_sends(RESIDENT, "/lang")
    await run(h)
    pick = h.emu.sent_messages(RESIDENT)[-1]
    assert "Choose your language" in pick["text"]
    await press(h, RESIDENT, pick, LangCb(code="en").pack())
    said = h.texts_to(RESIDENT)
    assert "English" in said[-2] and "flat" in said[-1].lower()
    # no menu before registering (it would take the place of the phone's buttons)
    assert not any(keyboard_labels(markup_of(h, m)) for m in h.emu.sent_messages(RESIDENT))
    h.emu.user_sends(RESIDENT, "12")
    await run(h)
    assert "12" in h.texts_to(RESIDENT)[-1] and "phone" in h.texts_to(RESIDENT)[-1].lower()
    assert await cases_of(h) == []
    assert not refused(h.emu)


async def test_help_or_cases_typed_in_a_registration_step_is_answered_and_the_step_waits(
        telegram: TelegramHarness) -> None:
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    h.emu.user_sends(RESIDENT, "/help")
    await run(h)
    assert "Как пользоваться ботом" in h.texts_to(RESIDENT)[-1]
    h.emu.user_sends(RESIDENT, "7")
    h.emu.user_sends(RESIDENT, "/cases")
    await run(h)
    assert "нет" in h.texts_to(RESIDENT)[-1].lower() or "обращ" in h.texts_to(RESIDENT)[-1]
    assert "зарегистрированы" not in h.texts_to(RESIDENT)[-1]
    # the phone step still waits: the number typed now registers it
    h.emu.user_sends(RESIDENT, "+7 999 123-45-67")
    await run(h)
    assert "зарегистрированы" in h.texts_to(RESIDENT)[-1]
    async with h.app.wf.sessions() as session:
        from bot.registry import resident_of
        resident = await resident_of(session, RESIDENT)
    assert resident is not None and resident.phone == "+7 999 123-45-67"
    assert resident.apartment == "7"
    assert not refused(h.emu)


# --- 3. /assign by a mention of someone with no username ------------------------------------


OLEG = 1003


async def test_assign_by_a_mention_of_a_colleague_with_no_username(
        telegram: TelegramHarness) -> None:
    h = telegram
    case, _card = await open_case(h)
    for typed in ("Олег", "Олег Сидоров"):
        text = f"/assign {case.number} {typed}"
        mention = {"type": "text_mention", "offset": text.index(typed), "length": len(typed),
                   "user": {"id": OLEG, "is_bot": False, "first_name": "Олег"}}
        h.emu.user_sends(MARIA, text, chat_id=STAFF_CHAT,
                         entities=[{"type": "bot_command", "offset": 0, "length": 7}, mention])
        await run(h)
        [case] = await cases_of(h)
        assert "Олег" in h.texts_to(STAFF_CHAT)[-1]
        assert "Использование" not in h.texts_to(STAFF_CHAT)[-1]
        async with h.app.wf.sessions() as session:
            from workflow.models import Staff
            oleg = await session.scalar(select(Staff).where(Staff.telegram_user_id == OLEG))
        assert oleg is not None and case.assignee_id == oleg.id
    assert not refused(h.emu)


async def test_assign_by_a_full_name_typed_by_hand(telegram: TelegramHarness) -> None:
    """"/assign A-1001 Олег Сидоров" typed without picking the mention: the name as in the
    configuration, two words, was answered with the command's usage."""
    h = telegram
    case, _card = await open_case(h)
    h.emu.user_sends(MARIA, f"/assign {case.number} олег сидоров", chat_id=STAFF_CHAT)
    await run(h)
    [case] = await cases_of(h)
    assert case.assignee_id is not None
    assert "Использование" not in h.texts_to(STAFF_CHAT)[-1]
    assert not refused(h.emu)


# --- 4. Start again ---------------------------------------------------------------------------


async def test_start_pressed_by_a_registered_resident_gives_the_menu_back(
        telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "/start")
    await run(h)
    greeting = h.emu.sent_messages(RESIDENT)[-1]
    assert "Опишите проблему" in greeting["text"]
    assert keyboard_labels(markup_of(h, greeting)) == ["📝 Новое обращение", "📋 Мои обращения"]
    assert await cases_of(h) == []
    assert not refused(h.emu)


async def test_start_pressed_by_a_newcomer_shows_no_menu(telegram: TelegramHarness) -> None:
    """Pinned: someone who never opened a building's link is not shown the menu (the form
    would file their report with no building)."""
    h = telegram
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start")
    await run(h)
    assert markup_of(h, h.emu.sent_messages(RESIDENT)[-1]) == {}


# --- 5. not words, in a registration step ------------------------------------------------------


async def resident_row(h: TelegramHarness) -> Any:
    from bot.registry import resident_of
    async with h.app.wf.sessions() as session:
        return await resident_of(session, RESIDENT)


async def opened_the_link(h: TelegramHarness) -> None:
    h.emu.add_private_chat(RESIDENT, "Анна")
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    await run(h)


async def test_own_number_shared_where_the_flat_is_asked_keeps_it_and_asks_the_flat(
        telegram: TelegramHarness) -> None:
    h = telegram
    await opened_the_link(h)
    h.emu.user_shares_contact(RESIDENT, "+79991234567")
    await run(h)
    said = h.texts_to(RESIDENT)[-1]
    assert "+79991234567" in said and "квартиры" in said and "зарегистрированы" not in said
    h.emu.user_sends(RESIDENT, "кв. 12")
    await run(h)
    # registered at once: the phone is not asked a second time
    assert "зарегистрированы" in h.texts_to(RESIDENT)[-1]
    assert keyboard_labels(markup_of(h, h.emu.sent_messages(RESIDENT)[-1]))[0] == \
        "📝 Новое обращение"
    resident = await resident_row(h)
    assert (resident.apartment, resident.phone) == ("12", "+79991234567")
    assert await cases_of(h) == []
    assert not refused(h.emu)


async def test_someone_elses_card_where_the_flat_is_asked_is_filed_and_the_flat_asked(
        telegram: TelegramHarness) -> None:
    """The plumber's card sent at the flat step: no phone of theirs, and the flat asked."""
    h = telegram
    await opened_the_link(h)
    h.emu.user_shares_contact(RESIDENT, "+79995550011", own=False, first_name="Мастер")
    await run(h)
    assert [t for t in h.texts_to(RESIDENT) if t.startswith("Напишите номер квартиры")]
    resident = await resident_row(h)
    assert resident.phone is None and resident.apartment is None
    h.emu.user_sends(RESIDENT, "7")
    await run(h)
    assert "Квартира 7" in h.texts_to(RESIDENT)[-1]
    assert not refused(h.emu)


async def test_an_album_sent_where_the_flat_is_asked_is_filed_and_the_flat_asked_once(
        telegram: TelegramHarness) -> None:
    h = telegram
    await opened_the_link(h)
    for i in range(3):
        h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="leak",
                         caption="Течёт кран на кухне, вода на полу" if i == 0 else None)
    await run(h)
    [case] = await cases_of(h)
    asked = [t for t in h.texts_to(RESIDENT) if t.startswith("Напишите номер квартиры")]
    assert len(asked) == 1
    assert any(case.number in t for t in h.texts_to(RESIDENT))
    h.emu.user_sends(RESIDENT, "12")
    await run(h)
    assert "Квартира 12" in h.texts_to(RESIDENT)[-1]
    assert (await resident_row(h)).apartment == "12"
    assert len(await cases_of(h)) == 1
    assert not refused(h.emu)


async def test_a_photo_sent_where_the_phone_is_asked_finishes_registration(
        telegram: TelegramHarness) -> None:
    h = telegram
    await opened_the_link(h)
    h.emu.user_sends(RESIDENT, "12")
    await run(h)
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Течёт кран на кухне, вода на полу")
    await run(h)
    [case] = await cases_of(h)
    registered = next(m for m in h.emu.sent_messages(RESIDENT)
                      if "зарегистрированы" in (m.get("text") or ""))
    assert keyboard_labels(markup_of(h, registered))[0] == "📝 Новое обращение"
    assert any(case.number in t for t in h.texts_to(RESIDENT))
    assert (await resident_row(h)).apartment == "12"
    assert not refused(h.emu)


# --- 6. right-to-left names ---------------------------------------------------------------------


FSI, PDI = "\u2068", "\u2069"


async def card_line_of(h: TelegramHarness, name: str, *, last_name: str | None = None) -> str:
    h.emu.add_private_chat(RESIDENT, name, last_name=last_name)
    h.emu.user_sends(RESIDENT, "/start lenina-5")
    h.emu.user_sends(RESIDENT, "12")
    h.emu.user_shares_contact(RESIDENT, "+79991234567")
    await run(h)
    _case, card = await open_case(h)
    return next(line for line in card["text"].splitlines() if "+79991234567" in line)


async def test_a_name_with_a_right_to_left_override_does_not_turn_the_phone_around(
        telegram: TelegramHarness) -> None:
    name = "\u202eАнна"
    line = await card_line_of(telegram, name)
    assert line.endswith(f"{FSI}{name}{PDI} · +79991234567")
    assert not refused(telegram.emu)


async def test_an_arabic_name_is_isolated_from_the_phone_after_it(
        telegram: TelegramHarness) -> None:
    line = await card_line_of(telegram, "محمد", last_name="Иванов")
    assert f"{FSI}محمد Иванов{PDI} · +79991234567" in line
    assert not refused(telegram.emu)


async def test_a_name_with_html_and_zero_width_characters_is_shown_as_it_is(
        telegram: TelegramHarness) -> None:
    """Pinned: texts go without a parse mode, so "<b>Анна</b> & Co" is no markup to refuse,
    and a zero-width joiner is no direction: the name is left exactly as it is."""
    name = "<b>Анна</b>\u200d & Co"
    line = await card_line_of(telegram, name)
    assert line.endswith(f" · {name} · +79991234567")
    assert not refused(telegram.emu)


# --- 7. more words in the form ------------------------------------------------------------------


def last_with_buttons(h: TelegramHarness) -> Json:
    return [m for m in h.emu.sent_messages(RESIDENT)
            if (m.get("reply_markup") or {}).get("inline_keyboard")][-1]


async def test_words_typed_after_the_forms_description_reach_the_case(
        telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "/new")
    await run(h)
    await press(h, RESIDENT, last_with_buttons(h), FormCb(a="t", v="plumbing").pack())
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    h.emu.user_sends(RESIDENT, "и ещё в ванной капает")
    await run(h)
    assert "Готово" in str(last_with_buttons(h)["reply_markup"])
    h.emu.user_sends(RESIDENT, photo=PNG, caption="а это под раковиной")
    await run(h)
    await press(h, RESIDENT, last_with_buttons(h), FormCb(a="d").pack())
    h.emu.user_sends(RESIDENT, "Дома бываю после 18:00")
    await run(h)
    summary = last_with_buttons(h)
    for words in ("Течёт кран на кухне", "в ванной капает", "под раковиной", "после 18:00"):
        assert words in summary["text"]
    await press(h, RESIDENT, summary, FormCb(a="s").pack())
    [case] = await cases_of(h)
    assert case.text.splitlines() == ["Течёт кран на кухне", "и ещё в ванной капает",
                                      "а это под раковиной", "Дома бываю после 18:00"]
    card = next(m["text"] for m in h.emu.sent_messages(STAFF_CHAT)
                if case.number in (m.get("text") or "") and m.get("reply_markup"))
    assert "после 18:00" in card
    assert not refused(h.emu)


async def test_a_photo_sent_after_done_is_kept_and_the_summary_shown_again(
        telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "/new")
    await run(h)
    await press(h, RESIDENT, last_with_buttons(h), FormCb(a="t", v="plumbing").pack())
    h.emu.user_sends(RESIDENT, "Течёт кран на кухне")
    await run(h)
    await press(h, RESIDENT, last_with_buttons(h), FormCb(a="d").pack())
    for i in range(2):
        h.emu.user_sends(RESIDENT, photo=PNG, media_group_id="forgot",
                         caption="вот так течёт" if i == 0 else None)
    await run(h)
    summaries = [m for m in h.emu.sent_messages(RESIDENT)
                 if FormCb(a="s").pack() in str(m.get("reply_markup"))]
    assert len(summaries) == 2 and "вот так течёт" in summaries[-1]["text"]
    assert not [t for t in h.texts_to(RESIDENT) if "не отправлено" in t]
    await press(h, RESIDENT, summaries[-1], FormCb(a="s").pack())
    [case] = await cases_of(h)
    assert case.text == "Течёт кран на кухне\nвот так течёт"
    assert len([m for m in h.emu.sent_messages(STAFF_CHAT) if m.get("photo")]) == 2
    assert not refused(h.emu)


async def test_a_photo_captioned_with_the_description_is_not_described_twice(
        telegram: TelegramHarness) -> None:
    """Pinned: the caption that is the description (sent where the description is asked)
    stays once."""
    h = telegram
    register(h.emu)
    await run(h)
    h.emu.user_sends(RESIDENT, "/new")
    await run(h)
    await press(h, RESIDENT, last_with_buttons(h), FormCb(a="t", v="plumbing").pack())
    h.emu.user_sends(RESIDENT, photo=PNG, caption="Течёт кран на кухне")
    await run(h)
    await press(h, RESIDENT, last_with_buttons(h), FormCb(a="d").pack())
    await press(h, RESIDENT, last_with_buttons(h), FormCb(a="s").pack())
    [case] = await cases_of(h)
    assert case.text == "Течёт кран на кухне"


# --- 8. the question, mended ------------------------------------------------------------------


@pytest.mark.parametrize("forum", [False, True], ids=["plain", "forum"])
async def test_a_question_mended_by_staff_reaches_the_resident_as_a_correction(
        make_telegram: MakeTelegram, forum: bool) -> None:
    h = await make_telegram(forum=forum)
    case, card = await open_case(h)
    await press(h, IVAN, card, CaseCb(a="need_info", id=case.id).pack())
    where = {"message_thread_id": card["message_thread_id"]} if forum else {}
    asked = h.emu.user_sends(IVAN, "Мастер придёт завтра в 10:00, вам удобно?",
                             chat_id=STAFF_CHAT, **where)
    await run(h)
    h.emu.user_sends(IVAN, "Мастер придёт завтра в 11:00, вам удобно?", chat_id=STAFF_CHAT,
                     edit_of=asked["message_id"])
    await run(h)
    got = [t for t in h.texts_to(RESIDENT) if "Мастер придёт" in t]
    assert len(got) == 2 and "10:00" in got[0]
    assert "11:00" in got[1] and "Исправление" in got[1]
    [case] = await cases_of(h)
    assert case.paused_at is not None  # still waiting for the resident's answer
    # a word made bold changes nothing the resident reads
    h.emu.user_sends(IVAN, "Мастер придёт завтра в 11:00, вам удобно?", chat_id=STAFF_CHAT,
                     edit_of=asked["message_id"],
                     entities=[{"type": "bold", "offset": 0, "length": 6}])
    await run(h)
    assert len([t for t in h.texts_to(RESIDENT) if "Мастер придёт" in t]) == 2
    assert not refused(h.emu)


async def test_chatter_edited_in_the_staff_chat_stays_there(telegram: TelegramHarness) -> None:
    """Pinned: an edit of words that never reached the resident (chatter, not a question)
    is no correction to send."""
    h = telegram
    await open_case(h)
    said = h.emu.user_sends(IVAN, "Кто сегодня дежурит?", chat_id=STAFF_CHAT)
    await run(h)
    h.emu.user_sends(IVAN, "Кто завтра дежурит?", chat_id=STAFF_CHAT, edit_of=said["message_id"])
    await run(h)
    assert not [t for t in h.texts_to(RESIDENT) if "дежурит" in t]


async def test_a_link_behind_words_in_the_question_keeps_its_address(
        telegram: TelegramHarness) -> None:
    h = telegram
    case, card = await open_case(h)
    await press(h, IVAN, card, CaseCb(a="need_info", id=case.id).pack())
    text = "Пришлите показания счётчика через форму тут, пожалуйста"
    url = "https://uk.example.org/meter"
    h.emu.user_sends(IVAN, text, chat_id=STAFF_CHAT, entities=[
        {"type": "text_link", "offset": text.index("тут"), "length": 3, "url": url}])
    await run(h)
    [question] = [t for t in h.texts_to(RESIDENT) if "показания" in t]
    assert url in question


# --- 9. Telegram's own notes in the chat -----------------------------------------------------


async def test_pinning_the_acknowledgement_is_not_answered(telegram: TelegramHarness) -> None:
    h = telegram
    register(h.emu)
    await run(h)
    case, _card = await open_case(h)
    ack = next(m for m in h.emu.sent_messages(RESIDENT) if case.number in (m.get("text") or ""))
    told = len(h.texts_to(RESIDENT))
    raw_message(h.emu, RESIDENT, {"pinned_message": ack})
    raw_message(h.emu, RESIDENT, {"chat_background_set": {"type": {
        "type": "fill", "fill": {"type": "solid", "color": 0}, "dark_theme_dimming": 0}}})
    await run(h)
    assert len(h.texts_to(RESIDENT)) == told
    assert len(await cases_of(h)) == 1 and await quarantined(h) == 0
    assert not refused(h.emu)


async def test_auto_delete_turned_on_at_the_flat_step_leaves_the_step_waiting(
        telegram: TelegramHarness) -> None:
    h = telegram
    await opened_the_link(h)
    told = len(h.texts_to(RESIDENT))
    raw_message(h.emu, RESIDENT, {"message_auto_delete_timer_changed": {
        "message_auto_delete_time": 86400}})
    await run(h)
    assert len(h.texts_to(RESIDENT)) == told
    h.emu.user_sends(RESIDENT, "12")
    await run(h)
    assert "Квартира 12" in h.texts_to(RESIDENT)[-1]
    assert await cases_of(h) == []
