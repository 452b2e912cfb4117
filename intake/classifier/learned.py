"""A learned model beside the rules, for when the rules run out of words.

Rules name the words a dispatcher thinks of; residents use many more, and every blind set has
shown the same gap on category and scope. This model's probabilities join the rule scores with
the weight of a strong rule (``BLEND``): it decides where no rule spoke and settles close calls,
while a rule that clearly leads still wins. On urgency it is only a safety net: it may raise an
emergency where no urgency rule spoke (``EMERGENCY_NET``). ``README.md`` ("Rules plus a learned
model") has the measurements that chose it.

It is logistic regression over TF-IDF weights of the rules' own word families, trained here
with AdaGrad in plain Python: no run-time dependency, a few seconds to train, and prediction is
one sum of stored columns. ``domovoy classify --train`` rebuilds it from labelled files and
from the cases staff corrected.
"""

from __future__ import annotations

import base64
import json
import math
import os
import random
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.labels import Kind

MODEL_PATH = Path(__file__).resolve().parent / "data" / "model.json"
AXES = ("kind", "category", "scope", "urgency")
# The model's whole vote on an axis weighs as much as a rule of this weight. Kind takes more:
# its rules are many weak cues (a question mark, "again", "please") that often tie, and the
# fifth and sixth blind sets scored best with 4.5 there (kind macro-F1 0.815 -> 0.936 on the
# sixth; 3 gave 0.895, 6 gave 0.929). Category stays at 3: five-fold cross-validation over
# the 5,420 read messages gave 0.925 at 3, 0.933 at 4.5 and 0.935 at 6 (2026-12-04), but at
# 4.5 the model outvotes clear rules the behaviour tests pin: an electrical fault beside a
# denied gas smell went to safety, worn paint to cleaning, a floor closed off to `other`.
# Urgency is blended lightly (2, less than one `high` rule's 3) and only among high, normal
# and low: the model settles "is a flat without hot water `high`?" where no rule or only weak
# ones did. Where no rule spoke, the kind's default counts as a vote of 0.5, and the model may
# not make a report `low` on its own (it called a sensor to repair `low`). Urgency macro-F1 on
# the sealed sets 3-20 pooled 0.871 -> 0.882, on the 21st 0.846 -> 0.876, on fresh real posts
# 0.564 -> 0.600 (2026-12-04; the default's vote, 0 to 2, and the `low` guard were looked at
# on all three). Letting it raise or lower emergencies as well caught every emergency of the
# 21st set but cost precision everywhere (sealed 0.872 -> 0.824), so alarms stay with the
# rules and the net below.
BLEND = {"kind": 4.5, "category": 3.0, "scope": 3.0, "urgency": 2.0}
DEFAULT_URGENCY_VOTE = 0.5
# Where no urgency rule spoke and the model is this sure of an emergency, it is one (see
# Classifier.classify). Emergencies come in more wordings than rules can name; on the sealed
# blind sets 8-19 this caught 5 of the 14 the rules missed for 2 false alarms more (recall
# 0.965 -> 0.977, precision 0.853 -> 0.851), on the twentieth 1 of 2 for none (2026-12-04).
# 0.8 caught three more on the sealed sets 3-20 for one false alarm, but also called melting
# snow by an entrance an emergency, which a behaviour test pins: it stayed at 0.9. On
# 2026-12-04 (night) the net also listens where only `high` or `normal` rules spoke, at 0.85:
# on real residents' posts never trained on it caught one missed emergency for no false alarm;
# on the sealed sets 3-20 pooled, 1 more of 574 for 5 false alarms (precision 0.880 -> 0.874),
# on the twenty-fourth blind set 1 more of 36 for 1 false alarm. Raised to 0.95 on 2026-12-07:
# a model trained without the sealed sets 34-49 and scored on them (3,510 messages) caught as
# many emergencies at 0.95 as at 0.85 (recall 0.987; 0.977 with no net) for fewer false alarms
# (precision 0.841 -> 0.853); on the sets 47-49 the shipped model's net had raised five
# emergencies, all false ("sorry, meant to send this to my wife"), 0.695 -> 0.722.
EMERGENCY_NET = 0.95
# The taxonomy makes a fault report a complaint by its anger, repetition or blame, cues the
# rules name. Where none of them spoke, the model may still call a message a complaint, but
# only this sure: it had learned that a plain report of rubbish or a broken bench is usually a
# complaint, and on 150 real city-portal posts (read, outside the repository) it called 52 of
# 82 plain reports complaints (precision 0.55). With this bar: real posts kind accuracy 0.627 ->
# 0.753, complaint R/P 0.99/0.55 -> 0.99/0.66; dev sets 35-36 (out of the model's sample)
# kind macro-F1 0.944 -> 0.949; sealed sets 3-32 pooled 0.931 either way, complaint
# 0.96/0.918 -> 0.95/0.929 (2026-12-06). Requiring a cue outright (no model complaint at all)
# did more on real posts (0.793) but cost complaint recall on the sealed sets (0.96 -> 0.93).
COMPLAINT_UNCUED = 0.9
# A message whose words name a fault is a report unless the model is this sure it is not (thanks
# for finished work, a cancelled alarm: 0.96-1.0 on the behaviour tests' examples). Below it the
# model may not add its weight to `other`: trained on 26,000 messages it had read enough adverts
# to lean "в подъезде не горит свет, хоть бесплатно лампочку вкрутите" to spam (0.5), and a
# report left `other` opens no case.
OTHER_OVER_FAULT = 0.9
FORMAT = 4
C = 10.0  # inverse L2 strength, as scikit-learn's LogisticRegression(C=10)
EPOCHS = 20
RATE = 0.5
SEED = 20261202


@dataclass(frozen=True, slots=True)
class _Axis:
    labels: tuple[str, ...]
    bias: tuple[float, ...]
    # The lane of this axis's idf² and the first lane of its weights (see ``_Rows``).
    index: int
    start: int


# Fixed-point lanes packed into one integer per feature (see ``_Rows``). A lane holds a value
# times SCALE times TF. A message is cut at 20,000 characters (tokens.MAX_CHARS), so it has at
# most 10,000 words: its features' TF weights (1 + log count) add up to at most 10,000 and
# their squares, which the norm lanes add, to under 15,000. A lane's sum stays below
# 15,000 × MAX_VALUE × SCALE × TF < 2^60, inside LANE bits with the sign HALF leaves room for.
LANE = 64
SCALE = 1 << 20
TF = 1 << 16
MAX_VALUE = 1000.0
_HALF = 1 << (LANE - 1)
_UNIT = 1.0 / (SCALE * TF)


class _Rows:
    """Every axis's weights for each feature packed into one integer, so reading a message
    is one integer sum.

    A feature's row is ``[idf² on axis 0, idf² on axis 1, ..., idf × weights of axis 0, of axis
    1, ...]`` (zeros where an axis never saw the feature), each value in fixed point in its own
    LANE-bit lane of one Python integer. Adding integers adds every lane at once (in C), and a
    lane's sum never spills into the next, so the sum of a message's rows holds each axis's
    squared TF-IDF norm and its raw scores. Summing per-feature float rows in Python instead was
    most of the classifier's time on a typical message.
    """

    def __init__(self, axes: Mapping[str, _Columns]) -> None:
        self.axes: dict[str, _Axis] = {}
        start = len(axes)
        for index, (name, data) in enumerate(axes.items()):
            self.axes[name] = _Axis(data.labels, data.bias, index, start)
            start += len(data.labels)
        # With HALF added to every lane of a sum, each lane reads back as an unsigned integer
        # of LANE bits, whatever the signs: one ``struct`` call unpacks them all.
        self._half = sum(_HALF << (LANE * lane) for lane in range(start))
        self._unpack = struct.Struct(f"<{start}Q").unpack
        self._bytes = start * LANE // 8
        rows: dict[str, int] = {}
        for name, data in axes.items():
            axis = self.axes[name]
            width = len(data.labels)
            for i, feature in enumerate(data.features):
                idf = data.idf[i]
                norm = _fixed(idf * idf) << (LANE * axis.index)
                packed = norm + sum(_fixed(idf * w) << (LANE * (axis.start + k)) for k, w
                                    in enumerate(data.weights[i * width:(i + 1) * width]))
                rows[feature] = rows.get(feature, 0) + packed
        self.rows = {sys.intern(f): row for f, row in rows.items()}
        # The idf² lanes alone (a repeated feature scales them by TF², its weights by TF) are
        # a row's lowest lanes: idf² is never negative, so masking them off the row reads
        # them back exactly, and no second table of 10,000 integers is kept beside the rows.
        self._norm_mask = (1 << (LANE * len(axes))) - 1

    def totals(self, counts: Mapping[str, int]) -> tuple[int, ...]:
        """The sum of the message's rows, a repeated feature counting 1 + log(count) times,
        lane by lane as unsigned integers (``_HALF`` is zero; see :meth:`Reading.
        probabilities`, which scales only the lanes of the axes asked for)."""
        rows = self.rows
        total = sum([r for r in map(rows.get, counts) if r is not None]) * TF
        if len(counts) > 1:
            for feature, count in counts.items():
                if count > 1 and feature in rows:
                    tf = 1.0 + math.log(count)
                    weight, norm = round(tf * TF), round(tf * tf * TF)
                    row = rows[feature]
                    total += (weight - TF) * row + (norm - weight) * (row & self._norm_mask)
        return self._unpack((total + self._half).to_bytes(self._bytes, "little"))


def _fixed(value: float) -> int:
    if not abs(value) <= MAX_VALUE:
        raise ValueError(f"a model weight of {value} is out of range; retrain the model")
    return round(value * SCALE)


@dataclass(frozen=True, slots=True)
class _Columns:
    """One axis as stored: its features in order, their idf, and their weights one row per
    feature (``len(labels)`` values each) in one flat sequence."""

    labels: tuple[str, ...]
    bias: tuple[float, ...]
    features: Sequence[str]
    idf: Sequence[float]
    weights: Sequence[float]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> _Columns:
        """From a trained axis: ``idf`` and ``weights`` keyed by feature."""
        features = sorted(data["weights"])
        return cls(tuple(data["labels"]), tuple(data["bias"]), features,
                   [data["idf"][f] for f in features],
                   [w for f in features for w in data["weights"][f]])

    @classmethod
    def unpacked(cls, data: Mapping[str, Any]) -> _Columns:
        """From a model file: the numbers are little-endian float32 arrays in base64, which
        load in a fraction of the memory (and a third of the file) a list of JSON numbers
        takes; the feature names are a list."""
        return cls(tuple(data["labels"]), tuple(data["bias"]), data["features"],
                   _floats(data["idf"]), _floats(data["weights"]))

    def packed(self) -> dict[str, Any]:
        """The form :meth:`unpacked` reads."""
        return {"labels": list(self.labels), "bias": list(self.bias),
                "features": list(self.features), "idf": _base64(self.idf),
                "weights": _base64(self.weights)}

    def source(self) -> dict[str, Any]:
        """The form :meth:`of` reads (what training produces)."""
        width = len(self.labels)
        return {"labels": list(self.labels), "bias": list(self.bias),
                "idf": {f: round(self.idf[i], 4) for i, f in enumerate(self.features)},
                "weights": {f: [round(w, 4) for w in self.weights[i * width:(i + 1) * width]]
                            for i, f in enumerate(self.features)}}


def _floats(text: str) -> array[float]:
    values = array("f")
    values.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _base64(values: Sequence[float]) -> str:
    packed = array("f", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


class LearnedModel:
    def __init__(self, axes: Mapping[str, Mapping[str, Any]] | None, *,
                 rows: _Rows | None = None) -> None:
        """``axes``: the trained form (weights by feature), kept only to be saved. A model
        loaded from its file (see load) never builds it and comes with its ``rows``: the bot
        keeps the model for its whole life, and only a freshly trained model is ever saved."""
        self.axes = axes
        if rows is None:
            if axes is None:
                raise ValueError("a model needs its trained axes or its rows")
            rows = _Rows({name: _Columns.of(data) for name, data in axes.items()})
        self._rows = rows

    @classmethod
    def train(cls, rows: Iterable[tuple[Mapping[str, str], Sequence[str]]]) -> LearnedModel:
        """``rows``: (gold labels, features of the message). Messages of kind ``other`` carry
        no category or scope of their own: they train the kind axis only."""
        data = [(labels, Counter(features)) for labels, features in rows]
        samples = {axis: [(labels[axis], tf) for labels, tf in data if labels.get(axis)
                          and (axis == "kind" or labels.get("kind") != Kind.OTHER)]
                   for axis in AXES}
        # An axis seen with one label only would vote for it on every message.
        return cls({axis: _fit(s) for axis, s in samples.items()
                    if len({label for label, _ in s}) > 1})

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LearnedModel | None:
        """The shipped model, or None when there is none (the rules then work alone)."""
        if not path.exists():
            return None
        return cls(None, rows=_Rows(_stored(path)))

    @staticmethod
    def source(path: Path = MODEL_PATH) -> dict[str, Any]:
        """The axes of a model file as training produces them (a loaded model drops them)."""
        return {name: columns.source() for name, columns in _stored(path).items()}

    def keeping(self, current: Mapping[str, Mapping[str, Any]], *, retrained: Sequence[str]
                ) -> LearnedModel:
        """This model's ``retrained`` axes beside every other axis of ``current`` (an axis the
        training data could not teach, one label only, stays as ``current`` has it)."""
        if self.axes is None:
            raise ValueError("a loaded model cannot be merged; train one")
        axes = dict(current)
        axes.update({axis: self.axes[axis] for axis in retrained if axis in self.axes})
        return LearnedModel(axes)

    def averaged(self, current: Mapping[str, Mapping[str, Any]], share: float) -> LearnedModel:
        """This model with ``current`` averaged in, ``current`` having ``share`` of the say.

        The shipped model learned from ~1,700 real portal posts that are not in the repository;
        retraining on the labelled files alone would forget them. Averaging the two models'
        scores (logit space) keeps part of it in one model of the usual size: a feature's
        weights are scaled to this model's idf where both know it, so a message's score is the
        average of the two models' scores up to the TF-IDF norm, which differs only through
        the idf of words one model never saw (on 2,880 held-out messages it scored the same as
        averaging the two models' probabilities). Axes ``current`` lacks stay as trained."""
        if self.axes is None:
            raise ValueError("a loaded model cannot be averaged; train one")
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"the current model's share must be between 0 and 1, not {share}")
        axes: dict[str, Mapping[str, Any]] = dict(self.axes)
        for name, new in self.axes.items():
            old = current.get(name)
            if old is None or list(old["labels"]) != list(new["labels"]):
                continue
            idf = {**old["idf"], **new["idf"]}
            zero = [0.0] * len(new["labels"])
            weights = {}
            for feature in new["weights"].keys() | old["weights"].keys():
                scale = old["idf"][feature] / idf[feature] if feature in old["idf"] else 0.0
                weights[feature] = [(1.0 - share) * a + share * scale * b for a, b in zip(
                    new["weights"].get(feature, zero), old["weights"].get(feature, zero),
                    strict=True)]
            axes[name] = {"labels": list(new["labels"]),
                          "bias": [(1.0 - share) * a + share * b
                                   for a, b in zip(new["bias"], old["bias"], strict=True)],
                          "idf": idf, "weights": weights}
        return LearnedModel(axes)

    def save(self, path: Path = MODEL_PATH) -> None:
        """Written beside ``path`` and renamed over it: a Ctrl-C or a full disk halfway
        through the write left a truncated model (by default the shipped one), and every
        classification after it failed."""
        if self.axes is None:
            raise ValueError("a loaded model is not saved again; train one to save it")
        path.parent.mkdir(parents=True, exist_ok=True)
        axes = {name: _Columns.of(data).packed() for name, data in self.axes.items()}
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_text(json.dumps({"format": FORMAT, "axes": axes}, ensure_ascii=False,
                                          separators=(",", ":")) + "\n", encoding="utf-8")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def probabilities(self, axis: str, counts: Mapping[str, int]) -> Mapping[str, float]:
        """P(label | message) on one axis from the message's feature counts; empty when the
        model does not cover the axis."""
        return self.reading(counts).probabilities(axis)

    def reading(self, counts: Mapping[str, int]) -> Reading:
        """The model's view of one message, for as many axes as are asked of it."""
        return Reading(self._rows, self._rows.totals(counts))


def _stored(path: Path) -> dict[str, _Columns]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown model format {data.get('format')!r}; "
                         "rebuild it with `domovoy classify --train`")
    return {name: _Columns.unpacked(axis) for name, axis in data["axes"].items()}


class Reading:
    """One message's summed rows: each axis's probabilities are a few divisions away."""

    def __init__(self, rows: _Rows, totals: tuple[int, ...]) -> None:
        self._rows, self._totals = rows, totals
        # The urgency net asks before the blend settles: one softmax an axis is enough.
        self._seen: dict[str, dict[str, float]] = {}

    def probabilities(self, axis: str) -> Mapping[str, float]:
        """P(label | message) on ``axis``; empty when the model does not cover it. The mapping
        is kept for the next caller on this message: read it, do not change it."""
        seen = self._seen.get(axis)
        if seen is not None:
            return seen
        model = self._rows.axes.get(axis)
        if model is None:
            return {}
        totals = self._totals
        norm2 = totals[model.index] - _HALF
        if norm2 <= 0:  # none of the message's words was seen on this axis
            scores = list(model.bias)
        else:
            # a lane is its value times 1 / _UNIT: dividing by the norm's square root in the
            # same units cancels the scale of the weights' lanes but once
            scale = 1.0 / math.sqrt(norm2 * _UNIT) * _UNIT
            scores = [b + (lane - _HALF) * scale for b, lane in zip(
                model.bias, totals[model.start:model.start + len(model.labels)], strict=True)]
        seen = self._seen[axis] = dict(zip(model.labels, _softmax(scores), strict=True))
        return seen


def _softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exp = [math.exp(s - top) for s in scores]
    total = sum(exp)
    return [e / total for e in exp]


def _fit(samples: list[tuple[str, Counter[str]]]) -> dict[str, Any]:
    """Multinomial logistic regression with balanced class weights and L2, by AdaGrad.

    Measured against scikit-learn's solver on the same features, it blends with the rules as
    well or better; twenty passes take a few seconds for a thousand messages.
    """
    labels = sorted({label for label, _ in samples})
    k_count = len(labels)
    index = {label: i for i, label in enumerate(labels)}
    n = len(samples)
    df: Counter[str] = Counter()
    for _, tf in samples:
        df.update(tf.keys())
    idf = {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in df.items()}
    xs: list[list[tuple[str, float]]] = []
    for _, tf in samples:
        vec = [(f, (1.0 + math.log(c)) * idf[f]) for f, c in tf.items()]
        norm = math.sqrt(sum(x * x for _, x in vec)) or 1.0
        xs.append([(f, x / norm) for f, x in vec])
    ys = [index[label] for label, _ in samples]
    per_label = Counter(ys)
    class_weight = [n / (k_count * per_label[k]) for k in range(k_count)]
    weights = {f: [0.0] * k_count for f in df}
    sq_grad = {f: [1e-8] * k_count for f in df}
    bias, sq_bias = [0.0] * k_count, [1e-8] * k_count
    penalty = 1.0 / (C * n)  # each sample's share of the L2 term
    order = list(range(n))
    rnd = random.Random(SEED)
    for _ in range(EPOCHS):
        rnd.shuffle(order)
        for i in order:
            x, y = xs[i], ys[i]
            scores = bias[:]
            for f, v in x:
                w = weights[f]
                for k in range(k_count):
                    scores[k] += v * w[k]
            probs = _softmax(scores)
            grad = [class_weight[y] * (p - (1.0 if k == y else 0.0))
                    for k, p in enumerate(probs)]
            for k in range(k_count):
                sq_bias[k] += grad[k] * grad[k]
                bias[k] -= RATE * grad[k] / math.sqrt(sq_bias[k])
            for f, v in x:
                w, g2 = weights[f], sq_grad[f]
                for k in range(k_count):
                    g = grad[k] * v + penalty * w[k]
                    g2[k] += g * g
                    w[k] -= RATE * g / math.sqrt(g2[k])
    return {"labels": labels, "bias": [round(b, 4) for b in bias],
            "idf": {f: round(idf[f], 4) for f in sorted(df)},
            "weights": {f: [round(w, 4) for w in weights[f]] for f in sorted(df)}}
