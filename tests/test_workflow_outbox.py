"""Delivery through the outbox: retries, order, idempotency, fallbacks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from domovoy.app import App
from tests.conftest import RecordingSender
from tests.helpers import LEAK, mail, tg_message
from workflow.clock import ManualClock
from workflow.models import Identity, LinkCode, OutboxItem
from workflow.outbox import (
    _RECENT_AUTOMATIC_TO_ANY,
    _RECENT_AUTOMATIC_TO_ONE,
    OutboxDispatcher,
    Outgoing,
    PermanentSendError,
    TemporarySendError,
    enqueue,
)
from workflow.residents import redeem_link_code


class FlakySender(RecordingSender):
    """Fails the first ``failures`` sends with a temporary error, then delivers."""

    def __init__(self, failures: int, retry_after: float | None = None) -> None:
        super().__init__()
        self.failures = failures
        self.retry_after = retry_after
        self.calls = 0

    async def send(self, item: Outgoing) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise TemporarySendError("421 try later", self.retry_after)
        return await super().send(item)


async def test_temporary_failure_retries_with_backoff_and_keeps_order(
        app: App, clock: ManualClock) -> None:
    sender = FlakySender(failures=1)
    app.register_sender("telegram", sender)
    opened = await app.intake.ingest(tg_message(701, "Течёт кран", clock.now()))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "take")
    assert await app.outbox.deliver_due() == 0  # ack failed; the stage update must wait
    assert sender.sent == []
    clock.advance(timedelta(seconds=4))
    assert await app.outbox.deliver_due() == 0  # still backing off
    clock.advance(timedelta(seconds=2))
    assert await app.outbox.deliver_due() == 2
    assert [o.purpose for o in sender.sent] == ["ack", "stage"]


async def test_retry_after_from_the_peer_is_respected(app: App, clock: ManualClock) -> None:
    sender = FlakySender(failures=1, retry_after=30)
    app.register_sender("telegram", sender)
    await app.intake.ingest(tg_message(702, "Не работает лифт", clock.now()))
    await app.outbox.deliver_due()
    clock.advance(timedelta(seconds=29))
    assert await app.outbox.deliver_due() == 0
    clock.advance(timedelta(seconds=2))
    assert await app.outbox.deliver_due() == 1


async def test_same_idempotency_key_is_queued_once(app: App, clock: ManualClock) -> None:
    async with app.wf.sessions.begin() as s:
        first = await enqueue(s, now=clock.now(), channel="email", recipient="a@example.org",
                              purpose="ack", key="ack:1", payload={"text": "x"})
        second = await enqueue(s, now=clock.now(), channel="email", recipient="a@example.org",
                               purpose="ack", key="ack:1", payload={"text": "x"})
    assert first is not None and second is None


async def test_payloads_are_stored_as_readable_utf8_even_with_half_an_emoji(
        any_app: App, clock: ManualClock) -> None:
    """A payload's Cyrillic is stored as written, not as \\uXXXX escapes three times its size;
    a lone surrogate (half an emoji), which UTF-8 cannot hold, is still queued, escaped, and
    reads back as it was given."""
    text_ru, half = "Здравствуйте! Ваше обращение A-1 зарегистрировано.", "кран \ud83d течёт"
    async with any_app.wf.sessions.begin() as s:
        for key, body in (("ack:ru", text_ru), ("ack:half", half)):
            await enqueue(s, now=clock.now(), channel="email", recipient="a@example.org",
                          purpose="ack", key=key, payload={"text": body})
    async with any_app.wf.sessions() as s:
        stored: dict[str, str] = dict((await s.execute(text(
            "SELECT idempotency_key, CAST(payload AS TEXT) FROM outbox"))).all())
        loaded: dict[str, object] = dict((await s.execute(select(
            OutboxItem.idempotency_key, OutboxItem.payload))).all())
    assert text_ru in stored["ack:ru"]
    assert "\\ud83d" in stored["ack:half"]
    assert loaded == {"ack:ru": {"text": text_ru}, "ack:half": {"text": half}}


async def test_blocked_telegram_user_falls_back_to_email_and_staff_are_told(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    class Blocked(RecordingSender):
        async def send(self, item: Outgoing) -> str:
            raise PermanentSendError("Forbidden: bot was blocked by the user", unreachable=True)

    app.register_sender("telegram", Blocked())
    # The resident wrote by email first, then by Telegram; link both identities.
    opened = await app.intake.ingest(mail("olga@example.org", "Прошу починить кран",
                                          clock.now()))
    tg = await app.intake.ingest(tg_message(703, "Здравствуйте, течёт кран", clock.now(),
                                            preset=LEAK))
    async with app.wf.sessions.begin() as s:
        code = await s.scalar(select(LinkCode.code))
        assert code, "the email acknowledgement carries a /link code"
        assert await redeem_link_code(s, code, "telegram", "703", clock.now())
    await app.outbox.deliver_due()
    await app.outbox.deliver_due()
    async with app.wf.sessions() as s:
        tg_ident = await s.scalar(select(Identity).where(Identity.channel == "telegram"))
        failed = list(await s.scalars(select(OutboxItem).where(OutboxItem.state == "failed")))
    assert tg_ident is not None and tg_ident.unreachable
    assert failed and "blocked" in (failed[0].last_error or "")
    fallbacks = [o for o in recorder.sent if o.channel == "email" and tg.case_number
                 and o.case_number == tg.case_number]
    assert fallbacks, "the Telegram acknowledgement should have gone out by email"
    assert any(o.purpose == "delivery_failed" for o in recorder.sent)
    assert opened.action == "new_case"


async def test_staff_items_without_a_staff_channel_are_skipped_not_stuck(
        app: App, clock: ManualClock) -> None:
    sender = RecordingSender()
    app.register_sender("telegram", sender)
    await app.intake.ingest(tg_message(704, "Не работает лифт", clock.now()))
    await app.outbox.deliver_due()
    async with app.wf.sessions() as s:
        states = {o.channel: o.state for o in await s.scalars(select(OutboxItem))}
    assert states == {"telegram": "sent", "staff": "skipped"}


async def test_an_acknowledgement_too_late_to_mean_anything_is_not_sent(
        app: App, clock: ManualClock) -> None:
    """Mail taken in while no SMTP was configured: when the channel comes three days later the
    residents are not told their message "has arrived"; a fresh one is, and staff replies
    queued as late still go (only acknowledgements expire)."""
    old = await app.intake.ingest(tg_message(705, "Течёт кран на кухне", clock.now()))
    assert old.case_number
    clock.advance(timedelta(hours=73))
    await app.cases.reply(old.case_number, 1001, "Сантехник придёт завтра")
    fresh = await app.intake.ingest(tg_message(706, "Не горит свет в подъезде", clock.now()))
    sender = RecordingSender()
    app.register_sender("telegram", sender)
    await app.outbox.deliver_due()
    assert sorted((o.recipient, o.purpose) for o in sender.sent) == [("705", "staff_reply"),
                                                                     ("706", "ack")]
    async with app.wf.sessions() as s:
        expired = (await s.scalars(select(OutboxItem).where(OutboxItem.state == "expired"))).all()
    assert [(o.recipient, o.purpose) for o in expired] == [("705", "ack")]
    assert "not sent within 3 days" in (expired[0].last_error or "")
    assert fresh.case_number


@pytest.mark.parametrize("addresses", [["a@example.org"], ["a@example.org", "tg:42"]])
async def test_hourly_limit_counts_a_recipient_by_index(app: App, addresses: list[str]) -> None:
    """The limit is read on every incoming message: it must not scan the outbox's history,
    whether the resident has one address (the prepared shape) or several."""
    now = app.wf.clock.now()
    query = (_RECENT_AUTOMATIC_TO_ONE.stmt.params(address=addresses[0], since=now)
             if len(addresses) == 1 else
             _RECENT_AUTOMATIC_TO_ANY.stmt.params(addresses=addresses, since=now))
    async with app.wf.sessions() as session:
        conn = await session.connection()
        sql = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r[-1]) for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "COVERING INDEX ix_outbox_rate_limit" in plan, plan


class BusySender(RecordingSender):
    """Each send to a busy recipient takes a moment, and queues one more message to it and one
    to a neighbour (as new mail would while a pass is running), waking the outbox."""

    def __init__(self, app: App, more: int) -> None:
        super().__init__()
        self.app = app
        self.more = more

    async def send(self, item: Outgoing) -> str:
        if item.recipient == "busy" and self.more > 0:
            self.more -= 1
            await asyncio.sleep(0.01)
            async with self.app.wf.sessions.begin() as session:
                for recipient in ("busy", "neighbour"):
                    await enqueue(session, now=self.app.wf.clock.now(), channel="telegram",
                                  recipient=recipient, purpose="ack",
                                  key=f"{recipient}-{self.more}", payload={"text": "x"})
            self.app.outbox.wake()
        return await super().send(item)


async def test_what_is_queued_during_a_pass_goes_out_in_it_once_and_in_order(
        app: App, clock: ManualClock) -> None:
    """A pass looks again when woken: the neighbour's messages queued while the busy
    recipient is served go out in the same pass, none twice, each recipient's in order."""
    sender = BusySender(app, more=20)
    app.register_sender("telegram", sender)
    async with app.wf.sessions.begin() as session:
        await enqueue(session, now=clock.now(), channel="telegram", recipient="busy",
                      purpose="ack", key="first", payload={"text": "x"})
    sent = await app.outbox.deliver_due()
    keys = [o.idempotency_key for o in sender.sent]
    assert len(keys) == len(set(keys)) == sent == 41
    for recipient in ("busy", "neighbour"):
        ids = [o.outbox_id for o in sender.sent if o.recipient == recipient]
        assert ids == sorted(ids)


@pytest.mark.parametrize("turns", range(5))
async def test_the_delivery_loop_stops_when_cancelled_as_it_is_woken(app: App,
                                                                     turns: int) -> None:
    """A commit's wake and the shutdown's cancel in the same instant: ``asyncio.wait_for``
    (Python 3.11) took the wake and dropped the cancel, the loop went on, and whoever awaited
    it after cancelling (``domovoy run`` stopping, a test's teardown) waited for ever."""
    loop = asyncio.create_task(app.outbox.run(idle=30))
    await asyncio.sleep(0.2)  # idle, waiting to be woken
    app.outbox.wake()
    for _ in range(turns):
        await asyncio.sleep(0)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loop, 5)


class HeldSender(RecordingSender):
    """A send that is under way until the test lets the peer answer."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.answer = asyncio.Event()

    async def send(self, item: Outgoing) -> str:
        self.started.set()
        await self.answer.wait()
        return await super().send(item)


async def test_a_stop_lets_the_send_under_way_be_recorded_and_starts_no_other(
        app: App, clock: ManualClock) -> None:
    """The process stopping cancelled the outbox mid-send: Telegram or the mail server may well
    have taken the message, the outbox had not recorded it, and it went a second time after
    the restart. A stop now waits for the send under way and its record, and starts no other
    item; after the restart only the item not yet sent goes."""
    sender = HeldSender()
    app.register_sender("telegram", sender)
    async with app.wf.sessions.begin() as session:
        for key in ("first", "second"):
            await enqueue(session, now=clock.now(), channel="telegram", recipient="42",
                          purpose="ack", key=key, payload={"text": key})
    loop = asyncio.create_task(app.outbox.run(idle=30))
    await asyncio.wait_for(sender.started.wait(), 5)
    stopping = asyncio.create_task(app.outbox.drain(5))
    await asyncio.sleep(0.05)
    assert not stopping.done()  # the send is still under way
    sender.answer.set()
    assert await stopping is True
    await asyncio.wait_for(loop, 5)  # the loop ends by itself
    async with app.wf.sessions() as session:
        rows = await session.execute(select(OutboxItem.idempotency_key, OutboxItem.state))
        states = {key: state for key, state in rows}
    assert states == {"first": "sent", "second": "pending"}

    after = RecordingSender()  # the restart
    restarted = OutboxDispatcher(app.wf.sessions, clock, {"telegram": after})
    assert await restarted.deliver_due() == 1
    assert [o.idempotency_key for o in sender.sent + after.sent] == ["first", "second"]


async def test_a_stop_does_not_wait_for_ever_on_a_peer_that_never_answers(
        app: App, clock: ManualClock) -> None:
    sender = HeldSender()
    app.register_sender("telegram", sender)
    async with app.wf.sessions.begin() as session:
        await enqueue(session, now=clock.now(), channel="telegram", recipient="42",
                      purpose="ack", key="stuck", payload={"text": "x"})
    loop = asyncio.create_task(app.outbox.deliver_due())
    await asyncio.wait_for(sender.started.wait(), 5)
    assert await app.outbox.drain(0.2) is False
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
