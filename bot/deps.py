"""What the routers need, built once by :class:`bot.channel.TelegramChannel`.

Handlers close over one :class:`BotDeps` instead of reaching for globals, so two channels (a
test restarting the bot mid-burst) never share state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import Message

from bot.delivery import DeliveryWatch
from bot.sender import Deferred, Markup, TelegramOutput
from bot.settings import TelegramConfig
from bot.staffchat import Cards, StaffChats
from bot.texts import BotTexts
from workflow.cases import CaseActions
from workflow.context import Workflow
from workflow.intake import IntakeService

log = logging.getLogger(__name__)

# A handler waits this long for its reply at most: handlers run one at a time (so updates are
# acknowledged only after they are handled), and a long wait would hold up everyone else's
# updates. A reply that cannot go by then is not dropped: it waits its turn in the background.
REPLY_MAX_WAIT_S = 3.0
# A reply still waiting after this long answers a question nobody is waiting for any more.
REPLY_STALE_S = 900.0

Then = Callable[[list[Message]], Awaitable[None]]


class Replies:
    """Conversational replies, sent in order per chat, each waiting its turn in the chat's
    budget instead of being dropped when it is spent (a staff chat's 20 posts a minute went to
    new cards during an outage, and staff had to repeat their commands).

    Each reply is a task that first waits for the one before it to the same chat, so replies
    keep their order however long one of them waits.
    """

    def __init__(self, output: TelegramOutput) -> None:
        self.output = output
        self._last: dict[int, asyncio.Task[list[Message] | None]] = {}
        self._tasks: set[asyncio.Task[list[Message] | None]] = set()
        self.dropped = 0

    async def send(self, chat_id: int, text: str, *, markup: Markup | None = None,
                   thread_id: int | None = None, reply_to: int | None = None,
                   then: Then | None = None) -> Message | None:
        """Queue the reply; wait for it as long as the handler may. The last message sent, or
        None when it is still waiting (it goes later) or could not be sent."""
        before = self._last.get(chat_id)
        queued = before is not None and not before.done()
        task = asyncio.get_running_loop().create_task(self._deliver(
            before, chat_id, text, markup=markup, thread_id=thread_id, reply_to=reply_to,
            then=then))
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

    async def _deliver(self, before: asyncio.Task[list[Message] | None] | None, chat_id: int,
                       text: str, *, markup: Markup | None, thread_id: int | None,
                       reply_to: int | None, then: Then | None) -> list[Message] | None:
        if before is not None:
            await asyncio.wait({before})
        sent: list[Message] = []  # parts already out are not sent again on the next try
        give_up = time.monotonic() + REPLY_STALE_S
        while True:
            try:
                await self.output.send_text(chat_id, text, markup=markup, thread_id=thread_id,
                                            reply_to=reply_to, sent=sent)
                break
            except Deferred as exc:
                wait = exc.retry_after
            except TelegramRetryAfter:  # the chat is halted now; the budget says how long
                wait = 0.0
            except TelegramAPIError as exc:
                log.warning("reply to chat %s not sent: %s", chat_id, exc)
                return None
            if time.monotonic() + wait > give_up:
                self.dropped += 1
                log.warning("reply to chat %s dropped: its turn did not come in %.0f s",
                            chat_id, REPLY_STALE_S)
                return None
            await asyncio.sleep(wait)
        if then is not None:
            try:
                await then(sent)
            except Exception:
                log.exception("after the reply to chat %s", chat_id)
        return sent

    async def close(self) -> None:
        """The channel stops: replies still waiting are not sent (logged)."""
        tasks = list(self._tasks)
        if tasks:
            log.warning("%d replies not sent: the channel stops", len(tasks))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
    replies: Replies = field(init=False)

    def __post_init__(self) -> None:
        self.replies = Replies(self.output)

    @property
    def burst_window(self) -> timedelta:
        return timedelta(seconds=self.config.burst_window_s)

    @property
    def staff_lang(self) -> str:
        return self.wf.settings.default_language

    async def say(self, chat_id: int, text: str, *, markup: Markup | None = None,
                  thread_id: int | None = None, reply_to: int | None = None,
                  then: Then | None = None) -> Message | None:
        """A conversational reply, never holding up the update stream for long (see
        :class:`Replies`). ``then(messages)`` runs once it is sent, whenever that is."""
        return await self.replies.send(chat_id, text, markup=markup, thread_id=thread_id,
                                       reply_to=reply_to, then=then)

    async def reply(self, message: Message, text: str, *, markup: Markup | None = None,
                    quote: bool = False) -> Message | None:
        """Answer in the same chat and, in a forum, the same topic."""
        thread_id = message.message_thread_id if message.is_topic_message else None
        return await self.say(message.chat.id, text, markup=markup, thread_id=thread_id,
                              reply_to=message.message_id if quote else None)
