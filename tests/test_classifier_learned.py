"""The word model beside the rules: it fills in where the rules are silent, never more."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.classifier import Classifier
from intake.classifier.learned import WordModel

TRAINING = [
    ("category", "territory", "Во дворе погнули турник и брусья"),
    ("category", "territory", "Батут на площадке порвался, турник шатается"),
    ("category", "plumbing", "Течёт кран в ванной, капает вода"),
    ("category", "plumbing", "Под раковиной капает вода из трубы"),
]


@pytest.fixture(scope="module")
def rules() -> Classifier:
    return Classifier.default()


@pytest.fixture(scope="module")
def model(rules: Classifier) -> WordModel:
    return WordModel.train(({"kind": "request", "category": label, "scope": "unit"},
                            rules.family_keys(text)) for _, label, text in TRAINING)


def test_probabilities_follow_the_words(model: WordModel, rules: Classifier) -> None:
    p = model.probabilities("category", rules.family_keys("турник у брусьев"))
    assert max(p, key=p.__getitem__) == "territory"
    assert sum(p.values()) == pytest.approx(1.0)
    assert model.probabilities("scope", ["площадк"]) == {}  # an axis it was not trained on


def test_unknown_words_leave_the_prior(model: WordModel) -> None:
    p = model.probabilities("category", ["абракадабр"])
    assert p == pytest.approx({"territory": 0.5, "plumbing": 0.5})


def test_model_decides_only_where_rules_are_silent(model: WordModel, rules: Classifier) -> None:
    silent = "Прошу починить турник и брусья"  # no category rule knows these words
    alone = rules.with_model(None).classify(silent)
    assert alone.category == "other" and "model.category" not in alone.rules
    helped = rules.with_model(model).classify(silent)
    assert helped.category == "territory"
    assert "model.category" in helped.rules  # staff can see the model made the call
    # A clear rule is not overruled, whatever the model has seen.
    gas = rules.with_model(model).classify("Пахнет газом на кухне у плиты, капает вода")
    assert gas.category == "safety" and gas.urgency == "emergency"


def test_kind_other_stays_other(model: WordModel, rules: Classifier) -> None:
    thanks = rules.with_model(model).classify("Спасибо за новый турник!")
    assert (thanks.kind, thanks.category) == ("other", "other")


def test_model_file_round_trips_and_a_foreign_format_is_named(
        model: WordModel, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model.save(path)
    loaded = WordModel.load(path)
    assert loaded is not None and loaded.counts == model.counts
    path.write_text(json.dumps({"format": 99, "axes": {}}), "utf-8")
    with pytest.raises(ValueError, match=r"m\.json.*format 99.*--train"):
        WordModel.load(path)
    assert WordModel.load(tmp_path / "absent.json") is None


def test_shipped_classifier_carries_the_shipped_model() -> None:
    assert Classifier.default().model is not None
