"""The Telegram channel: one bot for residents and staff, run by long polling or a webhook.

Updates are handled one at a time (``handle_as_tasks=False``) so that aiogram asks Telegram for
the next batch — which is what confirms the previous one — only after the handler returned,
i.e. after intake committed. A crash or restart mid-batch therefore redelivers the unfinished
updates, and intake's (channel, external id) dedupe turns a redelivered one into a no-op.
An update that cannot even be read is quarantined and stepped over (``bot/unreadable.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import DeleteWebhook, SetWebhook
from aiohttp import web

from bot import residents, staff
from bot.delivery import DeliveryWatch
from bot.deps import BotDeps
from bot.fsm_storage import DatabaseStorage
from bot.membership import ChatAccess
from bot.menu import CommandMenu
from bot.sender import ResidentSender, SendLimits, TelegramOutput
from bot.settings import TelegramConfig
from bot.staffchat import Cards, StaffChats, StaffSender
from bot.texts import BotTexts
from bot.unreadable import ReadBatchesOneByOne, UnreadableUpdates, WebhookHandler, read_json
from workflow.cases import CaseActions
from workflow.context import Workflow
from workflow.intake import IntakeService

log = logging.getLogger(__name__)

POLLING_TIMEOUT_S = 25


class TelegramChannel:
    def __init__(self, config: TelegramConfig, wf: Workflow, intake: IntakeService,
                 cases: CaseActions, session: BaseSession | None = None, *,
                 limits: SendLimits | None = None, polling_timeout: int = POLLING_TIMEOUT_S,
                 watch_interval: float = 1.0) -> None:
        self.config = config
        self._own_session = session is None
        if session is None:
            session = AiohttpSession(api=TelegramAPIServer.from_base(config.api_base_url))
        session.json_loads = read_json
        self.bot = Bot(config.token, session=session)
        self.unreadable = UnreadableUpdates(wf)
        session.middleware(ReadBatchesOneByOne(self.unreadable))
        self.polling_timeout = polling_timeout
        self.output = TelegramOutput(self.bot, limits)
        texts = BotTexts(wf.renderer)
        self.menu = CommandMenu(self.output, texts, wf.settings.default_language)
        chats = StaffChats(config, wf, self.output, menu=self.menu)
        cards = Cards(wf, self.output, texts, chats)
        access = ChatAccess(wf, config, texts, chats, self.menu)
        self.watch = DeliveryWatch(wf, self.output, interval=watch_interval)
        self.deps = BotDeps(config=config, wf=wf, intake=intake, cases=cases,
                            output=self.output, texts=texts, chats=chats, cards=cards,
                            watch=self.watch, access=access)
        self.resident_sender = ResidentSender(self.output, later_parts=cards.link_parts,
                                              link=cards.link, moves=chats,
                                              made=cards.edit_made)
        self.staff_sender = StaffSender(wf, config, self.output, texts, chats, cards, access)
        self.dp = Dispatcher(storage=DatabaseStorage(wf.sessions, wf.clock))
        self.dp.update.outer_middleware(self.unreadable.skip_stand_in)
        self.dp.include_router(staff.build_router(self.deps))
        self.dp.include_router(residents.build_router(self.deps))
        self.dp.include_router(residents.build_group_router(self.deps))
        self._runner: web.AppRunner | None = None
        self._polling = False

    @property
    def allowed_updates(self) -> list[str]:
        return self.dp.resolve_used_update_types()

    async def run(self) -> None:
        """Serve until cancelled or :meth:`close` is called."""
        await self.deps.chats.load()
        watch = asyncio.create_task(self.watch.run(), name="telegram-delivery-watch")
        try:
            chats = self.deps.chats
            # an upgraded group's old id refuses the menu: its new one gets it
            await self.menu.set_all({chats.resolve(c) for c in chats.chat_ids()})
            await self.deps.access.left_behind()
            if self.config.mode == "webhook":
                await self._run_webhook()
            else:
                await self._run_polling()
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch

    async def _run_polling(self) -> None:
        # getUpdates is refused while a webhook is set (a previous webhook deployment).
        await self.bot(DeleteWebhook(drop_pending_updates=False))
        self._polling = True
        try:
            await self.dp.start_polling(
                self.bot, handle_as_tasks=False, handle_signals=False, close_bot_session=False,
                polling_timeout=self.polling_timeout, allowed_updates=self.allowed_updates)
        finally:
            self._polling = False

    async def _run_webhook(self) -> None:
        assert self.config.webhook_url is not None
        # Telegram must prove each request is its own; without a configured secret, a random
        # one per run still keeps strangers from posting fake updates.
        secret = self.config.webhook_secret or secrets.token_urlsafe(32)
        app = web.Application()
        # Not in the background: Telegram gets 200 only after the case is committed, and
        # retries the update otherwise.
        WebhookHandler(self.unreadable, dispatcher=self.dp, bot=self.bot,
                       handle_in_background=False, secret_token=secret).register(
            app, path=urlsplit(self.config.webhook_url).path or "/")
        host, _, port = self.config.webhook_listen.rpartition(":")
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host or "127.0.0.1", int(port)).start()
        await self.bot(SetWebhook(url=self.config.webhook_url, secret_token=secret,
                                  allowed_updates=self.allowed_updates))
        log.warning("telegram webhook listening on %s", self.config.webhook_listen)
        await asyncio.Event().wait()

    async def close(self) -> None:
        """Stop taking updates; an update being handled is redelivered if it was cut short."""
        await self.deps.cards.close()
        if self._polling:
            with contextlib.suppress(RuntimeError):
                await self.dp.stop_polling()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.deps.replies.close()
        await self.output.close(keep=self.deps.keep_edit)
        if self._own_session:
            await self.bot.session.close()
