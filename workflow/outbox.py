"""The transactional outbox: messages are written with the change that caused them and
delivered afterwards, with retries, in order per recipient.

A crash between a send and its record is the only window for a repeat; the idempotency key
travels with the message (an email's Message-ID is derived from it), so a resend is the same
message, not a new one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.clock import Clock, wait_event
from workflow.db import SessionFactory
from workflow.models import Message, OutboxItem
from workflow.rows import Prepared, dialect_name

log = logging.getLogger(__name__)

STAFF_CHANNEL = "staff"
# A message is given up only when both are spent: a dozen failed tries, and four days of them
# (RFC 5321 asks mail to be retried for four to five days). An SMTP password rotated over a
# weekend or a provider's outage overnight must not lose what residents were sent meanwhile.
MAX_ATTEMPTS = 12
RETRY_FOR = timedelta(days=4)
# Recipients one pass serves at once (each in its own order): enough that a recipient whose
# chat budget makes the sender wait holds nobody else up, few enough for one SQLite
# connection and a mail server's connection limit.
PARALLEL_RECIPIENTS = 8


@dataclass(frozen=True)
class Outgoing:
    """What a channel sender gets: everything needed to deliver one message, nothing more."""

    outbox_id: int
    idempotency_key: str
    channel: str
    recipient: str
    purpose: str
    case_id: int | None
    case_number: str | None
    subject: str
    text: str
    html: str | None
    references: tuple[str, ...]
    automatic: bool
    language: str
    payload: dict[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    async def send(self, item: Outgoing) -> str | None:
        """Deliver; return the channel's id for the sent message (Message-ID, message id)."""
        ...


class TemporarySendError(Exception):
    """Try again later; ``retry_after`` (seconds) when the peer said how long to wait.

    ``throttled``: nothing was tried, because our own send budget for the recipient is spent.
    That is no failed attempt: with many recipients sharing one chat (buildings with one staff
    chat), every due message but one is turned away on each freed slot, and counting those
    gave cards up for good after MAX_ATTEMPTS turns in the queue.
    """

    def __init__(self, reason: str, retry_after: float | None = None, *,
                 throttled: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.throttled = throttled


class PermanentSendError(Exception):
    """Will never succeed as addressed. ``unreachable`` means the recipient itself is gone
    (blocked the bot, address does not exist), so other channels should be tried."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Queued:
    id: int
    state: str


# INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per dialect: building it with
# .values(...) on every call cost ~0.3 ms (each value, the JSON payload too, gets coerced).
_INSERTS: dict[str, Prepared] = {
    name: Prepared(make(OutboxItem).on_conflict_do_nothing(index_elements=["idempotency_key"])
                   .returning(OutboxItem.id))
    for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def _recent_automatic(to: ColumnElement[bool]) -> Prepared:
    return Prepared(select(func.count(OutboxItem.id)).where(
        to, OutboxItem.automatic.is_(True), OutboxItem.state != "suppressed",
        OutboxItem.created_at > bindparam("since")))


# Most residents write from one address: that count runs on the prepared inline path; an
# expanding IN list (a resident known by several addresses) goes through SQLAlchemy.
_RECENT_AUTOMATIC_TO_ONE = _recent_automatic(OutboxItem.recipient == bindparam("address"))
_RECENT_AUTOMATIC_TO_ANY = _recent_automatic(
    OutboxItem.recipient.in_(bindparam("addresses", expanding=True)))


async def enqueue(
    session: AsyncSession,
    *,
    now: datetime,
    channel: str,
    recipient: str,
    purpose: str,
    key: str,
    payload: dict[str, Any],
    case_id: int | None = None,
    resident_id: int | None = None,
    automatic: bool = True,
    rate_limit: int | None = None,
    rate_addresses: tuple[str, ...] = (),
) -> Queued | None:
    """Write one message to the outbox in the caller's transaction.

    Returns None when the key was queued before (the change is being replayed). An automatic
    message over the hourly limit for the recipient's addresses is stored as ``suppressed``
    so it shows in the log but never goes out: this is what stops two auto-responders from
    ping-ponging. Pass ``rate_limit=None`` when the count is known to be zero.
    """
    state = "pending"
    error = None
    if automatic and rate_limit is not None:
        addresses = rate_addresses or (recipient,)
        since = now - timedelta(hours=1)
        if len(addresses) == 1:
            counted = await _RECENT_AUTOMATIC_TO_ONE.run(
                session, {"address": addresses[0], "since": since})
        else:
            counted = await _RECENT_AUTOMATIC_TO_ANY.run(
                session, {"addresses": list(addresses), "since": since})
        recent = counted.scalar()
        if (recent or 0) >= rate_limit:
            state, error = "suppressed", f"over {rate_limit} automatic messages an hour"
    row = dict(
        case_id=case_id, resident_id=resident_id, channel=channel, recipient=recipient,
        purpose=purpose, payload=payload, idempotency_key=key, automatic=automatic,
        state=state, attempts=0, next_attempt_at=now, last_error=error, created_at=now,
    )
    # Core on the session's connection: same transaction, without the ORM's per-statement
    # machinery (measured ~100 µs a statement), and outbox rows are never ORM-loaded here.
    item_id = (await _INSERTS[dialect_name(session)].run(session, row)).scalar()
    return None if item_id is None else Queued(item_id, state)


async def last_sent(session: AsyncSession, *, channel: str, recipients: set[str]) -> int | None:
    """The id of the latest message that reached any of these recipients (None: none did), so
    a channel can tell one outage from the next by the last post that got through."""
    return await session.scalar(select(func.max(OutboxItem.id)).where(
        OutboxItem.channel == channel, OutboxItem.recipient.in_(recipients),
        OutboxItem.state == "sent"))


async def failures(session: AsyncSession, *, channel: str, failed_with: str,
                   since: datetime) -> list[str]:
    """The distinct errors, starting ``failed_with``, that messages failed with for good
    since then: a channel's adapter writes the cause it can act on into the error (the chat
    the bot was out of) and reads it back here when the cause may be gone."""
    errors = (await session.scalars(select(OutboxItem.last_error).distinct().where(
        OutboxItem.channel == channel, OutboxItem.state == "failed",
        OutboxItem.last_error.startswith(failed_with, autoescape=True),
        OutboxItem.created_at >= since))).all()
    return [e for e in errors if e]


async def queued_with_key(session: AsyncSession, *, purpose: str,
                          key_prefix: str) -> list[tuple[int, str]]:
    """Id and recipient of every message of this purpose whose idempotency key starts so:
    the notices already queued about one matter, whatever became of them."""
    rows = (await session.execute(select(OutboxItem.id, OutboxItem.recipient).where(
        OutboxItem.purpose == purpose,
        OutboxItem.idempotency_key.startswith(key_prefix, autoescape=True)))).all()
    return [(item_id, recipient) for item_id, recipient in rows]


async def send_again(session: AsyncSession, *, channel: str, failed_with: str,
                     since: datetime, now: datetime, note: str) -> int:
    """Queue again what failed for good on a cause that is now gone (a chat the bot was out
    of, now back), found by the error it failed with, within the span its retries would have
    run; the count is returned. Nothing that went out is touched: only ``failed`` rows, which
    no recipient ever got."""
    ids = (await session.scalars(select(OutboxItem.id).where(
        OutboxItem.channel == channel, OutboxItem.state == "failed",
        OutboxItem.last_error.startswith(failed_with, autoescape=True),
        OutboxItem.created_at >= since))).all()
    if ids:
        await session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(
            state="pending", attempts=0, next_attempt_at=now, last_error=note))
    return len(ids)


async def hurry(session: AsyncSession, *, channel: str, recipients: set[str],
                now: datetime) -> None:
    """What waits for a retry to these recipients goes at once: the cause of its failures is
    known to be gone, and the backoff would only hold it back."""
    await session.execute(update(OutboxItem).where(
        OutboxItem.channel == channel, OutboxItem.state == "pending",
        OutboxItem.recipient.in_(recipients),
        OutboxItem.next_attempt_at > now).values(next_attempt_at=now))


async def withdraw(session: AsyncSession, *, key: str, reason: str) -> bool:
    """Skip the message queued under this idempotency key if it has not gone yet (a newer
    one says what it said, better); whether it was withdrawn. One already sent stays sent."""
    result = await session.execute(update(OutboxItem).where(
        OutboxItem.idempotency_key == key, OutboxItem.state == "pending").values(
        state="skipped", last_error=reason).returning(OutboxItem.id))
    return result.first() is not None


def _outgoing(item: OutboxItem) -> Outgoing:
    p = item.payload
    return Outgoing(
        outbox_id=item.id, idempotency_key=item.idempotency_key, channel=item.channel,
        recipient=item.recipient, purpose=item.purpose, case_id=item.case_id,
        case_number=p.get("case_number"), subject=p.get("subject", ""), text=p.get("text", ""),
        html=p.get("html"), references=tuple(p.get("references", ())),
        automatic=item.automatic, language=p.get("language", "ru"), payload=p,
    )


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


FailureHook = Callable[[AsyncSession, OutboxItem, PermanentSendError], Awaitable[None]]


class OutboxDispatcher:
    """Delivers due outbox items through the sender registered for their channel."""

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        senders: dict[str, Sender],
        on_permanent_failure: FailureHook | None = None,
        expire_after: Mapping[str, timedelta] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.senders = senders
        self.on_permanent_failure = on_permanent_failure
        self.expire_after = dict(expire_after or {})
        self._wake = asyncio.Event()
        self._woken_in_pass = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stopping = False

    def wake(self) -> None:
        """Called after a commit that queued something, so it goes out without waiting."""
        self._wake.set()
        self._woken_in_pass.set()

    async def drain(self, timeout: float) -> bool:
        """Stop starting items, and wait (``timeout`` at most) for the sends under way to be
        answered and recorded; True when they were. The process stopping used to cancel a
        send mid-flight: Telegram or the mail server may well have taken it, the outbox had
        not recorded it, and it went a second time after the restart."""
        self._stopping = True
        self.wake()
        try:
            async with asyncio.timeout(timeout), self._lock:
                return True
        except TimeoutError:
            return False

    async def deliver_due(self, limit: int = 200) -> int:
        """One pass; returns how many items were sent. Safe to call from several triggers."""
        async with self._lock:
            return await self._deliver(limit)

    async def _deliver(self, limit: int) -> int:
        """Serve every recipient with due items side by side, and keep the pass open to what
        is queued while it runs.

        A sender that waits out one chat's flood budget (twelve escalation pings to one
        department head, a second of spacing each) must not hold a gas-smell card to the staff
        chat behind them, whether the card was queued before the pass began or during it: a
        wake during the pass looks again and starts the recipients not yet being served.
        """
        gate = asyncio.Semaphore(PARALLEL_RECIPIENTS)
        running: dict[tuple[str, str], asyncio.Task[int]] = {}
        # When each recipient's queue ended (a counter, not a time): a look that began before
        # a queue ended may still show that queue's items as pending, and must not send them
        # a second time.
        ended: dict[tuple[str, str], int] = {}
        recheck: set[tuple[str, str]] = set()  # busy when looked at; look again when done
        # The newest item each recipient's queue held: what is left of it (a retry not yet
        # due) waits for the next pass, so a look during this one starts only what is new.
        upto: dict[tuple[str, str], int] = {}
        ticks = 0
        sent = 0
        errors: list[BaseException] = []

        async def serve(queue: list[OutboxItem], now: datetime) -> int:
            async with gate:
                return await self._deliver_queue(queue, now)

        async def look() -> None:
            if self._stopping:
                return
            began = ticks
            now = self.clock.now()
            async with self.sessions() as session:
                items = (await session.scalars(
                    select(OutboxItem).where(OutboxItem.state == "pending")
                    .order_by(OutboxItem.id).limit(limit)
                )).all()
            queues: dict[tuple[str, str], list[OutboxItem]] = {}
            for item in items:
                queues.setdefault((item.channel, item.recipient), []).append(item)
            for key, queue in queues.items():
                if key in running or ended.get(key, -1) > began:
                    recheck.add(key)
                elif queue[-1].id > upto.get(key, 0):
                    upto[key] = queue[-1].id
                    running[key] = asyncio.create_task(serve(queue, now))

        self._woken_in_pass.clear()
        await look()
        try:
            while running:
                woken = asyncio.ensure_future(self._woken_in_pass.wait())
                await asyncio.wait([woken, *running.values()],
                                   return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                look_again = self._woken_in_pass.is_set()
                for key, task in list(running.items()):
                    if not task.done():
                        continue
                    del running[key]
                    ticks += 1
                    ended[key] = ticks
                    error = task.exception()
                    if error is not None:
                        errors.append(error)
                    else:
                        sent += task.result()
                    if key in recheck:
                        recheck.discard(key)
                        look_again = True
                if look_again:
                    self._woken_in_pass.clear()
                    await look()
        finally:
            for task in running.values():
                task.cancel()
            if running:
                await asyncio.gather(*running.values(), return_exceptions=True)
        if errors:
            raise errors[0]
        return sent

    async def _deliver_queue(self, queue: list[OutboxItem], now: datetime) -> int:
        """One recipient's due items in order; the first that cannot go now holds the rest
        back, so nothing overtakes an earlier message still waiting."""
        sent = 0
        for item in queue:
            if item.next_attempt_at > now or self._stopping:
                break
            late = self.expire_after.get(item.purpose)
            if late is not None and now - item.created_at > late:
                # An acknowledgement days late (no SMTP configured yet, a long outage) tells
                # the resident nothing they can use, and staff may have answered meanwhile.
                log.info("outbox item %s (%s to %s) not sent: older than %s", item.id,
                         item.purpose, item.recipient, late)
                await self._finish(item.id, "expired",
                                   error=f"not sent within {late} of being queued")
                continue
            sender = self.senders.get(item.channel)
            if sender is None:
                if item.channel == STAFF_CHANNEL:
                    await self._finish(item.id, "skipped", error="no staff channel configured")
                    continue
                # in the operator's words (``domovoy status`` shows it): the section is missing
                await self._retry(item.id, f"no {item.channel} channel is configured to send "
                                  "it (a section missing from the config?)", None)
                break
            try:
                external_id = await sender.send(_outgoing(item))
            except TemporarySendError as exc:
                await self._retry(item.id, str(exc), exc.retry_after, counted=not exc.throttled)
                break
            except PermanentSendError as exc:
                await self._fail(item.id, exc)
            except Exception as exc:  # a sender bug must not stop delivery to everyone else
                log.exception("outbox item %s: sender raised", item.id)
                await self._retry(item.id, f"unexpected error: {exc!r}", None)
                break
            else:
                await self._finish(item.id, "sent", external_id=external_id)
                sent += 1
        return sent

    async def _finish(self, item_id: int, state: str, *, external_id: str | None = None,
                      error: str | None = None) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            item = await session.get_one(OutboxItem, item_id)
            item.state = state
            item.attempts += 1
            item.last_error = error
            if state == "sent":
                item.sent_at = now
                item.external_id = external_id
                if item.channel != STAFF_CHANNEL and item.case_id is not None:
                    session.add(Message(
                        case_id=item.case_id, direction="out", channel=item.channel,
                        external_id=external_id, resident_id=item.resident_id,
                        staff_id=item.payload.get("staff_id"),
                        subject=item.payload.get("subject", ""),
                        text=item.payload.get("text", ""), note=item.purpose, created_at=now,
                    ))

    async def _retry(self, item_id: int, reason: str, retry_after: float | None, *,
                     counted: bool = True) -> None:
        """Try the item again later; an uncounted retry (our own throttling) never gives up."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            item = await session.get_one(OutboxItem, item_id)
            if counted:
                item.attempts += 1
            item.last_error = reason
            if counted and item.attempts >= MAX_ATTEMPTS and now - item.created_at >= RETRY_FOR:
                item.state = "failed"
                if self.on_permanent_failure is not None:
                    await self.on_permanent_failure(
                        session, item, PermanentSendError(f"gave up after {item.attempts} "
                                                          f"attempts: {reason}"))
                return
            delay = (timedelta(seconds=retry_after) if retry_after is not None
                     else backoff(item.attempts))
            item.next_attempt_at = now + delay
            if counted:
                # what `domovoy status` shows too: a failing SMTP login or relay is seen in the
                # log on its first failure, not days later when messages are given up
                log.warning("outbox item %s (%s to %s) not delivered, attempt %s, next in %s: %s",
                            item_id, item.purpose, item.recipient, item.attempts, delay, reason)

    async def _fail(self, item_id: int, exc: PermanentSendError) -> None:
        async with self.sessions.begin() as session:
            item = await session.get_one(OutboxItem, item_id)
            item.attempts += 1
            item.state = "failed"
            item.last_error = str(exc)
            if self.on_permanent_failure is not None:
                await self.on_permanent_failure(session, item, exc)
        self.wake()

    async def next_due_in(self, cap: float) -> float:
        async with self.sessions() as session:
            due = await session.scalar(
                select(func.min(OutboxItem.next_attempt_at)).where(OutboxItem.state == "pending"))
        if due is None:
            return cap
        return max(0.0, min(cap, (due - self.clock.now()).total_seconds()))

    async def run(self, idle: float = 30.0) -> None:
        """Deliver whenever woken or when the next retry is due; runs until cancelled."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_due()
                wait = await self.next_due_in(idle)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox pass failed; retrying shortly")
                wait = 5.0
            await wait_event(self._wake, max(wait, 0.05))
