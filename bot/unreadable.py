"""Updates aiogram cannot read (a field of an unexpected type, a shape a newer Bot API sends)
are kept in quarantine and stepped over, so that one of them does not stop the bot. Text that
is not valid Unicode (half of an emoji's surrogate pair, escaped in the JSON) is mended as it
is read, see :func:`read_json`.

Left to aiogram, such an update is fatal for polling: getUpdates answers a batch, the batch
fails validation as a whole, and aiogram retries the same offset forever, so every later
message is silently never handled. Over a webhook the request fails with 500 and Telegram
resends the same update forever. Here the batch is read update by update: the unreadable one
is logged with its update_id and reason and kept whole in the ``quarantine`` table (where
``domovoy status`` counts it), and a bare stand-in with its update_id takes its place in the
batch. aiogram confirms the stand-in like any update — in order, after the handlers of the
updates before it returned — and :meth:`skip_stand_in` keeps it from any handler.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import ClientDecodeError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.limits import clean
from intake import quarantine
from intake.message import Channel
from workflow.context import Workflow

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Enough of pydantic's complaint to find the field; the update itself is in quarantine.
REASON_ERRORS = 3


class UnreadableUpdates:
    """Reads updates one by one, quarantining those that fail validation."""

    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        self._stand_ins: set[int] = set()

    async def parse(self, raw: Any, bot: Bot) -> Update | None:
        """The update, or None once it is in quarantine."""
        try:
            return Update.model_validate(raw, context={"bot": bot})
        except ValidationError as exc:
            await self._keep(raw, exc)
            return None

    async def read_batch(self, raw_updates: list[Any], bot: Bot) -> list[Update]:
        """A getUpdates batch with each unreadable update replaced by a stand-in. One without
        a usable update_id cannot be confirmed by itself; the ones after it confirm it."""
        batch: list[Update] = []
        for raw in raw_updates:
            update = await self.parse(raw, bot)
            if update is None:
                update_id = _update_id(raw)
                if update_id is None:
                    continue
                self._stand_ins.add(update_id)
                update = Update.model_validate({"update_id": update_id}, context={"bot": bot})
            batch.append(update)
        return batch

    async def _keep(self, raw: Any, exc: ValidationError) -> None:
        update_id = _update_id(raw)
        # ASCII escapes keep even text that is not valid Unicode storable.
        body = json.dumps({"update": raw}).encode()
        source = (f"update {update_id}" if update_id is not None
                  else f"update without id {hashlib.sha256(body).hexdigest()[:16]}")
        reason = describe(exc)
        row = await quarantine.store(self.wf.sessions, channel=Channel.TELEGRAM.value,
                                     source=source, raw=body, reason=reason,
                                     now=self.wf.clock.now())
        log.error("telegram update %s cannot be read and is skipped (quarantine #%d): %s",
                  update_id if update_id is not None else "without an id", row, reason)

    async def skip_stand_in(self, handler: Callable[[TelegramObject, dict[str, Any]],
                                                    Awaitable[Any]],
                            update: TelegramObject, data: dict[str, Any]) -> Any:
        """Outer middleware of ``dp.update``: a stand-in reaches no handler (aiogram would
        warn that the Bot API grew a new update type, which is not what happened)."""
        if isinstance(update, Update) and update.update_id in self._stand_ins:
            self._stand_ins.discard(update.update_id)
            return UNHANDLED
        return await handler(update, data)


class ReadBatchesOneByOne(BaseRequestMiddleware):
    """Session middleware: a getUpdates answer that fails validation is read update by update
    instead of failing whole (aiogram would retry it forever)."""

    def __init__(self, unreadable: UnreadableUpdates) -> None:
        self.unreadable = unreadable

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except ClientDecodeError as exc:
            answer = exc.data
            if not (isinstance(method, GetUpdates) and isinstance(answer, dict)
                    and answer.get("ok") is True and isinstance(answer.get("result"), list)):
                raise
            # The session hands back the result, not the Response its annotation names.
            batch: Any = await self.unreadable.read_batch(answer["result"], bot)
            return batch


class WebhookHandler(SimpleRequestHandler):
    """aiogram's webhook handler, except that an update it cannot read is answered 200 once
    it is in quarantine: an error status makes Telegram send the same update forever, and
    holds back every update after it."""

    def __init__(self, unreadable: UnreadableUpdates, dispatcher: Dispatcher, bot: Bot,
                 **kwargs: Any) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, **kwargs)
        self.unreadable = unreadable

    async def handle(self, request: web.Request) -> web.Response:
        # Only a request that proves it is Telegram's may put anything in quarantine.
        if self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            raw = await request.json(loads=self.bot.session.json_loads)
            if await self.unreadable.parse(raw, self.bot) is None:
                return web.json_response({})
        return await super().handle(request)


def read_json(text: str) -> Any:
    """The session's JSON reader: every string in an answer (an update's text, a name, a
    caption) with each lone surrogate made U+FFFD. Such a string could not be stored (SQLite
    and PostgreSQL refuse it) nor sent back (no UTF-8 encoder takes it): a staff answer
    carrying one vanished with an error in the log. One UTF-16 unit stays one, so entity
    offsets still fit; answers without a ``\\u`` escape are read as they are."""
    value = json.loads(text)
    return _mended(value) if "\\u" in text else value


def _mended(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_mended(v) for v in value]
    if isinstance(value, dict):
        return {k: _mended(v) for k, v in value.items()}
    return value


def describe(exc: ValidationError) -> str:
    """Which fields failed and why, in one line."""
    errors = exc.errors(include_url=False)
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
             for e in errors[:REASON_ERRORS]]
    more = f" (+{len(errors) - REASON_ERRORS} more)" if len(errors) > REASON_ERRORS else ""
    return f"update does not match the Bot API schema: {'; '.join(parts)}{more}"


def _update_id(raw: Any) -> int | None:
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
