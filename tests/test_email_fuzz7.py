"""Seventh round: conversations over time, as an office inbox sees them. A resident writes, gets
our acknowledgement, forwards it to a relative, re-sends an unanswered letter, is away on
holiday with an auto-reply that marks nothing, or has an address that forwards elsewhere and
bounces; what the office should make of each."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from domovoy.app import App
from intake.email import parse_mail
from intake.email.backlog import ingest_files
from intake.email.quotes import cut_own_forward
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.peers.mail import OFFICE
from workflow.clock import ManualClock
from workflow.models import Case, Identity, OutboxItem

OWN = frozenset({OFFICE})
_ids = itertools.count(1)
ACK = ("Здравствуйте, Иван Сидоров!\n\nВаше обращение зарегистрировано под номером A-1001.\n"
       "Тип: заявка. Тема: водоснабжение и канализация. Срочность: авария.\n\n"
       "Чтобы дополнить обращение, просто ответьте на это сообщение.")


def ew(text: str) -> str:
    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


def letter(subject: str, body: str, sender: str = "Иван Сидоров <ivan.sidorov@mail.ru>", *,
           message_id: str | None = None, extra: str = "",
           ctype: str = "text/plain") -> bytes:
    name, _, addr = sender.partition(" <")
    head = (f"From: {ew(name)} <{addr}\nTo: {OFFICE}\nSubject: {ew(subject)}\n"
            "Date: Thu, 15 Jan 2026 12:00:00 +0300\n"
            f"Message-ID: <{message_id or f'fuzz7.{next(_ids)}@mail.example'}>\n{extra}"
            f"MIME-Version: 1.0\nContent-Type: {ctype}; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n\n")
    return (head + base64.encodebytes(body.encode()).decode()).replace("\n", "\r\n").encode()


async def ingest(app: App, tmp_path: Path, mail: bytes) -> dict[str, Any]:
    path = tmp_path / f"{next(_ids)}.eml"
    path.write_bytes(mail)
    async for row in ingest_files(app.intake, [path], dry_run=False, own_addresses=OWN):
        return row
    raise AssertionError("no row")


async def resolve(app: App, recorder: RecordingSender, clock: ManualClock, number: str,
                  note: str) -> str:
    """Staff resolve the case a day later; the In-Reply-To header a reply to our resolution
    letter carries (the letter's Message-ID)."""
    await app.outbox.deliver_due()
    clock.advance(timedelta(days=1))
    await app.cases.act(number, 1001, "resolve", note)
    await app.outbox.deliver_due()
    resolved = next(i for i in recorder.sent if i.purpose == "resolved")
    return f"<out-{resolved.outbox_id}>"


# --- a letter of ours forwarded on -------------------------------------------------------------

# How each client forwards our acknowledgement: the resident presses "Переслать" to write to us
# again, or a relative the resident forwarded it to writes to us with it.
_OUR_FORWARDS = {
    "yandex": ("-------- Пересылаемое сообщение --------\n"
               f"15.01.2026, 09:00, \"УК «Заречье»\" <{OFFICE}>:\n\n{ACK}\n\n"
               "-------- Конец пересылаемого сообщения --------\n"),
    "mailru": ("-------- Пересылаемое сообщение --------\n"
               f"От кого: УК «Заречье» <{OFFICE}>\nКому: Иван <ivan.sidorov@mail.ru>\n"
               "Дата: Четверг, 15 января 2026, 9:00 +03:00\n"
               f"Тема: [A-1001] Обращение зарегистрировано\n\n{ACK}\n"),
    "iphone": ("Отправлено с iPhone\n\nНачало переадресованного сообщения:\n\n"
               f"От кого: УК «Заречье» <{OFFICE}>\n"
               "Дата: 15 января 2026 г. в 9:00:00 GMT+3\nКому: ivan.sidorov@mail.ru\n"
               f"Тема: [A-1001] Обращение зарегистрировано\n\n{ACK}\n"),
    # the father forwarded it to his son (Yandex), the son forwards it to us (Gmail)
    "relative": ("---------- Forwarded message ---------\n"
                 "От: Иван Сидоров <ivan.sidorov@mail.ru>\nDate: сб, 17 янв. 2026 г. в 10:02\n"
                 "Subject: Fwd: [A-1001] Обращение зарегистрировано\n"
                 "To: Алексей <alexey.sidorov@gmail.com>\n\n\n\n"
                 "-------- Пересылаемое сообщение --------\n"
                 f"15.01.2026, 09:00, \"УК «Заречье»\" <{OFFICE}>:\n\n{ACK}\n"),
}
COMMENT = "Здравствуйте. Мастер так и не пришёл, вода в подвале стоит. Звоните: +7 926 123-45-67."


@pytest.mark.parametrize("layout", list(_OUR_FORWARDS))
def test_our_letter_forwarded_back_leaves_only_the_writers_words(layout: str) -> None:
    mail = letter("Fwd: Fwd: [A-1001] Обращение зарегистрировано",
                  f"{COMMENT}\n\n{_OUR_FORWARDS[layout]}",
                  "Алексей Сидоров <alexey.sidorov@gmail.com>")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.text == COMMENT
    # the template never reaches the classifier: "Срочность: авария" is ours
    assert "авария" in parsed.full_text and "авария" not in parsed.text


def test_a_forward_keeps_what_each_forwarder_wrote_and_any_one_elses_letter() -> None:
    father = ("Пишу за отца, мастер не пришёл.\n\n---------- Forwarded message ---------\n"
              "От: Иван <ivan@mail.ru>\nDate: сб, 17 янв. 2026 г.\nSubject: Fwd: [A-1001]\n"
              "To: Алексей <a@gmail.com>\n\nСынок, вот что прислала УК, позвони им.\n\n"
              "-------- Пересылаемое сообщение --------\n"
              f"15.01.2026, 09:00, \"УК\" <{OFFICE}>:\n\n{ACK}")
    kept = cut_own_forward(father, lambda a: a == OFFICE)
    assert kept.endswith("Сынок, вот что прислала УК, позвони им.")
    assert "A-1001." not in kept
    neighbour = ("Пересылаю письмо соседки.\n\n-------- Пересылаемое сообщение --------\n"
                 "05.12.2025, 09:00, Мария <maria46@mail.ru>:\n\nУ меня течёт с потолка.")
    assert cut_own_forward(neighbour, lambda a: a == OFFICE) == neighbour


async def test_a_relative_writing_with_our_forwarded_letter_opens_a_linked_case(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter(
        "Подвал затоплен", "В подвале дома 5 по ул. Ленина стоит вода. Иван, кв. 45."))
    son = await ingest(app, tmp_path, letter(
        "Fwd: Fwd: [A-1001] Обращение зарегистрировано",
        f"{COMMENT}\n\n{_OUR_FORWARDS['relative']}", "Алексей <alexey.sidorov@gmail.com>"))
    assert son["action"] == "new_case" and son["case"] != first["case"]
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == son["case"]))
        assert case is not None
        assert case.text == COMMENT
        linked = await session.get(Case, case.linked_case_id)
        assert linked is not None and linked.number == first["case"]


# --- auto-replies that carry no header ---------------------------------------------------------


OUTLOOK_RULE = ("Здравствуйте!\nЯ в отпуске до 25.01 с ограниченным доступом к почте. "
                "Вернусь — отвечу.\nС уважением, Ирина")


@pytest.mark.parametrize("body", [
    OUTLOOK_RULE,
    "Ваше письмо получено. Это автоматический ответ, отвечать на него не нужно.",
    "Данное сообщение сформировано автоматически. Я нахожусь в командировке.",
    "Thank you for your email. This is an automatic reply: I am out of the office until "
    "January 25 with limited access to email.",
], ids=["outlook_rule", "says_automatic", "formed_automatically", "english"])
def test_a_notice_answering_our_letter_without_a_header_is_an_auto_reply(body: str) -> None:
    """An Outlook rule "reply using a template" or a home-made responder marks nothing: its
    own words say what it is."""
    mail = letter("RE: [A-1004] Обращение решено", body, "Ирина <irina.k@outlook.com>",
                  extra="In-Reply-To: <a-1004.c3c43fdd@uk-zarechye.test>\n")
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.AUTOREPLY


@pytest.mark.parametrize("body", [
    # a resident answering our question says when to come
    "Я в отпуске до 25.01, вернусь — позвоню, тогда и приходите.",
    # a resident asks whether anybody read the letter
    "Это автоматический ответ? Где мастер, вода течёт уже третий день!",
    "Мне пришёл только автоматический ответ, а мастер так и не пришёл.",
    "Я в командировке до пятницы, в моё отсутствие дома жена, звоните ей.",
    "Я на больничном, выйду на работу 25-го, тогда и приходите.",
    # away, and says which flat to check
    "Я в отпуске до 25.01 с ограниченным доступом к почте, ключи от кв. 45 у соседки.",
], ids=["away_call_back", "asks_if_automatic", "got_only_automatic", "wife_at_home",
                       "back_at_work", "names_flat"])
def test_a_residents_reply_about_being_away_is_still_a_persons(body: str) -> None:
    mail = letter("Re: [A-1004] Нужны уточнения", body, "Ирина <irina.k@outlook.com>",
                  extra="In-Reply-To: <a-1004.c3c43fdd@uk-zarechye.test>\n")
    assert parse_mail(mail, own_addresses=OWN).automated is None


def test_a_new_letter_that_only_sounds_like_a_notice_is_a_persons() -> None:
    # no reply to anything: "Это автоматический ответ" quoted by a resident opens a case
    body = ("Ваше письмо получено. Это автоматический ответ, отвечать на него не нужно — "
            "вот что мне пришло от диспетчерской на ул. Ленина, 5.")
    assert parse_mail(letter("Диспетчерская", body), own_addresses=OWN).automated is None


async def test_an_away_notice_to_our_resolution_reopens_nothing(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter(
        "Не работает домофон", "Ул. Ленина 5, подъезд 2, кв. 33: домофон не открывает дверь.",
        "Ирина <irina.k@outlook.com>"))
    ours = await resolve(app, recorder, clock, first["case"], "Домофон отремонтирован")
    sent = len(recorder.sent)
    clock.advance(timedelta(minutes=1))
    got = await ingest(app, tmp_path, letter(
        f"RE: [{first['case']}] Обращение решено", OUTLOOK_RULE, "Ирина <irina.k@outlook.com>",
        extra=f"In-Reply-To: {ours}\n"))
    assert got["action"] == "ignored_autoreply"
    await app.outbox.deliver_due()
    assert len(recorder.sent) == sent  # no "Обращение снова в работе" to a robot
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == first["case"]))
        assert case is not None and case.stage == "resolved"


# --- a resident re-sending a letter that went unanswered ----------------------------------------


def forward_as_attachment(inner: bytes, comment: str, sender: str) -> bytes:
    name, _, addr = sender.partition(" <")
    head = (f"From: {ew(name)} <{addr}\nTo: {OFFICE}\n"
            f"Subject: {ew('Пересылаю: Вентиляция')}\nDate: Tue, 20 Jan 2026 12:00:00 +0300\n"
            f"Message-ID: <fuzz7.{next(_ids)}@yandex.example>\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="OUTER"\n\n--OUTER\n'
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            f"{base64.encodebytes(comment.encode()).decode()}--OUTER\n"
            "Content-Type: message/rfc822\n"
            'Content-Disposition: attachment; filename="letter.eml"\n\n')
    return head.replace("\n", "\r\n").encode() + inner + b"\r\n--OUTER--\r\n"


async def test_a_resident_resending_her_own_letter_as_an_attachment_continues_its_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    tatiana = "Татьяна Ким <tatiana.kim@yandex.example>"
    original = letter("Вентиляция", "Ул. Пушкина, 10, кв. 71. Третью неделю не работает "
                      "вытяжка в ванной, сырость, плесень.", tatiana, message_id="vent@ya.example")
    first = await ingest(app, tmp_path, original)
    assert first["action"] == "new_case"
    clock.advance(timedelta(days=5))
    again = await ingest(app, tmp_path, forward_as_attachment(
        original, "Повторно направляю обращение, ответа нет.", tatiana))
    assert (again["action"], again["case"]) == ("threaded", first["case"])
    # a neighbour forwarding the same letter is not on its case: a case of her own, linked
    neighbour = await ingest(app, tmp_path, forward_as_attachment(
        original, "Подтверждаю, у меня в кв. 72 то же самое.", "Анна <anna@mail.example>"))
    assert neighbour["action"] == "new_case"
    async with app.wf.sessions() as session:
        count = len((await session.scalars(select(Case))).all())
    assert count == 2


def test_only_the_senders_own_forwarded_letter_is_a_thread_hint() -> None:
    inner = letter("Вентиляция", "Не работает вытяжка.", "Татьяна <t@ya.example>",
                   message_id="vent@ya.example")
    own = parse_mail(forward_as_attachment(inner, "Повторно.", "Татьяна <t@ya.example>"))
    assert "vent@ya.example" in own.thread_hints()
    other = parse_mail(forward_as_attachment(inner, "Смотрите.", "Анна <anna@mail.example>"))
    assert "vent@ya.example" not in other.thread_hints()


# --- a bounce from an address that forwards --------------------------------------------------


def alias_bounce(returned_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.tsj-lenina5.example (Mail Delivery System)\n"
        f"To: {OFFICE}\nSubject: Undelivered Mail Returned to Sender\n"
        "Date: Thu, 15 Jan 2026 09:02:00 +0300\nMessage-ID: <dsn1@mx.tsj-lenina5.example>\n"
        "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThis is the mail system at host mx.tsj-lenina5.example."
        "\n\n<semen1957@gmail.example> (expanded from <semen@tsj-lenina5.example>): host\n"
        "    gmail-smtp-in said: 550-5.1.1 The email account does not exist.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.tsj-lenina5.example"
        "\n\nFinal-Recipient: rfc822; semen1957@gmail.example\n"
        "Original-Recipient: rfc822;semen@tsj-lenina5.example\nAction: failed\nStatus: 5.1.1\n\n"
        f"--B\nContent-Type: text/rfc822-headers\n\nFrom: {OFFICE}\n"
        "To: semen@tsj-lenina5.example\nSubject: [A-1001] Обращение зарегистрировано\n"
        f"Message-ID: <{returned_id}>\n\n--B--\n").replace("\n", "\r\n").encode()


async def test_a_bounce_after_the_residents_domain_forwarded_our_letter_marks_the_resident(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    """The resident's domain forwards to a Gmail box that is gone: the report's Final-Recipient
    is the Gmail address, which nobody here knows; the address we wrote to is the resident's."""
    first = await ingest(app, tmp_path, letter(
        "Протечка кровли", "Ул. Ленина 5, кв. 60, протекает кровля над кухней.",
        "Семён <semen@tsj-lenina5.example>"))
    await app.outbox.deliver_due()
    ack = next(i for i in recorder.sent if i.recipient == "semen@tsj-lenina5.example")
    got = await ingest(app, tmp_path, alias_bounce(f"out-{ack.outbox_id}"))
    assert (got["action"], got["case"]) == ("bounce", first["case"])
    async with app.wf.sessions() as session:
        ident = await session.scalar(select(Identity).where(
            Identity.address == "semen@tsj-lenina5.example"))
        assert ident is not None and ident.unreachable
        alert = await session.scalar(select(OutboxItem).where(
            OutboxItem.purpose == "delivery_failed"))
        assert alert is not None and "semen@tsj-lenina5.example" in alert.payload["text"]
