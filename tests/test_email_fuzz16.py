"""Sixteenth round: a NUL written where a blank was (a broken web form or mailer) leaves the
blank, in the subject, the sender's name and the text."""

from __future__ import annotations

import pytest

from intake.email import parse_mail
from tests.test_email_fuzz7 import OWN
from tests.test_email_parse import BASE, raw_mail


def _plain(headers: list[tuple[str, str | bytes]], body: bytes) -> bytes:
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


def test_a_subject_in_utf16_read_byte_by_byte_loses_its_nuls_not_gains_blanks() -> None:
    headers: list[tuple[str, str | bytes]] = [*BASE, ("Subject", "Leak".encode("utf-16-le"))]
    parsed = parse_mail(_plain(headers, "Течёт кран на кухне.".encode()), own_addresses=OWN)
    assert parsed.subject == "Leak"
