"""Fifteenth round: line ends the standard parser takes apart ("\\r\\r\\n" written by a Windows
program's text mode, a lone CR inside a subject), Date offsets written "+03:00", "GMT+0300" or
ISO 8601, and encrypted letters (S/MIME enveloped data, an OpenPGP message pasted into the
text) said to be encrypted and opened as cases for staff, never read as words or dropped, and a
display name that is only the sender's address greeting nobody by it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domovoy.app import App
from intake.email import parse_mail
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import OWN, ingest, letter
from tests.test_email_parse import BASE, RU, raw_mail

ENCRYPTED = "encrypted message: the content cannot be read"


def _plain(headers: list[tuple[str, str]], text: str = RU) -> bytes:
    """A UTF-8 text/plain letter with ``headers`` before its MIME ones."""
    return raw_mail([*headers, ("MIME-Version", "1.0"),
                     ("Content-Type", "text/plain; charset=utf-8"),
                     ("Content-Transfer-Encoding", "8bit")], text.encode())


def _with(name: str, value: str) -> list[tuple[str, str]]:
    """The parse tests' headers with a subject, ``name`` set to ``value``."""
    return [(n, value if n == name else v) for n, v in [*BASE, ("Subject", "Лифт")]]


# --- 1. line ends ------------------------------------------------------------------------------


def test_a_letter_saved_with_every_line_ending_cr_cr_lf_keeps_its_headers() -> None:
    mail = letter("Течёт кран", "Течёт кран на кухне, кв. 45.\nСрочно.")
    parsed = parse_mail(mail.replace(b"\r\n", b"\r\r\n"), own_addresses=OWN)
    assert (parsed.sender, parsed.subject) == ("ivan.sidorov@mail.ru", "Течёт кран")
    assert parsed.text == "Течёт кран на кухне, кв. 45.\nСрочно."
    assert parsed.header_date == datetime(2026, 1, 15, 9, tzinfo=UTC)


@pytest.mark.parametrize(("subject", "shown"), [
    ("Лифт\rне работает", "Лифт не работает"),       # a web form's two-line subject
    ("Лифт\r\tстоит", "Лифт \tстоит"),                # folded with a CR alone
])
def test_a_lone_cr_inside_a_header_is_a_blank_not_the_end_of_the_headers(
        subject: str, shown: str) -> None:
    parsed = parse_mail(_plain(_with("Subject", subject)))
    assert " ".join(parsed.subject.split()) == " ".join(shown.split())
    assert parsed.text == RU
    assert parsed.header_date is not None and parsed.message_id == "abc123@example.ru"


def test_a_field_glued_on_by_a_lone_cr_stays_a_field() -> None:
    headers = [(n, v) for n, v in _with("Subject", "Лифт\rDate: Tue, 11 Mar 2025 12:15:00 +0300")
               if n != "Date"]
    parsed = parse_mail(_plain(headers))
    assert parsed.subject == "Лифт"
    assert parsed.header_date == datetime(2025, 3, 11, 9, 15, tzinfo=UTC)
    assert parsed.text == RU


def test_a_letter_in_old_mac_line_ends_is_still_read() -> None:
    mail = _plain(BASE, RU + "\nВторая строка.\n")
    parsed = parse_mail(mail.replace(b"\r\n", b"\r").replace(b"\n", b"\r"))
    assert parsed.text == RU + "\nВторая строка."
    assert parsed.header_date is not None


# --- 2. Date offsets ---------------------------------------------------------------------------


@pytest.mark.parametrize("date", [
    "Tue, 11 Mar 2025 12:15:00 +03:00",
    "Tue, 11 Mar 2025 12:15:00 GMT+0300",
    "Tue, 11 Mar 2025 12:15:00 GMT+03:00",
    "Tue, 11 Mar 2025 12:15:00 UTC+3",
    "2025-03-11T12:15:00+03:00",
    "2025-03-11 12:15:00 +0300",
    "2025-03-11T09:15:00Z",
])
def test_a_date_offset_written_otherwise_is_still_its_offset(date: str) -> None:
    """Read as UTC, a letter imported from a file was dated three hours late."""
    parsed = parse_mail(_plain(_with("Date", date)))
    assert parsed.date == datetime(2025, 3, 11, 9, 15, tzinfo=UTC)
    assert not any("Date" in note for note in parsed.notes)


def test_an_iso_date_without_an_offset_leaves_the_time_to_the_server() -> None:
    when = datetime(2025, 3, 11, 9, 20, tzinfo=UTC)
    parsed = parse_mail(_plain(_with("Date", "2025-03-11 12:15:00")), internal_date=when)
    assert parsed.date == when
    assert "Date header unreadable: server time used" in parsed.notes


# --- 3. encrypted letters ----------------------------------------------------------------------


def _der(oid: str) -> bytes:
    """A CMS ContentInfo of content type ``oid`` (its encoded bytes, hex) with an empty body."""
    body = bytes.fromhex("06" + f"{len(oid) // 2:02x}" + oid) + bytes.fromhex("a003020100")
    return bytes([0x30, len(body)]) + body


def _smime(params: str, der: bytes, subject: str = "Течёт кран") -> bytes:
    return raw_mail([*_with("Subject", subject), ("MIME-Version", "1.0"),
                     ("Content-Type", f'application/pkcs7-mime; {params}name="smime.p7m"'),
                     ("Content-Disposition", 'attachment; filename="smime.p7m"'),
                     ("Content-Transfer-Encoding", "base64")],
                    base64.encodebytes(der))


_CIPHER = ("-----BEGIN PGP MESSAGE-----\nVersion: GnuPG v2\n\n"
           "hQEMA+8Hn0pvo8D7AQf/Xr3QvU8o2pXq9V0sRzFh1bQe0o6k0tO0z3uJHb2dQk1a\n"
           "0z9Q2yF8wq1m3Z0zQ1b3m5yq8w==\n=Ab1c\n-----END PGP MESSAGE-----\n")


@pytest.mark.parametrize("mail", [
    _smime("smime-type=enveloped-data; ", b"\x30\x03\x02\x01\x00"),
    _smime("", _der("2a864886f70d010703")),              # Outlook: no smime-type at all
    _smime("smime-type=authEnveloped-data; ", _der("2a864886f70d0109100117")),
], ids=["enveloped", "unlabelled", "auth-enveloped"])
def test_an_smime_encrypted_letter_says_it_is_encrypted(mail: bytes) -> None:
    parsed = parse_mail(mail)
    assert ENCRYPTED in parsed.notes
    assert [a.filename for a in parsed.attachments] == ["smime.p7m"]
    # staff read why the case has no words of the resident's (it was an empty text)
    assert parsed.text.startswith("[Зашифровано отправителем (S/MIME или PGP)")


def test_an_smime_signed_letter_is_no_encrypted_one() -> None:
    parsed = parse_mail(_smime("smime-type=signed-data; ", _der("2a864886f70d010702")))
    assert ENCRYPTED not in parsed.notes


def test_an_openpgp_message_pasted_into_the_text_is_a_file_not_words() -> None:
    text = ("Добрый день, отправляю зашифрованным.\n\n" + _CIPHER
            + "\n> -----BEGIN PGP MESSAGE-----\n> старое\n> -----END PGP MESSAGE-----\n")
    parsed = parse_mail(_plain(BASE, text))
    assert parsed.text.startswith("Добрый день, отправляю зашифрованным.")
    assert "hQEMA" not in parsed.full_text and "> старое" in parsed.full_text
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("encrypted.asc", "application/pgp-encrypted")]
    assert ENCRYPTED in parsed.notes


def test_pgp_mime_lists_the_cipher_and_not_its_version_label() -> None:
    body = (b'--E\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n'
            b'--E\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
            + _CIPHER.replace("\n", "\r\n").encode() + b"\r\n--E--\r\n")
    parsed = parse_mail(raw_mail([*BASE, ("MIME-Version", "1.0"), (
        "Content-Type",
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="E"')], body))
    assert [a.filename for a in parsed.attachments] == ["encrypted.asc"]
    assert ENCRYPTED in parsed.notes


async def test_an_encrypted_letter_without_a_subject_opens_a_case_for_staff(
        app: App, tmp_path: Path) -> None:
    """Its cipher read as words, the classifier found nothing to act on and the letter was
    dropped unseen; now it is a file for staff to triage, and the resident hears it came."""
    got = await ingest(app, tmp_path, letter("", _CIPHER))
    assert got["action"] == "new_case" and got["acknowledged"]
    assert got["text"].startswith("[Зашифровано") and got["attachments"] == ["encrypted.asc"]


# --- 4. display names that are addresses -------------------------------------------------------


@pytest.mark.parametrize(("display", "name"), [
    ('"ivan.sidorov@mail.ru" <ivan.sidorov@mail.ru>', None),  # phone or Outlook, no name set
    ("=?utf-8?B?0JjQstCw0L0g0KHQuNC00L7RgNC+0LIgPGl2YW4uc2lkb3JvdkBtYWlsLnJ1Pg==?= "
     "<ivan.sidorov@mail.ru>", "Иван Сидоров"),               # "Иван Сидоров <…>" encoded whole
    ('"Иван Сидоров (ivan.sidorov@mail.ru)" <ivan.sidorov@mail.ru>', "Иван Сидоров"),
    ("'Иван Сидоров' <ivan.sidorov@mail.ru>", "Иван Сидоров"),  # Outlook's apostrophes
    ('"\'ivan.sidorov@mail.ru\'" <ivan.sidorov@mail.ru>', None),
    ('"ООО \\"Ромашка\\"" <ivan.sidorov@mail.ru>', 'ООО "Ромашка"'),
    ('"ООО «Ромашка»" <ivan.sidorov@mail.ru>', "ООО «Ромашка»"),
    ('"Д\'Артаньян" <ivan.sidorov@mail.ru>', "Д'Артаньян"),
])
def test_a_display_name_is_the_persons_name_without_the_address(
        display: str, name: str | None) -> None:
    mail = _plain([("From", display), *[h for h in _with("Subject", "Лифт") if h[0] != "From"]])
    parsed = parse_mail(mail)
    assert (parsed.sender, parsed.sender_name) == ("ivan.sidorov@mail.ru", name)


async def test_an_address_for_a_name_is_not_how_the_resident_is_greeted(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    mail = letter("Течёт кран", "Течёт кран на кухне, кв. 45.").replace(
        b"From: =?utf-8?B?0JjQstCw0L0g0KHQuNC00L7RgNC+0LI=?= <",
        b'From: "ivan.sidorov@mail.ru" <', 1)
    got = await ingest(app, tmp_path, mail)
    assert got["action"] == "new_case"
    await app.outbox.deliver_due()
    ack = next(item for item in recorder.sent if item.purpose == "ack")
    assert ack.text.startswith("Здравствуйте!")
