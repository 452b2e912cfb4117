"""Rows written and read with one Core statement each, then handed to the session as ORM
objects, for the intake's hot path.

The unit of work costs a few hundred microseconds per new object (flush planning, events,
identity bookkeeping) against ~45 µs for a Core INSERT on the same connection, and a new case
writes about ten rows. So the intake inserts and looks up with Core and *adopts* the result
into the session as if it had been loaded: later attribute changes still flush as ordinary
UPDATEs, and other code sees a normal persistent object.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import CursorResult, Insert, Update, bindparam, insert, inspect, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from workflow.models import Base, Event

T = TypeVar("T", bound=Base)

# Built once per model: constructing an INSERT costs more than looking one up.
_INSERTS: dict[type[Base], Insert] = {}
_UPDATES: dict[tuple[type[Base], tuple[str, ...]], Update] = {}
_CONNECTION = "workflow.rows.connection"


async def connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection for Core statements, once the session's pending ORM changes
    are written, as its own queries would (autoflush): a Core read must see what the caller
    added or changed in the same transaction (a staff reply logged just before, say)."""
    sync = session.sync_session
    if sync.new or sync.dirty or sync.deleted:
        await session.flush()
    # Asking the session costs a greenlet round trip per statement; within one transaction
    # the answer cannot change, so it is kept beside the transaction it belongs to (a commit
    # or rollback starts a new transaction object, which makes the next call ask again).
    transaction = sync.get_transaction()
    cached = session.info.get(_CONNECTION)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]
    conn = await session.connection()
    session.info[_CONNECTION] = (sync.get_transaction(), conn)
    return conn


def _insert(model: type[Base]) -> Insert:
    stmt = _INSERTS.get(model)
    if stmt is None:
        stmt = _INSERTS[model] = insert(model)
    return stmt


def _column_values(model: type[Base], given: dict[str, Any]) -> dict[str, Any]:
    """Every column's value: the given ones, Python-side defaults for the rest (the object
    must be complete, since an attribute left unloaded would need a lazy load later)."""
    values: dict[str, Any] = {}
    for attr in inspect(model).column_attrs:
        key = attr.key
        if key in given:
            values[key] = given[key]
            continue
        column = attr.columns[0]
        if column.primary_key and column.autoincrement in (True, "auto"):
            continue
        default = column.default
        if default is None:
            values[key] = None
        elif default.is_callable:
            values[key] = default.arg(None)
        else:
            values[key] = default.arg
    return values


def adopt(session: AsyncSession, model: type[T], values: dict[str, Any]) -> T:
    """The session's object for a row read or written with Core (all columns in ``values``);
    the one already in the session if it has it, so nobody holds two copies of a row."""
    sync = session.sync_session
    pk = tuple(values[c.name] for c in inspect(model).primary_key)
    existing = sync.identity_map.get(identity_key(model, pk))
    if isinstance(existing, model):
        return existing
    # As a query would build it: no __init__, values straight into the instance dict (no
    # change history), which costs a fraction of the instrumented constructor.
    obj = inspect(model).class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    sync.add(obj)
    return obj  # type: ignore[return-value]


async def insert_row(session: AsyncSession, model: type[T], **given: Any) -> T:
    """INSERT one row with Core in the session's transaction and return it as a persistent
    object of the session."""
    values = _column_values(model, given)
    conn = await connection(session)
    result = await conn.execute(_insert(model), values)
    (pk_column,) = inspect(model).primary_key
    if pk_column.name not in values:
        values[pk_column.name] = inserted_id(result)
    return adopt(session, model, values)


def inserted_id(result: CursorResult[Any]) -> int:
    """The new row's integer primary key from a single-row Core INSERT."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


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
        stmt = _UPDATES[model, keys] = (
            update(model).where(pk_column == bindparam("_pk"))
            .values({key: bindparam(key) for key in keys}))
    conn = await connection(session)
    await conn.execute(stmt, {**values, "_pk": getattr(obj, pk_column.name)})
    for key, value in values.items():
        set_committed_value(obj, key, value)


async def record_event(session: AsyncSession, **values: Any) -> None:
    """Append to the audit trail at once (Core), so events keep the order they happened in."""
    conn = await connection(session)
    await conn.execute(_insert(Event),
                       {"from_stage": None, "to_stage": None, "note": None, **values})
