"""Twelfth round: letters that look alike but are not the same letter. Short answers under our
subject, photos sent one per letter, a script's constant Message-ID: each is kept, while a
letter that really is sent (or delivered) twice still counts once."""

from __future__ import annotations

import email
import email.policy
import itertools
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy import select

from domovoy.app import App
from domovoy.peers.dovecot import free_port
from domovoy.peers.smtp_sink import SmtpSink
from intake.email import parse_mail
from intake.email.smtp import SmtpSender
from tests.conftest import RecordingSender
from tests.peers.mail import MAIL_DOMAIN, smtp_config
from tests.test_email_fuzz7 import ingest, letter
from tests.test_email_fuzz8 import with_file
from tests.test_email_smtp import outgoing
from workflow.clock import ManualClock
from workflow.models import Case, Message
from workflow.outbox import PermanentSendError

_ids = itertools.count(1)
IVAN = "Иван Петров <ivan.petrov@mail.ru>"


def photo(n: int) -> bytes:
    """A distinct small JPEG-looking file: the n-th photo from the resident's phone."""
    return b"\xff\xd8\xff\xe0" + bytes([n % 256]) * 300


def reply(subject: str, body: str, answers: str, *, sender: str = IVAN,
          message_id: str | None = None) -> bytes:
    """A reply to the letter whose Message-ID is ``answers`` (angle brackets included)."""
    return letter(subject, body, sender, message_id=message_id,
                  extra=f"In-Reply-To: {answers}\nReferences: {answers}\n")


async def incoming(app: App, number: str) -> list[Message]:
    """The resident's messages logged on a case, oldest first."""
    async with app.wf.sessions() as session:
        return list(await session.scalars(
            select(Message).join(Case, Case.id == Message.case_id)
            .where(Case.number == number, Message.direction == "in").order_by(Message.id)))


async def relayed(app: App, recorder: RecordingSender) -> list[str]:
    """The residents' words the staff chat was sent, in order."""
    await app.outbox.deliver_due()
    return [i.text for i in recorder.sent if i.purpose == "staff_resident_message"]


async def asked(app: App, recorder: RecordingSender, number: str, question: str) -> str:
    """Staff ask the resident ``question``; the Message-ID of the letter that carried it."""
    await app.cases.act(number, 1001, "need_info", question)
    await app.outbox.deliver_due()
    sent = [i for i in recorder.sent if i.purpose == "need_info"][-1]
    return f"<out-{sent.outbox_id}>"


# --- 1. the same short answer to two questions ----------------------------------------------


async def leak_case(app: App, tmp_path: Path,
                    message_id: str | None = None) -> tuple[str, str]:
    """A resident's leak report by mail: its case number, and the subject replies carry."""
    first = await ingest(app, tmp_path, letter(
        "Течёт кран", "Течёт кран на кухне, ул. Ленина 5, кв. 12.", IVAN, message_id=message_id))
    number = str(first["case"])
    return number, f"Re: [{number}] Нужны уточнения"


async def test_da_to_two_different_questions_is_two_answers(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number, subject = await leak_case(app, tmp_path)
    q1 = await asked(app, recorder, number, "Вы будете дома завтра с 10 до 12?")
    clock.advance(timedelta(minutes=5))
    yes1 = await ingest(app, tmp_path, reply(subject, "Да", q1))
    q2 = await asked(app, recorder, number, "Можете обеспечить доступ в подвал?")
    clock.advance(timedelta(minutes=20))
    yes2 = await ingest(app, tmp_path, reply(subject, "Да", q2))
    assert (yes1["action"], yes2["action"]) == ("threaded", "threaded")
    assert [m.text for m in await incoming(app, number)][1:] == ["Да", "Да"]
    assert [t.rsplit("\n", 1)[-1] for t in await relayed(app, recorder)] == ["Да", "Да"]
    # the phone sending the second answer again, under a new Message-ID: staff heard it once
    clock.advance(timedelta(minutes=1))
    again = await ingest(app, tmp_path, reply(subject, "Да", q2))
    assert again["action"] == "duplicate"
    assert len(await incoming(app, number)) == 3


async def test_da_to_two_questions_both_asked_before_the_first_answer_is_two_answers(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    """Staff ask two questions in a row; the resident answers "Да" to each, in turn. Both
    questions were written before either answer, so only what each answer replies to tells
    them apart (it did not: the second "Да" was dropped as the first sent again)."""
    number, subject = await leak_case(app, tmp_path)
    q1 = await asked(app, recorder, number, "Вы будете дома завтра с 10 до 12?")
    clock.advance(timedelta(minutes=1))
    q2 = await asked(app, recorder, number, "Можете обеспечить доступ в подвал?")
    clock.advance(timedelta(minutes=5))
    yes1 = await ingest(app, tmp_path, reply(subject, "Да", q1))
    clock.advance(timedelta(minutes=2))
    yes2 = await ingest(app, tmp_path, reply(subject, "Да", q2))
    assert (yes1["action"], yes2["action"]) == ("threaded", "threaded")
    assert [m.text for m in await incoming(app, number)][1:] == ["Да", "Да"]
    again = await ingest(app, tmp_path, reply(subject, "Да", q1))
    assert again["action"] == "duplicate"


async def test_da_answering_letters_we_have_no_record_of_is_kept(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    """Questions staff wrote from their own mailbox: nothing shows the two answers are one."""
    number, _ = await leak_case(app, tmp_path)
    got = [await ingest(app, tmp_path, letter(
        f"Re: [{number}] Вопрос по обращению", "Да", IVAN,
        extra=f"In-Reply-To: <staff{n}@office.example>\n")) for n in (1, 2)]
    assert [g["action"] for g in got] == ["threaded", "threaded"]
    assert len(await incoming(app, number)) == 3


# --- 2. photos, one letter each ----------------------------------------------------------------


async def test_photos_sent_one_per_letter_under_one_subject_all_reach_the_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    letters = [with_file(letter("Протечка", "Отправлено с iPhone", IVAN),
                         f"IMG_020{n}.jpeg", photo(n), "image/jpeg") for n in (1, 2, 3)]
    got = []
    for mail in letters:
        got.append(await ingest(app, tmp_path, mail))
        clock.advance(timedelta(minutes=1))
    assert [g["action"] for g in got] == ["new_case", "threaded", "threaded"]
    assert {g["case"] for g in got} == {got[0]["case"]}
    files = [a["filename"] for m in await incoming(app, str(got[0]["case"]))
             for a in m.attachments]
    assert files == ["IMG_0201.jpeg", "IMG_0202.jpeg", "IMG_0203.jpeg"]
    # the third letter sent again (a new Message-ID, the very same photo) is no fourth photo
    again = await ingest(app, tmp_path, with_file(letter("Протечка", "Отправлено с iPhone", IVAN),
                                                  "IMG_0203.jpeg", photo(3), "image/jpeg"))
    assert again["action"] == "duplicate"


async def test_the_same_report_again_with_another_photo_adds_the_photo(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    text = "Течёт с потолка в ванной, ул. Ленина 5, кв. 12. Фото во вложении."
    first = await ingest(app, tmp_path, with_file(letter("Протечка с потолка", text, IVAN),
                                                  "IMG_0001.jpg", photo(1), "image/jpeg"))
    clock.advance(timedelta(minutes=3))
    # the same name and size, other bytes: a phone numbering photos anew in each letter
    second = await ingest(app, tmp_path, with_file(letter("Протечка с потолка", text, IVAN),
                                                   "IMG_0001.jpg", photo(2), "image/jpeg"))
    assert (second["action"], second["case"]) == ("threaded", first["case"])
    assert len(await incoming(app, str(first["case"]))) == 2


async def test_photo_only_replies_to_our_acknowledgement_are_all_kept_without_our_words(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number, _ = await leak_case(app, tmp_path, message_id="report@mail.ru")
    got = []
    for n in (1, 2):
        clock.advance(timedelta(minutes=2))
        got.append(await ingest(app, tmp_path, with_file(
            reply(f"Re: [{number}] Обращение зарегистрировано", "\nОтправлено с iPhone",
                  "<report@mail.ru>"), f"IMG_010{n}.jpeg", photo(n), "image/jpeg")))
    assert [g["action"] for g in got] == ["threaded", "threaded"]
    logged = await incoming(app, number)
    assert [m.text for m in logged[1:]] == ["", ""]
    assert "Обращение зарегистрировано" not in "".join(await relayed(app, recorder))


async def test_words_typed_into_our_subject_are_still_the_reply(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number, _ = await leak_case(app, tmp_path, message_id="report2@mail.ru")
    typed = "мастер так и не пришёл"
    got = await ingest(app, tmp_path, reply(
        f"Re: [{number}] Обращение зарегистрировано — {typed}", "Отправлено с iPhone",
        "<report2@mail.ru>"))
    assert got["action"] == "threaded"
    assert (await incoming(app, number))[-1].text.endswith(typed)


# --- 3. one Message-ID, two letters ------------------------------------------------------------


async def test_another_senders_letter_under_a_taken_message_id_opens_its_own_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    anna = letter("Не работает лифт", "Не работает лифт во втором подъезде, ул. Ленина 5.",
                  "Анна <anna@example.ru>", message_id="1@localhost")
    oleg = letter("Протечка с крыши", "С крыши течёт вода в квартиру 45, ул. Мира 3. Срочно!",
                  "Олег <oleg@example.ru>", message_id="1@localhost")
    first = await ingest(app, tmp_path, anna)
    second = await ingest(app, tmp_path, oleg)
    assert (first["action"], second["action"]) == ("new_case", "new_case")
    assert first["case"] != second["case"]
    # both delivered again (a re-import, an IMAP re-scan): nothing new
    assert [(await ingest(app, tmp_path, m))["action"] for m in (oleg, anna)] == \
        ["duplicate", "duplicate"]
    await app.outbox.deliver_due()
    assert sorted(i.recipient for i in recorder.sent if i.purpose == "ack") == \
        ["anna@example.ru", "oleg@example.ru"]


async def test_the_same_sender_reusing_a_message_id_for_a_new_report_is_heard(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    """A house's meter script that writes every letter with one Message-ID."""
    got = [await ingest(app, tmp_path, letter(subject, body, "Скрипт <meter@example.ru>",
                                              message_id="1@localhost"))
           for subject, body in (("Лифт", "Не работает лифт, ул. Ленина 5."),
                                 ("Свет", "Нет света в подъезде 2, ул. Ленина 5."))]
    assert [g["action"] for g in got] == ["new_case", "new_case"]


async def test_a_letter_delivered_twice_under_its_message_id_is_one_letter(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    mail = with_file(letter("Протечка", "Течёт с потолка, ул. Ленина 5, кв. 12.", IVAN,
                            message_id="once@mail.ru"), "IMG_1.jpg", photo(1), "image/jpeg")
    assert (await ingest(app, tmp_path, mail))["action"] == "new_case"
    clock.advance(timedelta(days=2))
    assert (await ingest(app, tmp_path, mail))["action"] == "duplicate"


def test_photo_letters_carry_a_digest_of_their_bytes() -> None:
    one, two = (parse_mail(with_file(letter("Фото", "", IVAN), "IMG.jpg", photo(n), "image/jpeg"))
                for n in (1, 2))
    assert one.attachments[0].digest and two.attachments[0].digest
    assert one.attachments[0].digest != two.attachments[0].digest


async def test_look_alike_letters_on_postgres(pg_app: App, clock: ManualClock,
                                              tmp_path: Path) -> None:
    """The same reading of files, references and our subjects on PostgreSQL."""
    first = await ingest(pg_app, tmp_path, letter(
        "Течёт кран", "Течёт кран на кухне, ул. Ленина 5, кв. 12.", IVAN,
        message_id="pg-report@mail.ru"))
    number = str(first["case"])
    photos = [with_file(reply(f"Re: [{number}] Обращение зарегистрировано", "",
                              "<pg-report@mail.ru>"), f"IMG_{n}.jpeg", photo(n), "image/jpeg")
              for n in (1, 2, 2)]
    got = [(await ingest(pg_app, tmp_path, mail))["action"] for mail in photos]
    assert got == ["threaded", "threaded", "duplicate"]
    assert [m.text for m in await incoming(pg_app, number)] == [
        "Течёт кран на кухне, ул. Ленина 5, кв. 12.", "", ""]
    other = await ingest(pg_app, tmp_path, letter("Лифт", "Не работает лифт, ул. Ленина 5.",
                                                  "Анна <anna@example.ru>",
                                                  message_id="pg-report@mail.ru"))
    assert other["action"] == "new_case" and other["case"] != number


# --- 5. a text file shown inline; 7. voice messages, videos and RTF ------------------------------

APPLE_FILES = """From: Ivan <ivan@example.ru>
To: office@example.org
Subject: Pokazaniya
Message-ID: <apple-files@example.ru>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="Apple-Mail=_1"

--Apple-Mail=_1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Показания во вложении.

--Apple-Mail=_1
Content-Disposition: inline; filename="pokazaniya.txt"
Content-Type: text/plain; x-unix-mode=0644; name="pokazaniya.txt"

HVS 123
GVS 456
--Apple-Mail=_1
Content-Type: text/plain; charset=utf-8

Ivan, kv. 12
--Apple-Mail=_1--
""".encode()


def test_a_text_file_apple_mail_shows_inline_is_a_file_not_the_letter() -> None:
    parsed = parse_mail(APPLE_FILES)
    assert [a.filename for a in parsed.attachments] == ["pokazaniya.txt"]
    assert "HVS" not in parsed.text and "Ivan, kv. 12" in parsed.text


def test_a_named_text_part_that_is_the_whole_letter_is_still_read() -> None:
    only = (b"From: ivan@example.ru\nSubject: Kran\nMessage-ID: <named-body@example.ru>\n"
            b"Content-Type: text/plain; charset=utf-8; name=\"body.txt\"\n"
            b"Content-Disposition: inline; filename=\"body.txt\"\n\nTechet kran, kv. 5.\n")
    parsed = parse_mail(only)
    assert parsed.text == "Techet kran, kv. 5." and parsed.attachments == ()


def _files_only(*parts: tuple[str, str]) -> bytes:
    body = "".join(f"--b\nContent-Type: {ctype}\n{disposition}"
                   "Content-Transfer-Encoding: base64\n\nAAAAGGZ0eXA=\n"
                   for ctype, disposition in parts)
    return (f"From: petr@example.ru\nSubject: \nMessage-ID: <voice@example.ru>\n"
            f"Content-Type: multipart/mixed; boundary=\"b\"\n\n{body}--b--\n").encode()


def test_voice_messages_and_phone_videos_get_names_that_open() -> None:
    types = ["audio/ogg", "audio/amr", "audio/aac", "audio/mp4", "audio/x-wav",
             "video/quicktime", "text/rtf"]
    parsed = parse_mail(_files_only(*((t, "Content-Disposition: attachment\n") for t in types)))
    assert [a.filename.rpartition(".")[2] for a in parsed.attachments] == \
        ["ogg", "amr", "aac", "m4a", "wav", "mov", "rtf"]


RTF = (rb"{\rtf1\ansi\ansicpg1251\deff0{\fonttbl{\f0 Arial;}}\f0\fs20 "
       rb"\'d2\'e5\'f7\'b8\'f2 \'ea\'f0\'e0\'ed, \'ea\'e2. 5.\par}")


async def test_a_letter_written_in_rtf_is_read(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    mail = (b"From: Ivan <ivan@example.ru>\nTo: office@example.org\nSubject: Kran\n"
            b"Date: Thu, 15 Jan 2026 12:00:00 +0300\nMessage-ID: <rtf-body@example.ru>\n"
            b"MIME-Version: 1.0\nContent-Type: text/rtf\n\n" + RTF + b"\n")
    parsed = parse_mail(mail)
    assert parsed.text == "Течёт кран, кв. 5."
    got = await ingest(app, tmp_path, mail)
    assert (got["action"], got["category"]) == ("new_case", "plumbing")


# --- 6. a mailbox whose name is not ASCII ---------------------------------------------------------


class _Keeper:
    """An SMTP server's handler that keeps each envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


async def test_a_cyrillic_mailbox_is_written_to_with_smtputf8(
        smtp_sink: SmtpSink, clock: ManualClock) -> None:
    sender = SmtpSender(smtp_config(smtp_sink), MAIL_DOMAIN, clock=clock)
    await sender.send(outgoing(recipient="иван@почта.рф"))
    [got] = await smtp_sink.wait_for(1)
    assert got.rcpt_tos == ("иван@почта.рф",)
    assert "SMTPUTF8" in [o.upper() for o in got.mail_options]
    assert email.message_from_bytes(got.data, policy=email.policy.SMTPUTF8)["To"] \
        == "иван@почта.рф"


async def test_a_cyrillic_mailbox_behind_a_server_without_smtputf8_is_unreachable_at_once(
        clock: ManualClock) -> None:
    keeper = _Keeper()
    port = free_port("127.0.0.1")
    server = Controller(keeper, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    server.start()
    try:
        # an SmtpSink never started: only its address, for the settings
        sender = SmtpSender(smtp_config(SmtpSink(port=port)), MAIL_DOMAIN, clock=clock)
        with pytest.raises(PermanentSendError, match="SMTPUTF8") as failed:
            await sender.send(outgoing(recipient="иван@почта.рф"))
        # an ASCII mailbox on the same server is written to as always
        await sender.send(outgoing(recipient="ivan@xn--80a1acny.xn--p1ai"))
    finally:
        server.stop()
    assert failed.value.unreachable
    assert [e.rcpt_tos for e in keeper.envelopes] == [["ivan@xn--80a1acny.xn--p1ai"]]


def test_a_cyrillic_sender_is_kept_as_written() -> None:
    parsed = parse_mail("From: Иван <иван@почта.рф>\nSubject: Кран\nMessage-ID: <c@x.ru>\n"
                        "Content-Type: text/plain; charset=utf-8\n\nТечёт кран, кв. 5.\n"
                        .encode())
    assert parsed.sender == "иван@почта.рф"


# --- 8. a Date header with a zone's name ---------------------------------------------------------


def _dated(date: str, received: str = "") -> bytes:
    return (f"{received}From: ivan@example.ru\nSubject: Кран\nDate: {date}\n"
            "Message-ID: <dated@example.ru>\nContent-Type: text/plain; charset=utf-8\n\n"
            "Течёт кран, кв. 5.\n").encode()


@pytest.mark.parametrize(("date", "utc_hour"), [
    ("Mon, 3 Mar 2025 10:00:00 MSK", 7),
    ("3 Mar 2025 10:00 msk", 7),
    ("Mon, 3 Mar 2025 10:00:00 YEKT", 5),
    ("Mon, 3 Mar 2025 10:00:00 +0300 (MSK)", 7),
    ("Mon, 3 Mar 2025 10:00:00 GMT", 10),
])
def test_a_date_in_moscow_time_by_name_is_moscow_time(date: str, utc_hour: int) -> None:
    parsed = parse_mail(_dated(date))
    assert parsed.date is not None and parsed.date.tzinfo is not None
    assert parsed.date.astimezone(UTC).hour == utc_hour


def test_a_zone_name_nobody_knows_leaves_the_time_to_the_receiving_server() -> None:
    received = "Received: from mx.example.ru by mx.office.example; Mon, 3 Mar 2025 10:01:07 +0300\n"
    parsed = parse_mail(_dated("Mon, 3 Mar 2025 10:00:00 XYZT", received))
    assert parsed.date is not None and parsed.date.isoformat() == "2025-03-03T10:01:07+03:00"
    assert any("time zone unknown" in n for n in parsed.notes)
