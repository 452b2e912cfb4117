"""Deadlines from the SLA policy, and which one the escalation pass should watch."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from intake.labels import Kind, Urgency
from workflow.models import Case, stage_due
from workflow.settings import SlaClock, SlaConfig, WorkingDays

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SlaPolicy:
    def __init__(self, config: SlaConfig, timezone: str = "UTC") -> None:
        self.config = config
        self.tz = ZoneInfo(timezone)
        self._workdays = frozenset(_WEEKDAYS.index(d) for d in config.workdays)
        self._holidays = frozenset(config.holidays)
        self._extra_workdays = frozenset(config.extra_workdays)

    def dues(self, kind: str, urgency: str, start: datetime) -> tuple[datetime, datetime]:
        """(respond by, resolve by) for a case received at ``start``."""
        clock = self._clock(kind, urgency)
        return self._after(start, clock.respond), self._after(start, clock.resolve)

    def _clock(self, kind: str, urgency: str) -> SlaClock:
        k = Kind(kind) if kind in (Kind.COMPLAINT, Kind.REQUEST, Kind.INQUIRY) else Kind.REQUEST
        return self.config.deadlines[k][Urgency(urgency)]

    def _after(self, start: datetime, span: timedelta | WorkingDays) -> datetime:
        """``start`` plus a duration, or the end (23:59) of the N-th working day after the day
        of ``start`` in the office's time zone: the reading of "within 10 working days of
        receipt" in Russian and English rules alike (the day of receipt does not count)."""
        if isinstance(span, timedelta):
            return start + span
        day = start.astimezone(self.tz).date()
        left = span.count
        while left:
            day += timedelta(days=1)
            if self._working(day):
                left -= 1
        # 23:59 rather than the next day's 00:00: residents read the date they were promised.
        return datetime.combine(day, time(23, 59), tzinfo=self.tz).astimezone(UTC)

    def apply(self, case: Case) -> None:
        """Set the due times for the case's current labels, from when it was received."""
        case.respond_due, case.resolve_due = self.dues(case.kind, case.urgency, case.received_at)
        self.refresh_next(case)

    def restart(self, case: Case, now: datetime) -> None:
        """A reopened case is a new promise: fresh deadlines from ``now``, nobody pinged yet
        (a case that had reached the managers would otherwise never escalate again), and the
        old resolution and closing forgotten."""
        case.respond_due, case.resolve_due = self.dues(case.kind, case.urgency, now)
        case.escalation_level = 0
        case.resolved_at = case.closed_at = None
        case.paused_at = None

    def relabel(self, case: Case, old_kind: str, old_urgency: str, started: datetime,
                now: datetime) -> None:
        """Deadlines for the case's new labels (it was ``old_kind``/``old_urgency``), its
        clock having ``started`` then (received, or reopened), keeping the time already given
        back for pauses; a deadline moved into the future starts the escalation over, so a
        case once at the managers is watched again."""
        old_respond, old_resolve = self.dues(old_kind, old_urgency, started)
        respond, resolve = self.dues(case.kind, case.urgency, started)
        if case.respond_due is not None:
            respond += case.respond_due - old_respond
        if case.resolve_due is not None:
            resolve += case.resolve_due - old_resolve
        was = case.next_deadline
        case.respond_due, case.resolve_due = respond, resolve
        self.refresh_next(case)
        if case.next_deadline is not None and case.next_deadline > now \
                and case.next_deadline != was:
            case.escalation_level = 0

    @staticmethod
    def next_due(stage: str, *, paused: bool, answered: bool, respond_due: datetime | None,
                 resolve_due: datetime | None) -> datetime | None:
        """The deadline that matters now (:func:`workflow.models.stage_due`): where the
        escalation pass starts watching the case."""
        return stage_due(stage, paused=paused, answered=answered, respond_due=respond_due,
                         resolve_due=resolve_due)

    @classmethod
    def refresh_next(cls, case: Case) -> None:
        case.next_deadline = cls.next_due(
            case.stage, paused=case.paused_at is not None,
            answered=case.first_response_at is not None,
            respond_due=case.respond_due, resolve_due=case.resolve_due)

    def shift(self, case: Case, paused: datetime, now: datetime) -> None:
        """Give back the time the clock was paused (waiting on the resident) from ``paused``
        until ``now``."""
        clock = self._clock(case.kind, case.urgency)
        if case.respond_due is not None and case.first_response_at is None:
            case.respond_due = self._given_back(case.respond_due, clock.respond, paused, now)
        if case.resolve_due is not None:
            case.resolve_due = self._given_back(case.resolve_due, clock.resolve, paused, now)

    def _given_back(self, due: datetime, span: timedelta | WorkingDays, paused: datetime,
                    now: datetime) -> datetime:
        """A clock in hours gets the paused hours back; one in working days gets back the
        whole working days the pause took, and still ends at 23:59: a pause from Friday
        evening to Monday morning took none (it moved "27.01 23:59" to "30.01 14:59")."""
        if isinstance(span, timedelta):
            return due + (now - paused)
        first, last = paused.astimezone(self.tz).date(), now.astimezone(self.tz).date()
        taken = sum(1 for n in range(1, (last - first).days)
                    if self._working(first + timedelta(days=n)))
        return self._after(due, WorkingDays(taken)) if taken else due

    def held_until(self, now: datetime) -> datetime | None:
        """When the office next opens, if ``now`` is outside its hours (None while open, or
        when no hours are set): the escalation pass holds pings that can wait until then."""
        hours = self.config.office_hours
        if hours is None:
            return None
        local = now.astimezone(self.tz)
        day = local.date()
        if self._working(day):
            if hours.opens <= local.time() < hours.closes:
                return None
            if local.time() < hours.opens:
                return datetime.combine(day, hours.opens, tzinfo=self.tz).astimezone(UTC)
        day += timedelta(days=1)
        while not self._working(day):
            day += timedelta(days=1)
        return datetime.combine(day, hours.opens, tzinfo=self.tz).astimezone(UTC)

    def _working(self, day: date) -> bool:
        return day in self._extra_workdays or (
            day.weekday() in self._workdays and day not in self._holidays)
