"""Engines, sessions and schema upgrades for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from workflow.sqlite_inline import BUSY_TIMEOUT_S, inline_dbapi

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The newest migration's revision. A process starting on a database already there skips
# Alembic altogether: importing it costs about 11 MB of memory for the process's whole life
# and a few hundred milliseconds, to learn that there is nothing to do.
# tests/test_migrations.py fails when a new migration lands without this being moved on.
SCHEMA_HEAD = "0009"

SessionFactory = async_sessionmaker[AsyncSession]


# One encoder for every value: ``json.dumps`` with a non-default option builds a new one per call.
_UTF8_JSON = json.JSONEncoder(ensure_ascii=False)


def _json_text(value: Any) -> str:
    """JSON columns (outbox payloads, explanations) keep Cyrillic as UTF-8: escaped as \\uXXXX
    it took three times the bytes, so an acknowledgement's row and the pages a commit writes
    grew with it, and nobody could read a payload in the database. A lone surrogate (half an
    emoji from a client) cannot be stored as UTF-8, so such a value keeps the escapes."""
    text = _UTF8_JSON.encode(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the poller, the bot and the outbox read while one of them writes; the busy
    # timeout turns brief write contention into a wait instead of "database is locked".
    # synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss, and we
    # acknowledge input (IMAP \Seen, Telegram offset) right after the commit.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, *, echo: bool = False, sqlite_driver: str = "inline") -> AsyncEngine:
    """``sqlite_driver`` "inline" runs SQLite calls on the loop (see ``sqlite_inline``);
    "thread" uses aiosqlite's worker thread as is."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, json_serializer=_json_text)
    if parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    if sqlite_driver == "inline":
        # One connection, handed out by an asyncio-aware queue: transactions in this process
        # take turns instead of meeting in SQLite's lock (which would block the loop).
        # Nobody may hold a session across network I/O; the timeout turns a violation into
        # a clear error instead of a hang.
        extra.update(module=inline_dbapi(), pool_size=1, max_overflow=0, pool_timeout=30)
    engine = create_async_engine(url, echo=echo, json_serializer=_json_text, **extra)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_sync(url: str, revision: str = "head") -> None:
    from alembic import command

    if make_url(url).get_backend_name() == "sqlite":
        db = make_url(url).database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def schema_revision(url: str) -> str | None:
    """The revision the database says it is at; None for a new database (no file, or no
    version table yet)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:") or not Path(parsed.database).exists():
            return None
        return await asyncio.to_thread(_sqlite_revision, Path(parsed.database))
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda c: c.dialect.has_table(c, "alembic_version")):
                return None
            return await conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()


def _sqlite_revision(path: Path) -> str | None:
    """Read by plain ``sqlite3``, not the engine: the engine's connect hook turns a file to WAL
    for good, and this check runs on files that may not be Domovoy's (``status`` pointed at
    another program's database switched its journal before refusing it)."""
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                       "AND name = 'alembic_version'").fetchone() is None:
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])
    finally:
        con.close()


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations, or nothing when the database is already at ``SCHEMA_HEAD`` (then
    Alembic is never imported). Alembic's env runs its own event loop, so it gets a thread."""
    if revision == "head" and await schema_revision(url) == SCHEMA_HEAD:
        return
    await asyncio.to_thread(upgrade_sync, url, revision)
