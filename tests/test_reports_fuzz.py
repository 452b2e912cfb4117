"""The managers' report as a manager reads it, and residents' ratings as they count in it:
overdue cases the escalation pass has touched, compliance that late cases drag down, closures
that are no resolutions, first responses kept across a reopen, ratings of jobs that did not
hold, channel names in words, and periods that are calendar days and weeks in office time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from domovoy.app import App
from tests.helpers import LEAK, mail, tg_message
from workflow.clock import ManualClock
from workflow.intake import Action
from workflow.models import Case, Feedback
from workflow.reports import Report, build_report, queue_report, report_period

STAFF = 1001  # Telegram id of a staff member in the test organisation


async def _open(app: App, clock: ManualClock, user: int) -> str:
    opened = await app.intake.ingest(tg_message(user, "Течёт кран", clock.now(), preset=LEAK))
    assert opened.case_number
    return opened.case_number


async def _resident(app: App, number: str) -> int:
    async with app.wf.sessions() as s:
        resident_id = await s.scalar(select(Case.resident_id).where(Case.number == number))
    assert resident_id is not None
    return resident_id


async def _report(app: App, since: datetime, until: datetime) -> Report:
    async with app.wf.sessions() as s:
        return await build_report(s, since, until)


def _ru(app: App, rep: Report) -> str:
    return app.wf.renderer.render("report", "ru", rep=rep, office="УК").text


# --- overdue now (H3) -----------------------------------------------------------------------


async def test_cases_escalated_to_the_managers_are_shown_overdue(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    for user in range(3101, 3105):
        await app.cases.act(await _open(app, clock, user), STAFF, "take")
    clock.advance(timedelta(days=8))  # a 7-day job, a day late
    for _ in range(3):  # taker, head, managers: every level pinged
        await app.escalator.run_pass()
        clock.advance(app.wf.settings.sla.escalation_step + timedelta(seconds=1))
    rep = await _report(app, start - timedelta(days=1), clock.now())
    assert (rep.open_now, rep.overdue_now) == (4, 4)
    assert "Открыто сейчас: 4, из них просрочено: 4" in _ru(app, rep)


async def test_a_case_is_overdue_the_minute_after_its_first_escalation(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    await app.cases.act(await _open(app, clock, 3111), STAFF, "take")
    clock.advance(timedelta(days=7, minutes=5))
    await app.escalator.run_pass()
    assert (await _report(app, start - timedelta(days=1), clock.now())).overdue_now == 1


async def test_an_unanswered_case_past_its_answer_deadline_is_overdue(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    await _open(app, clock, 3121)  # nobody takes it: the answer is a day late
    clock.advance(timedelta(days=2))
    assert (await _report(app, start - timedelta(days=1), clock.now())).overdue_now == 1


async def test_a_case_waiting_on_the_resident_since_before_its_deadline_is_not_overdue(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    number = await _open(app, clock, 3131)
    await app.cases.act(number, STAFF, "take")
    clock.advance(timedelta(days=1))
    await app.cases.act(number, STAFF, "need_info", "Какой этаж?")
    clock.advance(timedelta(days=10))  # the clock stopped with six days left
    assert (await _report(app, start - timedelta(days=1), clock.now())).overdue_now == 0


# --- SLA compliance counts late cases (H4) ---------------------------------------------------


async def test_cases_open_past_their_deadline_count_against_compliance(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    await app.cases.act(await _open(app, clock, 3201), STAFF, "resolve", "Готово")
    for user in range(3202, 3205):
        await _open(app, clock, user)
    clock.advance(timedelta(days=20))  # three cases 13 days past due, still open
    rep = await _report(app, start - timedelta(days=1), clock.now())
    assert (rep.resolved, rep.resolved_in_time, rep.overdue_unresolved) == (1, 1, 3)
    assert rep.sla_compliance == 0.25
    assert "Соблюдение сроков: 25%" in _ru(app, rep)


async def test_a_late_resolution_counts_in_the_week_it_happens_with_its_rating(
        app: App, clock: ManualClock) -> None:
    number = await _open(app, clock, 3211)
    clock.advance(timedelta(days=20))
    await app.cases.act(number, STAFF, "resolve", "Готово")
    assert await app.cases.rate(number, await _resident(app, number), 1, "ужасно")
    rep = await _report(app, clock.now() - timedelta(days=7), clock.now() + timedelta(seconds=1))
    assert rep.total == 0  # received three weeks ago
    assert (rep.resolved, rep.resolved_in_time, rep.sla_compliance) == (1, 0, 0.0)
    assert (rep.ratings, rep.mean_rating) == (1, 1.0)


# --- closures are no resolutions (H5) --------------------------------------------------------


@pytest.mark.parametrize("stamped", [False, True], ids=["now", "closed-by-older-version"])
async def test_duplicates_closed_are_no_resolutions_in_time(
        app: App, clock: ManualClock, stamped: bool) -> None:
    start = clock.now()
    real = await _open(app, clock, 3301)
    duplicates = [await _open(app, clock, user) for user in range(3302, 3305)]
    for number in duplicates:
        await app.cases.act(number, STAFF, "close", "Дубль")
    if stamped:  # rows an older version wrote: a close stamped resolved_at too
        async with app.wf.sessions.begin() as s:
            await s.execute(update(Case).where(Case.number.in_(duplicates))
                            .values(resolved_at=Case.closed_at))
    clock.advance(timedelta(days=9))
    await app.cases.act(real, STAFF, "resolve", "Поздно")
    rep = await _report(app, start - timedelta(days=1), clock.now() + timedelta(minutes=1))
    assert (rep.resolved, rep.resolved_in_time, rep.closed_unresolved) == (1, 0, 3)
    assert rep.median_resolution_h == 216.0
    assert "Закрыто без решения (дубли, отозванные): 3" in _ru(app, rep)


# --- first response kept across a reopen (H10) ------------------------------------------------


async def test_a_reopen_by_the_resident_keeps_the_first_response_time(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    number = await _open(app, clock, 3401)
    clock.advance(timedelta(hours=1))
    await app.cases.act(number, STAFF, "take")  # answered an hour after receipt
    await app.cases.act(number, STAFF, "resolve", "Готово")
    clock.advance(timedelta(days=3))
    await app.intake.ingest(tg_message(3401, f"{number} опять течёт, не починили", clock.now()))
    clock.advance(timedelta(hours=1))
    await app.cases.reply(number, STAFF, "Придём завтра")
    rep = await _report(app, start - timedelta(days=1), clock.now())
    assert rep.median_first_response_h == 1.0


# --- ratings (M6, L1) -------------------------------------------------------------------------


async def test_a_second_rating_without_words_drops_the_first_ones_praise(
        app: App, clock: ManualClock) -> None:
    number = await _open(app, clock, 3501)
    await app.cases.act(number, STAFF, "resolve", "Готово")
    resident = await _resident(app, number)
    await app.cases.rate(number, resident, 5, "Отлично, быстро")
    await app.cases.rate(number, resident, 1)
    async with app.wf.sessions() as s:
        assert [(f.rating, f.comment) for f in await s.scalars(select(Feedback))] == [(1, None)]


async def test_a_case_still_being_worked_cannot_be_rated(app: App, clock: ManualClock) -> None:
    number = await _open(app, clock, 3511)
    assert await app.cases.rate(number, await _resident(app, number), 1) is False
    async with app.wf.sessions() as s:
        assert (await s.scalars(select(Feedback))).all() == []


async def test_a_rating_of_a_job_that_did_not_hold_leaves_the_mean(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    number = await _open(app, clock, 3521)
    await app.cases.act(number, STAFF, "resolve", "Готово")
    await app.cases.rate(number, await _resident(app, number), 5)
    clock.advance(timedelta(hours=2))
    await app.intake.ingest(tg_message(3521, f"{number} опять течёт, не починили", clock.now()))
    rep = await _report(app, start - timedelta(days=1), clock.now() + timedelta(seconds=1))
    assert (rep.ratings, rep.mean_rating) == (0, None)
    assert "Оценки жителей: 0\n" in _ru(app, rep)


async def test_a_low_score_that_reopens_the_case_still_counts(
        app: App, clock: ManualClock) -> None:
    start = clock.now()
    opened = await app.intake.ingest(mail("vera@example.org", "Прошу заменить лампу в подъезде",
                                          clock.now(), message_id="lamp-rep@example.org"))
    assert opened.case_number
    await app.cases.act(opened.case_number, STAFF, "resolve", "Заменили")
    clock.advance(timedelta(hours=2))
    answer = await app.intake.ingest(mail("vera@example.org", "3, опять не горит",
                                          clock.now(), hints=("lamp-rep@example.org",)))
    assert answer.action == Action.REOPENED
    rep = await _report(app, start - timedelta(days=1), clock.now() + timedelta(seconds=1))
    assert (rep.ratings, rep.mean_rating) == (1, 3.0)


# --- channel names in words (L4) -------------------------------------------------------------


@pytest.mark.parametrize(("lang", "line"), [("ru", "по каналам: Telegram 1"),
                                            ("en", "by channel: Telegram 1")])
async def test_the_report_names_channels_in_words(
        app: App, clock: ManualClock, lang: str, line: str) -> None:
    start = clock.now()
    await _open(app, clock, 3601)
    rep = await _report(app, start - timedelta(days=1), clock.now() + timedelta(hours=1))
    text = app.wf.renderer.render("report", lang, rep=rep, office="УК").text
    assert line in [row.strip() for row in text.splitlines()]


def test_every_channel_has_a_name_in_both_languages(app: App) -> None:
    from intake.message import Channel

    for lang in ("ru", "en"):
        names = app.wf.renderer.labels[lang]["channel"]
        assert set(names) == {c.value for c in Channel}


# --- calendar periods in office time (L5) ----------------------------------------------------

MSK = "Europe/Moscow"


def test_the_weekly_report_covers_monday_to_monday_in_office_time() -> None:
    monday_9_msk = datetime(2026, 1, 19, 6, 0, tzinfo=UTC)
    assert report_period(monday_9_msk, MSK, 7) == (datetime(2026, 1, 11, 21, 0, tzinfo=UTC),
                                                   datetime(2026, 1, 18, 21, 0, tzinfo=UTC))
    # run late on a Wednesday, it is still last Monday's week, not the last 7×24 hours
    assert report_period(datetime(2026, 1, 21, 15, 0, tzinfo=UTC), MSK, 7) \
        == report_period(monday_9_msk, MSK, 7)


def test_a_daily_report_covers_yesterday_in_office_time() -> None:
    five_past_midnight_msk = datetime(2026, 1, 21, 21, 5, tzinfo=UTC)  # 00:05 on 22 Jan
    assert report_period(five_past_midnight_msk, MSK, 1) == (
        datetime(2026, 1, 20, 21, 0, tzinfo=UTC), datetime(2026, 1, 21, 21, 0, tzinfo=UTC))


def test_a_week_across_a_clock_change_runs_from_midnight_to_midnight() -> None:
    since, until = report_period(datetime(2026, 3, 30, 9, 0, tzinfo=UTC), "Europe/London", 7)
    assert (since, until) == (datetime(2026, 3, 23, 0, 0, tzinfo=UTC),
                              datetime(2026, 3, 29, 23, 0, tzinfo=UTC))  # BST from 29 Mar


async def test_a_case_late_in_the_evening_belongs_to_that_day(
        app: App, clock: ManualClock) -> None:
    clock.set(datetime(2026, 1, 20, 20, 30, tzinfo=UTC))  # 23:30 in Moscow on 20 Jan
    await _open(app, clock, 3701)
    clock.set(datetime(2026, 1, 21, 21, 5, tzinfo=UTC))  # 00:05 in Moscow on 22 Jan
    yesterday = await _report(app, *report_period(clock.now(), MSK, 1))
    day_before = await _report(app, *report_period(clock.now() - timedelta(days=1), MSK, 1))
    assert (yesterday.total, day_before.total) == (0, 1)
    assert _ru(app, yesterday).startswith("📊 УК: отчёт за 21.01.2026 00:00 — 21.01.2026 23:59")


async def test_the_monday_report_is_last_weeks_whole_week(
        app: App, clock: ManualClock) -> None:
    clock.set(datetime(2026, 1, 11, 20, 59, tzinfo=UTC))  # Sunday 23:59 Moscow: last week
    await _open(app, clock, 3711)
    clock.set(datetime(2026, 1, 11, 21, 0, tzinfo=UTC))  # Monday 00:00 Moscow
    await _open(app, clock, 3712)
    clock.set(datetime(2026, 1, 18, 20, 59, tzinfo=UTC))  # Sunday 23:59 Moscow
    await _open(app, clock, 3713)
    clock.set(datetime(2026, 1, 19, 6, 0, tzinfo=UTC))  # Monday 09:00: the weekly report
    await _open(app, clock, 3714)  # this morning's: next week's report
    report = await queue_report(app.wf)
    assert (report.since, report.until) == report_period(clock.now(), MSK, 7)
    assert report.total == 2
    subject = app.wf.renderer.render("report", "ru", rep=report, office="УК").subject
    assert subject == "Отчёт за 12.01.2026 00:00 — 18.01.2026 23:59"


# --- the same figures on both back ends -------------------------------------------------------


async def test_the_report_reads_the_same_on_sqlite_and_postgresql(
        any_app: App, clock: ManualClock) -> None:
    app = any_app
    start = clock.now()
    done, _late, duplicate = [await _open(app, clock, user) for user in (3801, 3802, 3803)]
    await app.cases.act(done, STAFF, "take")
    await app.cases.act(done, STAFF, "resolve", "Готово")
    await app.cases.rate(done, await _resident(app, done), 4)
    await app.cases.act(duplicate, STAFF, "close", "Дубль")
    clock.advance(timedelta(days=8))
    await app.escalator.run_pass()
    rep = await _report(app, start - timedelta(days=1), clock.now())
    assert (rep.total, rep.open_now, rep.overdue_now) == (3, 1, 1)
    assert (rep.resolved, rep.resolved_in_time, rep.overdue_unresolved) == (1, 1, 1)
    assert (rep.closed_unresolved, rep.ratings, rep.mean_rating) == (1, 1, 4.0)
    assert rep.median_first_response_h == 0.0
