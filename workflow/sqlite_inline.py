"""An aiosqlite-shaped driver that runs SQLite calls inline on the event loop.

Why: aiosqlite sends every cursor call (execute, fetch, close, ...) to its own thread and back;
SQLAlchemy's adapter makes about seven such hops per statement, and a new case is ~20
statements, so the hops (not SQLite) dominated intake: 75 messages/s where the same rows take
well under a millisecond in plain ``sqlite3``. A local SQLite call in WAL mode returns in
microseconds, so running it inline blocks the loop for less time than a hop costs.

It plugs into SQLAlchemy's own ``sqlite+aiosqlite`` dialect (``module=``), so SQL, types and
pooling are exactly those of aiosqlite; ``database.sqlite_driver: thread`` switches back to real
aiosqlite. The trade-off: a write that waits on another *process's* lock (``busy_timeout``)
waits on the loop, so the timeout is kept short and such a wait surfaces as a retryable error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

BUSY_TIMEOUT_S = 2.0


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class Connection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._thread = SimpleNamespace(daemon=True)  # the dialect marks aiosqlite's thread

    def __await__(self) -> Generator[Any, None, Connection]:
        if False:  # pragma: no cover - makes this a generator without suspending
            yield None
        return self

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


def sqlite_connection(driver_connection: object) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection behind a pooled driver connection if it is this driver's
    (calls on it run inline too, so a caller may use it directly), else None."""
    return driver_connection._conn if isinstance(driver_connection, Connection) else None


def connect(database: str, **kw: Any) -> Connection:
    kw.setdefault("timeout", BUSY_TIMEOUT_S)
    kw["check_same_thread"] = False  # the pool may be disposed from another thread
    return Connection(sqlite3.connect(database, **kw))


_module = SimpleNamespace(
    connect=connect, Connection=Connection, Cursor=Cursor,
    sqlite_version=sqlite3.sqlite_version, sqlite_version_info=sqlite3.sqlite_version_info,
    **{name: getattr(sqlite3, name) for name in (
        "DatabaseError", "Error", "IntegrityError", "NotSupportedError", "OperationalError",
        "ProgrammingError", "InterfaceError", "DataError", "InternalError", "Warning")},
)


def inline_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI object to hand to ``create_async_engine(..., module=...)``."""
    return AsyncAdapt_aiosqlite_dbapi(_module, sqlite3)  # type: ignore[arg-type]
