"""Rule files are operator-edited data: mistakes must be caught at load, with file and line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from intake.classifier import Classifier, RulesError
from intake.classifier.engine import RULES_DIR, _fragments, _needles
from intake.classifier.rules import Pattern
from intake.classifier.tokens import normalise, split

S = TypeVar("S")

DATA = Path(__file__).parent / "data"

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
        (GOOD.replace("  weight: 2\n", "  weight: 2\n  unless_over: [спасибо]\n"), 5,
         "unless_over needs a rearm"),
        ("rulez: []\n", 1, "unknown top-level key"),
        ("defaults:\n  urgency: {complaint: urgent}\n", 2, "unknown urgency 'urgent'"),
        ("defaults:\n  grievance_categories: [noise, neighbours]\n", 2,
         "unknown category 'neighbours'"),
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


def test_an_exception_for_a_job_done_yields_to_the_alarm_told_now(tmp_path: Path) -> None:
    rules = GOOD.replace('  any: [течет, "протек*", "leak*"]\n',
                         '  any: [течет, "протек*", "leak*"]\n  negatable: true\n'
                         '  unless_over: [починил*]\n  rearm: ["=течет"]\n')
    clf = Classifier.from_paths([write(tmp_path, rules)])
    assert clf.classify("Вчера протекало, починили").category != "plumbing"
    assert clf.classify("Кран починили, а сейчас опять течет").category == "plumbing"
    assert clf.classify("Починили, больше не течет, но протекало сильно").category != "plumbing"


SHARED = """\
lists:
  past: [вчера, "yesterday", 're:\\bв \\d{4} году\\b']
"""


def test_a_named_list_serves_rules_in_another_file(tmp_path: Path) -> None:
    """An operator writes "a leak told as past" once and uses it from any file (YAML anchors
    stop at the end of their file)."""
    rules = GOOD.replace('  any: [течет, "протек*", "leak*"]\n',
                         '  any: [течет, "протек*", "leak*"]\n  unless: [ремонт, "list:past"]\n')
    clf = Classifier.from_paths([write(tmp_path, SHARED, "a.yaml"),
                                 write(tmp_path, rules, "b.yaml")])
    assert clf.classify("Протекает кран на кухне").category == "plumbing"
    for told in ("Вчера протекал кран", "It was leaking yesterday", "В 2019 году протекал кран",
                 "После ремонта протекает"):
        assert clf.classify(told).category != "plumbing", told


@pytest.mark.parametrize(
    ("files", "where", "fragment"),
    [
        ({"b.yaml": GOOD.replace("any: [опять", 'any: ["list:pats", опять')},
         "b.yaml:9:", "unknown list 'pats' (lists: none defined)"),
        ({"a.yaml": SHARED, "b.yaml": GOOD.replace("any: [опять", 'any: ["list:pats", опять')},
         "b.yaml:9:", "unknown list 'pats' (lists: past)"),
        ({"a.yaml": SHARED, "b.yaml": SHARED}, "b.yaml:2:",
         "duplicate list 'past' (first at a.yaml:2)"),
        ({"a.yaml": "lists:\n  past: [вчера, 'list:past']\n"}, "a.yaml:2:",
         "a list cannot name another list"),
        ({"a.yaml": "lists:\n  Past.Days: [вчера]\n"}, "a.yaml:2:", "bad list name"),
        ({"a.yaml": "lists:\n  past: []\n"}, "a.yaml:2:", "list 'past' is empty"),
        ({"a.yaml": "lists: [вчера]\n"}, "a.yaml:1:", "lists: is a mapping"),
    ],
)
def test_bad_named_lists_name_file_and_line(
    tmp_path: Path, files: dict[str, str], where: str, fragment: str
) -> None:
    paths = [write(tmp_path, text, name) for name, text in files.items()]
    with pytest.raises(RulesError) as err:
        Classifier.from_paths(paths)
    assert str(err.value).startswith(where), err.value
    assert fragment in str(err.value), err.value


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


def test_a_shared_list_can_be_extended_per_rule(tmp_path: Path) -> None:
    """An alias inside a list stands for the aliased list's items."""
    text = GOOD + (
        "- id: kind.other.thanks\n  kind: other\n  weight: 3\n  any: [спасибо]\n"
        "  unless: &more [прошу]\n"
        "- id: kind.other.praise\n  kind: other\n  weight: 3\n  any: [молодцы]\n"
        "  unless: [=заранее, *more]\n"
    )
    clf = Classifier.from_paths([write(tmp_path, text)])
    assert [r.id for r in clf.fired("молодцы, спасибо")] == ["kind.other.thanks",
                                                              "kind.other.praise"]
    assert clf.fired("молодцы, прошу ещё раз") == []
    assert clf.fired("молодцы заранее") == []


def test_an_extended_list_can_be_shared_again(tmp_path: Path) -> None:
    """A list that extends a shared one can itself be named and shared (one rule adds words
    of its own after it, another takes it as is)."""
    text = GOOD + (
        "- id: kind.other.thanks\n  kind: other\n  weight: 3\n  any: [спасибо]\n"
        "  unless: &base [прошу]\n"
        "- id: kind.other.praise\n  kind: other\n  weight: 3\n  any: [молодцы]\n"
        "  unless: [&wider [*base, =заранее], =но]\n"
        "- id: kind.other.resolved\n  kind: other\n  weight: 3\n  any: [починили]\n"
        "  unless: [*wider]\n"
    )
    clf = Classifier.from_paths([write(tmp_path, text)])
    assert clf.fired("молодцы, но") == []
    assert [r.id for r in clf.fired("починили, но")] == ["kind.other.resolved"]
    assert clf.fired("починили, заранее") == clf.fired("починили, прошу") == []


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


def test_regexes_decide_their_part_like_words(tmp_path: Path) -> None:
    text = r"""
rules:
- id: kind.complaint.duration
  kind: complaint
  any: ['re:(?<![а-я])уже (\d+|два|три) (дн|недел)']
- id: category.heating.cold_flat
  category: heating
  all: [[батаре*], ['re:(?<![\d.])1[0-7] ?градус', холодн*]]
  unless: ['re:(?<![а-я])летом']
- id: urgency.emergency.flood
  urgency: emergency
  any: [заливает, 're:(?<![а-я])потоп']
  unless: ['re:(?<![а-я])вчера']
- id: urgency.emergency.sos
  urgency: emergency
  # no fragment a match must contain can be told from this one: it is tried on every message
  any: ['re:(?i)\bs\W?o\W?s\b']
"""
    clf = Classifier.from_paths([write(tmp_path, text)])

    def fired(message: str) -> tuple[str, ...]:
        return clf.classify(message).rules

    assert fired("батареи еле теплые, 14 градусов") == ("category.heating.cold_flat",)
    assert fired("батареи холодные") == ("category.heating.cold_flat",)
    assert fired("батареи, 14 градусов, но это летом") == ()
    assert fired("в квартире 14 градусов") == ()
    assert fired("уже три дня заливает") == (
        "kind.complaint.duration",
        "urgency.emergency.flood",
    )
    assert fired("потоп в ванной") == ("urgency.emergency.flood",)
    assert fired("вчера был потоп, заливает соседей") == ()
    assert fired("s.o.s. застряли") == ("urgency.emergency.sos",)


def test_a_sentence_bound_exception_stands_down_only_its_own_sentence(tmp_path: Path) -> None:
    """``unless_here`` vetoes a rule only in the sentences it is said in: the rule still fires
    from another sentence that holds all its patterns, while ``unless`` silences the message."""
    text = """\
rules:
- id: urgency.emergency.flood_again
  urgency: emergency
  all: [[хлещет, затопило], [сейчас, опять]]
  unless: [сухо]
  unless_here: [вчера, "=yesterday"]
"""
    clf = Classifier.from_paths([write(tmp_path, text)])

    def alarm(message: str) -> bool:
        return clf.classify(message).rules == ("urgency.emergency.flood_again",)

    assert alarm("Вчера затопило, мастер всё сделал. Но сейчас опять хлещет из трубы!")
    assert alarm("сейчас опять хлещет")
    assert not alarm("Вчера опять затопило, сейчас мастер всё сделал.")
    # the rule's patterns must stand together in one clean sentence
    assert not alarm("Вчера затопило. Сейчас опять пишу вам.")
    # an abbreviation's full stop does not end the sentence ("кв. 5" keeps "вчера" in it)
    assert not alarm("Вчера в кв. 5 опять затопило")
    assert not alarm("Вчера затопило. Сейчас опять хлещет, но уже сухо")


@pytest.mark.parametrize(
    ("pattern", "needles"),
    [
        (r"(?<![а-я])в (\d+|дв|тр)\w* раз\b", (" раз",)),
        (r"\b(?!здравств)[а-я]{2,}(ите|йте|ьте)\b", ("ите", "йте", "ьте")),
        (r"(?<!\d)(9|1\d)\s?(этаж|эт\b|floor)", ("floor", "эт")),  # "эт" screens "этаж" too
        (r"\b(?>жалоб)+\w* (от|№)", ("жалоб",)),
        (r"уже (\d+) раз", ()),  # starts with a literal: re finds it fast on its own
        (r"(?i)\bраз\b", ()),
        (r"\b(уже )?\d+ ?(р|руб)", ()),  # single characters screen too little
        (r"\b(уже )?\d+", ()),  # nothing has to be there
        (r"\b(январ|феврал|март|апрел|мая|июн|июл|август|сентябр)", ()),  # too many to pay
        (r"\b(а)\1 (?(1)да|нет)", ()),
    ],
)
def test_regex_screen(pattern: str, needles: tuple[str, ...]) -> None:
    assert _needles(re.compile(pattern)) == needles


def _labelled_texts() -> list[str]:
    """Every labelled message, normalised as the classifier searches it."""
    return [
        normalise(f"{row.get('subject') or ''}.\n{row.get('text') or ''}")
        for path in sorted(DATA.glob("messages-*.jsonl"))
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    ]


def _rule_regexes() -> Iterator[Pattern]:
    for rule in Classifier.default().ruleset.rules:
        for pattern in (*rule.any, *(p for g in rule.all for p in g), *rule.unless):
            if pattern.regex is not None:
                yield pattern


def _screens_keep_matches(screen_of: Callable[[re.Pattern[str]], S],
                          lets_through: Callable[[S, str], bool], texts: list[str]) -> int:
    """Check that no text a shipped regex matches is turned away by its screen; returns how
    many regexes have a screen at all."""
    screened = 0
    for pattern in _rule_regexes():
        assert pattern.regex is not None
        if not (screen := screen_of(pattern.regex)):
            continue
        screened += 1
        for text in texts:
            if pattern.regex.search(text):
                assert lets_through(screen, text), (pattern.source, text)
    return screened


def test_regex_screen_never_hides_a_match() -> None:
    screened = _screens_keep_matches(
        _needles, lambda needles, text: any(n in text for n in needles), _labelled_texts())
    assert screened >= 10  # the shipped rules do get screened


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
def test_word_fragment_screen(pattern: str, fragments: list[set[str]]) -> None:
    assert _fragments(re.compile(pattern)) == [frozenset(f) for f in fragments]


def test_word_fragment_screen_never_hides_a_match() -> None:
    """A regex is skipped when a message's words lack one of its fragments: that may only
    happen when it cannot match."""
    extra = [normalise(t) for t in ("Сделайте_что-нибудь", "уже 3-й раз", "в 5 раз", "+12°")]

    def words_carry(screens: list[frozenset[str]], text: str) -> bool:
        words = split(text)[0]
        return all(any(f in w for f in screen for w in words) for screen in screens)

    screened = _screens_keep_matches(_fragments, words_carry, _labelled_texts() + extra)
    assert screened >= 30
