"""A case's life after its first answer, as an audit of the office's promises found it: a
reopened case gets a fresh promise and is watched again, time spent waiting on the resident is
given back however the wait ends, new labels keep the clock's start, an incident is several
residents told once each and pinged about once a level, and nobody is pinged about a case twice
or after leaving the staff."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domovoy.app import App
from tests.conftest import RecordingSender
from tests.helpers import LEAK, OUTAGE, mail, tg_message
from workflow.cases import NotAllowed
from workflow.clock import ManualClock
from workflow.models import Case, Event, Incident, OutboxItem, Staff
from workflow.settings import SlaConfig, WorkingDays
from workflow.sla import SlaPolicy
from workflow.stages import TransitionError

IVAN, MARIA = 1001, 1002  # staff; the plumbing and electric head


async def case_of(app: App, number: str) -> Case:
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
    assert case is not None
    return case


async def opened(app: App, clock: ManualClock, user: int = 901, text: str = "Течёт кран"
                 ) -> str:
    result = await app.intake.ingest(tg_message(user, text, clock.now(), preset=LEAK))
    assert result.case_number
    return result.case_number


async def pings(app: App) -> list[tuple[int | None, str]]:
    async with app.wf.sessions() as s:
        return [(o.case_id, o.recipient) for o in await s.scalars(
            select(OutboxItem).where(OutboxItem.purpose == "escalation").order_by(OutboxItem.id))]


async def escalate_fully(app: App, clock: ManualClock) -> None:
    for _ in range(4):
        clock.advance(timedelta(days=8))
        await app.escalator.run_pass()


# --- reopening --------------------------------------------------------------------------------


async def test_a_staff_reopen_makes_a_fresh_promise_and_is_watched_again(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    number = await opened(app, clock)
    await app.cases.act(number, IVAN, "take")
    await escalate_fully(app, clock)
    await app.cases.act(number, IVAN, "resolve", "Заменили прокладку")
    clock.advance(timedelta(days=1))
    await app.cases.act(number, IVAN, "reopen", "Снова течёт")
    case = await case_of(app, number)
    assert case.escalation_level == 0 and case.resolved_at is None
    assert case.next_deadline is not None and case.next_deadline > clock.now()
    await app.outbox.deliver_due()
    [notice] = [i for i in recorder.sent if i.purpose == "stage" and "Снова течёт" in i.text]
    assert (case.resolve_due.astimezone(app.wf.sla.tz).strftime("%d.%m.%Y")  # type: ignore[union-attr]
            in notice.text)
    before = len(await pings(app))
    clock.advance(timedelta(days=8))
    assert (await app.escalator.run_pass()).escalated == 1
    assert len(await pings(app)) > before


async def test_in_progress_on_a_resolved_case_reopens_it_properly(
        app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    await app.cases.act(number, IVAN, "resolve", "Готово")
    clock.advance(timedelta(days=20))
    await app.cases.act(number, IVAN, "progress")
    case = await case_of(app, number)
    assert (case.stage, case.resolved_at) == ("investigating", None)
    assert case.next_deadline is not None and case.next_deadline > clock.now()


async def test_a_case_closed_unresolved_counts_no_resolution(
        app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    await app.cases.act(number, IVAN, "close", "Дубль A-1000")
    case = await case_of(app, number)
    assert case.closed_at is not None and case.resolved_at is None


async def test_take_on_a_closed_case_is_refused(app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    await app.cases.act(number, IVAN, "close", "Дубль")
    with pytest.raises(TransitionError):
        await app.cases.act(number, 1003, "take")
    assert (await case_of(app, number)).assignee_id is None


# --- waiting on the resident ------------------------------------------------------------------


async def test_resolving_while_waiting_on_the_resident_gives_the_wait_back(
        app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    due = (await case_of(app, number)).resolve_due
    await app.cases.act(number, IVAN, "need_info", "Какой этаж?")
    clock.advance(timedelta(days=6))  # the resident answered by phone
    await app.cases.act(number, IVAN, "resolve", "Сделано")
    case = await case_of(app, number)
    assert due is not None and case.resolve_due == due + timedelta(days=6)
    assert case.resolved_at is not None and case.resolved_at <= case.resolve_due


async def test_a_second_question_keeps_the_first_ones_wait(
        app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    due = (await case_of(app, number)).resolve_due
    await app.cases.act(number, IVAN, "need_info", "Какой этаж?")
    clock.advance(timedelta(days=2))
    await app.cases.act(number, IVAN, "need_info", "И подъезд?")
    clock.advance(timedelta(days=1))
    await app.cases.act(number, IVAN, "progress")  # staff resume: answered by phone
    case = await case_of(app, number)
    assert due is not None and case.resolve_due == due + timedelta(days=3)
    assert case.paused_at is None and case.next_deadline == case.resolve_due


async def test_a_plain_chat_answer_to_a_question_restarts_the_clock(
        app: App, clock: ManualClock) -> None:
    number = await opened(app, clock, user=902)
    await app.cases.act(number, IVAN, "need_info", "На каком вы этаже?")
    clock.advance(timedelta(hours=2))
    result = await app.intake.ingest(tg_message(902, "Пятый этаж, квартира 12", clock.now()))
    assert result.case_number == number
    case = await case_of(app, number)
    assert case.paused_at is None and case.next_deadline is not None


# --- new labels -------------------------------------------------------------------------------


async def test_new_labels_keep_the_reopened_clock_and_watch_it_again(
        app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    await app.cases.act(number, IVAN, "take")
    await escalate_fully(app, clock)
    await app.cases.act(number, IVAN, "resolve", "Готово")
    await app.cases.act(number, IVAN, "reopen", "Снова")
    reopened = clock.now()
    await app.cases.reclassify(number, "staff", {"urgency": "high"}, IVAN)
    case = await case_of(app, number)
    _, resolve = app.wf.sla.dues(case.kind, "high", reopened)
    assert case.resolve_due == resolve and case.resolve_due > clock.now()
    assert case.escalation_level == 0


# --- incidents --------------------------------------------------------------------------------


async def test_one_resident_writing_twice_is_no_incident(app: App, clock: ManualClock) -> None:
    first = await app.intake.ingest(tg_message(910, "Нет света во всём доме", clock.now(),
                                               preset=OUTAGE))
    clock.advance(timedelta(minutes=30))
    again = await app.intake.ingest(tg_message(910, "Света так и нет во всём доме",
                                               clock.now(), preset=OUTAGE))
    for result in (first, again):
        assert result.case_number
        assert (await case_of(app, result.case_number)).incident_id is None


async def incident(app: App, clock: ManualClock, users: list[int]) -> list[str]:
    numbers = []
    for user in users:
        result = await app.intake.ingest(tg_message(user, "Нет света во всём доме",
                                                    clock.now(), preset=OUTAGE))
        assert result.case_number
        numbers.append(result.case_number)
        clock.advance(timedelta(minutes=5))
    return numbers


async def test_resolving_an_incident_tells_each_resident_once_and_closes_it(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    first, _, second = await incident(app, clock, [920, 921, 920])
    await app.cases.act(first, MARIA, "resolve", "Свет дали")
    await app.outbox.deliver_due()
    told = [i.recipient for i in recorder.sent if i.purpose == "resolved"]
    assert sorted(told) == ["920", "921"]
    await app.cases.act(second, MARIA, "close", "Закрыто")
    case = await case_of(app, first)
    async with app.wf.sessions() as s:
        row = await s.get_one(Incident, case.incident_id)
    assert row.closed_at == clock.now()


async def test_an_incident_is_one_ping_a_level_however_many_reported_it(
        app: App, clock: ManualClock) -> None:
    await incident(app, clock, [930, 931, 932, 933, 934])
    clock.advance(timedelta(days=1))
    await app.escalator.run_pass()
    assert len(await pings(app)) == 1  # untaken: the head, once


async def test_a_report_nobody_could_be_told_of_is_resolved_with_its_incident(
        app: App, clock: ManualClock) -> None:
    [first, _] = await incident(app, clock, [940, 941])
    unknown = await app.intake.ingest(mail(None, "Нет света во всём доме", clock.now()))
    assert unknown.case_number
    async with app.wf.sessions.begin() as s:
        incident_id = (await s.scalar(select(Case.incident_id).where(Case.number == first)))
        await s.execute(update(Case).where(Case.number == unknown.case_number)
                        .values(incident_id=incident_id, category="electrical"))
    await app.cases.act(first, MARIA, "resolve", "Свет дали")
    assert (await case_of(app, unknown.case_number)).stage == "resolved"


# --- who hears ------------------------------------------------------------------------------


async def test_a_former_staff_member_is_passed_over_and_cannot_be_assigned(
        app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    await app.cases.act(number, IVAN, "take")
    async with app.wf.sessions.begin() as s:
        await s.execute(update(Staff).where(Staff.telegram_user_id == IVAN).values(active=False))
        maria = await s.scalar(select(Staff.id).where(Staff.telegram_user_id == MARIA))
    clock.advance(timedelta(days=8))
    await app.escalator.run_pass()
    assert [r for _, r in await pings(app)] == [f"staff:{maria}"]
    with pytest.raises(NotAllowed, match="no longer"):
        await app.cases.assign(number, MARIA, "@ivan")


async def test_a_head_who_took_the_case_hears_of_it_once(app: App, clock: ManualClock) -> None:
    number = await opened(app, clock)
    await app.cases.act(number, MARIA, "take")
    for _ in range(3):
        clock.advance(timedelta(days=8))
        await app.escalator.run_pass()
    recipients = [r for _, r in await pings(app)]
    assert len(recipients) == len(set(recipients)) and "managers" in recipients
    async with app.wf.sessions() as s:
        notes = [e.note for e in await s.scalars(select(Event).where(
            Event.action == "escalated"))]
    assert len(notes) == 2  # the head, then the managers: no level telling nobody new


# --- the calendar -----------------------------------------------------------------------------


def test_a_transferred_working_saturday_counts() -> None:
    """1 November 2025 was a working Saturday in Russia: "within 1 working day" of a Friday
    letter ends that Saturday, not on Monday."""
    config = SlaConfig.model_validate({"extra_workdays": ["2025-11-01"]})
    policy = SlaPolicy(config, "Europe/Moscow")
    friday = datetime.fromisoformat("2025-10-31T10:00:00+03:00")
    assert policy._after(friday, WorkingDays(1)).astimezone(policy.tz).date() == date(2025, 11, 1)
    plain = SlaPolicy(SlaConfig(), "Europe/Moscow")
    assert plain._after(friday, WorkingDays(1)).astimezone(plain.tz).date() == date(2025, 11, 3)


async def test_a_case_the_resident_reopened_escalates_again_without_stopping_the_pass(
        app: App, clock: ManualClock) -> None:
    """Its pings were keyed by case and level alone: the second climb's first ping collided
    with the first climb's, and every pass failed on it, holding up all escalations."""
    first = await app.intake.ingest(mail("ivan@example.ru", "Течёт кран на кухне, кв 5",
                                         clock.now()))
    assert first.case_number
    await app.cases.act(first.case_number, IVAN, "take")
    await escalate_fully(app, clock)
    await app.cases.act(first.case_number, IVAN, "resolve", "Готово")
    clock.advance(timedelta(hours=1))
    again = await app.intake.ingest(mail("ivan@example.ru", "Не починили, опять течёт",
                                         clock.now(), subject=f"Re: [{first.case_number}]"))
    assert again.action == "reopened"
    clock.advance(timedelta(days=8))
    assert (await app.escalator.run_pass()).pings == 1


async def test_a_case_resolved_while_a_pass_runs_keeps_no_deadline_on_postgresql(
        pg_app: App, clock: ManualClock) -> None:
    """The pass reads the due cases; a staff member resolves one of them before the pass
    writes. Without a lock the pass wrote its stale level and deadline over the resolution, and
    the resolved case climbed on to the managers; now the resolution waits for the pass."""
    app = pg_app
    number = await opened(app, clock, user=960)
    await app.cases.act(number, IVAN, "take")
    clock.advance(timedelta(days=8))
    read, go_on = asyncio.Event(), asyncio.Event()
    targets = app.escalator._targets

    async def after_reading(session: AsyncSession) -> Any:
        read.set()
        await go_on.wait()
        return await targets(session)

    app.escalator._targets = after_reading  # type: ignore[method-assign]
    passing = asyncio.create_task(app.escalator.run_pass())
    await read.wait()
    resolving = asyncio.create_task(app.cases.act(number, IVAN, "resolve", "Готово"))
    await asyncio.sleep(0.3)  # the resolution is under way, waiting on the pass's lock
    go_on.set()
    await passing
    await resolving
    case = await case_of(app, number)
    assert (case.stage, case.next_deadline) == ("resolved", None)


def test_a_pause_gives_a_working_day_clock_whole_working_days_back() -> None:
    """Waiting on the resident from Friday evening to Monday morning took no working day: the
    complaint's "by 23:59 of the tenth working day" stays (it moved to 14:59 three days later).
    From Monday to Wednesday it took Tuesday: one working day more, still by 23:59."""
    policy = SlaPolicy(SlaConfig(), "Europe/Moscow")
    msk = policy.tz
    received = datetime(2026, 1, 13, 10, 0, tzinfo=msk)
    case = Case(kind="complaint", urgency="normal", first_response_at=received)
    case.respond_due, case.resolve_due = policy.dues("complaint", "normal", received)
    due = case.resolve_due
    policy.shift(case, datetime(2026, 1, 16, 18, 0, tzinfo=msk),
                 datetime(2026, 1, 19, 9, 0, tzinfo=msk))
    assert case.resolve_due == due
    policy.shift(case, datetime(2026, 1, 19, 10, 0, tzinfo=msk),
                 datetime(2026, 1, 21, 10, 0, tzinfo=msk))
    moved = case.resolve_due.astimezone(msk)
    assert (moved.date(), moved.hour, moved.minute) == (date(2026, 1, 28), 23, 59)
    assert due.astimezone(msk).date() == date(2026, 1, 27)
