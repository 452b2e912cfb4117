"""Deadlines from the SLA policy, and which one the escalation pass should watch."""

from __future__ import annotations

from datetime import datetime, timedelta

from intake.labels import Kind, Urgency
from workflow.models import Case
from workflow.settings import SlaConfig
from workflow.stages import Stage


class SlaPolicy:
    def __init__(self, config: SlaConfig) -> None:
        self.config = config

    def dues(self, kind: str, urgency: str, start: datetime) -> tuple[datetime, datetime]:
        """(respond by, resolve by) for a case received at ``start``."""
        k = Kind(kind) if kind in (Kind.COMPLAINT, Kind.REQUEST, Kind.INQUIRY) else Kind.REQUEST
        clock = self.config.deadlines[k][Urgency(urgency)]
        return start + clock.respond, start + clock.resolve

    def apply(self, case: Case) -> None:
        """Set the due times for the case's current labels, from when it was received."""
        case.respond_due, case.resolve_due = self.dues(case.kind, case.urgency, case.received_at)
        self.refresh_next(case)

    @staticmethod
    def next_due(stage: str, *, paused: bool, answered: bool, respond_due: datetime | None,
                 resolve_due: datetime | None) -> datetime | None:
        """The deadline that matters now: answer first, then fix; none once resolved or paused."""
        if stage in (Stage.RESOLVED, Stage.CLOSED) or paused:
            return None
        if not answered and respond_due is not None:
            return respond_due
        return resolve_due

    @classmethod
    def refresh_next(cls, case: Case) -> None:
        case.next_deadline = cls.next_due(
            case.stage, paused=case.paused_at is not None,
            answered=case.first_response_at is not None,
            respond_due=case.respond_due, resolve_due=case.resolve_due)

    @staticmethod
    def shift(case: Case, by: timedelta) -> None:
        """Give back the time the clock was paused (waiting on the resident)."""
        if case.respond_due is not None and case.first_response_at is None:
            case.respond_due += by
        if case.resolve_due is not None:
            case.resolve_due += by
