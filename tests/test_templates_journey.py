"""What residents, staff and managers read, message by message, in Russian and English: each
test is a defect a reader noticed in a rendered message, asserted the way that reader sees it."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

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
