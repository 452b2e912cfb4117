"""Building and flat from a message's own words, for channels that do not register them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domovoy.app import App
from tests.helpers import mail
from workflow.clock import ManualClock
from workflow.context import BuildingInfo
from workflow.models import Case, Resident
from workflow.whereabouts import guess_apartment, guess_building

BUILDINGS = [BuildingInfo(1, "lenina-5", "ул. Ленина, 5", None),
             BuildingInfo(2, "pushkina-10", "ул. Пушкина, д. 10", None),
             BuildingInfo(3, "lenina-15", "ул. Ленина, 15", None)]


@pytest.mark.parametrize(("text", "code"), [
    ("Дом на Ленина 5, кв. 45 — нет воды", "lenina-5"),
    ("ул. Пушкина, д.10 кв 3", "pushkina-10"),
    ("Проживаю по адресу: г. Москва, улица Ленина, дом 15", "lenina-15"),
    ("на улице Ленина дом 55", None),  # no such building: better none than a wrong one
    # the house number first, after a word for a house
    ("Во всём доме 5 по ул. Ленина нет света", "lenina-5"),
    ("д. 15 на улице Ленина, подъезд 2", "lenina-15"),
    ("кв. 5 по ул. Пушкина", None),  # a flat number is no house number
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


@pytest.mark.parametrize(("text", "flat"), [
    ("Уже неделю в квартире 16 градусов. Ольга Смирнова, ул. Ленина 5, кв. 45", "45"),
    ("в квартире 14 градусов, маленький ребёнок. Кв. 45.", "45"),
    ("в квартире 16-18 градусов", None), ("в квартире 16,5°", None), ("в квартире 20%", None),
    ("квартира 54 кв.м", None), ("квартира 54 м2", None), ("в квартире 3 дня нет воды", None),
    ("в квартире 2 этажа", None), ("flat 12 degrees colder", None),
    # a unit-like word that is no unit, and a floor given with its number, keep the flat
    ("кв. 45 этаж 9", "45"), ("В кв. 45 разбито окно", "45"), ("кв 45 подъезд 2", "45"),
    ("Имя: Ольга\nКвартира: 45\nСообщение: нет отопления", "45"),  # a site form's field
])
def test_a_measure_in_the_flat_is_no_flat_number(text: str, flat: str | None) -> None:
    assert guess_apartment(text) == flat


@pytest.mark.parametrize(("text", "flat"), [
    ("Соседи из квартиры 37 каждую ночь шумят", None),
    ("Опять заливают из кв. 37 сверху", None),
    ("Над квартирой 37 кто-то сверлит", None),
    ("сосед из 37-й стучит по батарее", None),
    ("У меня соседи из кв. 37 шумят", None),
    ("кв. 37 над нами затопила", None),
    ("Loud music from flat 37 every night", None),
    ("Соседи из кв. 37 заливают, я живу в кв. 45", "45"),
    ("Соседи шумят и мешают мне в кв. 45", "45"),
    ("Я из кв. 45, течёт кран", "45"),
    ("I am from flat 7", "7"),
    ("my flat 7 has no water", "7"),
    # "этажом ниже" describes the writer's own flat relative to the other letter
    ("У меня в кв. 46 (этажом ниже) с потолка капает", "46"),
])
def test_a_neighbours_flat_is_not_the_writers(text: str, flat: str | None) -> None:
    assert guess_apartment(text) == flat


async def test_email_case_gets_building_and_flat_from_the_text(
        app: App, clock: ManualClock) -> None:
    await app.intake.ingest(mail("p@example.org", "Здравствуйте! ул. Пушкина, д. 10, кв. 33: "
                                 "течёт кран на кухне, прошу прислать сантехника.", clock.now()))
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.apartment == "33"
    assert case.building_id == app.wf.building_id("pushkina-10")


async def test_a_neighbours_flat_is_neither_filed_nor_remembered_for_the_writer(
        app: App, clock: ManualClock) -> None:
    # the noise report names the noisy flat; the writer's next leak must not go to that door
    await app.intake.ingest(mail("aliev@example.org", "Здравствуйте. Соседи из квартиры 37 "
                                 "каждую ночь шумят после 23:00. Прошу принять меры.", clock.now()))
    await app.intake.ingest(mail("aliev@example.org", "Здравствуйте, у меня на кухне течёт кран, "
                                 "прошу прислать сантехника.", clock.now()))
    async with app.wf.sessions() as s:
        flats = list(await s.scalars(select(Case.apartment).order_by(Case.id)))
        resident = await s.scalar(select(Resident))
    assert flats == [None, None]
    assert resident is not None and resident.apartment is None


async def test_a_room_temperature_does_not_become_the_flat(app: App, clock: ManualClock) -> None:
    await app.intake.ingest(mail("olga@example.org", "Уже неделю в квартире 16 градусов, батареи "
                                 "еле тёплые.\nОльга Смирнова, ул. Ленина 5, кв. 45", clock.now()))
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
        resident = await s.scalar(select(Resident))
    assert case is not None and case.apartment == "45"
    assert resident is not None and resident.apartment == "45"
