"""The same Alembic history builds the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, select

from workflow.db import make_engine, session_factory, upgrade
from workflow.models import Base, Building, Case


async def test_migrations_create_every_table_and_round_trip(any_db_url: str) -> None:
    await upgrade(any_db_url)
    await upgrade(any_db_url)  # idempotent: a second upgrade is a no-op
    engine = make_engine(any_db_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            indexes = await conn.run_sync(
                lambda c: {i["name"] for i in inspect(c).get_indexes("cases")})
        assert set(Base.metadata.tables) <= tables
        assert "ix_cases_open_deadline" in indexes
        sessions = session_factory(engine)
        when = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
        async with sessions.begin() as s:
            b = Building(code="lenina-5", address="ул. Ленина, 5")
            s.add(b)
            await s.flush()
            s.add(Case(number="A-1", kind="complaint", category="heating", urgency="high",
                       scope="unit", stage="acknowledged", channel="telegram",
                       text="Холодные батареи, ёлки-палки", building_id=b.id,
                       explanation={"rules": ["heating.cold"]}, received_at=when,
                       next_deadline=when, updated_at=when))
        async with sessions() as s:
            case = await s.scalar(select(Case))
        assert case is not None
        assert case.text == "Холодные батареи, ёлки-палки"
        assert case.received_at == when and case.received_at.tzinfo is not None
        assert case.explanation == {"rules": ["heating.cold"]}
    finally:
        await engine.dispose()


async def test_the_aiosqlite_thread_driver_works_too(sqlite_url: str) -> None:
    from domovoy.app import build_app
    from tests.conftest import make_config
    from tests.helpers import tg_message
    from workflow.clock import ManualClock

    config = make_config(sqlite_url, database={"url": sqlite_url, "sqlite_driver": "thread"})
    app = await build_app(config, clock=ManualClock())
    try:
        result = await app.intake.ingest(tg_message(1, "Течёт кран", app.wf.clock.now()))
        assert result.case_number == "A-1001"
    finally:
        await app.close()
