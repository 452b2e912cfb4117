"""APScheduler only triggers passes; every bit of per-case state is in the database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

log = logging.getLogger(__name__)


def build_scheduler(jobs: dict[str, tuple[Callable[[], Awaitable[object]], BaseTrigger]]
                    ) -> AsyncIOScheduler:
    """One job per pass; ``coalesce`` and one instance so a slow pass never piles up."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for name, (fn, trigger) in jobs.items():
        scheduler.add_job(fn, trigger, id=name, name=name,
                          coalesce=True, max_instances=1, misfire_grace_time=None)
    return scheduler
