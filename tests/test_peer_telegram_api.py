"""The Bot API emulator, driven through real aiogram calls over loopback HTTP.

These tests pin down the behaviour other tests rely on: that aiogram parses every answer,
and that the emulator refuses what Telegram refuses, with Telegram's wording.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetMe
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    MenuButtonCommands,
    Message,
    ReactionTypeEmoji,
    ReplyParameters,
)
from aiohttp import ClientSession, FormData, web

from domovoy.peers.telegram_api import BotAPIEmulator, FloodLimits

USER = 1001
STAFF = 2002
GROUP = -1001234567890
FORUM = -1009876543210
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    # a group's one-post-a-second pace off: these tests send to one group back to back
    async with BotAPIEmulator(flood_limits=FloodLimits(group_interval=0)) as emulator:
        emulator.add_private_chat(USER, "Анна", language_code="ru")
        emulator.add_supergroup(GROUP, "Диспетчерская")
        emulator.add_supergroup(FORUM, "Заявки", is_forum=True)
        emulator.add_member(FORUM, STAFF, "Пётр", status="administrator")
        yield emulator


@pytest.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    bot = Bot(emu.token, session=session)
    yield bot
    await session.close()


async def test_get_me_is_parsed_by_aiogram(bot: Bot, emu: BotAPIEmulator) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == bot.id
    assert me.username and me.can_join_groups is True
    assert emu.requests[-1].method == "getMe" and emu.requests[-1].ok


async def test_url_shapes_tokens_and_unknown_methods(bot: Bot, emu: BotAPIEmulator) -> None:
    async with ClientSession() as http:
        async with http.get(f"{emu.base_url}/botnot-a-token/getMe") as r:
            assert r.status == 404
            assert await r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{emu.base_url}/bot{emu.token}/GETME") as r:
            body = await r.json()
            assert r.status == 200 and body["ok"] and body["result"]["is_bot"] is True
        payload = {"chat_id": USER, "text": "json body"}
        async with http.post(f"{emu.base_url}/bot{emu.token}/sendMessage", json=payload) as r:
            assert (await r.json())["result"]["text"] == "json body"
    with pytest.raises(TelegramNotFound):
        await bot(_UnknownMethod())


class _UnknownMethod(GetMe):
    __api_method__ = "getNothing"


async def test_send_message_round_trip(bot: Bot, emu: BotAPIEmulator) -> None:
    emu.user_sends(USER, "hello")  # message_id 1 belongs to the user: ids are per chat
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Взять", callback_data="take:1")]]
    )
    sent = await bot.send_message(USER, "<b>Заявка</b> №1", parse_mode="HTML", reply_markup=markup)
    assert sent.message_id == 2
    assert sent.text == "Заявка №1"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.chat.type == "private" and sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == markup.model_dump()
    assert isinstance(sent.date.timestamp(), float)
    [record] = emu.sent_messages(USER)
    assert record["text"] == "Заявка №1" and record["raw_text"] == "<b>Заявка</b> №1"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "nobody")


async def test_html_validation(bot: Bot) -> None:
    ok = await bot.send_message(
        USER,
        '<b>bold <i>both</i></b> <a href="https://example.org/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler>',
        parse_mode="HTML",
    )
    assert ok.text == "bold both link x = 1 s"
    assert {e.type for e in ok.entities or []} == {"bold", "italic", "text_link", "pre", "spoiler"}
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag b"):
        await bot.send_message(USER, "<b>x", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"can't parse entities: Unsupported start tag"):
        await bot.send_message(USER, "a < b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "foo" at byte offset 0'):
        await bot.send_message(USER, "<foo>x</foo>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Unmatched end tag"):
        await bot.send_message(USER, "<b><i>x</b></i>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "Tom & Jerry", parse_mode="HTML")
    raw = "a < b && <script> \"quoted\" 'x'"
    escaped = await bot.send_message(USER, html.escape(raw, quote=False), parse_mode="HTML")
    assert escaped.text == raw
    plain = await bot.send_message(USER, "a < b & c")  # no parse_mode: sent as is
    assert plain.text == "a < b & c"


async def test_length_limits_count_utf16(bot: Bot) -> None:
    await bot.send_message(USER, "😀" * 2048)  # 2048 code points, 4096 UTF-16 units
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "😀" * 2048 + "x")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "<b>" + "я" * 4097 + "</b>", parse_mode="HTML")
    tags = "<b>" + "я" * 4096 + "</b>"  # the tags do not count: the limit is after parsing
    assert (await bot.send_message(USER, tags, parse_mode="HTML")).text == "я" * 4096
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    photo = BufferedInputFile(PNG, "p.png")
    await bot.send_photo(USER, photo, caption="😀" * 512)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(USER, photo, caption="😀" * 512 + "x")


async def test_callback_data_is_limited_to_64_bytes(bot: Bot) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="x", callback_data=data)]]
        )

    await bot.send_message(USER, "ok", reply_markup=keyboard("ж" * 32))  # 64 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard("a" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard("ж" * 33))
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(
            USER,
            "no",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="t")]]),
        )


async def test_polling_dispatcher_answers_messages_and_callbacks(
    bot: Bot, emu: BotAPIEmulator
) -> None:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]]
        )
        text = f"echo: {html.escape(message.text or '')}"
        await message.answer(text, parse_mode="HTML", reply_markup=markup)

    @router.callback_query(F.data == "ok")
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("done")

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    try:
        emu.user_sends(USER, "a < b")
        replies = await emu.wait_for(lambda: emu.sent_messages(USER), what="the echo")
        assert replies[0]["text"] == "echo: a < b"
        emu.user_presses(USER, replies[0], "ok")
        answers = await emu.wait_for(lambda: emu.callback_answers, what="the callback answer")
        assert answers[0]["text"] == "done"
    finally:
        await dp.stop_polling()
        await polling
    get_updates = emu.calls("getUpdates")
    assert all(r.ok is not False for r in get_updates)  # the last one may still be waiting
    assert len(get_updates) < 20  # long polling, not a busy loop


async def test_updates_are_redelivered_until_a_higher_offset(bot: Bot, emu: BotAPIEmulator) -> None:
    emu.user_sends(USER, "one")
    emu.user_sends(USER, "two")
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates(timeout=0)  # the client "crashed": nothing was confirmed
    assert [u.update_id for u in again] == [u.update_id for u in first]
    partial = await bot.get_updates(offset=first[0].update_id + 1, timeout=0)
    assert [u.update_id for u in partial] == [first[1].update_id]
    assert await bot.get_updates(offset=first[1].update_id + 1, timeout=0) == []
    assert emu.pending_updates == []


async def test_long_poll_waits_for_an_update_and_stop_releases_it(emu: BotAPIEmulator) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    bot = Bot(emu.token, session=session)
    try:
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.2)
        assert not poll.done()
        emu.user_sends(USER, "wake up")
        updates = await asyncio.wait_for(poll, 2)
        assert updates[0].message is not None and updates[0].message.text == "wake up"
        assert time.monotonic() - started < 2
        # A second poller takes over; the first gets Telegram's 409.
        stale = asyncio.create_task(bot.get_updates(offset=updates[0].update_id + 1, timeout=10))
        await asyncio.sleep(0.1)
        fresh = asyncio.create_task(bot.get_updates(timeout=10))
        with pytest.raises(TelegramConflictError):
            await asyncio.wait_for(stale, 2)
        started = time.monotonic()
        await emu.stop()
        assert await asyncio.wait_for(fresh, 3) == []
        assert time.monotonic() - started < 3
    finally:
        await session.close()


async def test_injected_429_raises_retry_after_and_is_not_performed(
    bot: Bot, emu: BotAPIEmulator
) -> None:
    emu.fail_next("sendMessage", chat_id=GROUP, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(GROUP, "card")
    assert caught.value.retry_after == 3
    assert emu.sent_messages(GROUP) == []
    await bot.send_message(GROUP, "card")
    emu.fail_next("sendmessage", error_code=500, n=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(USER, "x")
    assert len(emu.sent_messages(GROUP)) == 1
    assert emu.flood_error_count == 0  # injected failures are not flood control


async def test_group_flood_limit(bot: Bot, emu: BotAPIEmulator) -> None:
    results: list[int | str] = []
    for i in range(25):
        try:
            results.append((await bot.send_message(GROUP, f"card {i}")).message_id)
        except TelegramRetryAfter as e:
            assert e.retry_after >= 1
            results.append("429")
    assert results[20:] == ["429"] * 5 and "429" not in results[:20]
    assert emu.flood_error_count == 5 and len(emu.sent_messages(GROUP)) == 20
    first = results[0]
    assert isinstance(first, int)
    await bot.edit_message_text("edited", chat_id=GROUP, message_id=first)  # edits do not count
    emu.advance_clock(61)
    await bot.send_message(GROUP, "after a minute")


async def test_private_flood_and_configurable_limits(bot: Bot, emu: BotAPIEmulator) -> None:
    emu.flood_limits = FloodLimits(private_burst=2, private_per_second=10.0)
    await bot.send_message(USER, "1")
    await bot.send_message(USER, "2")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "3")
    await asyncio.sleep(0.15)
    await bot.send_message(USER, "4")
    emu.flood_limits_enabled = False
    for i in range(40):
        await bot.send_message(USER, f"burst {i}")
    assert emu.flood_error_count == 1


async def test_blocked_user_gets_403_and_a_member_update(bot: Bot, emu: BotAPIEmulator) -> None:
    emu.block_user(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    [update] = await bot.get_updates(timeout=0, allowed_updates=["my_chat_member"])
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


async def test_forum_topics(bot: Bot, emu: BotAPIEmulator) -> None:
    topic = await bot.create_forum_topic(FORUM, "A-1042 Протечка")
    thread = topic.message_thread_id
    sent = await bot.send_message(FORUM, "card", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    assert sent.chat.is_forum
    staff = emu.user_sends(STAFF, "ответ жителю", chat_id=FORUM, message_thread_id=thread)
    assert staff["reply_to_message"]["forum_topic_created"]["name"] == "A-1042 Протечка"
    assert await bot.close_forum_topic(FORUM, thread)
    await bot.send_message(FORUM, "closed topics still take the bot", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(FORUM, thread)
    assert await bot.reopen_forum_topic(FORUM, thread)
    assert await bot.edit_forum_topic(FORUM, thread, name="A-1042 ✅")
    assert emu.topics(FORUM)[0]["name"] == "A-1042 ✅"
    assert len(emu.sent_messages(FORUM, thread_id=thread)) == 2

    emu.delete_topic(FORUM, thread)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(FORUM, "lost", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(FORUM, "never", message_thread_id=999)
    other = await bot.create_forum_topic(FORUM, "other")
    assert other.message_thread_id > sent.message_id  # topic ids come from the message counter
    assert await bot.delete_forum_topic(FORUM, other.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(FORUM, "gone", message_thread_id=other.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(GROUP, "x")


async def test_files_upload_copy_and_download(bot: Bot, emu: BotAPIEmulator) -> None:
    incoming = emu.user_sends(USER, photo=PNG, caption="течёт")
    file = await bot.get_file(incoming["photo"][-1]["file_id"])
    downloaded = await bot.download(file)
    assert downloaded is not None and downloaded.read() == PNG

    copied = await bot.copy_message(GROUP, USER, incoming["message_id"])
    [copy_record] = emu.sent_messages(GROUP)
    assert copy_record["message_id"] == copied.message_id and copy_record["caption"] == "течёт"

    doc = await bot.send_document(GROUP, BufferedInputFile(b"%PDF-1.4 act", "акт №5.pdf"))
    assert doc.document is not None and doc.document.file_name == "акт №5.pdf"
    assert doc.document.mime_type == "application/pdf"
    again = await bot.download(doc.document.file_id)
    assert again is not None and again.read() == b"%PDF-1.4 act"
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, BufferedInputFile(b"not an image", "x.jpg"))
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(USER, "no-such-file-id")


async def test_editing_replies_and_deleting(bot: Bot, emu: BotAPIEmulator) -> None:
    question = emu.user_sends(USER, "/start b-12")
    assert question["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    reply = await bot.send_message(
        USER, "привет", reply_parameters=ReplyParameters(message_id=question["message_id"])
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == question["message_id"]
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(USER, "x", reply_parameters=ReplyParameters(message_id=999))
    edited = await bot.edit_message_text(
        "<i>пока</i>", chat_id=USER, message_id=reply.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool) and edited.text == "пока"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<i>пока</i>", chat_id=USER, message_id=reply.message_id, parse_mode="HTML"
        )
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=USER, message_id=question["message_id"])
    assert await bot.delete_message(USER, reply.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=reply.message_id)
    assert emu.sent_messages(USER)[0]["deleted"] is True
    changed = emu.user_sends(USER, "/start b-13", edit_of=question["message_id"])
    [_, edit_update] = await bot.get_updates(timeout=0)
    assert edit_update.edited_message is not None
    assert edit_update.edited_message.text == changed["text"] == "/start b-13"


async def test_webhook_delivery_with_secret(emu: BotAPIEmulator) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.json_response({"method": "sendMessage", "chat_id": USER, "text": "pong"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        emu.set_webhook_target(f"http://127.0.0.1:{port}/hook", "s3cret")
        emu.user_sends(USER, "ping")
        await emu.wait_for(lambda: emu.sent_messages(USER), what="the webhook reply")
        assert received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "ping"  # type: ignore[index]
        assert emu.sent_messages(USER)[0]["text"] == "pong"
        assert emu.pending_updates == []
    finally:
        await runner.cleanup()


async def test_multipart_and_form_bodies_from_plain_http(emu: BotAPIEmulator) -> None:
    form = FormData(quote_fields=False)  # raw UTF-8 filenames, as aiogram sends them
    form.add_field("chat_id", str(GROUP))
    form.add_field("document", "attach://f1")
    form.add_field("f1", b"hello", filename="заявка.txt", content_type="text/plain")
    url = f"{emu.base_url}/bot{emu.token}/sendDocument"
    async with ClientSession() as http, http.post(url, data=form) as r:
        body = await r.json()
    assert body["ok"], body
    assert body["result"]["document"]["file_name"] == "заявка.txt"


async def test_wait_for_times_out_with_a_clear_message(emu: BotAPIEmulator) -> None:
    with pytest.raises(TimeoutError, match="waiting for a reply to the resident"):
        await emu.wait_for(
            lambda: emu.sent_messages(USER), timeout=0.05, what="a reply to the resident"
        )


async def test_other_methods_return_what_aiogram_expects(bot: Bot, emu: BotAPIEmulator) -> None:
    chat = await bot.get_chat(FORUM)
    assert chat.is_forum and chat.title == "Заявки"
    staff = await bot.get_chat_member(FORUM, STAFF)
    assert staff.status == "administrator"
    me = await bot.get_chat_member(FORUM, bot.id)
    assert me.status == "administrator"
    assert (await bot.get_chat_member(GROUP, USER)).status == "left"
    assert await bot.set_my_commands([BotCommand(command="new", description="Новая заявка")])
    assert [c.command for c in await bot.get_my_commands()] == ["new"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="New Case", description="x")])
    assert await bot.delete_my_commands()
    assert await bot.send_chat_action(USER, "typing")
    assert await bot.set_chat_menu_button(chat_id=USER, menu_button=MenuButtonCommands())
    album = await bot.send_media_group(
        GROUP,
        [
            InputMediaPhoto(
                media=BufferedInputFile(PNG, "1.png"), caption="<b>1</b>", parse_mode="HTML"
            ),
            InputMediaPhoto(media=BufferedInputFile(PNG, "2.png")),
        ],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "1"
    with pytest.raises(TelegramBadRequest):
        await bot.send_media_group(
            GROUP,
            [
                InputMediaPhoto(media=BufferedInputFile(PNG, "1.png")),
                InputMediaDocument(media=BufferedInputFile(b"x", "a.txt")),
            ],
        )
    incoming = emu.user_sends(USER, "переслать")
    forwarded = await bot.forward_message(GROUP, USER, incoming["message_id"])
    assert forwarded.forward_origin is not None and forwarded.text == "переслать"
    assert await bot.set_message_reaction(
        USER, incoming["message_id"], [ReactionTypeEmoji(emoji="👍")]
    )
    card = await bot.send_message(
        USER,
        "card",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="1", callback_data="rate:1")]]
        ),
    )
    query = emu.user_presses(USER, (USER, card.message_id), "rate:1")
    assert await bot.answer_callback_query(query["id"], text="Спасибо")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(ValueError, match="no button"):
        emu.user_presses(USER, (USER, card.message_id), "rate:9")
    assert await bot.edit_message_reply_markup(chat_id=USER, message_id=card.message_id)
    assert "reply_markup" not in emu.message(USER, card.message_id)
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 2  # the message and the press
