"""The one way Telegram output leaves the process, within the Bot API's flood limits.

Telegram answers bursts with 429 and ``retry_after``; a bot that ignores that gets throttled
for everyone. Everything the bot sends — outbox items, card edits, command replies — goes
through :class:`TelegramOutput`, which keeps a budget per chat (1 message/s to a person, 20 a
minute to a group) and one overall (30/s). When the budget is spent, a short wait is slept
through; a long one becomes :class:`Deferred`, which outbox senders turn into
``TemporarySendError(retry_after)`` so the outbox moves on to other recipients and comes back
to this one later. A 429 halts only the chat it came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import aiogram.methods
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from bot.limits import (
    CALLBACK_DATA_LIMIT,
    TEXT_LIMIT,
    clean,
    is_blank,
    prefix_within,
    utf16_len,
)
from workflow.outbox import Outgoing, PermanentSendError, TemporarySendError

log = logging.getLogger(__name__)

T = TypeVar("T")
Json = dict[str, Any]
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

# A later part of a long text held up by Telegram's 429 is sent again after ``retry_after``
# (sending the whole text again later repeated the parts already delivered); this many times.
LATER_PART_ATTEMPTS = 3
LATER_PART_MAX_WAIT_S = 120.0
# An edit Telegram held up with 429 (or one for a chat it halted) is made this many times at
# most, each after the pause it asked for.
EDIT_ATTEMPTS = 3
# A request on its way to Telegram when the channel stops is waited for this long at most:
# cut off in the bot, it may still have been carried out by Telegram, unknown to the bot. A
# handler still running may take 3 s more (bot.deps.REPLY_MAX_WAIT_S), and the channel has
# 10 s to stop (domovoy.runner.STOP_TIMEOUT_S).
LANDING_WAIT_S = 3.0
# Telegram's own fault (a 5xx, "Bad Gateway") or a dropped connection is a moment's, not a
# refusal: what met one is tried again after these pauses (the last one repeated), where it
# used to be given up at once (a conversational answer, a card's redraw, buttons to remove).
FAULT_PAUSES_S = (1.0, 2.0, 4.0, 8.0, 15.0)
# The outbox purpose of a conversational reply kept over a restart (see bot.deps.Replies).
KEPT_REPLY = "bot_reply"
# The outbox purpose of an edit (buttons, a tick, a topic closed or renamed) still waiting out
# a 429 when the channel stops, made after the restart (see TelegramOutput.close).
KEPT_EDIT = "bot_edit"


def transient(exc: BaseException) -> bool:
    """Whether a failed call met Telegram's own fault or the network's, not a refusal."""
    return isinstance(exc, TelegramServerError | TelegramNetworkError)


def fault_pause(attempt: int) -> float:
    """The pause before trying again after the ``attempt``-th fault (0 for the first)."""
    return FAULT_PAUSES_S[min(attempt, len(FAULT_PAUSES_S) - 1)]


_MARKUPS: dict[str, type[Markup]] = {cls.__name__: cls for cls in (
    InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, ForceReply)}


@dataclass(frozen=True)
class SendLimits:
    """Telegram's published rules of thumb; tests shrink the windows instead of sleeping."""

    private_interval_s: float = 1.0
    group_max: int = 20
    group_window_s: float = 60.0
    # Telegram asks for about one message a second in any chat, groups included; the "short
    # bursts" it may let through are nowhere quantified, so none are counted on (a card and
    # ten photos back to back met a 429). None: 1/60 of ``group_window_s``, i.e. 1 s in
    # Telegram's own numbers, and shrunk with the window when a test shrinks it.
    group_interval_s: float | None = None
    global_max: int = 30
    global_window_s: float = 1.0
    # Waits up to this long are slept through; longer ones are handed back to the caller.
    inline_wait_s: float = 1.5
    # Our clock starts before the request reaches Telegram, whose window then ends later
    # than ours; a little slack keeps the two from disagreeing at the edge.
    margin_s: float = 0.1

    def interval(self, chat_id: int) -> float:
        """The least time between two messages to this chat (a group's id is negative)."""
        if chat_id > 0:
            return self.private_interval_s
        if self.group_interval_s is not None:
            return self.group_interval_s
        return self.group_window_s / 60


class Deferred(Exception):
    """The chat's budget is spent; try again in ``retry_after`` seconds."""

    def __init__(self, chat_id: int, retry_after: float) -> None:
        super().__init__(f"chat {chat_id}: send budget spent, retry in {retry_after:.1f}s")
        self.chat_id = chat_id
        self.retry_after = retry_after


@dataclass
class _ChatBudget:
    sends: deque[float] = field(default_factory=deque)
    # When Telegram answered the last send: it took the message somewhere between our start
    # and this, so the next one keeps its distance from here (network delay cannot squeeze two
    # messages closer together than the interval on Telegram's side).
    answered: float = float("-inf")
    halted_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Governor:
    """Per-chat and overall send budgets, computed from the times of recent sends."""

    def __init__(self, limits: SendLimits, now: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.now = now
        self._chats: dict[int, _ChatBudget] = {}
        self._global: deque[float] = deque()
        self.waited_s = 0.0  # total time slept for budget (for measurements)
        self.deferrals = 0
        self._started = now()

    def _chat(self, chat_id: int) -> _ChatBudget:
        budget = self._chats.get(chat_id)
        if budget is None:
            budget = self._chats[chat_id] = _ChatBudget()
            if chat_id < 0:
                # A bot restarted (after a crash, quicker than a second) cannot know when it
                # last posted in a group: its start counts as a post there, so the first card
                # after it keeps the group's pace (a private chat takes a short burst).
                budget.answered = self._started
        return budget

    def delay(self, chat_id: int, cost: int = 1) -> float:
        """Seconds until ``cost`` messages may go to ``chat_id`` (0 = now)."""
        lim, now = self.limits, self.now()
        budget = self._chat(chat_id)
        waits = [budget.halted_until - now]
        _trim(self._global, now, lim.global_window_s + lim.margin_s)
        if len(self._global) + cost > lim.global_max:
            waits.append(self._global[len(self._global) + cost - lim.global_max - 1]
                         + lim.global_window_s + lim.margin_s - now)
        last = max(budget.sends[-1] + lim.margin_s if budget.sends else budget.answered,
                   budget.answered)
        waits.append(last + lim.interval(chat_id) * cost - now)
        if chat_id < 0:
            _trim(budget.sends, now, lim.group_window_s + lim.margin_s)
            if len(budget.sends) + cost > lim.group_max:
                index = min(len(budget.sends) + cost - lim.group_max - 1, len(budget.sends) - 1)
                waits.append(budget.sends[index] + lim.group_window_s + lim.margin_s - now)
        return max(0.0, *waits)

    def record(self, chat_id: int, cost: int = 1) -> None:
        now = self.now()
        budget = self._chat(chat_id)
        for _ in range(cost):
            self._global.append(now)
            budget.sends.append(now)
        if chat_id > 0:
            while len(budget.sends) > 1:
                budget.sends.popleft()

    def halted_for(self, chat_id: int) -> float:
        """Seconds until Telegram allows this chat again after a 429 (0 = not halted)."""
        budget = self._chats.get(chat_id)
        return max(0.0, budget.halted_until - self.now()) if budget is not None else 0.0

    def halt(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 for this chat: nothing more goes there until it allows."""
        budget = self._chat(chat_id)
        budget.halted_until = max(budget.halted_until, self.now() + seconds)

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: int, *, cost: int = 1,
                   max_wait: float | None = None) -> AsyncIterator[None]:
        """Hold the chat's turn; sleep for the budget or raise :class:`Deferred`."""
        limit = self.limits.inline_wait_s if max_wait is None else max_wait
        budget = self._chat(chat_id)
        async with budget.lock:
            wait = self.delay(chat_id, cost)
            if wait > limit:
                self.deferrals += 1
                raise Deferred(chat_id, wait)
            # Asked again after each sleep: other chats' sends during it count against the
            # overall budget, which the chat's own lock does not hold.
            while wait > 0:
                self.waited_s += wait
                await asyncio.sleep(wait)
                wait = self.delay(chat_id, cost)
            self.record(chat_id, cost)
            try:
                yield
            finally:
                budget.answered = self.now()


def _trim(window: deque[float], now: float, span: float) -> None:
    while window and window[0] <= now - span:
        window.popleft()


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at paragraph, line or word boundaries into parts Telegram accepts.

    Telegram counts UTF-16 code units, so an emoji-heavy text is longer than ``len()`` says.
    A part Telegram would call empty (only spacer lines of braille blanks, zero-width spaces)
    is left out: it was refused, and the rest of the text with it.
    """
    text = clean(text).strip()
    parts: list[str] = []
    while utf16_len(text) > limit:
        cut = prefix_within(text, limit)
        window = text[:cut]
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > cut // 2:
                cut = at
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return [part for part in parts if not is_blank(part)] or ["…"]


def stored_markup(markup: Markup | None) -> Json | None:
    """A keyboard as an outbox payload keeps it (see :func:`markup_from`)."""
    if markup is None:
        return None
    return {"type": type(markup).__name__,
            "markup": markup.model_dump(mode="json", exclude_none=True)}


def markup_from(stored: object) -> Markup | None:
    """The keyboard :func:`stored_markup` kept; None when there was none (or it is unreadable,
    which costs the buttons, not the message)."""
    if not isinstance(stored, dict):
        return None
    cls = _MARKUPS.get(str(stored.get("type")))
    try:
        return cls.model_validate(stored.get("markup")) if cls is not None else None
    except ValueError:
        log.warning("a kept keyboard could not be read: %r", stored)
        return None


def stored_method(method: TelegramMethod[Any]) -> Json:
    """A Bot API call as an outbox payload keeps it (see :func:`method_from`)."""
    return {"type": type(method).__name__,
            "params": method.model_dump(mode="json", exclude_none=True)}


def method_from(stored: object) -> TelegramMethod[Any] | None:
    """The call :func:`stored_method` kept; None when it cannot be read."""
    if not isinstance(stored, dict):
        return None
    cls = getattr(aiogram.methods, str(stored.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, TelegramMethod)):
        return None
    try:
        method: TelegramMethod[Any] = cls.model_validate(stored.get("params"))
    except ValueError:
        log.warning("a kept Bot API call could not be read: %r", stored)
        return None
    return method


def not_modified(exc: TelegramAPIError) -> bool:
    """Telegram refuses a change that changes nothing ("message is not modified",
    TOPIC_NOT_MODIFIED): what was asked for is so already."""
    return "not_modified" in exc.message.lower().replace(" ", "_")


def inline_keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    """Buttons as (label, callback data); data over Telegram's 64 bytes is a bug, so it is
    dropped with a log line rather than failing the whole message."""
    out: list[list[InlineKeyboardButton]] = []
    for row in rows:
        buttons = []
        for label, data in row:
            if not 1 <= len(data.encode("utf-8", "replace")) <= CALLBACK_DATA_LIMIT:
                log.error("callback data not within 1-64 bytes dropped: %r", data)
                continue
            buttons.append(InlineKeyboardButton(text=clean(label), callback_data=data))
        if buttons:
            out.append(buttons)
    return InlineKeyboardMarkup(inline_keyboard=out) if out else None


class TelegramOutput:
    """Every Bot API call that puts something in a chat goes through here."""

    def __init__(self, bot: Bot, limits: SendLimits | None = None) -> None:
        self.bot = bot
        self.governor = Governor(limits or SendLimits())
        self.calls = 0
        self.retry_afters = 0
        self._edits: dict[EditKey, tuple[TelegramMethod[Any], asyncio.Task[None]]] = {}
        self._flying: set[asyncio.Future[Any]] = set()
        self._landing_by: float | None = None

    async def call(self, chat_id: int, method: TelegramMethod[T], *, cost: int = 1,
                   max_wait: float | None = None,
                   landed: Callable[[T], None] | None = None) -> T:
        """Make one budgeted call; a 429 halts this chat only and is re-raised.

        ``landed``: told the result of a call cut off while on its way (the channel stops),
        once Telegram answers it (see :meth:`_request`)."""
        async with self.governor.slot(chat_id, cost=cost, max_wait=max_wait):
            self.calls += 1
            return await self._request(method, landed)

    async def unbudgeted(self, method: TelegramMethod[T]) -> T:
        """Calls that put no message in a chat (answers to button presses, reactions, edits).

        They spend no budget of ours, but Telegram may still answer 429: the chat is then
        halted for ``retry_after`` as after a send, so nothing goes there before it allows.
        """
        return await self._request(method, None)

    async def answer_query(self, method: AnswerCallbackQuery) -> bool:
        """Answer a button press; True when Telegram took the answer. One that met
        Telegram's own fault (a 502) is tried once more a moment later, within the press's
        short life: given up at once, it left the button spinning and the person without a
        word (and pressing again)."""
        for attempt in range(2):
            try:
                answered: bool = await self.unbudgeted(method)
                return answered
            except TelegramAPIError as exc:
                if attempt == 0 and transient(exc):
                    await asyncio.sleep(fault_pause(0))
                    continue
                log.info("callback answer failed: %s", exc)
                return False
        return False

    async def _request(self, method: TelegramMethod[T],
                       landed: Callable[[T], None] | None) -> T:
        """One request to Telegram, which a cancelled caller does not cut off: once sent, it
        may be carried out whatever the bot does, and a reply cut off in the bot but posted
        by Telegram was kept as unsent and posted again after the restart. It goes on, its
        result goes to ``landed``, and :meth:`land` waits for it before the channel stops."""
        request = asyncio.ensure_future(self.bot(method))
        self._flying.add(request)
        request.add_done_callback(self._flying.discard)
        request.add_done_callback(lambda r: self._halt_on_429(method, r))
        try:
            return await asyncio.shield(request)
        except asyncio.CancelledError:
            if landed is not None:
                request.add_done_callback(
                    lambda r: landed(r.result()) if not r.cancelled()
                    and r.exception() is None else None)
            raise

    def _halt_on_429(self, method: TelegramMethod[Any], request: asyncio.Future[Any]) -> None:
        exc = None if request.cancelled() else request.exception()
        chat_id = getattr(method, "chat_id", None)
        if isinstance(exc, TelegramRetryAfter) and isinstance(chat_id, int):
            self.retry_afters += 1
            self.governor.halt(chat_id, exc.retry_after)

    async def land(self) -> None:
        """Wait (a little) for the requests still on their way: see :meth:`_request`. Called
        as the channel stops, by each part of it; together they wait ``LANDING_WAIT_S`` at
        most, within the time the channel has to stop."""
        if not self._flying:
            return
        if self._landing_by is None:
            self._landing_by = time.monotonic() + LANDING_WAIT_S
        await asyncio.wait(set(self._flying),
                           timeout=max(0.0, self._landing_by - time.monotonic()))

    async def edit(self, chat_id: int, message_id: int, method: TelegramMethod[Any], *,
                   done: Done | None = None, aspect: str = "message") -> bool:
        """Change what a chat shows without posting: a message's text, buttons or reaction,
        or (``aspect`` "topic" or "topic_name", ``message_id`` the thread) a forum topic.

        An edit posts nothing, so it spends no budget; but a chat Telegram halted with 429 is
        halted for edits too. An edit used to go at once, be refused again and be lost (a
        card kept its old buttons, a resident's finished step kept buttons to press twice, a
        closed case's topic stayed open): now it waits out ``retry_after`` in the background,
        as a send waits, and is made then.

        True when made now; False when it waits (``done`` runs once it is made). A newer edit
        of the same aspect of a message replaces one still waiting (the newer one shows what
        is so now). A refusal other than 429 is raised when made now, and logged when made
        later; a refusal because nothing would change counts as made.
        """
        key = (chat_id, message_id, aspect)
        self._drop(key)
        wait = self.governor.halted_for(chat_id)
        if wait <= 0:
            try:
                await self.unbudgeted(method)
            except TelegramRetryAfter as exc:
                wait = float(exc.retry_after)
            except TelegramAPIError as exc:
                if transient(exc):
                    # a 502 on a card's new buttons left them as they were: tried again
                    wait = fault_pause(0)
                elif not not_modified(exc):
                    raise
                else:
                    await _run(done)
                    return True
            else:
                await _run(done)
                return True
        task = asyncio.get_running_loop().create_task(self._edit_later(key, method, wait, done))
        self._edits[key] = (method, task)
        task.add_done_callback(lambda t: self._edits.pop(key, None) if
                               self._edits.get(key, (None, None))[1] is t else None)
        return False

    def drop_edit(self, chat_id: int, message_id: int) -> None:
        """Forget an edit of this message still waiting (a redraw from the database
        supersedes it)."""
        self._drop((chat_id, message_id, "message"))

    def _drop(self, key: EditKey) -> None:
        waiting = self._edits.pop(key, None)
        if waiting is not None:
            waiting[1].cancel()

    async def _edit_later(self, key: EditKey, method: TelegramMethod[Any],
                          wait: float, done: Done | None) -> None:
        chat_id, message_id, _ = key
        for attempt in range(EDIT_ATTEMPTS):
            await asyncio.sleep(max(wait, self.governor.halted_for(chat_id)))
            try:
                await self.unbudgeted(method)
            except TelegramRetryAfter as exc:
                wait = float(exc.retry_after)
                continue
            except TelegramAPIError as exc:
                if transient(exc):
                    wait = fault_pause(attempt + 1)
                    continue
                if not not_modified(exc):
                    log.warning("edit of %s:%s not made: %s", chat_id, message_id, exc.message)
                    return
            await _run(done)
            return
        log.warning("edit of %s:%s not made: flood control or Telegram's faults %d times",
                    chat_id, message_id, EDIT_ATTEMPTS)

    async def close(self, keep: EditHook | None = None) -> None:
        """The channel stops: edits still waiting are handed to ``keep`` (the outbox, which
        makes them after the restart). They used to be dropped: a resident's rating buttons
        stayed to be pressed again, a staff answer never got its tick."""
        waiting = [method for method, _ in self._edits.values()]
        tasks = [task for _, task in self._edits.values()]
        self._edits.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.land()
        await hand_over(waiting, keep, "edit", lambda method: type(method).__name__)

    async def send_text(self, chat_id: int, text: str, *, markup: Markup | None = None,
                        thread_id: int | None = None, reply_to: int | None = None,
                        max_wait: float | None = None,
                        sent: list[Message] | None = None) -> list[Message]:
        """Send plain text (no parse mode, so user text needs no escaping), split to fit.

        ``sent``: the parts already out from an earlier try, which are not sent again; the
        list is filled as parts go, so a caller that tries again after a failure goes on
        where it stopped."""
        parts = split_text(text)
        sent = [] if sent is None else sent
        for i, part in enumerate(parts):
            if i < len(sent):
                continue
            last = i == len(parts) - 1
            reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                     if reply_to is not None and i == 0 else None)
            method = SendMessage(chat_id=chat_id, text=part, message_thread_id=thread_id,
                                 reply_parameters=reply, reply_markup=markup if last else None)
            if i == 0:  # nothing is out yet: a refusal hands the whole text back to the caller
                sent.append(await self.call(chat_id, method, max_wait=max_wait,
                                            landed=sent.append))
            else:
                sent.append(await self._later_part(chat_id, method, sent))
        return sent

    async def _later_part(self, chat_id: int, method: SendMessage,
                          sent: list[Message]) -> Message:
        """A part after the first must not be given up half-way: the caller would send the
        whole text again, and the parts already out would arrive twice. A 429 halts the chat
        (in :meth:`call`), so the next try waits out ``retry_after`` in the budget's slot."""
        for attempt in range(LATER_PART_ATTEMPTS):
            try:
                return await self.call(chat_id, method, max_wait=LATER_PART_MAX_WAIT_S,
                                       landed=sent.append)
            except TelegramRetryAfter:
                if attempt == LATER_PART_ATTEMPTS - 1:
                    raise
            except TelegramAPIError as exc:
                # A 502 between the parts: the outbox sent the whole text again, and the
                # parts already out arrived twice.
                if not transient(exc) or attempt == LATER_PART_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(fault_pause(attempt))
        raise AssertionError("unreachable")


EditKey = tuple[int, int, str]  # chat, message (a topic's thread), what of it is changed
Done = Callable[[], Awaitable[None] | None]
EditHook = Callable[[TelegramMethod[Any]], Awaitable[None]]


async def hand_over(waiting: list[T], keep: Callable[[T], Awaitable[None]] | None, what: str,
                    about: Callable[[T], object]) -> None:
    """What the channel was still to do when it stopped goes to ``keep`` (the outbox, which
    does it after the restart), one at a time so one that cannot be kept loses no other; with
    nowhere to keep it, it is logged as not done."""
    if keep is None:
        if waiting:
            log.warning("%d %s(s) not done: the channel stops", len(waiting), what)
        return
    for item in waiting:
        try:
            await keep(item)
        except Exception:
            log.exception("a %s (%s) not kept for after the restart", what, about(item))


async def _run(done: Done | None) -> None:
    result = done() if done is not None else None
    if inspect.isawaitable(result):
        await result


def send_error(exc: BaseException, *, private: bool) -> Exception:
    """Map a failed send to what the outbox understands."""
    if isinstance(exc, Deferred):
        return TemporarySendError(str(exc), retry_after=exc.retry_after, throttled=True)
    if isinstance(exc, TelegramRetryAfter):
        return TemporarySendError(f"Telegram flood control: {exc.message}",
                                  retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramForbiddenError):
        return PermanentSendError(f"Telegram: {exc.message}", unreachable=private)
    if isinstance(exc, TelegramMigrateToChat):
        # Retrying the old id fails forever; only a new id in the configuration helps.
        return PermanentSendError(f"Telegram: the group was upgraded to a supergroup, new id "
                                  f"{exc.migrate_to_chat_id}; update the configuration")
    if isinstance(exc, TelegramBadRequest):
        text = exc.message.lower()
        if private and ("chat not found" in text or "user is deactivated" in text):
            return PermanentSendError(f"Telegram: {exc.message}", unreachable=True)
        return PermanentSendError(f"Telegram rejected the message: {exc.message}")
    if isinstance(exc, TelegramServerError | TelegramNetworkError | TelegramAPIError):
        return TemporarySendError(f"Telegram: {exc}")
    return TemporarySendError(f"unexpected: {exc!r}")


PartsHook = Callable[[int, list[int], int], Awaitable[None]]
LinkHook = Callable[[int, int, int], Awaitable[None]]


class Moves(Protocol):
    """Staff groups Telegram upgraded to supergroups (``bot.staffchat.StaffChats``)."""

    def resolve(self, chat_id: int) -> int: ...

    async def migrated(self, old: int, new: int) -> None: ...


def moved(moves: Moves | None, chat_id: int, thread_id: int | None,
          reply_to: int | None) -> tuple[int, int | None, int | None]:
    """Where a post for ``chat_id`` in ``thread_id``, quoting ``reply_to``, goes now: to the
    group's new id when Telegram has upgraded it, and then to its general topic unquoted, as
    the old topic's and message's ids mean nothing in the new group."""
    to = moves.resolve(chat_id) if moves is not None else chat_id
    return (chat_id, thread_id, reply_to) if to == chat_id else (to, None, None)


class ResidentSender:
    """Outbox sender for channel ``telegram``: the recipient is the resident's user id (or,
    for a reply or an edit kept over a restart, the chat it was for).

    ``later_parts(chat_id, message_ids, case_id)`` is told of an answer sent in several parts,
    so that a resident replying to a later part (the one with the signature) still threads.
    ``link(chat_id, message_id, case_id)`` links a reply kept over a restart to the case it
    shows (``link_case`` in its payload), as it would have been had it gone before.
    ``moves``: a reply kept for a staff group that Telegram has since moved goes to the group's
    new id (the old one refuses every message, and the reply was given up).
    ``made(method)`` is told of an edit kept over a restart once it is made, as the edit's own
    ``done`` would have been (a topic's state, see ``Cards.edit_made``).
    """

    def __init__(self, output: TelegramOutput, later_parts: PartsHook | None = None,
                 link: LinkHook | None = None, moves: Moves | None = None,
                 made: EditHook | None = None) -> None:
        self.output = output
        self.later_parts = later_parts
        self.link = link
        self.moves = moves
        self.made = made

    async def send(self, item: Outgoing) -> str | None:
        chat_id = int(item.recipient)
        if item.purpose == KEPT_EDIT:
            await self._edit(chat_id, item)
            return None
        stale_at = item.payload.get("stale_at")
        if isinstance(stale_at, int | float) and time.time() > stale_at:
            # A reply kept over a restart that came too late to answer anyone (a bot down for
            # hours): sending it now would only puzzle the chat.
            raise PermanentSendError("a reply kept over a restart, too old to send now")
        try:
            try:
                chat_id, sent = await self._send(chat_id, item)
            except TelegramMigrateToChat as exc:
                if self.moves is None or chat_id > 0:
                    raise
                await self.moves.migrated(chat_id, exc.migrate_to_chat_id)
                chat_id, sent = await self._send(chat_id, item)
        except (Deferred, TelegramAPIError) as exc:
            raise send_error(exc, private=chat_id > 0) from exc
        link_case = item.payload.get("link_case")
        if isinstance(link_case, int) and self.link is not None:
            try:
                await self.link(chat_id, sent[-1].message_id, link_case)
            except Exception:  # sent is sent: a lost link costs threading, not a resend
                log.exception("outbox item %s was not linked to its case", item.outbox_id)
        if len(sent) > 1 and item.case_id is not None and self.later_parts is not None:
            try:
                await self.later_parts(chat_id, [m.message_id for m in sent], item.case_id)
            except Exception:  # sent is sent: a lost link costs threading, not a resend
                log.exception("the parts of outbox item %s were not linked", item.outbox_id)
        # The first part's id is what a resident's reply points at, so it threads the case.
        return f"{chat_id}:{sent[0].message_id}"

    async def _send(self, chat_id: int, item: Outgoing) -> tuple[int, list[Message]]:
        """Send the item to the chat, or where the chat has moved (see :func:`moved`)."""
        rows = [[(str(b["label"]), str(b["action"])) for b in row]
                for row in item.payload.get("actions") or []]
        markup = markup_from(item.payload.get("markup")) or inline_keyboard(rows)
        thread_id, reply_to = (item.payload.get(k) for k in ("thread_id", "reply_to"))
        to, thread, quote = moved(self.moves, chat_id,
                                  thread_id if isinstance(thread_id, int) else None,
                                  reply_to if isinstance(reply_to, int) else None)
        return to, await self.output.send_text(to, item.text, markup=markup, thread_id=thread,
                                               reply_to=quote)

    async def _edit(self, chat_id: int, item: Outgoing) -> None:
        """Make an edit kept over a restart (``KEPT_EDIT``), once the chat's 429 pause is
        over; one that would change nothing is made already."""
        method = method_from(item.payload.get("method"))
        if method is None:
            raise PermanentSendError("a kept edit that cannot be read")
        halted = self.output.governor.halted_for(chat_id)
        if halted > 0:
            raise TemporarySendError(f"chat {chat_id} halted by flood control",
                                     retry_after=halted, throttled=True)
        try:
            await self.output.unbudgeted(method)
        except TelegramAPIError as exc:
            if not not_modified(exc):
                # an edit is never a reason to take a resident for unreachable
                raise send_error(exc, private=False) from exc
        if self.made is not None:
            await self.made(method)
