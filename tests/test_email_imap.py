"""The IMAP poller against a real Dovecot: cursor, \\Seen after commit, crash windows,
network drops, UIDVALIDITY changes, quarantine, IDLE and health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from domovoy.app import App
from domovoy.peers.dovecot import Dovecot, free_port
from intake import quarantine
from intake.email.imap import ImapPoller, PollReport, parse_fetch, uid_set
from intake.email_settings import ImapConfig
from intake.tables import MailboxState
from tests.peers.mail import OFFICE, TcpProxy
from workflow.clock import ManualClock
from workflow.health import read_health
from workflow.intake import IntakeResult
from workflow.models import Case, Message, OutboxItem, Quarantine


def mail(n: int, *, subject: str = "Течёт кран на кухне", body: str | None = None,
         sender: str = "Иван Петров <ivan@example.ru>", extra: str = "",
         mid: str | None = None, pad: int = 0) -> bytes:
    text = body or f"Здравствуйте! У меня в квартире {n} течёт кран на кухне, вода на полу."
    text += "\n" + "Подробности: " * (pad // 13)
    head = (f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: {subject}\r\n"
            f"Date: Thu, 15 Jan 2026 12:00:{n % 60:02d} +0300\r\n"
            f"Message-ID: <{mid or f'resident-{n}@example.ru'}>\r\n{extra}"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return head.encode() + text.replace("\n", "\r\n").encode() + b"\r\n"


@pytest.fixture
def now_clock(clock: ManualClock) -> ManualClock:
    # INTERNALDATE is the server's real time; keep the workflow's clock beside it.
    clock.set(datetime.now(UTC).replace(microsecond=0))
    return clock


def make_poller(app: App, server: Dovecot | TcpProxy, user: str, password: str = "secret",
                **kw: Any) -> ImapPoller:
    cfg_kw = {k: kw.pop(k) for k in list(kw) if k in ("mailbox", "processed_folder", "idle",
                                                          "poll_interval_s", "timeout_s")}
    cfg = ImapConfig(host=server.host, port=server.port, ssl=False, username=user,
                     password=password, **{"poll_interval_s": 5.0, "timeout_s": 5.0, **cfg_kw})
    kw.setdefault("backoff_base", 0.05)
    kw.setdefault("backoff_cap", 0.2)
    return ImapPoller(cfg, app.intake, app.wf, own_addresses=frozenset({OFFICE}), **kw)


@pytest.fixture
async def poller(app: App, dovecot: Dovecot, imap_user: str,
                 now_clock: ManualClock) -> AsyncIterator[ImapPoller]:
    p = make_poller(app, dovecot, imap_user)
    yield p
    await p.close()


async def count(app: App, model: Any, *where: Any) -> int:
    async with app.wf.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def acks(app: App) -> int:
    return await count(app, OutboxItem, OutboxItem.purpose == "ack")


async def cursor(app: App, mailbox: str = "INBOX") -> tuple[int, int] | None:
    async with app.wf.sessions() as s:
        row = await s.get(MailboxState, mailbox)
        return (row.uidvalidity, row.last_uid) if row else None


# --- pure helpers ----------------------------------------------------------------------------


async def poll_after_restart(app: App, dovecot: Dovecot, imap_user: str) -> PollReport:
    """A fresh poller, as after a process restart, polling once."""
    restarted = make_poller(app, dovecot, imap_user)
    try:
        return await restarted.poll_once()
    finally:
        await restarted.close()


async def kill_when(poller: ImapPoller, reached: asyncio.Event) -> None:
    """Run the poller until ``reached`` is set, then kill its task there."""
    task = asyncio.create_task(poller.run())
    await asyncio.wait_for(reached.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await poller.close()


def test_uid_set_compacts_ranges() -> None:
    assert uid_set([5, 1, 2, 3, 7, 9, 10]) == "1:3,5,7,9:10"
    assert uid_set([4]) == "4"


def test_parse_fetch_handles_trailing_items_and_flag_updates() -> None:
    lines = [b'1 FETCH (UID 7 INTERNALDATE "15-Jan-2026 09:00:00 +0300" BODY[] {3}',
             bytearray(b"abc"), b")", b"2 FETCH (FLAGS (\\Seen))",
             b"3 FETCH (BODY[] {2}", bytearray(b"xy"), b" UID 9)", b"Fetch completed."]
    got = parse_fetch(lines)
    assert [(m.uid, m.raw) for m in got] == [(7, b"abc"), (9, b"xy")]
    assert got[0].internal_date == datetime(2026, 1, 15, 6, 0, tzinfo=UTC)


# --- the happy path and the cursor --------------------------------------------------------


async def test_new_mail_becomes_case_then_seen_then_cursor(
        app: App, dovecot: Dovecot, imap_user: str, poller: ImapPoller) -> None:
    await dovecot.append_many(imap_user, [mail(1), mail(2, sender="maria@example.ru")])
    report = await poller.poll_once()
    assert report.error is None
    assert report.actions == ["new_case", "new_case"]
    assert [r.case_number for _, r in report.results] == ["A-1001", "A-1002"]
    assert await dovecot.flags(imap_user) == {1: {"\\Seen"}, 2: {"\\Seen"}}
    state = await cursor(app)
    assert state is not None and state[1] == 2
    async with app.wf.sessions() as s:
        ref = await s.scalar(select(Message.raw_ref).where(
            Message.external_id == "resident-1@example.ru"))
    assert ref == f"imap:INBOX:{state[0]}:1"
    # Nothing new: nothing fetched.
    again = await poller.poll_once()
    assert again.error is None and again.fetched == 0
    # A message a person read in a mail client before the bot saw it is still imported.
    await dovecot.append(imap_user, mail(3), flags="\\Seen")
    third = await poller.poll_once()
    assert third.actions == ["new_case"] and await acks(app) == 3


async def test_first_contact_skips_read_history(app: App, dovecot: Dovecot, imap_user: str,
                                                poller: ImapPoller) -> None:
    await dovecot.append(imap_user, mail(1), flags="\\Seen")
    await dovecot.append(imap_user, mail(2))
    report = await poller.poll_once()
    assert [uid for uid, _ in report.results] == [2]
    assert await count(app, Case) == 1


async def test_own_mail_and_autoreplies_are_never_answered(
        app: App, dovecot: Dovecot, imap_user: str, poller: ImapPoller) -> None:
    await dovecot.append_many(imap_user, [
        mail(1, sender=f"УК <{OFFICE}>", subject="[A-1001] Обращение зарегистрировано"),
        mail(2, subject="Автоответ: в отпуске", extra="Auto-Submitted: auto-replied\r\n"),
        mail(3, subject="Новости ЖКХ", extra="List-Id: <news.example.ru>\r\n"),
    ])
    report = await poller.poll_once()
    assert report.actions == ["ignored_autoreply", "ignored_autoreply", "ignored_list"]
    assert await acks(app) == 0 and await count(app, Case) == 0


# --- crash windows ---------------------------------------------------------------------------


async def test_crash_between_commit_and_seen_imports_nothing_twice(
        app: App, dovecot: Dovecot, imap_user: str, poller: ImapPoller) -> None:
    await dovecot.append_many(imap_user, [mail(1), mail(2)])

    async def store_fails(uids: list[int]) -> None:
        raise ConnectionResetError("connection reset by peer")

    poller._mark_processed = store_fails  # type: ignore[method-assign]
    crashed = await poller.poll_once()
    assert crashed.actions == ["new_case", "new_case"]
    assert crashed.error is not None and "connection reset" in crashed.error
    assert await dovecot.flags(imap_user) == {1: set(), 2: set()}
    assert await cursor(app) is None  # first contact not finished: nothing recorded

    report = await poll_after_restart(app, dovecot, imap_user)
    assert report.error is None
    assert report.actions == ["duplicate", "duplicate"]
    assert await acks(app) == 2 and await count(app, Case) == 2
    assert await dovecot.flags(imap_user) == {1: {"\\Seen"}, 2: {"\\Seen"}}


async def test_poller_task_cancelled_after_commit(app: App, dovecot: Dovecot,
                                                  imap_user: str, poller: ImapPoller) -> None:
    first = await poller.poll_once()  # establish the cursor
    assert first.error is None
    await dovecot.append_many(imap_user, [mail(1), mail(2), mail(3)])
    committed = asyncio.Event()
    real_ingest_many = app.intake.ingest_many
    seen: list[IntakeResult | Exception] = []

    async def ingest_then_hang(msgs: Any) -> list[IntakeResult | Exception]:
        results = await real_ingest_many(msgs)
        seen.extend(results)
        committed.set()
        await asyncio.Event().wait()  # killed here: after the commit, before \Seen
        return results

    app.intake.ingest_many = ingest_then_hang  # type: ignore[method-assign]
    await kill_when(poller, committed)
    app.intake.ingest_many = real_ingest_many  # type: ignore[method-assign]
    assert [getattr(r, "action", r) for r in seen] == ["new_case"] * 3

    report = await poll_after_restart(app, dovecot, imap_user)
    assert report.actions == ["duplicate"] * 3
    assert await acks(app) == 3
    assert all("\\Seen" in f for f in (await dovecot.flags(imap_user)).values())


async def test_poller_task_cancelled_mid_batch_commits_nothing(
        app: App, dovecot: Dovecot, imap_user: str, poller: ImapPoller) -> None:
    """The fetch is one transaction: killed half-way, none of it counts and all of it is
    imported on restart, each message once."""
    await poller.poll_once()
    await dovecot.append_many(imap_user, [mail(1), mail(2), mail(3)])
    halfway = asyncio.Event()
    real_process = app.intake.process
    done = 0

    async def process_then_hang(session: Any, msg: Any) -> IntakeResult:
        nonlocal done
        result = await real_process(session, msg)
        done += 1
        if done == 2:
            halfway.set()
            await asyncio.Event().wait()  # killed here: two processed, nothing committed
        return result

    app.intake.process = process_then_hang  # type: ignore[method-assign]
    await kill_when(poller, halfway)
    app.intake.process = real_process  # type: ignore[method-assign]
    assert await acks(app) == 0

    report = await poll_after_restart(app, dovecot, imap_user)
    assert report.actions == ["new_case"] * 3
    assert await acks(app) == 3


async def test_network_drop_mid_fetch_recovers(app: App, dovecot: Dovecot, imap_user: str,
                                               imap_proxy: TcpProxy,
                                               now_clock: ManualClock) -> None:
    await dovecot.append_many(imap_user, [mail(n, pad=20_000) for n in range(1, 6)])
    poller = make_poller(app, imap_proxy, imap_user)
    try:
        imap_proxy.cut_after = 40_000  # past login and SELECT, inside the 100 KB FETCH
        report = await poller.poll_once()
        assert imap_proxy.cuts == 1
        assert report.error is not None and "lost during UID FETCH" in report.error, report
        assert report.results == []
        health = {h.channel: h for h in await read_health(app.wf.sessions)}
        assert health["email.imap"].last_error == report.error

        again = await poller.poll_once()
    finally:
        await poller.close()
    assert again.error is None
    assert again.actions == ["new_case"] * 5
    assert await acks(app) == 5


async def test_run_reconnects_with_backoff_after_a_cut(app: App, dovecot: Dovecot,
                                                       imap_user: str, imap_proxy: TcpProxy,
                                                       now_clock: ManualClock) -> None:
    poller = make_poller(app, imap_proxy, imap_user, poll_interval_s=0.2)
    task = asyncio.create_task(poller.run())
    try:
        await dovecot.append(imap_user, mail(1))
        await _wait_until(lambda: acks(app), 1)
        imap_proxy.cut()  # the connection dies while idle
        await dovecot.append(imap_user, mail(2))
        await _wait_until(lambda: acks(app), 2)
    finally:
        await poller.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await count(app, Case) == 2


async def _wait_until(probe: Any, value: int, timeout: float = 5.0) -> float:
    start = time.monotonic()
    while await probe() < value:
        if time.monotonic() - start > timeout:
            raise AssertionError(f"still {await probe()} after {timeout} s, wanted {value}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


# --- UIDVALIDITY ---------------------------------------------------------------------------


async def test_uidvalidity_change_rescans_without_duplicates(
        app: App, dovecot: Dovecot, imap_user: str, now_clock: ManualClock) -> None:
    folder = "Office"
    await dovecot.append_many(imap_user, [mail(1), mail(2)], mailbox=folder)
    poller = make_poller(app, dovecot, imap_user, mailbox=folder)
    try:
        first = await poller.poll_once()
        assert first.actions == ["new_case", "new_case"]
        before = await cursor(app, folder)
        # The mailbox is restored from a backup: same mail, new UIDVALIDITY, flags lost.
        await poller.disconnect()
        async with dovecot.client(imap_user) as imap:
            await imap.delete(folder)
        await dovecot.append_many(imap_user, [mail(1), mail(2), mail(3)], mailbox=folder)
        report = await poller.poll_once()
    finally:
        await poller.close()
    after = await cursor(app, folder)
    assert before is not None and after is not None and after[0] != before[0]
    assert report.rescanned and report.error is None
    assert report.actions == ["duplicate", "duplicate", "new_case"]
    assert after[1] == 3
    assert await acks(app) == 3


# --- quarantine ---------------------------------------------------------------------------


async def test_unprocessable_mail_is_quarantined_and_requeued(
        app: App, dovecot: Dovecot, imap_user: str, poller: ImapPoller) -> None:
    await poller.poll_once()
    await dovecot.append_many(imap_user, [
        mail(1), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        mail(2, subject="Сломан домофон", body="Не работает домофон в подъезде 3."),
        mail(4)])
    real_process = app.intake.process

    async def flaky(session: Any, msg: Any) -> IntakeResult:
        if msg.subject == "Сломан домофон":
            raise RuntimeError("database went away")
        return await real_process(session, msg)

    # The failure spoils the batch's transaction; the others are replayed and still open.
    app.intake.process = flaky  # type: ignore[method-assign]
    report = await poller.poll_once()
    app.intake.process = real_process  # type: ignore[method-assign]
    assert report.error is None
    assert report.actions == ["new_case", "new_case"]
    assert await acks(app) == 2
    assert report.quarantined == [2, 3]
    assert all("\\Seen" in f for f in (await dovecot.flags(imap_user)).values())
    state = await cursor(app)
    assert state is not None and state[1] == 4
    async with app.wf.sessions() as s:
        rows = (await s.scalars(select(Quarantine).order_by(Quarantine.id))).all()
    assert [r.source.rsplit(":", 1)[1] for r in rows] == ["2", "3"]
    assert "not an email message" in rows[0].reason or "binary" in rows[0].reason
    assert "database went away" in rows[1].reason
    assert rows[1].raw.startswith(b"From: ")
    assert await quarantine.pending_count(app.wf.sessions) == 2

    lines = await quarantine.requeue(app.intake, app.wf.sessions,
                                     own_addresses=frozenset({OFFICE}))
    assert "still failing (attempt 2)" in lines[0]
    assert lines[1].endswith("new_case A-1003")
    assert await quarantine.pending_count(app.wf.sessions) == 1
    # A second requeue of the resolved one would be a duplicate; it is not retried at all.
    lines = await quarantine.requeue(app.intake, app.wf.sessions)
    assert len(lines) == 1 and "attempt 3" in lines[0]


# --- folders, IDLE, health -----------------------------------------------------------------


async def test_processed_folder_moves_mail(app: App, dovecot: Dovecot, imap_user: str,
                                           now_clock: ManualClock) -> None:
    await dovecot.append_many(imap_user, [mail(1), mail(2)])
    poller = make_poller(app, dovecot, imap_user, processed_folder="Processed")
    try:
        report = await poller.poll_once()
    finally:
        await poller.close()
    assert report.actions == ["new_case", "new_case"]
    assert await dovecot.flags(imap_user) == {}
    assert len(await dovecot.flags(imap_user, "Processed")) == 2


async def test_idle_sees_new_mail_within_seconds(app: App, dovecot: Dovecot, imap_user: str,
                                                 now_clock: ManualClock) -> None:
    poller = make_poller(app, dovecot, imap_user, poll_interval_s=60.0)
    task = asyncio.create_task(poller.run())
    try:
        await _wait_until(lambda: count(app, MailboxState), 1)
        await asyncio.sleep(0.1)  # now in IDLE
        await dovecot.append(imap_user, mail(1))
        took = await _wait_until(lambda: acks(app), 1, timeout=3.0)
    finally:
        await poller.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert took < 2.0, f"IDLE push took {took:.2f} s (poll interval is 60 s)"


async def test_health_records_readable_errors(app: App, dovecot: Dovecot, imap_user: str,
                                              now_clock: ManualClock) -> None:
    closed = make_poller(app, Dovecot(dovecot.directory, port=free_port()), imap_user)
    report = await closed.poll_once()
    assert report.error is not None and "refused the connection" in report.error
    bad_login = make_poller(app, dovecot, imap_user, password="wrong")
    report = await bad_login.poll_once()
    assert report.error is not None
    assert report.error.startswith(f"IMAP login as {imap_user} refused")
    ok = make_poller(app, dovecot, imap_user)
    assert (await ok.poll_once()).error is None
    await ok.close()
    [health] = await read_health(app.wf.sessions)
    assert health.channel == "email.imap"
    assert health.last_ok_at == now_clock.now() and health.last_error == report.error
