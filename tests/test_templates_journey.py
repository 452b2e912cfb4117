"""What residents, staff and managers read, message by message, in Russian and English: each
test is a defect a reader noticed in a rendered message, asserted the way that reader sees it."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domovoy.app import App
from intake.message import PresetLabels
from tests.conftest import RecordingSender
from tests.helpers import tg_message
from tests.test_templates import CASE, CONTEXT
from workflow.clock import ManualClock
from workflow.render import Renderer

LANGS = ("ru", "en")
RENDERER = Renderer("Europe/Moscow")


def case(**changes: Any) -> SimpleNamespace:
    """The shared test case with some facts changed."""
    return SimpleNamespace(**{**vars(CASE), "manual_triage": False, "incident_id": None,
                              **changes})


def render(name: str, lang: str, **changes: Any) -> Any:
    return RENDERER.render(name, lang, **{**CONTEXT, **changes})


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


# -- acknowledgement of an emergency ------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("category", ["plumbing", "heating", "electrical", "elevator",
                                      "structure", "safety", "other"])
def test_every_emergency_acknowledgement_tells_the_resident_what_to_do_now(
        category: str, lang: str) -> None:
    """Only a gas smell got advice; a flat flooding or a resident stuck in the lift heard
    that dispatch was told and nothing about what to do meanwhile or whom to call."""
    rendered = render("ack", lang, case=case(urgency="emergency", category=category))
    for part in (rendered.text, rendered.html or ""):
        assert "112" in part


async def test_a_flood_reported_in_telegram_is_told_to_shut_the_water_off(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    flood = PresetLabels(kind="complaint", category="plumbing", urgency="emergency",
                         scope="unit")
    await app.intake.ingest(tg_message(601, "Прорвало трубу, заливает квартиру!", clock.now(),
                                       preset=flood))
    await app.outbox.deliver_due()
    (ack,) = [o for o in recorder.sent if o.purpose == "ack"]
    assert "аварийная ситуация" in ack.text
    assert "перекройте" in ack.text and "соседей снизу" in ack.text and "112" in ack.text


@pytest.mark.parametrize("lang", LANGS)
def test_gas_and_smoke_advice_is_safe(lang: str) -> None:
    """Russian said only «не включайте» (flipping a switch off sparks too; English said "on or
    off"), English left out the gas service's 104, and one sentence told residents who smell
    smoke to open the windows."""
    text = render("ack", lang, case=case(urgency="emergency", category="safety")).text
    assert "104" in text
    if lang == "ru":
        assert "не включайте и не выключайте" in text
    smoke = [s for s in sentences(text) if re.search(r"дым|smoke", s, re.I)]
    assert smoke and not any(re.search(r"окн|window", s, re.I) for s in smoke)


@pytest.mark.parametrize("lang", LANGS)
def test_acknowledgement_without_deadlines_leaves_no_gap(lang: str) -> None:
    """With no SLA deadline configured the text had three empty lines in a row, and the email
    an empty paragraph, where the deadline sentence would be."""
    rendered = render("ack", lang, case=case(urgency="normal", respond_due=None,
                                             resolve_due=None))
    assert "\n\n\n" not in rendered.text
    assert rendered.html is not None and "<p></p>" not in rendered.html


# -- escalation pings -----------------------------------------------------------------------------

@pytest.mark.parametrize("reports", [2, 5, 11, 21, 104])
def test_incident_ping_counts_reports_in_correct_russian(reports: int) -> None:
    """«просрочены 5 обращения»: the noun was in the form for 2–4 whatever the count."""
    text = render("escalation", "ru", case=case(incident_id=3), reports=reports).text
    assert str(reports) in text
    assert not re.search(rf"\b{reports} обращения\b", text) or reports % 10 in (2, 3, 4)


@pytest.mark.parametrize("lang", LANGS)
def test_escalation_ping_says_how_high_it_has_gone_and_where(lang: str) -> None:
    """A manager read «Просрочено (уровень 3)» with nothing to say 3 is the top, and the building
    by its config code alone ("lenina-5")."""
    for level in (1, 2, 3):
        text = render("escalation", lang, level=level).text
        assert f"{level} {'из' if lang == 'ru' else 'of'} 3" in text
        assert "ул. Ленина, 5" in text


@pytest.mark.parametrize("lang", LANGS)
def test_manual_escalation_names_who_holds_the_case(lang: str) -> None:
    """A head escalating by hand sent managers no word of who the case sits with."""
    text = render("escalation", lang, manual=True, assignee=SimpleNamespace(name="Олег Сидоров")
                  ).text
    assert "Олег Сидоров" in text


# -- staff chat -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_case_card_without_a_building_has_no_dangling_comma(lang: str) -> None:
    """A case from a resident with no building read ", кв. 12" on a line of its own."""
    card = render("staff_new_case", lang, building=None).text
    assert not any(line.startswith(",") for line in card.splitlines())
    assert re.search(r"^(Кв\.|Flat) 7$", card, re.M)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name, channel_context", [
    ("staff_new_case", {}),
    ("staff_unfiled", {"case": None, "subject": ""}),
    ("delivery_failed", {"fallback": "telegram"}),
    ("delivery_failed", {"case": None}),
])
def test_staff_read_channel_names_not_codes(name: str, channel_context: dict[str, Any],
                                            lang: str) -> None:
    """Staff read "Канал: email", "(email a@b)", "через другой канал: telegram": the
    database's codes inside Russian sentences."""
    text = render(name, lang, channel="email", **channel_context).text
    shown = RENDERER.label(lang, "channel", "email")
    if lang == "ru":
        assert not re.search(r"\b(email|telegram)\b", text)
    assert shown in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["staff_reopened", "staff_resident_message"])
def test_residents_words_stand_apart_in_the_staff_chat(name: str, lang: str) -> None:
    """The resident's words ran straight on from the header line, and the attachment count
    straight on from them, though the template meant blank lines between."""
    words = "Опять течёт, теперь ещё и в ванной."
    text = render(name, lang, text=words, attachments=2).text
    assert f"\n\n{words}\n\n" in text


@pytest.mark.parametrize("lang", LANGS)
def test_photos_without_words_are_not_announced_as_words(lang: str) -> None:
    """An album without a caption read «житель пишет:» followed by nothing."""
    text = render("staff_resident_message", lang, text="", attachments=3).text
    assert not text.splitlines()[0].endswith(":")


def test_names_are_not_declined_wrongly_in_russian_notices() -> None:
    """«сотруднику Мария», «адрес жителя Ольга»: a name in the nominative after a noun in
    another case."""
    undelivered = render("staff_undeliverable", "ru", purpose="escalation",
                         staff_name="Мария Иванова").text
    bounced = render("delivery_failed", "ru", case=None,
                     resident=SimpleNamespace(name="Ольга", apartment="12")).text
    assert "Мария Иванова" in undelivered and "сотруднику Мария" not in undelivered
    assert "Ольга" in bounced and "жителя Ольга" not in bounced


# -- managers' report -----------------------------------------------------------------------------

def test_russian_report_writes_decimals_with_a_comma() -> None:
    """«средняя 4.33 из 5», «2.5 ч»: a decimal point where Russian readers write a comma."""
    from workflow.reports import Report

    rep = Report(since=CONTEXT["now"], until=CONTEXT["now"], total=3, ratings=3,
                 mean_rating=13 / 3, median_first_response_h=2.5, median_resolution_h=30.25)
    text = render("report", "ru", case=None, rep=rep).text
    assert "4,33 из 5" in text and "2,5 ч" in text and "30,2 ч" in text


# -- staff's reply by email -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_reply_subject_keeps_the_tag_in_sight_and_says_re_once(lang: str) -> None:
    """A resident who wrote "Re: Fwd: …" got "Re: [A-1042] Re: Fwd: …" back, and one who
    pasted a paragraph into the subject got it all back as the subject line."""
    forwarded = render("staff_reply", lang, case=case(subject="Re: Fwd: Течёт кран")).subject
    long = render("staff_reply", lang, case=case(subject="Течёт кран " * 30)).subject
    assert forwarded == "Re: [A-1042] Течёт кран"
    assert long.startswith("Re: [A-1042] Течёт кран") and len(long) <= 100


# -- closing and the rating hint -----------------------------------------------------------------

async def test_closing_notice_gives_the_date_a_reply_still_reopens_until(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    """It said "within two weeks" whatever sla.reopen_window was set to."""
    opened = await app.intake.ingest(tg_message(602, "Течёт кран", clock.now(),
                                                preset=PresetLabels(kind="request",
                                                                    category="plumbing",
                                                                    urgency="normal",
                                                                    scope="unit")))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили прокладку")
    await app.cases.act(opened.case_number, 1001, "close")
    await app.outbox.deliver_due()
    (closed,) = [o for o in recorder.sent if "закрыто" in (o.subject or o.text)]
    until = (clock.now() + app.wf.settings.sla.reopen_window).astimezone(
        ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M")
    assert f"ответьте на это сообщение до {until}" in closed.text
    assert "двух недель" not in closed.text


@pytest.mark.parametrize("lang", LANGS)
def test_rating_hint_follows_the_channel_the_notice_goes_out_on(lang: str) -> None:
    """A Telegram case told by email (its chat unreachable) lost the "reply with one digit"
    line in its text part while the HTML part had it, and an email case told in Telegram was
    asked to answer "this email"."""
    by_mail = render("resolved", lang, case=case(channel="telegram"), via="email", html=True)
    in_chat = render("resolved", lang, case=case(channel="email"), via="telegram", html=False)
    digit = {"ru": "одной цифрой", "en": "a single digit"}[lang]
    assert digit in by_mail.text and digit in (by_mail.html or "")
    assert digit not in in_chat.text


def test_english_readers_get_dates_they_cannot_misread() -> None:
    """"15.01.2026" in an English acknowledgement; to an American 01.03 is the third of
    January. Russian keeps its own way of writing dates."""
    assert "by 15 Jan 2026, 12:00" in render("ack", "en").text  # 09:00 UTC, Moscow time
    assert "15.01.2026 12:00" in render("ack", "ru").text
