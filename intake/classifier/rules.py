"""Loading and validating rule files.

Rules are data an operator edits (see the header of ``rules/*.yaml`` for the format). A typo in a
label or a broken regex must fail loudly at start-up, with the file and line, rather than silently
never firing in production; so everything is validated here and the engine can trust it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from intake.labels import AXES, Category, Kind, Scope, Urgency

from .tokens import normalise

RULE_KEYS = frozenset({"id", "weight", "any", "all", "unless", "unless_here", "unless_over",
                       "rearm", "negatable", "note",
                       *AXES.keys()})
DEFAULT_KEYS = frozenset({"urgency", "fault_kind", "fault_weight", "scope", "negations",
                          "grievance_categories"})
TOP_KEYS = frozenset({"rules", "defaults", "lists"})
_LIST_REF = "list:"
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
KeyFn = Callable[[str], str]
"""Maps a normalised word to its family key (the same function the messages go through)."""
_WORD = re.compile(r"^[0-9a-zа-я]+$")


class RulesError(ValueError):
    """A rules file is wrong; the message starts with ``file:line:`` so an editor can jump there."""


@dataclass(frozen=True, slots=True)
class Term:
    """One word slot of a pattern.

    ``mode`` is ``key`` (same word family), ``prefix`` (surface form starts with ``value``) or
    ``exact`` (surface form equals ``value``; also used for "?" and "!").
    """

    mode: str
    value: str


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed pattern: either word terms matched near each other, or a regex."""

    source: str
    terms: tuple[Term, ...] = ()
    regex: re.Pattern[str] | None = None
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: if its patterns match, it adds ``weight`` to each label in ``votes``."""

    id: str
    votes: tuple[tuple[str, str], ...]
    weight: float
    any: tuple[Pattern, ...]
    all: tuple[tuple[Pattern, ...], ...]
    unless: tuple[Pattern, ...]
    negatable: bool
    origin: str
    # Like ``unless``, but only for the sentence it is said in: the rule still fires if some
    # sentence holds all its patterns and none of these ("вчера прорвало трубу. Сейчас опять
    # хлещет" is a flood now).
    unless_here: tuple[Pattern, ...] = ()
    # Like ``unless``, for words that tell an alarm over, done with or only asked about
    # ("спасибо за", "поменяли", "оказалось", "если вдруг"), except where ``rearm`` hears the
    # alarm told as happening now ("сейчас пахнет газом", "из щитка летят искры"): thanks for
    # an answer, or last week's repair, must not silence sparks flying today.
    unless_over: tuple[Pattern, ...] = ()
    rearm: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class Defaults:
    """What the engine falls back to when no rule of an axis fires."""

    urgency: Mapping[str, str] = field(
        default_factory=lambda: {
            Kind.COMPLAINT: Urgency.NORMAL,
            Kind.REQUEST: Urgency.NORMAL,
            Kind.INQUIRY: Urgency.LOW,
            Kind.OTHER: Urgency.LOW,
        }
    )
    fault_kind: str = Kind.REQUEST
    fault_weight: float = 1.0
    scope: str = Scope.UNIT
    negations: frozenset[str] = frozenset({"не", "нет", "ни", "no", "not", "never"})
    # Departments whose matters are grievances by nature (a neighbour's noise, a broken house
    # rule, the staff's own conduct): a report that lands there is a complaint.
    grievance_categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RuleSet:
    """All rules of all files, in load order, plus the merged defaults."""

    rules: tuple[Rule, ...]
    defaults: Defaults


def _err(path: Path, node: yaml.Node | None, msg: str) -> RulesError:
    line = node.start_mark.line + 1 if node is not None else 1
    return RulesError(f"{path.name}:{line}: {msg}")


def _scalar(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _err(path, node, f"{what} must be a plain value")
    return str(node.value)


def _seq(path: Path, node: yaml.Node, what: str) -> list[yaml.Node]:
    if isinstance(node, yaml.ScalarNode):
        return [node]
    if not isinstance(node, yaml.SequenceNode):
        raise _err(path, node, f"{what} must be a list")
    return list(node.value)


def parse_pattern(source: str, keyer: KeyFn) -> Pattern:
    """Parse one pattern string; raises ValueError with a human reason when it is malformed."""
    src = source.strip()
    if not src:
        raise ValueError("empty pattern")
    if src.startswith("re:"):
        body = src[3:].strip()
        if not body:
            raise ValueError("empty regex")
        try:
            return Pattern(source, regex=re.compile(body))
        except re.error as exc:
            raise ValueError(f"malformed regex {body!r}: {exc}") from None
    terms: list[Term] = []
    # Same normalisation as messages get, so "can't" or "no-show" match what residents type.
    for raw in normalise(src).replace("-", " ").split():
        if raw in ("?", "!"):
            terms.append(Term("exact", raw))
        elif raw.startswith("="):
            word = raw[1:]
            if not _WORD.match(word):
                raise ValueError(f"malformed word {raw!r} in {source!r}")
            terms.append(Term("exact", word))
        elif raw.endswith("*"):
            stem = raw[:-1]
            if len(stem) < 2 or not _WORD.match(stem):
                raise ValueError(
                    f"malformed prefix {raw!r} in {source!r} (need 2+ letters before *)"
                )
            terms.append(Term("prefix", stem))
        else:
            if not _WORD.match(raw):
                raise ValueError(f"malformed word {raw!r} in {source!r}")
            terms.append(Term("key", keyer(raw)))
    if len(terms) > 4:
        raise ValueError(
            f"pattern {source!r} has more than 4 words; use word families, not sentences"
        )
    # English word order carries meaning ("is there" asks, "there is" tells); Russian order is
    # free. So a pattern with no Cyrillic letter is matched in order, any other in any order.
    ordered = len(terms) > 1 and not re.search(r"[а-я]", src.lower())
    return Pattern(source, terms=tuple(terms), ordered=ordered)


def _flat(items: Iterable[yaml.Node]) -> Iterator[yaml.Node]:
    """A list alias inside a list (`[заранее, *thanks_then_more]`) stands for its items, so a
    shared list can be written once and extended per rule, and an extended list shared again
    (`[&calm [*smell_gone, ...], ...]`)."""
    for item in items:
        if isinstance(item, yaml.SequenceNode):
            yield from _flat(item.value)
        else:
            yield item


Lists = Mapping[str, tuple[Pattern, ...]]
"""Named pattern lists from the ``lists:`` sections read so far (a list is known below its
definition and in every later file)."""


def _patterns(path: Path, node: yaml.Node, what: str, keyer: KeyFn,
              lists: Lists | None = None) -> tuple[Pattern, ...]:
    out: list[Pattern] = []
    for item in _flat(_seq(path, node, what)):
        text = _scalar(path, item, f"a pattern in {what}")
        if text.startswith(_LIST_REF):
            name = text[len(_LIST_REF):].strip()
            if lists is None:
                raise _err(path, item, f"a list cannot name another list ({text!r})")
            if name not in lists:
                known = ", ".join(sorted(lists)) or "none defined"
                raise _err(path, item, f"unknown list {name!r} (lists: {known})")
            out.extend(lists[name])
            continue
        try:
            out.append(parse_pattern(text, keyer))
        except ValueError as exc:
            raise _err(path, item, str(exc)) from None
    if not out:
        raise _err(path, node, f"{what} is empty")
    return tuple(out)


def _rule(path: Path, node: yaml.Node, keyer: KeyFn, lists: Lists) -> Rule:
    if not isinstance(node, yaml.MappingNode):
        raise _err(path, node, "each rule must be a mapping (id:, any:, and a label)")
    fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for k, v in node.value:
        key = _scalar(path, k, "a key")
        if key not in RULE_KEYS:
            raise _err(path, k, f"unknown key {key!r} (allowed: {', '.join(sorted(RULE_KEYS))})")
        if key in fields:
            raise _err(path, k, f"duplicate key {key!r}")
        fields[key] = (k, v)
    if "id" not in fields:
        raise _err(path, node, "rule has no id")
    rid = _scalar(path, fields["id"][1], "id")
    if not _ID.match(rid):
        raise _err(path, fields["id"][1], f"bad rule id {rid!r} (lower-case words joined by dots)")
    votes: list[tuple[str, str]] = []
    for axis, enum in AXES.items():
        if axis in fields:
            label = _scalar(path, fields[axis][1], axis)
            if label not in {e.value for e in enum}:
                raise _err(path, fields[axis][1], f"unknown {axis} {label!r}")
            votes.append((axis, label))
    if not votes:
        raise _err(path, node, f"rule {rid!r} votes for no label (add kind/category/urgency/scope)")
    weight = 1.0
    if "weight" in fields:
        raw = _scalar(path, fields["weight"][1], "weight")
        try:
            weight = float(raw)
        except ValueError:
            raise _err(path, fields["weight"][1], f"weight {raw!r} is not a number") from None
        if not 0 < weight <= 100:
            raise _err(path, fields["weight"][1], "weight must be in (0, 100]")
    any_ = _patterns(path, fields["any"][1], "any", keyer, lists) if "any" in fields else ()
    all_: tuple[tuple[Pattern, ...], ...] = ()
    if "all" in fields:
        groups = _seq(path, fields["all"][1], "all")
        all_ = tuple(_patterns(path, g, "a group of all", keyer, lists) for g in groups)
    if not any_ and not all_:
        raise _err(path, node, f"rule {rid!r} has no patterns (any: or all:)")
    unless = (_patterns(path, fields["unless"][1], "unless", keyer, lists)
              if "unless" in fields else ())
    here = (_patterns(path, fields["unless_here"][1], "unless_here", keyer, lists)
            if "unless_here" in fields else ())
    over = (_patterns(path, fields["unless_over"][1], "unless_over", keyer, lists)
            if "unless_over" in fields else ())
    rearm = _patterns(path, fields["rearm"][1], "rearm", keyer, lists) if "rearm" in fields else ()
    if over and not rearm:
        raise _err(path, fields["unless_over"][1], "unless_over needs a rearm: list (the alarm "
                   "told as happening now)")
    negatable = False
    if "negatable" in fields:
        raw = _scalar(path, fields["negatable"][1], "negatable").lower()
        if raw not in ("true", "false", "yes", "no"):
            raise _err(path, fields["negatable"][1], "negatable must be true or false")
        negatable = raw in ("true", "yes")
    origin = f"{path.name}:{node.start_mark.line + 1}"
    return Rule(rid, tuple(votes), weight, any_, all_, unless, negatable, origin, here, over,
                rearm)


def _defaults(path: Path, node: yaml.Node, base: Defaults, keyer: KeyFn) -> Defaults:
    if not isinstance(node, yaml.MappingNode):
        raise _err(path, node, "defaults must be a mapping")
    urgency = dict(base.urgency)
    fault_kind, fault_weight, scope, negations, grievances = (
        base.fault_kind,
        base.fault_weight,
        base.scope,
        base.negations,
        base.grievance_categories,
    )
    for k, v in node.value:
        key = _scalar(path, k, "a key")
        if key not in DEFAULT_KEYS:
            raise _err(path, k, f"unknown defaults key {key!r}")
        if key == "urgency":
            if not isinstance(v, yaml.MappingNode):
                raise _err(path, v, "defaults.urgency maps each kind to an urgency")
            for kk, vv in v.value:
                kind, urg = _scalar(path, kk, "kind"), _scalar(path, vv, "urgency")
                if kind not in {e.value for e in Kind}:
                    raise _err(path, kk, f"unknown kind {kind!r}")
                if urg not in {e.value for e in Urgency}:
                    raise _err(path, vv, f"unknown urgency {urg!r}")
                urgency[kind] = urg
        elif key == "fault_kind":
            fault_kind = _scalar(path, v, key)
            if fault_kind not in {e.value for e in Kind}:
                raise _err(path, v, f"unknown kind {fault_kind!r}")
        elif key == "fault_weight":
            try:
                fault_weight = float(_scalar(path, v, key))
            except ValueError:
                raise _err(path, v, "fault_weight is not a number") from None
        elif key == "scope":
            scope = _scalar(path, v, key)
            if scope not in {e.value for e in Scope}:
                raise _err(path, v, f"unknown scope {scope!r}")
        elif key == "negations":
            words = [_scalar(path, w, "a negation word").lower() for w in _seq(path, v, key)]
            negations = frozenset(words)
        elif key == "grievance_categories":
            grievances = frozenset(_scalar(path, c, "a category") for c in _seq(path, v, key))
            unknown = sorted(grievances - {e.value for e in Category})
            if unknown:
                raise _err(path, v, f"unknown category {unknown[0]!r}")
    return Defaults(urgency, fault_kind, fault_weight, scope, negations, grievances)


def _compose(path: Path) -> yaml.MappingNode | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path.name}:1: cannot read: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # An unclosed bracket is noticed at the end of the file; where it opened is more useful.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise RulesError(f"{path.name}:{line}: not valid YAML: {exc.problem}") from None
    if root is None:
        return None
    if not isinstance(root, yaml.MappingNode):
        raise _err(path, root,
                   "a rules file is a mapping with 'rules:' (and 'defaults:', 'lists:')")
    for k, _ in root.value:
        key = _scalar(path, k, "a key")
        if key not in TOP_KEYS:
            allowed = ", ".join(sorted(TOP_KEYS))
            raise _err(path, k, f"unknown top-level key {key!r} (allowed: {allowed})")
    return root


def _add_lists(path: Path, node: yaml.Node, keyer: KeyFn, lists: dict[str, tuple[Pattern, ...]],
               origins: dict[str, str]) -> None:
    """A file's named lists, added to those of the files before it. YAML anchors do not reach
    across files, and a list such as "a memory, told in its own sentence" serves alarms in
    urgency.yaml and fire in category.yaml alike: written once, it cannot drift apart."""
    if not isinstance(node, yaml.MappingNode):
        raise _err(path, node, "lists: is a mapping of names to pattern lists")
    for name_node, items in node.value:
        name = _scalar(path, name_node, "a list name")
        if not _ID.match(name) or "." in name:
            raise _err(path, name_node, f"bad list name {name!r} (lower-case letters, "
                       "digits and _)")
        if name in lists:
            raise _err(path, name_node, f"duplicate list {name!r} (first at {origins[name]})")
        lists[name] = _patterns(path, items, f"list {name!r}", keyer)
        origins[name] = f"{path.name}:{name_node.start_mark.line + 1}"


def load_rules(paths: Iterable[Path], keyer: KeyFn) -> RuleSet:
    """Load and validate rule files in order; later ``defaults`` override earlier ones; a named
    list (``lists:``) is usable as ``list:NAME`` below it and in every later file. One file's
    YAML tree is held at a time: all four at once added 3 MB to the peak of a process that
    must stay under 100 MB."""
    lists: dict[str, tuple[Pattern, ...]] = {}
    origins: dict[str, str] = {}
    rules: list[Rule] = []
    defaults = Defaults()
    seen: dict[str, str] = {}
    for path in paths:
        root = _compose(path)
        if root is None:
            continue
        for k, v in root.value:
            key = k.value
            if key == "defaults":
                defaults = _defaults(path, v, defaults, keyer)
                continue
            if key == "lists":
                _add_lists(path, v, keyer, lists, origins)
                continue
            if not isinstance(v, yaml.SequenceNode):
                raise _err(path, v, "rules must be a list")
            for item in v.value:
                rule = _rule(path, item, keyer, lists)
                if rule.id in seen:
                    raise _err(
                        path, item, f"duplicate rule id {rule.id!r} (first at {seen[rule.id]})"
                    )
                seen[rule.id] = rule.origin
                rules.append(rule)
    return RuleSet(tuple(rules), defaults)
