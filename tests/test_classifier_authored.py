"""The independent authored set (tests/data/messages-authored.jsonl, 320 messages).

It was written from shared/taxonomy.md alone, before anyone read the rules. Ids au-001..au-220
are the tuning part (its errors were read while editing the rules); au-221..au-320 are the
hold-out part, measured once after the rules were frozen (docs_classifier.md). These tests only
guard the aggregate numbers against regressions: nothing here looks at a single hold-out message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from intake.classifier import Classifier
from intake.classifier.evaluate import evaluate, headline

DATA = Path(__file__).parent / "data" / "messages-authored.jsonl"
TUNING = 220
MARGIN = 0.03

# Measured once, at the end of the tuning round (docs_classifier.md, "Independent authored set").
HOLDOUT_MEASURED = {
    "kind.macro_f1": 0.838,
    "complaint.recall": 0.925,
    "complaint.precision": 0.925,
    "category.accuracy": 0.921,
    "urgency.macro_f1": 0.844,
    "emergency.recall": 1.0,
    "emergency.precision": 0.900,
    "scope.accuracy": 0.921,
}
TUNING_MEASURED = {
    "kind.macro_f1": 0.961,
    "complaint.recall": 1.0,
    "complaint.precision": 0.956,
    "category.accuracy": 0.990,
    "urgency.macro_f1": 0.972,
    "emergency.recall": 1.0,
    "emergency.precision": 0.944,
    "scope.accuracy": 0.959,
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_authored_set_is_well_formed(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 320
    assert [r["id"] for r in rows] == [f"au-{i:03d}" for i in range(1, 321)]
    for r in rows:
        assert r["channel"] in {"telegram", "email", "portal"} and r["lang"] in {"ru", "en"}
        if r["kind"] == "other":
            assert (r["category"], r["urgency"], r["scope"]) == ("other", "low", "unit")
    hold = rows[TUNING:]
    assert {r["channel"] for r in hold} == {"telegram", "email", "portal"}
    assert {r["kind"] for r in hold} == {"complaint", "request", "inquiry", "other"}


@pytest.mark.parametrize(
    ("part", "measured"),
    [("hold-out", HOLDOUT_MEASURED), ("tuning", TUNING_MEASURED)],
)
def test_no_regression(rows: list[dict[str, Any]], part: str, measured: dict[str, float]) -> None:
    data = rows[TUNING:] if part == "hold-out" else rows[:TUNING]
    scores = headline(evaluate(Classifier.default(), data))
    low = {k: round(v, 3) for k, v in scores.items() if v < measured[k] - MARGIN - 1e-9}
    assert not low, f"{part} fell below the measured numbers minus {MARGIN}: {low}"
