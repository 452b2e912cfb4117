"""``domovoy classify``: label text, score a labelled file, record and review corrections."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from domovoy.app import build_app, build_classifier, freeze_startup
from domovoy.config import Config
from intake.classifier import Classifier
from intake.classifier.engine import default_rule_files
from intake.classifier.evaluate import evaluate, format_report
from intake.classifier.learned import MODEL_PATH, LearnedModel
from intake.labels import AXES
from workflow.cases import CaseNotFound
from workflow.models import Case, Correction

# Options that mean something only beside another one: given alone they used to be ignored
# without a word (``--eval`` without ``--jsonl`` classified the text instead).
NEEDS = {"eval": "jsonl", "with_corrections": "train", "model_out": "train", "axes": "train",
         "keep_current": "train"}


def _lines(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not a JSON line ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text", ""), str):
            raise ValueError(f"{path}:{n}: expected an object with a text field")
        if not isinstance(row.get("subject") or "", str):
            raise ValueError(f"{path}:{n}: the subject must be a string")
        rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no JSON lines in it")
    return rows


def _unlabelled(rows: list[dict[str, Any]]) -> tuple[int, list[str]] | None:
    """The first line lacking a gold label on some axis, and which: scoring needs all four."""
    for n, row in enumerate(rows, 1):
        missing = [axis for axis in AXES if axis not in row]
        if missing:
            return n, missing
    return None


def _changes(labels: list[str]) -> dict[str, str]:
    """``axis=value`` words as a correction, checked before any database is opened: an
    unknown label or axis used to surface as a traceback from the enum."""
    if not labels:
        raise ValueError("give the corrected labels as axis=value, e.g. category=heating")
    changes: dict[str, str] = {}
    for item in labels:
        axis, sep, value = item.partition("=")
        axis, value = axis.strip(), value.strip()
        if not sep or not value:
            raise ValueError(f"expected axis=value, got {item!r}")
        if axis not in AXES:
            raise ValueError(f"unknown axis {axis!r}; use {', '.join(AXES)}")
        known = [v.value for v in AXES[axis]]
        if value not in known:
            raise ValueError(f"unknown {axis} {value!r}; use one of {', '.join(known)}")
        changes[axis] = value
    return changes


def _label_file(clf: Classifier, rows: list[dict[str, Any]]) -> None:
    for n, row in enumerate(rows, 1):
        c = clf.classify(row.get("text") or "", row.get("subject") or "")
        print(json.dumps({"id": row.get("id", n), **c.as_dict()}, ensure_ascii=False))


async def _correct(config: Config, number: str, labels: list[str]) -> int:
    try:
        changes = _changes(labels)
    except ValueError as exc:
        print(f"domovoy classify --correct: {exc}", file=sys.stderr)
        return 2
    app = await build_app(config, mirror_org=False)
    try:
        result = await app.cases.reclassify(number, "cli", changes)
    except CaseNotFound:
        print(f"domovoy classify --correct: no case {number!r} in the database",
              file=sys.stderr)
        return 2
    finally:
        await app.close()
    print(f"{result.case_number}: corrected ({', '.join(f'{k}={v}' for k, v in changes.items())})")
    return 0


async def _misfires(config: Config, top: int = 20) -> int:
    """Rules that fired on cases whose labels staff changed, most often first."""
    app = await build_app(config, mirror_org=False)
    try:
        async with app.wf.sessions() as session:
            corrections = (await session.scalars(select(Correction))).all()
    finally:
        await app.close()
    if not corrections:
        print("no staff corrections recorded yet")
        return 0
    blamed: Counter[tuple[str, str]] = Counter()
    for c in corrections:
        for rule in c.rules:
            # A rule is blamed on the axis it decides (rule ids start with the axis name).
            if str(rule).split(".", 1)[0] == c.axis:
                blamed[(str(rule), f"{c.old_value} → {c.new_value}")] += 1
    print(f"{len(corrections)} correction(s); rules most often overruled:")
    for (rule, change), count in blamed.most_common(top):
        print(f"{count:5d}  {rule:45s} {change}")
    return 0


async def _train(config: Config, files: list[Path], with_corrections: bool,
                 out: Path | None, axes: list[str] | None = None,
                 keep_current: float | None = None) -> int:
    """Train the model beside the rules on labelled files and, optionally, on the cases
    staff corrected (their current labels are the corrected ones). The rules alone give the
    features, so a missing or outdated model file is no obstacle to rebuilding it.

    ``axes`` retrains only those and keeps the others of the current model: an office can
    teach it its departments from new cases without touching the kind axis, whose mistakes
    (a resident's report set aside as "other") cost the most."""
    clf = Classifier.from_paths(list(config.classifier_rules) or default_rule_files())
    rows: list[dict[str, Any]] = []
    for path in files:
        rows.extend(_lines(path))
    unlabelled = [n for n, r in enumerate(rows, 1) if "kind" not in r]
    if unlabelled:
        print(f"domovoy classify --train: line {unlabelled[0]} of the input has no gold "
              "'kind' label", file=sys.stderr)
        return 2
    corrected = 0
    if with_corrections:
        app = await build_app(config, mirror_org=False)
        try:
            async with app.wf.sessions() as session:
                cases = (await session.execute(
                    select(Case.text, Case.subject, Case.kind, Case.category, Case.scope,
                           Case.urgency)
                    .where(Case.id.in_(select(Correction.case_id))))).all()
        finally:
            await app.close()
        rows.extend(dict(c._mapping) for c in cases)
        corrected = len(cases)
    model = LearnedModel.train(({"kind": r["kind"], "category": r.get("category", ""),
                              "scope": r.get("scope", ""), "urgency": r.get("urgency", "")},
                             clf.features(r.get("text") or "", r.get("subject") or ""))
                            for r in rows)
    target = out or MODEL_PATH
    if keep_current is not None:
        model = model.averaged(LearnedModel.source(MODEL_PATH), keep_current)
    if axes:
        untaught = [axis for axis in axes if axis not in (model.axes or {})]
        if untaught:
            print(f"domovoy classify --train: the files have one label only for "
                  f"{', '.join(untaught)}; kept as the current model has it", file=sys.stderr)
        model = model.keeping(LearnedModel.source(MODEL_PATH), retrained=axes)
    model.save(target)
    print(f"model: {len(rows) - corrected} labelled message(s) and {corrected} corrected "
          f"case(s) -> {target}" + (f" (retrained: {', '.join(axes)})" if axes else "")
          + (f" (the current model's share: {keep_current:g})" if keep_current is not None
             else ""))
    return 0


async def classify(args: argparse.Namespace, config: Config) -> int:
    alone = [f"--{opt.replace('_', '-')} needs --{need}" for opt, need in NEEDS.items()
             if getattr(args, opt) and not getattr(args, need)]
    if alone:
        print(f"domovoy classify: {'; '.join(alone)}", file=sys.stderr)
        return 2
    if args.train:
        try:
            return await _train(config, list(args.train), args.with_corrections, args.model_out,
                                args.axes, args.keep_current)
        except (OSError, ValueError) as exc:
            print(f"domovoy classify --train: {exc}", file=sys.stderr)
            return 2
    if args.correct:
        return await _correct(config, args.correct, ([args.text] if args.text else [])
                              + args.labels)
    if args.misfires:
        return await _misfires(config)
    try:
        clf = build_classifier(config)
    except ValueError as exc:  # RulesError: names the rules file and line
        print(f"domovoy classify: {exc}", file=sys.stderr)
        return 2
    freeze_startup()
    if args.jsonl:
        try:
            rows = _lines(args.jsonl)
        except (OSError, ValueError) as exc:
            print(f"domovoy classify: {exc}", file=sys.stderr)
            return 2
        if args.eval:
            unlabelled = _unlabelled(rows)
            if unlabelled:
                n, axes = unlabelled
                print(f"domovoy classify --eval: {args.jsonl}:{n}: no gold "
                      f"{', '.join(axes)} label (an --eval file needs "
                      f"{', '.join(AXES)})", file=sys.stderr)
                return 2
            print(format_report(evaluate(clf, rows, repeat=3)))
        else:
            _label_file(clf, rows)
        return 0
    if args.text is None:
        print("domovoy classify: give a text, or --jsonl FILE", file=sys.stderr)
        return 2
    # Unquoted words (``classify течёт кран``) are one message, not the first word alone.
    text = " ".join([args.text, *args.labels])
    print(json.dumps(clf.classify(text, args.subject).as_dict(), ensure_ascii=False))
    return 0
