"""Every resident- and staff-facing template renders in Russian and English."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from workflow.render import TEMPLATES, Renderer

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
CASE = SimpleNamespace(
    number="A-1042", kind="complaint", category="heating", urgency="emergency", scope="unit",
    stage="investigating", channel="email", subject="Холодно <b>", text="Батареи & трубы <i>",
    apartment="7", first_response_at=None, respond_due=NOW, resolve_due=NOW, incident_id=3,
    manual_triage=True)
CONTEXT: dict[str, Any] = {
    "case": CASE, "building": SimpleNamespace(code="lenina-5", address="ул. Ленина, 5"),
    "assignee": SimpleNamespace(name="Иван"),
    "resident": SimpleNamespace(name="Ольга <script>", apartment="7", phone=None),
    "office": "УК", "link_code": "AB12CD34", "note": "Готово <ok>", "question": "Этаж?",
    "text": "Ответ\n\nвторой абзац <x>", "rules": ["heating.cold"], "attachments": 2,
    "notes": "attachment <big.mp4> dropped: over the 10 MB limit",
    "level": 2, "level_name": "head", "manual": False, "now": NOW, "channel": "email",
    "recipient": "a@b", "reason": "bounce", "fallback": None,
}
NOT_ABOUT_A_CASE = {"unfiled", "staff_unfiled", "report"}
NAMES = sorted({p.stem for p in (TEMPLATES / "ru").glob("*.j2")
                if not p.stem.startswith(("_", "bot_"))} - NOT_ABOUT_A_CASE)


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("name", NAMES)
def test_template_renders_with_case_number_and_escaped_html(name: str, lang: str) -> None:
    rendered = Renderer().render(name, lang, **CONTEXT)
    assert rendered.text.strip()
    assert "A-1042" in rendered.subject + rendered.text
    if rendered.html is not None:
        assert "<script>" not in rendered.html and "<x>" not in rendered.html
        if "Ольга" in rendered.html:
            assert "Ольга &lt;script&gt;" in rendered.html
        if "второй абзац" in rendered.html:
            assert "второй абзац &lt;x&gt;" in rendered.html


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("name", sorted(NOT_ABOUT_A_CASE))
def test_messages_outside_a_case_render(name: str, lang: str) -> None:
    from workflow.reports import Report

    rep = Report(since=NOW, until=NOW, total=2, by_kind={"request": 2})
    rendered = Renderer().render(name, lang, **{**CONTEXT, "case": None, "subject": "",
                                                "rep": rep})
    assert rendered.text.strip() and "None" not in rendered.text


def test_deadline_is_shown_in_the_office_time_zone() -> None:
    text = Renderer("Europe/Moscow").render("ack", "ru", **CONTEXT).text
    assert "15.01.2026 12:00" in text  # 09:00 UTC is 12:00 in Moscow


def test_unknown_language_falls_back_to_russian() -> None:
    assert "обращение" in Renderer().render("ack", "de", **CONTEXT).text


def test_plain_text_channels_get_no_html_part() -> None:
    renderer = Renderer()
    plain = renderer.render("ack", "ru", html=False, **CONTEXT)
    full = renderer.render("ack", "ru", **CONTEXT)
    assert plain.html is None and full.html
    assert (plain.subject, plain.text) == (full.subject, full.text)
