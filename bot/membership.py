"""The bot's place in the staff and managers' chats: removed, restricted, or back.

Telegram says at once (a ``my_chat_member`` update) when an admin removes the bot from a group
or takes its right to write; otherwise the office learns of it only from the first post that
fails, and a quiet night could pass with nobody told. Either way the people who can put it
right are told once (the managers for a staff chat, the staff for the managers' chat), the
chat's entry in ``domovoy status`` says what happened, and what was refused is not lost: once
the bot is back, the posts refused meanwhile (cards, residents' words, escalations) go again,
in their order, as a restricted chat's are retried.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.menu import CommandMenu
from bot.settings import TelegramConfig
from bot.staffchat import StaffChats
from bot.texts import BotTexts
from workflow.context import Workflow
from workflow.health import record_health
from workflow.models import Staff
from workflow.notify import staff_payload
from workflow.outbox import (
    RETRY_FOR,
    STAFF_CHANNEL,
    PermanentSendError,
    enqueue,
    failures,
    hurry,
    last_sent,
    queued_with_key,
    send_again,
)

log = logging.getLogger(__name__)

# What a post refused because the bot was out of the chat fails with, so that it can be found
# and sent again once the bot is back: "<prefix> <chat id>: <Telegram's words>".
LOST_PREFIX = "the bot is not in chat"


def health_channel(chat_id: int) -> str:
    """The chat's line in ``domovoy status``."""
    return f"telegram chat {chat_id}"


class ChatAccess:
    def __init__(self, wf: Workflow, config: TelegramConfig, texts: BotTexts,
                 chats: StaffChats, menu: CommandMenu) -> None:
        self.wf = wf
        self.config = config
        self.texts = texts
        self.chats = chats
        self.menu = menu
        self.lang = wf.settings.default_language

    def recipients(self, chat_id: int) -> set[str]:
        """The outbox recipients that mean this chat now (buildings' staff chats, the default
        one, the managers')."""
        out = {f"chat:{b.code}" for b in self.wf.settings.buildings
               if self.chats.for_building(b.code) == chat_id}
        if self.chats.for_building("") == chat_id:
            out.add("chat:")
        managers = self.config.managers_chat_id
        if managers and self.chats.resolve(managers) == chat_id:
            out.add("managers")
        return out

    def _who_is_told(self, chat_id: int) -> tuple[str, list[str]] | None:
        """The notice's purpose and its recipients: the managers (their chat and directly)
        hear of a staff chat, staff of the managers' chat."""
        recipients = self.recipients(chat_id)
        if any(r.startswith("chat:") for r in recipients):
            # managers whose chat is this very one are still told directly
            return "staff_chat_lost", [] if "managers" in recipients else ["managers"]
        if "managers" in recipients:
            return "managers_chat_lost", ["chat:"]
        return None

    @staticmethod
    def refused(chat_id: int, reason: str) -> PermanentSendError:
        """The failure of a post the chat refused because the bot is out of it."""
        return PermanentSendError(f"{LOST_PREFIX} {chat_id}: {reason}")

    async def lost(self, chat_id: int, reason: str, *, muted: bool = False) -> None:
        """The bot was removed from the chat, the chat deleted, or (``muted``) the bot may
        no longer write there: tell those who can put it right, once per loss, and say so in
        the log and in ``domovoy status``."""
        told = self._who_is_told(chat_id)
        if told is None:
            return
        purpose, tell = told
        now = self.wf.clock.now()
        log.error("the bot can no longer post in the %s %s (%s): %s",
                  "staff chat" if purpose == "staff_chat_lost" else "managers' chat", chat_id,
                  ", ".join(sorted(self.recipients(chat_id))), reason)
        await record_health(self.wf.sessions, health_channel(chat_id), now,
                            f"the bot can no longer post here: {reason}")
        async with self.wf.sessions.begin() as session:
            if purpose == "staff_chat_lost":
                managers = (await session.scalars(select(Staff.id).where(
                    Staff.role == "manager", Staff.active.is_(True)))).all()
                tell = [*tell, *(f"staff:{m}" for m in managers)]
            # once per loss: the key names the last post that reached the chat, so a notice
            # is queued again only after the chat worked in between
            last_ok = await last_sent(session, channel=STAFF_CHANNEL,
                                      recipients=self.recipients(chat_id))
            text = self.texts.staff(self.lang, purpose, chat_id=chat_id, reason=reason,
                                    muted=muted)
            for to in tell:
                await enqueue(session, now=now, channel=STAFF_CHANNEL, recipient=to,
                              purpose=purpose,
                              key=f"telegram:{purpose}:{chat_id}:{last_ok or 0}:{to}",
                              payload=staff_payload(None, None, "", text, self.lang),
                              automatic=False)
        self.wf.wake_outbox()

    async def back(self, chat_id: int) -> int:
        """The bot may post in the chat again (added back, made an admin, its restriction
        lifted). What the chat refused in the last four days (the outbox's own span of
        retries) goes again, in order, and what waits to be retried goes now; those told of
        the loss hear it is over. Returns how many posts go again."""
        now = self.wf.clock.now()
        recipients = self.recipients(chat_id)
        self.chats.forget(chat_id)  # topics may have been turned on or off meanwhile
        await self.menu.for_staff_chat(chat_id)
        await record_health(self.wf.sessions, health_channel(chat_id), now)
        told = self._who_is_told(chat_id)
        async with self.wf.sessions.begin() as session:
            again = await send_again(
                session, channel=STAFF_CHANNEL, failed_with=f"{LOST_PREFIX} {chat_id}:",
                since=now - RETRY_FOR, now=now,
                note=f"sent again: the bot is back in chat {chat_id}")
            await hurry(session, channel=STAFF_CHANNEL, recipients=recipients, now=now)
            if told is not None:
                await self._over(session, chat_id, *told)
        log.warning("the bot may post in chat %s again: %d post(s) refused meanwhile go again",
                    chat_id, again)
        self.wf.wake_outbox()
        return again

    async def left_behind(self) -> int:
        """At start: what a chat refused while the bot was out of it, where that chat is no
        longer configured (the operator put a new one in its place, as the loss notice asks),
        goes again to where its recipients are now. Only :meth:`back` sent it again, and the
        bot's return to a chat left behind never comes: the night's cards were lost. Returns
        how many posts go again."""
        now = self.wf.clock.now()
        async with self.wf.sessions() as session:
            errors = await failures(session, channel=STAFF_CHANNEL,
                                    failed_with=f"{LOST_PREFIX} ", since=now - RETRY_FOR)
        chats = set()
        for error in errors:
            chat = error.removeprefix(f"{LOST_PREFIX} ").split(":", 1)[0]
            if chat.lstrip("-").isdigit():
                chats.add(int(chat))
        again = 0
        for chat_id in sorted(chats):
            if self.recipients(chat_id):
                continue  # still configured: its posts go again when the bot is back there
            async with self.wf.sessions.begin() as session:
                count = await send_again(
                    session, channel=STAFF_CHANNEL, failed_with=f"{LOST_PREFIX} {chat_id}:",
                    since=now - RETRY_FOR, now=now,
                    note=f"sent again: chat {chat_id} is no longer configured")
            log.warning("chat %s, which the bot was out of, is no longer configured: %d post(s) "
                        "it refused go again to the chats configured now", chat_id, count)
            again += count
        if again:
            self.wf.wake_outbox()
        return again

    async def _over(self, session: AsyncSession, chat_id: int, purpose: str,
                    tell: list[str]) -> None:
        """Tell those who heard of the loss that it is over (once per loss: the notice's key
        names the latest loss notice)."""
        notices = await queued_with_key(session, purpose=purpose,
                                        key_prefix=f"telegram:{purpose}:{chat_id}:")
        if not notices:
            return
        latest = max(i for i, _ in notices)
        text = self.texts.staff(self.lang, "chat_back", chat_id=chat_id,
                                managers=purpose == "managers_chat_lost")
        for to in sorted({r for _, r in notices}):
            await enqueue(session, now=self.wf.clock.now(), channel=STAFF_CHANNEL,
                          recipient=to, purpose="chat_back",
                          key=f"telegram:chat_back:{chat_id}:{latest}:{to}",
                          payload=staff_payload(None, None, "", text, self.lang),
                          automatic=False)
