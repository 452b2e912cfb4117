"""The learned model beside the rules: it fills in where the rules are unsure, never more."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from intake.classifier import Classifier
from intake.classifier.learned import LearnedModel

TRAINING = [
    ("territory", "building", "Во дворе погнули турник и брусья"),
    ("territory", "building", "Батут на площадке порвался, турник шатается"),
    ("plumbing", "unit", "Течёт кран в ванной, капает вода"),
    ("plumbing", "unit", "Под раковиной капает вода из трубы"),
]


@pytest.fixture(scope="module")
def rules() -> Classifier:
    return Classifier.default().with_model(None)


@pytest.fixture(scope="module")
def model(rules: Classifier) -> LearnedModel:
    return LearnedModel.train(({"kind": "request", "category": category, "scope": scope},
                               rules.features(text)) for category, scope, text in TRAINING)


def test_probabilities_follow_the_words(model: LearnedModel, rules: Classifier) -> None:
    p = model.probabilities("category", Counter(rules.features("турник у брусьев")))
    assert max(p, key=p.__getitem__) == "territory"
    assert sum(p.values()) == pytest.approx(1.0)
    assert model.probabilities("urgency", Counter(["турник"])) == {}  # not a learned axis


def test_unknown_words_leave_the_classes_even(model: LearnedModel) -> None:
    p = model.probabilities("category", Counter(["абракадабр"]))
    assert p["territory"] == pytest.approx(p["plumbing"], abs=0.1)


def test_model_decides_only_where_rules_are_unsure(model: LearnedModel,
                                                   rules: Classifier) -> None:
    silent = "Прошу починить турник и брусья"  # no category rule knows these words
    alone = rules.classify(silent)
    assert alone.category == "other" and "model.category" not in alone.rules
    helped = rules.with_model(model).classify(silent)
    assert helped.category == "territory"
    assert "model.category" in helped.rules  # staff can see the model made the call
    # A clear rule is not overruled, whatever the model has seen.
    gas = rules.with_model(model).classify("Пахнет газом на кухне у плиты, капает вода")
    assert gas.category == "safety" and gas.urgency == "emergency"


def test_kind_other_stays_other(model: LearnedModel, rules: Classifier) -> None:
    thanks = rules.with_model(model).classify("Спасибо за новый турник!")
    assert (thanks.kind, thanks.category) == ("other", "other")


def test_model_settles_kind_where_the_rules_are_unsure(rules: Classifier) -> None:
    # No rule knows that "бездельничает" blames the office: the words of past complaints do.
    heard = [("complaint", "Кран течёт, управляйка бездельничает"),
             ("complaint", "Лифт стоит, управляйка бездельничает"),
             ("request", "Кран течёт на кухне"), ("request", "Лифт стоит на пятом этаже"),
             ("other", "Спасибо за кран"), ("other", "Спасибо, лифт пошёл")]
    model = LearnedModel.train(({"kind": kind, "category": "other", "scope": "unit"},
                                rules.features(text)) for kind, text in heard)
    assert set(model.axes or ()) == {"kind"}  # one category and one scope: nothing to learn
    both = rules.with_model(model)
    text = "Батарея холодная, управляйка бездельничает"
    assert rules.classify(text).kind == "request"
    helped = both.classify(text)
    assert helped.kind == "complaint" and "model.kind" in helped.rules
    # The model never calls a fault report "other" on its own (no case would open), nor turns
    # a message no rule heard anything in into a case.
    assert both.classify("Кран").kind == "request"
    assert both.classify("🙂🙂").kind == "other"
    assert both.classify("Спасибо, кран").kind == "other"


def test_training_is_repeatable_and_the_file_round_trips(
        model: LearnedModel, rules: Classifier, tmp_path: Path) -> None:
    again = LearnedModel.train(({"kind": "request", "category": c, "scope": s},
                                rules.features(t)) for c, s, t in TRAINING)
    assert again.axes == model.axes
    path = tmp_path / "m.json"
    model.save(path)
    # The numbers are stored as float32 arrays, and read back as training wrote them.
    assert isinstance(json.loads(path.read_text("utf-8"))["axes"]["category"]["weights"], str)
    assert LearnedModel.source(path) == model.axes
    loaded = LearnedModel.load(path)
    assert loaded is not None
    counts = Counter(rules.features("турник во дворе, капает кран"))
    for axis in ("category", "scope"):
        assert loaded.probabilities(axis, counts) == pytest.approx(
            model.probabilities(axis, counts), abs=1e-3)  # the file keeps 4 decimals
    path.write_text(json.dumps({"format": 99, "axes": {}}), "utf-8")
    with pytest.raises(ValueError, match=r"m\.json.*format 99.*--train"):
        LearnedModel.load(path)
    assert LearnedModel.load(tmp_path / "absent.json") is None


def test_averaging_keeps_part_of_what_the_current_model_knew(
        model: LearnedModel, rules: Classifier) -> None:
    """Retrained on new files alone, the model would forget what the current one learned from
    data no longer at hand; averaged in, it keeps the given share of the say."""
    swapped = LearnedModel.train(
        ({"kind": "request", "category": "plumbing" if c == "territory" else "territory",
          "scope": s}, rules.features(t)) for c, s, t in TRAINING)
    assert model.axes is not None
    counts = Counter(rules.features("турник шатается"))

    def territory(m: LearnedModel) -> float:
        return m.probabilities("category", counts)["territory"]

    assert territory(model) > 0.7 and territory(swapped) < 0.3
    assert territory(swapped.averaged(model.axes, 0.0)) == pytest.approx(territory(swapped))
    assert territory(swapped.averaged(model.axes, 1.0)) == pytest.approx(territory(model))
    assert territory(swapped.averaged(model.axes, 0.5)) == pytest.approx(0.5, abs=0.01)
    assert territory(swapped) < territory(swapped.averaged(model.axes, 0.3)) < 0.5
    with pytest.raises(ValueError, match="between 0 and 1"):
        swapped.averaged(model.axes, 1.5)


def test_shipped_classifier_carries_the_shipped_model() -> None:
    assert Classifier.default().model is not None


def test_packed_rows_give_the_textbook_scores(model: LearnedModel, rules: Classifier) -> None:
    """The model sums a message's rows as packed integers; the result must be the plain TF-IDF
    logistic regression, negative weights and repeated words included."""
    import math

    counts = Counter(rules.features("турник турник турник, брусья и кран во дворе, кран течёт"))
    assert max(counts.values()) > 1
    assert model.axes is not None
    for axis in ("category", "scope"):
        data = model.axes[axis]
        vec = {f: (1 + math.log(c)) * data["idf"][f] for f, c in counts.items()
               if f in data["idf"]}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        scores = [b + sum(v * data["weights"][f][k] for f, v in vec.items()) / norm
                  for k, b in enumerate(data["bias"])]
        exp = [math.exp(s - max(scores)) for s in scores]
        expected = {label: e / sum(exp) for label, e in zip(data["labels"], exp, strict=True)}
        assert model.probabilities(axis, counts) == pytest.approx(expected, abs=1e-6)
        assert any(w < 0 for ws in data["weights"].values() for w in ws)


def test_a_weight_too_large_to_pack_is_refused_at_load() -> None:
    axis = {"labels": ["a", "b"], "bias": [0.0, 0.0], "idf": {"x": 1.0},
            "weights": {"x": [5000.0, 0.0]}}
    with pytest.raises(ValueError, match="out of range; retrain"):
        LearnedModel({"category": axis})


def test_the_model_raises_an_alarm_the_rules_missed_and_never_lowers_one(
        rules: Classifier) -> None:
    """Urgency stays the rules' own, but where no urgency rule spoke a model sure of an
    emergency raises one: emergencies come in more wordings than rules can name."""
    word = rules.features("булькает")[0]

    def urgency_model(emergency: float) -> LearnedModel:
        """A model that hears one word, and in it an emergency (or calm, if negative)."""
        return LearnedModel({"urgency": {"labels": ["emergency", "normal"], "bias": [0.0, 0.0],
                                         "idf": {word: 1.0},
                                         "weights": {word: [emergency, -emergency]}}})

    both = rules.with_model(urgency_model(8.0))
    text = "в подвале у трубы булькает"
    assert rules.classify(text).urgency == "normal"
    raised = both.classify(text)
    assert raised.urgency == "emergency" and "model.urgency" in raised.rules
    # A rule that judged the situation ("не срочно") or stood its own alarm down (pieces on
    # one's own balcony) keeps the say; the model never turns a rule's alarm off.
    assert both.classify("не срочно: в подвале у трубы булькает").urgency == "low"
    assert both.classify("на мой балкон с плиты сверху сыплются куски бетона, "
                         "булькает").urgency == "normal"
    # An outage rule's `high` is no verdict that nothing worse is going on: the net still
    # listens (water off in the house, and something bubbling in the basement).
    outage = "нет холодной воды с утра, в подвале у трубы булькает"
    assert rules.classify(outage).urgency == "high"
    assert both.classify(outage).urgency == "emergency"
    calm = rules.with_model(urgency_model(-8.0))
    assert calm.classify("в подъезде пахнет газом, булькает").urgency == "emergency"


def test_the_model_settles_urgency_below_an_alarm_and_never_makes_one_by_blending(
        rules: Classifier) -> None:
    """Among high, normal and low the model settles what no rule decided; it cannot call a
    report `low` on its own, and a leaning towards an emergency short of the net's certainty
    raises none."""
    word = rules.features("булькает")[0]

    def leaning(label: str, weight: float) -> Classifier:
        labels = ["emergency", "high", "normal", "low"]
        return rules.with_model(LearnedModel({"urgency": {
            "labels": labels, "bias": [0.0] * 4, "idf": {word: 1.0},
            "weights": {word: [weight if name == label else 0.0 for name in labels]}}}))

    text = "в подвале у трубы булькает"
    assert rules.classify(text).urgency == "normal"
    high = leaning("high", 8.0).classify(text)
    assert high.urgency == "high" and "model.urgency" in high.rules
    assert leaning("low", 8.0).classify(text).urgency == "normal"
    # P(emergency) about 0.75: the blend would pick it, the net (0.85) does not.
    assert leaning("emergency", 2.2).classify(text).urgency == "normal"
    # An inquiry's default is low, and the model may keep it there or raise it.
    assert leaning("low", 8.0).classify("подскажите, в подвале у трубы булькает?").urgency == "low"
