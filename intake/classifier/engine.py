"""Scoring a message against the rules, with a learned model where the rules are unsure.

Every rule that matches adds its weight to the labels it names; each axis takes its best-scoring
label. That keeps a prediction explainable (the fired rule ids are returned) and lets an operator
fix a misfire by editing one weight or one word family, with no retraining. On kind, category
and scope, where words run out first, a learned model's probabilities join the scores when no
rule leads clearly, and it may raise an emergency no urgency rule spoke about (see
``learned.py``); "model.<axis>" among the ids says when it decided.

The engine is pure after construction: no I/O, no clock, no randomness; the same text always
gives the same labels. Patterns are indexed by their most specific word, so a message costs one
pass over its words, not one pass per rule; each word form is looked up in that index once and
cached, and a regex (a scan of the whole text) runs only when the words have not already decided
its rule. That is what makes thousands of messages per second possible on long posts too.
"""

from __future__ import annotations

import bisect
import copy
import functools
import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.labels import AXES, Category, Kind, Scope, Urgency

from .learned import (
    BLEND,
    COMPLAINT_UNCUED,
    DEFAULT_URGENCY_VOTE,
    EMERGENCY_NET,
    OTHER_OVER_FAULT,
    LearnedModel,
    Reading,
)
from .rules import Pattern, Rule, RuleSet, Term, load_rules
from .tokens import (
    WORD_CHARS,
    Backend,
    Normaliser,
    fix_lookalikes,
    normalise,
    plain,
    sentences,
    split,
)

RULES_DIR = Path(__file__).with_name("rules")
# How far apart (in tokens) the words of one multi-word pattern may be. Russian word order is
# free ("газом пахнет" / "пахнет газом"), so words are matched in any order inside the window.
WINDOW = 3
# An English exception (``unless``, ``unless_here``) is a set phrase: "it was just the
# drain", "what should I do if". With the window's three words between its words, "just the"
# found "I just got home and the flat smells of gas" and stood the gas alarm down. One word
# may stand between ("what should I ever do if"), no more. Russian exceptions keep the window:
# word order is free there, and tightening them added false alarms on the labelled sets.
STAND_DOWN_GAP = 1
# How many tokens before a match a negation word still cancels it ("не очень сильно искрит").
NEG_BEFORE = 3
# After "<danger word> не", these verbs take the negation for themselves ("не могу найти кран").
_NEGATION_ELSEWHERE = frozenset({
    "могу", "может", "можем", "могут", "можете", "знаю", "знаем", "знает", "понимаю",
    "понимаем", "получается", "удается", "успеваю", "успели", "справляюсь", "отвечают",
    "отвечает", "берут", "берет"})

# A regex is first screened by the strings one of which any match must contain, when there are
# at most this many (see _needles).
MAX_NEEDLES = 8
_WORD_CHAR = re.compile(f"[{WORD_CHARS}]")
# Bound on the per-word-form caches: odd input (random strings) must not grow memory without end.
_CACHE_LIMIT = 200_000

_KIND_ORDER = [k.value for k in Kind]
# Kinds the model may not pick unless a rule voted for them too: "other" opens no case, and an
# "inquiry" is answered with information where work was wanted. A short fault report ("Течёт
# кран", "Нет горячей воды") looks like a "спасибо" or a question to a bag of words.
_RULE_BACKED_KINDS = frozenset({Kind.OTHER.value, Kind.INQUIRY.value})
# The least rule vote that backs such a kind when the message names a fault.
_FAULT_BACKING = 1.0
_CATEGORY_ORDER = [c.value for c in Category]
_URGENCY_ORDER = [u.value for u in Urgency]
_REPORT_LOW = frozenset({Urgency.LOW.value})
_UNCUED_COMPLAINT = {Kind.COMPLAINT.value: COMPLAINT_UNCUED}
# Among a prediction's rule ids: a report turned complaint by its department
# (``defaults.grievance_categories``).
GRIEVANCE = "defaults.grievance_category"
_SCOPE_ORDER = [s.value for s in Scope]
# The labels classify() asks for on every message, as plain strings: reading an enum member's
# ``.value`` goes through a descriptor each time.
_COMPLAINT, _REQUEST, _OTHER, _INQUIRY = (
    Kind.COMPLAINT.value, Kind.REQUEST.value, Kind.OTHER.value, Kind.INQUIRY.value)
_EMERGENCY, _HIGH = Urgency.EMERGENCY.value, Urgency.HIGH.value
_NORMAL, _LOW = Urgency.NORMAL.value, Urgency.LOW.value
_NO_CATEGORY, _UNIT = Category.OTHER.value, Scope.UNIT.value


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


_Regex = tuple[re.Pattern[str], tuple[frozenset[int], ...], tuple[str, ...]]
"""A rule regex, its fragment screens (see _fragments) and its needles (see _needles)."""


@dataclass(frozen=True, slots=True)
class _Slot:
    """A pattern that needs more than its anchor word: more words, or a negation check.

    Terms are ids (see :meth:`Classifier._term`); ``rest`` are the non-anchor terms in pattern
    order, ``before`` / ``after`` the same split around the anchor for ordered (English) patterns.
    """

    part: int
    rest: tuple[int, ...]
    before: tuple[int, ...]
    after: tuple[int, ...]
    # Every other term must occur somewhere in the message: most candidates fail this cheap test.
    needs: frozenset[int]
    ordered: bool
    negatable: bool
    # Its most specific other term (see _Word.slot_groups), -1 when it needs none.
    group: int
    # How many other words may stand between two of an ordered pattern's words.
    gap: int = WINDOW


@dataclass(frozen=True, slots=True, eq=False)
class _Word:
    """What the rules make of one word form. Computed once per form, then a dictionary hit.

    Equal ones are one shared object (see :meth:`Classifier._shape`), so they hash by identity:
    a message's distinct words are a cheap set.
    """

    # Sorted tuples, not frozensets: a one-element frozenset takes 216 bytes, the tuple 48, and
    # every word form met is kept (some 10,000 shapes are made at load).
    terms: tuple[int, ...]
    # Ids of the regex fragments (see _fragments) inside the word.
    fragments: tuple[int, ...]
    # Parts satisfied wherever the word stands: one-word patterns that negation cannot cancel.
    parts: tuple[int, ...]
    # Its slots grouped by a term each of them needs besides the anchor, the most specific
    # one (-1: none): a message lacking the term skips the whole group with one look-up.
    slot_groups: tuple[tuple[int, tuple[_Slot, ...]], ...]
    negation: bool
    # Takes a preceding negation for itself ("не могу найти кран"), see _NEGATION_ELSEWHERE.
    modal: bool


class Classifier:
    """Rule-based classifier for the four taxonomy axes. Build once, call :meth:`classify` often.

    Each rule is made of *parts*: its ``any`` list, each group of its ``all``, its ``unless``.
    A part is satisfied when one of its patterns matches; a rule fires when all of its required
    parts are satisfied and its ``unless`` is not. Only whether a part is satisfied matters, so
    once one pattern of a part has matched the others are not tried, and regexes (a scan of the
    whole text each) run last and only for rules that the words have not already decided.
    """

    def __init__(self, ruleset: RuleSet, normaliser: Normaliser,
                 model: LearnedModel | None = None) -> None:
        self.ruleset = ruleset
        self.model = model
        self._norm = normaliser
        self._families: dict[str, str] = {}  # word as typed -> family key, for the model
        self._negations = ruleset.defaults.negations
        self._unit_default = ruleset.defaults.scope
        # Complaint cues of the resident's own (not a department's sounds), see classify().
        self._own_complaint = frozenset(
            r.id for r in ruleset.rules
            if ("kind", Kind.COMPLAINT.value) in r.votes
            and not any(axis == "category" for axis, _ in r.votes)
        )
        self._terms: dict[Term, int] = {}
        # How specific each term is, as _anchor measures it (see _Word.slot_groups).
        self._term_size: list[int] = []
        self._by_key: dict[str, int] = {}
        self._by_exact: dict[str, int] = {}
        self._by_prefix: dict[str, int] = {}
        self._by_mode = {"key": self._by_key, "exact": self._by_exact, "prefix": self._by_prefix}
        # Per anchor term: the parts its word satisfies alone, and the slots to check around it.
        self._parts_at: dict[int, list[int]] = {}
        self._slots_at: dict[int, list[_Slot]] = {}
        self._part_rule: list[int] = []
        self._part_regexes: list[tuple[_Regex, ...]] = []
        self._fragment_ids: dict[str, int] = {}
        # Rules that raise an emergency (see _fired: when one is stood down).
        self._alarms = frozenset(idx for idx, rule in enumerate(ruleset.rules)
                                 if ("urgency", Urgency.EMERGENCY.value) in rule.votes)
        # Per rule: its required parts and its ``unless``, ``unless_here``, ``unless_over`` and
        # ``rearm`` parts (-1 when it has none).
        self._rule_parts: list[tuple[frozenset[int], int, int, int, int]] = []
        for idx, rule in enumerate(ruleset.rules):
            groups = (rule.any, *rule.all) if rule.any else rule.all
            required = frozenset(self._add_part(idx, g, rule.negatable) for g in groups)
            unless, here, over = (
                self._add_part(idx, patterns, False, STAND_DOWN_GAP) if patterns else -1
                for patterns in (rule.unless, rule.unless_here, rule.unless_over))
            rearm = (self._add_part(idx, rule.rearm, rule.negatable, STAND_DOWN_GAP)
                     if rule.rearm else -1)
            self._rule_parts.append((required, unless, here, over, rearm))
        # A regex passes its screens only if the message has a fragment of its first screen:
        # indexed by those fragments, the parts a message's regexes could satisfy are a union
        # of a few sets, and most regex rules are turned away without one call to _search.
        self._maybe_by_fragment: dict[int, set[int]] = {}
        unscreened: set[int] = set()
        for part, regexes in enumerate(self._part_regexes):
            for _, screens, _ in regexes:
                if not screens:
                    unscreened.add(part)
                for fid in screens[0] if screens else ():
                    self._maybe_by_fragment.setdefault(fid, set()).add(part)
        self._unscreened = frozenset(unscreened)
        self._prefix_lengths = sorted({len(p) for p in self._by_prefix})
        # Fragments are found inside a word in one pass over it. Keyed by their first three
        # characters, a position meets a handful of candidates instead of every fragment that
        # starts with its letter (some letters start over a hundred): on a first reading of
        # residents' messages, when every word is new, that search was a third of the time.
        # Shorter fragments are whole keys.
        self._short_fragments: dict[str, int] = {}
        self._fragments_from: dict[str, list[tuple[str, int]]] = {}
        for fragment, fid in self._fragment_ids.items():
            if len(fragment) < 3:
                self._short_fragments[fragment] = fid
            else:
                self._fragments_from.setdefault(fragment[:3], []).append((fragment, fid))
        # Residents reuse a small vocabulary, so after warm-up a word costs one dictionary hit.
        self._words: dict[str, _Word] = {}
        self._shapes: dict[tuple[tuple[int, ...], tuple[int, ...], bool, bool], _Word] = {}
        for tid in range(len(self._terms)):
            self._shape((tid,), (), False, False)

    @classmethod
    def from_paths(cls, paths: Iterable[Path], backend: Backend = "snowball",
                   model: LearnedModel | None = None) -> Classifier:
        """Build from the operator's own rule files (validated; raises RulesError)."""
        normaliser = Normaliser(backend)
        return cls(load_rules([Path(p) for p in paths], normaliser.key), normaliser, model)

    def with_model(self, model: LearnedModel | None) -> Classifier:
        """The same rules with another word model (None: the rules alone, for comparison)."""
        clone = copy.copy(self)
        clone.model = model
        return clone

    @classmethod
    def default(cls, backend: Backend = "snowball") -> Classifier:
        """The shipped rules, built once per process and shared (the classifier is immutable)."""
        return _default(backend)

    def features(self, text: str, subject: str = "") -> list[str]:
        """A message as the learned model sees it (for training it)."""
        text, subject = plain(text), plain(subject)
        full = f"{subject}.\n{text}" if subject else text
        return self._model_features(split(normalise(full))[0])

    def _model_features(self, raw: Iterable[str]) -> list[str]:
        """The word families of the words, as the learned model counts them. (Word prefixes
        and pairs were tried as well: no better on held-out sets, and several times slower.)"""
        return [key for key in map(self._family, raw) if key]

    def _model_counts(self, raw: Iterable[str]) -> dict[str, int]:
        """How often each family occurs, in the order families first occur: what
        ``Counter(self._model_features(raw))`` gives, counted in one pass."""
        cache = self._families
        counts: dict[str, int] = {}
        for w in raw:
            key = cache.get(w)
            if key is None:
                key = self._family(w)
            if key:
                counts[key] = counts.get(key, 0) + 1
        return counts

    def _family(self, w: str) -> str:
        """The family key of a word for the model; "" for one letter (cached)."""
        key = self._families.get(w)
        if key is None:
            key = self._norm.key(fix_lookalikes(w)) if len(w) > 1 else ""
            if len(self._families) < _CACHE_LIMIT:
                self._families[w] = key
        return key

    def _term(self, term: Term) -> int:
        tid = self._terms.get(term)
        if tid is None:
            tid = self._terms[term] = len(self._terms)
            self._by_mode[term.mode][term.value] = tid
            self._term_size.append(len(term.value) + (2 if term.mode == "key" else 0))
        return tid

    def _add_part(self, rule_idx: int, patterns: Sequence[Pattern], negatable: bool,
                  gap: int = WINDOW) -> int:
        part = len(self._part_rule)
        self._part_rule.append(rule_idx)
        self._part_regexes.append(tuple(
            (p.regex, self._screens(p.regex), _needles(p.regex))
            for p in patterns if p.regex is not None
        ))
        for pattern in patterns:
            if pattern.regex is not None:
                continue
            tids = [self._term(t) for t in pattern.terms]
            a = _anchor(pattern)
            if len(tids) == 1 and not negatable:
                self._parts_at.setdefault(tids[a], []).append(part)
                continue
            rest = (*tids[:a], *tids[a + 1 :])
            needs = frozenset(rest)
            # the group once, when the rules load, not for every new word form met: a first
            # reading of residents' messages meets thousands of them
            group = max(needs, key=self._term_size.__getitem__) if needs else -1
            slot = _Slot(
                part, rest, tuple(tids[:a]), tuple(tids[a + 1 :]), needs,
                pattern.ordered, negatable, group, gap,
            )
            self._slots_at.setdefault(tids[a], []).append(slot)
        return part

    def _screens(self, rx: re.Pattern[str]) -> tuple[frozenset[int], ...]:
        """The regex's fragment sets as ids: it can match only if each has one in a word.

        The likely rarest set comes first (its shortest fragment longest, then the fewest):
        the first set indexes the regex (see ``__init__``), and a message lacking it should
        turn the regex away without a look at the others."""
        ids = self._fragment_ids
        ranked = sorted(_fragments(rx), key=lambda need: (-min(map(len, need)), len(need)))
        return tuple(frozenset(ids.setdefault(f, len(ids)) for f in fragments)
                     for fragments in ranked)

    def _word(self, raw: str) -> _Word:
        """Look a word form up in the pattern index (cached; bounded against odd input)."""
        surface = fix_lookalikes(raw)
        terms: set[int] = set()
        tid = self._by_key.get(self._norm.key(surface))
        if tid is not None:
            terms.add(tid)
        tid = self._by_exact.get(surface)
        if tid is not None:
            terms.add(tid)
        for n in self._prefix_lengths:
            if n > len(surface):
                break
            tid = self._by_prefix.get(surface[:n])
            if tid is not None:
                terms.add(tid)
        # Regexes scan the text as typed, so fragments are looked for in the raw form.
        fragments: set[int] = set()
        short, longer = self._short_fragments.get, self._fragments_from.get
        for k in range(len(raw)):
            for piece in (raw[k], raw[k:k + 2]):
                fid = short(piece)
                if fid is not None:
                    fragments.add(fid)
            for fragment, fid in longer(raw[k:k + 3], ()):
                if raw.startswith(fragment, k):
                    fragments.add(fid)
        word = self._shape(
            tuple(sorted(terms)), tuple(sorted(fragments)), surface in self._negations,
            surface in _NEGATION_ELSEWHERE,
        )
        if len(self._words) < _CACHE_LIMIT:
            self._words[raw] = word
        return word

    def _shape(self, terms: tuple[int, ...], fragments: tuple[int, ...], negation: bool,
               modal: bool) -> _Word:
        """The one shared :class:`_Word` for these terms, fragments and flags.

        All forms of a family, and the half of all words that no rule names, share a few of
        them; those of one-term words are made up front (see ``__init__``).
        """
        shape = (terms, fragments, negation, modal)
        word = self._shapes.get(shape)
        if word is None:
            parts = {p for t in terms for p in self._parts_at.get(t, ())}
            groups: dict[int, list[_Slot]] = {}
            for slot in (s for t in terms for s in self._slots_at.get(t, ())):
                groups.setdefault(slot.group, []).append(slot)
            word = _Word(terms, fragments, tuple(sorted(parts)),
                         tuple((key, tuple(group)) for key, group in groups.items()),
                         negation, modal)
            if len(self._shapes) < _CACHE_LIMIT:
                self._shapes[shape] = word
        return word

    def _negated(
        self, words: Sequence[_Word], clauses: Sequence[int], positions: list[int]
    ) -> bool:
        lo, hi = min(positions), max(positions)
        clause = clauses[lo]
        for j in range(max(0, lo - NEG_BEFORE), hi + 1):
            if words[j].negation and clauses[j] == clause and j not in positions:
                return True
        # "протечки нет", "газом не пахнет": in Russian the negated predicate often follows.
        # But in "вода фонтаном не могу перекрыть" the "не" belongs to "могу", not the water.
        nxt = hi + 1
        if nxt >= len(words) or clauses[nxt] != clause or not words[nxt].negation:
            return False
        return not (nxt + 1 < len(words) and words[nxt + 1].modal)

    def _place(
        self, words: Sequence[_Word], clauses: Sequence[int], i: int, slot: _Slot
    ) -> list[int] | None:
        """Positions of the words of a multi-word pattern whose anchor is at ``i``."""
        positions = [i]
        n = len(words)
        # All words of one pattern must stand in the same clause: "так и не проведена. Просим
        # срочно" is not "не срочно".
        clause = clauses[i]
        if slot.ordered:
            # English word order is fixed ("is there" is not "there is"): the words after the
            # anchor follow it, the ones before precede it, each at most ``slot.gap`` words
            # from its neighbour.
            last = i
            for tid in slot.after:
                for j in range(last + 1, min(n, last + slot.gap + 2)):
                    if tid in words[j].terms and clauses[j] == clause:
                        break
                else:
                    return None
                positions.append(j)
                last = j
            first = i
            for tid in reversed(slot.before):
                for j in range(first - 1, max(-1, first - slot.gap - 2), -1):
                    if tid in words[j].terms and clauses[j] == clause:
                        break
                else:
                    return None
                positions.append(j)
                first = j
            return positions
        lo, hi = max(0, i - WINDOW), min(n, i + WINDOW + 1)
        for tid in slot.rest:
            for j in range(lo, hi):
                if tid in words[j].terms and clauses[j] == clause and j not in positions:
                    break
            else:
                return None
            positions.append(j)
        return positions

    def _satisfied(self, text: str) -> tuple[str, set[int], frozenset[int], list[str]]:
        """The normalised text, the parts its words satisfy (regexes are left to the caller),
        the regex fragments in its words and its words as typed."""
        norm = normalise(text)
        raw, clauses = split(norm)
        cache = self._words
        words = [cache.get(w) or self._word(w) for w in raw]
        # Long messages repeat their words: what does not depend on where a word stands is
        # worked out once per distinct word.
        shapes = set(words)
        done: set[int] = set()
        for word in shapes:
            if word.parts:
                done.update(word.parts)
        present = frozenset().union(*[w.terms for w in shapes])
        # The slots worth placing: most need a word the message lacks or a part already done.
        live: dict[_Word, list[_Slot]] = {}
        for word in shapes:
            for key, group in word.slot_groups:
                if key < 0 or key in present:
                    for slot in group:
                        if slot.part not in done and slot.needs <= present:
                            live.setdefault(word, []).append(slot)
        if live:
            # A pattern's words stand in one clause: the terms of each clause, as needed, turn
            # away most candidates before the window is searched (clauses run in order).
            in_clause: dict[int, frozenset[int]] = {}
            for i, word in enumerate(words):
                if word not in live:
                    continue
                for slot in live[word]:
                    if slot.part in done:
                        continue
                    if slot.needs:
                        clause = clauses[i]
                        here = in_clause.get(clause)
                        if here is None:
                            span = words[bisect.bisect_left(clauses, clause):
                                         bisect.bisect_right(clauses, clause)]
                            here = in_clause[clause] = frozenset().union(*[w.terms for w in span])
                        if not slot.needs <= here:
                            continue
                        positions = self._place(words, clauses, i, slot)
                        if positions is None:
                            continue
                    else:
                        positions = [i]
                    if slot.negatable and self._negated(words, clauses, positions):
                        continue
                    done.add(slot.part)
        return norm, done, frozenset().union(*[w.fragments for w in shapes]), raw

    def _search(self, part: int, norm: str, fragments: frozenset[int]) -> bool:
        for rx, screens, needles in self._part_regexes[part]:
            if any(map(fragments.isdisjoint, screens)):
                continue
            if needles:
                for needle in needles:
                    if needle in norm:
                        break
                else:
                    continue
            if rx.search(norm):
                return True
        return False

    def _holds_in_a_sentence(self, required: frozenset[int], here: int, text: str,
                             subject: str) -> bool:
        """Whether one sentence of the message satisfies every required part and not ``here``.

        The subject is a sentence of its own only where the body does not tell the matter
        itself: "Сосульки на доме 15" names what "на доме напротив висят сосульки" tells, so
        the body's word on where it happens holds for it too, while "Заливает квартиру прямо
        сейчас" over a body that only says the roof leaks is its own report.

        Only messages where both a rule and its sentence-bound exception matched come here, so
        the sentences are read again one by one: a few in a hundred messages.
        """
        told = False
        for part in (text, subject):
            if told:
                break
            for sentence in sentences(part):
                norm, done, fragments, _ = self._satisfied(sentence)
                if all(p in done or self._search(p, norm, fragments) for p in required):
                    if here not in done and not self._search(here, norm, fragments):
                        return True
                    told = True
        return False

    def fired(self, text: str, subject: str = "") -> list[Rule]:
        """The rules that match a message, in rules-file order (useful when editing rules)."""
        return self._fired(text, subject)[0]

    def _fired(self, text: str, subject: str) -> tuple[list[Rule], list[str], bool]:
        """The rules that fire, the message's words, and whether an emergency rule matched
        but was stood down by its ``unless`` (a judgement the model's alarm must respect)."""
        norm, done, fragments, raw = self._satisfied(f"{subject}.\n{text}" if subject else text)
        maybe = self._maybe_by_fragment
        searchable = self._unscreened.union(*[maybe[f] for f in fragments if f in maybe])
        rules = self.ruleset.rules
        out = []
        # A rule can fire only if each of its parts is satisfied or its regexes may match.
        part_rule = self._part_rule.__getitem__
        stood_down = False
        for idx in sorted({*map(part_rule, done), *map(part_rule, searchable)}):
            required, unless, here, over, rearm = self._rule_parts[idx]
            if unless in done and idx not in self._alarms:
                continue
            missing = required - done
            if missing and not (
                missing <= searchable
                and all(self._search(p, norm, fragments) for p in missing)
            ):
                continue
            if unless in done or (unless in searchable and self._search(unless, norm, fragments)) \
                    or ((over in done or (over in searchable
                                          and self._search(over, norm, fragments)))
                        and not (rearm in done or (rearm in searchable
                                                   and self._search(rearm, norm, fragments)))):
                stood_down = stood_down or idx in self._alarms
                continue
            if (here in done or (here in searchable and self._search(here, norm, fragments))) \
                    and not self._holds_in_a_sentence(required, here, text, subject):
                stood_down = stood_down or idx in self._alarms
                continue
            out.append(rules[idx])
        return out, raw, stood_down

    def classify(self, text: str, subject: str = "") -> Classification:
        """Label one message. Never raises on odd input (empty, emoji-only, very long)."""
        text, subject = plain(text or ""), plain(subject or "")
        fired, raw, stood_down = self._fired(text, subject)
        scores: dict[str, dict[str, float]] = {axis: {} for axis in AXES}
        for rule in fired:
            for axis, label in rule.votes:
                scores[axis][label] = scores[axis].get(label, 0.0) + rule.weight
        # Evidence of danger makes a message a report, whatever else it looks like: an
        # emergency must never be set aside as "other" (which forces urgency low), and the
        # sounds of an emergency ("someone is banging inside the lift") are not a noise
        # complaint: only the resident's own complaint cues make it a complaint. Evidence that
        # the situation is ordinary, where it outweighs the alarm (a leak recurring for years,
        # a plumber's advert promising to fix "leaks and floods"), leaves no danger to put first.
        ruled = _best(_ladder(scores["urgency"]), _URGENCY_ORDER)
        danger = ruled == _EMERGENCY
        if danger:
            scores["kind"][_COMPLAINT] = sum(
                r.weight for r in fired if r.id in self._own_complaint
            )
        defaults = self.ruleset.defaults
        fault = any(label != _NO_CATEGORY for label in scores["category"])
        if fault or danger:
            k = scores["kind"]
            k[defaults.fault_kind] = k.get(defaults.fault_kind, 0.0) + defaults.fault_weight
        ids = tuple(r.id for r in fired)
        vote = (_ModelVote(self.model, self._model_counts, raw)
                if self.model is not None else None)
        kind = _best(scores["kind"], _KIND_ORDER) or _OTHER
        # Where no rule heard anything (no cue, no fault named) the message stays "other": a
        # bag of words would call a forwarded bounce or an emoji a complaint, and we would
        # answer it.
        if vote is not None and scores["kind"]:
            cued = scores["kind"].get(_COMPLAINT, 0.0) > 0.0
            sure = {} if cued else _UNCUED_COMPLAINT
            kind, ids = vote.settle("kind", scores["kind"], _KIND_ORDER, kind, ids,
                                    needs_rule=_unbacked(scores["kind"], fault),
                                    unless_sure={**sure, _OTHER: OTHER_OVER_FAULT} if fault
                                    else sure)
        if kind == _OTHER and danger:
            kind = str(defaults.fault_kind)
        if kind == _OTHER:
            return Classification(
                _OTHER, _NO_CATEGORY, _LOW, _UNIT, ids
            )
        category = _best(scores["category"], _CATEGORY_ORDER) or _NO_CATEGORY
        urgency = ruled or str(defaults.urgency[kind])
        scope = _best(scores["scope"], _SCOPE_ORDER) or self._unit_default
        if vote is not None:
            category, ids = vote.settle("category", scores["category"], _CATEGORY_ORDER,
                                        category, ids)
            scope, ids = vote.settle("scope", scores["scope"], _SCOPE_ORDER, scope, ids)
            # A safety net under the rules, never above them: where no rule heard an alarm,
            # stood one down or judged the matter ordinary (low, or normal: a chronic leak, an
            # advert, danger the resident denies), a model sure of an emergency raises one
            # (an outage rule's `high` is no verdict that nothing worse is going on: water off
            # in a stairwell is also water pouring somewhere). Otherwise, among high, normal
            # and low the model settles close calls; an emergency is the rules' and the net's
            # alone to raise, and nobody's to lower.
            heard = scores["urgency"]
            if (not stood_down and _EMERGENCY not in heard
                    and _LOW not in heard
                    and _NORMAL not in heard
                    and vote.probability("urgency", _EMERGENCY) >= EMERGENCY_NET):
                urgency, ids = _EMERGENCY, (*ids, "model.urgency")
            elif urgency != _EMERGENCY:
                # Where no rule spoke, the kind's default urgency is a weak vote of its own. A
                # report is `low` (cosmetic, a suggestion) only on a rule's word: the model
                # alone called a sensor to repair `low`.
                votes = scores["urgency"] or {urgency: DEFAULT_URGENCY_VOTE}
                rule_only = _REPORT_LOW if kind != _INQUIRY and _LOW not in votes \
                    else frozenset()
                settled, with_model = vote.settle("urgency", votes, _URGENCY_ORDER, urgency,
                                                  ids, needs_rule=rule_only)
                if settled != _EMERGENCY:
                    urgency, ids = settled, with_model
        # The taxonomy's "noise, neighbours and rule violations are complaints", and a staff
        # matter is a grievance about the staff: labellers put a report there as a request in
        # 11 of 1,880 read messages. Decided last, on the final department, so a cue-less
        # "соседи сверлят в воскресенье" and "nobody answers the phone" are heard as complaints.
        if kind == _REQUEST and category in defaults.grievance_categories \
                and urgency not in (_EMERGENCY, _LOW):
            kind, ids = _COMPLAINT, (*ids, GRIEVANCE)
        return Classification(kind, category, urgency, scope, ids)


def _ladder(urgency_scores: dict[str, float]) -> dict[str, float]:
    """Urgency scores where evidence for ``high`` or ``low`` does not count against
    ``emergency``.

    "The lift is out in a 12-storey block" and "smoke is coming out of the lift doors" are
    both true of one message; three outage rules must not outvote the smoke. Nor may a
    resident's "не срочно, но батарея бьёт струйкой", a meter reading or a suggestion asked
    in the same letter: urgency follows the situation, not the resident's manners. Only
    evidence that the situation itself is ordinary (a leak recurring for months with nothing
    said about now) competes with an emergency.
    """
    if urgency_scores.get(_EMERGENCY, 0.0) <= 0:
        return urgency_scores
    return {k: v for k, v in urgency_scores.items() if k not in (_HIGH, _LOW)}


def _unbacked(kind_scores: dict[str, float], fault: bool) -> frozenset[str]:
    """The rule-backed kinds no rule backs here, which the model may therefore not pick.

    Where a fault is named, or the resident asks for work outright, a faint vote (a greeting's
    0.5) is no backing: "Здравствуйте! Грязь в подъезде, прошу убрать" and "Добрый вечер,
    просим отремонтировать дорогу к школе" must not become "other" because the model heard the
    greeting.
    """
    least = _FAULT_BACKING if fault or kind_scores.get(_REQUEST, 0.0) > 0.0 else 0.0
    return frozenset(k for k in _RULE_BACKED_KINDS
                     if (vote := kind_scores.get(k, 0.0)) <= 0.0 or vote < least)


class _ModelVote:
    """The learned model's say on one message, its features counted once and only if needed.

    The model's probabilities join the rule scores with the weight ``BLEND`` gives the axis:
    it decides where no rule spoke and settles close calls, but a rule leading by more than
    that weight keeps its label, and then the features are never computed: most messages are
    decided that way. "model.<axis>" among the rule ids says when it changed the answer.
    """

    def __init__(self, model: LearnedModel, count: Callable[[Iterable[str]], dict[str, int]],
                 raw: list[str]) -> None:
        self._model, self._count, self._raw = model, count, raw
        self._reading: Reading | None = None

    def _read(self) -> Reading:
        if self._reading is None:
            self._reading = self._model.reading(self._count(self._raw))
        return self._reading

    def probability(self, axis: str, label: str) -> float:
        """The model's probability of ``label`` on ``axis`` (0 where it does not cover it)."""
        return self._read().probabilities(axis).get(label, 0.0)

    def settle(self, axis: str, rule_scores: dict[str, float], order: list[str], label: str,
               ids: tuple[str, ...], needs_rule: frozenset[str] = frozenset(),
               unless_sure: Mapping[str, float] | None = None
               ) -> tuple[str, tuple[str, ...]]:
        """The label for ``axis``; ``needs_rule``: labels the model may not add its weight to;
        ``unless_sure``: labels it may add weight to only where its probability reaches the
        given bar (asked here, so that a message the rules decide costs no model reading)."""
        weight = BLEND[axis]
        top = [*sorted(rule_scores.values(), reverse=True)[:2], 0.0, 0.0]
        if top[0] - top[1] > weight:
            return label, ids
        probs = self._read().probabilities(axis)
        if not probs:
            return label, ids
        if unless_sure:
            needs_rule = needs_rule | {name for name, bar in unless_sure.items()
                                       if probs.get(name, 0.0) < bar}
        combined = dict(rule_scores)
        for name, p in probs.items():
            if name not in needs_rule:
                combined[name] = combined.get(name, 0.0) + weight * p
        blended = _best(combined, order)
        if blended is None or blended == label:
            return label, ids
        return blended, (*ids, f"model.{axis}")


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


def _needles(rx: re.Pattern[str]) -> tuple[str, ...]:
    """Strings one of which every match of ``rx`` contains, when checking them first pays.

    A regex that does not begin with a fixed character (a look-behind, ``\\b``, a group of
    words) is tried by ``re`` at every position of the text, which on a long post costs several
    times more than a substring search. Substring tests for a few literals ("раз", "ите") reject
    most messages first. Regexes that begin with a literal already get that speed from ``re``,
    and single characters or long lists of words screen too little to pay.
    """
    if rx.flags & re.IGNORECASE:
        return ()
    # re's parse tree is internal; a shape this code does not know only costs the speed-up.
    try:
        tree = list(sre_parse.parse(rx.pattern, rx.flags))
        if _starts_with_literal(tree):
            return ()
        needles = _required(tree, False)
    except Exception:
        return ()
    if not needles or len(needles) > MAX_NEEDLES or min(map(len, needles)) < 2:
        return ()
    # "эт" screens for "этаж" too.
    return tuple(sorted(n for n in needles if not any(m != n and m in n for m in needles)))


def _fragments(rx: re.Pattern[str]) -> list[frozenset[str]]:
    """Sets of word fragments, one of each of which every match of ``rx`` contains.

    A fragment is a string of word characters (``tokens.WORD_CHARS``): in normalised text it
    can only stand inside one word, so the words' cached look-ups tell which a message has, and
    a regex missing one is never run. Unlike needles these cost nothing per message, so every
    such set screens, however long.
    """
    if rx.flags & re.IGNORECASE:
        return []
    try:
        return _requirements(list(sre_parse.parse(rx.pattern, rx.flags)), True)
    except Exception:
        return []


def _starts_with_literal(items: Sequence[tuple[Any, Any]]) -> bool:
    while items:
        op, av = items[0]
        if op is not sre_constants.SUBPATTERN:
            return op is sre_constants.LITERAL
        if av[1] & re.IGNORECASE:
            return False
        items = list(av[3])
    return False


def _requirements(items: Iterable[tuple[Any, Any]], words: bool) -> list[frozenset[str]]:
    """Sets of strings, one of each of which a match of this regex sequence must contain.

    Every run of literal characters in the sequence is such a set (of one), and so is what an
    alternation, a group or a repeat of at least one requires. ``words``: word fragments only,
    runs are cut at any other character.
    """
    found: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        if op is sre_constants.LITERAL and not (words and not _WORD_CHAR.match(chr(av))):
            run += chr(av)
            continue
        if run:
            found.append(frozenset([run]))
            run = ""
        need = _required_by(op, av, words)
        if need:
            found.append(need)
    if run:
        found.append(frozenset([run]))
    return found


def _required(items: Iterable[tuple[Any, Any]], words: bool) -> frozenset[str] | None:
    """The best of the :func:`_requirements`: the one whose shortest string is longest (then
    the smallest set) screens best. ``None``: nothing is required."""
    found = _requirements(items, words)
    if not found:
        return None
    return max(found, key=lambda need: (min(map(len, need)), -len(need)))


def _required_by(op: Any, av: Any, words: bool) -> frozenset[str] | None:
    if op is sre_constants.SUBPATTERN:
        return None if av[1] & re.IGNORECASE else _required(av[3], words)
    if op is sre_constants.ATOMIC_GROUP:
        return _required(av, words)
    if op is sre_constants.BRANCH:
        union: set[str] = set()
        for alternative in av[1]:
            need = _required(alternative, words)
            if need is None:
                return None
            union |= need
        return frozenset(union)
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
              sre_constants.POSSESSIVE_REPEAT):
        return _required(av[2], words) if av[0] >= 1 else None
    # Look-arounds, classes, anchors, back-references: nothing that must be in the match.
    return None


def _best(scores: dict[str, float], order: list[str]) -> str | None:
    """Highest score wins; a tie goes to the label listed first in the taxonomy."""
    if not scores:
        return None
    top = max(scores.values())
    if top <= 0:
        return None
    leaders = [label for label, score in scores.items() if score == top]
    if len(leaders) == 1:
        return leaders[0]
    return next(label for label in order if label in leaders)


def default_rule_files() -> list[Path]:
    """The shipped rules files, in the order they load."""
    return sorted(RULES_DIR.glob("*.yaml"))


@functools.lru_cache(maxsize=2)
def _default(backend: Backend) -> Classifier:
    return Classifier.from_paths(default_rule_files(), backend, LearnedModel.load())
