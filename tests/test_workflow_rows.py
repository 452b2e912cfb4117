"""Prepared statements: the inline-SQLite shortcut must give exactly what SQLAlchemy gives.

The same statements run on SQLite with the inline driver (the shortcut), SQLite with real
aiosqlite and PostgreSQL (both through SQLAlchemy); what a caller reads back must not depend
on which path ran.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from domovoy.app import App, build_app
from domovoy.config import Config
from tests.conftest import make_config
from workflow.clock import ManualClock
from workflow.models import Message, OutboxItem, Resident
from workflow.rows import Prepared, _utc_text, adopt, insert_row

WHEN = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)

_LOG = Prepared(insert(Message))
_READ = Prepared(select(Message.id, Message.attachments, Message.created_at, Message.note)
                 .where(Message.channel == bindparam("channel"),
                        Message.external_id == bindparam("external_id")))
_COUNT_IN = Prepared(select(func.count(Message.id))
                     .where(Message.external_id.in_(bindparam("ids", expanding=True))))
_LITERAL = Prepared(select(Message.external_id).where(Message.channel == "email")
                    .order_by(Message.id))
_OUTBOX_FLAGS = Prepared(select(OutboxItem.automatic, OutboxItem.payload))


@pytest.fixture(params=["sqlite-inline", "sqlite-thread", "postgresql"])
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    if request.param == "postgresql":
        return make_config(str(request.getfixturevalue("pg_url")))
    url = f"sqlite+aiosqlite:///{tmp_path / 'rows.sqlite3'}"
    return make_config(url, database={"url": url, "sqlite_driver": request.param.split("-")[1]})


@pytest.fixture
async def store(store_config: Config, clock: ManualClock) -> AsyncIterator[App]:
    app = await build_app(store_config, clock=clock)
    yield app
    await app.close()


def _message(external_id: str, **extra: object) -> dict[str, object]:
    return {"case_id": None, "direction": "in", "channel": "email", "external_id": external_id,
            "resident_id": None, "staff_id": None, "subject": "Тема", "text": "Текст",
            "attachments": [{"filename": "фото.jpg", "size": 10}], "raw_ref": None,
            "note": None, "burst_key": None, "created_at": WHEN, **extra}


async def test_values_round_trip_as_sqlalchemy_types_them(store: App) -> None:
    """Dates come back timezone-aware and equal, JSON as lists, NULL as None, on every path."""
    async with store.wf.sessions() as session:
        new_id = (await _LOG.run(session, _message("<a@x>"))).inserted_id
        row = (await _READ.run(session, {"channel": "email", "external_id": "<a@x>"})).first()
        await session.commit()
    assert row.id == new_id
    assert row.attachments == [{"filename": "фото.jpg", "size": 10}]
    assert row.created_at == WHEN and row.created_at.tzinfo is not None
    assert row.note is None
    assert row._asdict()["id"] == new_id
    async with store.wf.sessions() as session:
        stored = await session.get_one(Message, new_id)
    assert (stored.created_at, stored.attachments) == (WHEN, row.attachments)


async def test_moments_are_stored_as_the_orm_stores_them(store: App) -> None:
    """The shortcut formats dates itself; the text must equal the ORM's to the character,
    or index order and equality between rows written either way would break (whole seconds
    keep their ".000000", another zone is turned into UTC), and a naive time is refused."""
    moscow = datetime(2026, 3, 1, 11, 30, 15, tzinfo=timezone(timedelta(hours=3)))
    async with store.wf.sessions() as session:
        for n, when in enumerate((moscow, WHEN, WHEN.replace(microsecond=0))):
            await _LOG.run(session, _message(f"<core{n}@x>", created_at=when))
            session.add(Message(**_message(f"<orm{n}@x>", created_at=when)))
        await session.flush()
        stored: dict[str, str] = dict((await session.execute(text(
            "SELECT external_id, CAST(created_at AS TEXT) FROM messages"))).all())
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            await _LOG.run(session, _message("<naive@x>", created_at=datetime(2026, 3, 1)))
    assert [stored[f"<core{n}@x>"] for n in range(3)] == [stored[f"<orm{n}@x>"]
                                                          for n in range(3)]


async def test_the_shortcut_formats_moments_itself(app: App) -> None:
    """The test above also passes if the shortcut quietly fell back to SQLAlchemy's processors
    (its self-check refuses a formatter that disagrees); that would lose the speed it exists
    for, so on inline SQLite (the default) the plan binds its moments with the fast formatter."""
    async with app.wf.sessions() as session:
        await _LOG.run(session, _message("<fast@x>"))
    (plan,) = [p for p in _LOG._plans.values() if p is not None]
    assert [key for key, _, process in plan.binds if process is _utc_text] == ["created_at"]


async def test_a_missing_row_reads_as_none(store: App) -> None:
    async with store.wf.sessions() as session:
        rows = await _READ.run(session, {"channel": "email", "external_id": "<none@x>"})
    assert rows.first() is None and rows.scalar() is None and list(rows) == []


async def test_literals_in_the_statement_and_expanding_lists(store: App) -> None:
    async with store.wf.sessions() as session:
        for n in range(3):
            await _LOG.run(session, _message(f"<{n}@x>"))
        await _LOG.run(session, _message("<t@x>", channel="telegram"))
        assert (await _COUNT_IN.run(session, {"ids": ["<0@x>", "<2@x>", "<t@x>"]})).scalar() == 3
        assert [r.external_id for r in await _LITERAL.run(session)] == ["<0@x>", "<1@x>",
                                                                        "<2@x>"]


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(store: App) -> None:
    """Intake tells a concurrent duplicate by this exception, whichever path raised it."""
    async with store.wf.sessions() as session:
        await _LOG.run(session, _message("<dup@x>"))
        with pytest.raises(IntegrityError):
            await _LOG.run(session, _message("<dup@x>"))


async def test_booleans_and_json_read_back_through_result_processors(store: App) -> None:
    async with store.wf.sessions() as session:
        session.add(OutboxItem(channel="email", recipient="a@x", purpose="ack",
                               payload={"text": "«Привет»"}, idempotency_key="k1",
                               automatic=False, next_attempt_at=WHEN, created_at=WHEN))
        (row,) = list(await _OUTBOX_FLAGS.run(session))  # sees the pending ORM object
    assert row.automatic is False and row.payload == {"text": "«Привет»"}


async def test_only_inline_sqlite_takes_the_shortcut(store: App,
                                                     request: pytest.FixtureRequest) -> None:
    probe = Prepared(select(Message.id).where(Message.id == bindparam("id")))
    async with store.wf.sessions() as session:
        await probe.run(session, {"id": 1})
    shortcut = any(plan is not None for plan in probe._plans.values())
    assert shortcut == (request.node.callspec.params["store_config"] == "sqlite-inline")
    async with store.wf.sessions() as session:
        await _COUNT_IN.run(session, {"ids": ["a"]})
    assert all(plan is None for plan in _COUNT_IN._plans.values())  # expanding: SQLAlchemy's


async def test_logged_sql_shows_every_statement(tmp_path: Path, clock: ManualClock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """With ``database.echo`` the shortcut is off: an operator debugging sees the intake's SQL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'echo.sqlite3'}"
    app = await build_app(make_config(url, database={"url": url, "echo": True}), clock=clock)
    probe = Prepared(select(Message.id).where(Message.external_id == bindparam("ext")))
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            async with app.wf.sessions() as session:
                await probe.run(session, {"ext": "<x@y>"})
    finally:
        await app.close()
    assert not probe._plans
    assert any("FROM messages" in r.getMessage() for r in caplog.records)


async def test_an_adopted_row_is_the_sessions_persistent_object(store: App) -> None:
    """A row written with Core is the session's own object, as if a query had loaded it: the
    session hands back that very object, a second adoption of the row does too, and a change
    to an attribute flushes as an UPDATE of that row, on every path."""
    async with store.wf.sessions() as session:
        resident = await insert_row(session, Resident, name="Анна", language="ru",
                                    created_at=WHEN)
        assert inspect(resident).persistent
        assert await session.get(Resident, resident.id) is resident
        values = {c.key: getattr(resident, c.key) for c in Resident.__table__.c}
        assert adopt(session, Resident, values) is resident
        resident.apartment = "12"
        await session.commit()
    async with store.wf.sessions() as session:
        stored = await session.get_one(Resident, resident.id)
        assert (stored.name, stored.apartment, stored.created_at) == ("Анна", "12", WHEN)
