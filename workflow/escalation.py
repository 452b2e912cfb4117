"""Overdue cases climb one level at a time: assignee → department head → manager.

The deadline lives on the case (``next_deadline``, indexed); one pass asks the database for
what is due instead of keeping a scheduler job per case, so restarts lose nothing and a
million open cases cost one index range scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.context import Workflow
from workflow.models import Case, Event, OutboxItem, Staff
from workflow.notify import staff_payload
from workflow.outbox import STAFF_CHANNEL

MAX_LEVEL = 3
LEVEL_NAMES = {1: "assignee", 2: "head", 3: "manager"}


@dataclass(frozen=True)
class EscalationReport:
    escalated: int
    pings: int


# Only what a ping shows and routing needs: a pass touches thousands of cases, and full ORM
# objects (identity map, change tracking) cost more than the pass itself.
_DUE_COLUMNS = (Case.id, Case.number, Case.category, Case.urgency, Case.stage, Case.text,
                Case.apartment, Case.building_id, Case.assignee_id, Case.department,
                Case.escalation_level, Case.respond_due, Case.resolve_due)


def due_cases_query(now: datetime, limit: int) -> Select[*tuple[Any, ...]]:
    """The indexed query each pass runs: cases whose next deadline has passed, oldest first."""
    return (select(*_DUE_COLUMNS).where(Case.next_deadline <= now)
            .order_by(Case.next_deadline).limit(limit))


_ESCALATE = (update(Case).where(Case.id == bindparam("case"))
             .values(escalation_level=bindparam("level"), next_deadline=bindparam("next")))


class Escalator:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf

    async def run_pass(self, batch: int = 5000) -> EscalationReport:
        """Escalate every overdue case once; batches keep transactions short."""
        escalated = pings = 0
        while True:
            async with self.wf.sessions.begin() as session:
                n, p = await self._batch(session, batch)
            escalated += n
            pings += p
            if n < batch:
                break
        if pings:
            self.wf.wake_outbox()
        return EscalationReport(escalated, pings)

    async def _targets(self, session: AsyncSession) -> tuple[dict[str, Staff], list[Staff]]:
        staff = (await session.scalars(select(Staff).where(Staff.active.is_(True)))).all()
        heads: dict[str, Staff] = {}
        for d in self.wf.settings.departments:
            if d.head is not None:
                head = next((s for s in staff if s.telegram_user_id == d.head), None)
                if head is not None:
                    heads[d.code] = head
        managers = [s for s in staff if s.role == "manager"]
        return heads, managers

    async def _batch(self, session: AsyncSession, batch: int) -> tuple[int, int]:
        now = self.wf.clock.now()
        rows = (await session.execute(due_cases_query(now, batch))).all()
        if not rows:
            return 0, 0
        heads, managers = await self._targets(session)
        step = self.wf.settings.sla.escalation_step
        lang = self.wf.settings.default_language
        updates: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        outbox: list[dict[str, object]] = []
        for case in rows:
            level = case.escalation_level + 1
            if level > MAX_LEVEL:
                # Everyone has been told; it stays overdue in reports.
                updates.append({"case": case.id, "level": case.escalation_level, "next": None})
                continue
            updates.append({"case": case.id, "level": level,
                            "next": now + step if level < MAX_LEVEL else None})
            recipients = self._recipients(case, level, heads, managers)
            events.append({"case_id": case.id, "at": now, "actor": "system",
                           "action": "escalated",
                           "note": f"level {level} ({LEVEL_NAMES[level]}): "
                                   + (", ".join(recipients) or "nobody configured")})
            rendered = self.wf.renderer.render(
                "escalation", lang, case=case, building=self.wf.building(case.building_id),
                level=level, level_name=LEVEL_NAMES[level], now=now, manual=False)
            for r in recipients:
                outbox.append({
                    "case_id": case.id, "channel": STAFF_CHANNEL, "recipient": r,
                    "purpose": "escalation", "automatic": False, "state": "pending",
                    "attempts": 0, "next_attempt_at": now, "created_at": now,
                    "idempotency_key": f"esc:{case.id}:{level}:{r}",
                    "payload": staff_payload(case.id, case.number, rendered.subject,
                                             rendered.text, lang, level),
                })
        # Core executemany on the session's connection: thousands of rows, no ORM bookkeeping.
        conn = await session.connection()
        await conn.execute(_ESCALATE, updates)
        if events:
            await conn.execute(insert(Event), events)
        if outbox:
            await conn.execute(insert(OutboxItem), outbox)
        return len(rows), len(outbox)

    @staticmethod
    def _recipients(case: Any, level: int, heads: dict[str, Staff],
                    managers: list[Staff]) -> list[str]:
        if level == 1 and case.assignee_id is not None:
            return [f"staff:{case.assignee_id}"]
        if level <= 2 and case.department in heads:
            return [f"staff:{heads[case.department].id}"]
        return [f"staff:{m.id}" for m in managers] + ["managers"]
