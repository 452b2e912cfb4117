"""Seventeenth round: a photo sent with no words but a caption in its file name ("протечка в
ванной.jpg") or in its Content-Description opens a case that says it, while a camera's name
(IMG_2034.jpg) is no words, also under a lone "Отправлено с iPhone"; a body in base64 or
quoted-printable under a "7bit" or "8bit" label is decoded; UTF-16 text labelled "unicode",
"ucs-2", "utf-8" or nothing is read, not kept as a binary file; a bounce that names the failed
address alone on a line under its heading (Exim, Mail.ru, Exchange in Russian) names it to
staff, Exim's and Gmail's delay warnings are delays and a report that our letter was delivered
fails nothing; a mail program's signature (smime.p7s, signature.asc) is no file of the letter
where a gateway re-wrapped the signed letter or labelled the signature as octet-stream, while a
signed document's own signature file stays; an away notice answering our letter that says its
writer does not read mail or sends you to a colleague is an auto-reply, and Exchange's Russian
"Недоставляемое:" report from its system mailbox is a bounce; Gmail's attribution wrapped inside
its address ("<office@…" / ">:") goes with the quote; a phone's MMS sent to the office through
the operator's gateway reads as its words ("text_0.txt") with its photo, and the SMIL layout is
no file; what an HTML letter hides (a form's or portal's "display:none" preview line) is no text
of it; the logo and icons of an Outlook signature are no files of the letter, so a "Спасибо"
from work reopens no resolved case."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from domovoy.app import App
from intake.email import parse_mail
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import OWN, ingest, letter, resolve
from tests.test_email_parse import BASE, raw_mail
from workflow.clock import ManualClock
from workflow.models import Case

_JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(3000)).decode()


def _ew(text: str) -> str:
    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


def _mixed(parts: Sequence[str], subject: str = "") -> bytes:
    """A multipart/mixed letter of ``parts`` (each a part's headers and body)."""
    body = "".join(f"--b\r\n{part}\r\n" for part in parts) + "--b--\r\n"
    return raw_mail([*BASE, ("Subject", subject), ("MIME-Version", "1.0"),
                     ("Content-Type", 'multipart/mixed; boundary="b"')], body.encode())


def _photo(name: str, description: str | None = None, ctype: str = "image/jpeg") -> str:
    described = f"Content-Description: {_ew(description)}\r\n" if description else ""
    return (f'Content-Type: {ctype}; name="{_ew(name)}"\r\n'
            f'Content-Disposition: attachment; filename="{_ew(name)}"\r\n{described}'
            f"Content-Transfer-Encoding: base64\r\n\r\n{_JPEG}")


# --- 1. a photo's caption in its name ------------------------------------------------------------


@pytest.mark.parametrize(("name", "caption"), [
    ("протечка в ванной.jpg", "протечка в ванной"),
    ("кв45_трещина_на_потолке.JPG", "кв45 трещина на потолке"),
    ("Фото протечки.heic", "Фото протечки"),
    ("IMG_20261203_101500 лужа в подъезде.jpg", "лужа в подъезде"),
    ("broken door lock.png", "broken door lock"),
])
def test_a_photo_alone_is_read_by_the_words_of_its_file_name(name: str, caption: str) -> None:
    parsed = parse_mail(_mixed([_photo(name)]), own_addresses=OWN)
    assert parsed.text == caption
    assert [a.filename for a in parsed.attachments] == [name]
    # staff are told where the words came from
    assert any("file name" in note for note in parsed.notes)


@pytest.mark.parametrize("name", [
    "IMG_2034.jpg", "DSC0001.JPG", "DSC_0001.JPG", "photo.jpg", "image0.jpeg", "image001.png",
    "IMG-20261203-WA0001.jpg", "photo_2026-12-03_10-15-00.jpg", "PXL_20261203_101500123.jpg",
    "20261203_101500.jpg", "Screenshot_20261203-101500_Chrome.jpg",
    "Снимок экрана 2026-12-03 в 10.15.00.png", "Screen Shot 2026-12-03 at 10.15.00.png",
    "WhatsApp Image 2026-12-03 at 10.15.00.jpeg", "Без названия (1).png", "unnamed.jpg",
    "5F3A9C2E-1B7D-4C1A-9E3B-2D4F6A8B0C1D.jpeg", "фото.jpg", "Фото 1.jpg", "P1010001.JPG",
    "VID_20261203_101500.mp4", "image.png", "Picture 1.png",
])
def test_a_cameras_file_name_is_no_caption(name: str) -> None:
    ctype = "video/mp4" if name.endswith(".mp4") else "image/jpeg"
    parsed = parse_mail(_mixed([_photo(name, ctype=ctype)]), own_addresses=OWN)
    assert parsed.text == ""
    assert "message has no readable text" in parsed.notes


def test_a_photos_description_is_its_caption_over_a_cameras_name() -> None:
    parsed = parse_mail(_mixed([_photo("IMG_2034.jpg", "Трещина на потолке в кухне")]),
                        own_addresses=OWN)
    assert parsed.text == "Трещина на потолке в кухне"


def test_a_description_that_only_repeats_the_name_or_type_is_no_caption() -> None:
    for description in ("IMG_2034.jpg", "image/jpeg", "Photo"):
        parsed = parse_mail(_mixed([_photo("IMG_2034.jpg", description)]), own_addresses=OWN)
        assert parsed.text == "", description


def test_several_captioned_photos_give_a_line_each_and_one_word_of_text_wins() -> None:
    parsed = parse_mail(_mixed([_photo("лужа в подъезде.jpg"), _photo("IMG_1.jpg"),
                                _photo("мокрый потолок.jpg")]), own_addresses=OWN)
    assert parsed.text == "лужа в подъезде\nмокрый потолок"
    written = ("Content-Type: text/plain; charset=utf-8\r\n\r\n"
               "Течёт с потолка, кв. 45.")
    parsed = parse_mail(_mixed([written, _photo("лужа в подъезде.jpg")]), own_addresses=OWN)
    assert parsed.text == "Течёт с потолка, кв. 45."


@pytest.mark.parametrize("signature", [
    "\r\n\r\nОтправлено с iPhone",
    "\r\n-- \r\nОтправлено из мобильной Почты Mail.ru",
    "\r\n\r\nSent from my Galaxy",
])
def test_a_phones_signature_beside_a_captioned_photo_gives_way_to_the_caption(
        signature: str) -> None:
    written = f"Content-Type: text/plain; charset=utf-8\r\n\r\n{signature}"
    parsed = parse_mail(_mixed([written, _photo("протечка в ванной.jpg")]), own_addresses=OWN)
    assert parsed.text == "протечка в ванной"


def test_a_reply_of_a_captioned_photo_is_read_by_its_caption() -> None:
    written = ("Content-Type: text/plain; charset=utf-8\r\n\r\nОтправлено с iPhone\r\n\r\n"
               "> Ваше обращение зарегистрировано под номером A-1001.")
    mail = _mixed([written, _photo("после ремонта опять течёт.jpg")],
                  subject="Re: [A-1001] Обращение зарегистрировано").replace(
        b"Subject:", b"In-Reply-To: <out-1@uk-zarechye.ru>\r\nSubject:")
    assert parse_mail(mail, own_addresses=OWN).text == "после ремонта опять течёт"


def test_a_letter_of_a_phones_signature_alone_is_no_dashes() -> None:
    written = "Content-Type: text/plain; charset=utf-8\r\n\r\n-- \r\nОтправлено из мобильной Почты"
    parsed = parse_mail(_mixed([written, _photo("IMG_2034.jpg")]), own_addresses=OWN)
    assert parsed.text == ""  # it was "--"


def test_a_single_part_photo_letter_is_read_by_its_name() -> None:
    mail = raw_mail([*BASE, ("Subject", _ew("Фото")), ("MIME-Version", "1.0"),
                     ("Content-Type", f'image/jpeg; name="{_ew("лужа в подъезде.jpg")}"'),
                     ("Content-Transfer-Encoding", "base64")], _JPEG.encode())
    assert parse_mail(mail, own_addresses=OWN).text == "лужа в подъезде"


async def test_a_captioned_photo_opens_a_case_on_its_caption(app: App, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, _mixed([_photo("течёт труба в подвале.jpg")]))
    assert row["action"] == "new_case"
    assert row["text"] == "течёт труба в подвале"
    assert row["category"] == "plumbing"


def test_an_english_caption_is_answered_in_english() -> None:
    parsed = parse_mail(_mixed([_photo("broken door lock.png")]), own_addresses=OWN)
    assert parsed.language == "en"


# --- 2. a transfer encoding labelled wrong ------------------------------------------------------

_REPORT = "Здравствуйте! В подъезде дома 12 не работает лифт, кв. 45. Срочно!"


def _coded(label: str, charset: str, body: bytes) -> bytes:
    return raw_mail([*BASE, ("Subject", "Lift"), ("MIME-Version", "1.0"),
                     ("Content-Type", f"text/plain; charset={charset}"),
                     ("Content-Transfer-Encoding", label)], body)


@pytest.mark.parametrize("label", ["8bit", "7bit", "binary", "8BIT"])
@pytest.mark.parametrize("charset", ["utf-8", "windows-1251"])
def test_a_base64_body_labelled_7bit_or_8bit_is_decoded(label: str, charset: str) -> None:
    # a PHP script or 1C sets the header once and encodes the body anyway
    encoded = base64.encodebytes(_REPORT.encode(charset)).replace(b"\n", b"\r\n")
    assert parse_mail(_coded(label, charset, encoded), own_addresses=OWN).text == _REPORT


def test_a_quoted_printable_body_labelled_7bit_is_decoded() -> None:
    coded = "".join(f"={b:02X}" if b > 127 or b == 61 else chr(b) for b in _REPORT.encode())
    cut = coded.index("=", 60) + 3  # a soft break between the two bytes of "т"
    body = (coded[:cut] + "=\r\n" + coded[cut:]).encode()
    assert parse_mail(_coded("7bit", "utf-8", body), own_addresses=OWN).text == _REPORT


def test_a_7bit_letter_about_a_meter_reading_is_no_code() -> None:
    text = "ХВС=123, ГВС=45\r\nSGVsbG8gd29ybGQ=\r\n"
    parsed = parse_mail(_coded("8bit", "utf-8", text.encode()), own_addresses=OWN)
    assert parsed.text == "ХВС=123, ГВС=45\nSGVsbG8gd29ybGQ="


# --- 3. UTF-16 under another label ----------------------------------------------------------------


@pytest.mark.parametrize("charset", ["unicode", "ucs-2", "utf-8", "windows-1251", None])
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_under_another_label_is_read(charset: str | None, codec: str) -> None:
    # .NET's Encoding.Unicode, a PowerShell script, Windows' own "unicode" label
    ctype = f"text/plain; charset={charset}" if charset else "text/plain"
    body = base64.encodebytes(_REPORT.encode(codec)).replace(b"\n", b"\r\n")
    parsed = parse_mail(_coded("base64", "x", body).replace(
        b"text/plain; charset=x", ctype.encode()), own_addresses=OWN)
    assert (parsed.text, parsed.attachments) == (_REPORT, ())


def test_english_in_utf16_without_a_label_is_read() -> None:
    body = base64.encodebytes("The lift is broken again, flat 45.".encode("utf-16-le"))
    mail = _coded("base64", "x", body).replace(b"; charset=x", b"")
    assert parse_mail(mail, own_addresses=OWN).text == "The lift is broken again, flat 45."


# --- 4. bounces that name the failed address on a line of its own --------------------------------

_OUR_LETTER = ("From: office@uk-zarechye.ru\nTo: ivan@example.ru\n"
               "Subject: [A-1001] Ваше обращение зарегистрировано\n"
               "Message-ID: <out-1@uk-zarechye.ru>\n\nВаше обращение зарегистрировано.\n")
_EXIM = (
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  ivan@example.ru\n    host mx.example.ru [192.0.2.1]\n"
    "    SMTP error from remote mail server after RCPT TO:<ivan@example.ru>:\n"
    "    550 5.1.1 Mailbox does not exist\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n" + _OUR_LETTER)
_MAILRU = (
    "Это сообщение было создано автоматически почтовой системой.\n\n"
    "Не удалось доставить сообщение следующим адресатам:\n\n"
    "  ivan@example.ru\n"
    "    Сообщение отклонено сервером получателя\n\n"
    "--- Ниже копия исходного сообщения ---\n\n" + _OUR_LETTER)
_EXCHANGE_RU = (
    "<html><body><p><b>Не удалось доставить сообщение следующим получателям или группам:</b>"
    "</p><p><a href='mailto:ivan@example.ru'>ivan@example.ru</a><br>"
    "Адрес электронной почты, который вы ввели, не найден.</p>"
    "<p>Диагностические сведения для администраторов:</p><p>Создающий сервер: mx.uk.ru</p>"
    "<p>ivan@example.ru<br>Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
    "Recipient not found by SMTP address lookup'</p></body></html>")


def _notice(sender: str, subject: str, body: str, ctype: str = "text/plain") -> bytes:
    headers: list[tuple[str, str | bytes]] = [
        ("From", sender), ("To", "office@uk-zarechye.ru"),
        ("Date", "Tue, 11 Mar 2025 12:15:00 +0300"), ("Message-ID", "<ndr-1@mx.example.ru>"),
        ("Subject", subject), ("MIME-Version", "1.0"),
        ("Content-Type", f"{ctype}; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")]
    return raw_mail(headers, body.replace("\n", "\r\n").encode())


@pytest.mark.parametrize(("sender", "subject", "body", "ctype"), [
    ("Mail Delivery System <Mailer-Daemon@mx.example.ru>",
     "Mail delivery failed: returning message to sender", _EXIM, "text/plain"),
    ("Mail Delivery System <MAILER-DAEMON@corp.mail.ru>", _ew("Не удалось доставить письмо"),
     _MAILRU, "text/plain"),
    ("postmaster@mx.uk.ru", _ew("Не доставлено: [A-1001] Ваше обращение зарегистрировано"),
     _EXCHANGE_RU, "text/html"),
], ids=["exim", "mailru", "exchange-ru-html"])
def test_a_bounce_naming_the_address_alone_on_a_line_names_it(
        sender: str, subject: str, body: str, ctype: str) -> None:
    parsed = parse_mail(_notice(sender, subject, body, ctype), own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient == "ivan@example.ru"
    assert not parsed.bounce_delayed


def test_an_exim_bounce_returns_our_letter_to_its_case() -> None:
    parsed = parse_mail(_notice("Mail Delivery System <Mailer-Daemon@mx.example.ru>",
                                "Mail delivery failed: returning message to sender", _EXIM),
                        own_addresses=OWN)
    assert "out-1@uk-zarechye.ru" in parsed.thread_hints()
    assert parsed.bounce_reason is not None and "550 5.1.1" in parsed.bounce_reason


def test_gmails_delay_notice_that_says_when_it_would_fail_is_a_delay() -> None:
    body = ("\n** Message not delivered yet **\n\nThere was a temporary problem delivering your "
            "message to ivan@example.ru. Gmail will retry for 46 more hours. You'll be notified "
            "if the delivery fails permanently.\n\nThe response was:\n\n"
            "451 4.3.0 Mail server temporarily rejected message.\n")
    parsed = parse_mail(_notice("Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                                "Delivery Status Notification (Delay)", body), own_addresses=OWN)
    assert (parsed.bounced_recipient, parsed.bounce_delayed) == (None, True)


def test_a_bounce_naming_the_address_under_a_label_names_it() -> None:
    body = ("Сообщение не было доставлено.\nПочтовый ящик получателя переполнен.\n\n"
            "Адресат: ivan@yandex.ru\n")
    parsed = parse_mail(_notice(f"{_ew('Яндекс.Почта')} <mailer-daemon@yandex.ru>",
                                _ew("Недоставленное сообщение"), body), own_addresses=OWN)
    assert parsed.bounced_recipient == "ivan@yandex.ru"


@pytest.mark.parametrize(("subject", "body"), [
    ("Delivered: [A-1001] Ваше обращение зарегистрировано",
     "Your message has been delivered to the following recipients:\n\nivan@example.ru\n"),
    (_ew("Доставлено: [A-1001] Ваше обращение зарегистрировано"),
     "Ваше сообщение доставлено следующим получателям:\n\nivan@example.ru\n"),
    (_ew("Ретранслировано: [A-1001] Ваше обращение зарегистрировано"),
     "Доставка следующим получателям выполнена, но сервер назначения не предоставил "
     "уведомление о доставке:\n\nivan@example.ru\n"),
    ("Delivery Status Notification (Success)",
     "This is an automatically generated Delivery Status Notification.\n\n"
     "Your message has been successfully relayed to the following recipients, but the "
     "requested delivery status notifications may not be generated by the destination.\n\n"
     "    ivan@example.ru\n"),
], ids=["exchange-delivered", "exchange-delivered-ru", "exchange-relayed-ru", "gmail-success"])
def test_a_report_that_our_letter_was_delivered_fails_nothing(subject: str, body: str) -> None:
    parsed = parse_mail(_notice("postmaster@mx.example.ru", subject, body), own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    # nothing failed: no address marked undeliverable, no alert for staff
    assert (parsed.bounced_recipient, parsed.bounce_delayed) == (None, True)


def test_an_exim_delay_warning_is_a_delay_not_a_failure() -> None:
    body = (
        "This message was created automatically by mail delivery software.\n"
        "A message that you sent has not yet been delivered to one or more of its\n"
        "recipients after more than 24 hours on the queue on mx.example.ru.\n\n"
        "The message identifier is:     1abc-000\n"
        "The subject of the message is: [A-1001] Ваше обращение зарегистрировано\n\n"
        "The address to which the message has not yet been delivered is:\n\n"
        "  ivan@example.ru\n"
        "    Delay reason: SMTP error from remote mail server after RCPT TO:<ivan@example.ru>:\n"
        "    451 4.7.1 Greylisted, try again later\n\n"
        "No action is required on your part. Delivery attempts will continue for\n"
        "some time, and this warning may be repeated at intervals if the message\n"
        "remains undelivered. Eventually the mail delivery software will give up,\n"
        "and when that happens, the message will be returned to you.\n")
    parsed = parse_mail(_notice("Mail Delivery System <Mailer-Daemon@mx.example.ru>",
                                "Warning: message 1abc-000 delayed 24 hours", body),
                        own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert (parsed.bounced_recipient, parsed.bounce_delayed) == (None, True)


# --- 5. signatures that are no files --------------------------------------------------------------

_SIGNATURE = base64.encodebytes(b"\x30\x82\x01\x00" + bytes(300)).decode()
_SIGNED_TEXT = ("Content-Type: text/plain; charset=utf-8\r\n\r\n"
                "Не работает лифт во втором подъезде, кв. 45.")


def _signature_part(ctype: str, name: str) -> str:
    return (f'Content-Type: {ctype}; name="{name}"\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{_SIGNATURE}")


def _multipart(subtype: str, parts: Sequence[str]) -> bytes:
    body = "".join(f"--b\r\n{part}\r\n" for part in parts) + "--b--\r\n"
    return raw_mail([*BASE, ("Subject", "Lift"), ("MIME-Version", "1.0"),
                     ("Content-Type", f'multipart/{subtype}; boundary="b"')], body.encode())


@pytest.mark.parametrize(("subtype", "ctype", "name"), [
    # a gateway or a list that added a footer made multipart/signed a multipart/mixed
    ("mixed", "application/pkcs7-signature", "smime.p7s"),
    ("mixed", "application/x-pkcs7-signature", "smime.p7s"),
    ("mixed", "application/pgp-signature", "signature.asc"),
    # the signature of a multipart/signed letter labelled as any file
    ('signed; protocol="application/pgp-signature"', "application/octet-stream",
     "signature.asc"),
    ('signed; protocol="application/pkcs7-signature"', "application/octet-stream", "smime.p7s"),
])
def test_a_mail_programs_signature_is_no_file(subtype: str, ctype: str, name: str) -> None:
    parsed = parse_mail(_multipart(subtype, [_SIGNED_TEXT, _signature_part(ctype, name)]),
                        own_addresses=OWN)
    assert parsed.text == "Не работает лифт во втором подъезде, кв. 45."
    assert parsed.attachments == ()


@pytest.mark.parametrize("ctype", ["application/pkcs7-signature", "application/octet-stream"])
def test_a_signed_documents_signature_file_stays_a_file(ctype: str) -> None:
    # a statement signed with an electronic signature (CryptoPro): both files are the statement
    document = ('Content-Type: application/pdf; name="zayavlenie.pdf"\r\n'
                "Content-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(b"%PDF-1.4\n" + bytes(300)).decode())
    parsed = parse_mail(_multipart("mixed", [
        _SIGNED_TEXT, document, _signature_part(ctype, "zayavlenie.pdf.sig")]), own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == ["zayavlenie.pdf", "zayavlenie.pdf.sig"]


# --- 6. notices with no header ------------------------------------------------------------------


def _reply(body: str, sender: str = "Ирина <irina.k@yandex.ru>",
           subject: str = "Re: [A-1004] Нужны уточнения") -> bytes:
    headers: list[tuple[str, str | bytes]] = [
        ("From", sender), ("To", "office@uk-zarechye.ru"),
        ("Date", "Tue, 11 Mar 2025 12:15:00 +0300"), ("Message-ID", "<r-1@yandex.ru>"),
        ("In-Reply-To", "<a-1004.c3c43fdd@uk-zarechye.ru>"), ("Subject", subject.encode()),
        ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit")]
    return raw_mail(headers, body.encode())


@pytest.mark.parametrize("body", [
    "Здравствуйте! Я в отпуске до 20 декабря, письма не читаю. "
    "По срочным вопросам: Мария, +7 900 000-00-00.",
    "Добрый день. Я нахожусь в командировке до 15.12. "
    "По всем срочным вопросам обращайтесь к Петрову Сергею.",
    "I am on vacation until December 20. For urgent matters please contact Maria.",
], ids=["doesnt_read_mail", "ask_a_colleague", "english"])
def test_an_away_notice_answering_our_letter_is_an_auto_reply(body: str) -> None:
    assert parse_mail(_reply(body), own_addresses=OWN).automated is Automated.AUTOREPLY


@pytest.mark.parametrize("body", [
    "Я в отпуске до 20 декабря, по срочным вопросам звоните мне на мобильный: 8-900-000-00-00.",
    "Я был в отпуске до 20 декабря, вернулся — а кран так и течёт. Письма ваши не читаю, "
    "потому что они приходят без номера заявки.",
], ids=["call_me", "back_from_holiday"])
def test_a_resident_away_from_home_answering_us_is_still_a_person(body: str) -> None:
    assert parse_mail(_reply(body), own_addresses=OWN).automated is None


def test_exchanges_russian_non_delivery_report_from_its_system_mailbox_is_a_bounce() -> None:
    body = ("Доставка следующим получателям или группам не выполнена:\n\n"
            "     Иван Петров (ivan@corp.example.ru)\n"
            "     Адрес электронной почты получателя не найден в домене получателя.\n")
    parsed = parse_mail(_reply(
        body, sender="MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@corp.example.ru",
        subject="Недоставляемое: [A-1001] Ваше обращение зарегистрировано"), own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient == "ivan@corp.example.ru"


def test_a_resident_whose_letter_was_not_delivered_is_no_bounce() -> None:
    body = "Не доставлено: я отправлял вам письмо про лифт неделю назад, ответа нет. Кв. 45."
    parsed = parse_mail(_reply(body, sender="Иван <ivan@mail.ru>",
                               subject="Не доставлено письмо про лифт"), own_addresses=OWN)
    assert parsed.automated is None


# --- 7. an attribution wrapped inside its address ------------------------------------------------


@pytest.mark.parametrize("attribution", [
    "вт, 3 дек. 2026 г. в 10:15, УК Заречье <office@uk-zarechye.ru\n>:",
    "On Tue, Dec 3, 2026 at 10:15 AM Office <office@uk-zarechye.ru\n> wrote:",
])
def test_an_attribution_wrapped_before_its_closing_bracket_goes_with_the_quote(
        attribution: str) -> None:
    body = (f"Мастер так и не пришёл.\n\n{attribution}\n\n"
            "> Ваше обращение зарегистрировано под номером A-1001.\n")
    assert parse_mail(_reply(body), own_addresses=OWN).text == "Мастер так и не пришёл."


# --- 8. an MMS through an operator's mail gateway ------------------------------------------------

_MMS_WORDS = "Течёт крыша над кв. 45, срочно!"


def _text_part(name: str, disposition: str = "") -> str:
    coded = base64.b64encode(_MMS_WORDS.encode()).decode()
    return (f'Content-Type: text/plain; charset=utf-8; name="{name}"\r\n{disposition}'
            f"Content-Location: {name}\r\nContent-Transfer-Encoding: base64\r\n\r\n{coded}")


def test_an_mms_through_a_gateway_reads_as_its_words_and_photo() -> None:
    smil = ('Content-Type: application/smil; name="smil.xml"\r\nContent-ID: <smil>\r\n\r\n'
            '<smil><body><par><img src="IMG_0001.jpg"/><text src="text_0.txt"/></par>'
            "</body></smil>")
    body = "".join(f"--b\r\n{part}\r\n" for part in (
        smil, _text_part("text_0.txt"), _photo("IMG_0001.jpg"))) + "--b--\r\n"
    mail = raw_mail([*BASE, ("Subject", "MMS"), ("MIME-Version", "1.0"), (
        "Content-Type", 'multipart/related; type="application/smil"; start="<smil>"; '
                        'boundary="b"')], body.encode())
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.text == _MMS_WORDS
    assert [a.filename for a in parsed.attachments] == ["IMG_0001.jpg"]


def test_an_mms_gateways_words_marked_as_an_attachment_are_the_text() -> None:
    parsed = parse_mail(_mixed([_text_part("text_0.txt", "Content-Disposition: attachment\r\n"),
                                _photo("IMG_0001.jpg")]), own_addresses=OWN)
    assert parsed.text == _MMS_WORDS
    assert [a.filename for a in parsed.attachments] == ["IMG_0001.jpg"]


def test_a_text_file_a_resident_attached_stays_a_file() -> None:
    parsed = parse_mail(_mixed([_text_part("zayavka.txt", "Content-Disposition: attachment\r\n")]),
                        own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == ["zayavka.txt"]


# --- 9. what an HTML letter hides --------------------------------------------------------------


@pytest.mark.parametrize("hidden", [
    '<div style="display:none;max-height:0">Новое обращение с сайта</div>',
    '<span style="DISPLAY: NONE !important">Новое обращение с сайта<span>…</span></span>',
    '<div hidden>Новое обращение с сайта</div>',
])
def test_text_an_html_letter_hides_is_not_read(hidden: str) -> None:
    html = (f"<html><body>{hidden}<p>Течёт кран на кухне, кв. 45.</p>"
            "<div>Иван</div></body></html>")
    mail = raw_mail([*BASE, ("Subject", "Заявка"), ("MIME-Version", "1.0"),
                     ("Content-Type", "text/html; charset=utf-8")], html.encode())
    assert parse_mail(mail, own_addresses=OWN).text == "Течёт кран на кухне, кв. 45.\nИван"


# --- 10. a signature's logo -----------------------------------------------------------------------

_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(4000)).decode()


def _outlook(words: str, img: str, picture: str = _PNG,
             headers: Sequence[tuple[str, str | bytes]] = (
                 *BASE, ("Subject", "RE: [A-1001] Обращение решено"))) -> bytes:
    """Outlook's HTML letter: its words, a signature with ``img`` pointing at image001.png."""
    html = (f"<html><body><p class=MsoNormal>{words}</p><p class=MsoNormal>С уважением,<br>"
            f"Иван Петров<br>ООО «Ромашка»</p><p>{img}</p></body></html>")
    parts = [
        'Content-Type: multipart/alternative; boundary="a"\r\n\r\n'
        f"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{words}\r\n\r\n"
        "С уважением,\r\nИван Петров\r\nООО «Ромашка»\r\n"
        f"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--a--",
        'Content-Type: image/png; name="image001.png"\r\n'
        'Content-Description: image001.png\r\n'
        'Content-Disposition: inline; filename="image001.png"\r\n'
        "Content-ID: <image001.png@01DB4C2A.5E3F1B20>\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{picture}",
    ]
    body = "".join(f"--b\r\n{part}\r\n" for part in parts) + "--b--\r\n"
    return raw_mail([*headers, ("MIME-Version", "1.0"),
                     ("Content-Type", 'multipart/related; type="multipart/alternative"; '
                                      'boundary="b"')], body.encode())


_LOGO = ('<img width=151 height=48 style="width:1.5729in;height:.5in" '
         'id="Picture_x0020_1" src="cid:image001.png@01DB4C2A.5E3F1B20" alt="Ромашка">')


@pytest.mark.parametrize("img", [
    _LOGO,
    '<img style="width:32px;height:32px" src="cid:image001.png@01DB4C2A.5E3F1B20">',
])
def test_an_outlook_signatures_logo_is_no_file(img: str) -> None:
    parsed = parse_mail(_outlook("Спасибо, всё починили!", img), own_addresses=OWN)
    assert parsed.text.startswith("Спасибо, всё починили!")
    assert parsed.attachments == ()


@pytest.mark.parametrize("img", [
    # a photo pasted into the letter, shown large or at its own size
    '<img width=624 height=468 src="cid:image001.png@01DB4C2A.5E3F1B20">',
    '<img src="cid:image001.png@01DB4C2A.5E3F1B20">',
])
def test_a_picture_pasted_into_an_outlook_letter_is_a_file(img: str) -> None:
    parsed = parse_mail(_outlook("Вот фото протечки.", img), own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == ["image001.png"]


def test_a_large_picture_shown_small_is_still_a_file() -> None:
    photo = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(60_000)).decode()
    parsed = parse_mail(_outlook("Вот фото протечки.", _LOGO, photo), own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == ["image001.png"]


async def test_a_thank_you_from_work_with_a_logo_reopens_no_resolved_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter(
        "Течёт кран", "Ул. Ленина 5, кв. 45: на кухне течёт кран, вызовите сантехника.",
        "Иван Петров <ivan.petrov@romashka.ru>"))
    ours = await resolve(app, recorder, clock, first["case"], "Кран заменён")
    clock.advance(timedelta(hours=1))
    got = await ingest(app, tmp_path, _outlook("Спасибо, всё работает!", _LOGO, headers=[
        ("From", "Иван Петров <ivan.petrov@romashka.ru>"), ("To", "office@uk-zarechye.ru"),
        ("Date", "Thu, 15 Jan 2026 14:00:00 +0300"), ("Message-ID", "<thanks@romashka.ru>"),
        ("In-Reply-To", ours), ("Subject", f"RE: [{first['case']}] Обращение решено".encode())]))
    assert got["attachments"] == []
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == first["case"]))
        assert case is not None and case.stage == "resolved"
