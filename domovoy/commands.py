"""What the ``domovoy`` subcommands do; ``domovoy.cli`` parses arguments and calls these.

Each command builds the application from the config it is given (so a test can call it with
its own config) and returns the process exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from domovoy.app import build_app
from domovoy.config import Config

# --- channels ------------------------------------------------------------------------------


def channels_on(config: Config) -> str:
    """The configured channels in words, e.g. ``telegram, email (IMAP in, SMTP out)``."""
    parts: list[str] = []
    if config.telegram:
        parts.append("telegram")
    if config.imap and config.smtp:
        parts.append("email (IMAP in, SMTP out)")
    elif config.imap:
        parts.append("email (IMAP in only: no replies by email)")
    elif config.smtp:
        parts.append("email (SMTP out only: no mailbox polled)")
    return ", ".join(parts)


# --- ingest-eml ----------------------------------------------------------------------------


def _short(text: Any, width: int) -> str:
    value = " ".join(str(text or "").split())
    return value if len(value) <= width else value[: width - 1] + "…"


async def ingest_eml(args: argparse.Namespace, config: Config) -> int:
    """Feed mail files through the IMAP path; exit 1 when any file was rejected."""
    from domovoy.runner import authority_domains, own_addresses
    from intake.email.backlog import ingest_files

    app = await build_app(config)
    counts: Counter[str] = Counter()
    try:
        async for row in ingest_files(app.intake, list(args.paths), dry_run=args.dry_run,
                                      own_addresses=own_addresses(config),
                                      authority_domains=authority_domains(config)):
            if not counts and not args.json:  # the header once there is a row under it
                print(f"{'action':<18} {'case':<10} {'sender':<32} subject / error")
            counts[row["action"]] += 1
            if args.json:
                print(json.dumps(row, ensure_ascii=False, default=str), flush=True)
            else:
                detail = row["error"] if row["error"] else row["subject"]
                print(f"{row['action']:<18} {row['case'] or '-':<10} "
                      f"{_short(row['sender'] or '-', 32):<32} {_short(detail, 60)}")
                print(f"{'':<18} {_short(row['file'], 100)}")
    finally:
        await app.close()
    if not counts:
        # a folder holding no .eml/.box/.mbox (or the wrong folder) read as a clean import
        print("domovoy ingest-eml: no mail files (.eml, .box, .mbox) in "
              f"{', '.join(str(p) for p in args.paths)}", file=sys.stderr)
        return 1
    if not args.json:
        summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
        mode = " (dry run: nothing kept, nothing sent)" if args.dry_run else ""
        print(f"{sum(counts.values())} message(s): {summary}{mode}")
    return 1 if counts["rejected"] else 0


# --- status --------------------------------------------------------------------------------


def _when(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    """A moment as the office reads it: in its time zone (``tz``), not the server's UTC."""
    if value is None:
        return "never"
    return (value.astimezone(tz) if tz else value).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


async def status(config: Config) -> int:
    """Channel health (last poll, last error as a sentence), outbox and quarantine sizes."""
    from intake.email.imap import HEALTH_CHANNEL as IMAP_HEALTH
    from intake.quarantine import pending_count
    from workflow.health import read_health
    from workflow.models import OutboxItem

    app = await build_app(config, mirror_org=False)  # it reads; the org is run's to change
    try:
        health = await read_health(app.wf.sessions)
        async with app.wf.sessions() as session:
            rows = (await session.execute(
                select(OutboxItem.state, OutboxItem.channel, func.count(OutboxItem.id))
                .group_by(OutboxItem.state, OutboxItem.channel))).all()
            # why messages wait: an SMTP login refused shows here on its first failure
            waiting = (await session.execute(
                select(OutboxItem.channel, OutboxItem.last_error, OutboxItem.next_attempt_at)
                .where(OutboxItem.state == "pending", OutboxItem.last_error.is_not(None))
                .order_by(OutboxItem.id.desc()).limit(50))).all()
            # and why the last ones were given up on: "3 failed" alone sent the operator to
            # the database
            failed = (await session.execute(
                select(OutboxItem.channel, OutboxItem.last_error)
                .where(OutboxItem.state == "failed", OutboxItem.last_error.is_not(None))
                .order_by(OutboxItem.id.desc()).limit(50))).all()
        quarantined = await pending_count(app.wf.sessions)
    finally:
        await app.close()
    tz = ZoneInfo(config.timezone)
    print(f"channels: {channels_on(config) or 'none configured'}")
    if not health:
        print("health: no channel has polled yet")
    # A channel taken out of the config keeps its row: shown as FAILING (or OK) for ever, it
    # sent the operator after a mailbox Domovoy no longer reads.
    configured = {IMAP_HEALTH: config.imap is not None}
    for h in health:
        if not configured.get(h.channel, True):
            print(f"{h.channel}: not configured now (last poll {_when(h.last_poll_at, tz)})")
            continue
        ok = h.last_error_at is None or (h.last_ok_at is not None
                                         and h.last_ok_at >= h.last_error_at)
        print(f"{h.channel}: {'OK' if ok else 'FAILING'}; last poll {_when(h.last_poll_at, tz)}, "
              f"last success {_when(h.last_ok_at, tz)}")
        if h.last_error:
            print(f"  last error ({_when(h.last_error_at, tz)}): {h.last_error}")
    by_state: Counter[str] = Counter()
    detail: dict[str, list[str]] = {}
    for state, channel, n in rows:
        by_state[state] += n
        detail.setdefault(state, []).append(f"{channel} {n}")
    # "skipped": staff notices with no staff chat configured; they were left out of the
    # counts, so the outbox's numbers did not add up to what the cases had queued
    skipped = (f", {by_state['skipped']} skipped (no staff chat configured)"
               if by_state["skipped"] else "")
    expired = (f", {by_state['expired']} expired (acknowledgements too late to send)"
               if by_state["expired"] else "")
    print(f"outbox: {by_state['pending']} pending, {by_state['failed']} failed, "
          f"{by_state['sent']} sent, {by_state['suppressed']} suppressed{skipped}{expired}")
    for state in ("pending", "failed"):
        if detail.get(state):
            print(f"  {state}: {', '.join(sorted(detail[state]))}")
    newest: dict[str, tuple[str | None, datetime]] = {}
    for channel, error, due in waiting:  # newest first: one line a channel
        newest.setdefault(channel, (error, due))
    for channel, (error, due) in sorted(newest.items()):
        print(f"  {channel} retrying (next try {_when(due, tz)}): {error}")
    given_up: dict[str, str | None] = {}
    for channel, error in failed:  # newest first
        given_up.setdefault(channel, error)
    for channel, error in sorted(given_up.items()):
        print(f"  {channel} given up, the last: {error}")
    print(f"quarantine: {quarantined} message(s) waiting"
          + (" (retry with `domovoy requeue`)" if quarantined else ""))
    return 0


# --- requeue -------------------------------------------------------------------------------


async def requeue(config: Config) -> int:
    """Retry quarantined input; exit 1 when something still fails."""
    from domovoy.runner import authority_domains, own_addresses
    from intake.quarantine import requeue as requeue_items

    app = await build_app(config)
    try:
        lines = await requeue_items(app.intake, app.wf.sessions,
                                    own_addresses=own_addresses(config),
                                    authority_domains=authority_domains(config))
    finally:
        await app.close()
    for line in lines:
        print(line)
    failing = sum(1 for line in lines if "still failing" in line)
    print(f"requeue: {len(lines) - failing} resolved, {failing} still failing"
          if lines else "requeue: quarantine is empty")
    return 1 if failing else 0


# --- links ---------------------------------------------------------------------------------


async def links(args: argparse.Namespace, config: Config) -> int:
    """Deep links and QR codes. An ``--out`` that is a file, or a folder we may not write,
    used to end in a traceback after Telegram had been asked; now it is named, and a file
    is refused before asking."""
    from bot.links import main as print_links

    if args.out.exists() and not args.out.is_dir():
        print(f"domovoy links: --out {args.out} is a file; give a folder for the QR codes",
              file=sys.stderr)
        return 2
    try:
        return await print_links(config.telegram, list(config.buildings), args.out)
    except OSError as exc:
        print(f"domovoy links: cannot write the QR codes to {args.out}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
