"""``domovoy run``: the channels, the outbox and the scheduler in one process.

Channels are optional: a section left out of the config disables that channel. The demo
starts exactly the same services, pointed at local peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from domovoy.app import App, build_app, freeze_startup
from domovoy.config import Config
from intake.email.loops import DEFAULT_AUTHORITY_DOMAINS, PUBLIC_MAIL_DOMAINS
from workflow.clock import Clock
from workflow.reports import queue_report
from workflow.scheduler import build_scheduler

if TYPE_CHECKING:
    from bot.sender import SendLimits

log = logging.getLogger(__name__)

OUTBOX_TICK_S = 10.0
DEADLINE_TICK_S = 60.0
STOP_TIMEOUT_S = 10.0
# How long a stop waits for the outbox's sends under way to be answered and recorded.
OUTBOX_DRAIN_S = 5.0
# Message-IDs' domain when nothing in the config names one
NO_MAIL_DOMAIN = "domovoy.invalid"


@dataclass
class Services:
    app: App
    channels: list[Any] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def stop(self) -> None:
        """Cancel and wait, but never forever: a peer that stops answering (or a library that
        swallows the cancellation) must not keep the process from exiting. The outbox first
        finishes the sends under way (and records them), so none goes twice after a restart."""
        if not await self.app.outbox.drain(OUTBOX_DRAIN_S):
            log.warning("an outbox send was still under way after %g s; it may go again after "
                        "the restart", OUTBOX_DRAIN_S)
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            done, pending = await asyncio.wait(self.tasks, timeout=STOP_TIMEOUT_S)
            for task in done:
                if not task.cancelled():
                    task.exception()  # retrieved: it is being shut down either way
            for task in pending:
                log.error("%s did not stop within %g s; exiting without it", task.get_name(),
                          STOP_TIMEOUT_S)
        for channel in self.channels:
            close = getattr(channel, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(close(), STOP_TIMEOUT_S)
        await self.app.close()


def own_addresses(config: Config) -> frozenset[str]:
    """The office's own mailboxes, and ``*@<domain>`` for its colleagues' mailboxes on the
    office's mail domain (see :func:`intake.email.loops.is_colleague`): a dispatcher copying
    the inbox on her answer to a resident is no resident to acknowledge. Not for a public
    provider's domain (an office writing from a Gmail box has residents there too)."""
    addrs = {config.smtp.from_address.lower()} if config.smtp else set()
    if config.imap and "@" in config.imap.username:
        addrs.add(config.imap.username.lower())
    domain = mail_domain(config).lower()
    if domain != NO_MAIL_DOMAIN and domain not in PUBLIC_MAIL_DOMAINS:
        addrs.add(f"*@{domain}")
    return frozenset(addrs)


def authority_domains(config: Config) -> tuple[str, ...]:
    """Where state bodies' notices come from: the IMAP section's list, else the built-in one
    (``ingest-eml`` and ``requeue`` run without a mailbox configured)."""
    return config.imap.authority_domains if config.imap else DEFAULT_AUTHORITY_DOMAINS


def mail_domain(config: Config) -> str:
    if config.mail_domain:
        return config.mail_domain
    if config.smtp and "@" in config.smtp.from_address:
        return config.smtp.from_address.rsplit("@", 1)[1]
    return NO_MAIL_DOMAIN


async def start_services(config: Config, *, clock: Clock | None = None,
                         telegram_session: Any = None,
                         telegram_limits: SendLimits | None = None,
                         scheduler: bool = True) -> Services:
    """Build the app and start everything the config switches on; returns a handle to stop.
    ``telegram_limits``: Telegram's own unless given, as the demo does for its compressed
    day."""
    app = await build_app(config, clock=clock)
    services = Services(app)
    if config.imap or config.smtp:
        from intake.email.channel import EmailChannel

        email = EmailChannel(config.imap, config.smtp, app.intake, app.wf,
                             own_addresses=own_addresses(config), mail_domain=mail_domain(config))
        services.channels.append(email)
        if email.sender is not None:
            app.register_sender("email", email.sender)
    if config.telegram:
        from bot.channel import TelegramChannel

        telegram = TelegramChannel(config.telegram, app.wf, app.intake, app.cases,
                                   session=telegram_session, limits=telegram_limits)
        services.channels.append(telegram)
        app.register_sender("telegram", telegram.resident_sender)
        app.register_sender("staff", telegram.staff_sender)
    services.tasks.append(asyncio.create_task(app.outbox.run(), name="outbox"))
    for channel in services.channels:
        services.tasks.append(asyncio.create_task(channel.run(), name=type(channel).__name__))
    if scheduler:
        sched = build_scheduler({
            "outbox": (app.outbox.deliver_due, IntervalTrigger(seconds=OUTBOX_TICK_S)),
            "deadlines": (app.escalator.run_pass, IntervalTrigger(seconds=DEADLINE_TICK_S)),
            "weekly_report": (lambda: queue_report(app.wf),
                              CronTrigger(day_of_week="mon", hour=9, timezone=config.timezone)),
        })
        sched.start()
        services.tasks.append(asyncio.create_task(_hold(sched), name="scheduler"))
    return services


async def _hold(sched: Any) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        sched.shutdown(wait=False)


async def run(config: Config) -> None:
    services = await start_services(config)
    freeze_startup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    log.warning("domovoy running: %s", ", ".join(type(c).__name__ for c in services.channels)
                or "no channels configured (intake via CLI only)")
    try:
        done_waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([done_waiter, *services.tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in services.tasks:
            if task.done() and not task.cancelled() and task.exception():
                log.error("service %s stopped: %r", task.get_name(), task.exception())
    finally:
        await services.stop()
