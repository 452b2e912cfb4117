"""Overdue cases escalate one level at a time, each level once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from domovoy.app import App
from tests.conftest import RecordingSender
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
            level_name=escalation.LEVEL_NAMES[level], now=now, manual=False)
        assert (ping.payload["subject"], ping.payload["text"]) == (expected.subject,
                                                                   expected.text)
