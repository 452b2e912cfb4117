"""Mirror the configured organisation (buildings, staff) into the database at start-up.

The file is the source of truth; rows are updated in place so case history keeps its links,
and staff removed from the file are deactivated rather than deleted.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.models import Building, Staff
from workflow.settings import WorkflowSettings


async def sync_organisation(session: AsyncSession, settings: WorkflowSettings) -> None:
    buildings = {b.code: b for b in (await session.scalars(select(Building))).all()}
    for cfg in settings.buildings:
        row = buildings.get(cfg.code) or Building(code=cfg.code)
        row.address = cfg.address
        row.staff_chat_id = cfg.staff_chat_id
        session.add(row)
    staff = {s.telegram_user_id: s for s in (await session.scalars(select(Staff))).all()}
    configured = set()
    for s in settings.staff:
        configured.add(s.telegram_user_id)
        row = staff.get(s.telegram_user_id) or Staff(telegram_user_id=s.telegram_user_id)
        row.name, row.username, row.role = s.name, s.username, s.role
        row.departments = list(s.departments)
        row.active = True
        session.add(row)
    for uid, row in staff.items():
        if uid not in configured:
            row.active = False
