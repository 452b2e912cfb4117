"""Scoring a message against the rules.

Every rule that matches adds its weight to the labels it names; each axis takes its best-scoring
label. That keeps a prediction explainable (the fired rule ids are returned) and lets an operator
fix a misfire by editing one weight or one word family, with no retraining.

The engine is pure after construction: no I/O, no clock, no randomness; the same text always
gives the same labels. Patterns are indexed by their first word so a message costs one pass over
its tokens, not one pass per rule, which is what makes thousands of messages per second possible.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.labels import AXES, Category, Kind, Scope, Urgency

from .rules import Pattern, Rule, RuleSet, Term, load_rules
from .tokens import Backend, Normaliser, Token, normalise

RULES_DIR = Path(__file__).with_name("rules")
# How far apart (in tokens) the words of one multi-word pattern may be. Russian word order is
# free ("газом пахнет" / "пахнет газом"), so words are matched in any order inside the window.
WINDOW = 3
# How many tokens before a match a negation word still cancels it ("не очень сильно искрит").
NEG_BEFORE = 3
# After "<danger word> не", these verbs take the negation for themselves ("не могу найти кран").
_NEGATION_ELSEWHERE = frozenset({
    "могу", "может", "можем", "могут", "можете", "знаю", "знаем", "знает", "понимаю",
    "понимаем", "получается", "удается", "успеваю", "успели", "справляюсь", "отвечают",
    "отвечает", "берут", "берет"})

_KIND_ORDER = [k.value for k in Kind]
_CATEGORY_ORDER = [c.value for c in Category]
_URGENCY_ORDER = [u.value for u in Urgency]
_SCOPE_ORDER = [s.value for s in Scope]
_ANY, _UNLESS = -1, -2  # slot roles; 0, 1, ... are the groups of a rule's ``all``


@dataclass(frozen=True, slots=True)
class Classification:
    """The four labels of one message, plus the ids of the rules that produced them."""

    kind: str
    category: str
    urgency: str
    scope: str
    rules: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as stored on a case and printed by the CLI."""
        return {
            "kind": self.kind,
            "category": self.category,
            "urgency": self.urgency,
            "scope": self.scope,
            "rules": list(self.rules),
        }


@dataclass(frozen=True, slots=True)
class _Slot:
    """One use of a pattern by one rule; negation is a property of the rule, so it lives here."""

    pattern: Pattern
    negatable: bool
    anchor: int = 0  # index of the term the slot is indexed by (see _anchor)
    single: bool = True  # a one-word pattern: a hit on its anchor is a match


def _term_hits(term: Term, tok: Token) -> bool:
    if term.mode == "key":
        return tok.key == term.value
    if term.mode == "prefix":
        return tok.surface.startswith(term.value)
    return tok.surface == term.value


class Classifier:
    """Rule-based classifier for the four taxonomy axes. Build once, call :meth:`classify` often."""

    def __init__(self, ruleset: RuleSet, normaliser: Normaliser) -> None:
        self.ruleset = ruleset
        self._norm = normaliser
        self._negations = ruleset.defaults.negations
        self._slots: list[_Slot] = []
        # Per rule: slot ids of any/all-groups/unless, resolved once.
        self._rule_slots: list[tuple[tuple[int, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]]
        self._rule_slots = []
        self._by_key: dict[str, list[int]] = {}
        self._by_exact: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._regex: list[int] = []
        # Which rule (and which part of it) each slot belongs to: a message only has to look
        # at the rules whose slots it hit, not at all of them.
        self._owner: list[tuple[int, int]] = []
        for idx, rule in enumerate(ruleset.rules):
            any_ids = tuple(self._add(p, rule.negatable, idx, _ANY) for p in rule.any)
            all_ids = tuple(
                tuple(self._add(p, rule.negatable, idx, g) for p in group)
                for g, group in enumerate(rule.all)
            )
            unless_ids = tuple(self._add(p, False, idx, _UNLESS) for p in rule.unless)
            self._rule_slots.append((any_ids, all_ids, unless_ids))
        self._prefix_lengths = sorted({len(p) for p in self._by_prefix})
        # Candidate slots per surface word. Residents reuse a small vocabulary, so after warm-up
        # the key/exact/prefix look-ups cost one dictionary hit per word.
        self._cands: dict[str, tuple[int, ...]] = {}
        self._unit_default = ruleset.defaults.scope

    @classmethod
    def from_paths(cls, paths: Iterable[Path], backend: Backend = "snowball") -> Classifier:
        """Build from the operator's own rule files (validated; raises RulesError)."""
        normaliser = Normaliser(backend)
        return cls(load_rules([Path(p) for p in paths], normaliser.key), normaliser)

    @classmethod
    def default(cls, backend: Backend = "snowball") -> Classifier:
        """The shipped rules, built once per process and shared (the classifier is immutable)."""
        return _default(backend)

    def _add(self, pattern: Pattern, negatable: bool, rule_idx: int, role: int) -> int:
        sid = len(self._slots)
        a = _anchor(pattern) if pattern.regex is None else 0
        self._slots.append(_Slot(pattern, negatable, a, len(pattern.terms) <= 1))
        self._owner.append((rule_idx, role))
        if pattern.regex is not None:
            self._regex.append(sid)
            return sid
        anchor = pattern.terms[a]
        index = {"key": self._by_key, "exact": self._by_exact, "prefix": self._by_prefix}
        index[anchor.mode].setdefault(anchor.value, []).append(sid)
        return sid

    def _negated(self, toks: Sequence[Token], positions: Sequence[int]) -> bool:
        lo, hi = min(positions), max(positions)
        clause = toks[lo].clause
        for j in range(max(0, lo - NEG_BEFORE), hi + 1):
            if j in positions:
                continue
            t = toks[j]
            if t.clause == clause and t.surface in self._negations:
                return True
        # "протечки нет", "газом не пахнет": in Russian the negated predicate often follows.
        # But in "вода фонтаном не могу перекрыть" the "не" belongs to "могу", not the water.
        if hi + 1 < len(toks):
            nxt = toks[hi + 1]
            if nxt.clause != clause or nxt.surface not in self._negations:
                return False
            after = toks[hi + 2].surface if hi + 2 < len(toks) else ""
            return after not in _NEGATION_ELSEWHERE
        return False

    def _match_at(
        self, toks: Sequence[Token], i: int, pattern: Pattern, a: int
    ) -> list[int] | None:
        """Positions of the words of a multi-word pattern whose anchor (term ``a``) is at ``i``."""
        terms = pattern.terms
        positions = [i]
        n = len(toks)
        # All words of one pattern must stand in the same clause: "так и не проведена. Просим
        # срочно" is not "не срочно".
        clause = toks[i].clause
        if pattern.ordered:
            # English word order is fixed ("is there" is not "there is"): the words after the
            # anchor follow it, the ones before precede it, each within WINDOW of its neighbour.
            last = i
            for term in terms[a + 1 :]:
                j = next(
                    (
                        j
                        for j in range(last + 1, min(n, last + WINDOW + 2))
                        if toks[j].clause == clause and _term_hits(term, toks[j])
                    ),
                    -1,
                )
                if j < 0:
                    return None
                positions.append(j)
                last = j
            first = i
            for term in reversed(terms[:a]):
                j = next(
                    (
                        j
                        for j in range(first - 1, max(-1, first - WINDOW - 2), -1)
                        if toks[j].clause == clause and _term_hits(term, toks[j])
                    ),
                    -1,
                )
                if j < 0:
                    return None
                positions.append(j)
                first = j
            return positions
        lo, hi = max(0, i - WINDOW), min(n, i + WINDOW + 1)
        for k, term in enumerate(terms):
            if k == a:
                continue
            j = next(
                (
                    j
                    for j in range(lo, hi)
                    if j not in positions and toks[j].clause == clause and _term_hits(term, toks[j])
                ),
                -1,
            )
            if j < 0:
                return None
            positions.append(j)
        return positions

    def _hits(self, text: str, toks: Sequence[Token]) -> set[int]:
        hit: set[int] = set()
        slots = self._slots
        lengths = self._prefix_lengths
        cache = self._cands
        for i, tok in enumerate(toks):
            surface = tok.surface
            cands = cache.get(surface)
            if cands is None:
                found: list[int] = []
                c = self._by_key.get(tok.key)
                if c:
                    found.extend(c)
                c = self._by_exact.get(surface)
                if c:
                    found.extend(c)
                for n in lengths:
                    if n > len(surface):
                        break
                    c = self._by_prefix.get(surface[:n])
                    if c:
                        found.extend(c)
                cands = tuple(found)
                if len(cache) < 200_000:
                    cache[surface] = cands
            for sid in cands:
                if sid in hit:
                    continue
                slot = slots[sid]
                pos = [i] if slot.single else self._match_at(toks, i, slot.pattern, slot.anchor)
                if pos is None:
                    continue
                if slot.negatable and self._negated(toks, pos):
                    continue
                hit.add(sid)
        if self._regex:
            norm = normalise(text)
            for sid in self._regex:
                rx = slots[sid].pattern.regex
                if rx is not None and rx.search(norm):
                    hit.add(sid)
        return hit

    def fired(self, text: str, subject: str = "") -> list[Rule]:
        """The rules that match a message, in rules-file order (useful when editing rules)."""
        full = f"{subject}.\n{text}" if subject else text
        toks = self._norm.tokens(full)
        hit = self._hits(full, toks)
        any_hit: set[int] = set()
        unless_hit: set[int] = set()
        groups_hit: dict[int, set[int]] = {}
        for sid in hit:
            idx, role = self._owner[sid]
            if role == _ANY:
                any_hit.add(idx)
            elif role == _UNLESS:
                unless_hit.add(idx)
            else:
                groups_hit.setdefault(idx, set()).add(role)
        rules = self.ruleset.rules
        out = []
        for idx in sorted(any_hit | groups_hit.keys()):
            any_ids, all_ids, _ = self._rule_slots[idx]
            if any_ids and idx not in any_hit:
                continue
            if len(groups_hit.get(idx, ())) < len(all_ids) or idx in unless_hit:
                continue
            out.append(rules[idx])
        return out

    def classify(self, text: str, subject: str = "") -> Classification:
        """Label one message. Never raises on odd input (empty, emoji-only, very long)."""
        fired = self.fired(text or "", subject or "")
        scores: dict[str, dict[str, float]] = {axis: {} for axis in AXES}
        for rule in fired:
            for axis, label in rule.votes:
                scores[axis][label] = scores[axis].get(label, 0.0) + rule.weight
        # Evidence of danger makes a message a report, whatever else it looks like: an
        # emergency must never be set aside as "other" (which forces urgency low), and the
        # sounds of an emergency ("someone is banging inside the lift") are not a noise
        # complaint: only the resident's own complaint cues make it a complaint.
        danger = scores["urgency"].get(Urgency.EMERGENCY.value, 0.0) > 0
        if danger:
            scores["kind"][Kind.COMPLAINT.value] = sum(
                r.weight for r in fired
                if (("kind", Kind.COMPLAINT.value) in r.votes
                    and not any(axis == "category" for axis, _ in r.votes)))
        defaults = self.ruleset.defaults
        fault = any(label != Category.OTHER for label in scores["category"])
        if fault or danger:
            k = scores["kind"]
            k[defaults.fault_kind] = k.get(defaults.fault_kind, 0.0) + defaults.fault_weight
        ids = tuple(r.id for r in fired)
        kind = _best(scores["kind"], _KIND_ORDER) or Kind.OTHER.value
        if kind == Kind.OTHER and danger:
            kind = str(defaults.fault_kind)
        if kind == Kind.OTHER:
            return Classification(
                Kind.OTHER.value, Category.OTHER.value, Urgency.LOW.value, Scope.UNIT.value, ids
            )
        category = _best(scores["category"], _CATEGORY_ORDER) or Category.OTHER.value
        urgency = _best(scores["urgency"], _URGENCY_ORDER) or str(defaults.urgency[kind])
        scope = _best(scores["scope"], _SCOPE_ORDER) or self._unit_default
        return Classification(kind, category, urgency, scope, ids)


def _anchor(pattern: Pattern) -> int:
    """Index of the word a multi-word pattern is looked up by: the most specific one.

    Indexing "не реагир*" under "не" would make every "не" in a message try the pattern; under
    "реагир*" it is tried only where it can match. Longer words are rarer, so length decides.
    """
    best, best_len = 0, -1
    for k, term in enumerate(pattern.terms):
        size = len(term.value) + (2 if term.mode == "key" else 0)
        if size > best_len:
            best, best_len = k, size
    return best


def _best(scores: dict[str, float], order: list[str]) -> str | None:
    """Highest score wins; a tie goes to the label listed first in the taxonomy."""
    if not scores:
        return None
    top = max(scores.values())
    if top <= 0:
        return None
    return next(label for label in order if scores.get(label, 0.0) == top)


@functools.lru_cache(maxsize=2)
def _default(backend: Backend) -> Classifier:
    return Classifier.from_paths(sorted(RULES_DIR.glob("*.yaml")), backend)
