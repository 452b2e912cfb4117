"""Regexes are screened by word fragments found in a message's words (engine._fragments): a
screen may only ever skip a regex that cannot match."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from intake.classifier import Classifier
from intake.classifier.engine import _fragments
from intake.classifier.tokens import normalise, split

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("pattern", "fragments"),
    [
        # Runs are cut at spaces; ``re`` itself factors "видно|видел" into "вид(но|ел)".
        (r"(\d|несколько) (\w+ )?не (видно|видел)", [{"не"}, {"вид"}]),
        (r"(на протяжении|в течение) (\d+|двух)", [{"протяжении", "течение"}]),
        (r"\b(?!здравств)[а-я]{2,}(ите|йте|ьте)\b", [{"ите", "йте", "ьте"}]),
        (r"(\+\s?1[0-7]\b|(?<![\d.,-])1[0-7] ?(градус|°|degrees))", [{"1"}]),
        (r"(?i:раз)дв", [{"дв"}]),  # case-blind parts require nothing
        (r"(?i)раз", []),
        (r"\d+\s*°", []),
    ],
)
def test_fragments(pattern: str, fragments: list[set[str]]) -> None:
    assert _fragments(re.compile(pattern)) == [frozenset(f) for f in fragments]


def test_fragments_never_hide_a_match() -> None:
    texts = [
        normalise(f"{row.get('subject') or ''}.\n{row.get('text') or ''}")
        for path in sorted(DATA.glob("messages-*.jsonl"))
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    ]
    texts += [normalise(t) for t in ("Сделайте_что-нибудь", "уже 3-й раз", "в 5 раз", "+12°")]
    screened = 0
    for rule in Classifier.default().ruleset.rules:
        for pattern in (*rule.any, *(p for g in rule.all for p in g), *rule.unless):
            if pattern.regex is None or not (screens := _fragments(pattern.regex)):
                continue
            screened += 1
            for text in texts:
                if pattern.regex.search(text):
                    words = split(text)[0]
                    for screen in screens:
                        assert any(f in w for f in screen for w in words), (pattern.source, text)
    assert screened >= 30
