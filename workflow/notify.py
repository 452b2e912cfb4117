"""Who hears about a change, through which channel, in which words.

Residents are written to on the channel they used, falling back to another identity they have
when that one is unreachable. Staff notifications go to the ``staff`` channel with a symbolic
recipient (``chat:<building>``, ``staff:<id>``, ``managers``) that the staff-chat adapter resolves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.context import Workflow
from workflow.models import Building, Case, Event, Identity, Message, OutboxItem, Resident, Staff
from workflow.outbox import STAFF_CHANNEL, PermanentSendError, enqueue

RESIDENT_CHANNELS = ("telegram", "email")


async def reachable_identity(session: AsyncSession, resident_id: int,
                             prefer: str | None) -> Identity | None:
    ids = (await session.scalars(
        select(Identity).where(Identity.resident_id == resident_id,
                               Identity.unreachable.is_(False),
                               Identity.channel.in_(RESIDENT_CHANNELS))
        .order_by(Identity.id))).all()
    for ident in ids:
        if ident.channel == prefer:
            return ident
    return ids[0] if ids else None


async def conversation_refs(session: AsyncSession, case_id: int, channel: str) -> list[str]:
    """External ids of the case's messages on a channel, oldest first (email References)."""
    rows = await session.scalars(
        select(Message.external_id).where(Message.case_id == case_id, Message.channel == channel,
                                          Message.external_id.is_not(None))
        .order_by(Message.id))
    return [r for r in rows if r]


def case_context(case: Case, building: Building | None, assignee: Staff | None) -> dict[str, Any]:
    return {"case": case, "building": building, "assignee": assignee}


class Notifier:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf

    async def _facts(self, session: AsyncSession, case: Case) -> dict[str, Any]:
        building = await session.get(Building, case.building_id) if case.building_id else None
        assignee = await session.get(Staff, case.assignee_id) if case.assignee_id else None
        return {**case_context(case, building, assignee), "office": self.wf.settings.office_name}

    async def resident(
        self, session: AsyncSession, case: Case, template: str, *, key: str,
        automatic: bool = True, staff_id: int | None = None, **context: Any,
    ) -> OutboxItem | None:
        """Queue a message to the case's resident; None if they cannot be reached at all."""
        if case.resident_id is None:
            return None
        resident = await session.get_one(Resident, case.resident_id)
        ident = await reachable_identity(session, resident.id, prefer=case.channel)
        if ident is None:
            return None
        lang = resident.language or self.wf.settings.default_language
        facts = await self._facts(session, case)
        rendered = self.wf.renderer.render(template, lang, **facts, resident=resident, **context)
        addresses = tuple((await session.scalars(
            select(Identity.address).where(Identity.resident_id == resident.id))).all())
        payload = {
            "case_number": case.number, "subject": rendered.subject, "text": rendered.text,
            "html": rendered.html if ident.channel == "email" else None,
            "references": await conversation_refs(session, case.id, ident.channel),
            "language": lang, "template": template, "staff_id": staff_id,
            **({"actions": context["actions"]} if "actions" in context else {}),
        }
        return await enqueue(
            session, now=self.wf.clock.now(), channel=ident.channel, recipient=ident.address,
            purpose=template, key=key, payload=payload, case_id=case.id, resident_id=resident.id,
            automatic=automatic, rate_limit=self.wf.settings.limits.automatic_per_address_per_hour,
            rate_addresses=addresses,
        )

    async def staff(
        self, session: AsyncSession, case: Case | None, template: str, *, key: str,
        recipients: list[str], **context: Any,
    ) -> None:
        facts = await self._facts(session, case) if case is not None else {}
        rendered = self.wf.renderer.render(template, self.wf.settings.default_language,
                                           **facts, **context)
        for recipient in recipients:
            await enqueue(
                session, now=self.wf.clock.now(), channel=STAFF_CHANNEL, recipient=recipient,
                purpose=template, key=f"{key}:{recipient}",
                payload={"case_number": case.number if case else None,
                         "case_id": case.id if case else None,
                         "subject": rendered.subject, "text": rendered.text,
                         "language": self.wf.settings.default_language,
                         "level": context.get("level")},
                case_id=case.id if case else None, automatic=False,
            )

    async def staff_chat(self, session: AsyncSession, case: Case) -> list[str]:
        building = await session.get(Building, case.building_id) if case.building_id else None
        return [f"chat:{building.code}" if building else "chat:"]

    async def undeliverable(self, session: AsyncSession, item: OutboxItem,
                            exc: PermanentSendError) -> None:
        """A message could not be delivered: record it, try another identity, tell staff."""
        now = self.wf.clock.now()
        case = await session.get(Case, item.case_id) if item.case_id else None
        if item.channel == STAFF_CHANNEL or case is None:
            return
        if exc.unreachable:
            ident = await session.scalar(select(Identity).where(
                Identity.channel == item.channel, Identity.address == item.recipient))
            if ident is not None:
                ident.unreachable = True
                ident.unreachable_reason = str(exc)
        session.add(Event(case_id=case.id, at=now, actor="system", action="delivery_failed",
                          note=f"{item.channel} {item.recipient}: {exc}"))
        fallback = None
        if exc.unreachable and case.resident_id is not None:
            ident = await reachable_identity(session, case.resident_id, prefer=None)
            if ident is not None and ident.channel != item.channel:
                fallback = ident
                # The words are already rendered; only the route changes.
                payload = {**item.payload, "html": None,
                           "references": await conversation_refs(session, case.id,
                                                                 ident.channel)}
                await enqueue(session, now=now, channel=ident.channel, recipient=ident.address,
                              purpose=item.purpose, payload=payload,
                              key=f"{item.idempotency_key}:fallback:{ident.channel}",
                              case_id=case.id, resident_id=case.resident_id,
                              automatic=item.automatic)
        await self.staff(session, case, "delivery_failed", key=f"undeliverable:{item.id}",
                         recipients=await self.staff_chat(session, case),
                         channel=item.channel, recipient=item.recipient, reason=str(exc),
                         fallback=fallback.channel if fallback else None)
