"""Sixteenth round: a NUL written where a blank was (a broken web form or mailer) leaves the
blank, in the subject, the sender's name and the text; characters that show as nothing (soft
hyphens, zero-width spaces, bidi overrides) do not split words or turn lines round; a letter
nested deeper than the MIME depth limit keeps its text and files; a site's form that escapes
the resident's words for a web page ("&quot;") and mails them as plain text reads as typed; a
subject cut off inside its last encoded-word is read up to the cut, not shown as code; an
address ending in a dot is the mailbox without it; a URL-encoded file name is shown decoded;
a reply above our letter quoted under "… писал(а):" is the resident's words alone; a file
POSIX "uuencode -m" wrote into the text is a file; a NUL after the From or Reply-To address
leaves the resident answerable; a message/external-body's web address is in the text."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from domovoy.app import App
from intake.email import parse_mail
from tests.test_email_fuzz7 import OWN, ingest
from tests.test_email_parse import BASE, raw_mail


def _plain(headers: Sequence[tuple[str, str | bytes]], body: bytes) -> bytes:
    """A UTF-8 text/plain letter with ``headers`` before its MIME ones."""
    return raw_mail([*headers, ("MIME-Version", "1.0"),
                     ("Content-Type", "text/plain; charset=utf-8"),
                     ("Content-Transfer-Encoding", "8bit")], body)


# --- 1. NUL bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "shown"), [
    ("Течёт\x00кран", "Течёт кран"),             # the NUL stood for the blank
    ("Течёт \x00кран", "Течёт кран"),            # beside a blank: one blank, not two
    ("Течёт\x00\x00 кран\x00", "Течёт кран"),    # a run of them, one at the end
    ("=?utf-8?Q?=D0=9B=D0=B8=D1=84=D1=82=00=D1=81=D1=82=D0=BE=D0=B8=D1=82?=", "Лифт стоит"),
])
def test_a_nul_in_the_subject_leaves_a_blank_between_the_words(written: str, shown: str) -> None:
    headers: list[tuple[str, str | bytes]] = [
        *BASE[1:], ("From", "Иван\x00Петров <ivan@example.ru>"), ("Subject", written.encode())]
    parsed = parse_mail(_plain(headers, "Течёт\x00кран на кухне,\x00\r\nкв. 45.".encode()),
                        own_addresses=OWN)
    assert parsed.subject == shown
    assert parsed.sender_name == "Иван Петров"
    assert parsed.text == "Течёт кран на кухне,\nкв. 45."


def test_many_nuls_each_between_blanks_leave_one_blank_each() -> None:
    headers: list[tuple[str, str | bytes]] = [*BASE, ("Subject", b"a \x00 b \x00 c \x00 ")]
    parsed = parse_mail(_plain(headers, "Течёт кран.".encode()), own_addresses=OWN)
    assert parsed.subject == "a b c"


def test_a_letter_of_a_million_blanks_is_read_at_once() -> None:
    # the NUL rule written as one pattern with the blanks in it took minutes over this
    started = time.monotonic()
    body = ("Течёт" + " " * 1_000_000 + "кран").encode()
    parse_mail(_plain([*BASE, ("Subject", "Кран")], body), own_addresses=OWN)
    assert time.monotonic() - started < 10


def test_a_subject_in_utf16_read_byte_by_byte_loses_its_nuls_not_gains_blanks() -> None:
    headers: list[tuple[str, str | bytes]] = [*BASE, ("Subject", "Leak".encode("utf-16-le"))]
    parsed = parse_mail(_plain(headers, "Течёт кран на кухне.".encode()), own_addresses=OWN)
    assert parsed.subject == "Leak"


# --- 2. characters that show as nothing ----------------------------------------------------------


_HYPHENATED = "В кв. 45 те\u00adчёт кран, за\u00adтопило сосе\u00adдей.\u200b\ufeff"


@pytest.mark.parametrize(("ctype", "body"), [
    ("text/plain", _HYPHENATED),
    ("text/html", f"<p>{_HYPHENATED.replace(chr(0xad), '&shy;')}</p>"),  # Word, Outlook
])
def test_soft_hyphens_inside_words_do_not_split_them(ctype: str, body: str) -> None:
    mail = raw_mail([*BASE, ("Subject", "Про\u00adблема".encode()), ("MIME-Version", "1.0"),
                     ("Content-Type", f"{ctype}; charset=utf-8")], body.encode())
    parsed = parse_mail(mail, own_addresses=OWN)
    # staff search for "течёт" and the classifier's words find the letter
    assert parsed.text == "В кв. 45 течёт кран, затопило соседей."
    assert parsed.subject == "Проблема"


def test_a_bidi_override_does_not_show_the_subject_or_text_backwards() -> None:
    mail = _plain([*BASE, ("Subject", "Течёт \u202eкран\u202c".encode())],
                  "Течёт кран \u202eна кухне, кв. 45\u202c, срочно.".encode())
    parsed = parse_mail(mail, own_addresses=OWN)
    assert (parsed.subject, parsed.text) == ("Течёт кран", "Течёт кран на кухне, кв. 45, срочно.")


def test_emoji_sequences_and_right_to_left_words_stay_as_written() -> None:
    text = "Опять течёт кран 💧 кв. 45 \u200fمرحبا 👨\u200d🔧 👍🏻"
    parsed = parse_mail(_plain([*BASE, ("Subject", "😡 Течёт!".encode())], text.encode()),
                        own_addresses=OWN)
    assert (parsed.subject, parsed.text) == ("😡 Течёт!", text)


# --- 3. MIME nested past the depth limit ---------------------------------------------------------


def _nest(inner: str, levels: int) -> str:
    """``inner`` wrapped in ``levels`` multipart/mixed parts of one child each."""
    for n in range(levels):
        inner = (f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n'
                 f"--b{n}\r\n{inner}\r\n--b{n}--")
    return inner


@pytest.mark.parametrize("levels", [12, 100])
def test_a_letter_nested_a_hundred_levels_deep_keeps_its_text_and_photo(levels: int) -> None:
    photo = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300)).decode()
    inner = ('Content-Type: multipart/mixed; boundary="in"\r\n\r\n'
             '--in\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
             "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nТечёт кран, кв. 45.\r\n"
             "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Течёт кран, кв. 45.</p>"
             "\r\n--alt--\r\n"
             "--in\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
             f'Content-Disposition: attachment; filename="kran.jpg"\r\n\r\n{photo}\r\n--in--')
    mail = raw_mail([*BASE, ("Subject", "Кран"), ("MIME-Version", "1.0")], b"")
    mail = mail.removesuffix(b"\r\n\r\n") + b"\r\n" + _nest(inner, levels).encode() + b"\r\n"
    parsed = parse_mail(mail, own_addresses=OWN)
    # it opened a case with no text: the parts below the tenth level were left out
    assert parsed.text == "Течёт кран, кв. 45."
    assert [a.filename for a in parsed.attachments] == ["kran.jpg"]


# --- 4. a site's form that escapes for a web page and mails plain text ---------------------------


def test_a_form_letter_escaped_for_html_reads_as_the_resident_typed_it() -> None:
    body = ("Имя: Иван Петров\r\nE-mail: ivan.petrov@mail.ru\r\nТелефон: +7 900 000-00-00\r\n"
            "Сообщение: В кв. 45 течёт кран &quot;на кухне&quot; &amp; в ванной, соседи "
            "&laquo;плывут&raquo;. Фото: https://disk.example/?a=1&copy=2\r\n")
    mail = _plain([("From", "Сайт УК <noreply@uk-dom.example>"), *BASE[1:],
                   ("Subject", "Заявка с сайта: &quot;Течёт кран&quot; &#8470; 7")], body.encode())
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.subject == 'Заявка с сайта: "Течёт кран" № 7'
    assert parsed.sender == "ivan.petrov@mail.ru"
    assert parsed.text.splitlines()[-1] == (
        'Сообщение: В кв. 45 течёт кран "на кухне" & в ванной, соседи «плывут». '
        "Фото: https://disk.example/?a=1&copy=2")  # no ";": a link's parameter, kept


def test_an_ampersand_the_resident_typed_stays() -> None:
    text = "Счёт за ЖКХ & капремонт: AT&T; R&D; 5 &lt 6"
    parsed = parse_mail(_plain([*BASE, ("Subject", "Счёт & квитанция".encode())], text.encode()),
                        own_addresses=OWN)
    assert (parsed.subject, parsed.text) == ("Счёт & квитанция", text)


# --- 5. a subject cut off inside its last encoded-word -------------------------------------------


_LONG = "Течёт кран на кухне третий день, кв. 45"
_B64 = base64.b64encode(_LONG.encode()).decode()


@pytest.mark.parametrize(("written", "shown"), [
    (f"=?UTF-8?B?{_B64}", _LONG),                           # only the "?=" is missing
    (f"Re: =?UTF-8?B?{_B64[:25]}", "Re: Течёт кра"),    # cut inside a quartet and a letter
    ("=?UTF-8?Q?=D0=A2=D0=B5=D1=87=D1=91=D1=82_=D0=BA=D1", "Течёт к"),  # inside a letter
    ("=?UTF-8?Q?=D0=A2=D0=B5=D1=87=D1=91=D1=82_=D0=BA=D", "Течёт к"),   # inside an escape
])
def test_a_subject_cut_inside_its_last_encoded_word_is_read_up_to_the_cut(
        written: str, shown: str) -> None:
    parsed = parse_mail(_plain([*BASE, ("Subject", written)], "Течёт кран.".encode()),
                        own_addresses=OWN)
    assert parsed.subject == shown


# --- 6. the sender's address ending in a dot -----------------------------------------------------


@pytest.mark.parametrize("field", ["From", "Reply-To"])
def test_an_address_with_a_fully_qualified_domain_is_the_same_resident(field: str) -> None:
    written = "Иван <Ivan.Petrov@mail.ru.>"
    headers: list[tuple[str, str | bytes]] = [
        ("From", written if field == "From" else "Иван <ivan.petrov@mail.ru>"), *BASE[1:],
        ("Subject", "Кран"), *([("Reply-To", written)] if field == "Reply-To" else [])]
    parsed = parse_mail(_plain(headers, "Течёт кран.".encode()), own_addresses=OWN)
    # "ivan.petrov@mail.ru." was a second resident, their cases apart
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@mail.ru", "Иван")


def test_the_office_s_own_address_with_a_final_dot_is_still_its_own() -> None:
    office = next(iter(OWN))
    parsed = parse_mail(_plain([("From", f"УК <{office}.>"), *BASE[1:], ("Subject", "Кран")],
                               "Течёт кран.".encode()), own_addresses=OWN)
    assert parsed.sender == office and parsed.automated is not None  # never answered


# --- 7. a file name URL-encoded without RFC 2231's "*" -------------------------------------------


_JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300)).decode()


@pytest.mark.parametrize(("written", "shown"), [
    ("%D0%A4%D0%BE%D1%82%D0%BE%20%D0%BA%D1%83%D1%85%D0%BD%D0%B8.jpg", "Фото кухни.jpg"),
    ("%D4%EE%F2%EE%20%EA%F3%F5%ED%E8.jpg", "Фото кухни.jpg"),  # windows-1251 bytes
    ("..%2F..%2F%D0%A4%D0%BE%D1%82%D0%BE.jpg", "Фото.jpg"),  # no way out of the folder
    ("скидка 100%.jpg", "скидка 100%.jpg"),                  # a percent sign the resident typed
    ("IMG%201.jpg", "IMG%201.jpg"),                           # no letter beyond ASCII: as written
])
def test_a_url_encoded_file_name_is_shown_decoded(written: str, shown: str) -> None:
    mail = raw_mail([*BASE, ("Subject", "Фото"), ("MIME-Version", "1.0"),
                     ("Content-Type", 'multipart/mixed; boundary="B"')],
                    ("--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nФото протечки.\r\n"
                     "--B\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
                     f'Content-Disposition: attachment; filename="{written}"\r\n\r\n{_JPEG}\r\n'
                     "--B--\r\n").encode())
    parsed = parse_mail(mail, own_addresses=OWN)
    assert [a.filename for a in parsed.attachments] == [shown]


# --- 8. "писал(а):" above the quoted acknowledgement ----------------------------------------------


_ACK = ("Здравствуйте, Иван!\n\nВаше обращение зарегистрировано под номером A-1001.\n"
        "Чтобы дополнить обращение, просто ответьте на это сообщение.")


@pytest.mark.parametrize("attribution", [
    f"УК <{next(iter(OWN))}> писал(а):",                            # Thunderbird, SeaMonkey
    f"07.12.2026 10:00, УК <{next(iter(OWN))}> писал:",
    "07.12.2026 10:00, УК пишет:\n> " + _ACK.replace("\n", "\n> "),  # as earlier rounds read it
])
def test_a_reply_above_our_letter_quoted_under_pisal_a_is_the_resident_s_words_alone(
        attribution: str) -> None:
    quoted = attribution if "\n" in attribution else f"{attribution}\n\n{_ACK}"
    body = f"Мастер так и не пришёл, вода течёт.\n\n{quoted}\n".replace("\n", "\r\n")
    headers = [("From", "Иван <ivan@example.ru>"), *BASE[1:],
               ("Subject", "Re: [A-1001] Обращение зарегистрировано"),
               ("In-Reply-To", f"<a-1001@{next(iter(OWN)).split('@')[1]}>")]
    parsed = parse_mail(_plain(headers, body.encode()), own_addresses=OWN)
    assert parsed.text == "Мастер так и не пришёл, вода течёт."


# --- 9. a file "uuencode -m" wrote into the text -------------------------------------------------


def test_a_begin_base64_block_is_a_file_not_lines_of_code_in_the_text() -> None:
    snapshot = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
    code = base64.encodebytes(snapshot).decode().replace("\n", "\r\n")
    body = (f"Камера подъезда 2: движение у двери подвала.\r\n\r\nbegin-base64 644 cam2.jpg\r\n"
            f"{code}====\r\n\r\nДиспетчерская, дом 12.\r\n")
    parsed = parse_mail(_plain([*BASE, ("Subject", "Камера")], body.encode()), own_addresses=OWN)
    assert parsed.text == "Камера подъезда 2: движение у двери подвала.\n\nДиспетчерская, дом 12."
    assert [(a.filename, a.size) for a in parsed.attachments] == [("cam2.jpg", len(snapshot))]


def test_begin_base64_the_writer_wrote_as_words_stays_text() -> None:
    text = "begin-base64 644 — так написано на листке у щитка, что это?\n===="
    parsed = parse_mail(_plain([*BASE, ("Subject", "Щиток")], text.encode()), own_addresses=OWN)
    assert parsed.text == text and not parsed.attachments


# --- 10. a NUL after the address ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["From", "Reply-To"])
async def test_a_nul_after_the_address_leaves_the_resident_answerable_in_postgresql(
        pg_app: App, tmp_path: Path, field: str) -> None:
    written = "Иван <ivan@example.ru\x00>"
    headers: list[tuple[str, str | bytes]] = [
        ("From", written if field == "From" else "Сайт <noreply@site.example>"),
        ("To", next(iter(OWN))), ("Date", "Tue, 11 Mar 2025 12:15:00 +0300"),
        ("Message-ID", "<abc\x00123@example.ru>"), ("Subject", "Течёт кран"),
        *([("Reply-To", written)] if field == "Reply-To" else [])]
    got = await ingest(pg_app, tmp_path, _plain(headers, "Течёт кран на кухне, кв. 45.".encode()))
    # it went to manual review with nobody to answer
    assert (got["action"], got["sender"]) == ("new_case", "ivan@example.ru")


# --- 11. message/external-body pointing at a web address -----------------------------------------


@pytest.mark.parametrize(("access", "text", "files"), [
    ('access-type=URL;\r\n URL="https://disk.example/v/\r\n kran.mp4"',   # a folded URL
     "Видео протечки ниже.\n\nhttps://disk.example/v/kran.mp4", []),
    ('access-type=anon-ftp; site="ftp.example"; name="kran.mp4"',
     "Видео протечки ниже.", ["kran.mp4"]),  # as before: a file
])
def test_an_external_body_s_web_address_is_in_the_text_for_staff(
        access: str, text: str, files: list[str]) -> None:
    mail = raw_mail([*BASE, ("Subject", "Видео"), ("MIME-Version", "1.0"),
                     ("Content-Type", 'multipart/mixed; boundary="B"')],
                    ("--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nВидео протечки ниже."
                     f"\r\n--B\r\nContent-Type: message/external-body; {access}\r\n\r\n"
                     "Content-Type: video/mp4\r\n\r\n\r\n--B--\r\n").encode())
    parsed = parse_mail(mail, own_addresses=OWN)
    # the link was only in a 27-byte "attachment-2.bin" of headers
    assert parsed.text == text
    assert [a.filename for a in parsed.attachments] == files
