"""The ``domovoy`` command line. Every command loads the config once and builds what it needs.

Errors an operator can fix (bad config, missing file) are one readable line and exit code 2;
nothing here prints a traceback for them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from domovoy.config import Config, ConfigError, DatabaseUnavailable, NoDatabase, load_config

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
MAX_REPORT_DAYS = 36600  # a century: more is a typo, and the dates before it do not exist


def _report_days(text: str) -> int:
    """``--days 0`` or ``-7`` printed a report whose period ended before it began, and a
    huge number crashed on a date before year 1."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") \
            from None
    if not 1 <= days <= MAX_REPORT_DAYS:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_REPORT_DAYS} days, got {days}")
    return days


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="config file (default: $DOMOVOY_CONFIG, else built-in defaults)")
    p = argparse.ArgumentParser(prog="domovoy", parents=[common],
                                description="Intake bot for housing management companies.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", parents=[common], help="run the channels, outbox and scheduler")
    sub.add_parser("check-config", parents=[common], help="validate the config and exit")
    db = sub.add_parser("db", parents=[common], help="database maintenance")
    db.add_argument("action", choices=["upgrade"])

    c = sub.add_parser("classify", parents=[common], help="label text with the classifier")
    c.add_argument("text", nargs="?", help="a message to classify")
    c.add_argument("--subject", default="")
    c.add_argument("--jsonl", type=Path, help="file of {id, text[, subject]} lines")
    c.add_argument("--eval", action="store_true", help="score a labelled --jsonl file")
    c.add_argument("--correct", metavar="CASE", help="record a staff correction for CASE")
    c.add_argument("labels", nargs="*", default=[], help="with --correct: axis=value ...")
    c.add_argument("--misfires", action="store_true",
                   help="rules most often overruled by staff corrections")
    c.add_argument("--train", nargs="+", type=Path, metavar="FILE",
                   help="rebuild the word model from labelled --jsonl-style files")
    c.add_argument("--with-corrections", action="store_true",
                   help="with --train: also learn from the cases staff have corrected")
    c.add_argument("--model-out", type=Path, metavar="PATH",
                   help="with --train: where to write the model (default: the shipped one)")
    c.add_argument("--axes", nargs="+", choices=["kind", "category", "scope", "urgency"],
                   metavar="AXIS",
                   help="with --train: retrain only these axes (kind, category, scope, urgency) "
                        "and keep the others from the current model")
    c.add_argument("--keep-current", type=float, metavar="SHARE",
                   help="with --train: average the new model with the current one, which "
                        "keeps this share of the say (0-1), so what it learned from data you "
                        "no longer have is not forgotten")

    e = sub.add_parser("ingest-eml", parents=[common],
                       help="import raw mail files (.eml, .box, .mbox, folders)")
    e.add_argument("paths", nargs="+", type=Path)
    e.add_argument("--json", action="store_true", help="one JSON line per message")
    e.add_argument("--dry-run", action="store_true", help="roll back; send nothing")

    sub.add_parser("status", parents=[common], help="channel health and queue sizes")
    sub.add_parser("requeue", parents=[common], help="retry quarantined input")
    links = sub.add_parser("links", parents=[common],
                           help="print each building's bot deep link and write QR codes")
    links.add_argument("--out", type=Path, default=Path("var/links"))
    rep = sub.add_parser("report", parents=[common],
                         help="managers' report: volumes, SLA, recurring problems, ratings")
    rep.add_argument("--days", type=_report_days, default=30,
                     help="whole days before today in office time (default 30; a multiple "
                          "of 7 gives Monday-to-Sunday weeks)")
    rep.add_argument("--to-now", action="store_true",
                     help="run the period up to this moment, today's cases included (a "
                          "manager asking at noon about this morning)")
    demo = sub.add_parser("demo", parents=[common], help="run the self-contained demo")
    demo.add_argument("--quiet", action="store_true")
    return p


def _interrupt(signum: int, frame: object) -> None:
    """Python's own Ctrl-C behaviour, under a name asyncio.run does not replace."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    previous = signal.getsignal(signal.SIGINT)
    if args.command not in ("run", "demo") and previous is signal.default_int_handler:
        # asyncio.run's own Ctrl-C handler only asks the main task to stop at its next await:
        # a command busy in plain Python (classify --jsonl, --train) ran on to the end and
        # --train then wrote its model anyway. Ours stops it where it is; ``run`` and
        # ``demo`` stop on the signal themselves, cleaning up their services.
        signal.signal(signal.SIGINT, _interrupt)
    try:
        config = load_config(getattr(args, "config", None))
        return asyncio.run(_dispatch(args, config))
    except ConfigError as exc:
        print(f"domovoy: bad config: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NoDatabase as exc:
        print(f"domovoy {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnavailable as exc:
        print(f"domovoy {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"domovoy {args.command}: interrupted; what was committed before stays, the rest "
              "was not done", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (``domovoy classify --jsonl … | head``): nothing is wrong here,
        # and Python's flush at exit must not raise again on the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    finally:
        signal.signal(signal.SIGINT, previous)


async def _dispatch(args: argparse.Namespace, config: Config) -> int:
    command = args.command
    if command == "check-config":
        where = (getattr(args, "config", None) or os.environ.get("DOMOVOY_CONFIG")
                 or "(defaults)")
        from domovoy.commands import channels_on
        print(f"{where}: OK — {len(config.buildings)} building(s), "
              f"{len(config.staff)} staff, channels: {channels_on(config) or 'none'}")
        print(f"database: {_database_in_words(config)}")
        return 0
    from domovoy import commands
    from domovoy.app import require_database, sqlite_file

    if _reads_existing_data(args):
        await require_database(config.database.url, _url_key())
    new_file = sqlite_file(config.database.url)
    if new_file is not None and new_file.exists():
        new_file = None
    if command == "db":
        from sqlalchemy.engine import make_url

        from domovoy.app import upgrade_database

        await upgrade_database(config.database.url)
        # the URL without its password, which this line printed for all to see
        where = make_url(config.database.url).render_as_string(hide_password=True)
        print(f"created a new database at {new_file}" if new_file else
              f"database at {where} is up to date")
        return 0
    if new_file is not None and (command == "run"
                                 or (command == "ingest-eml" and not args.dry_run)):
        # these start a new office's database, and a mistyped path starts one too: say so
        print(f"domovoy {command}: no database at {new_file} yet ({_url_key()}): "
              "creating a new one", file=sys.stderr)
    if command == "classify":
        from domovoy.classify_cmd import classify

        return await classify(args, config)
    if command == "ingest-eml":
        if args.dry_run and new_file is not None:
            return await _dry_run_elsewhere(args, config, new_file)
        return await commands.ingest_eml(args, config)
    if command == "status":
        return await commands.status(config)
    if command == "requeue":
        return await commands.requeue(config)
    if command == "links":
        return await commands.links(args, config)
    if command == "report":
        from domovoy.app import build_app
        from workflow.reports import build_report, report_period

        app = await build_app(config, mirror_org=False)  # it reads; the org is run's to change
        try:
            now = app.wf.clock.now()
            since, until = report_period(now, config.timezone, args.days)
            if args.to_now:
                until = now
            async with app.wf.sessions() as session:
                report = await build_report(session, since, until, now=now)
            print(app.wf.renderer.render("report", config.default_language, rep=report,
                                         office=config.office_name).text)
        finally:
            await app.close()
        return 0
    if command == "run":
        from domovoy.runner import run

        await run(config)
        return 0
    if command == "demo":
        from domovoy.demo import run_demo

        return await run_demo(quiet=args.quiet)
    raise AssertionError(command)


async def _dry_run_elsewhere(args: argparse.Namespace, config: Config, missing: Path) -> int:
    """``ingest-eml --dry-run`` where the office has no database yet: the mail is tried
    against an empty one in a temporary folder. It keeps nothing either way, so it must not
    leave a new database at ``database.url`` (it did), and it must work on a fresh machine
    with no configuration, as every other way of trying Domovoy on a mail does (it was
    refused)."""
    import tempfile

    from domovoy import commands

    print(f"domovoy ingest-eml: no database at {missing} ({_url_key()}): trying the mail "
          "against an empty one, kept nowhere (nothing to thread into)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="domovoy-dry-run-") as folder:
        scratch = f"sqlite+aiosqlite:///{Path(folder) / 'dry-run.sqlite3'}"
        database = config.database.model_copy(update={"url": scratch})
        return await commands.ingest_eml(args, config.model_copy(update={"database": database}))


def _reads_existing_data(args: argparse.Namespace) -> bool:
    """Commands that only read or act on what a database already holds: pointed at a path
    with no database (a typo), they used to create an empty one and report an office with
    no cases. ``run``, ``demo``, ``db upgrade`` and ``ingest-eml`` start a new office's
    (``ingest-eml --dry-run``, which keeps nothing, tries the mail in a scratch one)."""
    if args.command in ("status", "report", "requeue"):
        return True
    if args.command == "classify":
        return bool(args.with_corrections if args.train else args.correct or args.misfires)
    return False


def _database_in_words(config: Config) -> str:
    """Where the database is, checked without opening it: a mistyped SQLite path shows here,
    before ``run`` starts a new office's database there."""
    from sqlalchemy.engine import make_url

    from domovoy.app import sqlite_file

    path = sqlite_file(config.database.url)
    if path is None:
        return make_url(config.database.url).render_as_string(hide_password=True)
    if path.exists():
        return str(path)
    return (f"{path} (no such file yet: `domovoy run` or `domovoy db upgrade` would create "
            "a new database there)")


def _url_key() -> str:
    """Where the database URL came from, in the operator's words."""
    if "DOMOVOY_DATABASE_URL" in os.environ:
        return "database.url, set by DOMOVOY_DATABASE_URL"
    return "database.url"


