"""SmtpSender against a real SMTP conversation (aiosmtpd sink): headers, encoding, error
mapping, and the outbox's retry/failure handling on top of it."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import select

from domovoy.app import App
from domovoy.peers.smtp_sink import SmtpSink
from intake.email.smtp import SmtpSender, message_id_for, tagged_subject, thread_references
from tests.peers.mail import MAIL_DOMAIN, OFFICE, smtp_config
from workflow.clock import ManualClock
from workflow.models import Event, Identity, OutboxItem
from workflow.outbox import Outgoing, PermanentSendError, TemporarySendError


def outgoing(**overrides: object) -> Outgoing:
    values: dict[str, object] = dict(
        outbox_id=1, idempotency_key="ack:7", channel="email", recipient="ivan@example.ru",
        purpose="ack", case_id=7, case_number="A-1042",
        subject="Обращение зарегистрировано", text="Здравствуйте!\nНомер A-1042.",
        html="<p>Здравствуйте!</p>", references=("first@example.ru", "sha256:abc",
                                                 "second@example.ru"),
        automatic=True, language="ru")
    values.update(overrides)
    return Outgoing(**values)  # type: ignore[arg-type]


def test_message_id_is_deterministic_on_our_domain() -> None:
    a = message_id_for("ack:7", MAIL_DOMAIN, "A-1042")
    assert a == message_id_for("ack:7", MAIL_DOMAIN, "A-1042")
    assert a != message_id_for("ack:8", MAIL_DOMAIN, "A-1042")
    assert a.endswith("@" + MAIL_DOMAIN) and a.startswith("a-1042.")


def test_subject_tag_added_once() -> None:
    assert tagged_subject("Обращение", "A-1042") == "[A-1042] Обращение"
    assert tagged_subject("[A-1042] Обращение", "A-1042") == "[A-1042] Обращение"
    assert tagged_subject("Re: [a-1042] x", "A-1042") == "Re: [a-1042] x"
    assert tagged_subject("x", None) == "x"


def test_references_keep_real_ids_only() -> None:
    refs = thread_references(("<a@x>", "sha256:deadbeef", "a@x", "b@y", "no-at-sign"))
    assert refs == ["a@x", "b@y"]
    many = thread_references(tuple(f"m{i}@x" for i in range(40)))
    assert len(many) == 20 and many[0] == "m0@x" and many[-1] == "m39@x"


async def test_sent_mail_headers_and_parts(smtp_sink: SmtpSink, clock: ManualClock) -> None:
    sender = SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock)
    mid = await sender.send(outgoing())
    [got] = await smtp_sink.wait_for(1)
    assert got.mail_from == OFFICE and got.rcpt_tos == ("ivan@example.ru",)
    assert got.data.isascii(), "7-bit clean: encoded headers, quoted-printable bodies"
    msg = got.message
    assert msg["Message-ID"] == f"<{mid}>" and mid.endswith("@" + MAIL_DOMAIN)
    assert msg["Subject"] == "[A-1042] Обращение зарегистрировано"
    assert msg["From"].addresses[0].display_name == "УК «Заречье»"
    assert msg["From"].addresses[0].addr_spec == OFFICE
    assert msg["In-Reply-To"] == "<second@example.ru>"
    assert msg["References"] == "<first@example.ru> <second@example.ru>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert email.utils.parsedate_to_datetime(msg["Date"]) == clock.now()
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and "Номер A-1042." in plain.get_content()
    assert html is not None and "<p>Здравствуйте!</p>" in html.get_content()


async def test_resend_reuses_message_id(smtp_sink: SmtpSink, clock: ManualClock) -> None:
    sender = SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock)
    assert await sender.send(outgoing()) == await sender.send(outgoing())


async def test_manual_message_plain_only(smtp_sink: SmtpSink, clock: ManualClock) -> None:
    sender = SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock)
    await sender.send(outgoing(automatic=False, html=None, references=()))
    msg = (await smtp_sink.wait_for(1))[0].message
    assert msg["Auto-Submitted"] is None and msg["In-Reply-To"] is None
    assert msg.get_content_type() == "text/plain"


async def test_auth(clock: ManualClock) -> None:
    with SmtpSink(auth=("bot", "pw")) as sink:
        good = SmtpSender(smtp_config(sink, username="bot", password="pw"), MAIL_DOMAIN,
                          clock=clock)
        await good.send(outgoing())
        assert (await sink.wait_for(1))[0].login == "bot"
        bad = SmtpSender(smtp_config(sink, username="bot", password="wrong"), MAIL_DOMAIN,
                         clock=clock)
        with pytest.raises(TemporarySendError, match="login refused"):
            await bad.send(outgoing())


@pytest.mark.parametrize(("reply", "stage", "error", "unreachable"), [
    ("451 4.3.0 Try again later", "data", TemporarySendError, None),
    ("450 4.2.1 Mailbox busy", "rcpt", TemporarySendError, None),
    ("550 5.1.1 No such user", "rcpt", PermanentSendError, True),
    ("552 5.3.4 Message too big", "data", PermanentSendError, False),
])
async def test_error_mapping(smtp_sink: SmtpSink, clock: ManualClock, reply: str, stage: str,
                             error: type[Exception], unreachable: bool | None) -> None:
    sender = SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock)
    smtp_sink.fail_next(reply, stage=stage)
    with pytest.raises(error) as info:
        await sender.send(outgoing())
    assert reply.split()[0] in str(info.value)
    if unreachable is not None:
        assert isinstance(info.value, PermanentSendError)
        assert info.value.unreachable is unreachable


async def test_unreachable_server_is_temporary(clock: ManualClock) -> None:
    from domovoy.peers.dovecot import free_port

    cfg = smtp_config(SmtpSink(port=free_port()))
    with pytest.raises(TemporarySendError, match="unreachable"):
        await SmtpSender(cfg, MAIL_DOMAIN, clock=clock).send(outgoing())


async def _email_case(app: App) -> str:
    from datetime import UTC, datetime

    from intake.message import Channel, InboundMessage, SenderIdentity

    result = await app.intake.ingest(InboundMessage(
        channel=Channel.EMAIL, external_id="resident-1@example.ru",
        sender=SenderIdentity(Channel.EMAIL, "ivan@example.ru", "Иван"),
        text="В подъезде не горит свет на третьем этаже", subject="Свет в подъезде",
        received_at=datetime(2026, 1, 15, 8, 0, tzinfo=UTC)))
    assert result.case_number is not None
    return result.case_number


async def test_outbox_retries_4xx_then_delivers(app: App, smtp_sink: SmtpSink,
                                                clock: ManualClock) -> None:
    app.register_sender("email", SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock))
    await _email_case(app)
    smtp_sink.fail_next("451 4.7.1 Greylisted, try later")
    assert await app.outbox.deliver_due() == 0
    async with app.wf.sessions() as s:
        ack = await s.scalar(select(OutboxItem).where(OutboxItem.channel == "email"))
    assert ack is not None and ack.state == "pending" and ack.attempts == 1
    assert ack.last_error is not None and "451" in ack.last_error
    clock.advance(timedelta(minutes=1))
    assert await app.outbox.deliver_due() == 1
    [got] = await smtp_sink.wait_for(1)
    async with app.wf.sessions() as s:
        ack = await s.get_one(OutboxItem, ack.id)
    assert ack.state == "sent"
    assert got.message["Message-ID"] == f"<{ack.external_id}>"


async def test_outbox_5xx_fails_marks_unreachable_and_alerts_staff(
        app: App, smtp_sink: SmtpSink, clock: ManualClock) -> None:
    app.register_sender("email", SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock))
    number = await _email_case(app)
    smtp_sink.fail_next("550 5.1.1 <ivan@example.ru>: Recipient address rejected", stage="rcpt")
    await app.outbox.deliver_due()
    async with app.wf.sessions() as s:
        ack = await s.scalar(select(OutboxItem).where(OutboxItem.channel == "email"))
        ident = await s.scalar(select(Identity).where(Identity.address == "ivan@example.ru"))
        events = (await s.scalars(select(Event.action))).all()
        staff = (await s.scalars(select(OutboxItem.purpose).where(
            OutboxItem.channel == "staff"))).all()
    assert ack is not None and ack.state == "failed" and "550" in (ack.last_error or "")
    assert ident is not None and ident.unreachable
    assert "delivery_failed" in events
    assert "delivery_failed" in staff, f"staff not alerted about {number}"
    assert smtp_sink.messages == []


def test_cyrillic_subject_keeps_every_space_through_folding() -> None:
    import email
    import email.policy

    from intake.email.smtp import SmtpSender
    from intake.email_settings import SmtpConfig
    from workflow.outbox import Outgoing

    subject = ("Статус обращения: в работе — ответственный назначен, срок решения "
               "указан в письме ниже")
    sender = SmtpSender(SmtpConfig(host="127.0.0.1", from_address="office@uk.test",
                                   starttls=False), "uk.test")
    item = Outgoing(outbox_id=1, idempotency_key="k", channel="email", recipient="a@b.test",
                    purpose="stage", case_id=1, case_number="A-1002", subject=subject,
                    text="x", html=None, references=(), automatic=True, language="ru")
    raw = sender.build(item).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == f"[A-1002] {subject}"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
