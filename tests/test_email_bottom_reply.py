"""A resident who answers one of our letters BELOW the copy their mail program puts in.

Outlook (in English and in Russian), Samsung's and Huawei's mail apps and Thunderbird or a
phone writing "пишет:"/"wrote:" put our letter under their header block as plain lines, no
">" in front, and many residents type their answer under it. Those words are the case's text:
they must never be lost, and our own template must not be read as the resident's. Our letters
are rendered here from the real templates (``templates/<lang>/*.j2``), as text and as the HTML
a client converts, so a change of their closing lines shows up here.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from intake.email import html_to_text, parse_mail
from workflow.render import Renderer

OFFICE = "office@uk-zarechye.test"
OWN = frozenset({OFFICE})
RESIDENT = "ivan.petrov@mail.ru"
NOW = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
CASE = SimpleNamespace(
    number="A-1042", kind="request", category="water", urgency="normal", scope="unit",
    stage="in_progress", channel="email", subject="Течёт кран на кухне", text="Течёт кран.",
    apartment="12", first_response_at=None, respond_due=NOW, resolve_due=NOW, incident_id=None,
    manual_triage=False)
CONTEXT: dict[str, Any] = {
    "case": CASE, "resident": SimpleNamespace(name="Иван Петров", apartment="12", phone=None),
    "assignee": SimpleNamespace(name="Мария Соколова"), "office": "УК «Заречье»",
    "link_code": None, "note": "Заменили смеситель.", "question": "Какой у вас этаж?",
    "text": "Мастер придёт завтра с 10 до 12.\n\nПожалуйста, будьте дома.",
}
ANSWER = "Мастер так и не пришёл, кран течёт второй день. Я дома после 18:00."
_RENDERER = Renderer()


def our_letter(template: str, lang: str = "ru", html: bool = False, **extra: Any) -> str:
    """Our letter as the resident's client shows it: its text part, or its HTML as text."""
    rendered = _RENDERER.render(template, lang, **{**CONTEXT, **extra})
    if not html:
        return rendered.text
    assert rendered.html is not None
    return html_to_text(rendered.html)[0]


def subject_of(template: str, lang: str = "ru") -> str:
    return _RENDERER.render(template, lang, **CONTEXT).subject


def ew(text: str) -> str:
    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


def reply(body: str, subject: str = "RE: [A-1042] Обращение зарегистрировано") -> bytes:
    """A resident's reply to our letter: plain text, as Outlook and phones send it."""
    head = (f"From: {ew('Иван Петров')} <{RESIDENT}>\nTo: {OFFICE}\nSubject: {ew(subject)}\n"
            "Date: Thu, 15 Jan 2026 12:00:00 +0300\nMessage-ID: <bottom.1@mail.ru>\n"
            "In-Reply-To: <out-7@uk-zarechye.test>\nReferences: <out-7@uk-zarechye.test>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n\n")
    return (head + base64.encodebytes(body.encode()).decode()).replace("\n", "\r\n").encode()


# The header each client writes over the letter it answers, with no ">" before its lines.
HEADS = {
    "outlook": ("-----Original Message-----\nFrom: УК «Заречье» <{office}>\n"
                "Sent: Thursday, January 15, 2026 9:00 AM\nTo: Иван Петров <{resident}>\n"
                "Subject: {subject}\n"),
    "outlook_ru": ("________________________________\nОт: УК «Заречье» <{office}>\n"
                   "Отправлено: 15 января 2026 г. 9:00\nКому: Иван Петров <{resident}>\n"
                   "Тема: {subject}\n"),
    # Outlook for Microsoft 365 without the rule over its block
    "outlook_365": ("From: УК «Заречье» <{office}>\nSent: Thursday, January 15, 2026 09:00\n"
                    "To: {resident}\nSubject: {subject}\n"),
    "samsung": ("-------- Исходное сообщение --------\nОт: УК «Заречье» <{office}>\n"
                "Дата: 15.01.2026 09:00 (GMT+03:00)\nКому: {resident}\nТема: {subject}\n"),
    "thunderbird_ru": "15.01.2026 9:00, УК «Заречье» пишет:\n",
    "thunderbird_en": "On 15/01/2026 09:00, УК «Заречье» wrote:\n",
    "phone": "15 янв. 2026 г., в 9:00, УК «Заречье» <{office}> написал(а):\n",
}


def bottom(head: str, letter: str, answer: str = ANSWER, above: str = "",
           subject: str = "[A-1042] Обращение зарегистрировано") -> str:
    shown = HEADS[head].format(office=OFFICE, resident=RESIDENT, subject=subject)
    return f"{above}{shown}\n{letter}\n\n{answer}\n"


@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("html", [False, True], ids=["text", "html"])
def test_an_answer_under_our_acknowledgement_is_the_case_text(head: str, html: bool) -> None:
    parsed = parse_mail(reply(bottom(head, our_letter("ack", html=html))), own_addresses=OWN)
    assert parsed.text == ANSWER
    assert ANSWER in parsed.full_text


# Every letter of ours a resident may answer, in both languages, as text and as HTML.
LETTERS = [(name, lang, html) for name in ("ack", "need_info", "staff_reply", "resolved",
                                           "closed", "reopened")
           for lang in ("ru", "en") for html in (False, True)]


@pytest.mark.parametrize(("name", "lang", "html"), LETTERS)
def test_the_end_of_each_of_our_letters_is_found(name: str, lang: str, html: bool) -> None:
    subject = subject_of(name, lang)
    letter = our_letter(name, lang, html, link_code="AB12CD34")
    parsed = parse_mail(reply(bottom("outlook", letter, subject=subject), f"RE: {subject}"),
                        own_addresses=OWN)
    assert parsed.text == ANSWER


def test_a_rating_typed_under_our_resolution_letter_is_the_digit() -> None:
    subject = subject_of("resolved")
    body = bottom("outlook_ru", our_letter("resolved", html=True), answer="5", subject=subject)
    assert parse_mail(reply(body, f"RE: {subject}"), own_addresses=OWN).text == "5"


def test_a_letter_rewrapped_by_the_client_still_ends_where_ours_did() -> None:
    # a client that wraps at 60 columns and turns the em dash into a hyphen
    letter = our_letter("need_info").replace(" — ", " - ").replace(
        "срок рассмотрения", "срок\nрассмотрения").replace("Какой у вас", "Какой\nу вас")
    parsed = parse_mail(reply(bottom("outlook_ru", letter, answer="Пятый этаж.")),
                        own_addresses=OWN)
    assert parsed.text == "Пятый этаж."


@pytest.mark.parametrize("head", ["outlook", "outlook_ru", "thunderbird_ru"])
def test_a_greeting_over_the_copy_stays_with_the_answer(head: str) -> None:
    body = bottom(head, our_letter("ack"), above="Добрый день!\n\n")
    assert parse_mail(reply(body), own_addresses=OWN).text == f"Добрый день!\n\n{ANSWER}"


@pytest.mark.parametrize("head", ["outlook", "outlook_ru", "outlook_365", "thunderbird_ru"])
def test_words_above_and_below_the_copy_are_both_kept(head: str) -> None:
    above = "Пишу повторно, ответа нет.\n\n"
    body = bottom(head, our_letter("ack", html=True), above=above)
    assert parse_mail(reply(body), own_addresses=OWN).text == f"{above.strip()}\n\n{ANSWER}"


@pytest.mark.parametrize("head", ["outlook", "outlook_ru", "outlook_365", "samsung", "phone"])
def test_a_top_posted_reply_is_cut_at_the_header_as_before(head: str) -> None:
    body = bottom(head, our_letter("ack", html=True), answer="", above=f"{ANSWER}\n\n")
    assert parse_mail(reply(body), own_addresses=OWN).text == ANSWER


@pytest.mark.parametrize("head", ["outlook", "outlook_ru", "outlook_365"])
def test_when_the_end_of_our_letter_is_not_found_the_text_below_is_kept(head: str) -> None:
    # a stage notice's text part without a note ends on its date: no closing line to find,
    # so the whole text under the header stays (too much text is better than none)
    letter = our_letter("stage", note=None)
    for above in ("", "Здравствуйте!\n\n"):
        parsed = parse_mail(reply(bottom(head, letter, above=above)), own_addresses=OWN)
        assert parsed.text.endswith(ANSWER)
        assert parsed.text.startswith(above.strip())


def test_outlooks_signature_over_the_copy_is_no_reason_to_lose_the_answer() -> None:
    # Outlook puts the writer's signature at the top of a reply, over the quoted letter
    above = "С уважением,\nИван Петров, кв. 12\n\n"
    body = bottom("outlook", our_letter("ack", html=True), above=above)
    text = parse_mail(reply(body), own_addresses=OWN).text
    assert text.endswith(ANSWER) and "кв. 12" in text
