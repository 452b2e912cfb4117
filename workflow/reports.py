"""Managers' report: volumes, response times, SLA compliance, recurring problems, ratings.

Computed from the cases table with a handful of aggregate queries, so it runs on the live
database without a warehouse.

A report covers whole days in the office's time zone (:func:`report_period`), so its figures
match a journal kept by day. Each figure counts the cases it is about:

- volumes, first responses, building incidents and recurring problems: cases *received* in
  the period;
- resolutions, their median time and SLA compliance: cases *resolved* in the period, wherever
  they were received, and cases still open past their resolution deadline at its end. A late
  case is a breach in every report until it is resolved, and then counts as late in the report
  of the week it was resolved: it can never drop out unseen;
- residents' ratings: those *given* in the period, unless the case was reopened after them
  (the job they scored did not hold);
- open and overdue: at the moment the report is made.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, literal, not_, or_, select
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.context import Workflow
from workflow.models import Building, Case, Event, Feedback, Staff
from workflow.notify import Notifier
from workflow.stages import OPEN_STAGES, Stage


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
    # open cases past their answer deadline (not answered yet) or their resolution deadline
    overdue_now: int = 0
    median_first_response_h: float | None = None
    median_resolution_h: float | None = None
    resolved: int = 0
    resolved_in_time: int = 0
    # still open at the end of the period, past the resolution deadline: breaches too
    overdue_unresolved: int = 0
    # closed in the period without being resolved (duplicates, withdrawn): no resolution,
    # shown apart so that closing cases cannot pass for doing them
    closed_unresolved: int = 0
    incidents: int = 0
    recurring: list[tuple[str, str, int]] = field(default_factory=list)
    ratings: int = 0
    mean_rating: float | None = None

    @property
    def last_moment(self) -> datetime:
        """The period's last instant, the end managers read: "до 18.01 23:59", where the
        exclusive bound "19.01 00:00" reads as if Monday were in last week's report."""
        return self.until - timedelta(microseconds=1)

    @property
    def sla_compliance(self) -> float | None:
        """The share of deadlines met among the cases whose outcome the period settled."""
        judged = self.resolved + self.overdue_unresolved
        return self.resolved_in_time / judged if judged else None


def report_period(now: datetime, timezone: str, days: int) -> tuple[datetime, datetime]:
    """The ``days`` whole days in the office's time zone before today, as UTC bounds: a daily
    report is yesterday's calendar day, and a report of whole weeks (7, 14… days) ends at the
    latest Monday 00:00, so the Monday report is last week's Monday to Sunday whenever it runs.
    Rolling 24-hour windows ending when the report happened to run matched no journal."""
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    end = today - timedelta(days=today.weekday()) if days % 7 == 0 else today
    start = end - timedelta(days=days)
    return (datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC),
            datetime.combine(end, time(0), tzinfo=tz).astimezone(UTC))


def _hours(a: datetime | None, b: datetime | None) -> float | None:
    return (b - a).total_seconds() / 3600 if a and b else None


def _at(moment: datetime) -> ColumnElement[datetime]:
    """A time as the database compares it with the case columns (naive UTC on SQLite)."""
    return literal(moment, Case.received_at.type)


def _overdue(moment: datetime, *, answer_too: bool) -> ColumnElement[bool]:
    """An open case past its resolution deadline at ``moment`` (``answer_too``: or past its
    answer deadline, not answered yet). Its clock stands where it stopped while the case waits
    on the resident. Read from the dues, not from ``next_deadline``: the escalation pass moves
    that on at every level and clears it after the last one."""
    clock = when((and_(Case.paused_at.is_not(None), Case.paused_at < _at(moment)),
                  Case.paused_at), else_=_at(moment))
    late = Case.resolve_due < clock
    if answer_too:
        late = or_(late, and_(Case.first_response_at.is_(None), Case.respond_due < clock))
    return and_(Case.stage.in_(sorted(OPEN_STAGES)), late)


# A resolution is a move to "resolved". A case closed straight from an open stage (a duplicate,
# a withdrawal) is none, though versions before the report read it had stamped its resolved_at
# with the closing time: the event of the move is what tells them apart.
_RESOLUTION = and_(Case.resolved_at.is_not(None), exists().where(
    Event.case_id == Case.id, Event.to_stage == Stage.RESOLVED, Event.at == Case.resolved_at))

# Staff answering a case: taking it or putting it in progress, resolving it, replying. Read from
# the events too, because a reopen by the resident clears ``first_response_at`` to start the
# answer clock again, and the first answer, given once, would be lost to the report.
_RESPONSE = and_(Event.actor.like("staff:%"), or_(
    Event.to_stage.in_((Stage.INVESTIGATING, Stage.RESOLVED)), Event.action == "staff_reply"))

# A rating scores the job it was given for; a reopen after it says that job did not hold.
_REOPENED_SINCE_RATED = exists().where(
    Event.case_id == Feedback.case_id, Event.at > Feedback.at,
    Event.from_stage.in_((Stage.RESOLVED, Stage.CLOSED)), Event.to_stage.in_(sorted(OPEN_STAGES)))


async def build_report(session: AsyncSession, since: datetime, until: datetime,
                       recurring_min: int = 3, *, now: datetime | None = None) -> Report:
    """The report for ``[since, until)``; ``now`` is when it is made, which the open and
    overdue counts are as of (``until`` unless given)."""
    now = now or until
    rep = Report(since=since, until=until)
    in_period = (Case.received_at >= since, Case.received_at < until)
    for column, target in ((Case.kind, rep.by_kind), (Case.category, rep.by_category),
                           (Case.urgency, rep.by_urgency), (Case.channel, rep.by_channel)):
        for value, count in (await session.execute(
                select(column, func.count()).where(*in_period).group_by(column))).all():
            target[value] = count
    rep.total = sum(rep.by_kind.values())
    rep.open_now = await session.scalar(select(func.count()).select_from(Case).where(
        Case.stage.in_(sorted(OPEN_STAGES)))) or 0
    rep.overdue_now = await session.scalar(select(func.count()).select_from(Case).where(
        _overdue(now, answer_too=True))) or 0
    first_answer = (select(func.min(Event.at)).where(Event.case_id == Case.id, _RESPONSE)
                    .correlate(Case).scalar_subquery())
    rows = (await session.execute(select(
        Case.received_at, Case.first_response_at, first_answer.label("answered_at"),
        Case.incident_id).where(*in_period))).all()
    responses = [h for r in rows if (h := _hours(r.received_at, min(
        (t for t in (r.first_response_at, r.answered_at) if t is not None), default=None)))
        is not None]
    rep.median_first_response_h = statistics.median(responses) if responses else None
    rep.incidents = len({r.incident_id for r in rows if r.incident_id})
    done = (await session.execute(select(Case.received_at, Case.resolved_at, Case.resolve_due)
                                  .where(Case.resolved_at >= since, Case.resolved_at < until,
                                         _RESOLUTION))).all()
    resolutions = [h for r in done if (h := _hours(r.received_at, r.resolved_at)) is not None]
    rep.median_resolution_h = statistics.median(resolutions) if resolutions else None
    rep.resolved = len(done)
    rep.resolved_in_time = sum(1 for r in done if r.resolve_due and r.resolved_at <= r.resolve_due)
    rep.overdue_unresolved = await session.scalar(select(func.count()).select_from(Case).where(
        _overdue(until, answer_too=False))) or 0
    rep.closed_unresolved = await session.scalar(select(func.count()).select_from(Case).where(
        Case.stage == Stage.CLOSED, Case.closed_at >= since, Case.closed_at < until,
        not_(_RESOLUTION))) or 0
    per_building = Counter[tuple[str, str]]()
    for code, category, count in (await session.execute(
            select(Building.code, Case.category, func.count())
            .join(Building, Building.id == Case.building_id).where(*in_period)
            .group_by(Building.code, Case.category))).all():
        per_building[(code, category)] = count
    rep.recurring = [(b, c, n) for (b, c), n in per_building.most_common() if n >= recurring_min]
    rated = (await session.execute(select(func.count(Feedback.id), func.avg(Feedback.rating))
                                   .where(Feedback.at >= since, Feedback.at < until,
                                          not_(_REOPENED_SINCE_RATED)))).one()
    rep.ratings = rated[0] or 0
    rep.mean_rating = float(rated[1]) if rated[1] is not None else None
    return rep


async def queue_report(wf: Workflow, days: int = 7) -> Report:
    """The periodic report, to every manager directly and to the managers' chat: the whole
    days before today in office time (the weekly one is last Monday to Sunday)."""
    now = wf.clock.now()
    since, until = report_period(now, wf.settings.timezone, days)
    async with wf.sessions.begin() as session:
        report = await build_report(session, since, until, now=now)
        managers = (await session.scalars(select(Staff.id).where(
            Staff.role == "manager", Staff.active.is_(True)))).all()
        await Notifier(wf).staff(session, None, "report",
                                 key=f"report:{since.isoformat()}:{until.isoformat()}",
                                 recipients=[f"staff:{m}" for m in managers] + ["managers"],
                                 rep=report)
    wf.wake_outbox()
    return report
