"""The language a mail is answered in: the letter's own words, not the address it copies."""

from __future__ import annotations

import pytest

from intake.email import parse_mail


def letter(body: str, *, subject: str = "Leak") -> bytes:
    head = ("From: John Smith <john@example.com>\nTo: office@uk-domovoy.example\n"
            f"Subject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n")
    return (head + body).encode()


@pytest.mark.parametrize("body", [
    # the signature's Russian address kept for the flat
    "Hello,\n\nThere is water leaking from the ceiling in my bathroom since this morning. "
    "I rent apartment 45 at Lenina 5. Please send a plumber today.\n\nThanks,\nJohn\n\n"
    "-- \nДжон Смит\nул. Ленина, д. 5, кв. 45\nтел. +7 912 000-00-00\n",
    # a Russian sign-off with the address and the phone
    "Hi, water is leaking from the ceiling in the bathroom. Please send someone.\n\n"
    "С уважением,\nДжон Смит, квартира 45, ул. Ленина, д. 5, подъезд 2, этаж 9\n"
    "телефон +7 912 000-00-00, домофон 45В\n",
    "Hi, no hot water since yesterday.\nС уважением, Иван Петров",
    # the address inside a sentence, typographic quotes and dashes
    "I live at ул. Ленина д. 5 and the heating doesn't work since Monday",
    "The lift is broken again in block 3 — please fix it «soon».",
])
def test_an_english_letter_with_a_russian_address_is_answered_in_english(body: str) -> None:
    assert parse_mail(letter(body)).language == "en"


@pytest.mark.parametrize("body", [
    "Течёт кран на кухне, прошу прислать сантехника.\n\nBest regards,\nJohn Smith\n"
    "Senior Manager, Acme Corporation International Ltd",
    "Не работает Wi-Fi router TP-Link в подъезде",
    "В кв. 45 течёт кран, ул. Ленина 5",
    "Thanks for your help\nКран опять течёт в кв. 45, срочно пришлите мастера",
    "Zdravstvuyte! U nas v kvartire 12 techet voda s potolka, prishlite santehnika pozhaluysta",
])
def test_a_russian_letter_stays_russian(body: str) -> None:
    assert parse_mail(letter(body, subject="Заявка")).language == "ru"


def test_a_russian_letter_quoting_english_is_left_to_the_default() -> None:
    # the writer's own words are Russian; the English is a pasted error message
    body = "Не могу оплатить, пишет Payment failed: the card was declined by the issuer bank"
    assert parse_mail(letter(body, subject="Оплата")).language is None

