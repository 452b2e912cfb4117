"""The fifth and sixth blind sets: written from shared/taxonomy.md alone by someone who read
nothing else, and never used for tuning rules or training the model (intake/classifier/README.md
tells how often each was scored). These tests only guard the aggregate numbers measured with the
shipped classifier against regressions: nothing here looks at a single message, and nobody
should tune against them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.classifier import Classifier
from intake.classifier.evaluate import evaluate, headline

DATA = Path(__file__).parent / "data"
MARGIN = 0.03
MEASURED = {
    "blind5": {"kind.macro_f1": 0.891, "complaint.recall": 0.974, "complaint.precision": 0.927,
               "category.accuracy": 0.891, "urgency.macro_f1": 0.854, "emergency.recall": 0.957,
               "emergency.precision": 0.759, "scope.accuracy": 0.923},
    "blind6": {"kind.macro_f1": 0.815, "complaint.recall": 0.97, "complaint.precision": 0.78,
               "category.accuracy": 0.881, "urgency.macro_f1": 0.834, "emergency.recall": 0.9,
               "emergency.precision": 0.75, "scope.accuracy": 0.935},
}


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_blind_set_holds_its_measured_quality(name: str) -> None:
    path = DATA / f"messages-{name}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) == 200 and len({r["id"] for r in rows}) == 200
    scores = headline(evaluate(Classifier.default(), rows))
    low = {k: round(v, 3) for k, v in scores.items() if v < MEASURED[name][k] - MARGIN - 1e-9}
    assert not low, f"{name} fell below the measured numbers minus {MARGIN}: {low}"
