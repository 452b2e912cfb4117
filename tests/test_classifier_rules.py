"""Rule files are operator-edited data: mistakes must be caught at load, with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.classifier import Classifier, RulesError
from intake.classifier.engine import RULES_DIR

GOOD = """\
rules:
- id: category.plumbing.leak
  category: plumbing
  weight: 2
  any: [течет, "протек*", "leak*"]
- id: kind.complaint.repetition
  kind: complaint
  weight: 5
  any: [опять, "=again"]
"""


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_operator_file_loads_and_classifies(tmp_path: Path) -> None:
    clf = Classifier.from_paths([write(tmp_path, GOOD)])
    c = clf.classify("опять протекает кран")
    assert (c.kind, c.category) == ("complaint", "plumbing")
    assert c.rules == ("category.plumbing.leak", "kind.complaint.repetition")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (GOOD.replace("category: plumbing", "category: plumbin"), 3, "unknown category 'plumbin'"),
        (GOOD.replace("kind: complaint", "kind: grumble"), 7, "unknown kind 'grumble'"),
        (GOOD.replace("weight: 2", "weight: heavy"), 4, "weight"),
        (GOOD.replace("weight: 2", "wieght: 2"), 4, "unknown key 'wieght'"),
        (GOOD.replace('"leak*"', '"re:(unclosed"'), 5, "malformed regex"),
        (GOOD.replace('"протек*"', '"*"'), 5, ""),
        (GOOD.replace('"протек*"', '"п*"'), 5, "malformed prefix"),
        (GOOD.replace("any: [опять", 'any: [опять, ""'), 9, "empty pattern"),
        (
            GOOD.replace("id: kind.complaint.repetition", "id: category.plumbing.leak"),
            6,
            "duplicate rule id",
        ),
        (GOOD + "- id: x.y\n  any: [a]\n", 10, "votes for no label"),
        (GOOD + "- id: x.z\n  kind: other\n", 10, "no patterns"),
        (GOOD.replace("  weight: 5\n", "  weight: 5\n  any: [\n"), 9, "YAML"),
        ("rulez: []\n", 1, "unknown top-level key"),
        ("defaults:\n  urgency: {complaint: urgent}\n", 2, "unknown urgency 'urgent'"),
    ],
)
def test_bad_rules_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text, "ops.yaml")
    with pytest.raises(RulesError) as err:
        Classifier.from_paths([path])
    message = str(err.value)
    assert message.startswith(f"ops.yaml:{line}:"), message
    assert fragment in message
    assert isinstance(err.value, ValueError)


def test_missing_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"^nope\.yaml:1:"):
        Classifier.from_paths([tmp_path / "nope.yaml"])


def test_shipped_rules_load_and_are_documented() -> None:
    files = sorted(RULES_DIR.glob("*.yaml"))
    assert {f.name for f in files} >= {"kind.yaml", "category.yaml", "urgency.yaml", "scope.yaml"}
    for f in files:
        assert f.read_text(encoding="utf-8").startswith("#"), f"{f.name} lacks its header comment"
    clf = Classifier.default()
    ids = [r.id for r in clf.ruleset.rules]
    assert len(ids) == len(set(ids))
    # Rules are word families and cues, never whole sentences copied from messages.
    for rule in clf.ruleset.rules:
        for pattern in (*rule.any, *(p for g in rule.all for p in g), *rule.unless):
            assert len(pattern.terms) <= 4


def test_negation_is_per_rule(tmp_path: Path) -> None:
    text = GOOD + (
        "- id: category.safety.sparks\n  category: safety\n  urgency: emergency\n"
        "  negatable: true\n"
        "  any: [искрит, spark*]\n"
    )
    clf = Classifier.from_paths([write(tmp_path, text)])
    assert clf.classify("розетка искрит").urgency == "emergency"
    assert clf.classify("ничего не искрит").urgency != "emergency"
    assert clf.classify("not sparking at all").urgency != "emergency"
    assert clf.classify("не знаю что делать, искрит розетка").urgency == "emergency"
