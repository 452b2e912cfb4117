"""Overdue cases escalate one level at a time, each level once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from domovoy.app import App, build_app
from intake.message import PresetLabels
from tests.conftest import RecordingSender, make_config
from tests.helpers import LEAK, tg_message
from workflow import escalation
from workflow.clock import ManualClock
from workflow.models import Case, Event, OutboxItem, Staff


async def escalations(app: App) -> list[str]:
    async with app.wf.sessions() as s:
        return [e.note or "" for e in await s.scalars(
            select(Event).where(Event.action == "escalated").order_by(Event.id))]


async def test_missed_deadline_climbs_assignee_head_manager_once_each(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    opened = await app.intake.ingest(tg_message(801, "Течёт кран", clock.now(), preset=LEAK))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "take")
    # Responded (taken) at once; the resolve deadline is 7 days for a normal request.
    clock.advance(timedelta(days=6))
    assert (await app.escalator.run_pass()).escalated == 0
    clock.advance(timedelta(days=1, minutes=1))
    assert (await app.escalator.run_pass()).escalated == 1
    assert (await app.escalator.run_pass()).escalated == 0  # not again before the next step
    clock.advance(app.wf.settings.sla.escalation_step)
    await app.escalator.run_pass()
    clock.advance(app.wf.settings.sla.escalation_step)
    await app.escalator.run_pass()
    clock.advance(timedelta(days=10))
    assert (await app.escalator.run_pass()).escalated == 0
    notes = await escalations(app)
    assert [n.split(" ")[1] for n in notes] == ["1", "2", "3"]
    await app.outbox.deliver_due()
    pings = [o for o in recorder.sent if o.purpose == "escalation"]
    recipients = [o.recipient for o in pings]
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.escalation_level == 3 and case.next_deadline is None
    assert recipients[0] == f"staff:{case.assignee_id}"  # Иван, the assignee
    assert "managers" in recipients  # level 3 reaches the managers' chat
    assert all(opened.case_number in o.text for o in pings)
    # each level is told who holds the case (the head and the managers ask them first)
    assert all("ответственный: Иван Петров" in o.text for o in pings)


async def test_resolved_and_paused_cases_do_not_escalate(app: App, clock: ManualClock) -> None:
    a = await app.intake.ingest(tg_message(802, "Течёт кран", clock.now(), preset=LEAK))
    b = await app.intake.ingest(tg_message(803, "Течёт смеситель", clock.now(), preset=LEAK))
    assert a.case_number and b.case_number
    await app.cases.act(a.case_number, 1001, "resolve", "Готово")
    await app.cases.act(b.case_number, 1001, "need_info", "Какой смеситель?")
    clock.advance(timedelta(days=30))
    assert (await app.escalator.run_pass()).escalated == 0


async def test_need_info_pause_gives_the_time_back_when_resident_answers(
        app: App, clock: ManualClock) -> None:
    opened = await app.intake.ingest(tg_message(804, "Течёт смеситель", clock.now(),
                                                preset=LEAK))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "need_info", "Какой этаж?")
    async with app.wf.sessions() as s:
        before = await s.scalar(select(Case.resolve_due))
    assert before is not None
    clock.advance(timedelta(days=2))
    await app.intake.ingest(tg_message(804, f"{opened.case_number}: пятый этаж", clock.now()))
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.paused_at is None
    assert case.resolve_due == before + timedelta(days=2)
    assert case.next_deadline == case.resolve_due




async def test_a_pass_over_many_cases_moves_each_one_level_with_its_own_ping(
        any_app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    app = any_app
    # Batches of 3 and UPDATEs of 2 ids, so a pass crosses both boundaries.
    monkeypatch.setattr(escalation, "_IDS_PER_UPDATE", 2)
    for i in range(9):
        opened = await app.intake.ingest(tg_message(810 + i, f"Течёт кран, подъезд {i}",
                                                    clock.now(), preset=LEAK))
        assert opened.case_number
    async with app.wf.sessions.begin() as s:
        # taken by a plain staff member, so each level tells someone new (assignee, head,
        # managers) and no level is passed over
        ivan = await s.scalar(select(Staff.id).where(Staff.role == "staff").limit(1))
        await s.execute(update(Case).values(escalation_level=Case.id % 4, assignee_id=ivan))
        holder = await s.get(Staff, ivan)
    clock.advance(timedelta(days=30, microseconds=123457))
    async with app.wf.sessions() as s:
        before = {c.id: c for c in await s.scalars(select(Case))}
    assert (await app.escalator.run_pass(batch=3)).escalated == 9

    now, step = clock.now(), app.wf.settings.sla.escalation_step
    async with app.wf.sessions() as s:
        after = {c.id: c for c in await s.scalars(select(Case))}
        events = (await s.scalars(select(Event).where(Event.action == "escalated"))).all()
        pings = (await s.scalars(select(OutboxItem).where(
            OutboxItem.purpose == "escalation"))).all()
    climbed = {i for i, c in before.items() if c.escalation_level < escalation.MAX_LEVEL}
    for i, case in after.items():
        level = min(before[i].escalation_level + 1, escalation.MAX_LEVEL)
        assert case.escalation_level == level
        assert case.next_deadline == (now + step if i in climbed and level < 3 else None)
    assert len(events) == len(climbed) and {e.case_id for e in events} == climbed
    assert all(e.at == now for e in events)
    assert {p.case_id for p in pings} == climbed
    for ping in pings:
        assert ping.case_id is not None and ping.created_at == ping.next_attempt_at == now
        case, level = before[ping.case_id], after[ping.case_id].escalation_level
        promise = int(case.resolve_due.timestamp())  # type: ignore[union-attr]
        assert ping.idempotency_key == f"esc:{case.id}:{promise}:{level}:{ping.recipient}"
        # Rendered once per case from the prepared template: the same text as a one-off.
        expected = app.wf.renderer.render(
            "escalation", app.wf.settings.default_language, case=case,
            building=app.wf.building(case.building_id), level=level,
            level_name=escalation.LEVEL_NAMES[level], now=now, manual=False, assignee=holder)
        assert (ping.payload["subject"], ping.payload["text"]) == (expected.subject,
                                                                   expected.text)


GAS = PresetLabels(kind="request", category="safety", urgency="emergency", scope="building")


@pytest.fixture
async def office_app(any_db_url: str) -> AsyncIterator[tuple[App, ManualClock]]:
    """Office hours 09:00–18:00 Moscow time; the clock starts on Friday 16 January 2026 at
    20:00 there, after closing. SQLite and PostgreSQL."""
    clock = ManualClock(datetime(2026, 1, 16, 17, 0, tzinfo=UTC))
    config = make_config(any_db_url, sla={"office_hours": "09:00-18:00",
                                          "holidays": ["2026-01-19"]})
    application = await build_app(config, clock=clock)
    yield application, clock
    await application.close()


async def pings_queued(app: App) -> list[OutboxItem]:
    async with app.wf.sessions() as s:
        return list(await s.scalars(select(OutboxItem).where(
            OutboxItem.purpose == "escalation")))


async def test_a_case_that_can_wait_pings_nobody_until_the_office_opens(
        office_app: tuple[App, ManualClock]) -> None:
    app, clock = office_app
    opened = await app.intake.ingest(tg_message(820, "Течёт кран", clock.now(), preset=LEAK))
    assert opened.case_number
    # Nobody answered within a day: overdue on Saturday at 20:00, and all weekend; Monday
    # the 19th is a holiday, so the head hears of it on Tuesday at 09:00 Moscow time.
    tuesday_opening = datetime(2026, 1, 20, 6, 0, tzinfo=UTC)
    for hours in (24 + 1 / 60, 5, 12, 24, 12):  # up to Tuesday 01:01
        clock.advance(timedelta(hours=hours))
        report = await app.escalator.run_pass()
        assert (report.escalated, report.pings) == (0, 0)
        assert not await pings_queued(app)
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.next_deadline == tuesday_opening
    assert case.respond_due is not None and case.respond_due < clock.now()  # still late
    clock.advance(tuesday_opening - clock.now() - timedelta(minutes=1))
    assert (await app.escalator.run_pass()).pings == 0  # 08:59
    clock.advance(timedelta(minutes=1))
    assert (await app.escalator.run_pass()).escalated == 1
    assert [p.created_at for p in await pings_queued(app)] == [tuesday_opening]
    # the next level's step (4 h) ends at 13:00, inside office hours: it climbs then
    clock.advance(app.wf.settings.sla.escalation_step)
    assert (await app.escalator.run_pass()).escalated == 1


async def test_an_emergency_pings_at_night_beside_held_cases(
        office_app: tuple[App, ManualClock]) -> None:
    app, clock = office_app
    leak = await app.intake.ingest(tg_message(821, "Течёт кран", clock.now(), preset=LEAK))
    clock.advance(timedelta(hours=24, minutes=1))  # Saturday 20:01: the leak is late now
    gas = await app.intake.ingest(tg_message(822, "Пахнет газом", clock.now(), preset=GAS))
    assert leak.case_number and gas.case_number
    clock.advance(timedelta(minutes=31))  # the gas report went unanswered for half an hour
    report = await app.escalator.run_pass()
    assert (report.escalated, report.held) == (1, 1)
    async with app.wf.sessions() as s:
        pinged = await s.scalars(select(Case.number).join(
            OutboxItem, OutboxItem.case_id == Case.id).where(OutboxItem.purpose == "escalation"))
        assert set(pinged) == {gas.case_number}

