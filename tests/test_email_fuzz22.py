"""Twenty-second round: what office programs and site plug-ins send, and away notices as
Russian offices word them. Zoho Mail's quote header ("---- On … УК <office@…> wrote ----", no
colon) left our acknowledgement as the resident's words. Away notices answering our letter
worded "отсутствую на рабочем месте", "меня не будет в офисе … обращайтесь к", "письмо будет
передано коллегам", "рассмотрено после моего выхода", or a helpdesk's "письмо получено и будет
рассмотрено", and labels such as "Нахожусь в отпуске", "Меня нет на месте", "Уведомление об
отсутствии", "I am out of the office" over a short notice, were threaded as residents' answers.
Contact Form 7 without its Reply-To names the resident only on its first line ("От: Иван
Петров <ivan@…>"): from WordPress nobody was answered, from the office's mailbox the letter was
ignored as ours, from the site's info@ the acknowledgement went there; with a bare Reply-To
from the site's mailbox the resident was greeted by the site's name, the form's "отправлено
с сайта" footer going with the signature. WPForms' "--- Email ---" and its HTML label over
the address named nobody. A voicemail the office's phone system mails as the office was
ignored as our own mail, and one from voicemail@, asterisk@ or pbx@ was acknowledged to the
phone system. Exchange's "Петров, Иван" was greeted back to front. A file labelled
application/octet-stream is typed by its name: a photo's caption was unread and a copier's
scan sent as the office ignored. Pinned as they are (they already worked): Apple Mail's,
Thunderbird's and Outlook for Android's HTML quotes, a formal application headed "Кому:" /
"От:", and an away notice giving a phone number staying a person's (round 17's guard)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from domovoy.app import App
from intake.email import parse_mail
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import OFFICE, OWN, ew, ingest

_ANSWER = "In-Reply-To: <a-1001.c3c43fdd@uk-zarechye.test>\r\n"


def _mail(subject: str, text: str, *, sender: str = "Иван Петров <ivan.petrov@mail.ru>",
          to: str = OFFICE, extra: str = "", ctype: str = "text/plain") -> bytes:
    """One letter, its text in base64 (as Mail.ru, Yandex and PHP's mailers send it)."""
    name, _, addr = sender.partition(" <")
    head = (f"From: {ew(name)} <{addr}\r\nTo: {to}\r\nSubject: {ew(subject)}\r\n"
            "Date: Thu, 15 Jan 2026 12:00:00 +0300\r\n"
            f"Message-ID: <{hashlib.sha1((subject + text).encode()).hexdigest()}@mail.example>"
            f"\r\n{extra}MIME-Version: 1.0\r\nContent-Type: {ctype}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n")
    return (head.replace("\r\n", "\n").replace("\n", "\r\n")
            + base64.encodebytes(text.encode()).decode().replace("\n", "\r\n")).encode()


# --- 1. Zoho Mail's quote header ----------------------------------------------------------------

_REPLY = "Мастер не пришёл, кран течёт."
_ACK = "Здравствуйте, Иван Петров!\nВаше обращение зарегистрировано под номером A-1001."


@pytest.mark.parametrize("header", [
    f"---- On Thu, 15 Jan 2026 12:00:00 +0300 УК <{OFFICE}> wrote ----",
    f"---- В чт, 15 янв 2026 12:00:00 +0300 УК <{OFFICE}> написал ----",
], ids=["english", "russian"])
def test_zohos_quote_header_goes_with_the_quote(header: str) -> None:
    """Zoho Mail heads the quote "---- On … УК <office@…> wrote ----", no colon: the header
    and our whole acknowledgement were read as the resident's words."""
    parsed = parse_mail(_mail("Re: [A-1001] Течёт кран", f"{_REPLY}\n\n{header}\n\n{_ACK}\n",
                              extra=_ANSWER), own_addresses=OWN)
    assert parsed.text == _REPLY


def test_zohos_html_quote_header_goes_with_the_quote() -> None:
    html = (f"<div>{_REPLY}<br></div><div><br></div><div class=\"zmail_extra_hr\"></div>"
            "<div class=\"zmail_extra\"><div><br></div><div id=\"Zm-_Id_-Sgn1\">---- On Thu, "
            f"15 Jan 2026 12:00:00 +0300 <b>УК &lt;{OFFICE}&gt;</b> wrote ---<br></div></div>"
            "<blockquote style=\"border-left: 1px solid rgb(204, 204, 204)\">"
            f"{_ACK.replace(chr(10), '<br>')}</blockquote>")
    parsed = parse_mail(_mail("Re: [A-1001] Течёт кран", html, extra=_ANSWER,
                              ctype="text/html"), own_addresses=OWN)
    assert parsed.text == _REPLY


# --- 2. Russian out-of-office notices -----------------------------------------------------------

_NOTICES = {
    "absent from the workplace": "Добрый день! В настоящее время я отсутствую на рабочем месте."
                                 " Ваше письмо будет передано коллегам.",
    "read after my return to work": "Уважаемый отправитель! Я нахожусь в отпуске до 25 января. "
                                    "Ваше письмо будет рассмотрено после моего выхода.",
    "not in the office": "Добрый день. Меня не будет в офисе до 20.01. По всем вопросам "
                         "обращайтесь к Ивановой Марии, ivanova@company.example.",
    "a helpdesk's receipt": "Здравствуйте! Благодарим за обращение. Ваше письмо получено и "
                            "будет рассмотрено в ближайшее время.",
}


@pytest.mark.parametrize("body", list(_NOTICES.values()), ids=list(_NOTICES))
def test_a_russian_notice_answering_our_letter_is_an_auto_reply(body: str) -> None:
    """An Outlook rule or a company's server answering our letter with a notice worded as
    Russian offices word them: it was threaded into the case as the resident's answer."""
    parsed = parse_mail(_mail("Re: [A-1001] Нужны уточнения", body,
                              sender="Ирина <irina.k@company.example>", extra=_ANSWER),
                        own_addresses=OWN)
    assert parsed.automated is Automated.AUTOREPLY


@pytest.mark.parametrize("body", [
    "Я в отпуске до 25.01, в моё отсутствие ключи у соседки из кв. 46.",
    "Меня не будет дома до 20.01, по всем вопросам обращайтесь к жене: +7 926 000-00-00.",
    "Ваше письмо получено, спасибо. Мастер пришёл, но кран опять течёт.",
    "Я на работе до 19:00, после обращайтесь к мужу, он дома.",
], ids=["keys", "wife", "thanks", "at work"])
def test_a_residents_answer_about_being_away_stays_theirs(body: str) -> None:
    """Guard: a resident says where they are and whom to ask, about home, not an office."""
    parsed = parse_mail(_mail("Re: [A-1001] Нужны уточнения", body, extra=_ANSWER),
                        own_addresses=OWN)
    assert parsed.automated is None


_AWAY_SUBJECTS = ["Нахожусь в отпуске", "Меня нет на месте", "Отсутствие на рабочем месте",
                  "Я в командировке", "Уведомление об отсутствии", "Отсутствую в офисе",
                  "Нахожусь в отпуске до 25.01", "I am out of the office", "I'm on vacation"]


@pytest.mark.parametrize("subject", _AWAY_SUBJECTS)
def test_an_away_subject_over_a_short_notice_is_an_auto_reply(subject: str) -> None:
    """A notice sent as a new letter under its own label: only "Отпуск", "Нет на месте" and a
    few more were known."""
    parsed = parse_mail(_mail(subject, "Я в отпуске до 25.01. Вернусь — отвечу.",
                              sender="Ирина <irina.k@company.example>"), own_addresses=OWN)
    assert parsed.automated is Automated.AUTOREPLY


@pytest.mark.parametrize("subject", ["Нахожусь в отпуске до 25.01", "Я в командировке"])
def test_a_resident_away_who_names_the_flat_is_a_person(subject: str) -> None:
    parsed = parse_mail(_mail(subject, "Я в отпуске до 25.01. Прошу проверить стояк в кв. 45, "
                                       "соседи говорят, сыро."), own_addresses=OWN)
    assert parsed.automated is None


# --- 3. site forms that name the resident only in their text ------------------------------------

_LEAK = "В кв. 12 течёт кран на кухне, прошу прислать сантехника."
_CF7 = {
    "russian": ("От: Иван Петров <ivan.petrov@mail.ru>\nТема: Течёт кран\n\nСообщение:\n"
                f"{_LEAK}\n\n-- \nЭто сообщение отправлено с сайта УК Заречье "
                "(https://uk-site.example)"),
    "english": ("From: Иван Петров <ivan.petrov@mail.ru>\nSubject: Течёт кран\n\nMessage Body:"
                f"\n{_LEAK}\n\n-- \nThis e-mail was sent from a contact form on УК Заречье "
                "(https://uk-site.example)"),
}
_SITE_SENDERS = {"wordpress": "WordPress <wordpress@uk-site.example>",
                 "the site's mailbox": "УК Заречье <info@uk-site.example>",
                 "the office's own": f"УК Заречье <{OFFICE}>"}


@pytest.mark.parametrize("sender", list(_SITE_SENDERS.values()), ids=list(_SITE_SENDERS))
@pytest.mark.parametrize("body", list(_CF7.values()), ids=list(_CF7))
def test_contact_form_7_without_reply_to_answers_the_resident(body: str, sender: str) -> None:
    """Contact Form 7 with its "Reply-To: [your-email]" left out names the resident only on its
    first line: from WordPress's robot nobody was answered, from the office's own mailbox the
    letter was ignored as ours, and from the site's info@ the acknowledgement went there."""
    parsed = parse_mail(_mail("УК Заречье \"Течёт кран\"", body, sender=sender),
                        own_addresses=OWN)
    assert parsed.automated is None and parsed.review_reason is None
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван Петров")
    assert _LEAK in parsed.text


def test_a_forms_footer_names_it_for_a_bare_reply_to() -> None:
    """From the site's own info@ with a bare Reply-To the resident was greeted by the site's
    name ("Здравствуйте, УК Заречье!"): the form's "отправлено с сайта" is in its footer, which
    goes with the signature, and was not read."""
    parsed = parse_mail(_mail("УК Заречье \"Течёт кран\"", _CF7["russian"],
                              sender=_SITE_SENDERS["the site's mailbox"],
                              extra="Reply-To: ivan.petrov@mail.ru\r\n"), own_addresses=OWN)
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван Петров")


_WPFORMS_PLAIN = ("--- Имя ---\n\nИван Петров\n\n--- Email ---\n\nivan.petrov@mail.ru\n\n"
                  f"--- Комментарий или сообщение ---\n\n{_LEAK}\n\n")
_WPFORMS_HTML = (
    "<table><tr><td><strong>Имя</strong></td></tr><tr><td>Иван Петров</td></tr>"
    "<tr><td><strong>Email</strong></td></tr><tr><td><a href=\"mailto:ivan.petrov@mail.ru\">"
    "ivan.petrov@mail.ru</a></td></tr><tr><td><strong>Комментарий или сообщение</strong></td>"
    f"</tr><tr><td>{_LEAK}</td></tr></table>"
    "<p>Sent from <a href=\"https://uk-site.example\">УК Заречье</a></p>")


@pytest.mark.parametrize("sender", [_SITE_SENDERS["wordpress"], _SITE_SENDERS["the office's own"]],
                         ids=["wordpress", "the office's own"])
@pytest.mark.parametrize(("body", "ctype"), [(_WPFORMS_PLAIN, "text/plain"),
                                             (_WPFORMS_HTML, "text/html")], ids=["plain", "html"])
def test_wpforms_bare_email_field_names_the_resident(body: str, ctype: str, sender: str) -> None:
    """WPForms heads each field "--- Email ---" (plain text) or puts the label over its value
    (HTML), no colon: nobody was answered, or, from the office's mailbox, it was ignored."""
    parsed = parse_mail(_mail("Новая запись: Простая контактная форма", body, sender=sender,
                              ctype=ctype), own_addresses=OWN)
    assert parsed.automated is None and parsed.review_reason is None
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван Петров")
    assert _LEAK in parsed.text


def test_a_robots_notice_naming_a_contact_under_a_bare_label_stays_unanswered() -> None:
    """Guard: a robot's letter with a name, its own site's address under a bare "Email" and a
    message is no resident's form."""
    body = ("Имя\nДиспетчерская Водоканала\n\nEmail\ninfo@vodokanal.example\n\nСообщение\n"
            "20 января с 10:00 до 18:00 будет отключена холодная вода.\n")
    parsed = parse_mail(_mail("Отключение воды", body,
                              sender="Водоканал <noreply@notify.vodokanal.example>"),
                        own_addresses=OWN)
    assert parsed.sender is None


def test_a_persons_letter_opening_with_someone_elses_from_line_is_theirs() -> None:
    """Guard: a resident who writes "От: …" over a forwarded letter is still the one answered."""
    body = ("От: Мария Иванова <maria46@mail.ru>\nТема: Протечка\n\nСообщение:\n"
            "У меня с потолка капает вода в ванной, кв. 45.")
    parsed = parse_mail(_mail("Протечка", body), own_addresses=OWN)
    assert parsed.sender == "ivan.petrov@mail.ru"


# --- 4. voicemail from the office's phone system -----------------------------------------------

_VOICEMAIL = ("Dear office,\n\njust wanted to let you know you were just left a 0:35 long "
              "message (number 3)\nin mailbox 100 from \"Ivan\" <79261234567>, on Thursday, "
              "January 15, 2026 at 12:00:00 PM\nso you might want to check it when you get a "
              "chance.  Thanks!\n\n\t\t\t\t--Asterisk\n")


def _with_file(subject: str, text: str, name: str, ctype: str, *, sender: str) -> bytes:
    """A letter with one file, as a phone system or a copier sends it."""
    head, _, _ = _mail(subject, text, sender=sender).partition(b"MIME-Version")
    body = base64.encodebytes(text.encode()).decode()
    data = base64.encodebytes(b"RIFF" + bytes(2000)).decode()
    return head + (
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=VM\r\n\r\n--VM\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{body}--VM\r\nContent-Type: {ctype}; name=\"{name}\"\r\n"
        f"Content-Disposition: attachment; filename=\"{name}\"\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{data}--VM--\r\n").replace(
            "\r\n", "\n").replace("\n", "\r\n").encode()


async def test_a_voicemail_the_office_pbx_mails_as_the_office_opens_a_case(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    """An Asterisk set up with the office's mailbox mails a caller's message to the office as
    the office, as its copier mails scans: ignored as our own mail, the call was lost."""
    mail = _with_file("[PBX]: New message 3 in mailbox 100", _VOICEMAIL, "msg0003.wav",
                      "audio/x-wav", sender=f"Asterisk PBX <{OFFICE}>")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None and parsed.sender is None
    assert parsed.review_reason is not None and "voicemail" in parsed.review_reason
    assert [a.filename for a in parsed.attachments] == ["msg0003.wav"]
    row = await ingest(app, tmp_path, mail)
    assert row["action"] == "manual_review"  # a case for staff, with nobody to write to
    await app.outbox.deliver_due()
    assert not [i for i in recorder.sent if i.channel == "email"]
    assert [i for i in recorder.sent if i.purpose == "staff_new_case"]


@pytest.mark.parametrize("sender", ["Asterisk PBX <asterisk@pbx.uk-zarechye.test>",
                                    "Голосовая почта <voicemail@ats.example>",
                                    "FreePBX <pbx@uk-zarechye.test>"])
def test_a_voicemail_from_a_phone_systems_mailbox_answers_nobody(sender: str) -> None:
    """The acknowledgement went to the phone system's mailbox."""
    parsed = parse_mail(_with_file("Новое голосовое сообщение", _VOICEMAIL, "msg0003.wav",
                                   "audio/x-wav", sender=sender), own_addresses=OWN)
    assert parsed.automated is None and parsed.sender is None


def test_a_residents_own_recording_is_answered() -> None:
    """Guard: a resident sending a recording of the noise is answered as ever."""
    parsed = parse_mail(_with_file("Шум по ночам", "Запись шума из кв. 49, каждую ночь.",
                                   "запись.m4a", "audio/mp4",
                                   sender="Иван Петров <ivan.petrov@mail.ru>"), own_addresses=OWN)
    assert parsed.sender == "ivan.petrov@mail.ru"


# --- 5. a company directory's "Last, First" -----------------------------------------------------


@pytest.mark.parametrize(("written", "name"), [
    ('"Петров, Иван" <ivan.petrov@corp.example>', "Иван Петров"),
    ('"Petrov, Ivan" <ivan.petrov@corp.example>', "Ivan Petrov"),
    (f'"{ew("Петрова, Анна Сергеевна")}" <anna@corp.example>', "Анна Сергеевна Петрова"),
])
def test_a_last_first_display_name_is_read_first_name_first(written: str, name: str) -> None:
    """Exchange's address book names people "Петров, Иван": the acknowledgement greeted
    "Здравствуйте, Петров, Иван!" and staff saw the name back to front."""
    mail = _mail("Течёт кран", _LEAK).replace(
        f"From: {ew('Иван Петров')} <ivan.petrov@mail.ru>".encode(), f"From: {written}".encode())
    assert parse_mail(mail, own_addresses=OWN).sender_name == name


@pytest.mark.parametrize("name", ["Иванова Мария, кв. 45", "УК, Диспетчерская",
                                  "ООО Ромашка, Бухгалтерия"])
def test_a_display_name_with_a_comma_that_is_no_last_first_stays(name: str) -> None:
    """Guard: a flat or an organisation after a comma is no first name."""
    mail = _mail("Течёт кран", _LEAK).replace(
        f"From: {ew('Иван Петров')}".encode(), f"From: {ew(name)}".encode())
    assert parse_mail(mail, own_addresses=OWN).sender_name == name


# --- 6. files labelled "application/octet-stream" -----------------------------------------------


def test_a_copiers_scan_labelled_octet_stream_from_the_office_opens_a_case() -> None:
    """A copier that labels its PDF "application/octet-stream" and sends as the office: the
    scan was ignored as our own mail (a scan's files are PDFs or pictures)."""
    mail = _with_file("Message from KM_C258", "", "SKM_C25826011512000.pdf",
                      "application/octet-stream", sender=f"Scanner <{OFFICE}>")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None and parsed.review_reason is not None
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("SKM_C25826011512000.pdf", "application/pdf")]


@pytest.mark.parametrize(("name", "ctype"), [("протечка в ванной.jpg", "image/jpeg"),
                                             ("протечка в ванной.HEIC", "image/heic"),
                                             ("протечка в ванной.mp4", "video/mp4")])
def test_a_photo_labelled_octet_stream_is_a_photo_and_its_name_its_words(
        name: str, ctype: str) -> None:
    """Mail.ru's agent and webmails label a photo "application/octet-stream": its name, the
    letter's only words, was not read and staff got a file of no kind."""
    parsed = parse_mail(_with_file("", "", name, "application/octet-stream",
                                   sender="Иван Петров <ivan.petrov@mail.ru>"), own_addresses=OWN)
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [(name, ctype)]
    assert parsed.text == "протечка в ванной"


def test_an_unknown_file_labelled_octet_stream_stays_so() -> None:
    parsed = parse_mail(_with_file("Выгрузка", "Файл из личного кабинета, кв. 12.", "data.bin",
                                   "application/octet-stream",
                                   sender="Иван Петров <ivan.petrov@mail.ru>"), own_addresses=OWN)
    assert [a.content_type for a in parsed.attachments] == ["application/octet-stream"]


# --- 7. pinned: already read as they should be -------------------------------------------------

_HTML_ACK = _ACK.replace("\n", "<br>")
_PINNED_HTML = {
    "apple mail": (f"<div dir=\"ltr\">{_REPLY}</div><div dir=\"ltr\"><br><blockquote "
                   "type=\"cite\">15 янв. 2026 г., в 12:00, УК «Заречье» "
                   f"&lt;{OFFICE}&gt; написал(а):<br><br></blockquote></div><blockquote "
                   f"type=\"cite\"><div dir=\"ltr\">{_HTML_ACK}</div></blockquote>"),
    "thunderbird": (f"<p>{_REPLY}</p><div class=\"moz-cite-prefix\">15.01.2026 12:00, УК "
                    f"«Заречье» пишет:<br></div><blockquote type=\"cite\">{_HTML_ACK}"
                    "</blockquote>"),
    "outlook for android": (
        f"<div dir=\"ltr\">{_REPLY}</div><div dir=\"ltr\">Получить <a href=\"https://aka.ms/"
        "AAb9ysg\">Outlook для Android</a></div><hr style=\"display:inline-block;width:98%\">"
        f"<div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b> УК &lt;{OFFICE}&gt;<br><b>Sent:"
        "</b> Thursday, January 15, 2026 12:00:00 PM<br><b>To:</b> Иван<br><b>Subject:</b> "
        f"[A-1001]</div><div>{_HTML_ACK}</div>"),
}


@pytest.mark.parametrize("html", list(_PINNED_HTML.values()), ids=list(_PINNED_HTML))
def test_pinned_html_quotes_of_apple_mail_thunderbird_and_outlook_for_android(html: str) -> None:
    parsed = parse_mail(_mail("Re: [A-1001] Течёт кран", html, extra=_ANSWER, ctype="text/html"),
                        own_addresses=OWN)
    assert parsed.text == _REPLY


def test_pinned_a_formal_application_headed_to_and_from_is_kept_whole() -> None:
    body = ("Кому: Директору ООО «УК Заречье»\nОт: Петрова Ивана Сергеевича, кв. 45\n"
            "Тема: заявление\n\nПрошу произвести перерасчёт за отопление за декабрь 2025 г., "
            "батареи были холодные.\n\nДата: 15.01.2026\nПодпись: Петров И.С.")
    assert parse_mail(_mail("Заявление", body), own_addresses=OWN).text == body


def test_pinned_a_russian_away_notice_that_gives_a_phone_stays_a_persons() -> None:
    """"По срочным вопросам звоните …" is what a resident away says too (round 17's guard)."""
    body = ("Здравствуйте! Я в отпуске с 12.01 по 23.01. По срочным вопросам звоните по "
            "телефону +7 926 000-00-00.")
    parsed = parse_mail(_mail("Re: [A-1001] Нужны уточнения", body, extra=_ANSWER),
                        own_addresses=OWN)
    assert parsed.automated is None
