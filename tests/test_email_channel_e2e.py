"""The whole email channel, as ``domovoy run`` wires it, between a real Dovecot and a real SMTP
sink: a resident writes, the case opens, the acknowledgement goes out threaded and loop-safe,
the reply threads, an auto-reply is ignored and a bounce reaches the case."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domovoy import runner
from domovoy.app import App
from domovoy.peers.dovecot import Dovecot
from domovoy.peers.smtp_sink import SmtpSink
from domovoy.runner import mail_domain, own_addresses, start_services
from intake.email.channel import EmailChannel
from intake.email.imap import ImapPoller
from intake.email.smtp import SmtpSender
from tests.conftest import make_config
from tests.peers.mail import MAIL_DOMAIN, OFFICE, imap_config, smtp_config
from workflow.clock import ManualClock
from workflow.models import Case, Event, Identity, Message, OutboxItem

RESIDENT = "ivan.petrov@example.ru"


def resident_mail(body: str, subject: str, mid: str, extra: str = "") -> bytes:
    return (
        f"From: =?utf-8?b?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <{RESIDENT}>\r\n"
        f"To: {OFFICE}\r\nSubject: {subject}\r\n"
        f"Date: {email.utils.format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: <{mid}>\r\n{extra}MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("koi8-r") + body.replace("\n", "\r\n").encode("koi8-r")


def encoded_subject(text: str) -> str:
    from email.header import Header

    return Header(text, "utf-8").encode()


@pytest.fixture
async def channel(app: App, dovecot: Dovecot, imap_user: str, smtp_sink: SmtpSink,
                  clock: ManualClock) -> AsyncIterator[EmailChannel]:
    clock.set(datetime.now(UTC).replace(microsecond=0))
    ch = EmailChannel(imap_config(dovecot, imap_user), smtp_config(smtp_sink), app.intake,
                      app.wf, own_addresses=frozenset({OFFICE}), mail_domain=MAIL_DOMAIN)
    assert isinstance(ch.sender, SmtpSender) and isinstance(ch.poller, ImapPoller)
    app.register_sender("email", ch.sender)
    yield ch
    await ch.close()


async def test_resident_mail_to_threaded_acknowledgement_and_back(
        app: App, channel: EmailChannel, dovecot: Dovecot, imap_user: str,
        smtp_sink: SmtpSink) -> None:
    assert channel.poller is not None
    # 1. A resident writes (KOI8-R body, encoded Cyrillic subject).
    await dovecot.append(imap_user, resident_mail(
        "Добрый день! В квартире 12 течёт батарея отопления, вода на полу.",
        encoded_subject("Течёт батарея"), "first@example.ru"))
    report = await channel.poller.poll_once()
    assert report.actions == ["new_case"], report
    number = report.results[0][1].case_number
    assert number == "A-1001"

    # 2. The acknowledgement goes out through the outbox and lands in the sink.
    assert await app.outbox.deliver_due() >= 1
    [ack] = await smtp_sink.wait_for(1)
    msg = ack.message
    assert ack.rcpt_tos == (RESIDENT,)
    ack_id = msg["Message-ID"].strip("<>")
    assert ack_id.endswith("@" + MAIL_DOMAIN)
    assert msg["In-Reply-To"] == "<first@example.ru>"
    assert msg["References"] == "<first@example.ru>"
    assert msg["Subject"].startswith(f"[{number}] ")
    assert "Обращение зарегистрировано" in msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and number in plain.get_content()
    assert html is not None and f"<b>{number}</b>" in html.get_content()
    async with app.wf.sessions() as s:
        sent = await s.scalar(select(OutboxItem).where(OutboxItem.purpose == "ack"))
    assert sent is not None and sent.state == "sent" and sent.external_id == ack_id

    # 3. The resident replies to the acknowledgement: it joins the same case.
    await dovecot.append(imap_user, resident_mail(
        "Забыл добавить: подъезд 2, этаж 4.", f"Re: {msg['Subject']}", "second@example.ru",
        extra=f"In-Reply-To: <{ack_id}>\r\nReferences: <first@example.ru> <{ack_id}>\r\n"))
    report = await channel.poller.poll_once()
    assert [(r.action, r.case_number) for _, r in report.results] == [("threaded", number)]

    # 4. Their out-of-office answer to something of ours is never answered.
    await dovecot.append(imap_user, resident_mail(
        "Я в отпуске до 20 числа.", "Автоответ: Re: обращение", "ooo@example.ru",
        extra=f"Auto-Submitted: auto-replied\r\nIn-Reply-To: <{ack_id}>\r\n"))
    report = await channel.poller.poll_once()
    assert report.actions == ["ignored_autoreply"]

    # 5. Later mail to them bounces: the case learns it, the address is marked unreachable.
    bounce = (
        "From: MAILER-DAEMON@mx.example.ru (Mail Delivery System)\r\n"
        f"To: {OFFICE}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {email.utils.format_datetime(datetime.now(UTC))}\r\n"
        "Message-ID: <bounce-1@mx.example.ru>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered to\r\n"
        f"<{RESIDENT}>: user unknown.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.ru\r\n\r\n"
        f"Final-Recipient: rfc822; {RESIDENT}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {OFFICE}\r\nTo: {RESIDENT}\r\nSubject: [{number}] Обращение\r\n"
        f"Message-ID: <{ack_id}>\r\n\r\n--B--\r\n").encode()
    await dovecot.append(imap_user, bounce)
    report = await channel.poller.poll_once()
    assert [(r.action, r.case_number) for _, r in report.results] == [("bounce", number)]
    async with app.wf.sessions() as s:
        ident = await s.scalar(select(Identity).where(Identity.address == RESIDENT))
        case = await s.scalar(select(Case).where(Case.number == number))
        assert case is not None
        events = (await s.scalars(select(Event.action).where(Event.case_id == case.id))).all()
        staff = (await s.scalars(select(OutboxItem.purpose).where(
            OutboxItem.channel == "staff"))).all()
        inbound = (await s.scalars(select(Message.external_id).where(
            Message.case_id == case.id, Message.direction == "in"))).all()
    assert ident is not None and ident.unreachable
    assert "bounce" in events and "delivery_failed" in staff
    assert {"first@example.ru", "second@example.ru"} <= set(inbound)

    # Nothing but the one acknowledgement ever went to the resident.
    await app.outbox.deliver_due()
    assert [m.rcpt_tos for m in smtp_sink.messages] == [(RESIDENT,)]
    # Every message is \Seen only after its commit, and all of them are.
    assert all("\\Seen" in f for f in (await dovecot.flags(imap_user)).values())


async def test_run_wires_the_channel(sqlite_url: str, dovecot: Dovecot, imap_user: str,
                                     smtp_sink: SmtpSink, clock: ManualClock) -> None:
    """``start_services`` with imap+smtp in the config: mail in, acknowledgement out, no
    test-side polling (IDLE and the outbox wake-up do it)."""
    clock.set(datetime.now(UTC).replace(microsecond=0))
    config = make_config(sqlite_url, imap=imap_config(dovecot, imap_user).model_dump(),
                         smtp=smtp_config(smtp_sink).model_dump())
    assert own_addresses(config) == frozenset({OFFICE, imap_user, f"*@{MAIL_DOMAIN}"})
    assert mail_domain(config) == MAIL_DOMAIN
    services = await start_services(config, clock=clock, scheduler=False)
    try:
        await asyncio.sleep(0.2)
        await dovecot.append(imap_user, resident_mail(
            "Не работает лифт во втором подъезде.", "Лифт", "lift@example.ru"))
        [ack] = await smtp_sink.wait_for(1, timeout=5)
        assert ack.message["In-Reply-To"] == "<lift@example.ru>"
    finally:
        await services.stop()


async def test_email_channel_without_imap_just_waits(app: App, smtp_sink: SmtpSink) -> None:
    ch = EmailChannel(None, smtp_config(smtp_sink), app.intake, app.wf,
                      own_addresses=frozenset({OFFICE}), mail_domain=MAIL_DOMAIN)
    task = asyncio.create_task(ch.run())
    await asyncio.sleep(0.05)
    assert not task.done()
    await ch.close()
    await asyncio.wait_for(task, 1)



async def test_stop_does_not_wait_forever_for_a_stuck_service(
        app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A task that swallows its cancellation (a misbehaving library) cannot hang shutdown."""
    monkeypatch.setattr(runner, "STOP_TIMEOUT_S", 0.2)
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.wait_for(runner.Services(app, tasks=[task]).stop(), 5)
    assert "stubborn did not stop" in caplog.text
    release.set()  # let it end before the test's loop closes
    await task
