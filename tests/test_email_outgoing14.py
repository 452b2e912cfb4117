"""Fourteenth round, the outgoing side: what a refusal says about whom, how long a message is
tried, and headers as mail clients and strict servers read them. An SMTP login refused over a
weekend loses nothing, our own sender address refused marks no resident undeliverable, a full
mailbox is tried again, and an answer to an Outlook user stays in their thread."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from domovoy import commands
from domovoy.app import App
from domovoy.peers.smtp_sink import SmtpSink
from intake.email.smtp import SmtpSender
from tests.conftest import RecordingSender, make_config
from tests.peers.mail import MAIL_DOMAIN, smtp_config
from tests.test_email_smtp import _email_case, outgoing
from workflow.clock import ManualClock
from workflow.models import Identity, OutboxItem

OUTLOOK_ID = "AM0PR04MB6707A4EF1E5C29B9D1E4B3D3C6A42@AM0PR04MB6707.eurprd04.prod.outlook.com"


async def ack_and_resident(app: App) -> tuple[OutboxItem, Identity]:
    async with app.wf.sessions() as s:
        ack = await s.scalar(select(OutboxItem).where(OutboxItem.channel == "email"))
        ident = await s.scalar(select(Identity).where(Identity.address == "ivan@example.ru"))
    assert ack is not None and ident is not None
    return ack, ident


@pytest.mark.parametrize(("reply", "stage"), [
    ("550 5.1.0 <office@uk-zarechye.test>: Sender address rejected: not owned by user bot",
     "mail"),
    ("550 5.7.1 Unable to relay", "rcpt"),
    ("530 5.7.0 Authentication required", "mail"),
], ids=["sender_rejected", "relay_denied", "login_required"])
async def test_a_refusal_that_is_ours_to_fix_keeps_the_message_and_the_resident(
        app: App, smtp_sink: SmtpSink, clock: ManualClock, reply: str, stage: str) -> None:
    app.register_sender("email", SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock))
    await _email_case(app)
    smtp_sink.fail_next(reply, stage=stage)
    await app.outbox.deliver_due()
    ack, ident = await ack_and_resident(app)
    assert (ack.state, ident.unreachable) == ("pending", False)
    assert "smtp." in (ack.last_error or "")
    clock.advance(timedelta(hours=1))
    assert await app.outbox.deliver_due() == 1


@pytest.mark.parametrize(("reply", "state"), [
    ("550 5.7.1 Message rejected as spam by Content Filtering", "failed"),
    ("552 5.2.2 <ivan@example.ru>: Mailbox full", "pending"),
], ids=["spam_filter", "mailbox_full"])
async def test_a_refusal_that_is_not_the_mailbox_being_wrong_keeps_the_resident(
        app: App, smtp_sink: SmtpSink, clock: ManualClock, reply: str, state: str) -> None:
    """A spam filter fails this message only; a full mailbox is tried again (RFC 5321 takes
    552 at RCPT as 452). Neither marks the resident's address undeliverable."""
    app.register_sender("email", SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock))
    await _email_case(app)
    smtp_sink.fail_next(reply, stage="rcpt")
    await app.outbox.deliver_due()
    ack, ident = await ack_and_resident(app)
    assert (ack.state, ident.unreachable) == (state, False)
    clock.advance(timedelta(hours=1))
    assert await app.outbox.deliver_due() == (state == "pending")


async def test_a_wrong_smtp_password_over_a_weekend_loses_nothing(
        app: App, clock: ManualClock, capsys: pytest.CaptureFixture[str],
        sqlite_url: str) -> None:
    """The office rotates its mailbox password on Friday evening and mends the config on
    Monday: the acknowledgement queued meanwhile goes out then (it was given up after 2.5 h),
    and `domovoy status` said why it waited all along."""
    with SmtpSink(auth=("bot", "new-password")) as sink:
        wrong = smtp_config(sink, username="bot", password="old-password")
        app.register_sender("email", SmtpSender(wrong, MAIL_DOMAIN, clock=clock))
        await _email_case(app)
        for _ in range(30):  # 60 hours of retries
            await app.outbox.deliver_due()
            clock.advance(timedelta(hours=2))
        ack, _ = await ack_and_resident(app)
        assert ack.state == "pending" and ack.attempts >= 12
        await commands.status(make_config(sqlite_url))
        assert "email retrying" in capsys.readouterr().out and "smtp.password" in (
            ack.last_error or "")
        right = smtp_config(sink, username="bot", password="new-password")
        app.register_sender("email", SmtpSender(right, MAIL_DOMAIN, clock=clock))
        assert await app.outbox.deliver_due() == 1
        assert len(await sink.wait_for(1)) == 1


def test_threading_headers_carry_an_outlook_message_id_as_it_is() -> None:
    """Python folds a long id as free text, into encoded-words no mail client decodes in
    In-Reply-To: the answer fell out of an Outlook user's thread."""
    msg = SmtpSender(smtp_config(SmtpSink(port=1)), MAIL_DOMAIN).build(
        outgoing(references=("first@example.ru", OUTLOOK_ID)))
    head = msg.as_bytes().split(b"\r\n\r\n")[0].decode()
    assert f"In-Reply-To: <{OUTLOOK_ID}>\r\n" in head
    assert f"References: <first@example.ru>\r\n <{OUTLOOK_ID}>\r\n" in head
    assert "=?" not in head.split("In-Reply-To")[1].split("Auto-Submitted")[0]


def test_subject_encoded_words_keep_to_75_characters() -> None:
    msg = SmtpSender(smtp_config(SmtpSink(port=1)), MAIL_DOMAIN).build(
        outgoing(subject="Протечка в подъезде " * 20))
    words = re.findall(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=", msg.as_bytes().decode("ascii"))
    assert words and max(len(w) for w in words) <= 75


async def test_an_internationalised_domain_is_written_to_in_its_ascii_form(
        app: App, smtp_sink: SmtpSink, clock: ManualClock) -> None:
    sender = SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock)
    await sender.send(outgoing(recipient="ivanova@почта-дома.рф"))
    [got] = await smtp_sink.wait_for(1)
    assert got.rcpt_tos == ("ivanova@xn----7sbbp4bidd2a3c.xn--p1ai",)
    assert got.message["To"] == "ivanova@xn----7sbbp4bidd2a3c.xn--p1ai"
    assert "SMTPUTF8" not in got.mail_options


async def test_staff_questions_keep_their_lines_in_the_html_part(
        app: App, recorder: RecordingSender) -> None:
    number = await _email_case(app)
    await app.cases.act(number, 1001, "need_info", "Какой этаж?\nИ подъезд?")
    await app.outbox.deliver_due()
    [asked] = [i for i in recorder.sent if i.purpose == "need_info"]
    assert "Какой этаж?<br>И подъезд?" in (asked.html or "")
