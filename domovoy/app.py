"""The composition root: reads nothing global, builds every part from one Config."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from domovoy.config import Config
from intake.classifier import Classifier
from intake.classifier.learned import LearnedModel
from workflow.cases import CaseActions
from workflow.clock import Clock, SystemClock
from workflow.context import Workflow
from workflow.db import make_engine, session_factory, upgrade
from workflow.escalation import Escalator
from workflow.intake import IntakeService
from workflow.notify import Notifier
from workflow.org import sync_organisation
from workflow.outbox import OutboxDispatcher, Sender
from workflow.render import Renderer


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
                    classifier: Classifier | None = None) -> App:
    """Upgrade the schema, mirror the organisation, and wire the services together."""
    if migrate:
        await upgrade(config.database.url)
    engine = make_engine(config.database.url, echo=config.database.echo,
                         sqlite_driver=config.database.sqlite_driver)
    sessions = session_factory(engine)
    settings = config.workflow
    async with sessions.begin() as session:
        buildings = await sync_organisation(session, settings)
    wf = Workflow(sessions=sessions, clock=clock or SystemClock(), settings=settings,
                  classifier=classifier or build_classifier(config),
                  renderer=Renderer(settings.timezone), buildings=buildings)
    senders: dict[str, Sender] = {}
    notifier = Notifier(wf)
    outbox = OutboxDispatcher(sessions, wf.clock, senders,
                              on_permanent_failure=notifier.undeliverable)
    wf.wake_outbox = outbox.wake
    return App(config=config, engine=engine, wf=wf, intake=IntakeService(wf),
               cases=CaseActions(wf), escalator=Escalator(wf), outbox=outbox, senders=senders)
