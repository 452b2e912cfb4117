"""Eighteenth round: Lotus Notes' quote header, its fields as labels without colons ("To" /
"cc" / "Subject", "Кому" / "Копия" / "Тема") under the writer and the time, goes with the
quote."""

from __future__ import annotations

import pytest

from intake.email import parse_mail
from tests.test_email_fuzz7 import OWN, letter

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
