"""Overdue cases climb one level at a time: assignee → department head → manager.

The deadline lives on the case (``next_deadline``, indexed); one pass asks the database for
what is due instead of keeping a scheduler job per case, so restarts lose nothing and a
million open cases cost one index range scan.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.context import Workflow
from workflow.models import Case, Event, OutboxItem, Staff, UTCDateTime
from workflow.notify import staff_payload
from workflow.outbox import STAFF_CHANNEL

log = logging.getLogger(__name__)

MAX_LEVEL = 3
LEVEL_NAMES = {1: "assignee", 2: "head", 3: "manager"}


@dataclass(frozen=True)
class EscalationReport:
    escalated: int
    pings: int
    # Due cases that can wait, found outside office hours: held until the office opens.
    held: int = 0


class DueCase(NamedTuple):
    """A due case as the pass reads it: only what a ping shows and routing needs.

    A pass touches thousands of cases. Full ORM objects (identity map, change tracking) cost
    more than the pass itself, and a result row's fields read several times slower than a
    tuple's: the template and the routing read some twenty of them a case.
    """

    id: int
    number: str
    category: str
    urgency: str
    stage: str
    text: str
    apartment: str | None
    building_id: int | None
    assignee_id: int | None
    department: str | None
    escalation_level: int
    respond_due: datetime | None
    resolve_due: datetime | None
    incident_id: int | None


_DUE_COLUMNS = tuple(getattr(Case, field) for field in DueCase._fields)


def due_cases_query(now: datetime, limit: int) -> Select[*tuple[Any, ...]]:
    """The indexed query each pass runs: cases whose next deadline has passed, oldest first."""
    return (select(*_DUE_COLUMNS).where(Case.next_deadline <= now)
            .order_by(Case.next_deadline).limit(limit))


# Cases moving to the same level get the same deadline, so one UPDATE serves many of them
# instead of one statement per case; a chunk of ids stays under the 999 bound parameters
# that SQLite before 3.32 allows.
_ESCALATE = (update(Case).where(Case.id.in_(bindparam("cases", expanding=True)))
             .values(escalation_level=bindparam("level"), next_deadline=bindparam("next")))
_IDS_PER_UPDATE = 900


def _stamp(now: datetime, dialect: Dialect) -> ColumnElement[datetime]:
    """``now`` written into a statement, for the timestamps every row of a batch shares.

    Bound instead, it would go through UTCDateTime and the dialect's date formatting in Python
    for every row and column: 30,000 times in a pass over 10,000 cases, a tenth of its time.
    """
    text = literal(now, UTCDateTime()).compile(dialect=dialect,
                                              compile_kwargs={"literal_binds": True})
    return literal_column(str(text), UTCDateTime())


class Escalator:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf

    async def run_pass(self, batch: int = 5000) -> EscalationReport:
        """Escalate every overdue case once; batches keep transactions short."""
        escalated = pings = held = 0
        while True:
            async with self.wf.sessions.begin() as session:
                n, h, p = await self._batch(session, batch)
            escalated += n - h
            held += h
            pings += p
            if n < batch:
                break
        if pings:
            self.wf.wake_outbox()
        if escalated or held:
            log.info("deadline pass: %d case(s) escalated, %d ping(s), %d held until the "
                     "office opens", escalated, pings, held)
        return EscalationReport(escalated, pings, held)

    async def _targets(self, session: AsyncSession) -> _Targets:
        staff = (await session.scalars(select(Staff).where(Staff.active.is_(True)))).all()
        heads: dict[str, Staff] = {}
        for d in self.wf.settings.departments:
            if d.head is not None:
                head = next((s for s in staff if s.telegram_user_id == d.head), None)
                if head is not None:
                    heads[d.code] = head
        managers = [s for s in staff if s.role == "manager"]
        return _Targets(heads, managers, {s.id: s for s in staff})

    async def _batch(self, session: AsyncSession, batch: int) -> tuple[int, int, int]:
        """(due cases read, of them held for office hours, pings queued)."""
        now = self.wf.clock.now()
        # Core on the session's connection, reads and writes alike: thousands of rows, no ORM
        # bookkeeping.
        conn = await session.connection()
        # On PostgreSQL the due rows are locked for the pass, and rows a staff member is
        # resolving right now are left to the next pass: a case resolved while the pass runs
        # must not be escalated, nor get its deadline back. (SQLite writes one at a time.)
        query = due_cases_query(now, batch).with_for_update(skip_locked=True)
        due = [DueCase._make(row) for row in await conn.execute(query)]
        if not due:
            return 0, 0, 0
        moves: dict[tuple[int, datetime | None], list[int]] = defaultdict(list)
        # Outside office hours a case that can wait gets the opening as its next deadline
        # instead of a ping: it is found again then, and is no less overdue in reports or
        # staff's lists, which read its dues (``Case.due``).
        cases, opening = due, self.wf.sla.held_until(now)
        if opening is not None:
            any_hour = self.wf.settings.sla.ping_any_hour
            cases = [c for c in due if c.urgency in any_hour]
            for c in due:
                if c.urgency not in any_hour:
                    moves[c.escalation_level, opening].append(c.id)
        targets = await self._targets(session)
        step = self.wf.settings.sla.escalation_step
        lang = self.wf.settings.default_language
        template = self.wf.renderer.prepare("escalation", lang)
        events: list[dict[str, object]] = []
        outbox: list[dict[str, object]] = []
        # One ping per incident and level: thirty residents reporting one outage are one
        # problem for the head, with the number of reports on it.
        reports: Counter[int] = Counter(c.incident_id for c in cases if c.incident_id)
        pinged: set[tuple[int, int]] = set()
        for case in cases:
            level, recipients = self._next_level(case, targets)
            if level > MAX_LEVEL:
                # Everyone has been told; it stays overdue in reports.
                moves[case.escalation_level, None].append(case.id)
                continue
            moves[level, now + step if level < MAX_LEVEL else None].append(case.id)
            events.append({"case_id": case.id, "actor": "system", "action": "escalated",
                           "note": f"level {level} ({LEVEL_NAMES[level]}): "
                                   + (", ".join(recipients) or "nobody configured")})
            if case.incident_id is not None:
                if (case.incident_id, level) in pinged:
                    continue
                pinged.add((case.incident_id, level))
            rendered = template.render(
                case=case, building=self.wf.building(case.building_id),
                level=level, level_name=LEVEL_NAMES[level], now=now, manual=False, html=False,
                assignee=targets.active.get(case.assignee_id) if case.assignee_id else None,
                reports=reports[case.incident_id] if case.incident_id else 1)
            # An incident's ping is keyed by the incident: its reports falling due in
            # different passes still make one ping a level. A case's is keyed by its promise
            # too: reopened, it climbs again and its pings are new ones.
            promise = int(case.resolve_due.timestamp()) if case.resolve_due else "-"
            about = f"incident-{case.incident_id}" if case.incident_id else f"{case.id}:{promise}"
            for r in recipients:
                outbox.append({
                    "case_id": case.id, "channel": STAFF_CHANNEL, "recipient": r,
                    "purpose": "escalation", "automatic": False, "state": "pending",
                    "attempts": 0, "idempotency_key": f"esc:{about}:{level}:{r}",
                    "payload": staff_payload(case.id, case.number, rendered.subject,
                                             rendered.text, lang, level),
                })
        for (level, deadline), ids in moves.items():
            for start in range(0, len(ids), _IDS_PER_UPDATE):
                await conn.execute(_ESCALATE, {"cases": ids[start:start + _IDS_PER_UPDATE],
                                               "level": level, "next": deadline})
        stamp = _stamp(now, conn.dialect)
        if events:
            await conn.execute(insert(Event).values(at=stamp), events)
        if outbox:
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            await conn.execute(
                dialect_insert(OutboxItem).values(next_attempt_at=stamp, created_at=stamp)
                .on_conflict_do_nothing(index_elements=["idempotency_key"]), outbox)
        return len(due), len(due) - len(cases), len(outbox)

    @classmethod
    def _next_level(cls, case: DueCase, targets: _Targets) -> tuple[int, list[str]]:
        """The level the case climbs to and who hears of it. A level that would tell nobody
        new is passed over (a head who took the case himself, a department with no head, a
        case nobody took): each person hears of a case once, and the next one a step sooner."""
        level = case.escalation_level + 1
        if level == 1:  # nobody told yet: the first level always tells someone new
            return level, cls._recipients(case, level, targets)
        told = {r for before in range(1, level) for r in cls._recipients(case, before, targets)}
        while level <= MAX_LEVEL:
            recipients = cls._recipients(case, level, targets)
            if not set(recipients) <= told:
                return level, recipients
            level += 1
        return level, []

    @staticmethod
    def _recipients(case: DueCase, level: int, targets: _Targets) -> list[str]:
        # a former staff member (removed from the config) is no one to tell: straight up
        if level == 1 and case.assignee_id is not None and case.assignee_id in targets.active:
            return [f"staff:{case.assignee_id}"]
        if level <= 2 and case.department in targets.heads:
            return [f"staff:{targets.heads[case.department].id}"]
        return [f"staff:{m.id}" for m in targets.managers] + ["managers"]


class _Targets(NamedTuple):
    heads: dict[str, Staff]
    managers: list[Staff]
    # active staff by id: who can still be told, and the name a ping gives the assignee
    active: dict[int, Staff]
