"""A small, strict Telegram Bot API server emulator for tests and ``domovoy demo``.

Why our own: the public emulators either break aiogram 3 (no ``is_bot`` in getMe, no long
polling, lost callback queries, results that are ``null``) or validate nothing, so a bot tested
against them still fails on the real server (bad HTML, texts over 4096 UTF-16 units, strings that
are not valid UTF-8, texts of invisible characters, bursts over the flood limits, deleted forum
topics). This one speaks real HTTP on loopback with the real URL shapes, so the production
aiogram session, its middlewares and its error mapping are exercised.

It is in-process: the test (or the demo) drives it through a Python control API — registering
chats, injecting user messages and button presses, scheduling failures — and reads back what
the bot did. State is kept per bot token; the control API on :class:`BotAPIEmulator` works on the
world of ``emu.token`` (use that token for the ``Bot``), ``emu.for_token(t)`` on any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from multidict import MultiDictProxy

from .telegram_control import TelegramControl
from .telegram_flood import FloodHit, FloodLimits
from .telegram_html import HtmlParseError, parse_html, utf16_len
from .telegram_state import (
    BLOCKED,
    BOT_COMMAND_RE,
    CALLBACK_ANSWER_LIMIT,
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    CHAT_ACTIONS,
    CHAT_NOT_FOUND,
    COMMAND_SCOPES,
    CONFLICT_POLL,
    CONTENT_KEYS,
    DOWNLOAD_LIMIT,
    INLINE_ACTIONS,
    INLINE_BUTTONS_LIMIT,
    NOT_FOUND,
    NOT_MODIFIED,
    PHOTO_LIMIT,
    REACTION_EMOJI,
    SECRET_RE,
    TEXT_LIMIT,
    THREAD_NOT_FOUND,
    TOKEN_RE,
    TOPIC_ICON_COLORS,
    TOPIC_NAME_LIMIT,
    UPLOAD_LIMIT,
    ApiError,
    BotWorld,
    ChatState,
    FileRecord,
    Json,
    Params,
    RecordedRequest,
    Topic,
    Upload,
    bad_request,
    copy_json,
    image_size,
    member_json,
    new_message,
    too_many_requests,
    upgraded_group,
)
from .telegram_text import NOT_UTF8, has_lone_surrogate, is_empty_text


class BotView(TelegramControl):
    """The control API for one specific bot token of an emulator."""

    def __init__(self, emulator: BotAPIEmulator, token: str) -> None:
        self._emulator = emulator
        self.token = token

    def _world(self) -> BotWorld:
        return self._emulator.world(self.token)

    def _webhook_started(self, w: BotWorld) -> None:
        self._emulator._webhook_started(w)


__all__ = [
    "ApiError",
    "BotAPIEmulator",
    "BotView",
    "FileRecord",
    "FloodHit",
    "FloodLimits",
    "RecordedRequest",
    "Upload",
]

log = logging.getLogger(__name__)

Handler = Callable[[BotWorld, Params], Awaitable[Any]]


class BotAPIEmulator(TelegramControl):
    """The HTTP server plus the control API for the default token ``self.token``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        strict_html: bool = True,
        validate_images: bool = True,
        flood_limits: FloodLimits | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token or f"{secrets.randbelow(9 * 10**9) + 10**9}:TEST-{uuid.uuid4().hex}"
        if not TOKEN_RE.match(self.token):
            raise ValueError("a bot token looks like <int>:<str>")
        self.strict_html = strict_html
        self.validate_images = validate_images
        self.flood_limits = flood_limits or FloodLimits()
        self.flood_limits_enabled = True
        self.webhook_retry_delay = 0.2
        self._clock_offset = 0.0
        self._worlds: dict[str, BotWorld] = {}
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._methods: dict[str, tuple[str, Handler]] = {}
        self._register_methods()

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> BotAPIEmulator:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._closing = False
        return self

    async def stop(self) -> None:
        """Release long polls with an empty answer, stop webhook delivery, close the port."""
        self._closing = True
        for w in self._worlds.values():
            if w.poll_waiter is not None and not w.poll_waiter.done():
                w.poll_waiter.set_result("closing")
            w.update_event.set()
            if w.webhook_task is not None:
                w.webhook_task.cancel()
        await asyncio.sleep(0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotAPIEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def world(self, token: str) -> BotWorld:
        w = self._worlds.get(token)
        if w is None:
            w = self._worlds[token] = BotWorld(token)
        return w

    def _world(self) -> BotWorld:
        return self.world(self.token)

    def for_token(self, token: str) -> BotView:
        if not TOKEN_RE.match(token):
            raise ValueError("a bot token looks like <int>:<str>")
        return BotView(self, token)

    def now(self) -> float:
        """The flood-control clock; :meth:`advance_clock` moves it without sleeping."""
        return time.monotonic() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        self._clock_offset += seconds

    # -- HTTP ----------------------------------------------------------------------------------
    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return web.json_response(NOT_FOUND, status=404)

    async def _handle_file(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not TOKEN_RE.match(token) or token not in self._worlds:
            return web.json_response(NOT_FOUND, status=404)
        record = self._worlds[token].files_by_path.get(request.match_info["path"])
        if record is None:
            return web.json_response(NOT_FOUND, status=404)
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not TOKEN_RE.match(token):
            return web.json_response(NOT_FOUND, status=404)
        if token not in self._worlds and token != self.token:
            # Usually a test built its Bot with another token than emu.token and will see
            # "chat not found" for the chats it registered; say why in the log.
            log.warning("Bot API emulator: first request for token %s, not emu.token", token)
        try:
            raw = await self._read_params(request)
        except ApiError as e:
            return web.json_response(e.body(), status=e.status)
        status, body = await self.execute(token, request.match_info["method"], raw)
        return web.json_response(body, status=status)

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return raw
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON encoded request")
            raw.update(body)
            return raw
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form: MultiDictProxy[Any] = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    raw[key] = Upload(
                        filename=value.filename,
                        content_type=value.content_type,
                        data=value.file.read(),
                    )
                else:
                    raw[key] = value
        return raw

    async def execute(self, token: str, method: str, raw: dict[str, Any]) -> tuple[int, Json]:
        """Run one API call for ``token``; also used for methods returned by webhook replies."""
        w = self.world(token)
        entry = self._methods.get(method.lower())
        if entry is None:
            w.requests.append(RecordedRequest(method, raw, time.time(), False, 404, "Not Found"))
            return 404, dict(NOT_FOUND)
        name, handler = entry
        rec = RecordedRequest(name, raw, time.time())
        w.requests.append(rec)
        try:
            if has_lone_surrogate(raw):
                raise bad_request(NOT_UTF8)
            injected = self._take_injection(w, name, raw)
            if injected is not None:
                raise injected
            result = await handler(w, Params(raw))
        except ApiError as e:
            rec.ok, rec.error_code, rec.description = False, e.status, e.description
            return e.status, e.body()
        rec.ok, rec.result = True, result
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _take_injection(w: BotWorld, method: str, raw: dict[str, Any]) -> ApiError | None:
        for inj in w.injections:
            if inj.method != method.lower():
                continue
            if inj.chat_id is not None and str(raw.get("chat_id")) != inj.chat_id:
                continue
            inj.remaining -= 1
            if inj.remaining <= 0:
                w.injections.remove(inj)
            return inj.error
        return None

    # -- shared checks -------------------------------------------------------------------------
    def _register_methods(self) -> None:
        handlers: dict[str, Handler] = {
            "getMe": self._m_get_me,
            "logOut": self._m_true,
            "close": self._m_true,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "sendMessage": self._m_send_message,
            "sendPhoto": self._m_send_photo,
            "sendDocument": self._m_send_document,
            "sendVoice": self._m_send_voice,
            "sendLocation": self._m_send_location,
            "sendMediaGroup": self._m_send_media_group,
            "copyMessage": self._m_copy_message,
            "forwardMessage": self._m_forward_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageCaption": self._m_edit_message_caption,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendChatAction": self._m_send_chat_action,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "setMyDescription": self._m_true,
            "setMyShortDescription": self._m_true,
            "setMyName": self._m_true,
            "setChatMenuButton": self._m_set_chat_menu_button,
            "getChatMenuButton": self._m_get_chat_menu_button,
            "getChat": self._m_get_chat,
            "getChatMember": self._m_get_chat_member,
            "getChatAdministrators": self._m_get_chat_administrators,
            "pinChatMessage": self._m_pin_chat_message,
            "unpinChatMessage": self._m_pin_chat_message,
            "createForumTopic": self._m_create_forum_topic,
            "editForumTopic": self._m_edit_forum_topic,
            "closeForumTopic": self._m_close_forum_topic,
            "reopenForumTopic": self._m_reopen_forum_topic,
            "deleteForumTopic": self._m_delete_forum_topic,
            "unpinAllForumTopicMessages": self._m_topic_true,
            "getFile": self._m_get_file,
            "setMessageReaction": self._m_set_message_reaction,
        }
        self._methods = {name.lower(): (name, fn) for name, fn in handlers.items()}

    def _chat(self, w: BotWorld, p: Params, name: str = "chat_id") -> ChatState:
        value = p.get_str(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        chat: ChatState | None = None
        if value.startswith("@"):
            chat = next(
                (c for c in w.chats.values() if c.username and f"@{c.username}" == value), None
            )
        else:
            try:
                chat = w.chats.get(int(value))
            except ValueError:
                chat = None
        if chat is None or chat.deleted_chat:
            raise bad_request(CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise upgraded_group(chat.migrated_to)
        return chat

    @staticmethod
    def _check_reachable(w: BotWorld, chat: ChatState) -> None:
        if chat.is_private and chat.id in w.blocked:
            raise ApiError(403, BLOCKED)
        if not chat.is_private and chat.bot_status == "kicked":
            raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        if not chat.is_private and chat.bot_status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")

    @staticmethod
    def _check_may_post(chat: ChatState) -> None:
        """A bot restricted in the group (or demoted where members may not write) stays a
        member, but Telegram refuses whatever it posts there; it may still edit its messages."""
        if not chat.is_private and chat.bot_status == "restricted":
            raise bad_request("not enough rights to send text messages to the chat")

    @staticmethod
    def _thread(chat: ChatState, p: Params) -> int | None:
        thread_id = p.get_int("message_thread_id")
        if thread_id is None or thread_id == 0:
            return None
        if not chat.is_forum:
            raise bad_request(THREAD_NOT_FOUND)
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request(THREAD_NOT_FOUND)
        return thread_id

    def _reply_to(
        self, chat: ChatState, p: Params, thread_id: int | None
    ) -> tuple[Json | None, int | None]:
        params = p.get_json("reply_parameters", "reply parameters")
        message_id: int | None
        allow_without = p.get_bool("allow_sending_without_reply")
        if isinstance(params, dict):
            message_id = params.get("message_id")
            allow_without = bool(params.get("allow_sending_without_reply", allow_without))
            other_chat = params.get("chat_id")
            if other_chat is not None and str(other_chat) != str(chat.id):
                raise bad_request("replies to other chats are not supported by the emulator")
        elif params is not None:
            raise bad_request("can't parse reply parameters JSON object")
        else:
            message_id = p.get_int("reply_to_message_id")
        if message_id is None:
            return None, thread_id
        target = chat.live_message(int(message_id))
        if target is None:
            if allow_without:
                return None, thread_id
            raise bad_request("message to be replied not found")
        if thread_id is None and chat.is_forum:
            thread_id = target.get("message_thread_id")
            if thread_id is not None and chat.topics.get(thread_id, Topic(0, "", 0)).deleted:
                raise bad_request(THREAD_NOT_FOUND)
        return target, thread_id

    def _check_flood(self, w: BotWorld, chat: ChatState, method: str, count: int = 1) -> None:
        if not self.flood_limits_enabled:
            return
        w.flood.limits = self.flood_limits
        scope, wait = w.flood.check(chat.id, chat.is_private, self.now(), count)
        if scope:
            w.flood_hits.append(FloodHit(method, chat.id, wait, scope, time.time()))
            raise too_many_requests(wait)

    def _record_flood(self, w: BotWorld, chat: ChatState, count: int = 1) -> None:
        if self.flood_limits_enabled:
            w.flood.record(chat.id, chat.is_private, self.now(), count)

    def _formatted(
        self,
        p: Params,
        text_key: str,
        entities_key: str,
        *,
        limit: int,
        required: bool,
        parse_mode: str | None = None,
    ) -> tuple[str | None, list[Json], str | None]:
        """Parse text/caption the way the Bot API does; returns (plain, entities, raw)."""
        raw = p.get_str(text_key)
        if raw is None or raw == "":
            if required:
                raise bad_request("message text is empty")
            return None, [], raw
        entities_param = p.get_json(entities_key, "entities")
        mode = parse_mode if parse_mode is not None else (p.get_str("parse_mode") or "")
        if entities_param is not None:
            if not isinstance(entities_param, list) or not all(
                isinstance(e, dict) and "type" in e for e in entities_param
            ):
                raise bad_request("can't parse entities JSON object")
            text, entities = raw, [dict(e) for e in entities_param]
            _check_entity_bounds(text, entities)
        elif mode.lower() == "html":
            try:
                text, entities = parse_html(raw, strict=self.strict_html)
            except HtmlParseError as e:
                raise bad_request(f"can't parse entities: {e}") from None
        elif mode.lower() in ("", "markdown", "markdownv2"):
            text, entities = raw, []  # Markdown is accepted but not interpreted here
        else:
            raise bad_request("unsupported parse_mode")
        if required and is_empty_text(text):
            # Telegram's notion of empty, not Python's: a zero-width space or a braille blank
            # is "empty" to it, and a text of them is refused.
            raise bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise bad_request(
                "message is too long" if text_key == "text" else "message caption is too long"
            )
        return text, entities, raw

    def _markup(self, p: Params, chat: ChatState) -> tuple[Json | None, Json | None]:
        """Validate reply_markup; returns (markup, part echoed in the Message)."""
        markup = p.get_json("reply_markup", "reply keyboard markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            _validate_inline_keyboard(markup["inline_keyboard"])
            return markup, {"inline_keyboard": markup["inline_keyboard"]}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    if isinstance(button, str):
                        continue
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise bad_request(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
                    if button.get("request_contact") and not chat.is_private:
                        raise bad_request("phone number can be requested in private chats only")
                    if button.get("request_location") and not chat.is_private:
                        raise bad_request("location can be requested in private chats only")
            return markup, None
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return markup, None
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _deliver(self, w: BotWorld, p: Params, chat: ChatState, method: str, content: Json,
                 *, raw_text: str | None = None, parse_mode: str | None = None,
                 forward: bool = False) -> Json:
        """What every single-message send shares: markup, topic and reply checks, the user's
        reachability, the flood limits, then the message itself (forwards take no markup
        and no reply)."""
        echo = None if forward else self._markup(p, chat)[1]
        thread_id = self._thread(chat, p)
        reply_to = None
        if not forward:
            reply_to, thread_id = self._reply_to(chat, p, thread_id)
        self._check_reachable(w, chat)
        self._check_may_post(chat)
        self._check_flood(w, chat, method)
        self._record_flood(w, chat)
        return self._new_bot_message(w, chat, thread_id=thread_id, reply_to=reply_to,
                                     content=content, echo_markup=echo, method=method,
                                     raw_text=raw_text, parse_mode=parse_mode)

    def _new_bot_message(
        self,
        w: BotWorld,
        chat: ChatState,
        *,
        thread_id: int | None,
        reply_to: Json | None,
        content: Json,
        echo_markup: Json | None,
        method: str,
        raw_text: str | None,
        parse_mode: str | None,
    ) -> Json:
        msg = new_message(chat, w.bot_public(), thread_id, reply_to)
        msg.update(content)
        if echo_markup is not None:
            msg["reply_markup"] = copy_json(echo_markup)
        chat.messages[msg["message_id"]] = msg
        meta = {"raw_text": raw_text, "parse_mode": parse_mode, "method": method}
        w.sent.append((chat.id, msg["message_id"], meta))
        return copy_json(msg)

    def _input_file(
        self, w: BotWorld, p: Params, key: str, *, kind: str, value: Any = None
    ) -> tuple[FileRecord | None, Upload | None]:
        """Resolve an InputFile: existing file_id, URL, ``attach://name`` or a direct part."""
        value = p.raw.get(key) if value is None else value
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, Upload):
            upload = value
        elif isinstance(value, str) and value.startswith("attach://"):
            attached = p.raw.get(value[len("attach://") :])
            if not isinstance(attached, Upload):
                raise bad_request(f"there is no {kind} in the request")
            upload = attached
        elif isinstance(value, str) and value in w.files:
            return w.files[value], None
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            return None, Upload(value.rsplit("/", 1)[-1] or kind, "", b"")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if len(upload.data) > UPLOAD_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        if not upload.data:
            raise bad_request("file must be non-empty")
        return None, upload

    # -- methods: bot and updates ----------------------------------------------------------------
    async def _m_true(self, w: BotWorld, p: Params) -> bool:
        return True

    async def _m_get_me(self, w: BotWorld, p: Params) -> Json:
        return copy_json(w.bot_user)

    async def _m_get_updates(self, w: BotWorld, p: Params) -> list[Json]:
        if w.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get_int("offset", 0) or 0
        limit = min(100, max(1, p.get_int("limit", 100) or 100))
        timeout = max(0, p.get_int("timeout", 0) or 0)
        if p.has("allowed_updates"):
            allowed = p.get_json("allowed_updates", "allowed updates")
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed updates JSON object")
            w.allowed_updates = [str(a) for a in allowed]
        w.confirm(offset)

        if w.poll_waiter is not None and not w.poll_waiter.done():
            w.poll_waiter.set_result("conflict")
        me: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        w.poll_waiter = me
        deadline = time.monotonic() + timeout
        try:
            while True:
                batch = w.deliverable(limit)
                if batch or self._closing:
                    return batch
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                event_wait: asyncio.Future[Any] = asyncio.ensure_future(w.update_event.wait())
                waiters: set[asyncio.Future[Any]] = {event_wait, me}
                await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                event_wait.cancel()
                if me.done():
                    if me.result() == "conflict":
                        raise ApiError(409, CONFLICT_POLL)
                    return []
        finally:
            if w.poll_waiter is me:
                w.poll_waiter = None

    async def _m_set_webhook(self, w: BotWorld, p: Params) -> bool:
        url = p.get_str("url") or ""
        if not url:
            return await self._m_delete_webhook(w, p)
        secret = p.get_str("secret_token")
        if secret is not None and not SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTP(S) URL must be provided for webhook")
        if p.get_bool("drop_pending_updates"):
            w.updates.clear()
        if p.has("allowed_updates"):
            allowed = p.get_json("allowed_updates", "allowed updates")
            w.allowed_updates = [str(a) for a in allowed or []]
        w.webhook = {"url": url, "secret_token": secret, "last_error": None}
        self._webhook_started(w)
        return True

    async def _m_delete_webhook(self, w: BotWorld, p: Params) -> bool:
        if p.get_bool("drop_pending_updates"):
            w.updates.clear()
        w.webhook = None
        if w.webhook_task is not None:
            w.webhook_task.cancel()
            w.webhook_task = None
        return True

    async def _m_get_webhook_info(self, w: BotWorld, p: Params) -> Json:
        info: Json = {
            "url": w.webhook["url"] if w.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": w.pending_count(),
        }
        if w.webhook and w.webhook.get("last_error"):
            info["last_error_date"] = int(time.time())
            info["last_error_message"] = w.webhook["last_error"]
        if w.allowed_updates:
            info["allowed_updates"] = list(w.allowed_updates)
        return info

    def _webhook_started(self, w: BotWorld) -> None:
        if w.webhook_task is None or w.webhook_task.done():
            w.webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop(w))

    async def _webhook_loop(self, w: BotWorld) -> None:
        """Push updates one at a time, in order, retrying until the bot answers 2xx."""
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while not self._closing and w.webhook is not None:
                batch = w.deliverable(1)
                if not batch:
                    event = w.update_event
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), timeout=0.5)
                    continue
                update = batch[0]
                headers = {}
                if w.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = w.webhook["secret_token"]
                try:
                    async with session.post(w.webhook["url"], json=update, headers=headers) as r:
                        status, body = r.status, await r.read()
                except Exception as e:  # any transport failure is retried, as Telegram does
                    w.webhook["last_error"] = f"{type(e).__name__}: {e}"
                    await asyncio.sleep(self.webhook_retry_delay)
                    continue
                if not 200 <= status < 300:
                    w.webhook["last_error"] = f"Wrong response from the webhook: {status}"
                    await asyncio.sleep(self.webhook_retry_delay)
                    continue
                w.confirm(update["update_id"] + 1)
                await self._webhook_reply(w, body)

    async def _webhook_reply(self, w: BotWorld, body: bytes) -> None:
        """A webhook may answer with a method call; Telegram performs it (result unseen)."""
        if not body:
            return
        try:
            payload = json.loads(body)
        except ValueError:
            return
        if isinstance(payload, dict) and isinstance(payload.get("method"), str):
            params = {k: v for k, v in payload.items() if k != "method"}
            await self.execute(w.token, payload["method"], params)

    # -- methods: sending ------------------------------------------------------------------------
    async def _m_send_message(self, w: BotWorld, p: Params) -> Json:
        chat = self._chat(w, p)
        text, entities, raw = self._formatted(
            p, "text", "entities", limit=TEXT_LIMIT, required=True
        )
        content: Json = {"text": text}
        if entities:
            content["entities"] = entities
        return self._deliver(w, p, chat, "sendMessage", content, raw_text=raw,
                             parse_mode=p.get_str("parse_mode"))

    async def _send_media(self, w: BotWorld, p: Params, method: str, kind: str) -> Json:
        chat = self._chat(w, p)
        existing, upload = self._input_file(w, p, kind, kind=kind)
        caption, cap_entities, raw = self._formatted(
            p, "caption", "caption_entities", limit=CAPTION_LIMIT, required=False
        )
        content = self._media_content(w, kind, existing, upload)
        if caption:
            content["caption"] = caption
            if cap_entities:
                content["caption_entities"] = cap_entities
        return self._deliver(w, p, chat, method, content, raw_text=raw,
                             parse_mode=p.get_str("parse_mode"))

    def _media_content(
        self, w: BotWorld, kind: str, existing: FileRecord | None, upload: Upload | None
    ) -> Json:
        if existing is not None:
            data, name, mime = existing.data, existing.file_name, existing.mime_type
        else:
            assert upload is not None
            data, name, mime = upload.data, upload.filename, upload.content_type or None
        if kind == "photo":
            if upload is not None and upload.data:
                if len(upload.data) > PHOTO_LIMIT:
                    raise bad_request("PHOTO_INVALID_DIMENSIONS")
                if self.validate_images and image_size(upload.data) is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
            return {"photo": w.photo_sizes(data)}
        if kind == "voice":
            return {"voice": w.voice_obj(data)}
        if mime == "application/octet-stream" and name:
            mime = mimetypes.guess_type(name)[0] or mime
        return {"document": w.document_obj(data, name or "document", mime)}

    async def _m_send_photo(self, w: BotWorld, p: Params) -> Json:
        return await self._send_media(w, p, "sendPhoto", "photo")

    async def _m_send_document(self, w: BotWorld, p: Params) -> Json:
        return await self._send_media(w, p, "sendDocument", "document")

    async def _m_send_voice(self, w: BotWorld, p: Params) -> Json:
        return await self._send_media(w, p, "sendVoice", "voice")

    async def _m_send_location(self, w: BotWorld, p: Params) -> Json:
        chat = self._chat(w, p)
        try:
            lat = float(p.require_str("latitude"))
            lon = float(p.require_str("longitude"))
        except ValueError:
            raise bad_request("wrong latitude or longitude") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad_request("wrong latitude or longitude")
        return self._deliver(w, p, chat, "sendLocation",
                             {"location": {"latitude": lat, "longitude": lon}})

    async def _m_send_media_group(self, w: BotWorld, p: Params) -> list[Json]:
        chat = self._chat(w, p)
        media = p.get_json("media", "media")
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        if not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media in the media group: must be 2-10")
        if not all(isinstance(m, dict) and "type" in m for m in media):
            raise bad_request("can't parse InputMedia JSON object")
        kinds = {m["type"] for m in media}
        if not kinds <= {"photo", "document"}:
            raise bad_request("the emulator supports photo and document media groups only")
        if len(kinds) > 1 and kinds & {"document", "audio"}:
            raise bad_request("documents and audio can't be mixed with other media types")
        items: list[tuple[Json, str | None, list[Json], str | None]] = []
        for entry in media:
            sub = Params({**p.raw, **{k: v for k, v in entry.items() if k != "media"}})
            kind = "photo" if entry["type"] == "photo" else "document"
            existing, upload = self._input_file(w, p, "media", kind=kind, value=entry.get("media"))
            caption, cap_entities, raw = self._formatted(
                sub,
                "caption",
                "caption_entities",
                limit=CAPTION_LIMIT,
                required=False,
                parse_mode=str(entry.get("parse_mode") or ""),
            )
            content = self._media_content(w, kind, existing, upload)
            if caption:
                content["caption"] = caption
                if cap_entities:
                    content["caption_entities"] = cap_entities
            items.append((content, caption, cap_entities, raw))
        thread_id = self._thread(chat, p)
        reply_to, thread_id = self._reply_to(chat, p, thread_id)
        self._check_reachable(w, chat)
        self._check_may_post(chat)
        self._check_flood(w, chat, "sendMediaGroup", len(items))
        self._record_flood(w, chat, len(items))
        group_id = str(secrets.randbelow(10**17) + 10**17)
        out = []
        for content, _caption, _ents, raw in items:
            content["media_group_id"] = group_id
            out.append(
                self._new_bot_message(
                    w,
                    chat,
                    thread_id=thread_id,
                    reply_to=reply_to,
                    content=content,
                    echo_markup=None,
                    method="sendMediaGroup",
                    raw_text=raw,
                    parse_mode=None,
                )
            )
        return out

    def _source_message(self, w: BotWorld, p: Params, what: str) -> tuple[ChatState, Json]:
        source_chat = self._chat(w, p, "from_chat_id")
        message_id = p.require_int("message_id", "message_id is empty")
        source = source_chat.live_message(message_id)
        if source is None:
            raise bad_request(f"message to {what} not found")
        if not any(k in source for k in CONTENT_KEYS):
            raise bad_request(f"message can't be {'copied' if what == 'copy' else 'forwarded'}")
        return source_chat, source

    async def _m_copy_message(self, w: BotWorld, p: Params) -> Json:
        chat = self._chat(w, p)
        _, source = self._source_message(w, p, "copy")
        content = {k: copy_json(source[k]) for k in CONTENT_KEYS if k in source}
        raw_text = content.get("text") or content.get("caption")
        parse_mode = None
        kept = p.raw.get("caption") is None and "caption" in content
        changed = any(p.raw.get(k) not in (None, "") for k in (
            "reply_parameters", "reply_to_message_id", "reply_markup"))
        if kept and changed and utf16_len(str(content["caption"])) > CAPTION_LIMIT:
            # A Premium user's caption may be longer than a bot's; Telegram copies it only
            # as it is, not as a reply or with buttons (tdlib/telegram-bot-api#334).
            raise bad_request("message caption is too long")
        if p.raw.get("caption") is not None and "text" not in content:
            caption, entities, raw_text = self._formatted(
                p, "caption", "caption_entities", limit=CAPTION_LIMIT, required=False
            )
            parse_mode = p.get_str("parse_mode")
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
        msg = self._deliver(w, p, chat, "copyMessage", content, raw_text=raw_text,
                            parse_mode=parse_mode)
        return {"message_id": msg["message_id"]}

    async def _m_forward_message(self, w: BotWorld, p: Params) -> Json:
        chat = self._chat(w, p)
        _, source = self._source_message(w, p, "forward")
        content = {k: copy_json(source[k]) for k in CONTENT_KEYS if k in source}
        sender = source.get("from") or w.bot_public()
        content["forward_origin"] = {
            "type": "user",
            "sender_user": copy_json(sender),
            "date": source["date"],
        }
        return self._deliver(w, p, chat, "forwardMessage", content,
                             raw_text=content.get("text") or content.get("caption"),
                             forward=True)

    # -- methods: editing ------------------------------------------------------------------------
    def _editable(self, w: BotWorld, p: Params) -> tuple[ChatState, Json]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat(w, p)
        message_id = p.require_int("message_id", "message identifier is not specified")
        msg = chat.live_message(message_id)
        if msg is None:
            raise bad_request("message to edit not found")
        if msg.get("from", {}).get("id") != w.bot_id:
            raise bad_request("message can't be edited")
        self._check_reachable(w, chat)
        return chat, msg

    def _finish_edit(self, w: BotWorld, chat: ChatState, msg: Json, new: Json) -> Json:
        if all(msg.get(k) == v for k, v in new.items()) and all(
            k in new or k not in msg for k in ("entities", "caption_entities", "reply_markup")
        ):
            raise bad_request(NOT_MODIFIED)
        for key in ("entities", "caption_entities", "reply_markup"):
            if key not in new:
                msg.pop(key, None)
        for key, value in new.items():
            if value is None:
                msg.pop(key, None)
            else:
                msg[key] = value
        msg["edit_date"] = int(time.time())
        return copy_json(msg)

    async def _m_edit_message_text(self, w: BotWorld, p: Params) -> Json:
        chat, msg = self._editable(w, p)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        return self._edit_formatted(w, p, chat, msg, "text", "entities", TEXT_LIMIT, True)

    async def _m_edit_message_caption(self, w: BotWorld, p: Params) -> Json:
        chat, msg = self._editable(w, p)
        if not any(k in msg for k in ("photo", "document", "voice", "video", "audio")):
            raise bad_request("there is no caption in the message to edit")
        return self._edit_formatted(w, p, chat, msg, "caption", "caption_entities",
                                    CAPTION_LIMIT, False)

    def _edit_formatted(self, w: BotWorld, p: Params, chat: ChatState, msg: Json, field: str,
                        entities_field: str, limit: int, required: bool) -> Json:
        """Text and caption edits differ only in the field, its entities and its limit."""
        value, entities, raw = self._formatted(p, field, entities_field, limit=limit,
                                               required=required)
        _, echo = self._markup(p, chat)
        new: Json = {field: value or None}
        if entities:
            new[entities_field] = entities
        if echo is not None:
            new["reply_markup"] = echo
        result = self._finish_edit(w, chat, msg, new)
        self._update_meta(w, chat, msg, raw, p.get_str("parse_mode"))
        return result

    async def _m_edit_message_reply_markup(self, w: BotWorld, p: Params) -> Json:
        chat, msg = self._editable(w, p)
        _, echo = self._markup(p, chat)
        new: Json = {k: msg[k] for k in ("entities", "caption_entities") if k in msg}
        if echo is not None:
            new["reply_markup"] = echo
        return self._finish_edit(w, chat, msg, new)

    @staticmethod
    def _update_meta(
        w: BotWorld, chat: ChatState, msg: Json, raw: str | None, parse_mode: str | None
    ) -> None:
        for cid, mid, meta in w.sent:
            if cid == chat.id and mid == msg["message_id"]:
                meta["raw_text"], meta["parse_mode"] = raw, parse_mode
                meta["edits"] = int(meta.get("edits", 0)) + 1

    async def _m_delete_message(self, w: BotWorld, p: Params) -> bool:
        chat = self._chat(w, p)
        message_id = p.require_int("message_id", "message identifier is not specified")
        if chat.live_message(message_id) is None:
            raise bad_request("message to delete not found")
        chat.deleted.add(message_id)
        return True

    # -- methods: callbacks, commands, chats -----------------------------------------------------
    async def _m_answer_callback_query(self, w: BotWorld, p: Params) -> bool:
        query_id = p.require_str(
            "callback_query_id",
            "query is too old and response timeout expired or query ID is invalid",
        )
        entry = w.callback_queries.get(query_id)
        if entry is None or entry["answered"]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get_str("text")
        if text is not None and utf16_len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        entry["answered"] = True
        w.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": p.get_bool("show_alert"),
                "url": p.get_str("url"),
                "cache_time": p.get_int("cache_time"),
                "query": copy_json(entry["query"]),
                "at": time.time(),
            }
        )
        return True

    async def _m_send_chat_action(self, w: BotWorld, p: Params) -> bool:
        chat = self._chat(w, p)
        if p.get_str("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._thread(chat, p)
        self._check_reachable(w, chat)
        return True

    @staticmethod
    def _commands_key(p: Params) -> str:
        scope = p.get_json("scope", "scope") or {"type": "default"}
        return json.dumps([scope, p.get_str("language_code") or ""], sort_keys=True)

    async def _m_set_my_commands(self, w: BotWorld, p: Params) -> bool:
        commands = p.get_json("commands", "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand")
            if not BOT_COMMAND_RE.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        self._command_scope(w, p)
        w.commands[self._commands_key(p)] = commands
        return True

    def _command_scope(self, w: BotWorld, p: Params) -> None:
        """A scope naming a chat must name one the bot is in, as it is now: Telegram refuses
        a group it was removed from, a deleted one, and the old id of an upgraded one (with
        ``migrate_to_chat_id``), so a menu set there never shows. A language is two letters."""
        language = p.get_str("language_code") or ""
        if language and not (len(language) == 2 and language.isalpha()
                             and language.islower()):
            raise bad_request("LANG_CODE_INVALID")
        scope = p.get_json("scope", "scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat = self._chat(w, Params({"chat_id": scope.get("chat_id")}))
            self._check_reachable(w, chat)

    async def _m_get_my_commands(self, w: BotWorld, p: Params) -> list[Json]:
        return copy_json(w.commands.get(self._commands_key(p), []))

    async def _m_delete_my_commands(self, w: BotWorld, p: Params) -> bool:
        w.commands.pop(self._commands_key(p), None)
        return True

    async def _m_set_chat_menu_button(self, w: BotWorld, p: Params) -> bool:
        key = "default"
        if p.has("chat_id"):
            chat = self._chat(w, p)
            if not chat.is_private:
                raise bad_request("menu button can be set only in private chats")
            key = str(chat.id)
        button = p.get_json("menu_button", "menu button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button JSON object")
        w.menu_buttons[key] = button
        return True

    async def _m_get_chat_menu_button(self, w: BotWorld, p: Params) -> Json:
        key = str(self._chat(w, p).id) if p.has("chat_id") else "default"
        return copy_json(w.menu_buttons.get(key, {"type": "default"}))

    async def _m_get_chat(self, w: BotWorld, p: Params) -> Json:
        chat = self._chat(w, p)
        info = chat.public()
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    def _member(self, w: BotWorld, chat: ChatState, user_id: int) -> Json:
        if user_id == w.bot_id:
            status, user = chat.bot_status, w.bot_public()
        else:
            user_obj = w.users.get(user_id)
            if user_obj is None:
                raise bad_request("user not found")
            user = copy_json(user_obj)
            status = chat.members.get(user_id, "left")
        if status == "restricted" and user_id != w.bot_id:
            raise bad_request("restricted members are not emulated")
        return member_json(user, status)

    async def _m_get_chat_member(self, w: BotWorld, p: Params) -> Json:
        chat = self._chat(w, p)
        return self._member(w, chat, p.require_int("user_id", "user_id is empty"))

    async def _m_get_chat_administrators(self, w: BotWorld, p: Params) -> list[Json]:
        chat = self._chat(w, p)
        if chat.is_private:
            raise bad_request("there are no administrators in the private chat")
        ids = [uid for uid, s in chat.members.items() if s in ("administrator", "creator")]
        if chat.bot_status == "administrator":
            ids.append(w.bot_id)
        return [self._member(w, chat, uid) for uid in ids]

    async def _m_pin_chat_message(self, w: BotWorld, p: Params) -> bool:
        chat = self._chat(w, p)
        message_id = p.get_int("message_id")
        if message_id is not None and chat.live_message(message_id) is None:
            raise bad_request("message to pin not found")
        return True

    # -- methods: forum topics -------------------------------------------------------------------
    def _forum(self, w: BotWorld, p: Params) -> ChatState:
        chat = self._chat(w, p)
        self._check_reachable(w, chat)  # a bot removed from the group is told so first
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if chat.bot_status != "administrator":
            raise bad_request("not enough rights to manage topics")
        return chat

    def _topic(self, w: BotWorld, p: Params) -> tuple[ChatState, Topic]:
        chat = self._forum(w, p)
        thread_id = p.require_int("message_thread_id", "message thread identifier is empty")
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        return chat, topic

    async def _m_create_forum_topic(self, w: BotWorld, p: Params) -> Json:
        chat = self._forum(w, p)
        name = p.get_str("name") or ""
        if is_empty_text(name):
            raise bad_request("TOPIC_TITLE_EMPTY")
        if utf16_len(name) > TOPIC_NAME_LIMIT:
            raise bad_request("TOPIC_TITLE_INVALID")
        color = p.get_int("icon_color", 7322096) or 7322096
        if color not in TOPIC_ICON_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        thread_id = chat.new_message_id()
        topic = Topic(thread_id, name, color, p.get_str("icon_custom_emoji_id") or None)
        chat.topics[thread_id] = topic
        created: Json = {"name": name, "icon_color": color}
        if topic.icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
        chat.messages[thread_id] = {
            "message_id": thread_id,
            "from": w.bot_public(),
            "chat": chat.public(),
            "date": int(time.time()),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": created,
        }
        return topic.public()

    async def _m_edit_forum_topic(self, w: BotWorld, p: Params) -> bool:
        _, topic = self._topic(w, p)
        name = p.get_str("name")
        emoji = p.get_str("icon_custom_emoji_id")
        if name is not None and utf16_len(name) > TOPIC_NAME_LIMIT:
            raise bad_request("TOPIC_TITLE_INVALID")
        new_name = name or topic.name
        new_emoji = topic.icon_custom_emoji_id if emoji is None else (emoji or None)
        if new_name == topic.name and new_emoji == topic.icon_custom_emoji_id:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name, topic.icon_custom_emoji_id = new_name, new_emoji
        return True

    async def _m_close_forum_topic(self, w: BotWorld, p: Params) -> bool:
        _, topic = self._topic(w, p)
        if topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    async def _m_reopen_forum_topic(self, w: BotWorld, p: Params) -> bool:
        _, topic = self._topic(w, p)
        if not topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    async def _m_delete_forum_topic(self, w: BotWorld, p: Params) -> bool:
        chat, topic = self._topic(w, p)
        topic.deleted = True
        for mid, msg in chat.messages.items():
            if msg.get("message_thread_id") == topic.message_thread_id:
                chat.deleted.add(mid)
        return True

    async def _m_topic_true(self, w: BotWorld, p: Params) -> bool:
        self._topic(w, p)
        return True

    # -- methods: files and reactions ------------------------------------------------------------
    async def _m_get_file(self, w: BotWorld, p: Params) -> Json:
        file_id = p.require_str("file_id", "file_id is empty")
        record = w.files.get(file_id)
        if record is None:
            raise bad_request("invalid file_id")
        if len(record.data) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return record.as_file()

    async def _m_set_message_reaction(self, w: BotWorld, p: Params) -> bool:
        chat = self._chat(w, p)
        message_id = p.require_int("message_id", "message identifier is not specified")
        if chat.live_message(message_id) is None:
            raise bad_request("message to react not found")
        reaction = p.get_json("reaction", "reaction") or []
        if not isinstance(reaction, list):
            raise bad_request("can't parse reaction types JSON object")
        if len(reaction) > 1:
            raise bad_request("REACTIONS_TOO_MANY")
        for r in reaction:
            if not isinstance(r, dict) or r.get("type") not in ("emoji", "custom_emoji"):
                raise bad_request("can't parse reaction types JSON object")
            if r["type"] == "emoji" and r.get("emoji") not in REACTION_EMOJI:
                raise bad_request("REACTION_INVALID")
        w.reactions.append({"chat_id": chat.id, "message_id": message_id, "reaction": reaction})
        return True


def _check_entity_bounds(text: str, entities: list[Json]) -> None:
    size = utf16_len(text)
    for entity in entities:
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request('can\'t parse MessageEntity: field "offset" must be a Number')
        if offset < 0 or length <= 0 or offset + length > size:
            raise bad_request(
                "entity beginning is out of the text bounds"
                if offset > size
                else "entity end is out of the text bounds"
            )
        if entity["type"] == "text_link" and not str(entity.get("url", "")).startswith(
            ("http://", "https://", "tg://", "ton://")
        ):
            raise bad_request(f"entity URL '{entity.get('url', '')}' is invalid: Wrong HTTP URL")


def _validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    if not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    if sum(len(row) for row in rows) > INLINE_BUTTONS_LIMIT:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("can't parse inline keyboard button: expected an Object")
            if "text" not in button:
                raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
            if not isinstance(button["text"], str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not button["text"].strip():
                raise bad_request("text of the inline keyboard button must be non-empty")
            actions = [a for a in INLINE_ACTIONS if button.get(a) not in (None, "")]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: exactly one of the optional fields "
                    "must be used"
                )
            if "callback_data" in actions:
                data = button["callback_data"]
                if not isinstance(data, str) or len(data.encode()) > CALLBACK_DATA_LIMIT:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in actions:
                url = str(button["url"])
                scheme_ok = url.startswith(("http://", "https://", "tg://"))
                if not scheme_ok or len(url.split("://", 1)[1]) == 0:
                    raise bad_request(
                        f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                    )
