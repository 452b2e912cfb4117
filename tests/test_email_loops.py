"""Mail that must never be answered is recognised, with a sensible precedence."""

from __future__ import annotations

from datetime import UTC, datetime
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from intake.email import parse_mail
from intake.message import Automated

OWN = frozenset({"office@uk-zarechye.ru"})


def mail(
    *headers: str,
    body: str = "Текст письма",
    subject: str = "Вопрос",
    sender: str = "Иван <ivan@example.ru>",
    ctype: str = "text/plain; charset=utf-8",
) -> bytes:
    lines = [f"From: {sender}", "To: office@uk-zarechye.ru", f"Subject: {subject}"]
    lines += list(headers)
    lines.append(f"Content-Type: {ctype}")
    return ("\n".join(lines) + "\n\n" + body).encode()


def classify(raw: bytes) -> Automated | None:
    return parse_mail(raw, own_addresses=OWN).automated


def test_ordinary_mail_is_not_automated() -> None:
    assert classify(mail()) is None
    assert classify(mail("Auto-Submitted: no")) is None
    assert classify(mail("X-Autoreply: no")) is None


@pytest.mark.parametrize("header", [
    # Exchange and Outlook put it on ordinary mail: it asks *us* not to auto-reply, and our
    # acknowledgement is marked Auto-Submitted anyway
    "X-Auto-Response-Suppress: All",
    "X-Auto-Response-Suppress: OOF, AutoReply",
    # a resident's own forwarding rule (procmail) leaves its address behind
    "X-Loop: ivan@old-provider.example",
])
def test_a_letter_that_only_asks_for_no_auto_reply_is_a_persons(header: str) -> None:
    assert classify(mail(header)) is None


def test_a_letter_asking_for_no_auto_reply_gets_none() -> None:
    # its case opens (see test_workflow_intake), but our acknowledgement is held back
    asked = parse_mail(mail("X-Auto-Response-Suppress: All"), own_addresses=OWN)
    assert asked.no_auto_reply
    assert asked.to_inbound(fallback_time=datetime(2026, 12, 6, tzinfo=UTC)).no_auto_reply
    assert not parse_mail(mail(), own_addresses=OWN).no_auto_reply


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated (vacation)",
        "X-Autoreply: yes",
        "X-Autorespond: 1",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: auto_reply",
        "X-Loop: yes",
        "Return-Path: <>",
    ],
)
def test_autoreply_headers(header: str) -> None:
    assert classify(mail(header)) is Automated.AUTOREPLY


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Вопрос",
        "Automatic reply: Лифт",
        "Auto: Re: [A-1042]",
        "Autoreply: x",
        "Автоответ: Re: Лифт",
        "Автоматический ответ: Протечка",
        "Out of Office - back on Monday",
        "Out of Office AutoReply: Протечка",
        "[Auto-Reply] Re: A-1042",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    assert classify(mail(subject=subject)) is Automated.AUTOREPLY


@pytest.mark.parametrize(
    "subject", ["Нет на месте", "В отпуске до 24.03", "Отсутствую: Re: Лифт", "Вне офиса"])
def test_out_of_office_phrases_a_resident_could_use_need_a_notice_body(subject: str) -> None:
    notice = "Вернусь 25 марта. По срочным вопросам обращайтесь к диспетчеру."
    assert classify(mail(subject=subject, body=notice)) is Automated.AUTOREPLY
    assert classify(mail(subject=subject, body="Прошу проверить квартиру 12")) is None
    # a resident away from home says when they are back, and names the flat
    away = "Вернусь 20 января. Соседи говорят, в кв. 45 сыро под окном, прошу проверить стояк."
    assert classify(mail(subject=subject, body=away)) is None


@pytest.mark.parametrize(
    "subject",
    ["В отпуске затопили квартиру", "Автостоянка во дворе", "Нет света в подъезде",
     # the notice's words at the start of a resident's own sentence
     "Автоответчик диспетчерской не работает", "Автоматический ответ от вас не пришёл",
     "Out of office hours the lift stops", "В отпуске до 20 января, прошу проверить квартиру",
     # a resident's own words about mail or parcels that did not arrive
     "Сообщение не доставлено", "Уведомление о доставке квитанций",
     "Не удалось доставить посылку: соседи не открыли"],
)
def test_resident_subjects_that_only_resemble_out_of_office(subject: str) -> None:
    assert classify(mail(subject=subject, body="Прошу разобраться, кв. 12")) is None


def test_a_resident_resending_a_request_that_did_not_arrive_is_no_bounce() -> None:
    body = "Отправлял заявку на старый адрес, пришёл ответ, что получатель не найден. Повторяю."
    assert classify(mail(subject="Не удалось доставить заявку", body=body)) is None


@pytest.mark.parametrize(
    "subject",
    [
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
        "Mail delivery failed: returning message to sender",
        "Недоставленное сообщение",
        "Ваше сообщение не доставлено. Mail failure.",
        "Undeliverable: Обращение A-1042",
    ],
)
def test_bounce_subjects(subject: str) -> None:
    notice = "This is the mail system. Your message could not be delivered to a recipient:\n" \
             "<ivan@example.ru>: 550 5.1.1 user unknown"
    assert classify(mail(subject=subject, body=notice)) is Automated.BOUNCE


def test_bounce_senders_and_structures() -> None:
    assert classify(mail(sender="MAILER-DAEMON@mx.example.ru")) is Automated.BOUNCE
    assert classify(mail(sender="Mail Delivery Subsystem <MAILER-DAEMON>")) is Automated.BOUNCE
    assert classify(mail(sender="postmaster@mail.ru")) is Automated.BOUNCE
    empty_rp = mail("Return-Path: <>", body="Delivery to the following recipient failed: a@b.ru")
    assert classify(empty_rp) is Automated.BOUNCE
    report = mail(
        body="--b\nContent-Type: text/plain\n\nfailed\n--b--\n",
        ctype='multipart/report; report-type=delivery-status; boundary="b"',
    )
    assert classify(report) is Automated.BOUNCE


def test_lists() -> None:
    assert classify(mail("List-Id: <news.uk.example>")) is Automated.LIST
    assert classify(mail("Precedence: list")) is Automated.LIST
    assert classify(mail("List-Unsubscribe: <mailto:u@x>", "Precedence: bulk")) is Automated.LIST
    # List-Unsubscribe alone is not enough: webmail may add it to a person's mail.
    assert classify(mail("List-Unsubscribe: <mailto:u@x>")) is None
    # ... but with RFC 8058's one-click POST it is a bulk sender's (a utility's newsletter)
    assert classify(mail("List-Unsubscribe: <https://x/u>",
                         "List-Unsubscribe-Post: List-Unsubscribe=One-Click")) is Automated.LIST


def test_own_address() -> None:
    assert classify(mail(sender="Office <Office@UK-Zarechye.ru>")) is Automated.OWN
    assert classify(mail("X-Loop: office@uk-zarechye.ru")) is Automated.OWN
    domain_wide = parse_mail(mail(), own_addresses=frozenset({"@example.ru"}))
    assert domain_wide.automated is Automated.OWN


def test_precedence_bounce_over_own_over_autoreply_over_list() -> None:
    raw = mail("Auto-Submitted: auto-replied", "List-Id: <l.example>")
    assert classify(raw) is Automated.AUTOREPLY
    own_auto = mail("Auto-Submitted: auto-replied", sender="office@uk-zarechye.ru")
    assert classify(own_auto) is Automated.OWN
    bounce_auto = mail(
        "Auto-Submitted: auto-replied", subject="Undelivered Mail Returned to Sender",
        body="<ivan@example.ru>: host mx.example.ru said: 550 5.1.1 user unknown",
    )
    assert classify(bounce_auto) is Automated.BOUNCE


def test_reason_is_in_the_notes() -> None:
    parsed = parse_mail(mail("Auto-Submitted: auto-replied"))
    assert parsed.notes[0] == "automated (autoreply): Auto-Submitted: auto-replied"
    assert parsed.automated_reason == "Auto-Submitted: auto-replied"


def test_a_delivery_delay_is_a_bounce_that_names_no_failed_address() -> None:
    body = ("This is an automatically generated Delivery Status Notification.\n"
            "THIS IS A WARNING MESSAGE ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE.\n"
            "<ivan@example.ru>... Deferred: Connection timed out with mx.example.ru.\n"
            "Warning: message still undelivered after 4 hours\n"
            "Will keep trying until message is 5 days old\n")
    parsed = parse_mail(mail(subject="Warning: could not send message for past 4 hours",
                             sender="MAILER-DAEMON@mx.uk.ru", body=body), own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient is None and parsed.bounce_delayed


@pytest.mark.parametrize(("action", "status", "delayed"), [
    ("delayed", "4.4.7", True), ("failed", "4.4.7", False), ("failed", "5.1.1", False)])
def test_a_structured_delivery_notice_is_a_delay_only_when_nothing_failed(
        action: str, status: str, delayed: bool) -> None:
    raw = ("From: MAILER-DAEMON@mx.uk.ru\nTo: office@uk-zarechye.ru\n"
           "Subject: Delivery Status Notification\nMIME-Version: 1.0\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
           "--b\nContent-Type: text/plain\n\nA notice about your message.\n"
           "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.uk.ru\n\n"
           f"Final-Recipient: rfc822; ivan@example.ru\nAction: {action}\nStatus: {status}\n"
           "--b--\n").encode()
    parsed = parse_mail(raw, own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE and parsed.bounce_delayed is delayed


def _with_returned(text: str, subject: str, sender: str = "Иван <ivan@example.ru>") -> bytes:
    body = ("--b\nContent-Type: text/plain; charset=utf-8\n\n" + text + "\n"
            "--b\nContent-Type: message/rfc822\n\n"
            "From: office@uk-zarechye.ru\nSubject: Квитанция\n\nВаша квитанция.\n--b--\n")
    return mail(body=body, subject=subject, sender=sender,
                ctype='multipart/mixed; boundary="b"')


def test_a_resident_forwarding_a_letter_about_a_receipt_not_delivered_is_no_bounce() -> None:
    raw = _with_returned("Квитанция так и не была доставлена, пересылаю письмо.", "Квитанция")
    assert classify(raw) is None


def test_a_mail_systems_notice_with_the_returned_letter_is_a_bounce() -> None:
    raw = _with_returned("Сообщение не может быть доставлено: получатель не найден.",
                         "Ошибка", sender="Mail Delivery System <mailer@mx.example.ru>")
    assert classify(raw) is Automated.BOUNCE


def test_a_resident_resending_a_letter_that_was_not_delivered_is_no_bounce() -> None:
    # Outlook's and Mail.ru's "forward as attachment": the resident's own words, and the
    # attached letter, name a recipient; only a mail system's words would make it a bounce
    original = MIMEText("С потолка в ванной течёт, кв. 45. Прошу прислать мастера.", "plain",
                        "utf-8")
    original["From"], original["To"] = "ivan@example.ru", "office@uk-zarechye.ru"
    original["Subject"] = "Протечка"
    outer = MIMEMultipart()
    outer["From"], outer["To"] = "Иван <ivan@example.ru>", "office@uk-zarechye.ru"
    outer["Subject"] = "Fwd: Протечка"
    outer.attach(MIMEText("Пересылаю своё письмо от 1 декабря: видимо, оно не было доставлено "
                          "получателю, ответа так и нет. Течёт по-прежнему.", "plain", "utf-8"))
    outer.attach(MIMEMessage(original))
    assert classify(outer.as_bytes()) is None


def test_a_delay_warning_quoting_a_permanent_status_marks_nobody_undeliverable() -> None:
    report = (
        b"From: Mail Delivery System <MAILER-DAEMON@relay.example.com>\n"
        b"To: office@uk-zarechye.ru\nSubject: Delayed Mail (still being retried)\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nTHIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND.\n"
        b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.example.com\n\n"
        b"Final-Recipient: rfc822; ivan@example.ru\nAction: delayed\nStatus: 5.4.7\n"
        b"--b--\n")
    parsed = parse_mail(report, own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounce_delayed and parsed.bounced_recipient is None
