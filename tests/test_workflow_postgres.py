"""The workflow on PostgreSQL: the same behaviour as on SQLite, with real concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from domovoy.app import App
from tests.conftest import RecordingSender
from tests.helpers import LEAK, OUTAGE, tg_message
from workflow.cases import AlreadyTaken
from workflow.clock import ManualClock
from workflow.intake import Action
from workflow.models import Case, Event, OutboxItem


async def test_intake_dedupe_incident_and_outbox_on_postgres(
        pg_app: App, clock: ManualClock) -> None:
    msg = tg_message(1, "Течёт кран", clock.now(), preset=LEAK)
    assert (await pg_app.intake.ingest(msg)).action == Action.NEW_CASE
    assert (await pg_app.intake.ingest(msg)).action == Action.DUPLICATE
    results = [await pg_app.intake.ingest(tg_message(10 + i, "Нет света во всём доме",
                                                     clock.now(), preset=OUTAGE))
               for i in range(3)]
    assert len({r.incident_id for r in results[1:]}) == 1
    sender = RecordingSender()
    for channel in ("telegram", "staff"):
        pg_app.register_sender(channel, sender)
    await pg_app.outbox.deliver_due()
    assert sum(o.purpose == "ack" for o in sender.sent) == 4


async def test_two_takes_at_once_on_separate_connections(
        pg_app: App, clock: ManualClock) -> None:
    opened = await pg_app.intake.ingest(tg_message(2, "Течёт кран", clock.now(), preset=LEAK))
    assert opened.case_number
    results = await asyncio.gather(
        *(pg_app.cases.act(opened.case_number, uid, "take") for uid in (1001, 1003, 1002)),
        return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert sum(isinstance(r, AlreadyTaken) for r in results) == 2


async def test_escalation_pass_on_postgres(pg_app: App, clock: ManualClock) -> None:
    for i in range(5):
        await pg_app.intake.ingest(tg_message(100 + i, "Течёт кран", clock.now(), preset=LEAK))
    clock.advance(timedelta(days=2))
    report = await pg_app.escalator.run_pass()
    assert report.escalated == 5
    async with pg_app.wf.sessions() as s:
        events = await s.scalar(select(func.count(Event.id)).where(Event.action == "escalated"))
        pings = await s.scalar(select(func.count(OutboxItem.id)).where(
            OutboxItem.purpose == "escalation"))
        levels = set(await s.scalars(select(Case.escalation_level)))
    assert events == 5 and pings and levels == {1}
