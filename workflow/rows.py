"""Rows written and read with one Core statement each, then handed to the session as ORM
objects, for the intake's hot path.

The unit of work costs a few hundred microseconds per new object (flush planning, events,
identity bookkeeping) against ~45 µs for a Core INSERT on the same connection, and a new case
writes about ten rows. So the intake inserts and looks up with Core and *adopts* the result
into the session as if it had been loaded: later attribute changes still flush as ordinary
UPDATEs, and other code sees a normal persistent object.

The statements themselves are :class:`Prepared`: on the embedded SQLite they skip SQLAlchemy's
per-statement execution machinery, which had become most of an intake's cost.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Insert, Select, Update, bindparam, insert, inspect, update
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql.compiler import SQLCompiler

from workflow.models import NAIVE_TIME, Base, Event, UTCDateTime
from workflow.sqlite_inline import sqlite_connection

T = TypeVar("T", bound=Base)

# Built once per model: constructing an INSERT costs more than looking one up.
Statement = Select[*tuple[Any, ...]] | Insert | Update
_SHAPES: dict[type[Base], _Shape] = {}
_UPDATES: dict[tuple[type[Base], tuple[str, ...]], Prepared] = {}
_CONNECTION = "workflow.rows.connection"
_SQL_LOG = logging.getLogger("sqlalchemy.engine")


async def connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection for Core statements, once the session's pending ORM changes
    are written, as its own queries would (autoflush): a Core read must see what the caller
    added or changed in the same transaction (a staff reply logged just before, say)."""
    return (await _connections(session))[0]


def dialect_name(session: AsyncSession) -> str:
    """The session's database ("sqlite", "postgresql"), known without fetching its connection
    (which would flush first)."""
    return session.sync_session.get_bind().dialect.name


async def _connections(session: AsyncSession) -> tuple[AsyncConnection, sqlite3.Connection | None]:
    """:func:`connection`, and the ``sqlite3`` connection under it when SQLite runs inline."""
    sync = session.sync_session
    # The test autoflush itself makes: ``new``/``dirty``/``deleted`` would each build a set.
    if not sync._is_clean():
        await session.flush()
    # Asking the session costs a greenlet round trip per statement; within one transaction
    # the answer cannot change, so it is kept beside the transaction it belongs to (a commit
    # or rollback starts a new transaction object, which makes the next call ask again).
    transaction = sync.get_transaction()
    cached = session.info.get(_CONNECTION)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1], cached[2]
    conn = await session.connection()
    raw = None
    # An operator who logs SQL (``database.echo``, or SQLAlchemy's loggers at INFO) must see
    # every statement, so the shortcut, which SQLAlchemy does not log, is off then.
    if conn.dialect.name == "sqlite" and not (conn.sync_engine.echo
                                              or _SQL_LOG.isEnabledFor(logging.INFO)):
        raw = sqlite_connection((await conn.get_raw_connection()).driver_connection)
    session.info[_CONNECTION] = (sync.get_transaction(), conn, raw)
    return conn, raw


class Rows:
    """What a :class:`Prepared` statement returned: its rows (tuples whose fields also read by
    name, and ``_asdict()``) and, for an INSERT, the new row's id."""

    __slots__ = ("_lastrowid", "_result", "rows")

    def __init__(self, rows: Sequence[Any], lastrowid: int | None = None,
                 result: CursorResult[Any] | None = None) -> None:
        self.rows = rows
        self._lastrowid = lastrowid
        self._result = result

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    @property
    def inserted_id(self) -> int:
        """The new row's integer primary key after a single-row INSERT."""
        if self._result is not None:
            key = self._result.inserted_primary_key
            assert key is not None
            return int(key[0])
        assert self._lastrowid is not None
        return self._lastrowid


class Prepared:
    """A statement the intake runs for nearly every message, prepared once.

    SQLAlchemy's execution path costs ~35 µs a statement on top of SQLite's own 5-20 µs
    (execution context, result metadata, a greenlet hop per driver call), and a new case runs
    about a dozen statements. So when SQLite runs inline (``workflow.sqlite_inline``) the
    statement is compiled once per sequence of parameter names (each call site passes its
    names in one order, so a statement has a plan or two) and run on the ``sqlite3``
    connection itself, its parameters and results converted by the very type processors
    SQLAlchemy would apply. What the shortcut cannot do as SQLAlchemy would (Python-side
    column defaults, expanding IN lists) and every other driver (PostgreSQL) take SQLAlchemy's
    path, so both give the same rows.
    """

    __slots__ = ("_plans", "stmt")

    def __init__(self, stmt: Statement) -> None:
        self.stmt = stmt
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    async def run(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Rows:
        """Execute in the session's transaction (after its pending ORM changes, as
        :func:`connection`)."""
        conn, raw = await _connections(session)
        params = params or {}
        if raw is not None:
            keys = tuple(params)
            try:
                plan = self._plans[keys]
            except KeyError:
                plan = self._plans[keys] = _Plan.build(self.stmt, conn.dialect, keys)
            if plan is not None:
                return plan.run(raw, params)
        result = await conn.execute(self.stmt, params)
        return Rows(result.all() if result.returns_rows else [], result=result)


_REQUIRED = object()
_SAMPLES = (datetime(2026, 3, 1, 7, 5, 9, 12, tzinfo=UTC), datetime(999, 1, 2, tzinfo=UTC))
_last_utc: tuple[datetime | None, str | None] = (None, None)


def _utc_text(value: datetime | None) -> str | None:
    """A :class:`UTCDateTime` parameter as SQLite stores it, in one step instead of the type's
    conversion and then the dialect's format dict: a new case binds about fifteen times, most
    of them the same moment, which is why the last one is kept (a single tuple, so a reader
    never pairs one moment with another's text)."""
    global _last_utc
    last = _last_utc
    if value is last[0]:
        return last[1]
    if value is None:
        return None
    utc = value
    if utc.tzinfo is not UTC:
        if utc.tzinfo is None:
            raise ValueError(NAIVE_TIME)
        utc = utc.astimezone(UTC)
    text = utc.isoformat(" ", "microseconds")[:26]
    _last_utc = (value, text)
    return text


def _same_text(process: Callable[[Any], Any] | None) -> bool:
    """Whether :func:`_utc_text` writes what the dialect's own processor does (its storage
    format can be configured; then the plan keeps the dialect's processor)."""
    return process is not None and all(process(d) == _utc_text(d) for d in _SAMPLES)


class _Plan:
    """One statement compiled for SQLite with one set of parameter names."""

    __slots__ = ("binds", "results", "row", "sql")

    def __init__(self, sql: str, binds: list[tuple[str, Any, Callable[[Any], Any] | None]],
                 row: Callable[..., Any] | None,
                 results: list[Callable[[Any], Any] | None]) -> None:
        self.sql = sql
        self.binds = binds
        self.row = row
        self.results = results

    @classmethod
    def build(cls, stmt: Statement, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        if (compiled.insert_prefetch or compiled.update_prefetch or compiled.positiontup is None
                or any(b.expanding or b.literal_execute or b.callable is not None
                       for b in compiled.binds.values())):
            return None  # values SQLAlchemy works out per execution
        processors = compiled._bind_processors
        binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup:
            bind, process = compiled.binds[name], processors.get(name)
            if not (process is None or callable(process)):
                return None  # a tuple-typed parameter: one processor per element
            if isinstance(bind.type, UTCDateTime) and _same_text(process):
                process = _utc_text
            binds.append((bind.key, _REQUIRED if bind.required else bind.effective_value,
                          process))
        columns = compiled._result_columns
        row_type: Any = namedtuple("Row", [c.keyname for c in columns], rename=True)  # type: ignore[misc]
        row = row_type._make if columns else None
        results: list[Callable[[Any], Any] | None] = [
            c.type._cached_result_processor(dialect, None) for c in columns]
        return cls(compiled.string, binds, row, results)

    def run(self, raw: sqlite3.Connection, params: Mapping[str, Any]) -> Rows:
        values = []
        for key, default, process in self.binds:
            value = params.get(key, default)
            if value is _REQUIRED:
                raise KeyError(f"statement needs parameter {key!r}: {self.sql}")
            values.append(process(value) if process is not None else value)
        try:
            cursor = raw.execute(self.sql, values)
            fetched = cursor.fetchall() if self.row is not None else []
        except sqlite3.Error as exc:
            raise DBAPIError.instance(self.sql, values, exc, sqlite3.Error) from exc
        if self.row is None:
            return Rows([], cursor.lastrowid)
        results, make = self.results, self.row
        if any(results):
            fetched = [[p(v) if p is not None else v for p, v in zip(results, r, strict=True)]
                       for r in fetched]
        return Rows([make(r) for r in fetched], cursor.lastrowid)


# How a column of a new row gets its value when the caller gives none.
_NONE, _VALUE, _CALL, _DATABASE = range(4)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What writing and adopting a model's rows needs, worked out once per model: asking the
    mapper for it on every row (six rows a new case) cost more than the Python around it."""

    columns: tuple[tuple[str, int, Any], ...]  # key, how it is filled, the default
    pk: tuple[str, ...]
    identity_class: type[Base]  # the first item of the model's identity keys
    new_instance: Callable[[], Any]
    insert: Prepared


def _shape(model: type[Base]) -> _Shape:
    shape = _SHAPES.get(model)
    if shape is None:
        mapper = inspect(model)
        columns = []
        for attr in mapper.column_attrs:
            column, default = attr.columns[0], attr.columns[0].default
            if column.primary_key and column.autoincrement in (True, "auto"):
                columns.append((attr.key, _DATABASE, None))
            elif default is None:
                columns.append((attr.key, _NONE, None))
            else:
                columns.append((attr.key, _CALL if default.is_callable else _VALUE, default.arg))
        shape = _SHAPES[model] = _Shape(tuple(columns), tuple(c.name for c in mapper.primary_key),
                                        mapper._identity_class,
                                        mapper.class_manager.new_instance,
                                        Prepared(insert(model)))
    return shape


def _column_values(shape: _Shape, given: dict[str, Any]) -> dict[str, Any]:
    """Every column's value: the given ones, Python-side defaults for the rest (the object
    must be complete, since an attribute left unloaded would need a lazy load later)."""
    values: dict[str, Any] = {}
    for key, fill, default in shape.columns:
        if key in given:
            values[key] = given[key]
        elif fill == _VALUE:
            values[key] = default
        elif fill == _CALL:
            values[key] = default(None)
        elif fill == _NONE:
            values[key] = None
    return values


def adopt(session: AsyncSession, model: type[T], values: dict[str, Any]) -> T:
    """The session's object for a row read or written with Core (all columns in ``values``);
    the one already in the session if it has it, so nobody holds two copies of a row."""
    sync = session.sync_session
    shape = _shape(model)
    key = (shape.identity_class, tuple(values[k] for k in shape.pk), None)
    existing = sync.identity_map.get(key)
    if isinstance(existing, model):
        return existing
    # As a query would build it: no __init__, values straight into the instance dict (no
    # change history), which costs a fraction of the instrumented constructor. Then what
    # ``make_transient_to_detached`` and ``Session.add`` do for it, less what cannot apply to
    # a complete row with nothing related loaded (working out its key again, expiring
    # attributes it does not lack, the save-update cascade over its relationships): those
    # were a tenth of a batched intake's time.
    obj = shape.new_instance()
    obj.__dict__.update(values)
    state = instance_state(obj)
    state.key = key
    sync._update_impl(state)
    return obj


async def insert_row(session: AsyncSession, model: type[T], **given: Any) -> T:
    """INSERT one row with Core in the session's transaction and return it as a persistent
    object of the session."""
    shape = _shape(model)
    values = _column_values(shape, given)
    result = await shape.insert.run(session, values)
    (pk,) = shape.pk
    if pk not in values:
        values[pk] = result.inserted_id
    return adopt(session, model, values)


async def update_row(session: AsyncSession, obj: Base, **values: Any) -> None:
    """UPDATE one persistent object's columns with Core and show the new values on the object
    as already saved: the flush that an attribute change would cost is several times this."""
    if not values:
        return
    model = type(obj)
    (pk_column,) = inspect(model).primary_key
    keys = tuple(sorted(values))
    stmt = _UPDATES.get((model, keys))
    if stmt is None:
        stmt = _UPDATES[model, keys] = Prepared(
            update(model).where(pk_column == bindparam("_pk"))
            .values({key: bindparam(key) for key in keys}))
    await stmt.run(session, {**values, "_pk": getattr(obj, pk_column.name)})
    for key, value in values.items():
        set_committed_value(obj, key, value)


async def record_event(session: AsyncSession, **values: Any) -> None:
    """Append to the audit trail at once (Core), so events keep the order they happened in."""
    await _shape(Event).insert.run(
        session, {"from_stage": None, "to_stage": None, "note": None, **values})
