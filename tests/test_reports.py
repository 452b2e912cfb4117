"""The managers' report counts what happened and how fast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domovoy.app import App
from tests.conftest import RecordingSender
from tests.helpers import LEAK, OUTAGE, tg_message
from workflow.clock import ManualClock
from workflow.reports import build_report, queue_report


async def test_report_shows_volumes_speed_sla_recurring_and_ratings(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    fast = await app.intake.ingest(tg_message(1101, "Течёт кран", clock.now(), preset=LEAK))
    slow = await app.intake.ingest(tg_message(1102, "Течёт кран", clock.now(), preset=LEAK))
    for i in range(3):
        await app.intake.ingest(tg_message(1200 + i, "Нет света во всём доме", clock.now(),
                                           preset=OUTAGE))
    assert fast.case_number and slow.case_number
    clock.advance(timedelta(hours=2))
    await app.cases.act(fast.case_number, 1001, "take")
    await app.cases.act(fast.case_number, 1001, "resolve", "Готово")
    assert fast.case_id
    async with app.wf.sessions() as s:
        from workflow.models import Case

        resident_id = (await s.get_one(Case, fast.case_id)).resident_id
    assert resident_id
    await app.cases.rate(fast.case_number, resident_id, 5)
    clock.advance(timedelta(days=10))
    await app.cases.act(slow.case_number, 1001, "resolve", "Поздно")
    async with app.wf.sessions() as s:  # a period ends before the report is made
        report = await build_report(s, start - timedelta(days=1),
                                    clock.now() + timedelta(minutes=1))
    assert report.total == 5
    assert report.by_kind == {"request": 2, "complaint": 3}
    assert report.resolved == 2 and report.resolved_in_time == 1
    # the three outage reports, still open ten days past their deadline, are breaches too
    assert report.overdue_unresolved == 3
    assert report.sla_compliance == 0.2
    assert report.median_first_response_h is not None
    assert report.incidents == 1
    assert ("lenina-5", "electrical", 3) in report.recurring
    assert report.ratings == 1 and report.mean_rating == 5.0
    text = app.wf.renderer.render("report", "ru", rep=report, office="УК").text
    assert "Соблюдение сроков: 20%" in text and "lenina-5 · электроснабжение: 3" in text


async def test_weekly_report_reaches_managers_directly_and_in_their_chat(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    await app.intake.ingest(tg_message(1301, "Течёт кран", clock.now(), preset=LEAK))
    clock.set(datetime(2026, 1, 19, 6, 0, tzinfo=UTC))  # Monday 09:00 Moscow: last week's
    report = await queue_report(app.wf)
    assert report.total == 1
    assert await queue_report(app.wf) is not None  # the same day again: queued once
    await app.outbox.deliver_due()
    sent = [o for o in recorder.sent if o.purpose == "report"]
    assert sorted(o.recipient for o in sent) == ["managers", "staff:4"]
    assert all("Поступило обращений: 1" in o.text for o in sent)
