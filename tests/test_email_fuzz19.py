"""Nineteenth round: an attendee's calendar program answering an invitation ("Принято: Осмотр
подвала", "Accepted: …", an iMIP METHOD:REPLY, Outlook's meeting response marked only by
Exchange's Content-Class) is an automatic message and opens no case, while an invitation and a
resident forwarding someone's answer still do; a quote headed "Цитата сообщения УК от
15.01.2026 12:00:", Horde's "Quoting УК <office@…>:" or any line naming an address over the
quoted lines goes with the quote; a letter whose matter is in its subject and whose body is only
signed ("-- / Иванов И.И. / кв. 12", "С уважением, …", a rule over "Отправлено из мобильной
Яндекс Почты") reads as the subject's words, and an English phone's "Sent from my iPhone" under
a Russian subject no longer makes the acknowledgement English; the words after a photo that
Exchange names "ATT00001.txt" are the letter's; a Date in Russian ("Чт, 15 янв 2026 …") is
read, and one without a zone gives way to the receiving server's; a form that puts each question
over its answer (Yandex Forms) names the resident; a letter under an unknown text type
("text/plian") is read as plain text; mail.ru's "От кого:" fields and Lotus Notes 8's
'-----"УК" <office@…> написал: -----' go with the quote under them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from domovoy.app import App
from intake.email import parse_mail
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import OFFICE, OWN, ew, ingest, letter

# --- 1. a calendar program's answer to an invitation -------------------------------------------


def _ics(method: str | None, summary: str = "Принято: Осмотр подвала",
         partstat: str = "ACCEPTED") -> str:
    """An attendee's answer as Outlook writes it (``method`` None: a calendar that leaves its
    METHOD out and says it only in the part's Content-Type)."""
    return (
        "BEGIN:VCALENDAR\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n"
        + (f"METHOD:{method}\r\n" if method else "")
        + "BEGIN:VEVENT\r\n"
        f"ATTENDEE;PARTSTAT={partstat};CN=Иван Петров:mailto:ivan.petrov@mail.ru\r\n"
        f"SUMMARY;LANGUAGE=ru-RU:{summary}\r\n"
        "DTSTART;TZID=Russian Standard Time:20260120T100000\r\n"
        "DTEND;TZID=Russian Standard Time:20260120T110000\r\n"
        "UID:040000008200E00074C5B7101A82E00800000000\r\nSEQUENCE:0\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n")


def _mail(subject: str, parts: list[str], *, ctype: str = "multipart/alternative",
          sender: str = "Иван Петров <ivan.petrov@mail.ru>", extra: str = "",
          boundary: str = "b") -> bytes:
    name, _, addr = sender.partition(" <")
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    head = (f"From: {ew(name)} <{addr}\r\nTo: {OFFICE}\r\nSubject: {ew(subject)}\r\n"
            "Date: Thu, 15 Jan 2026 12:00:00 +0300\r\n"
            f"Message-ID: <{abs(hash((subject, body)))}@mail.example>\r\n{extra}"
            f'MIME-Version: 1.0\r\nContent-Type: {ctype}; boundary="{boundary}"\r\n\r\n')
    return (head + body).encode()


def _text(words: str, ctype: str = "text/plain") -> str:
    return f"Content-Type: {ctype}; charset=utf-8\r\n\r\n{words}"


def _calendar(ics: str, method: str | None = "REPLY") -> str:
    said = f"; method={method}" if method else ""
    return f"Content-Type: text/calendar; charset=utf-8{said}\r\n\r\n{ics}"


_GOOGLE_FILE = ('Content-Type: application/ics; name="invite.ics"\r\n'
                'Content-Disposition: attachment; filename="invite.ics"\r\n'
                "Content-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(_ics("REPLY").encode()).decode())

_CALENDAR_ANSWERS = {
    "outlook, russian": _mail("Принято: Осмотр подвала",
                              [_text(""), _calendar(_ics("REPLY"))]),
    "outlook, english": _mail("Accepted: Basement inspection",
                              [_text(""), _calendar(_ics("REPLY", "Accepted: Basement "
                                                                   "inspection"))]),
    "declined with a word": _mail("Отклонено: Осмотр подвала", [
        _text("Не смогу в это время."),
        _calendar(_ics("REPLY", "Отклонено: Осмотр подвала", "DECLINED"))]),
    "method only in the part's header": _mail("Под вопросом: Осмотр подвала",
                                              [_calendar(_ics(None))]),
    "google calendar": _mail(
        "Приглашение принято: Осмотр подвала @ вт 20 янв. 2026 10:00 – 11:00 (MSK)",
        ["Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\n"
         + _text("Иван Петров принял это приглашение.") + "\r\n--a\r\n"
         + _calendar(_ics("REPLY")) + "\r\n--a--", _GOOGLE_FILE], ctype="multipart/mixed"),
    "exchange, calendar dropped on the way": _mail(
        "Принято: Осмотр подвала", [_text("")],
        extra="Content-Class: urn:content-classes:calendarmessage\r\n"),
}


@pytest.mark.parametrize("mail", list(_CALENDAR_ANSWERS.values()), ids=list(_CALENDAR_ANSWERS))
def test_a_calendar_programs_answer_to_an_invitation_is_automatic(mail: bytes) -> None:
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is Automated.AUTOREPLY
    assert parsed.sender == "ivan.petrov@mail.ru"


async def test_an_accepted_invitation_opens_no_case_and_is_not_answered(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, _CALENDAR_ANSWERS["outlook, russian"])
    assert row["action"] == "ignored_autoreply" and row["case"] is None
    await app.outbox.deliver_due()
    assert not [i for i in recorder.sent if i.channel == "email"]


def test_an_invitation_is_still_a_residents_letter() -> None:
    mail = _mail("Осмотр подвала", [_text(""), _calendar(
        _ics("REQUEST", "Осмотр подвала", "NEEDS-ACTION"), "REQUEST")])
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None and "Осмотр подвала" in parsed.text


def test_a_resident_forwarding_someones_answer_is_no_program() -> None:
    inner = _mail("Принято: Осмотр подвала", [_text(""), _calendar(_ics("REPLY"))],
                  sender="Сосед <sosed@mail.ru>", boundary="inner").decode()
    mail = _mail("Fwd: Принято: Осмотр подвала", [
        _text("Сосед согласился, пусть мастер зайдёт и к нему, кв. 46."),
        f"Content-Type: message/rfc822\r\n\r\n{inner}"], ctype="multipart/mixed")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None
    assert parsed.text.startswith("Сосед согласился")


def test_a_subject_like_a_response_without_exchanges_mark_is_a_residents() -> None:
    parsed = parse_mail(letter("Принято: заявление от 10.01 так и не рассмотрено",
                               "Прошу сообщить, когда придёт ответ."), own_addresses=OWN)
    assert parsed.automated is None


# --- 2. a quote's attribution in other wordings ------------------------------------------------

_ACK = "Здравствуйте! Ваше обращение A-1042 принято.\nМастер придёт завтра."
_QUOTED = "\n".join(f"> {line}" for line in _ACK.split("\n"))
_WORDS = "Мастер так и не пришёл, вода течёт."


@pytest.mark.parametrize("attribution", [
    "Цитата сообщения УК Заречье от 15.01.2026 12:00:",
    f"Цитата сообщения УК Заречье <{OFFICE}> от 15.01.2026 12:00:",
    "Цитата сообщения office от 15 января 2026 г. 12:00:",
    f"Quoting УК Заречье <{OFFICE}>:",
    f"Цитата УК Заречье <{OFFICE}>:",
    f"Цитирую УК Заречье <{OFFICE}>:",
    # whatever the wording, a line naming an address right over the quote
    f"УК Заречье <{OFFICE}> 15.01.2026 12:00:",
    f"Ответ на письмо от 15.01.2026 12:00, УК Заречье <{OFFICE}>:",
    f"Сообщение от УК Заречье <{OFFICE}>, отправлено 15.01.2026 12:00:",
    # mail.ru's, Yandex's and Rambler's own, for the record
    f"Четверг, 15 января 2026, 12:00 +03:00 от УК Заречье <{OFFICE}>:",
    f"четверг, 15 января 2026г., 12:00 +03:00 от {OFFICE}:",
    f'15.01.2026, 12:00, "УК Заречье" <{OFFICE}>:',
    f'15.01.2026 12:00, "УК Заречье" <{OFFICE}> пишет:',
])
def test_a_quote_goes_with_its_header_in_any_wording(attribution: str) -> None:
    body = f"{_WORDS}\n\n{attribution}\n{_QUOTED}\n"
    parsed = parse_mail(letter("Re: [A-1042] Течёт кран", body), own_addresses=OWN)
    assert parsed.text == _WORDS


@pytest.mark.parametrize("attribution", [
    "Цитата сообщения УК Заречье от 15.01.2026 12:00:",
    f"Quoting УК Заречье <{OFFICE}>:",
    f"Цитата сообщения УК Заречье <{OFFICE}> от 15.01.2026 12:00:",
])
def test_a_labelled_quote_goes_without_quote_marks_too(attribution: str) -> None:
    body = f"{_WORDS}\n\n{attribution}\n{_ACK}\n"
    parsed = parse_mail(letter("Re: [A-1042] Течёт кран", body), own_addresses=OWN)
    assert parsed.text == _WORDS


def test_a_quote_under_a_cite_label_in_html_goes() -> None:
    html = (f"<div>{_WORDS}</div><div>Цитата сообщения УК Заречье от 15.01.2026 12:00:</div>"
            f"<blockquote>{_ACK}</blockquote>")
    parsed = parse_mail(letter("Re: [A-1042] Течёт кран", html, ctype="text/html"),
                        own_addresses=OWN)
    assert parsed.text == _WORDS


@pytest.mark.parametrize("body", [
    # a resident quoting us in their own sentence, their words going on below
    "Цитирую ваш ответ от 15.01.2026:\n«Мастер придёт завтра».\nНикто так и не пришёл!",
    # a resident's own ">" over a new letter's line that names an address
    "Показания я отправил на ivan@mail.ru:\n> ХВС 123, ГВС 456\nПрошу учесть.",
])
def test_a_residents_own_sentence_about_a_quote_is_kept(body: str) -> None:
    parsed = parse_mail(letter("Показания и мастер", body), own_addresses=OWN)
    assert parsed.text == body


# --- 3. the matter in the subject, the body only signed ---------------------------------------


@pytest.mark.parametrize(("body", "text"), [
    ("--\nИванов И.И.\nкв. 12", "Течёт кран на кухне\n\nкв. 12"),
    ("-- \nИванов И.И.\nул. Ленина, д. 5, кв. 12\nтел. +7 900 000-00-00",
     "Течёт кран на кухне\n\nул. Ленина, д. 5, кв. 12"),
    ("\n\n-- \nС уважением, Иванов", "Течёт кран на кухне"),
    ("-- \nОтправлено из Почты Mail.ru", "Течёт кран на кухне"),
    ("__________\nОтправлено из мобильной Яндекс Почты", "Течёт кран на кухне"),
    ("С уважением,\nИванов И.И., кв. 12",
     "Течёт кран на кухне\n\nС уважением,\nИванов И.И., кв. 12"),
    ("Best regards,\nIvan Ivanov", "Течёт кран на кухне\n\nBest regards,\nIvan Ivanov"),
])
def test_a_signed_body_under_a_subject_reads_as_the_subject(body: str, text: str) -> None:
    parsed = parse_mail(letter("Течёт кран на кухне", body), own_addresses=OWN)
    assert parsed.text == text


@pytest.mark.parametrize("body", [
    # words of its own above the signature
    "Уже третий день.\n-- \nИванов И.И.\nкв. 12",
    # a sign-off over a letter that goes on
    "С уважением к вашему труду, но\nмастер так и не пришёл.\nТретий раз пишу.\nСколько можно?"
    "\nКогда придёте?\nЖду.",
    # a name and flat alone: not told from a resident's few words
    "Иванов И.И.\nкв. 12",
])
def test_a_body_with_words_of_its_own_stays(body: str) -> None:
    parsed = parse_mail(letter("Течёт кран на кухне", body), own_addresses=OWN)
    assert "Течёт кран на кухне" not in parsed.text


def test_an_english_phones_line_under_a_russian_subject_is_answered_in_russian() -> None:
    parsed = parse_mail(letter("Течёт кран на кухне, кв. 12", "Sent from my iPhone"),
                        own_addresses=OWN)
    assert parsed.language == "ru"


async def test_a_signed_body_opens_a_case_on_the_subjects_words(
        app: App, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, letter("Не работает лифт во 2 подъезде",
                                             "--\nИванов И.И.\nкв. 12"))
    assert row["action"] == "new_case"
    assert row["text"] == "Не работает лифт во 2 подъезде\n\nкв. 12"
    assert row["category"] == "elevator"


# --- 4. Exchange's "ATT00001.txt" is the letter's own text --------------------------------------

_JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(3000)).decode()
_PHOTO = ('Content-Type: image/jpeg; name="IMG_0412.jpg"\r\n'
          'Content-Disposition: attachment; filename="IMG_0412.jpg"\r\n'
          f"Content-Transfer-Encoding: base64\r\n\r\n{_JPEG}")


@pytest.mark.parametrize(("name", "ctype", "after"), [
    ("ATT00001.txt", "text/plain", "Иванов, кв. 45, тел. 8 900 123-45-67"),
    ("ATT00001.htm", "text/html", "<html><body><p>Иванов, кв. 45, тел. 8 900 123-45-67</p>"
                                  "</body></html>"),
    ("ATT00002.txt", "text/plain", "Иванов, кв. 45, тел. 8 900 123-45-67\n\nОтправлено с iPhone"),
])
def test_the_words_after_a_photo_that_exchange_named_are_the_letters(
        name: str, ctype: str, after: str) -> None:
    # an iPhone's letter with a photo inside its text, as the office's Exchange hands it on
    mail = _mail("Протечка", [
        _text("Течёт с потолка в ванной, фото:"), _PHOTO,
        f'Content-Type: {ctype}; charset=utf-8; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n\r\n{after}'],
        ctype="multipart/mixed")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.text == "Течёт с потолка в ванной, фото:\n\nИванов, кв. 45, тел. 8 900 123-45-67"
    assert [a.filename for a in parsed.attachments] == ["IMG_0412.jpg"]


def test_a_text_file_a_resident_named_stays_a_file() -> None:
    mail = _mail("Показания", [
        _text("Показания во вложении."),
        'Content-Type: text/plain; charset=utf-8; name="pokazaniya.txt"\r\n'
        'Content-Disposition: attachment; filename="pokazaniya.txt"\r\n\r\nХВС 123'],
        ctype="multipart/mixed")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.text == "Показания во вложении."
    assert [a.filename for a in parsed.attachments] == ["pokazaniya.txt"]


# --- 5. a date in Russian, or without a zone ----------------------------------------------------


def _dated(date: str) -> bytes:
    return (f"From: Иван <ivan@mail.ru>\r\nTo: {OFFICE}\r\nSubject: Течёт кран\r\n"
            f"Date: {date}\r\nMessage-ID: <dated.{abs(hash(date))}@mail.ru>\r\n"
            "Received: from mx.mail.ru by mx.uk-zarechye.test; Thu, 15 Jan 2026 12:05:00 +0300\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Течёт кран на кухне.\r\n").encode()


@pytest.mark.parametrize("date", [
    "Чт, 15 янв 2026 12:00:00 +0300",
    "четверг, 15 января 2026 г. 12:00:00 +0300",
    "15 янв. 2026 г., 12:00 +0300",
    "15.01.2026 12:00:00 +0300",
    "Thu, 15 Jan 2026 09:00:00 +0000",
])
def test_a_date_written_in_russian_is_read(date: str) -> None:
    # a backlog import has no server time: the letter was dated the day it was imported
    parsed = parse_mail(_dated(date), own_addresses=OWN)
    assert parsed.date is not None
    assert parsed.date.isoformat() in ("2026-01-15T12:00:00+03:00", "2026-01-15T09:00:00+00:00")
    assert not [n for n in parsed.notes if n.startswith("Date header")]


def test_a_date_without_a_zone_gives_way_to_the_receiving_servers() -> None:
    # a script's ctime: 12:00 where it ran, which is not UTC; taken for UTC, the letter
    # arrived three hours after it was received
    parsed = parse_mail(_dated("Thu Jan 15 12:00:00 2026"), own_addresses=OWN)
    assert parsed.date is not None and parsed.date.isoformat() == "2026-01-15T12:05:00+03:00"


def test_a_date_said_to_be_utc_stays_utc() -> None:
    parsed = parse_mail(_dated("Thu, 15 Jan 2026 09:00:00 -0000"), own_addresses=OWN)
    assert parsed.date is not None and parsed.date.isoformat() == "2026-01-15T09:00:00+00:00"


# --- 6. a form that puts the question over the answer -------------------------------------------


@pytest.mark.parametrize(("sender", "body"), [
    ("Яндекс Формы <forms@yandex.ru>",
     "Новый ответ в форме «Заявка»\n\nВаше имя\nИван Петров\n\nВаш e-mail\n"
     "ivan.petrov@mail.ru\n\nОпишите проблему\nТечёт кран на кухне, кв. 12.\nСрочно.\n"),
    ("Google Forms <forms-receipts-noreply@google.com>",
     "Ваше имя *\nИван Петров\n\nЭлектронная почта *\nivan.petrov@mail.ru\n\n"
     "Суть проблемы *\nТечёт кран на кухне, кв. 12\n"),
    ("Сайт УК <noreply@uk-zarechye.test>",
     "Ваше имя:\nИван Петров\n\nE-mail:\nivan.petrov@mail.ru\n\nСообщение:\n"
     "Течёт кран на кухне, кв. 12\n"),
])
def test_a_forms_answer_under_its_question_names_the_resident(sender: str, body: str) -> None:
    parsed = parse_mail(letter("Новая заявка с сайта", body, sender), own_addresses=OWN)
    assert parsed.sender == "ivan.petrov@mail.ru"
    assert parsed.sender_name == "Иван Петров"


def test_a_residents_letter_naming_an_email_under_a_line_is_still_theirs() -> None:
    body = ("Добрый день!\n\nМой новый адрес почты\nanna.k@mail.ru\n\nПишите туда, пожалуйста.\n"
            "Течёт кран на кухне, кв. 12.")
    parsed = parse_mail(letter("Смена почты", body), own_addresses=OWN)
    assert parsed.sender == "ivan.sidorov@mail.ru"


# --- 7. an unknown text subtype is plain text ---------------------------------------------------


@pytest.mark.parametrize("ctype", ["text/plian", "text/x-plain", "text/txt"])
def test_a_letter_under_an_unknown_text_type_is_read(ctype: str) -> None:
    parsed = parse_mail(letter("Течёт кран", "Течёт кран на кухне, кв. 12.", ctype=ctype),
                        own_addresses=OWN)
    assert parsed.text == "Течёт кран на кухне, кв. 12." and not parsed.attachments


def test_a_contact_card_stays_a_file() -> None:
    mail = _mail("Контакт", [_text("Контакт мастера во вложении."),
                             "Content-Type: text/x-vcard; charset=utf-8\r\n\r\n"
                             "BEGIN:VCARD\r\nFN:Пётр\r\nEND:VCARD"], ctype="multipart/mixed")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.text == "Контакт мастера во вложении." and len(parsed.attachments) == 1


# --- 8. mail.ru's "От кого:" block and Lotus Notes 8's header over a quote ---------------------


@pytest.mark.parametrize("header", [
    # mail.ru's and Bitrix24 mail's fields under a rule
    "------------------------------------------------------------\n"
    f"От кого: УК Заречье <{OFFICE}>\nКому: ivan@mail.ru\n"
    "Дата: Четверг, 15 января 2026, 12:00 +03:00\nТема: [A-1042] Течёт кран\n",
    # Lotus Notes 8 and later, in Russian and in English
    f"-----УК Заречье <{OFFICE}> написал: -----\nКому: ivan@mail.ru\n"
    f"От: УК Заречье <{OFFICE}>\nДата: 15.01.2026 12:00\nТема: [A-1042] Течёт кран\n",
    f'-----"УК Заречье" <{OFFICE}> wrote: -----\nTo: ivan@mail.ru\n'
    f"From: УК Заречье <{OFFICE}>\nDate: 01/15/2026 12:00PM\nSubject: [A-1042] Течёт кран\n",
])
def test_a_quote_under_its_fields_goes_with_them(header: str) -> None:
    body = f"{_WORDS}\n\n{header}\n{_ACK}\n"
    parsed = parse_mail(letter("Re: [A-1042] Течёт кран", body), own_addresses=OWN)
    assert parsed.text == _WORDS


def test_a_residents_statement_headed_ot_kogo_stays() -> None:
    body = ("Заявление\n\nОт кого: Иванов И.И., кв. 12\nКому: директору УК\n"
            "Дата: 15.01.2026\n\nПрошу провести осмотр подвала.")
    parsed = parse_mail(letter("Заявление", body), own_addresses=OWN)
    assert parsed.text == body
