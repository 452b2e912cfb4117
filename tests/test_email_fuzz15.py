"""Fifteenth round: line ends the standard parser takes apart ("\\r\\r\\n" written by a Windows
program's text mode, a lone CR inside a subject), and Date offsets written "+03:00", "GMT+0300"
or ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.email import parse_mail
from tests.test_email_fuzz7 import OWN, letter
from tests.test_email_parse import BASE, RU, raw_mail


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
