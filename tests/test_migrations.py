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


def test_the_recorded_head_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from workflow.db import SCHEMA_HEAD, alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head == SCHEMA_HEAD, f"a migration landed: set workflow.db.SCHEMA_HEAD to {head!r}"


async def test_an_older_database_is_brought_up_to_the_head(any_db_url: str) -> None:
    from workflow.db import SCHEMA_HEAD, schema_revision

    assert await schema_revision(any_db_url) is None
    await upgrade(any_db_url, "0006")
    assert await schema_revision(any_db_url) == "0006"
    await upgrade(any_db_url)
    assert await schema_revision(any_db_url) == SCHEMA_HEAD


def test_a_process_starting_on_a_current_database_does_not_load_alembic(
        sqlite_url: str) -> None:
    """Alembic is about 11 MB of memory a long-running process would carry for nothing."""
    import asyncio
    import subprocess
    import sys
    from pathlib import Path

    asyncio.run(upgrade(sqlite_url))
    probe = ("import asyncio, sys; from workflow.db import upgrade; "
             f"asyncio.run(upgrade({sqlite_url!r})); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
