"""The composition root: reads nothing global, builds every part from one Config."""

from __future__ import annotations

import gc
import logging
import re
import socket
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from domovoy.config import Config, DatabaseUnavailable, NoDatabase
from intake.classifier import Classifier
from intake.classifier.learned import LearnedModel
from workflow.cases import CaseActions
from workflow.clock import Clock, SystemClock
from workflow.context import Workflow
from workflow.db import SCHEMA_HEAD, make_engine, schema_revision, session_factory, upgrade
from workflow.escalation import Escalator
from workflow.intake import IntakeService
from workflow.notify import Notifier
from workflow.org import load_buildings, sync_organisation
from workflow.outbox import OutboxDispatcher, Sender
from workflow.render import Renderer

log = logging.getLogger(__name__)


def _reason(exc: BaseException) -> str:
    """What went wrong, in a sentence: the driver's own words where it has them."""
    if isinstance(exc, ConnectionRefusedError):
        return "nothing answers at that host and port (is the server running?)"
    if isinstance(exc, socket.gaierror):
        return "the host name is not known"
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).strip().splitlines()[0]
    missing = re.search(r"Can't locate revision identified by '([^']+)'", str(exc))
    if missing:
        return (f"it is at migration {missing.group(1)}, newer than this Domovoy knows "
                f"(its newest is {SCHEMA_HEAD}): run the Domovoy that upgraded it, or point "
                "database.url at this version's database")
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and exc.filename:
        return f"{exc.filename} is a file, where a folder was expected"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {exc.filename}" if exc.filename else "")
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _unavailable(url: str, exc: Exception) -> DatabaseUnavailable | None:
    """The failures an operator causes (a server that is down, a wrong database name, a file
    that is no database, a database from a newer Domovoy) as :class:`DatabaseUnavailable`;
    None for anything else, which is a bug to show with its traceback."""
    # Alembic's own error, without importing Alembic where the upgrade did not need it
    alembic_errors = sys.modules.get("alembic.util.exc")
    if not isinstance(exc, (SQLAlchemyError, OSError, sqlite3.Error,
                            *([alembic_errors.CommandError] if alembic_errors else []))):
        return None
    log.debug("opening the database failed", exc_info=True)
    where = make_url(url).render_as_string(hide_password=True)
    path = sqlite_file(url)
    # SQLite says only "unable to open database file" of a folder
    reason = (f"{path} is a folder, where a database file was expected"
              if path is not None and path.is_dir() else _reason(exc))
    return DatabaseUnavailable(f"cannot open the database {where}: {reason}")


async def upgrade_database(url: str) -> None:
    """:func:`workflow.db.upgrade`, with the failures an operator causes raised as
    :class:`DatabaseUnavailable` instead of the driver's traceback."""
    try:
        await upgrade(url)
    except Exception as exc:
        unavailable = _unavailable(url, exc)
        if unavailable is None:
            raise
        raise unavailable from exc


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, as an absolute path (a relative one is relative to the
    folder the command runs in); None for an in-memory database or another server."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


async def require_database(url: str, key: str = "database.url") -> None:
    """Refuse, with :class:`NoDatabase`, a database Domovoy never set up, before a command
    that only reads or acts on existing data opens it (opening creates and migrates one).
    ``key`` says where the operator set the URL (``database.url``, or the variable).
    Creates nothing, not even a folder."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        folder = "" if path.parent.is_dir() else f", nor the folder {path.parent}"
        raise NoDatabase(f"no database at {path}: there is no such file{folder} ({key}); "
                         "check the path, or create a new database there with "
                         "`domovoy db upgrade`")
    try:
        revision = await schema_revision(url)
    except Exception as exc:
        unavailable = _unavailable(url, exc)
        if unavailable is None:
            raise
        raise unavailable from exc
    if revision is None:
        where = path or make_url(url).render_as_string(hide_password=True)
        raise NoDatabase(f"no Domovoy database at {where}: it has no Domovoy tables ({key}); "
                         f"check the {'path' if path else 'name'}, or set one up there with "
                         "`domovoy db upgrade`")


@dataclass
class App:
    config: Config
    engine: AsyncEngine
    wf: Workflow
    intake: IntakeService
    cases: CaseActions
    escalator: Escalator
    outbox: OutboxDispatcher
    senders: dict[str, Sender] = field(default_factory=dict)

    def register_sender(self, channel: str, sender: Sender) -> None:
        self.senders[channel] = sender

    async def close(self) -> None:
        await self.engine.dispose()


def freeze_startup() -> None:
    """Exempt what start-up built (rules, model, mappings: a few hundred thousand objects that
    live as long as the process) from the garbage collector's full passes. Each such pass
    would otherwise walk all of them: on a labelled set, one pass cost ~70 ms and warm
    classification fell from ~5,700 to ~3,400 messages/s."""
    gc.collect()
    gc.freeze()


def build_classifier(config: Config) -> Classifier:
    if config.classifier_rules:
        return Classifier.from_paths(list(config.classifier_rules), model=LearnedModel.load())
    return Classifier.default()


async def build_app(config: Config, *, clock: Clock | None = None, migrate: bool = True,
                    classifier: Classifier | None = None, mirror_org: bool = True) -> App:
    """Upgrade the schema, mirror the organisation, and wire the services together.

    ``mirror_org=False`` leaves the buildings and staff as the database has them, for a
    command that only reads: run without the office's config, it would mark every staff
    member inactive."""
    if migrate:
        await upgrade_database(config.database.url)
    engine = make_engine(config.database.url, echo=config.database.echo,
                         sqlite_driver=config.database.sqlite_driver)
    sessions = session_factory(engine)
    settings = config.workflow
    async with sessions.begin() as session:
        buildings = await (sync_organisation(session, settings) if mirror_org
                           else load_buildings(session))
    wf = Workflow(sessions=sessions, clock=clock or SystemClock(), settings=settings,
                  classifier=classifier or build_classifier(config),
                  renderer=Renderer(settings.timezone), buildings=buildings)
    senders: dict[str, Sender] = {}
    notifier = Notifier(wf)
    outbox = OutboxDispatcher(
        sessions, wf.clock, senders, on_permanent_failure=notifier.undeliverable,
        expire_after={"ack": timedelta(hours=settings.limits.acknowledgement_expiry_h)})
    wf.wake_outbox = outbox.wake
    return App(config=config, engine=engine, wf=wf, intake=IntakeService(wf),
               cases=CaseActions(wf), escalator=Escalator(wf), outbox=outbox, senders=senders)
