"""Managers' report: volumes, response times, SLA compliance, recurring problems, ratings.

Computed from the cases table with a handful of aggregate queries, so it runs on the live
database without a warehouse.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.context import Workflow
from workflow.models import Building, Case, Feedback, Staff
from workflow.notify import Notifier
from workflow.stages import OPEN_STAGES


@dataclass
class Report:
    since: datetime
    until: datetime
    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_urgency: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    open_now: int = 0
    overdue_now: int = 0
    median_first_response_h: float | None = None
    median_resolution_h: float | None = None
    resolved: int = 0
    resolved_in_time: int = 0
    incidents: int = 0
    recurring: list[tuple[str, str, int]] = field(default_factory=list)
    ratings: int = 0
    mean_rating: float | None = None

    @property
    def sla_compliance(self) -> float | None:
        return self.resolved_in_time / self.resolved if self.resolved else None


def _hours(a: datetime | None, b: datetime | None) -> float | None:
    return (b - a).total_seconds() / 3600 if a and b else None


async def build_report(session: AsyncSession, since: datetime, until: datetime,
                       recurring_min: int = 3) -> Report:
    rep = Report(since=since, until=until)
    in_period = (Case.received_at >= since, Case.received_at < until)
    for column, target in ((Case.kind, rep.by_kind), (Case.category, rep.by_category),
                           (Case.urgency, rep.by_urgency), (Case.channel, rep.by_channel)):
        for value, count in (await session.execute(
                select(column, func.count()).where(*in_period).group_by(column))).all():
            target[value] = count
    rep.total = sum(rep.by_kind.values())
    rep.open_now = await session.scalar(select(func.count()).select_from(Case).where(
        Case.stage.in_(list(OPEN_STAGES)))) or 0
    rep.overdue_now = await session.scalar(select(func.count()).select_from(Case).where(
        Case.next_deadline <= until)) or 0
    rows = (await session.execute(select(
        Case.received_at, Case.first_response_at, Case.resolved_at, Case.resolve_due,
        Case.incident_id).where(*in_period))).all()
    responses = [h for r in rows if (h := _hours(r.received_at, r.first_response_at)) is not None]
    resolutions = [h for r in rows if (h := _hours(r.received_at, r.resolved_at)) is not None]
    rep.median_first_response_h = statistics.median(responses) if responses else None
    rep.median_resolution_h = statistics.median(resolutions) if resolutions else None
    done = [r for r in rows if r.resolved_at is not None]
    rep.resolved = len(done)
    rep.resolved_in_time = sum(1 for r in done if r.resolve_due and r.resolved_at <= r.resolve_due)
    rep.incidents = len({r.incident_id for r in rows if r.incident_id})
    per_building = Counter[tuple[str, str]]()
    for code, category, count in (await session.execute(
            select(Building.code, Case.category, func.count())
            .join(Building, Building.id == Case.building_id).where(*in_period)
            .group_by(Building.code, Case.category))).all():
        per_building[(code, category)] = count
    rep.recurring = [(b, c, n) for (b, c), n in per_building.most_common() if n >= recurring_min]
    rated = (await session.execute(select(func.count(Feedback.id), func.avg(Feedback.rating))
                                   .join(Case, Case.id == Feedback.case_id)
                                   .where(*in_period))).one()
    rep.ratings = rated[0] or 0
    rep.mean_rating = float(rated[1]) if rated[1] is not None else None
    return rep


async def queue_report(wf: Workflow, days: int = 7) -> Report:
    """The periodic report, to every manager directly and to the managers' chat."""
    now = wf.clock.now()
    async with wf.sessions.begin() as session:
        report = await build_report(session, now - timedelta(days=days), now)
        managers = (await session.scalars(select(Staff.id).where(
            Staff.role == "manager", Staff.active.is_(True)))).all()
        await Notifier(wf).staff(session, None, "report", key=f"report:{days}:{now:%Y-%m-%d}",
                                 recipients=[f"staff:{m}" for m in managers] + ["managers"],
                                 rep=report)
    wf.wake_outbox()
    return report
