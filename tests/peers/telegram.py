"""Fixtures for the Telegram channel's peer: the strict Bot API emulator over real HTTP.

A test gets the emulator (a staff supergroup, a managers' chat and the sample organisation's
staff as members) and a :class:`TelegramHarness` that runs the real :class:`TelegramChannel`
against it — real aiogram session, long polling, the app's outbox with the bot's senders
registered — and can stop and start it again to test restarts.

The emulator keeps Telegram's pace of one message a second in a group itself
(:attr:`domovoy.peers.telegram_flood.FloodLimits.group_interval`, shrunk with the window); the
one given to the bot's tests can also refuse a button press answered too late and give calls
Telegram's round trip (:class:`StrictBotAPIEmulator`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.channel import TelegramChannel
from bot.sender import SendLimits
from bot.settings import TelegramConfig
from domovoy.app import App
from domovoy.peers.telegram_api import BotAPIEmulator
from domovoy.peers.telegram_flood import FloodHit
from domovoy.peers.telegram_state import (
    ApiError,
    BotWorld,
    Json,
    Params,
    RecordedRequest,
    bad_request,
)
from domovoy.runner import STOP_TIMEOUT_S

STAFF_CHAT = -1001000000001
MANAGERS_CHAT = -1001000000009
STAFF_IDS = {"ivan": 1001, "maria": 1002, "oleg": 1003, "anna": 1009}


QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
# Calls that put something in a chat or change a message or a topic there: what a flood wait
# holds up.
FLOOD_WAITED = frozenset(m.lower() for m in (
    "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendVoice", "sendAudio",
    "sendAnimation", "sendSticker", "sendMediaGroup", "sendLocation", "sendContact",
    "copyMessage", "forwardMessage", "editMessageText", "editMessageReplyMarkup",
    "editMessageCaption", "editMessageMedia", "setMessageReaction", "createForumTopic",
    "editForumTopic", "closeForumTopic", "reopenForumTopic"))
# Calls that post in a topic: refused there while it is closed, but to an admin who may
# manage topics.
POSTS = frozenset(m.lower() for m in (
    "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendVoice", "sendAudio",
    "sendAnimation", "sendSticker", "sendMediaGroup", "sendLocation", "sendContact",
    "copyMessage", "forwardMessage"))
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"


class StrictBotAPIEmulator(BotAPIEmulator):
    """The emulator plus three things real Telegram does that it leaves out.

    ``callback_query_life``: a button press must be answered within this many seconds of the
    press, or Telegram refuses the answer (the person saw a spinner, then nothing). Telegram
    does not publish the figure; tests set a shrunk one, None turns the check off.
    ``round_trip``: seconds each call of a method takes (Telegram is not on loopback), so a
    handler making many calls before answering a press takes as long as it would.
    ``flood_wait``: a chat that got a 429 (flood control's or an injected one) refuses every
    post and every edit there (a forum topic's too) with 429 until its ``retry_after`` has
    passed: an edit that ignored the pause used to pass here and be refused by Telegram.
    Counted in ``flood_hits`` (scope "wait").
    A closed forum topic refuses a post from a bot that may not manage topics (anything but
    an administrator here) with 400 TOPIC_CLOSED, as it refuses a member's: the emulator
    used to take it, where Telegram keeps the topic shut.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.callback_query_life: float | None = None
        self.round_trip: dict[str, float] = {}
        self._pressed: dict[str, float] = {}
        self.flood_wait = True
        self._waiting: dict[str, float] = {}  # chat id (as sent) -> end of its flood wait

    def user_presses(self, user_id: int, message: Json | tuple[int, int], data: str, *,
                     check_button: bool = True) -> Json:
        query = super().user_presses(user_id, message, data, check_button=check_button)
        self._pressed[query["id"]] = time.monotonic()
        return query

    async def execute(self, token: str, method: str, raw: dict[str, Any]) -> tuple[int, Json]:
        delay = self.round_trip.get(method, 0.0)
        if delay:
            await asyncio.sleep(delay)
        chat = str(raw.get("chat_id"))
        held = self.flood_wait and method.lower() in FLOOD_WAITED and "chat_id" in raw
        if held and self._waiting.get(chat, 0.0) > self.now():
            wait = max(1, math.ceil(self._waiting[chat] - self.now()))
            w = self.world(token)
            error = ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            w.requests.append(RecordedRequest(method, raw, time.time(), False, 429,
                                              error.description))
            w.flood_hits.append(FloodHit(method, int(chat) if chat.lstrip("-").isdigit()
                                         else 0, wait, "wait", time.time()))
            return 429, error.body()
        if method.lower() in POSTS and self._closed_to_bot(token, raw):
            self.world(token).requests.append(RecordedRequest(
                method, raw, time.time(), False, 400, TOPIC_CLOSED))
            return 400, ApiError(400, TOPIC_CLOSED).body()
        status, body = await super().execute(token, method, raw)
        retry_after = (body.get("parameters") or {}).get("retry_after")
        if held and status == 429 and isinstance(retry_after, int):
            self._waiting[chat] = max(self._waiting.get(chat, 0.0), self.now() + retry_after)
        return status, body

    def _closed_to_bot(self, token: str, raw: dict[str, Any]) -> bool:
        """Whether the post names a closed topic of a forum where the bot may not manage
        topics."""
        chat_id, thread_id = str(raw.get("chat_id")), str(raw.get("message_thread_id"))
        if not chat_id.lstrip("-").isdigit() or not thread_id.isdigit():
            return False
        chat = self.world(token).chats.get(int(chat_id))
        if chat is None or not chat.is_forum or chat.bot_status == "administrator":
            return False
        topic = chat.topics.get(int(thread_id))
        return topic is not None and topic.closed and not topic.deleted

    async def _m_answer_callback_query(self, w: BotWorld, p: Params) -> bool:
        pressed = self._pressed.get(p.get_str("callback_query_id") or "")
        life = self.callback_query_life
        if life is not None and pressed is not None and time.monotonic() - pressed > life:
            raise bad_request(QUERY_TOO_OLD)
        return await super()._m_answer_callback_query(w, p)


def add_staff_chats(emu: BotAPIEmulator, *, forum: bool = False) -> None:
    emu.add_supergroup(STAFF_CHAT, "Диспетчерская", is_forum=forum)
    emu.add_supergroup(MANAGERS_CHAT, "Руководство")
    for name, uid in STAFF_IDS.items():
        emu.add_member(STAFF_CHAT, uid, name.capitalize(), username=name)
        emu.add_member(MANAGERS_CHAT, uid, name.capitalize(), username=name)
        emu.add_private_chat(uid, name.capitalize(), username=name)


def telegram_config(emu: BotAPIEmulator, **overrides: Any) -> TelegramConfig:
    values: dict[str, Any] = {
        "token": emu.token, "api_base_url": emu.base_url, "staff_chat_id": STAFF_CHAT,
        "managers_chat_id": MANAGERS_CHAT, "burst_window_s": 60,
    }
    values.update(overrides)
    return TelegramConfig.model_validate(values)


class TelegramHarness:
    """The running channel, and the levers a test pulls on it."""

    def __init__(self, app: App, emu: BotAPIEmulator, config: TelegramConfig,
                 limits: SendLimits | None = None) -> None:
        self.app = app
        self.emu = emu
        self.config = config
        self.limits = limits
        self.channel: TelegramChannel | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> TelegramChannel:
        channel = TelegramChannel(self.config, self.app.wf, self.app.intake, self.app.cases,
                                  limits=self.limits, polling_timeout=2, watch_interval=0.05)
        self.app.register_sender("telegram", channel.resident_sender)
        self.app.register_sender("staff", channel.staff_sender)
        self.channel = channel

        def started() -> int:
            return len(self.emu.calls("getUpdates")) + len(self.emu.calls("setWebhook"))

        # This start's own first call: one of a channel stopped before would let a test go on
        # (and stop it again) while it is still starting.
        before = started()
        self.task = asyncio.create_task(channel.run())
        await self.emu.wait_for(
            lambda: started() > before, timeout=5,
            what="the channel to start polling (or to set its webhook)")
        return channel

    async def stop(self) -> None:
        """Close the channel as `domovoy run` does, gracefully (the update being handled is
        finished and confirmed), but within ``Services.stop``'s bound: a channel that cannot
        stop fails the test with a TimeoutError instead of holding the test run forever."""
        try:
            if self.channel is not None:
                await asyncio.wait_for(self.channel.close(), STOP_TIMEOUT_S)
        finally:
            if self.task is not None:
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(self.task, STOP_TIMEOUT_S)
            self.channel, self.task = None, None

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until the bot has handled every update sent so far.

        An update leaves the emulator's queue only when a later getUpdates confirms it, and
        the channel asks for more only after the handler returned: an empty queue means done.
        """
        await self.emu.wait_for(lambda: not self.emu.pending_updates, timeout=timeout,
                                what="the bot to take every update")

    async def deliver(self) -> int:
        return await self.app.outbox.deliver_due()

    async def until(self, predicate: Callable[[], Any], timeout: float = 5.0,
                    what: str | None = None) -> Any:
        return await self.emu.wait_for(predicate, timeout=timeout, what=what)

    def texts_to(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.emu.sent_messages(chat_id)]


@pytest.fixture
async def tg_emulator() -> AsyncIterator[StrictBotAPIEmulator]:
    emu = StrictBotAPIEmulator()
    async with emu:
        yield emu


@pytest.fixture
async def make_telegram(app: App, tg_emulator: BotAPIEmulator
                        ) -> AsyncIterator[Callable[..., Awaitable[TelegramHarness]]]:
    """Start the channel (``forum=True`` for a staff forum); everything stops at teardown."""
    harnesses: list[TelegramHarness] = []

    async def make(*, forum: bool = False, limits: SendLimits | None = None,
                   **config: Any) -> TelegramHarness:
        add_staff_chats(tg_emulator, forum=forum)
        harness = TelegramHarness(app, tg_emulator, telegram_config(tg_emulator, **config),
                                  limits)
        harnesses.append(harness)
        await harness.start()
        return harness

    yield make
    for harness in harnesses:
        await harness.stop()


@pytest.fixture
async def telegram(make_telegram: Callable[..., Awaitable[TelegramHarness]]
                   ) -> TelegramHarness:
    return await make_telegram()
