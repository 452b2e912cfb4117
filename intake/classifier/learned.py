"""A word-count model beside the rules, for the department when the rules run out of words.

Rules name the words a dispatcher thinks of; residents use many more, and every blind set has
shown the same gap on category. The model's probabilities join the rule scores with the weight
of one rule, so it decides where no category rule fired and breaks near-ties, and never
overrules a rule that spoke clearly. A heavier blend won more on the authored sets but overruled
correct rules on the dev set, and scope gained too little to be worth it; ``README.md`` ("Rules
plus word counts") has the measurements.

It is a multinomial naive Bayes over the rules' own word families, each family counted once
per message. Its data file holds plain counts, so it trains in a second with no extra
dependency, and ``domovoy classify --train`` rebuilds it from labelled files and from the
cases staff have corrected.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.labels import Kind

MODEL_PATH = Path(__file__).resolve().parent / "data" / "word_counts.json"
AXES = ("category",)
ALPHA = 0.5  # additive smoothing; 0.25-1 measured within 0.01 of each other
BLEND = 1.0  # the model's whole vote weighs as much as one rule of weight 1
FORMAT = 1


@dataclass(frozen=True, slots=True)
class _Axis:
    labels: tuple[str, ...]
    prior_and_base: tuple[tuple[float, float], ...]  # per label: log prior, log P(unseen word)
    # Per word family, per label: log P(word|label) - log P(unseen word|label) (0 where it
    # was never seen with that label). Summing these columns is the whole per-message cost.
    lift: dict[str, tuple[float, ...]]


class WordModel:
    def __init__(self, counts: Mapping[str, Mapping[str, Any]]) -> None:
        self.counts = counts
        self._axes = {axis: _compile(data) for axis, data in counts.items()}

    @classmethod
    def train(cls, rows: Iterable[tuple[Mapping[str, str], Iterable[str]]]) -> WordModel:
        """``rows``: (gold labels, word family keys of the message). Messages of kind
        ``other`` carry no category or scope of their own and are skipped."""
        docs: dict[str, Counter[str]] = {axis: Counter() for axis in AXES}
        words: dict[str, defaultdict[str, Counter[str]]] = {
            axis: defaultdict(Counter) for axis in AXES}
        for labels, keys in rows:
            if labels.get("kind") == Kind.OTHER:
                continue
            unique = set(keys)
            for axis in AXES:
                label = labels.get(axis)
                if not label:
                    continue
                docs[axis][label] += 1
                for key in unique:
                    words[axis][key][label] += 1
        return cls({axis: {"docs": dict(sorted(docs[axis].items())),
                           "words": {k: dict(sorted(v.items()))
                                     for k, v in sorted(words[axis].items())}}
                    for axis in AXES})

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> WordModel | None:
        """The shipped model, or None when there is none (the rules then work alone)."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown word-model format {data.get('format')!r}; "
                             "rebuild it with `domovoy classify --train`")
        return cls(data["axes"])

    def save(self, path: Path = MODEL_PATH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"format": FORMAT, "axes": self.counts}, ensure_ascii=False,
                                   separators=(",", ":")) + "\n", encoding="utf-8")

    def probabilities(self, axis: str, keys: Iterable[str]) -> dict[str, float]:
        """P(label | words) on one axis; empty when the model does not cover the axis."""
        model = self._axes.get(axis)
        if model is None or not model.labels:
            return {}
        lift = model.lift
        rows = [row for row in map(lift.get, set(keys)) if row is not None]
        known = len(rows)
        sums = map(sum, zip(*rows, strict=True)) if rows else [0.0] * len(model.labels)
        scores = [s + prior + known * base
                  for s, (prior, base) in zip(sums, model.prior_and_base, strict=True)]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return {label: e / total for label, e in zip(model.labels, exp, strict=True)}


def _compile(data: Mapping[str, Any]) -> _Axis:
    docs: Mapping[str, int] = data["docs"]
    words: Mapping[str, Mapping[str, int]] = data["words"]
    labels = tuple(docs)
    index = {label: i for i, label in enumerate(labels)}
    vocab = len(words)
    mass = Counter[str]()
    for per_label in words.values():
        mass.update(per_label)
    n_docs = sum(docs.values())
    prior_and_base = tuple(
        (math.log(docs[label] / n_docs), math.log(ALPHA / (mass[label] + ALPHA * vocab)))
        for label in labels)
    lift = {}
    for key, per_label in words.items():
        row = [0.0] * len(labels)
        for label, n in per_label.items():
            if label in index:
                row[index[label]] = math.log((n + ALPHA) / ALPHA)
        lift[key] = tuple(row)
    return _Axis(labels, prior_and_base, lift)
