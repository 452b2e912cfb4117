"""The database schema shared by every part of Domovoy.

All tables live on one ``Base`` so that a single Alembic history covers SQLite and PostgreSQL.
Channel-specific state (IMAP cursors, Telegram staff-chat cards) lives in tables of its own,
named for the channel, so ``workflow`` code never reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    null,
    or_,
    text,
)
from sqlalchemy import case as when
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from workflow.stages import Stage

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


NAIVE_TIME = "naive datetime given to the database; use an aware UTC time"


# The rows of ``ix_cases_incident_peer``, as both its definition and its query say it.
BUILDING_WIDE = text("scope = 'building'")


def _sparse_index(name: str, column: str) -> Index:
    """An index of the rows where ``column`` is set: most rows leave it empty, and an entry for
    each of those would cost every insert a page of its own (a durable commit writes each page
    it touched). A lookup by value (``column = ?``) implies the column is set, so both SQLite
    and PostgreSQL still use it."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, sqlite_where=where, postgresql_where=where)


def stage_due(stage: str, *, paused: bool, answered: bool, respond_due: datetime | None,
              resolve_due: datetime | None) -> datetime | None:
    """The deadline that matters now: answer first, then fix; none once resolved or closed,
    or while the case waits on the resident (its clock stopped)."""
    if stage in (Stage.RESOLVED, Stage.CLOSED) or paused:
        return None
    if not answered and respond_due is not None:
        return respond_due
    return resolve_due


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite has no time zones, PostgreSQL does.

    One representation on both back ends keeps comparisons and index order identical.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(NAIVE_TIME)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Building(Base):
    __tablename__ = "buildings"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    departments: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Resident(Base):
    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="ru")
    phone: Mapped[str | None] = mapped_column(String(32))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    apartment: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Identity(Base):
    """One way of reaching a resident; a person can have several (Telegram and email)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Incident(Base):
    """A building-wide problem that several residents reported as separate cases."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    category: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_open_deadline", "next_deadline"),
        # A new building-wide report looks for an open one of the same kind received within
        # the incident window: a short range of this index, read in order until one qualifies
        # (with the stage in the index instead, every open case of the building and category
        # was read and sorted for every message). Only building-wide cases can be peers, so
        # only they are in it: most cases are one flat's, and an entry each would cost their
        # commit a page. The query must spell the condition out literally to use it.
        Index("ix_cases_incident_peer", "building_id", "category", "received_at",
              sqlite_where=BUILDING_WIDE, postgresql_where=BUILDING_WIDE),
        _sparse_index("ix_cases_incident_id", "incident_id"),  # most cases join no incident
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16), index=True)
    department: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    apartment: Mapped[str | None] = mapped_column(String(32))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    manual_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(Text)
    # When the escalation pass next looks at the case; NULL when nothing is due (closed,
    # paused) or everyone has been told. Not when the case is due: that is ``due`` below.
    next_deadline: Mapped[datetime | None]
    respond_due: Mapped[datetime | None]
    resolve_due: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    linked_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    received_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    @hybrid_property
    def due(self) -> datetime | None:
        """When the case is really due (:func:`stage_due`), for lists that put the most
        overdue first. ``next_deadline`` is not that: it is when the escalation pass next
        looks at the case, which the pass moves on (to the office's opening for a case that
        can wait the night, a step later at each level, to none after the last one)."""
        return stage_due(self.stage, paused=self.paused_at is not None,
                         answered=self.first_response_at is not None,
                         respond_due=self.respond_due, resolve_due=self.resolve_due)

    @due.inplace.expression
    @classmethod
    def _due_expression(cls) -> ColumnElement[datetime | None]:
        return when(
            (or_(cls.stage.in_((Stage.RESOLVED, Stage.CLOSED)), cls.paused_at.is_not(None)),
             null()),
            (and_(cls.first_response_at.is_(None), cls.respond_due.is_not(None)),
             cls.respond_due),
            else_=cls.resolve_due)


class Message(Base):
    """The conversation on a case in both directions, and inbound messages that opened none."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_messages_channel_ext"),
        _sparse_index("ix_messages_burst_key", "burst_key"),  # mail and staff notes have none
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(512))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    raw_ref: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Messages sent together (a Telegram album, text then photos) share a key and one case.
    burst_key: Mapped[str | None] = mapped_column(String(200))
    # What an incoming letter answers (its In-Reply-To, else its first reference): a letter
    # that reads like an earlier one is that one sent again only if it answers the same thing
    # ("Да" to one staff question and "Да" to the next are two answers).
    reply_to: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime]


class Event(Base):
    """Append-only audit trail: who did what to a case, and when."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class OutboxItem(Base):
    """A message to deliver, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        # The hourly limit on automatic messages counts a recipient's recent rows on every
        # inbound mail: without it that count scans the whole outbox history. It covers the
        # count's other filters too: they are stored after the payload, so reading them from
        # the row meant reading the payload's overflow pages for every recent message.
        Index("ix_outbox_rate_limit", "recipient", "created_at", "automatic", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    purpose: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class Correction(Base):
    """A staff member overruling the classifier: the raw material for improving the rules."""

    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    axis: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[str] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(String(32))
    rules: Mapped[list[Any]] = mapped_column(default=list)
    at: Mapped[datetime]


class Counter(Base):
    """Gap-tolerant sequences (case numbers) that work the same on SQLite and PostgreSQL."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class LinkCode(Base):
    """One-time code that joins a resident's email and Telegram identities."""

    __tablename__ = "link_codes"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    expires_at: Mapped[datetime]


class Quarantine(Base):
    """Input that could not be processed: kept whole, retried by ``domovoy requeue``."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(300))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class ChannelHealth(Base):
    """What ``domovoy status`` shows: each channel's last poll and last error, as a sentence."""

    __tablename__ = "channel_health"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_poll_at: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
