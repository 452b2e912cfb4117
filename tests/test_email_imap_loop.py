"""The IMAP poller's loop and limits, as an operator meets them: polling on an interval when
there is no IDLE, retry delays that grow, stop growing and start again small, a server that
stops answering named in ``domovoy status``, and a mail too big to fetch still opening its case.

Servers: the session's Dovecot, and the cuttable proxy in front of it playing a server without
IDLE or one that has stopped answering (fixtures in tests/peers/mail.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest
from aioimaplib import Command, CommandTimeout
from sqlalchemy import select

from domovoy import commands
from domovoy.app import App
from domovoy.peers.dovecot import Dovecot
from intake import quarantine
from intake.email.bodystructure import body_structure, first_text_part, mime_parts, oversize_note
from intake.email.imap import ImapError, ImapPoller, PollReport
from intake.email_settings import ImapConfig
from intake.tables import MailboxState
from tests.conftest import make_config
from tests.peers.mail import OFFICE, TcpProxy
from tests.test_email_imap import (
    _wait_until,
    acks,
    count,
    mail,
    make_poller,
    now_clock,  # noqa: F401 (the fixture, used below)
)
from workflow.clock import ManualClock
from workflow.health import read_health
from workflow.models import Case, Event, Message, Quarantine

# INTERNALDATE is the server's real time: the workflow's clock (``clock``) starts beside it.
pytestmark = pytest.mark.usefixtures("now_clock")


async def _stop(poller: ImapPoller, task: asyncio.Task[None]) -> None:
    await poller.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _sent(proxy: TcpProxy, command: str) -> int:
    """How many times the client sent ``command`` (the word after the tag)."""
    return sum(1 for line in proxy.client_lines
               if line.split(b" ", 2)[1:2] == [command.encode()])


# --- 1. polling on an interval ---------------------------------------------------------------


@pytest.mark.parametrize("server", ["idle switched off", "server without IDLE"])
async def test_without_idle_mail_is_imported_on_the_next_interval_tick(
        app: App, dovecot: Dovecot, imap_user: str, imap_proxy: TcpProxy,
        clock: ManualClock, server: str) -> None:
    """``imap.idle: false``, or a server that does not offer IDLE: the loop polls every
    ``poll_interval_s`` and a mail delivered while it waits is imported on the next tick."""
    if server == "server without IDLE":
        imap_proxy.hide_capabilities = frozenset({"IDLE"})
    poller = make_poller(app, imap_proxy, imap_user, poll_interval_s=0.3,
                         idle=server != "idle switched off")
    task = asyncio.create_task(poller.run())
    try:
        await _wait_until(lambda: count(app, MailboxState), 1)  # the first poll is done
        await asyncio.sleep(0.1)  # waiting for the next tick
        await dovecot.append(imap_user, mail(1))
        took = await _wait_until(lambda: acks(app), 1, timeout=5.0)
        ticks = _sent(imap_proxy, "NOOP")
        await asyncio.sleep(1.0)  # nothing new: it keeps polling all the same
        later = _sent(imap_proxy, "NOOP")
    finally:
        await _stop(poller, task)
    assert took < 2.0, f"the mail waited {took:.2f} s for a 0.3 s interval"
    assert later - ticks >= 2, f"{later - ticks} polls in 1 s at a 0.3 s interval"
    assert _sent(imap_proxy, "IDLE") == 0
    assert await count(app, Case) == 1


# --- 2. reconnect with backoff ---------------------------------------------------------------


def _offline_poller(app: App, slept: list[float], *, cap: float) -> ImapPoller:
    """A poller whose retry waits are recorded instead of waited out (the injected sleep);
    its polls are scripted (:func:`_scripted`), so no server is involved."""
    cfg = ImapConfig(host="127.0.0.1", port=9, ssl=False, username="office",
                     poll_interval_s=0.01, idle=False)

    async def record(delay: float) -> None:
        slept.append(delay)

    return ImapPoller(cfg, app.intake, app.wf, sleep=record, backoff_base=1.0, backoff_cap=cap)


def _scripted(poller: ImapPoller,
              outcomes: list[str | None]) -> Callable[[], Coroutine[Any, Any, PollReport]]:
    """A poll_once that fails (the outcome is the error) or succeeds (None) as scripted, then
    stops the loop."""
    async def poll_once() -> PollReport:
        error = outcomes.pop(0)
        if not outcomes:
            await poller.close()
        return PollReport(mailbox="INBOX", error=error)
    return poll_once


async def test_retry_delay_grows_is_capped_and_starts_again_after_a_good_poll(
        app: App, clock: ManualClock) -> None:
    slept: list[float] = []
    poller = _offline_poller(app, slept, cap=10.0)
    down = "IMAP server 127.0.0.1:9 refused the connection"
    poller.poll_once = _scripted(  # type: ignore[method-assign]
        poller, [down] * 6 + [None] + [down] * 2)
    await asyncio.wait_for(poller.run(), 5)
    expected = [1, 2, 4, 8, 10, 10,  # doubling up to the cap, then staying there
                1, 2]                # a good poll in between: small again
    assert len(slept) == len(expected), slept
    for got, want in zip(slept, expected, strict=True):
        assert 0.8 * want <= got <= want, (slept, expected)  # jitter only shortens


async def test_a_long_outage_keeps_retrying_at_the_cap(app: App, clock: ManualClock) -> None:
    """After a few days of failures (thousands of retries) the delay is still the cap: the
    loop must not die computing it."""
    slept: list[float] = []
    poller = _offline_poller(app, slept, cap=300.0)
    poller.failures = 5000
    poller.poll_once = _scripted(  # type: ignore[method-assign]
        poller, ["IMAP connect timed out after 30 s"] * 2)
    await asyncio.wait_for(poller.run(), 5)
    assert len(slept) == 2 and all(240.0 <= d <= 300.0 for d in slept), slept


# --- 3. named timeouts -----------------------------------------------------------------------


async def _status(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    # the office's config names the mailbox (one without it shows the row as not configured)
    await commands.status(make_config(sqlite_url, imap={"host": "127.0.0.1",
                                                        "username": "office"}))
    return capsys.readouterr().out


async def test_a_server_that_stops_answering_is_named_in_status_and_recovered_from(
        app: App, sqlite_url: str, dovecot: Dovecot, imap_user: str, imap_proxy: TcpProxy,
        clock: ManualClock, capsys: pytest.CaptureFixture[str]) -> None:
    poller = make_poller(app, imap_proxy, imap_user, timeout_s=0.5)
    try:
        assert (await poller.poll_once()).error is None
        imap_proxy.stalled = True  # connected, then not a word more
        await dovecot.append(imap_user, mail(1))
        clock.advance(timedelta(minutes=1))
        hung = await poller.poll_once()
        assert hung.error == "IMAP NOOP timed out after 0.5 s"
        status = await _status(sqlite_url, capsys)
        assert "email.imap: FAILING" in status
        assert "IMAP NOOP timed out after 0.5 s" in status
        clock.advance(timedelta(minutes=1))
        again = await poller.poll_once()  # a new connection: accepted, never greeted
        assert again.error == "IMAP connect timed out after 0.5 s"

        imap_proxy.stalled = False
        clock.advance(timedelta(minutes=1))
        recovered = await poller.poll_once()
    finally:
        await poller.close()
    assert recovered.error is None and recovered.actions == ["new_case"]
    [health] = await read_health(app.wf.sessions)
    assert health.last_error == "IMAP connect timed out after 0.5 s"
    assert health.last_ok_at == clock.now() and health.last_error_at is not None
    assert health.last_ok_at > health.last_error_at
    assert "email.imap: OK" in await _status(sqlite_url, capsys)


async def seen(dovecot: Dovecot, user: str) -> int:
    return sum("\\Seen" in flags for flags in (await dovecot.flags(user)).values())


async def test_the_loop_reports_a_hung_server_by_command_and_carries_on(
        app: App, dovecot: Dovecot, imap_user: str, imap_proxy: TcpProxy,
        clock: ManualClock) -> None:
    """The running loop (IDLE on) against a server that goes silent: health names the
    command that timed out and its limit; once the server answers again mail flows."""
    poller = make_poller(app, imap_proxy, imap_user, timeout_s=0.5, poll_interval_s=0.5)
    task = asyncio.create_task(poller.run())

    async def error_recorded() -> int:
        health = await read_health(app.wf.sessions)
        return int(bool(health and health[0].last_error))

    try:
        await dovecot.append(imap_user, mail(1))
        await _wait_until(lambda: acks(app), 1)
        await _wait_until(lambda: seen(dovecot, imap_user), 1)  # the pass is over: waiting
        imap_proxy.stalled = True
        await _wait_until(error_recorded, 1, timeout=10.0)
        await dovecot.append(imap_user, mail(2))
        imap_proxy.stalled = False
        await _wait_until(lambda: acks(app), 2, timeout=10.0)
    finally:
        await _stop(poller, task)
    [health] = await read_health(app.wf.sessions)
    assert health.last_error is not None
    assert re.fullmatch(r"IMAP (IDLE|IDLE DONE|NOOP|connect) timed out after 0\.5 s",
                        health.last_error), health.last_error
    assert await count(app, Case) == 2


async def test_a_command_timeout_raised_by_aioimaplib_is_named_too(
        app: App, dovecot: Dovecot, imap_user: str, clock: ManualClock) -> None:
    """aioimaplib times FETCH and STORE itself; its CommandTimeout has no message, which
    would read "IMAP UID FETCH failed: " in status."""
    poller = make_poller(app, dovecot, imap_user, timeout_s=2.0)

    async def timed_out() -> None:
        raise CommandTimeout(Command("UID", "A1", "FETCH"))

    with pytest.raises(ImapError, match=r"^IMAP UID FETCH timed out after 2 s$"):
        await poller._call("UID FETCH", timed_out())


# --- 4. a mail over the size limit -----------------------------------------------------------


def test_body_structure_gives_sections_names_and_the_text_to_fetch() -> None:
    """Nested multiparts number their parts 1.1, 1.2, 2…; a name the server sends as a
    literal (aioimaplib hands it over as its own bytearray) and RFC 2047/2231 names read
    as people wrote them."""
    lines = [
        b'3 FETCH (UID 9 BODYSTRUCTURE ((("text" "plain" ("charset" "koi8-r") NIL NIL '
        b'"quoted-printable" 120000 900 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") '
        b'NIL NIL "base64" 300000 4000 NIL NIL NIL NIL) "alternative" ("boundary" "b2") NIL '
        b'NIL NIL)("application" "pdf" ("name" {28}',
        bytearray(b"=?utf-8?B?0JDQutGCLnBkZg==?="),
        b') NIL NIL "base64" 45000000 NIL ("attachment" NIL) NIL NIL)'
        b'("image" "jpeg" NIL NIL NIL "base64" '
        b'78000 NIL ("inline" ("filename*" "utf-8\'\'%D1%84%D0%BE%D1%82%D0%BE.jpg")) NIL NIL)'
        b' "mixed" ("boundary" "b1") NIL NIL NIL))',
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    structure = body_structure(lines)
    assert structure is not None
    parts = mime_parts(structure)
    assert [(p.section, p.content_type) for p in parts] == [
        ("1.1", "text/plain"), ("1.2", "text/html"), ("2", "application/pdf"),
        ("3", "image/jpeg")]
    assert [p.filename for p in parts] == [None, None, "Акт.pdf", "фото.jpg"]
    text = first_text_part(parts)
    assert text is parts[0] and text.params["charset"] == "koi8-r"
    note = oversize_note(45_500_000, 40 * 2**20, parts, text, 256 * 1024)
    assert note == ("mail over the 40 MB limit (43 MB): not fetched: Акт.pdf (31 MB), "
                    "фото.jpg (56 KB); only the first 256 KB of its text was fetched, the rest "
                    "was not fetched")



LIMIT = 20_000
TEXT = ("Здравствуйте! С потолка в ванной течёт вода, квартира 12, дом Ленина 5. "
        "Акт осмотра и фото прилагаю.")


def big_mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Иван Петров <ivan@example.ru>"
    msg["To"] = OFFICE
    msg["Subject"] = "Протечка с потолка"
    msg["Date"] = f"Thu, 15 Jan 2026 12:00:{n:02d} +0300"
    msg["Message-ID"] = f"<big-{n}@example.ru>"
    msg.set_content(TEXT)
    msg.add_attachment(bytes(range(256)) * 100, maintype="application", subtype="pdf",
                       filename="Акт осмотра.pdf")
    msg.add_attachment(bytes(range(256)) * 30, maintype="image", subtype="jpeg",
                       filename="photo.jpg")
    return msg.as_bytes(policy=SMTP)


async def _logged(app: App) -> Message:
    async with app.wf.sessions() as s:
        return (await s.scalars(select(Message).where(Message.direction == "in"))).one()


async def test_a_mail_over_the_limit_opens_its_case_without_the_attachments(
        app: App, dovecot: Dovecot, imap_user: str, clock: ManualClock) -> None:
    raw = big_mail(1)
    assert len(raw) > LIMIT
    await dovecot.append(imap_user, raw)
    poller = make_poller(app, dovecot, imap_user, max_message_bytes=LIMIT)
    try:
        report = await poller.poll_once()
    finally:
        await poller.close()
    assert report.error is None and report.actions == ["new_case"]
    assert report.quarantined == []
    assert await acks(app) == 1  # the resident hears from us as for any other mail
    async with app.wf.sessions() as s:
        case = (await s.scalars(select(Case))).one()
        events = [(e.action, e.note or "") for e in await s.scalars(
            select(Event).where(Event.case_id == case.id).order_by(Event.id))]
    assert case.subject == "Протечка с потолка"
    assert TEXT in case.text
    # Staff see why the files are missing, on the case (``/case`` lists its events)...
    [note] = [n for a, n in events if a == "oversized"]
    assert "over the 20 KB limit" in note
    assert "not fetched: Акт осмотра.pdf (25 KB), photo.jpg (8 KB)" in note
    # ...and in the conversation log beside the resident's words.
    logged = await _logged(app)
    assert logged.note is not None and note in logged.note
    assert logged.attachments == []
    # The raw headers are kept for inspection; nothing waits in quarantine for a retry.
    assert await quarantine.pending_count(app.wf.sessions) == 0
    async with app.wf.sessions() as s:
        [kept] = (await s.scalars(select(Quarantine))).all()
    assert kept.resolved_at is not None and kept.raw.startswith(b"From: ")
    assert b"Message-ID: <big-1@example.ru>" in kept.raw and b"%PDF" not in kept.raw
    assert len(kept.raw) < 2000
    assert await dovecot.flags(imap_user) == {1: {"\\Seen"}}


async def test_a_long_plain_mail_over_the_limit_opens_with_the_start_of_its_text(
        app: App, dovecot: Dovecot, imap_user: str, clock: ManualClock) -> None:
    """No attachments, just text past the limit (a pasted log, a long complaint): its
    beginning opens the case, and the note says the rest was not fetched."""
    body = TEXT + "\n" + "\n".join(f"Строка {i}: вода капает и капает." for i in range(900))
    raw = mail(2, body=body)
    assert len(raw) > LIMIT
    await dovecot.append(imap_user, raw)
    poller = make_poller(app, dovecot, imap_user, max_message_bytes=LIMIT,
                         partial_bytes=4096)
    try:
        report = await poller.poll_once()
        again = await poller.poll_once()
    finally:
        await poller.close()
    assert report.actions == ["new_case"] and again.fetched == 0
    async with app.wf.sessions() as s:
        case = (await s.scalars(select(Case))).one()
    assert case.text.startswith(TEXT)
    assert "Строка 1:" in case.text and "Строка 899" not in case.text
    assert "\ufffd" not in case.text  # cut between lines, not inside a letter
    note = (await _logged(app)).note or ""
    assert "the first 4 KB of its text" in note and "the rest was not fetched" in note
