"""Eighteenth round: Lotus Notes' quote header, its fields as labels without colons ("To" /
"cc" / "Subject", "Кому" / "Копия" / "Тема") under the writer and the time, goes with the
quote; "Автоответчик: …" as a subject's label is an auto-reply, and so is a bare "Отпуск",
"Vacation" or "Командировка" over a short notice that its writer is away until a date; a
document sent with no words is read by its file name ("Заявление на перерасчёт.pdf"), as a
photo is, while a scanner's or a program's name (Scan_0001.pdf, "Новый документ Microsoft
Word.docx") is no words; a letter that a group which is the office's own address (a Google
Group, a Mailman list) hands on is the resident's, not a mailing list's, also when the group
wrote its own address into From ("'Иван Петров' via Диспетчерская"); a neighbour's letter
forwarded from Lotus Notes ("----- Forwarded by …") is kept; Exchange 2003's plain report
names the address it "cannot reach" ("'ivan@example.ru' on 15.01.2026 12:01"); Outlook's
"Загрузите Outlook для Android" and other wordings of a mail app's line are no words of the
letter; an empty "filename*=utf-8''" beside a file's written name leaves the name; the line
heading a quote goes with it also as Huawei's mail app ("Исходное письмо"), Foxmail
("Original"), The Bat! ("===8<=== Original message text") or a Russian "Отправитель:" block
write it, and as Novell GroupWise's '>>> "УК" <office@…> 15.01.2026 12:00 >>>'."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from domovoy.app import App
from intake.email import parse_mail
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import OFFICE, OWN, ingest, letter
from tests.test_email_fuzz17 import _ew
from tests.test_email_parse import BASE, raw_mail

# --- 1. Lotus Notes' quote header ----------------------------------------------------------------

_NOTES_HEADERS = {
    "english": ("\tИван Петров <ivan.petrov@mail.ru> \n\t07.12.2026 10:15\n\n"
                "\tTo\n\toffice@uk-zarechye.test\n\tcc\n\n\tSubject\n\tRe: Течёт кран\n\n"),
    "russian": ("Иван Петров/UK/RU@UK\n07.12.2026 10:15\n\n"
                "Кому\noffice@uk-zarechye.test\nКопия\n\nТема\nRe: Течёт кран\n\n"),
    "respond to": ("\"УК Заречье\" <office@uk-zarechye.test>\n12/07/2026 10:15 AM\n"
                   "Please respond to\noffice@uk-zarechye.test\n\n"
                   "To\n\"Иван\" <ivan.sidorov@mail.ru>\ncc\n\nSubject\n[A-1042] Течёт кран\n\n"),
}


@pytest.mark.parametrize("layout", list(_NOTES_HEADERS))
def test_a_lotus_notes_quote_header_goes_with_the_quote(layout: str) -> None:
    body = ("Кран так и не починили, приходите снова.\n\n\n" + _NOTES_HEADERS[layout]
            + "Здравствуйте! Ваше обращение A-1042 принято, мастер придёт завтра.\n")
    parsed = parse_mail(letter("Re: [A-1042] Течёт кран", body), own_addresses=OWN)
    assert parsed.text == "Кран так и не починили, приходите снова."


def test_a_residents_list_with_a_line_kome_is_no_notes_header() -> None:
    # no writer and time over the labels: the resident's own letter, kept whole
    body = ("Прошу передать заявление.\n\nКому\nдиректору УК\nКопия\nв ГЖИ\n\nТема\n"
            "Протечка с крыши, кв. 45\n\nПрошу принять меры.")
    parsed = parse_mail(letter("Заявление", body), own_addresses=OWN)
    assert parsed.text == body


# --- 2. an away notice by its subject -------------------------------------------------------------


@pytest.mark.parametrize(("subject", "body"), [
    ("Автоответчик: Re: [A-1042] Течёт кран", "Здравствуйте! Я в отпуске."),
    ("Автоответчик: Иван Петров", ""),
    ("[Автоответчик] Течёт кран", "Спасибо за письмо, отвечу позже."),
    ("Отпуск", "Я в отпуске до 20 декабря."),
    ("Отпуск", "Добрый день! Нахожусь в отпуске по 05.01.2027 включительно."),
    ("Vacation", "I am on vacation until 12/20 with no access to e-mail."),
    ("Командировка", "Я в командировке до 15.12, вернусь — отвечу."),
    ("On holiday", "I'm away until 2 January."),
])
def test_an_away_notice_is_told_by_its_subject(subject: str, body: str) -> None:
    parsed = parse_mail(letter(subject, body), own_addresses=OWN)
    assert parsed.automated is Automated.AUTOREPLY


@pytest.mark.parametrize(("subject", "body"), [
    # the label's word at the start of a resident's sentence
    ("Автоответчик диспетчерской не работает", "Звоню третий день, никто не берёт трубку."),
    # away, and the flat to look after
    ("Отпуск", "Я в отпуске до 20 декабря, прошу перекрыть воду в кв. 45."),
    # a resident's own question about leave
    ("Отпуск", "Можно ли перенести поверку счётчиков? Уезжаю в отпуск 10 декабря."),
])
def test_a_resident_writing_about_being_away_is_answered(subject: str, body: str) -> None:
    parsed = parse_mail(letter(subject, body), own_addresses=OWN)
    assert parsed.automated is None


async def test_an_autoresponder_answers_nothing_and_opens_no_case(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, letter("Автоответчик: Re: Течёт кран",
                                             "Я в отпуске до 20 декабря."))
    assert row["action"] == "ignored_autoreply"
    await app.outbox.deliver_due()
    assert not [i for i in recorder.sent if i.channel == "email"]


# --- 3. a document's name as its caption ---------------------------------------------------------

_PDF = base64.b64encode(b"%PDF-1.4\n" + bytes(2000)).decode()


def _document(name: str, ctype: str = "application/pdf", words: str | None = None) -> bytes:
    """A letter of one document named ``name`` (RFC 2047-encoded, as mail programs write
    it), with ``words`` above it."""
    parts = [f"Content-Type: text/plain; charset=utf-8\r\n\r\n{words}"] if words else []
    parts.append(f'Content-Type: {ctype}; name="{_ew(name)}"\r\n'
                 f'Content-Disposition: attachment; filename="{_ew(name)}"\r\n'
                 f"Content-Transfer-Encoding: base64\r\n\r\n{_PDF}")
    body = "".join(f"--b\r\n{part}\r\n" for part in parts) + "--b--\r\n"
    return raw_mail([*BASE, ("Subject", ""), ("MIME-Version", "1.0"),
                     ("Content-Type", 'multipart/mixed; boundary="b"')], body.encode())


@pytest.mark.parametrize(("name", "ctype", "caption"), [
    ("Заявление на перерасчёт.pdf", "application/pdf", "Заявление на перерасчёт"),
    ("Акт о заливе кв 45.docx", "application/octet-stream", "Акт о заливе кв 45"),
    ("Жалоба_на_шум_кв12.doc", "application/msword", "Жалоба на шум кв12"),
])
def test_a_document_alone_is_read_by_the_words_of_its_file_name(
        name: str, ctype: str, caption: str) -> None:
    parsed = parse_mail(_document(name, ctype), own_addresses=OWN)
    assert parsed.text == caption
    assert [a.filename for a in parsed.attachments] == [name]
    assert any("file name" in note for note in parsed.notes)


@pytest.mark.parametrize("name", [
    "Scan_0001.pdf", "SKM_C25823120310150.pdf", "Новый документ Microsoft Word.docx",
    "Книга1.xlsx", "Document_2026-12-03.pdf", "doc00123420261203.pdf", "Doc1.docx",
])
def test_a_scanners_or_programs_name_is_no_words(name: str) -> None:
    parsed = parse_mail(_document(name), own_addresses=OWN)
    assert parsed.text == ""


def test_a_document_under_the_residents_words_leaves_them_alone() -> None:
    parsed = parse_mail(_document("Заявление.pdf", words="Прошу сделать перерасчёт, кв. 45."),
                        own_addresses=OWN)
    assert parsed.text == "Прошу сделать перерасчёт, кв. 45."


async def test_a_named_document_opens_a_case_that_says_what_it_is(
        app: App, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, _document("Течёт батарея в спальне кв 45.pdf"))
    assert row["action"] == "new_case"
    assert row["text"] == "Течёт батарея в спальне кв 45"


# --- 4. the office's inbox is a group ------------------------------------------------------------


def _through_our_group(sender: str, reply_to: str | None = None,
                       original: str = "ivan.petrov@mail.ru") -> bytes:
    """A resident's letter as a Google Group that is the office's address hands it on: list
    headers naming the group (our address), From rewritten to the group when ``sender`` is."""
    head = [("From", sender), ("To", OFFICE), ("Subject", _ew("Лифт")),
            ("Date", "Thu, 15 Jan 2026 12:00:00 +0300"), ("Message-ID", "<lift.1@mail.ru>")]
    if reply_to:
        head.append(("Reply-To", reply_to))
    head += [("X-Original-Sender", original), ("Precedence", "list"),
             ("Mailing-list", f"list {OFFICE}; contact office+owners@uk-zarechye.test"),
             ("List-ID", "<office.uk-zarechye.test>"),
             ("List-Post", f"<https://groups.google.com/a/uk-zarechye.test/group/office/post>, "
                           f"<mailto:{OFFICE}>"),
             ("List-Unsubscribe", "<mailto:office+unsubscribe@uk-zarechye.test>"),
             ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8"),
             ("Content-Transfer-Encoding", "8bit")]
    body = ("В подъезде 2 не работает лифт с утра.\nИван, кв. 45\n\n-- \nYou received this "
            "message because you are subscribed to the Google Groups \"Диспетчерская\" group.\n")
    return raw_mail(head, body.encode())


@pytest.mark.parametrize(("sender", "reply_to"), [
    # the writer's own From, untouched by the group
    ("Иван Петров <ivan.petrov@mail.ru>", None),
    # rewritten for the writer's DMARC, the writer in Reply-To
    (f"\"'Иван Петров' via Диспетчерская\" <{OFFICE}>", "Иван Петров <ivan.petrov@mail.ru>"),
    # rewritten, the group set to take the answers: the writer only in X-Original-Sender
    (f"\"'Иван Петров' via Диспетчерская\" <{OFFICE}>", f"Диспетчерская <{OFFICE}>"),
])
def test_a_letter_our_own_group_hands_on_is_the_residents(sender: str, reply_to: str | None
                                                          ) -> None:
    parsed = parse_mail(_through_our_group(sender, reply_to), own_addresses=OWN)
    assert parsed.automated is None
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван Петров")
    assert parsed.text == "В подъезде 2 не работает лифт с утра.\nИван, кв. 45"


def test_another_list_is_still_a_list() -> None:
    # a house's own mailing list copying the office: logged, never answered
    raw = _through_our_group("Иван Петров <ivan.petrov@mail.ru>").replace(
        b"<office.uk-zarechye.test>", b"<dom5.googlegroups.com>").replace(
        f"<mailto:{OFFICE}>".encode(), b"<mailto:dom5@googlegroups.com>").replace(
        f"list {OFFICE}".encode(), b"list dom5@googlegroups.com")
    assert parse_mail(raw, own_addresses=OWN).automated is Automated.LIST


def test_our_own_letter_the_group_hands_back_is_still_ours() -> None:
    raw = _through_our_group(f"УК Заречье <{OFFICE}>", original=OFFICE)
    assert parse_mail(raw, own_addresses=OWN).automated is Automated.OWN


async def test_a_letter_through_our_group_opens_a_case_and_is_acknowledged(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, _through_our_group(
        f"\"'Иван Петров' via Диспетчерская\" <{OFFICE}>", f"Диспетчерская <{OFFICE}>"))
    assert row["action"] == "new_case"
    await app.outbox.deliver_due()
    assert [i.recipient for i in recorder.sent if i.channel == "email"] == ["ivan.petrov@mail.ru"]


# --- 5. Lotus Notes' forward ---------------------------------------------------------------------


def test_a_neighbours_letter_forwarded_from_lotus_notes_is_kept() -> None:
    # the Notes header under "Forwarded by" heads the letter forwarded, which is the report
    body = ("Пересылаю жалобу соседки, разберитесь.\n\n"
            "----- Forwarded by Ivan Petrov/ORG on 15.01.2026 12:00 -----\n\n"
            "Мария Иванова <maria@mail.ru>\n14.01.2026 18:00\n\n"
            "To\nivan.petrov@org.ru\ncc\n\nSubject\nПротечка\n\n"
            "Иван, у меня с потолка капает, кв. 41. Передай в УК.\n")
    parsed = parse_mail(letter("Протечка", body), own_addresses=OWN)
    assert parsed.text.startswith("Пересылаю жалобу соседки, разберитесь.")
    assert parsed.text.endswith("Иван, у меня с потолка капает, кв. 41. Передай в УК.")


# --- 6. Exchange 2003's and Domino's plain non-delivery report -----------------------------------

_EXCHANGE_2003 = {
    "english": ("Your message did not reach some or all of the intended recipients.\n\n"
                "      Subject:\t[A-1001] Ваше обращение зарегистрировано\n"
                "      Sent:\t15.01.2026 12:00\n\n"
                "The following recipient(s) cannot be reached:\n\n"
                "      'ivan@example.ru' on 15.01.2026 12:01\n"
                "            550 5.1.1 User unknown\n"),
    "russian": ("Ваше сообщение не достигло некоторых или всех предполагаемых получателей.\n\n"
                "      Тема:\t[A-1001] Ваше обращение зарегистрировано\n"
                "      Отправлено:\t15.01.2026 12:00\n\n"
                "Не удается связаться со следующими получателями:\n\n"
                "      'ivan@example.ru' в 15.01.2026 12:01\n"
                "            550 5.1.1 User unknown\n"),
    "12-hour": ("Your message did not reach some or all of the intended recipients.\n\n"
                "The following recipient(s) could not be reached:\n\n"
                "      ivan@example.ru on 1/15/2026 12:01 PM\n"
                "            The e-mail account does not exist at the organization this message "
                "was sent to.\n"),
}


@pytest.mark.parametrize("layout", list(_EXCHANGE_2003))
def test_exchange_2003s_report_names_the_address_it_could_not_reach(layout: str) -> None:
    raw = raw_mail([("From", "System Administrator <postmaster@example.ru>"), ("To", OFFICE),
                    ("Subject", "Undeliverable: [A-1001] Ваше обращение зарегистрировано".encode()),
                    ("Date", "Thu, 15 Jan 2026 12:01:00 +0300"), ("Message-ID", "<ndr@ex>"),
                    ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Transfer-Encoding", "8bit")], _EXCHANGE_2003[layout].encode())
    parsed = parse_mail(raw, own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient == "ivan@example.ru"
    assert not parsed.bounce_delayed


# --- 7. a mail app's line in its other wordings --------------------------------------------------


@pytest.mark.parametrize("line", [
    "Загрузите Outlook для Android", "Скачать Outlook для iOS", "Получите Outlook для Android",
    "Get BlueMail for Android", "Sent using the mail.com mail app",
])
def test_a_mail_apps_line_under_the_words_is_no_part_of_them(line: str) -> None:
    parsed = parse_mail(letter("Re: Течёт кран", f"Мастер так и не пришёл.\n\n{line}\n"),
                        own_addresses=OWN)
    assert parsed.text == "Мастер так и не пришёл."


def test_a_resident_naming_outlook_in_the_letter_keeps_the_words() -> None:
    body = "Скачать Outlook для Android не получается, пишу с сайта. Течёт кран, кв. 45."
    assert parse_mail(letter("Течёт кран", body), own_addresses=OWN).text == body


# --- 8. an empty RFC 2231 name beside a written one -----------------------------------------------


@pytest.mark.parametrize("disposition", [
    f"attachment; filename=\"{_ew('Протечка в ванной.jpg')}\"; filename*=utf-8''",
    f"attachment; filename*=UTF-8''; filename=\"{_ew('Протечка в ванной.jpg')}\"",
])
def test_an_empty_encoded_name_leaves_the_written_one(disposition: str) -> None:
    body = (f"--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{_PDF}\r\n--b--\r\n")
    raw = raw_mail([*BASE, ("Subject", ""), ("MIME-Version", "1.0"),
                    ("Content-Type", 'multipart/mixed; boundary="b"')], body.encode())
    parsed = parse_mail(raw, own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == ["Протечка в ванной.jpg"]
    # the photo alone is read by its name, as one named plainly is
    assert parsed.text == "Протечка в ванной"


# --- 9. the line that heads a quote, as other clients write it ----------------------------------

_ACK = "Здравствуйте! Ваше обращение A-1042 принято, мастер придёт завтра."
_HEADS = {
    "huawei": ("-------- Исходное письмо --------\nОт: УК Заречье <office@uk-zarechye.test>\n"
               "Дата: 15.01.2026 12:00\nКому: ivan.sidorov@mail.ru\nТема: Течёт кран\n\n"),
    "foxmail": ("------------------ Original ------------------\n"
                "From: \"УК Заречье\"<office@uk-zarechye.test>;\n"
                "Date: Thu, Jan 15, 2026 12:00 PM\nTo: \"ivan\"<ivan.sidorov@mail.ru>;\n"
                "Subject: Течёт кран\n\n"),
    "the bat": "===8<===========Original message text===============\n",
    "отправитель": ("Отправитель: УК Заречье <office@uk-zarechye.test>\n"
                    "Дата: 15.01.2026 12:00\nКому: ivan.sidorov@mail.ru\nТема: Течёт кран\n\n"),
}


@pytest.mark.parametrize("client", list(_HEADS))
def test_the_line_heading_the_quote_goes_with_it(client: str) -> None:
    body = f"Мастер так и не пришёл.\n\n{_HEADS[client]}{_ACK}\n"
    parsed = parse_mail(letter("Re: [A-1042] Течёт кран", body), own_addresses=OWN)
    assert parsed.text == "Мастер так и не пришёл."


def test_a_statement_naming_its_sender_without_a_mail_address_is_kept() -> None:
    body = ("Отправитель: Иванов И. И., кв. 12\nКому: директору УК\nДата: 15.01.2026\n"
            "Тема: протечка\n\nПрошу устранить протечку с крыши.")
    assert parse_mail(letter("Заявление", body), own_addresses=OWN).text == body


# --- 10. Novell GroupWise's quote header ---------------------------------------------------------


@pytest.mark.parametrize("head", [
    '>>> "УК Заречье" <office@uk-zarechye.test> 15.01.2026 12:00 >>>',
    ">>> УК Заречье <office@uk-zarechye.test> 1/15/2026 12:00 PM >>>",
    ">>> Диспетчерская 15.01.2026 12:00 >>>",
])
def test_a_groupwise_quote_header_goes_with_the_quote(head: str) -> None:
    body = f"Мастер так и не пришёл.\n\n{head}\n{_ACK}\n"
    parsed = parse_mail(letter("Re: [A-1042] Течёт кран", body), own_addresses=OWN)
    assert parsed.text == "Мастер так и не пришёл."
