"""Twenty-first round: what residents send through the office's site. A site whose host lets
it send only as the office's own mailbox mails its form (Bitrix's feedback form, a WordPress
SMTP plugin) from the office to the office with no Reply-To: taken for our own mail, the
resident's letter was ignored. Bitrix's feedback form ends "Сообщение сгенерировано
автоматически": a resident whose words named no flat was held for review and never answered,
Reply-To or not. A form relayed with a bare Reply-To (Contact Form 7's "Reply-To:
[your-email]") greeted the resident by the site's name ("Здравствуйте, WordPress!"). A
neighbour's letter a resident forwards from Outlook set to prefix each line of the original
message ("> -----Original Message-----", "> От: …") was dropped with the quotes, and our own
letter forwarded under Outlook's "-----Original Message-----" left that line as the resident's.
Pinned as they are (they already worked, and nothing here may change them): quote headers of
Mail.ru's app and web, Yandex's, Rambler's, Gmail's, Outlook's and Samsung's in Russian,
in plain text and HTML; Tilda's form from its own robot; a utility's ticket notice naming a
contact address stays for staff; display names in KOI8-R, windows-1251, ISO-8859-5, CP866 and
Mac Cyrillic; subjects whose emoji and letters are split across encoded-words."""

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


def _mail(subject: str, text: str, *, sender: str = "Иван Петров <ivan.petrov@mail.ru>",
          to: str = OFFICE, extra: str = "", ctype: str = "text/plain") -> bytes:
    """One letter, its text in base64 (as Mail.ru, Yandex and PHP's mailers send it)."""
    name, _, addr = sender.partition(" <")
    head = (f"From: {ew(name)} <{addr}\r\nTo: {to}\r\nSubject: {ew(subject)}\r\n"
            "Date: Thu, 15 Jan 2026 12:00:00 +0300\r\n"
            f"Message-ID: <{hashlib.sha1(text.encode()).hexdigest()}@site.example>\r\n{extra}"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n")
    return (head.replace("\r\n", "\n").replace("\n", "\r\n")
            + base64.encodebytes(text.encode()).decode().replace("\n", "\r\n")).encode()


# --- 1. a site's form, sent as the office's own mailbox -----------------------------------------

_QUESTION = "Добрый день! Когда будет перерасчёт за отопление за декабрь? Батареи были холодные."
_BITRIX = ("Информационное сообщение сайта УК Заречье\n"
           "------------------------------------------\n\n"
           "Вам было отправлено сообщение через форму обратной связи\n\n"
           "Автор: Ольга Смирнова\nE-mail автора: olga.s@yandex.ru\n\n"
           f"Текст сообщения:\n{_QUESTION}\n\nСообщение сгенерировано автоматически.")
_WEB_FORM = ("Заполнена web-форма: [1] Обратная связь\nВаше имя: Ольга Смирнова\n"
             f"E-mail: olga.s@yandex.ru\nТелефон: +7 926 123-45-67\nСообщение:\n{_QUESTION}")
_WORDPRESS = ("Имя: Ольга Смирнова\nEmail: olga.s@yandex.ru\nТелефон: +7 926 123-45-67\n"
              f"Сообщение: {_QUESTION}\n\n--\nЭто сообщение отправлено с сайта УК Заречье")
_FORMS = {"bitrix feedback": ("УК Заречье: Сообщение из формы обратной связи", _BITRIX),
          "bitrix web form": ("Заполнена web-форма «Обратная связь»", _WEB_FORM),
          "wordpress smtp plugin": ("Заявка с сайта", _WORDPRESS)}


@pytest.mark.parametrize("form", list(_FORMS.values()), ids=list(_FORMS))
def test_a_form_sent_as_the_office_without_reply_to_is_the_residents(
        form: tuple[str, str]) -> None:
    """A host lets the site send only as the mailbox it logs in to, the office's, and the form
    sets no Reply-To: the resident is only in its fields. It was ignored as our own mail."""
    parsed = parse_mail(_mail(*form, sender=f"УК Заречье <{OFFICE}>"), own_addresses=OWN)
    assert parsed.automated is None and parsed.review_reason is None
    assert (parsed.sender, parsed.sender_name) == ("olga.s@yandex.ru", "Ольга Смирнова")
    assert _QUESTION in parsed.text


async def test_a_form_sent_as_the_office_opens_a_case_and_answers_the_resident(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, _mail(*_FORMS["bitrix web form"],
                                            sender=f"УК Заречье <{OFFICE}>"))
    assert row["action"] == "new_case"
    await app.outbox.deliver_due()
    [ack] = [i for i in recorder.sent if i.channel == "email"]
    assert ack.recipient == "olga.s@yandex.ru" and "Ольга Смирнова" in ack.text


@pytest.mark.parametrize(("to", "extra"), [
    ("olga.s@yandex.ru", ""),  # Bitrix24's CRM copy of staff's answer to a resident
    (OFFICE, "In-Reply-To: <olga.1@yandex.ru>\r\n"),  # answers a letter: a form answers none
    (OFFICE, "Auto-Submitted: auto-generated\r\n"),
], ids=["to a resident", "an answer", "marked automatic"])
def test_a_form_like_letter_of_ours_stays_ours(to: str, extra: str) -> None:
    """Guard: from our address, only a new letter to us alone is a form's."""
    mail = _mail(*_FORMS["bitrix web form"], sender=f"УК Заречье <{OFFICE}>", to=to,
                 extra=extra)
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.OWN


@pytest.mark.parametrize("reply_to", ["", "Reply-To: olga.s@yandex.ru\r\n"],
                         ids=["no reply-to", "bare reply-to"])
def test_bitrixs_form_is_answered_though_it_says_it_is_automatic(reply_to: str) -> None:
    """Bitrix's feedback template ends "Сообщение сгенерировано автоматически", which a
    utility's ticket notice says too: a short question naming no flat was held for staff
    with nobody to answer, though the form names its author and gives her address."""
    mail = _mail(*_FORMS["bitrix feedback"], sender="Сайт УК <info@uk-site.example>",
                 extra=reply_to)
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.review_reason is None
    assert (parsed.sender, parsed.sender_name) == ("olga.s@yandex.ru", "Ольга Смирнова")


def test_a_utilitys_ticket_notice_naming_a_contact_address_stays_for_staff() -> None:
    """Guard: a notice that says it is automatic and gives an e-mail field names no author:
    an acknowledgement would open another ticket there, for ever."""
    text = ("Ваше обращение №458812 зарегистрировано.\nСтатус: принято\nДата: 15.01.2026\n"
            "E-mail для ответа: support@vodokanal.example\n\n"
            "Письмо сформировано автоматически, отвечать на него не нужно.")
    parsed = parse_mail(_mail("Обращение №458812 зарегистрировано", text,
                              sender="Водоканал <support@vodokanal.example>"), own_addresses=OWN)
    assert parsed.sender is None and parsed.review_reason is not None


# --- 2. whom a relayed form greets --------------------------------------------------------------

_LEAK = "В кв. 12 течёт кран на кухне, прошу прислать сантехника."
_RELAYED = {
    # Contact Form 7's template in Russian and in English, "Reply-To: [your-email]"
    "contact form 7": ("WordPress <wordpress@uk-site.example>",
                       "От: Иван Петров <ivan.petrov@mail.ru>\nТема: Течёт кран\n\n"
                       f"Сообщение:\n{_LEAK}\n\n-- \n"
                       "Это сообщение отправлено с сайта УК Заречье (https://uk-site.example)"),
    "contact form 7, english": (
        "УК Заречье <wordpress@uk-site.example>",
        f"From: Иван Петров ivan.petrov@mail.ru\nSubject: Течёт кран\n\nMessage Body:\n{_LEAK}"
        "\n\n-- \nThis e-mail was sent from a contact form on УК Заречье"),
    "a name field": ("Сайт УК <info@uk-site.example>",
                     "Заявка с сайта\nИмя: Иван Петров\nТелефон: +7 926 123-45-67\n"
                     f"Сообщение: {_LEAK}"),
    "the office's own mailbox": (f"УК Заречье <{OFFICE}>",
                                 f"Имя: Иван Петров\nСообщение: {_LEAK}"),
}


@pytest.mark.parametrize("form", list(_RELAYED.values()), ids=list(_RELAYED))
def test_a_form_with_a_bare_reply_to_greets_the_resident_by_the_forms_name(
        form: tuple[str, str]) -> None:
    """The acknowledgement greeted the resident by From's name, the site's ("Здравствуйте,
    WordPress!", or the office's own), as staff saw them."""
    sender, text = form
    parsed = parse_mail(_mail("Течёт кран", text, sender=sender,
                              extra="Reply-To: ivan.petrov@mail.ru\r\n"), own_addresses=OWN)
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван Петров")


def test_a_form_that_names_nobody_greets_nobody() -> None:
    parsed = parse_mail(_mail("Течёт кран", f"Сообщение: {_LEAK}\n\nОтправлено с сайта",
                              sender="WordPress <wordpress@uk-site.example>",
                              extra="Reply-To: ivan.petrov@mail.ru\r\n"), own_addresses=OWN)
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", None)


def test_a_persons_bare_reply_to_keeps_their_name() -> None:
    """Guard: a resident whose mail program answers elsewhere is still the From's person."""
    parsed = parse_mail(_mail("Течёт кран", _LEAK, sender="Иван Петров <i.petrov@company.ru>",
                              extra="Reply-To: ivan.petrov@mail.ru\r\n"), own_addresses=OWN)
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван Петров")


# --- 3. a letter forwarded with every line quoted -----------------------------------------------

_NEIGHBOUR = "У меня с потолка капает вода в ванной, кв. 45. Соседи сверху не открывают."
_FORWARDER = "Пересылаю письмо соседки, она не может сама написать."


def _quoted(text: str) -> str:
    """``text`` as Outlook's "prefix each line of the original message" writes it."""
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


_PREFIXED = {
    "original message": ("-----Original Message-----\n"
                         "From: Мария Иванова [mailto:maria46@mail.ru]\n"
                         "Sent: Wednesday, January 14, 2026 8:00 PM\nTo: Иван Петров\n"
                         f"Subject: Протечка\n\n{_NEIGHBOUR}"),
    "исходное сообщение": ("-----Исходное сообщение-----\n"
                           "От: Мария Иванова [mailto:maria46@mail.ru]\n"
                           "Отправлено: 14 января 2026 г. 20:00\nКому: Иван Петров\n"
                           f"Тема: Протечка\n\n{_NEIGHBOUR}"),
    "a header block alone": ("От: Мария Иванова <maria46@mail.ru>\n"
                             "Отправлено: 14 января 2026 г. 20:00\nКому: Иван Петров\n"
                             f"Тема: Протечка\n\n{_NEIGHBOUR}"),
}


@pytest.mark.parametrize("letter", list(_PREFIXED.values()), ids=list(_PREFIXED))
def test_a_neighbours_letter_forwarded_with_every_line_quoted_is_kept(letter: str) -> None:
    """Outlook's option to prefix each line of the original message quotes the whole letter a
    resident forwards: dropped with the quotes, staff got "Пересылаю письмо соседки" and not
    a word of the neighbour's."""
    parsed = parse_mail(_mail("FW: Протечка", f"{_FORWARDER}\n\n{_quoted(letter)}\n"),
                        own_addresses=OWN)
    assert parsed.text.startswith(_FORWARDER) and parsed.text.endswith(_NEIGHBOUR)
    assert not any(line.startswith(">") for line in parsed.text.split("\n"))


_OURS = ("-----Original Message-----\n"
         f"From: УК «Заречье» <{OFFICE}>\nSent: Thursday, January 15, 2026 9:00 AM\n"
         "To: Иван Петров\nSubject: [A-1001] Обращение зарегистрировано\n\n"
         "Здравствуйте, Иван Петров!\nВаше обращение зарегистрировано под номером A-1001.\n"
         "Чтобы дополнить обращение, просто ответьте на это сообщение.")


@pytest.mark.parametrize("quote", [False, True], ids=["as written", "every line quoted"])
def test_our_letter_forwarded_under_original_message_leaves_the_residents_words(
        quote: bool) -> None:
    """Outlook's plain-text forward of our acknowledgement: its "-----Original Message-----"
    line was left under the resident's words as if they had written it."""
    body = f"Мастер так и не пришёл.\n\n{_quoted(_OURS) if quote else _OURS}\n"
    parsed = parse_mail(_mail("FW: [A-1001] Обращение зарегистрировано", body),
                        own_addresses=OWN)
    assert parsed.text == "Мастер так и не пришёл."


def test_a_reply_with_every_line_quoted_still_loses_the_quote() -> None:
    """Guard: only a forward's quoted letter is kept; a reply's is history."""
    parsed = parse_mail(_mail("RE: [A-1001] Обращение зарегистрировано",
                              f"Мастер так и не пришёл.\n\n{_quoted(_OURS)}\n"), own_addresses=OWN)
    assert parsed.text == "Мастер так и не пришёл."


# --- 4. pinned: Russian mail services' quote headers, display names, split subjects -------------

_REPLY = "Спасибо, мастер пришёл, но кран опять течёт."
_ACK = ("Здравствуйте, Иван Петров!\nВаше обращение зарегистрировано под номером A-1001.\n"
        "Чтобы дополнить обращение, просто ответьте на это сообщение.")
_QUOTED_ACK = _quoted(_ACK)
_PLAIN_QUOTES = {
    "mail.ru app": f"Четверг, 15 января 2026, 12:00 +03:00 от УК «Заречье» <{OFFICE}>:\n\n"
                   f"{_QUOTED_ACK}",
    "mail.ru web": f">Четверг, 15 января 2026, 12:00 +03:00 от УК <{OFFICE}>:\n>\n{_QUOTED_ACK}",
    "yandex mobile": ("-- \nОтправлено из мобильной Яндекс Почты\n\n"
                      f"15.01.2026, 12:00, \"УК «Заречье»\" <{OFFICE}>:\n{_QUOTED_ACK}"),
    "rambler": f"15.01.2026 12:00, УК «Заречье» <{OFFICE}> написал(а):\n{_QUOTED_ACK}",
    "gmail in russian": f"чт, 15 янв. 2026 г. в 12:00, УК «Заречье» <{OFFICE}>:\n\n{_QUOTED_ACK}",
    "outlook in russian": ("С уважением,\nИван\n\nОт: УК «Заречье» <" + OFFICE + ">\n"
                           "Отправлено: 15 января 2026 г. 12:00\n"
                           "Кому: Иван Петров <ivan.petrov@mail.ru>\n"
                           f"Тема: [A-1001] Течёт кран\n\n{_ACK}"),
    "samsung": ("Отправлено с устройства Galaxy\n\n\n-------- Исходное сообщение --------\n"
                f"От: УК «Заречье» <{OFFICE}>\nДата: 15.01.2026 12:00 (GMT+03:00)\n"
                f"Кому: ivan.petrov@mail.ru\nТема: [A-1001] Течёт кран\n\n{_ACK}"),
}


@pytest.mark.parametrize("quote", list(_PLAIN_QUOTES.values()), ids=list(_PLAIN_QUOTES))
def test_russian_mail_services_quote_headers_go_with_the_quote(quote: str) -> None:
    parsed = parse_mail(_mail("Re: [A-1001] Течёт кран", f"{_REPLY}\n\n{quote}\n"),
                        own_addresses=OWN)
    assert parsed.text in (_REPLY, f"{_REPLY}\n\nС уважением,\nИван")


_HTML_ACK = _ACK.replace("\n", "<br>")
_HTML_QUOTES = {
    "mail.ru": (f"<div>{_REPLY}</div><div>&nbsp;</div><blockquote style=\"border-left:1px solid "
                f"#0857A6\">Четверг, 15 января 2026, 12:00 +03:00 от УК &lt;{OFFICE}&gt;:<br>"
                f"<div class=\"js-helper js-readmsg-msg\">{_HTML_ACK}</div></blockquote>"),
    "yandex": (f"<div>{_REPLY}</div><div>----------------</div><div>Отправлено из мобильной "
               f"Яндекс Почты</div><div>15.01.2026, 12:00, \"УК\" &lt;{OFFICE}&gt;:</div>"
               f"<blockquote>{_HTML_ACK}</blockquote>"),
    "outlook on the web": (
        f"<div>{_REPLY}</div><hr style=\"display:inline-block;width:98%\">"
        "<div id=\"divRplyFwdMsg\">"
        f"<b>От:</b> УК &lt;{OFFICE}&gt;<br><b>Отправлено:</b> 15 января 2026 г. 12:00<br>"
        "<b>Кому:</b> Иван Петров<br><b>Тема:</b> [A-1001] Течёт кран</div>"
        f"<div>{_HTML_ACK}</div>"),
}


@pytest.mark.parametrize("html", list(_HTML_QUOTES.values()), ids=list(_HTML_QUOTES))
def test_russian_mail_services_html_quotes_go(html: str) -> None:
    parsed = parse_mail(_mail("Re: [A-1001] Течёт кран", html, ctype="text/html"),
                        own_addresses=OWN)
    assert parsed.text == _REPLY


@pytest.mark.parametrize("codec", ["koi8-r", "windows-1251", "iso-8859-5", "cp866",
                                   "mac-cyrillic"])
def test_a_display_name_in_any_cyrillic_charset_is_read(codec: str) -> None:
    label = {"mac-cyrillic": "x-mac-cyrillic"}.get(codec, codec)
    name = base64.b64encode("Иван Петров".encode(codec)).decode()
    mail = _mail("Кран", _LEAK).replace(
        f"From: {ew('Иван Петров')}".encode(), f"From: =?{label}?B?{name}?=".encode())
    assert parse_mail(mail, own_addresses=OWN).sender_name == "Иван Петров"


@pytest.mark.parametrize("cut", [1, 3, 6, 7])
def test_a_subject_split_inside_a_character_across_encoded_words_is_whole(cut: int) -> None:
    """Outlook and PHP mailers split a long subject by bytes, an emoji or a letter apart."""
    subject = "🔥 Пахнет гарью в подъезде 👃 срочно!"
    data = subject.encode()
    words = "\r\n ".join(f"=?UTF-8?B?{base64.b64encode(part).decode()}?="
                         for part in (data[:cut], data[cut:]))
    mail = _mail("X", _LEAK).replace(f"Subject: {ew('X')}".encode(),
                                     f"Subject: {words}".encode())
    assert parse_mail(mail, own_addresses=OWN).subject == subject


def test_tildas_form_from_its_robot_is_the_residents() -> None:
    text = ("Request details:\n\nName: Иван Петров\nEmail: ivan.petrov@mail.ru\n"
            f"Phone: +7 (926) 123-45-67\nTextarea: {_LEAK}\n\nRequest ID: 4363282:1829347011\n"
            "Block ID: rec523412345\nForm Name: Cart\nhttps://uk-site.example/\n-----\n"
            "Tilda Publishing\n")
    parsed = parse_mail(_mail("New lead from uk-site.example", text,
                              sender="Tilda Publishing <robot@tilda.ws>"), own_addresses=OWN)
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван Петров")
    assert _LEAK in parsed.text
