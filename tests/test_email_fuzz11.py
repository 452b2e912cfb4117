"""Eleventh round: what an audit found between the parser and the workflow. A bounce whose
only word of its case is in the returned letter's headers (RFC 3464's text/rfc822-headers or
message/rfc822 part) came back matched to no case, and a bounce of no case at all marked the
address undeliverable without a word to staff; an Outlook letter asking for no automatic
answers (X-Auto-Response-Suppress) got no acknowledgement but every stage notice after it; and
a raw 8-bit From with a name and no address was shown undecoded."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from domovoy.app import App
from intake.email import looks_like_mojibake, parse_mail
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.peers.mail import OFFICE
from tests.test_email_fuzz7 import OWN, ew, ingest, letter
from workflow.clock import ManualClock
from workflow.models import Identity, OutboxItem

_ids = itertools.count(1)
RESIDENT = "semen@tsj-lenina5.example"
LEAK = "Ул. Ленина 5, кв. 60, протекает кровля над кухней, вода капает на плиту."
NOTICE = ("This is the mail system at host mx.tsj-lenina5.example.\n\n"
          "I'm sorry to have to inform you that your message could not\n"
          "be delivered to one or more recipients. It's attached below.\n\n"
          "For further assistance, please send mail to postmaster.\n\n"
          "                   The mail system\n\n"
          f"<{RESIDENT}>: host mx.tsj-lenina5.example said: 550 5.1.1 <{RESIDENT}>:\n"
          "    Recipient address rejected: User unknown in local recipient table\n")


def returned_headers(subject: str, *, message_id: str = "relay.1@smtp.relay.example",
                     refs: str = "") -> str:
    """Our letter's headers as a relay rewrote them: its Message-ID is no longer ours."""
    return (f"From: =?utf-8?B?0KPQmiDCq9CX0LDRgNC10YfRjNC1wrs=?= <{OFFICE}>\nTo: {RESIDENT}\n"
            f"Subject: {ew(subject)}\nDate: Thu, 15 Jan 2026 09:01:00 +0300\n"
            f"Message-ID: <{message_id}>\n{refs}MIME-Version: 1.0\n")


def postfix_bounce(returned: str, part: str = "text/rfc822-headers", *,
                   recipient: str = RESIDENT) -> bytes:
    """A Postfix bounce, laid out as RFC 3464 says: the notice, the delivery status, and the
    returned letter (its headers alone, or all of it) in a part of its own."""
    notice = NOTICE.replace(RESIDENT, recipient)
    return (
        "From: MAILER-DAEMON@mx.tsj-lenina5.example (Mail Delivery System)\n"
        f"To: {OFFICE}\nSubject: Undelivered Mail Returned to Sender\n"
        "Date: Thu, 15 Jan 2026 09:02:00 +0300\n"
        f"Message-ID: <dsn.{next(_ids)}@mx.tsj-lenina5.example>\n"
        "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n{notice}\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.tsj-lenina5.example\n\n"
        f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
        f"--B\nContent-Type: {part}\n\n{returned.replace(RESIDENT, recipient)}\n--B--\n"
    ).replace("\n", "\r\n").encode()


def full_returned(subject: str, **kw: str) -> str:
    body = base64.encodebytes("Ваше обращение зарегистрировано.".encode()).decode()
    return (returned_headers(subject, **kw) + "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n\n" + body)


async def _open(app: App, tmp_path: Path, extra: str = "") -> str:
    first = await ingest(app, tmp_path, letter("Протечка кровли", LEAK, f"Семён <{RESIDENT}>",
                                               extra=extra))
    assert first["action"] == "new_case"
    return str(first["case"])


async def _unreachable(app: App, address: str) -> bool:
    async with app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(Identity.address == address))
        return ident is not None and ident.unreachable


async def _alerts(app: App) -> list[OutboxItem]:
    async with app.wf.sessions() as session:
        return list(await session.scalars(select(OutboxItem).where(
            OutboxItem.purpose == "delivery_failed").order_by(OutboxItem.id)))


# --- 1. a bounce names its case in the returned letter's headers ------------------------------


@pytest.mark.parametrize("part", ["text/rfc822-headers", "message/rfc822"])
def test_the_returned_letters_ids_are_the_bounces_thread_hints(part: str) -> None:
    refs = "In-Reply-To: <semen.1@tsj-lenina5.example>\nReferences: <semen.1@tsj-lenina5." \
           "example> <out-7>\n"
    returned = (returned_headers("[A-1001] Обращение зарегистрировано", refs=refs)
                if part == "text/rfc822-headers"
                else full_returned("[A-1001] Обращение зарегистрировано", refs=refs))
    parsed = parse_mail(postfix_bounce(returned, part), own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE and parsed.bounced_recipient == RESIDENT
    assert set(parsed.thread_hints()) == {"relay.1@smtp.relay.example",
                                          "semen.1@tsj-lenina5.example", "out-7"}
    # the returned letter's subject, decoded, is there for staff (and for its case tag)
    assert parsed.bounced_subject == "[A-1001] Обращение зарегистрировано"
    assert parsed.text.endswith("Returned letter: [A-1001] Обращение зарегистрировано")
    # and the server's answer, kept by RFC 3464 in a part listed as a file, comes first
    assert parsed.text.startswith(f"{RESIDENT}: 550 5.1.1 User unknown\n\n")
    assert not looks_like_mojibake(parsed.text)


@pytest.mark.parametrize("part", ["text/rfc822-headers", "message/rfc822"])
async def test_a_postfix_bounce_of_an_unknown_message_id_finds_its_case_by_the_tag(
        app: App, recorder: RecordingSender, tmp_path: Path, part: str) -> None:
    number = await _open(app, tmp_path)
    await app.outbox.deliver_due()
    subject = f"[{number}] Обращение зарегистрировано"
    returned = returned_headers(subject) if part == "text/rfc822-headers" \
        else full_returned(subject)
    got = await ingest(app, tmp_path, postfix_bounce(returned, part))
    # before: action "bounce" with case None, and staff heard nothing
    assert (got["action"], got["case"]) == ("bounce", number)
    assert await _unreachable(app, RESIDENT)
    [alert] = await _alerts(app)
    assert RESIDENT in alert.payload["text"] and number in alert.payload["text"]
    assert "User unknown" in alert.payload["text"]  # what the mail system said, not "bounce"


async def test_a_bounce_finds_its_case_through_the_returned_letters_references(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    number = await _open(app, tmp_path)
    await app.outbox.deliver_due()
    ack = next(i for i in recorder.sent if i.recipient == RESIDENT)
    # a relay gave our letter a new Message-ID and a subject of its own; the References we
    # wrote (the resident's letter, our acknowledgement) still name the conversation
    refs = f"In-Reply-To: <out-{ack.outbox_id}>\nReferences: <out-{ack.outbox_id}>\n"
    got = await ingest(app, tmp_path, postfix_bounce(returned_headers("Уведомление",
                                                                      refs=refs)))
    assert (got["action"], got["case"]) == ("bounce", number)


async def test_a_bounce_of_no_case_tells_staff_once_a_day_in_russian(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    await _open(app, tmp_path)
    await app.outbox.deliver_due()
    recorder.sent.clear()
    # a letter staff sent from the office mailbox by hand: no tag, no id of ours
    bounce = postfix_bounce(returned_headers("Счёт за декабрь"))
    got = await ingest(app, tmp_path, bounce)
    assert (got["action"], got["case"]) == ("bounce", None)
    assert await _unreachable(app, RESIDENT)
    await app.outbox.deliver_due()
    [alert] = [i for i in recorder.sent if i.channel == "staff"]
    # before: the address was marked undeliverable and nobody was told
    assert alert.recipient.startswith("chat:") and alert.case_id is None
    assert RESIDENT in alert.text and "User unknown" in alert.text
    assert "не найдено" in alert.text and "Семён" in alert.text
    # a bounce storm: the same address bounces again and again that day, staff hear it once
    for _ in range(5):
        clock.advance(timedelta(minutes=20))
        await ingest(app, tmp_path, postfix_bounce(returned_headers("Счёт за декабрь")))
    await app.outbox.deliver_due()
    assert len([i for i in recorder.sent if i.channel == "staff"]) == 1
    clock.advance(timedelta(days=1))
    await ingest(app, tmp_path, postfix_bounce(returned_headers("Счёт за декабрь")))
    await app.outbox.deliver_due()
    assert len([i for i in recorder.sent if i.channel == "staff"]) == 2


async def test_bounces_for_addresses_nobody_knows_reach_staff_once_a_day_in_all(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    # backscatter: mail forged with the office's address bounces from strangers' servers
    for n in range(6):
        got = await ingest(app, tmp_path, postfix_bounce(returned_headers("Выгодное предложение"),
                                                         recipient=f"user{n}@spam.example"))
        assert (got["action"], got["case"]) == ("bounce", None)
    await app.outbox.deliver_due()
    alerts = [i for i in recorder.sent if i.channel == "staff"]
    assert len(alerts) == 1 and "user0@spam.example" in alerts[0].text


def test_the_no_case_alert_renders_in_english_too(app: App) -> None:
    en = app.wf.renderer.render("delivery_failed", "en", html=False, case=None,
                                channel="email", recipient=RESIDENT, reason="550 User unknown",
                                resident=None, fallback=None, office="УК")
    assert RESIDENT in en.text and "no case found" in en.text.lower()
    assert "None" not in en.text


# --- 2. X-Auto-Response-Suppress: nothing automatic, staff's own answers still go --------------

SUPPRESS = "X-Auto-Response-Suppress: All\n"


def _to_resident(recorder: RecordingSender) -> list[str]:
    return [i.purpose for i in recorder.sent if i.recipient == RESIDENT]


async def test_a_letter_asking_for_no_auto_reply_gets_no_automatic_message_at_all(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number = await _open(app, tmp_path, extra=SUPPRESS)
    clock.advance(timedelta(hours=1))
    await app.cases.act(number, 1001, "take")
    # what staff write themselves still goes: their question and their answer
    await app.cases.act(number, 1001, "need_info", "Над какой комнатой течёт?")
    await app.cases.reply(number, 1001, "Мастер придёт завтра с 10 до 12.")
    clock.advance(timedelta(days=1))
    await app.cases.act(number, 1001, "resolve", "Кровля залатана")
    clock.advance(timedelta(days=7))
    await app.cases.act(number, 1001, "close")
    await app.outbox.deliver_due()
    # before: no acknowledgement, but "в работе", "решено, оцените от 1 до 5" and "закрыто"
    # went to the address that asked for no automatic answers
    assert _to_resident(recorder) == ["need_info", "staff_reply"]
    async with app.wf.sessions() as session:
        held = list(await session.scalars(select(OutboxItem.purpose).where(
            OutboxItem.channel == "email").order_by(OutboxItem.id)))
    assert held == ["need_info", "staff_reply"]  # not even queued as "suppressed"


async def test_asking_for_no_auto_reply_in_a_later_letter_holds_the_rest_back(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number = await _open(app, tmp_path)  # from the phone: acknowledged as usual
    await app.outbox.deliver_due()
    assert _to_resident(recorder) == ["ack"]
    clock.advance(timedelta(hours=2))
    got = await ingest(app, tmp_path, letter(f"Re: [{number}] Обращение зарегистрировано",
                                             "Добавлю: протекает и в коридоре.",
                                             f"Семён <{RESIDENT}>", extra=SUPPRESS))
    assert got["action"] == "threaded"
    await app.cases.act(number, 1001, "take")
    await app.cases.act(number, 1001, "resolve", "Кровля залатана")
    await app.cases.reply(number, 1001, "Проверьте, пожалуйста, коридор.")
    await app.outbox.deliver_due()
    assert _to_resident(recorder) == ["ack", "staff_reply"]


async def test_a_reopening_letter_asking_for_no_auto_reply_is_not_answered(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number = await _open(app, tmp_path, extra=SUPPRESS)
    await app.cases.act(number, 1001, "resolve", "Кровля залатана")
    clock.advance(timedelta(days=1))
    got = await ingest(app, tmp_path, letter(f"RE: [{number}] Обращение решено",
                                             "Не починили, кровля опять протекает.",
                                             f"Семён <{RESIDENT}>", extra=SUPPRESS))
    assert got["action"] == "reopened"
    clock.advance(timedelta(days=60))  # long after: a new case, linked
    await app.cases.act(number, 1001, "resolve", "Кровля заменена")
    clock.advance(timedelta(days=60))
    got = await ingest(app, tmp_path, letter(f"RE: [{number}] Обращение решено",
                                             "Снова течёт кровля над кухней, кв. 60.",
                                             f"Семён <{RESIDENT}>", extra=SUPPRESS))
    assert got["action"] == "new_case" and not got["acknowledged"]
    await app.outbox.deliver_due()
    assert _to_resident(recorder) == []
    # staff see every step of it
    assert any(i.channel == "staff" and i.purpose == "staff_reopened" for i in recorder.sent)


async def test_an_ordinary_letter_still_gets_its_stage_notices(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    number = await _open(app, tmp_path)
    await app.cases.act(number, 1001, "take")
    await app.cases.act(number, 1001, "resolve", "Кровля залатана")
    await app.outbox.deliver_due()
    assert _to_resident(recorder) == ["ack", "stage", "resolved"]


# --- 3. a raw 8-bit From with a name and no address ---------------------------------------------


@pytest.mark.parametrize("codec", ["utf-8", "cp1251", "koi8_r"])
def test_a_raw_8bit_from_name_without_an_address_is_read(codec: str) -> None:
    # talon's unicode_msg: "From: Сергей Обухов" in raw UTF-8 and no address at all
    body = "Добрый день.\n\nМы являемся стартапом, хотим использовать ваш продукт.\n\n" \
           "С уважением,\nСергей Обухов\n"
    raw = ("From: Сергей Обухов\nSubject: Предложение\n\n" + body).encode(codec)
    parsed = parse_mail(raw)
    assert parsed.sender is None and parsed.sender_name == "Сергей Обухов"
    note = next(n for n in parsed.notes if "manual review" in n)
    assert "Сергей Обухов" in note and not any("\udc80" <= c <= "\udcff" for c in note)


def test_a_name_with_an_empty_address_is_read_too() -> None:
    parsed = parse_mail("From: Сергей Обухов <>\n\nДобрый день.".encode())
    assert parsed.sender is None and parsed.sender_name == "Сергей Обухов"
    assert all("\\udc" not in repr(n) for n in parsed.notes)


def test_a_bare_word_from_stays_a_mailbox_name_not_a_person() -> None:
    # "From: MAILER-DAEMON" names a mailbox: still a bounce, and no person's name
    parsed = parse_mail(b"From: MAILER-DAEMON\nSubject: failure notice\n\n"
                        b"<ivan@example.ru>: 550 5.1.1 user unknown")
    assert parsed.automated is Automated.BOUNCE and parsed.sender_name is None
