"""Ratings read from a resident's reply to a resolved case, and counts that are no rating."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domovoy.app import App
from tests.helpers import mail
from workflow.clock import ManualClock
from workflow.feedback import MAX_RATING_REPLY, parse_rating
from workflow.intake import Action
from workflow.models import Feedback


@pytest.mark.parametrize(("reply", "rating"), [
    # the wordings that used to work
    ("5", (5, None)), ("Спасибо! 5", (5, None)), ("Оценка: 5", (5, None)),
    ("Здравствуйте, УК «Домовой».\n\n5", (5, None)), ("4 — спасибо", (4, "спасибо")),
    ("3/5", (3, None)), ("5 баллов", (5, None)), ("my rating: 4/5", (4, None)),
    # a comma or a full stop after the score
    ("5, спасибо!", (5, "спасибо!")), ("4, мастер молодец", (4, "мастер молодец")),
    ("5. Спасибо!", (5, "Спасибо!")), ("Спасибо, ставлю 5.", (5, None)), ("Оценка 1.", (1, None)),
    # "на 5", words and stars
    ("На 5!", (5, None)), ("на пятёрку", (5, None)), ("Ставлю пятёрку", (5, None)),
    ("Отлично, спасибо! Ставлю пятёрку.", (5, None)), ("Отлично! 5", (5, None)),
    ("Всё сделали на отлично!", (5, "Всё сделали")), ("оценка отлично", (5, None)),
    ("Оценка: хорошо, но мастер опоздал", (4, "но мастер опоздал")),
    ("пять баллов", (5, None)), ("Ставлю пять", (5, None)), ("кол", (1, None)),
    ("Единица.", (1, None)), ("двойка, ничего не сделали", (2, "ничего не сделали")),
    ("5 звёзд", (5, None)), ("Rating 5 stars", (5, None)), ("⭐⭐⭐⭐⭐", (5, None)),
    ("⭐️⭐️⭐️", (3, None)), ("★★★★☆", (4, None)),
    ("Мастер пришёл вовремя, ставлю 5 :)", (5, "Мастер пришёл вовремя")),
])
def test_a_rating_reply(reply: str, rating: tuple[int, str | None]) -> None:
    assert parse_rating(reply) == rating


@pytest.mark.parametrize("reply", [
    # a digit before a unit or a count word counts something
    "1 раз за 10 лет так быстро починили, огромное спасибо мастеру!",
    "2 недели ждали, но в итоге всё сделали хорошо, спасибо!",
    "3 дня не было воды", "1-й раз так быстро", "На 5 этаже не горит лампочка",
    "Мастер пришёл на 5 минут позже", "Оценка: три дня ждали", "5.12 приходил мастер",
    "2 hours late but fixed, thanks",
    # a numbered list, plain thanks, a grade word without a marker, more than 10
    "1. Никто не пришёл.", "Хорошо, спасибо", "Спасибо большое, всё починили!",
    "колонка не работает", "10 из 10", "На кухне снова течёт",
])
def test_no_rating(reply: str) -> None:
    assert parse_rating(reply) is None


def test_a_long_reply_is_never_a_rating() -> None:
    assert parse_rating("5, " + "спасибо " * MAX_RATING_REPLY) is None


async def _rate(app: App, clock: ManualClock, reply: str) -> list[tuple[int, str | None]]:
    opened = await app.intake.ingest(mail("vera@example.org", "Прошу заменить лампу в подъезде",
                                          clock.now(), message_id="lamp-fb@example.org"))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили")
    answer = await app.intake.ingest(mail("vera@example.org", reply, clock.now(),
                                          hints=("lamp-fb@example.org",)))
    assert answer.action == Action.THREADED
    async with app.wf.sessions() as s:
        return [(f.rating, f.comment) for f in await s.scalars(select(Feedback))]


@pytest.mark.parametrize(("reply", "rating"), [
    ("5, спасибо!", 5), ("На 5!", 5), ("⭐⭐⭐⭐⭐", 5), ("Отлично, спасибо! Ставлю пятёрку.", 5)])
async def test_a_worded_rating_is_recorded(app: App, clock: ManualClock, reply: str,
                                           rating: int) -> None:
    assert [r for r, _ in await _rate(app, clock, reply)] == [rating]


async def test_thanks_that_start_with_a_count_record_no_rating(
        app: App, clock: ManualClock) -> None:
    reply = "1 раз за 10 лет так быстро починили, огромное спасибо мастеру!"
    assert await _rate(app, clock, reply) == []


@pytest.mark.parametrize(("reply", "rating"), [
    ("Большое спасибо! Пятёрка.", (5, None)), ("Огромное спасибо, 5", (5, None))])
def test_thanks_before_the_score(reply: str, rating: tuple[int, str | None]) -> None:
    assert parse_rating(reply) == rating
