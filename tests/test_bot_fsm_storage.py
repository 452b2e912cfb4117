"""The bot's form state lives in the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from bot.fsm_storage import FORM_TTL, DatabaseStorage
from bot.tables import TelegramFsm
from workflow.clock import ManualClock
from workflow.db import make_engine, session_factory, upgrade


class Form(StatesGroup):
    describe = State()


async def test_state_and_data_survive_a_new_storage_and_vanish_when_cleared(
        any_db_url: str) -> None:
    await upgrade(any_db_url)
    engine = make_engine(any_db_url)
    try:
        sessions = session_factory(engine)
        key = StorageKey(bot_id=1, chat_id=5001, user_id=5001)
        other = StorageKey(bot_id=1, chat_id=5002, user_id=5002)
        first = DatabaseStorage(sessions, ManualClock())
        await first.set_state(key, Form.describe)
        await first.update_data(key, {"topic": "noise", "photos": ["AgAD1"]})
        await first.update_data(key, {"text": "Сверлят ночью"})
        again = DatabaseStorage(sessions, ManualClock())  # as after a restart
        assert await again.get_state(key) == Form.describe.state
        assert await again.get_data(key) == {"topic": "noise", "photos": ["AgAD1"],
                                             "text": "Сверлят ночью"}
        assert await again.get_state(other) is None and await again.get_data(other) == {}
        await again.set_state(key, None)
        await again.set_data(key, {})
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(TelegramFsm)) == 0
    finally:
        await engine.dispose()


async def test_a_step_left_for_longer_than_the_form_ttl_is_forgotten(any_db_url: str) -> None:
    await upgrade(any_db_url)
    engine = make_engine(any_db_url)
    try:
        sessions = session_factory(engine)
        clock = ManualClock()
        storage = DatabaseStorage(sessions, clock)
        key = StorageKey(bot_id=1, chat_id=5001, user_id=5001)
        await storage.set_state(key, Form.describe)
        await storage.update_data(key, {"topic": "noise"})
        clock.advance(FORM_TTL)
        assert await storage.get_state(key) == Form.describe.state  # still within the hour
        clock.advance(timedelta(seconds=1))
        assert await storage.get_state(key) is None and await storage.get_data(key) == {}
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(TelegramFsm)) == 0
    finally:
        await engine.dispose()
