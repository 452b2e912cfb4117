"""Staff actions on cases: permissions, atomic take, guarded stages, corrections."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from domovoy.app import App
from tests.conftest import RecordingSender
from tests.helpers import LEAK, mail, tg_message
from workflow.cases import AlreadyTaken, CaseNotFound, NotAllowed
from workflow.clock import ManualClock
from workflow.models import Case, Correction, Event, Identity, Message
from workflow.notify import conversation_refs, identities_of
from workflow.stages import TransitionError


async def open_case(app: App, clock: ManualClock, user: int = 901) -> str:
    result = await app.intake.ingest(tg_message(user, "Течёт кран", clock.now(), preset=LEAK))
    assert result.case_number
    return result.case_number


async def test_two_staff_pressing_take_at_once_get_one_owner(
        app: App, clock: ManualClock) -> None:
    number = await open_case(app, clock)
    results = await asyncio.gather(app.cases.act(number, 1001, "take"),
                                   app.cases.act(number, 1003, "take"),
                                   return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, AlreadyTaken)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].owner == winners[0].assignee
    async with app.wf.sessions() as s:
        taken = list(await s.scalars(select(Event).where(Event.action == "taken")))
    assert len(taken) == 1


async def test_outsider_is_refused_and_nothing_changes(app: App, clock: ManualClock) -> None:
    number = await open_case(app, clock)
    with pytest.raises(NotAllowed):
        await app.cases.act(number, 424242, "resolve", "I fixed it")
    with pytest.raises(NotAllowed):
        await app.cases.assign(number, 1001, "@oleg")  # plain staff cannot assign
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.stage == "acknowledged" and case.assignee_id is None


async def test_stages_are_guarded(app: App, clock: ManualClock) -> None:
    number = await open_case(app, clock)
    await app.cases.act(number, 1001, "close", "Дубль")
    with pytest.raises(TransitionError):
        await app.cases.act(number, 1001, "resolve")
    with pytest.raises(CaseNotFound):
        await app.cases.act("A-99999", 1001, "take")


async def test_staff_reply_reaches_email_resident_threaded(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    opened = await app.intake.ingest(mail("vera@example.org", "Нет горячей воды", clock.now(),
                                          message_id="vera-1@example.org"))
    assert opened.case_number
    await app.cases.reply(opened.case_number, 1001, "Воду дадут к 18:00.")
    await app.outbox.deliver_due()
    reply = next(o for o in recorder.sent if o.purpose == "staff_reply")
    assert reply.channel == "email" and reply.recipient == "vera@example.org"
    assert reply.references[0] == "vera-1@example.org"
    assert "Воду дадут к 18:00." in reply.text and reply.html and not reply.automatic
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.first_response_at == clock.now()


async def test_reclassify_records_the_correction_and_reroutes(
        app: App, clock: ManualClock) -> None:
    number = await open_case(app, clock)
    await app.cases.reclassify(number, "staff:1002",
                               {"category": "heating", "urgency": "high"}, 1002)
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
        corrections = list(await s.scalars(select(Correction)))
    assert case is not None and case.category == "heating" and case.urgency == "high"
    assert {c.axis for c in corrections} == {"category", "urgency"}
    assert corrections[0].rules  # the rules that fired are kept for --misfires
    with pytest.raises(ValueError):
        await app.cases.reclassify(number, "cli", {"category": "plumbin"})


async def test_resolution_offers_rating_and_rating_is_stored(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    number = await open_case(app, clock)
    await app.cases.act(number, 1001, "resolve", "Заменили")
    await app.outbox.deliver_due()
    resolved = next(o for o in recorder.sent if o.purpose == "resolved")
    assert [b["action"] for b in resolved.payload["actions"][0]] == [
        f"rate:{number}:{n}" for n in range(1, 6)]
    async with app.wf.sessions() as s:
        resident_id = await s.scalar(select(Case.resident_id))
    assert resident_id is not None
    assert await app.cases.rate(number, resident_id, 4, "быстро")
    assert not await app.cases.rate(number, resident_id + 100, 1)


async def test_lookups_see_what_the_same_transaction_just_added(
        app: App, clock: ManualClock) -> None:
    """The resident's thread and identities are read with plain SQL; they must still include
    rows the caller added through the session a moment before (as its own queries would)."""
    opened = await app.intake.ingest(mail("olga@example.org", "Течёт кран", clock.now(),
                                          message_id="<first@example.org>"))
    assert opened.case_id is not None
    async with app.wf.sessions() as session:
        case = await session.get_one(Case, opened.case_id)
        assert case.resident_id is not None
        session.add(Message(case_id=case.id, direction="out", channel="email",
                            external_id="<reply@domovoy.test>", created_at=clock.now()))
        session.add(Identity(resident_id=case.resident_id, channel="telegram", address="777",
                             created_at=clock.now()))
        refs = await conversation_refs(session, case.id, "email")
        addresses = [i.address for i in await identities_of(session, case.resident_id)]
        await session.rollback()
    assert refs == ["<first@example.org>", "<reply@domovoy.test>"]
    assert addresses == ["olga@example.org", "777"]
