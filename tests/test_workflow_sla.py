"""Deadlines in working days: the office's weekdays and holidays, in its time zone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from domovoy.app import build_app
from tests.conftest import make_config
from tests.helpers import OUTAGE, tg_message
from workflow.clock import ManualClock
from workflow.models import Case, OutboxItem
from workflow.settings import SlaClock, SlaConfig, WorkingDays, parse_sla_span
from workflow.sla import SlaPolicy

MSK = "Europe/Moscow"


def policy(resolve: str, **sla: object) -> SlaPolicy:
    clock = {"respond": "2h", "resolve": resolve}
    deadlines = {k: {u: clock for u in ("emergency", "high", "normal", "low")}
                 for k in ("request", "complaint", "inquiry")}
    return SlaPolicy(SlaConfig.model_validate({"deadlines": deadlines, **sla}), MSK)


def test_working_days_skip_the_weekend_and_end_with_the_day() -> None:
    # Friday 27 November 2026, 15:00 in Moscow: three working days are Mon, Tue, Wed.
    received = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    respond, resolve = policy("3wd").dues("complaint", "normal", received)
    assert respond == received + timedelta(hours=2)  # hours stay calendar hours
    assert resolve == datetime(2026, 12, 2, 20, 59, tzinfo=UTC)  # Wed 2 Dec, 23:59 Moscow


def test_a_mail_received_on_sunday_night_counts_from_monday() -> None:
    received = datetime(2026, 11, 29, 20, 30, tzinfo=UTC)  # Sun 23:30 Moscow
    assert policy("1wd").dues("request", "low", received)[1] == \
        datetime(2026, 11, 30, 20, 59, tzinfo=UTC)  # the end of Monday


def test_holidays_and_the_office_week_are_configurable() -> None:
    received = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)  # Wednesday
    holidays = [date(2027, 1, d) for d in range(1, 9)]
    _, resolve = policy("2wd", holidays=holidays).dues("complaint", "normal", received)
    assert resolve == datetime(2027, 1, 11, 20, 59, tzinfo=UTC)  # Thu 31 Dec, then Mon 11 Jan
    six_day = policy("2wd", workdays=["mon", "tue", "wed", "thu", "fri", "sat"])
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert six_day.dues("complaint", "normal", friday)[1] == \
        datetime(2026, 11, 30, 20, 59, tzinfo=UTC)  # Saturday counts, Sunday not


def test_spans_parse_as_durations_or_working_days() -> None:
    assert parse_sla_span("10wd") == WorkingDays(10)
    assert parse_sla_span("10d") == timedelta(days=10)
    assert SlaClock(respond="1d", resolve="5wd").resolve == WorkingDays(5)  # type: ignore[arg-type]


async def test_a_case_gets_its_working_day_deadline_and_the_resident_sees_it(
        sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))  # Friday, 15:00 Moscow
    deadlines = {k: {u: {"respond": "2h", "resolve": "3wd"}
                     for u in ("emergency", "high", "normal", "low")}
                 for k in ("request", "complaint", "inquiry")}
    app = await build_app(make_config(sqlite_url, sla={"deadlines": deadlines}), clock=clock)
    try:
        result = await app.intake.ingest(tg_message(1, "Опять нет света во всём доме",
                                                    clock.now(), preset=OUTAGE))
        async with app.wf.sessions() as s:
            case = await s.get_one(Case, result.case_id)
            ack = await s.scalar(select(OutboxItem.payload).where(OutboxItem.purpose == "ack"))
        assert case.resolve_due == datetime(2026, 12, 2, 20, 59, tzinfo=UTC)
        assert ack is not None and "02.12.2026 23:59" in json.dumps(ack, ensure_ascii=False)
    finally:
        await app.close()
