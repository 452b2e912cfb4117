"""Sixth round of real-inbox mail: what a Russian housing office receives from site forms,
scanners, Outlook, iPhone and mail servers, and what the office should make of it."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

from domovoy.app import App
from intake.email import parse_mail
from intake.email.backlog import ingest_files
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.peers.mail import OFFICE

OWN = frozenset({OFFICE})
ACK_ID = "a-1001.7fac59723ba00272fcc6b4febb57f796@uk-zarechye.test"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 8
_ids = itertools.count(1)


def b64(data: str | bytes) -> str:
    return base64.encodebytes(data.encode() if isinstance(data, str) else data).decode()


def ew(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def raw(*parts: str | bytes) -> bytes:
    out = b"".join(p.encode() if isinstance(p, str) else p for p in parts)
    return out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def head(subject: str, sender: str = "Иван Сидоров <ivan.sidorov@mail.ru>", *extra: str) -> str:
    name, _, addr = sender.partition(" <")
    lines = [f"From: {ew(name)} <{addr}", f"To: {OFFICE}", f"Subject: {ew(subject)}",
             "Date: Wed, 12 Mar 2025 09:00:00 +0300",
             f"Message-ID: <fuzz6.{next(_ids)}@mail.example>",
             "MIME-Version: 1.0", *extra]
    return "\n".join(lines) + "\n"


# --- who wrote it ------------------------------------------------------------------------------


BITRIX_FORM = """Информационное сообщение сайта УК Заречье
------------------------------------------

Вам было отправлено сообщение через форму обратной связи

Автор: Ольга Сергеевна
E-mail автора: olga.s@yandex.ru

Текст сообщения:
Здравствуйте! В доме 5 по ул. Ленина, кв. 12, третий день нет горячей воды.

Сообщение сгенерировано автоматически.
"""


def test_bitrix_feedback_form_is_answered_at_its_authors_address() -> None:
    """Bitrix's standard feedback template says "E-mail автора:" and puts the message under a
    "Текст сообщения:" line; it is sent from the site's mailbox without a Reply-To."""
    mail = raw("From: info@uk-site.example\n", f"To: {OFFICE}\n",
               f"Subject: {ew('УК Заречье: Сообщение из формы обратной связи')}\n",
               "Message-ID: <form1@uk-site.example>\nDate: Tue, 11 Mar 2025 12:15:00 +0300\n",
               "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n",
               b64(BITRIX_FORM))
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.sender == "olga.s@yandex.ru"
    assert parsed.sender_name == "Ольга Сергеевна"
    assert "нет горячей воды" in parsed.text


def test_a_residents_letter_with_a_contact_line_keeps_its_sender() -> None:
    letter = ("Добрый день!\n\nТекст моей жалобы:\nсосед затопил кухню.\n\n"
              "E-mail для связи: ivan.sidorov@mail.ru\n")
    parsed = parse_mail(raw(head("Затопили"), "Content-Type: text/plain; charset=utf-8\n\n",
                            letter), own_addresses=OWN)
    assert parsed.sender == "ivan.sidorov@mail.ru"


def test_the_offices_scanner_is_not_acknowledged() -> None:
    """A scanned paper statement mailed by the office's copier: staff read it, and nobody
    reads the scanner's mailbox."""
    mail = raw("From: scan@uk-zarechye.example\n", f"To: {OFFICE}\n",
               "Subject: Message from KM_C250i\nDate: Tue, 11 Mar 2025 12:15:00 +0300\n",
               "Message-ID: <scan.1@KM_C250i>\nMIME-Version: 1.0\n",
               'Content-Type: application/pdf; name="SKM_C250i25031112150.pdf"\n',
               'Content-Disposition: attachment; filename="SKM_C250i25031112150.pdf"\n',
               "Content-Transfer-Encoding: base64\n\n", b64(b"%PDF-1.4\n%%EOF\n" * 10))
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None
    assert parsed.sender is None  # manual review: nothing is sent
    assert [a.filename for a in parsed.attachments] == ["SKM_C250i25031112150.pdf"]


# --- bounces and receipts ---------------------------------------------------------------------


def global_bounce(returned_id: str, recipient: str) -> bytes:
    """Postfix's bounce of a mail sent with SMTPUTF8 (RFC 6533)."""
    return raw(
        "Return-Path: <>\nFrom: MAILER-DAEMON@mx.uk-zarechye.test (Mail Delivery System)\n",
        f"To: {OFFICE}\nSubject: Undelivered Mail Returned to Sender\n",
        "Date: Wed, 12 Mar 2025 09:00:00 +0300\nMessage-Id: <bounce.1@mx.uk-zarechye.test>\n",
        "MIME-Version: 1.0\n",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n',
        "--B\nContent-Type: text/plain; charset=utf-8\n\n",
        "I'm sorry to have to inform you that your message could not\n",
        "be delivered to one or more recipients.\n\n",
        "--B\nContent-Type: message/global-delivery-status\nContent-Transfer-Encoding: 8bit\n\n",
        "Reporting-MTA: dns; mx.uk-zarechye.test\n\n",
        f"Final-Recipient: utf-8; {recipient}\nAction: failed\nStatus: 5.1.1\n",
        "Diagnostic-Code: smtp; 550 5.1.1 Пользователь не найден\n\n",
        "--B\nContent-Type: message/global-headers\nContent-Transfer-Encoding: 8bit\n\n",
        f"From: УК «Заречье» <{OFFICE}>\nTo: {recipient}\n",
        f"Subject: [A-1001] Обращение зарегистрировано\nMessage-ID: <{returned_id}>\n\n",
        "--B--\n")


def test_an_smtputf8_bounce_names_the_failed_address_and_our_letter() -> None:
    parsed = parse_mail(global_bounce(ACK_ID, "иванова@почта-дома.рф"), own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient == "иванова@почта-дома.рф"
    assert parsed.bounced_message_ids == (ACK_ID,)
    assert [a.filename for a in parsed.attachments] == ["delivery-status.txt",
                                                        "attachment-3.txt"]
    assert all(a.size > 0 for a in parsed.attachments)


async def test_an_smtputf8_bounce_of_our_acknowledgement_finds_its_case(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    letter = tmp_path / "1.eml"
    letter.write_bytes(raw(head("Протечка в ванной"), "Content-Type: text/plain; charset=utf-8\n\n",
                           "С потолка в ванной кв. 45, ул. Ленина, 5 капает вода.\n"))
    first = [r async for r in ingest_files(app.intake, [letter], dry_run=False,
                                           own_addresses=OWN)]
    assert first[0]["action"] == "new_case"
    await app.outbox.deliver_due()
    ack = next(item for item in recorder.sent if item.recipient == "ivan.sidorov@mail.ru")
    bounce = tmp_path / "2.eml"
    bounce.write_bytes(global_bounce(f"out-{ack.outbox_id}", "ivan.sidorov@mail.ru"))
    got = [r async for r in ingest_files(app.intake, [bounce], dry_run=False,
                                         own_addresses=OWN)]
    assert got[0]["action"] == "bounce"
    assert got[0]["case"] == first[0]["case"]


def test_a_read_receipt_written_as_a_letter_is_not_answered() -> None:
    receipt = ("Ваше сообщение\n\n  Кому: a.smirnov@bank.example\n"
               "  Тема: [A-1001] Обращение зарегистрировано\n  Отправлено: 11.03.2025 12:20\n\n"
               "было прочитано 12.03.2025 9:00.\n")
    parsed = parse_mail(raw(head("Прочитано: [A-1001] Обращение зарегистрировано",
                                 "Смирнов <a.smirnov@bank.example>"),
                            "Content-Type: text/plain; charset=utf-8\n\n", receipt),
                        own_addresses=OWN)
    assert parsed.automated is Automated.AUTOREPLY
    lotus = parse_mail(raw(head("Return Receipt", "Smirnov <a.smirnov@bank.example>"),
                           "Content-Type: text/plain; charset=utf-8\n\n",
                           "Your document: [A-1001]\nwas received by: A Smirnov\n"),
                       own_addresses=OWN)
    assert lotus.automated is Automated.AUTOREPLY
    # a resident who read the notice and writes about it is a person
    person = parse_mail(raw(head("Прочитала объявление", "Анна <anna@mail.example>"),
                            "Content-Type: text/plain; charset=utf-8\n\n",
                            "Объявление было прочитано всеми жильцами, но воду так и не дали.\n"),
                        own_addresses=OWN)
    assert person.automated is None


def test_an_outlook_recall_opens_for_staff_without_an_acknowledgement() -> None:
    recall = parse_mail(raw(head("Отзыв: Протечка в ванной кв. 33",
                                 "Сидорова Елена <sidorova@corp.example>"),
                            "Content-Type: text/plain; charset=utf-8\n\n",
                            'Сидорова Елена хочет отозвать сообщение "Протечка в ванной кв. 33".'),
                        own_addresses=OWN)
    assert recall.automated is None and recall.no_auto_reply
    # "Отзыв" is also a resident's review of the work
    review = parse_mail(raw(head("Отзыв: работа сантехника", "Анна <anna@mail.example>"),
                            "Content-Type: text/plain; charset=utf-8\n\n",
                            "Сантехник пришёл вовремя и всё починил, спасибо!"),
                        own_addresses=OWN)
    assert not review.no_auto_reply


# --- replies ----------------------------------------------------------------------------------


ACK_TEXT = ("Здравствуйте, Иван!\n\nВаше обращение зарегистрировано под номером A-1001.\n"
            "Чтобы дополнить обращение, просто ответьте на это сообщение.")


def test_an_iphone_reply_typed_into_the_subject_reads_the_subject() -> None:
    quoted = "\n".join("> " + line if line else ">" for line in ACK_TEXT.split("\n"))
    body = ("\n\n\nОтправлено с iPhone\n\n> 11 марта 2025 г., в 12:20, УК «Заречье» "
            f"<{OFFICE}> написал(а):\n>\n{quoted}\n")
    parsed = parse_mail(raw(head("Re: [A-1001] Обращение зарегистрировано — мастер так и не "
                                 "пришёл", "Иван Сидоров <ivan.sidorov@mail.ru>",
                                 f"In-Reply-To: <{ACK_ID}>"),
                            "Content-Type: text/plain; charset=utf-8\n\n", body),
                        own_addresses=OWN)
    assert parsed.text == "Обращение зарегистрировано — мастер так и не пришёл"


OUTLOOK_INLINE = (
    "<html><body><div class=WordSection1><p class=MsoNormal>Добрый день, ответы ниже в тексте."
    "</p><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
    f"<p class=MsoNormal><b>От:</b> УК «Заречье» &lt;{OFFICE}&gt;<br><b>Отправлено:</b> "
    "11 марта 2025 г. 15:00<br><b>Кому:</b> Иван<br><b>Тема:</b> [A-1001] Уточнение</p></div>"
    "<p class=MsoNormal>Уточните номер квартиры и удобное время визита мастера.</p>"
    "<p class=MsoNormal><span style='color:red'>Кв. 45, после 18:00 в будни.</span></p>"
    "</div></body></html>")


def test_answers_written_inside_the_quoted_letter_are_kept() -> None:
    parsed = parse_mail(raw(head("RE: [A-1001] Уточнение", "Иван <ivan.sidorov@mail.ru>",
                                 f"In-Reply-To: <{ACK_ID}>"),
                            "Content-Type: text/html; charset=utf-8\n",
                            "Content-Transfer-Encoding: base64\n\n", b64(OUTLOOK_INLINE)),
                        own_addresses=OWN)
    assert "Кв. 45, после 18:00 в будни." in parsed.text
    # without such words, the quoted letter is history as before
    plain = OUTLOOK_INLINE.replace("ответы ниже в тексте", "жду мастера")
    cut = parse_mail(raw(head("RE: [A-1001] Уточнение", "Иван <ivan.sidorov@mail.ru>",
                              f"In-Reply-To: <{ACK_ID}>"),
                         "Content-Type: text/html; charset=utf-8\n\n", plain),
                     own_addresses=OWN)
    assert cut.text == "Добрый день, жду мастера."


def test_our_acknowledgement_forwarded_back_is_not_the_residents_text() -> None:
    """Residents press "Переслать" on our letter as often as "Ответить"."""
    forwarded = (f"Прошу ускорить, вода уже течёт по стене!\n\n"
                 "---------- Forwarded message ---------\n"
                 f"От: УК «Заречье» <{OFFICE}>\nDate: вт, 11 мар. 2025 г. в 12:20\n"
                 "Subject: [A-1001] Обращение зарегистрировано\nTo: Иван <ivan.sidorov@mail.ru>"
                 f"\n\n\n{ACK_TEXT}\n")
    parsed = parse_mail(raw(head("Fwd: [A-1001] Обращение зарегистрировано"),
                            "Content-Type: text/plain; charset=utf-8\n\n", forwarded),
                        own_addresses=OWN)
    assert parsed.text == "Прошу ускорить, вода уже течёт по стене!"
    outlook = (f"Когда придёт мастер?\n\n________________________________\n"
               f"От: УК «Заречье» [mailto:{OFFICE}]\nОтправлено: 11 марта 2025 г. 12:20\n"
               "Кому: Иван\nТема: [A-1001] Обращение зарегистрировано\n\n" + ACK_TEXT)
    parsed = parse_mail(raw(head("FW: [A-1001] Обращение зарегистрировано"),
                            "Content-Type: text/plain; charset=utf-8\n\n", outlook),
                        own_addresses=OWN)
    assert parsed.text == "Когда придёт мастер?"
    # a neighbour's letter forwarded is the report itself
    neighbour = forwarded.replace(f"УК «Заречье» <{OFFICE}>", "Мария <maria.kim@mail.example>")
    parsed = parse_mail(raw(head("Fwd: Протечка"), "Content-Type: text/plain; charset=utf-8\n\n",
                            neighbour), own_addresses=OWN)
    assert "Ваше обращение зарегистрировано" in parsed.text


# --- bodies -----------------------------------------------------------------------------------


def test_plain_and_html_side_by_side_in_mixed_are_one_letter() -> None:
    text = "Прошу заменить счётчик холодной воды в кв. 14, дом 10 по ул. Пушкина."
    mail = raw(head("Замена счётчика", "Оксана <oksana@inbox.example>",
                    'Content-Type: multipart/mixed; boundary="b1"'), "\n",
               "--b1\nContent-Type: text/plain; charset=utf-8\n\n", text, "\n",
               "--b1\nContent-Type: text/html; charset=utf-8\n\n",
               f"<html><body><p>{text}</p></body></html>\n--b1--\n")
    assert parse_mail(mail, own_addresses=OWN).text == text


def test_a_byte_order_mark_is_no_part_of_the_text() -> None:
    mail = raw(head("Акт сверки"), "Content-Type: text/plain; charset=utf-8\n",
               "Content-Transfer-Encoding: base64\n\n",
               b64("\ufeffПросим направить акт сверки за 2024 год."))
    assert parse_mail(mail, own_addresses=OWN).text == "Просим направить акт сверки за 2024 год."


def test_a_base64_body_without_its_transfer_encoding_header_is_decoded() -> None:
    """1C and PHP scripts encode the body and forget to say so."""
    text = "Добрый день! Показания счётчиков за март: ХВС 123,4; ГВС 98,7. Кв. 45."
    for data in (text.encode(), text.encode("cp1251")):
        mail = raw(head("Показания"), "Content-Type: text/plain; charset=utf-8\n\n", b64(data))
        assert parse_mail(mail, own_addresses=OWN).text == text
    # a letter that is one long code-like word stays as written
    token = "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    mail = raw(head("Код"), "Content-Type: text/plain; charset=utf-8\n\n", token)
    assert parse_mail(mail, own_addresses=OWN).text == token


def test_a_text_part_marked_attachment_without_a_name_is_the_letter() -> None:
    text = "Не работает домофон во втором подъезде, кв. 40."
    mail = raw(head("Домофон", "Лариса <larisa@yandex.example>",
                    'Content-Type: multipart/mixed; boundary="b"'), "\n",
               "--b\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: attachment\n",
               "Content-Transfer-Encoding: base64\n\n", b64(text), "--b--\n")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.text == text
    assert parsed.attachments == ()


# --- attachments ------------------------------------------------------------------------------


def test_windows_paths_and_nameless_files() -> None:
    mail = raw(head("Документы", "Пётр <pi1955@mail.example>",
                    'Content-Type: multipart/mixed; boundary="b"'), "\n",
               "--b\nContent-Type: text/plain; charset=utf-8\n\nНаправляю копию свидетельства.\n",
               '--b\nContent-Type: application/pdf; name="C:\\Documents and Settings\\Petr\\',
               'Рабочий стол\\свидетельство.pdf"\n',
               'Content-Disposition: attachment; filename="C:\\Documents and Settings\\Petr\\',
               'Рабочий стол\\свидетельство.pdf"\nContent-Transfer-Encoding: base64\n\n',
               b64(b"%PDF-1.3\n"),
               '--b\nContent-Type: image/jpeg; name="noname"\n',
               'Content-Disposition: attachment; filename="noname"\n',
               "Content-Transfer-Encoding: base64\n\n", b64(JPEG), "--b--\n")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == ["свидетельство.pdf", "noname.jpg"]


def test_an_escaped_quote_in_a_file_name_is_still_unescaped() -> None:
    mail = raw(head("Документы", "Пётр <pi1955@mail.example>",
                    'Content-Type: multipart/mixed; boundary="b"'), "\n",
               "--b\nContent-Type: text/plain; charset=utf-8\n\nДоговор во вложении.\n",
               '--b\nContent-Type: application/pdf\n',
               'Content-Disposition: attachment; filename="Договор \\"Ромашка\\".pdf"\n',
               "Content-Transfer-Encoding: base64\n\n", b64(b"%PDF-1.3\n"), "--b--\n")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == ["Договор _Ромашка_.pdf"]
