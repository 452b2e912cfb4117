"""Mirror the configured organisation (buildings, staff) into the database at start-up.

The file is the source of truth; rows are updated in place so case history keeps its links,
and staff removed from the file are deactivated rather than deleted (unless the file names no
staff at all: then it is not the office's file, and they are left as they are).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.context import BuildingInfo
from workflow.models import Building, Staff
from workflow.settings import WorkflowSettings

log = logging.getLogger(__name__)


async def sync_organisation(session: AsyncSession,
                            settings: WorkflowSettings) -> dict[int, BuildingInfo]:
    buildings = {b.code: b for b in (await session.scalars(select(Building))).all()}
    for cfg in settings.buildings:
        building = buildings.get(cfg.code) or Building(code=cfg.code)
        building.address = cfg.address
        building.staff_chat_id = cfg.staff_chat_id
        session.add(building)
    staff = {s.telegram_user_id: s for s in (await session.scalars(select(Staff))).all()}
    configured = set()
    for s in settings.staff:
        configured.add(s.telegram_user_id)
        row = staff.get(s.telegram_user_id) or Staff(telegram_user_id=s.telegram_user_id)
        row.name, row.username, row.role = s.name, s.username, s.role
        row.departments = list(s.departments)
        row.active = True
        session.add(row)
    if configured:
        for uid, row in staff.items():
            if uid not in configured:
                row.active = False
    elif any(row.active for row in staff.values()):
        # A config naming no staff at all is a command run without the office's file (the
        # defaults), not an office that let everyone go: deactivating them all locked every
        # one of them out of the running bot.
        log.warning("the config names no staff: the %d staff member(s) in the database are "
                    "left as they are", sum(row.active for row in staff.values()))
    await session.flush()
    return await load_buildings(session)


async def load_buildings(session: AsyncSession) -> dict[int, BuildingInfo]:
    """The buildings as the database has them, changing nothing: for commands that only read
    (``status``, ``report``), which may be run without the office's config file; mirrored
    from the defaults, they marked every staff member inactive, and the running bot then
    refused them all."""
    rows = (await session.scalars(select(Building))).all()
    return {b.id: BuildingInfo(b.id, b.code, b.address, b.staff_chat_id) for b in rows}
