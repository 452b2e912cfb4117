"""Building and flat from a message's own words, for channels that do not register them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domovoy.app import App
from tests.helpers import mail
from workflow.clock import ManualClock
from workflow.context import BuildingInfo
from workflow.models import Case
from workflow.whereabouts import guess_apartment, guess_building

BUILDINGS = [BuildingInfo(1, "lenina-5", "ул. Ленина, 5", None),
             BuildingInfo(2, "pushkina-10", "ул. Пушкина, д. 10", None),
             BuildingInfo(3, "lenina-15", "ул. Ленина, 15", None)]


@pytest.mark.parametrize(("text", "code"), [
    ("Дом на Ленина 5, кв. 45 — нет воды", "lenina-5"),
    ("ул. Пушкина, д.10 кв 3", "pushkina-10"),
    ("Проживаю по адресу: г. Москва, улица Ленина, дом 15", "lenina-15"),
    ("на улице Ленина дом 55", None),  # no such building: better none than a wrong one
    ("Нет горячей воды", None),
])
def test_building_is_found_by_street_and_house_number(text: str, code: str | None) -> None:
    found = guess_building(text, BUILDINGS)
    assert (found.code if found else None) == code


def test_a_single_building_office_needs_no_address() -> None:
    assert guess_building("Нет воды", BUILDINGS[:1]) == BUILDINGS[0]


@pytest.mark.parametrize(("text", "flat"), [
    ("кв. 45", "45"), ("квартира 12а", "12А"), ("Apt. 7, Pushkina 10", "7"),
    ("flat 3", "3"), ("нет квартиры", None)])
def test_flat_number(text: str, flat: str | None) -> None:
    assert guess_apartment(text) == flat


async def test_email_case_gets_building_and_flat_from_the_text(
        app: App, clock: ManualClock) -> None:
    await app.intake.ingest(mail("p@example.org", "Здравствуйте! ул. Пушкина, д. 10, кв. 33: "
                                 "течёт кран на кухне, прошу прислать сантехника.", clock.now()))
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.apartment == "33"
    assert case.building_id == app.wf.building_id("pushkina-10")
