"""What the routers need, built once by :class:`bot.channel.TelegramChannel`.

Handlers close over one :class:`BotDeps` instead of reaching for globals, so two channels (a
test restarting the bot mid-burst) never share state.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram.exceptions import TelegramAPIError, TelegramMigrateToChat, TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.types import Message

from bot.delivery import DeliveryWatch
from bot.membership import ChatAccess
from bot.sender import (
    KEPT_EDIT,
    KEPT_REPLY,
    Deferred,
    Markup,
    Moves,
    TelegramOutput,
    fault_pause,
    hand_over,
    moved,
    split_text,
    stored_markup,
    stored_method,
    transient,
)
from bot.settings import TelegramConfig
from bot.staffchat import Cards, StaffChats, topic_shut
from bot.texts import BotTexts
from intake.message import Channel
from workflow.cases import CaseActions
from workflow.context import Workflow
from workflow.intake import IntakeService
from workflow.outbox import enqueue

log = logging.getLogger(__name__)

# A handler waits this long for its reply at most: handlers run one at a time (so updates are
# acknowledged only after they are handled), and a long wait would hold up everyone else's
# updates. A reply that cannot go by then is not dropped: it waits its turn in the background.
REPLY_MAX_WAIT_S = 3.0
# A reply still waiting after this long answers a question nobody is waiting for any more.
REPLY_STALE_S = 900.0

# Link a message the bot posted to a case (chat, message, case), so a reply to it reaches it.
Link = Callable[[int, int, int], Awaitable[None]]


@dataclass
class Waiting:
    """A reply not yet wholly sent: what :class:`Replies` keeps when the channel stops."""

    chat_id: int
    text: str
    markup: Markup | None
    thread_id: int | None
    reply_to: int | None
    stale_at: float  # wall-clock time after which it answers a question nobody waits for
    case_id: int | None = None  # the case it shows, whose reply to it reaches (see Link)
    sent: list[Message] = field(default_factory=list)  # parts already out


Keep = Callable[[Waiting], Awaitable[None]]


class Replies:
    """Conversational replies, sent in order per chat, each waiting its turn in the chat's
    budget instead of being dropped when it is spent (a staff chat's 20 posts a minute went to
    new cards during an outage, and staff had to repeat their commands).

    Each reply is a task that first waits for the one before it to the same chat, so replies
    keep their order however long one of them waits. A reply still waiting when the channel
    stops is handed to ``keep`` (the outbox, which sends it after the restart): it used to be
    cancelled, and a resident's answer to /start or /cases never came.
    """

    def __init__(self, output: TelegramOutput, keep: Keep | None = None,
                 link: Link | None = None, moves: Moves | None = None) -> None:
        self.output = output
        self.keep = keep
        self.link = link
        self.moves = moves
        self._last: dict[int, asyncio.Task[list[Message] | None]] = {}
        self._tasks: set[asyncio.Task[list[Message] | None]] = set()
        self._waiting: list[Waiting] = []
        self.dropped = 0

    async def send(self, chat_id: int, text: str, *, markup: Markup | None = None,
                   thread_id: int | None = None, reply_to: int | None = None,
                   case_id: int | None = None) -> Message | None:
        """Queue the reply; wait for it as long as the handler may. The last message sent, or
        None when it is still waiting (it goes later) or could not be sent. ``case_id``: the
        reply shows that case, and its last part is linked to it once sent, whenever that
        is (a staff reply to it then reaches the case)."""
        before = self._last.get(chat_id)
        queued = before is not None and not before.done()
        reply = Waiting(chat_id, text, markup, thread_id, reply_to,
                        stale_at=time.time() + REPLY_STALE_S, case_id=case_id)
        self._waiting.append(reply)
        task = asyncio.get_running_loop().create_task(self._deliver(before, reply))
        self._last[chat_id] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._settled(chat_id, done))
        if queued or self.output.governor.delay(chat_id) > REPLY_MAX_WAIT_S:
            # It cannot go in time: waiting would only hold up the other updates.
            log.info("reply to chat %s waits its turn in the background", chat_id)
            return None
        finished, _ = await asyncio.wait({task}, timeout=REPLY_MAX_WAIT_S)
        if task not in finished:
            log.info("reply to chat %s waits its turn in the background", chat_id)
            return None
        sent = task.result()
        return sent[-1] if sent else None

    def _settled(self, chat_id: int, task: asyncio.Task[list[Message] | None]) -> None:
        self._tasks.discard(task)
        if self._last.get(chat_id) is task:
            del self._last[chat_id]

    async def _deliver(self, before: asyncio.Task[list[Message] | None] | None,
                       reply: Waiting) -> list[Message] | None:
        sent: list[Message] | None = None
        try:
            sent = await self._send(before, reply)
        except asyncio.CancelledError:
            raise  # the channel stops: close() keeps what is still to send
        except Exception:
            log.exception("reply to chat %s not sent", reply.chat_id)
        self._waiting.remove(reply)
        if sent and reply.case_id is not None and self.link is not None:
            try:
                await self.link(reply.chat_id, sent[-1].message_id, reply.case_id)
            except Exception:
                log.exception("the reply to chat %s was not linked to its case", reply.chat_id)
        return sent

    async def _send(self, before: asyncio.Task[list[Message] | None] | None,
                    reply: Waiting) -> list[Message] | None:
        if before is not None:
            await asyncio.wait({before})
        give_up = time.monotonic() + REPLY_STALE_S
        faults = 0
        while True:
            if not reply.sent:  # a staff group Telegram upgraded meanwhile: its new id
                reply.chat_id, reply.thread_id, reply.reply_to = moved(
                    self.moves, reply.chat_id, reply.thread_id, reply.reply_to)
            chat_id = reply.chat_id
            try:
                await self.output.send_text(chat_id, reply.text, markup=reply.markup,
                                            thread_id=reply.thread_id,
                                            reply_to=reply.reply_to, sent=reply.sent)
                return reply.sent
            except Deferred as exc:
                wait = exc.retry_after
            except TelegramRetryAfter:  # the chat is halted now; the budget says how long
                wait = 0.0
            except TelegramMigrateToChat as exc:
                if self.moves is None or reply.sent or chat_id > 0:
                    log.warning("reply to chat %s not sent: %s", chat_id, exc)
                    return None
                # It waited out a 429 while the group was upgraded: it was refused and lost.
                await self.moves.migrated(chat_id, exc.migrate_to_chat_id)
                continue
            except TelegramAPIError as exc:
                if transient(exc):
                    # Telegram's 502, a connection dropped: a moment's fault. The answer was
                    # given up at once, and a resident never read "your flat number?" (the
                    # parts already out are not sent again).
                    log.info("reply to chat %s met %s: tried again", chat_id, exc)
                    wait, faults = fault_pause(faults), faults + 1
                    if time.monotonic() + wait <= give_up:
                        await asyncio.sleep(wait)
                        continue
                if reply.thread_id is not None and not reply.sent and topic_shut(exc):
                    # Asked in a topic closed to the bot (a house chat's "Объявления", where
                    # an admin typed the command): the answer was refused and lost. It goes
                    # to the general topic instead, unquoted, as the question is elsewhere.
                    reply.thread_id = reply.reply_to = None
                    continue
                log.warning("reply to chat %s not sent: %s", chat_id, exc)
                return None
            if time.monotonic() + wait > give_up:
                self.dropped += 1
                log.warning("reply to chat %s dropped: its turn did not come in %.0f s",
                            chat_id, REPLY_STALE_S)
                return None
            await asyncio.sleep(wait)

    async def close(self) -> None:
        """The channel stops: replies still waiting are handed to ``keep``, in order, to go
        after the restart (without ``keep`` they are not sent, and logged)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A part on its way when cut off may well be posted: it is recorded as sent once
        # Telegram answers, so that only what did not go is kept (and sent after the restart).
        await self.output.land()
        waiting, self._waiting = self._waiting, []
        await hand_over(waiting, self.keep, "reply", lambda reply: f"to chat {reply.chat_id}")


@dataclass
class BotDeps:
    config: TelegramConfig
    wf: Workflow
    intake: IntakeService
    cases: CaseActions
    output: TelegramOutput
    texts: BotTexts
    chats: StaffChats
    cards: Cards
    watch: DeliveryWatch
    access: ChatAccess
    replies: Replies = field(init=False)

    def __post_init__(self) -> None:
        self.replies = Replies(self.output, keep=self._keep, link=self.cards.link,
                               moves=self.chats)

    async def _keep(self, reply: Waiting) -> None:
        """A reply the channel stops before sending goes to the outbox, whose sender for
        Telegram sends it after the restart as it would have gone (its buttons, its topic, the
        message it answers), unless by then it is too old to answer anyone. Only the parts
        not yet out are kept."""
        rest = "\n\n".join(split_text(reply.text)[len(reply.sent):])
        if not rest:
            return
        payload: dict[str, Any] = {
            "text": rest, "language": self.staff_lang, "stale_at": reply.stale_at,
            "thread_id": reply.thread_id, "reply_to": reply.reply_to,
            "markup": stored_markup(reply.markup), "link_case": reply.case_id}
        async with self.wf.sessions.begin() as session:
            await enqueue(session, now=self.wf.clock.now(), channel=Channel.TELEGRAM.value,
                          recipient=str(reply.chat_id), purpose=KEPT_REPLY,
                          key=f"telegram:reply:{uuid.uuid4().hex}", payload=payload,
                          automatic=False)
        self.wf.wake_outbox()
        log.info("reply to chat %s kept in the outbox for after the restart", reply.chat_id)

    async def keep_edit(self, method: TelegramMethod[Any]) -> None:
        """An edit still waiting out a 429 when the channel stops goes to the outbox, whose
        sender for Telegram makes it after the restart (see ``KEPT_EDIT``)."""
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int):
            return
        async with self.wf.sessions.begin() as session:
            await enqueue(session, now=self.wf.clock.now(), channel=Channel.TELEGRAM.value,
                          recipient=str(chat_id), purpose=KEPT_EDIT,
                          key=f"telegram:edit:{uuid.uuid4().hex}",
                          payload={"method": stored_method(method)}, automatic=False)
        self.wf.wake_outbox()
        log.info("an edit in chat %s (%s) kept in the outbox for after the restart", chat_id,
                 type(method).__name__)

    @property
    def burst_window(self) -> timedelta:
        return timedelta(seconds=self.config.burst_window_s)

    @property
    def staff_lang(self) -> str:
        return self.wf.settings.default_language

    async def say(self, chat_id: int, text: str, *, markup: Markup | None = None,
                  thread_id: int | None = None, reply_to: int | None = None,
                  case_id: int | None = None) -> Message | None:
        """A conversational reply, never holding up the update stream for long (see
        :class:`Replies`); ``case_id``: the case it shows (:meth:`Replies.send`)."""
        return await self.replies.send(chat_id, text, markup=markup, thread_id=thread_id,
                                       reply_to=reply_to, case_id=case_id)

    async def note_for_the_office(self, message: Message, number: str, user_id: int,
                                  text: str) -> None:
        """Keep words a staff member or manager meant for the office (an answer to the bot's
        ping, a remark on an escalation) as a note on the case, and tell them the resident did
        not get them. ``NotAllowed`` and ``CaseNotFound`` are the caller's to answer."""
        await self.cases.note(number, user_id, text)
        await self.reply(message, self.texts.staff(self.staff_lang, "private_note",
                                                   number=number), quote=True)

    async def reply(self, message: Message, text: str, *, markup: Markup | None = None,
                    quote: bool = False) -> Message | None:
        """Answer in the same chat and, in a forum, the same topic."""
        thread_id = message.message_thread_id if message.is_topic_message else None
        return await self.say(message.chat.id, text, markup=markup, thread_id=thread_id,
                              reply_to=message.message_id if quote else None)
