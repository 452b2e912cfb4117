"""Where each resident is in the bot's guided forms, kept in the database.

aiogram's ``MemoryStorage`` forgets every conversation when the bot restarts: a resident half-way
through registration or the complaint form (topic chosen, text typed, photos sent) would find the
bot answering their next message as if they had never begun. Kept in the database, the form
survives a restart or a crash like everything else Domovoy has accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.tables import TelegramFsm
from workflow.clock import Clock
from workflow.db import SessionFactory

_KEYS = DefaultKeyBuilder(with_bot_id=True, with_business_connection_id=True, with_destiny=True)
_INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}
# A guided step left this long is abandoned: a resident who started the form, or rated a case,
# and writes again next day is reporting something new, not finishing the old step (which
# would swallow the report without a case).
FORM_TTL = timedelta(hours=1)


class DatabaseStorage(BaseStorage):
    """One row per conversation: its state and its data; the row goes when both are empty."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        await self._write(key, state=name)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._read(key)
        return row.state if row is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._read(key)
        return dict(row.data) if row is not None else {}

    async def close(self) -> None:
        """Nothing to release: the sessions belong to the application."""

    async def _read(self, key: StorageKey) -> TelegramFsm | None:
        k = _KEYS.build(key)
        async with self._sessions() as s:
            row = await s.get(TelegramFsm, k)
        if row is None or self._clock.now() - row.updated_at <= FORM_TTL:
            return row
        async with self._sessions.begin() as s:
            await s.execute(delete(TelegramFsm).where(TelegramFsm.key == k,
                                                      TelegramFsm.updated_at == row.updated_at))
        return None

    async def _write(self, key: StorageKey, **values: Any) -> None:
        """Upsert one field; delete the row once neither a state nor data is left, so finished
        conversations do not pile up."""
        k = _KEYS.build(key)
        async with self._sessions.begin() as s:
            insert = _INSERTS[s.get_bind().dialect.name](TelegramFsm)
            row = {"key": k, "state": None, "data": {}, "updated_at": self._clock.now(), **values}
            await s.execute(insert.values(**row).on_conflict_do_update(
                index_elements=[TelegramFsm.key],
                set_={**values, "updated_at": row["updated_at"]}))
            stored = await s.get(TelegramFsm, k, populate_existing=True)
            if stored is not None and stored.state is None and not stored.data:
                await s.execute(delete(TelegramFsm).where(TelegramFsm.key == k))
