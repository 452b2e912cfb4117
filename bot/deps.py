"""What the routers need, built once by :class:`bot.channel.TelegramChannel`.

Handlers close over one :class:`BotDeps` instead of reaching for globals, so two channels (a
test restarting the bot mid-burst) never share state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from aiogram.exceptions import TelegramAPIError
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

# Replies to a command or a button wait this long for the chat's budget at most: handlers run
# one at a time (so updates are acknowledged only after they are handled), and a long wait
# would hold up everyone else's updates.
REPLY_MAX_WAIT_S = 3.0


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

    @property
    def burst_window(self) -> timedelta:
        return timedelta(seconds=self.config.burst_window_s)

    @property
    def staff_lang(self) -> str:
        return self.wf.settings.default_language

    async def say(self, chat_id: int, text: str, *, markup: Markup | None = None,
                  thread_id: int | None = None, reply_to: int | None = None) -> Message | None:
        """A conversational reply: best effort, never holding up the update stream for long.

        The state change it reports is already committed, so a reply lost to flood control
        costs a message, not data.
        """
        try:
            sent = await self.output.send_text(chat_id, text, markup=markup, thread_id=thread_id,
                                               reply_to=reply_to, max_wait=REPLY_MAX_WAIT_S)
        except (Deferred, TelegramAPIError) as exc:
            log.warning("reply to chat %s not sent: %s", chat_id, exc)
            return None
        return sent[-1]

    async def reply(self, message: Message, text: str, *, markup: Markup | None = None,
                    quote: bool = False) -> Message | None:
        """Answer in the same chat and, in a forum, the same topic."""
        thread_id = message.message_thread_id if message.is_topic_message else None
        return await self.say(message.chat.id, text, markup=markup, thread_id=thread_id,
                              reply_to=message.message_id if quote else None)
