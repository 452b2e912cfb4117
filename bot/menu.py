"""The command menu (Telegram's Menu button), set with setMyCommands per scope and language.

Telegram keeps a menu per scope: residents' private chats (one per language the templates
have, so a Russian resident of an office whose default is English still reads Russian), and
each staff chat by its id. A staff chat's menu is tied to that id: a group upgraded to a
supergroup, or one the bot is added back to after being removed (when the menu could not be
set at start-up), has none until it is set again, and staff there saw no commands at all.
The menu is cosmetic, so a failure is only logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiogram.exceptions import TelegramAPIError
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.limits import COMMAND_DESCRIPTION_LIMIT, fit
from bot.sender import TelegramOutput
from bot.texts import BotTexts
from workflow.render import LANGUAGES

log = logging.getLogger(__name__)


class CommandMenu:
    def __init__(self, output: TelegramOutput, texts: BotTexts, default_lang: str) -> None:
        self.output = output
        self.texts = texts
        self.default_lang = default_lang

    def commands(self, lang: str, audience: str) -> list[BotCommand]:
        block = self.texts.render(lang, f"bot_{audience}", "commands")
        out = []
        for line in block.splitlines():
            name, _, description = line.partition(" - ")
            if name.strip() and description.strip():
                out.append(BotCommand(command=name.strip(), description=fit(
                    description.strip(), COMMAND_DESCRIPTION_LIMIT)))
        return out

    async def set_all(self, staff_chats: Iterable[int]) -> None:
        """Every menu, as at start-up."""
        calls = [SetMyCommands(commands=self.commands(self.default_lang, "resident"),
                               scope=BotCommandScopeAllPrivateChats())]
        calls += [SetMyCommands(commands=self.commands(lang, "resident"),
                                scope=BotCommandScopeAllPrivateChats(), language_code=lang)
                  for lang in LANGUAGES]
        for call in calls:
            await self._set(call)
        for chat_id in sorted(staff_chats):
            await self.for_staff_chat(chat_id)

    async def for_staff_chat(self, chat_id: int) -> None:
        """The staff commands in one staff chat, in the office's language (staff read every
        card and answer in it)."""
        await self._set(SetMyCommands(commands=self.commands(self.default_lang, "staff"),
                                      scope=BotCommandScopeChat(chat_id=chat_id)))

    async def _set(self, call: SetMyCommands) -> None:
        try:
            await self.output.unbudgeted(call)
        except TelegramAPIError as exc:
            log.warning("bot commands not set (%s): %s", call.scope, exc)
