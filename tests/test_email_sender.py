"""Who a mail is from, in which language to answer, and when it arrived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.email import parse_mail
from intake.message import Automated

OWN = frozenset({"office@uk-domovoy.example"})


def letter(body: str, *headers: str, sender: str = "Ivan <ivan@mail.ru>",
           subject: str = "Заявка") -> bytes:
    lines = [f"From: {sender}", "To: office@uk-domovoy.example", f"Subject: {subject}",
             *headers, "Content-Type: text/plain; charset=utf-8"]
    return ("\n".join(lines) + "\n\n" + body).encode()


def test_a_site_form_sent_through_our_own_mailbox_is_the_residents() -> None:
    # hosts let a form send only as the mailbox it logs in to: From is the office's own
    raw = letter("Нет отопления, в квартире 14 градусов, маленький ребёнок",
                 "Reply-To: Ольга Смирнова <olga.s@yandex.ru>",
                 sender="Сайт УК <office@uk-domovoy.example>")
    parsed = parse_mail(raw, own_addresses=OWN)
    assert parsed.automated is None
    assert parsed.sender == "olga.s@yandex.ru" and parsed.sender_name == "Ольга Смирнова"


@pytest.mark.parametrize("headers", [
    (),  # our own letter coming back: never a Reply-To
    ("Reply-To: olga.s@yandex.ru", "Auto-Submitted: auto-replied"),  # our acknowledgement
    ("Reply-To: office@uk-domovoy.example",),
])
def test_our_own_mail_stays_our_own(headers: tuple[str, ...]) -> None:
    raw = letter("Обращение A-1001 зарегистрировано", *headers,
                 sender="УК <office@uk-domovoy.example>")
    assert parse_mail(raw, own_addresses=OWN).automated is Automated.OWN


@pytest.mark.parametrize("role", ["mailer", "webmaster", "info", "zayavki", "sait", "mail"])
def test_a_sites_mailbox_is_answered_at_reply_to(role: str) -> None:
    # a form sends from whatever mailbox the site was given
    raw = letter("В квартире 12 течёт потолок", "Reply-To: Olga <olga.s@yandex.ru>",
                 sender=f"Site <{role}@uk-domovoy-site.ru>")
    assert parse_mail(raw, own_addresses=OWN).sender == "olga.s@yandex.ru"


def test_a_role_mailbox_without_reply_to_is_answered_where_it_wrote_from() -> None:
    # a shop among the tenants writes from info@ too, and must hear back
    raw = letter("В подсобке магазина течёт с потолка", sender="Shop <info@shop.example>")
    assert parse_mail(raw, own_addresses=OWN).sender == "info@shop.example"


def test_transliterated_russian_is_answered_in_russian() -> None:
    raw = letter("Zdravstvuyte! U nas v kvartire 12 techet voda s potolka, "
                 "prishlite santehnika pozhaluysta")
    assert parse_mail(raw).language == "ru"
    assert parse_mail(letter("Hello, water is leaking from the ceiling in flat 12, "
                             "please send a plumber")).language == "en"


@pytest.mark.parametrize("off", [timedelta(hours=50), timedelta(days=-1)])
def test_a_date_header_off_the_servers_time_takes_the_servers(off: timedelta) -> None:
    # a phone's clock ahead or behind: the deadlines run from when the office received it
    arrived = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    stamped = (arrived + off).strftime("%a, %d %b %Y %H:%M:%S +0000")
    parsed = parse_mail(letter("Пахнет газом в подъезде", f"Date: {stamped}"),
                        internal_date=arrived)
    assert parsed.date == arrived
    near = (arrived + timedelta(minutes=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    assert parse_mail(letter("Пахнет газом", f"Date: {near}"),
                      internal_date=arrived).date == arrived + timedelta(minutes=3)


@pytest.mark.parametrize("sender", ["info@uk-domovoy-site.ru", "noreply@uk-domovoy-site.ru"])
def test_a_form_without_reply_to_is_answered_at_its_e_mail_field(sender: str) -> None:
    # Bitrix's "заполнена web-форма" names the resident only in its fields
    body = ("Заполнена web-форма: [1] Обратная связь\nВаше имя: Ольга Смирнова\n"
            "E-mail: olga.s@yandex.ru\nНомер квартиры: 45\nСообщение:\nНет отопления.")
    parsed = parse_mail(letter(body, sender=f"Site <{sender}>"), own_addresses=OWN)
    assert (parsed.sender, parsed.sender_name) == ("olga.s@yandex.ru", "Ольга Смирнова")


def test_a_letter_mentioning_an_address_is_answered_where_it_came_from() -> None:
    body = "Добрый день! Мой второй адрес: ivan.work@mail.ru. В кв. 12 течёт кран."
    assert parse_mail(letter(body), own_addresses=OWN).sender == "ivan@mail.ru"


@pytest.mark.parametrize(("sender", "address", "name"), [
    ("Иван Петров ivan@mail.ru", "ivan@mail.ru", "Иван Петров"),
    ("=?utf-8?b?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= ivan.petrov@mail.ru", "ivan.petrov@mail.ru",
     "Иван Петров"),
    ("olga@yandex.ru Ольга", "olga@yandex.ru", "Ольга"),
])
def test_an_address_written_without_brackets_is_still_the_sender(
        sender: str, address: str, name: str) -> None:
    """A hand-made or web-form header leaves the brackets off: the parser read the whole line
    as one broken address, and the case went to manual review with nobody answered."""
    parsed = parse_mail(letter("Течёт кран на кухне, кв. 5", sender=sender), own_addresses=OWN)
    assert (parsed.sender, parsed.sender_name) == (address, name)


def test_two_bare_addresses_are_no_guess() -> None:
    parsed = parse_mail(letter("Течёт кран", sender="ivan@mail.ru olga@mail.ru"),
                        own_addresses=OWN)
    assert parsed.sender is None
