"""Who hears about a change, through which channel, in which words.

Residents are written to on the channel they used, falling back to another identity they have
when that one is unreachable. Staff notifications go to the ``staff`` channel with a symbolic
recipient (``chat:<building>``, ``staff:<id>``, ``managers``) that the staff-chat adapter resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.message import HTML_CHANNELS, REACHABLE_CHANNELS
from workflow.context import Workflow
from workflow.models import Case, Event, Identity, Message, OutboxItem, Resident, Staff
from workflow.outbox import STAFF_CHANNEL, PermanentSendError, Queued, enqueue
from workflow.rows import Prepared, adopt


def pick_identity(identities: Sequence[Identity], prefer: str | None,
                  skip: frozenset[str] = frozenset()) -> Identity | None:
    """The identity to write to: the preferred channel if reachable, else any reachable one;
    never one whose address is in ``skip``."""
    usable = [i for i in identities if not i.unreachable and i.channel in REACHABLE_CHANNELS
              and (not skip or i.address.lower() not in skip)]
    return next((i for i in usable if i.channel == prefer), usable[0] if usable else None)


# Where a case keeps the addresses whose sender asked for no automatic answers (the channel
# sets ``InboundMessage.no_auto_reply``): in the case row's own explanation, so every notice
# about the case honours it without another query, and no schema change was needed.
_HELD = "no_auto_reply"


def held_addresses(case: Case) -> frozenset[str]:
    """The addresses no automatic message about ``case`` may go to (staff's own still do)."""
    return frozenset(case.explanation.get(_HELD, ())) if case.explanation else frozenset()


def hold_automatic(explanation: dict[str, Any], address: str) -> dict[str, Any]:
    """``explanation`` (a case's) with ``address`` held from automatic messages: the sender
    asked never to be answered automatically, and a stage notice or a rating request is as
    automatic as the acknowledgement. A new dict, so the ORM sees the change."""
    held = set(explanation.get(_HELD, ())) | {address.lower()}
    return {**explanation, _HELD: sorted(held)}


# Built once: every message to a resident runs these, and building a statement costs about
# as much as running it.
_IDENTITIES = Prepared(select(*Identity.__table__.c)
                       .where(Identity.resident_id == bindparam("rid")).order_by(Identity.id))
_REFS = Prepared(
    select(Message.external_id)
    .where(Message.case_id == bindparam("case_id"), Message.channel == bindparam("channel"),
           Message.external_id.is_not(None))
    .order_by(Message.id))


async def identities_of(session: AsyncSession, resident_id: int) -> Sequence[Identity]:
    rows = await _IDENTITIES.run(session, {"rid": resident_id})
    return [adopt(session, Identity, row._asdict()) for row in rows]


async def reachable_identity(session: AsyncSession, resident_id: int,
                             prefer: str | None) -> Identity | None:
    return pick_identity(await identities_of(session, resident_id), prefer)


async def conversation_refs(session: AsyncSession, case_id: int, channel: str) -> list[str]:
    """External ids of the case's messages on a channel, oldest first (email References)."""
    rows = await _REFS.run(session, {"case_id": case_id, "channel": channel})
    return [r for (r,) in rows if r]


def staff_payload(case_id: int | None, case_number: str | None, subject: str, text: str,
                  language: str, level: int | None = None,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a staff-channel item carries; the staff sender reads these keys."""
    return {"case_id": case_id, "case_number": case_number, "subject": subject, "text": text,
            "language": language, "level": level, **(extra or {})}


class Notifier:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf

    async def _facts(self, session: AsyncSession, case: Case) -> dict[str, Any]:
        assignee = await session.get(Staff, case.assignee_id) if case.assignee_id else None
        return {"case": case, "building": self.wf.building(case.building_id),
                "assignee": assignee, "office": self.wf.settings.office_name}

    async def resident(
        self, session: AsyncSession, case: Case, template: str, *, key: str,
        automatic: bool = True, staff_id: int | None = None,
        first_contact: tuple[Resident, Identity, str] | None = None, **context: Any,
    ) -> Queued | None:
        """Queue a message to the case's resident; None if they cannot be reached at all.

        ``first_contact`` (resident, identity, inbound external id) is the intake's shortcut
        for a brand-new resident: nothing to look up, no history to rate-limit against.
        An ``automatic`` message (acknowledgement, stage notice, rating request) never goes to
        an address that asked for none (:func:`held_addresses`); staff's own words do.
        """
        if case.resident_id is None:
            return None
        resident = (first_contact[0] if first_contact is not None
                    else await session.get_one(Resident, case.resident_id))
        skip = held_addresses(case) if automatic else frozenset()
        route = await self._route(session, resident, case.channel, first_contact, skip)
        if route is None:
            return None
        ident, addresses = route
        if first_contact is not None:
            refs = [first_contact[2]] if ident.channel == case.channel else []
        else:
            refs = await conversation_refs(session, case.id, ident.channel)
        facts = await self._facts(session, case)
        del facts["case"]  # passed on its own below
        return await self._queue(session, resident, ident, addresses, template, key=key,
                                 case=case, refs=refs, automatic=automatic,
                                 staff_id=staff_id, rate_limited=first_contact is None,
                                 **facts, **context)

    async def direct(
        self, session: AsyncSession, resident: Resident, template: str, *, key: str,
        prefer: str | None, first_contact: tuple[Resident, Identity, str] | None = None,
        **context: Any,
    ) -> Queued | None:
        """A message to a resident outside any case (e.g. about an unfiled message)."""
        route = await self._route(session, resident, prefer, first_contact)
        if route is None:
            return None
        ident, addresses = route
        return await self._queue(session, resident, ident, addresses, template, key=key,
                                 case=None, refs=[], automatic=True, staff_id=None,
                                 rate_limited=first_contact is None,
                                 office=self.wf.settings.office_name, **context)

    async def _route(self, session: AsyncSession, resident: Resident, prefer: str | None,
                     first_contact: tuple[Resident, Identity, str] | None,
                     skip: frozenset[str] = frozenset()
                     ) -> tuple[Identity, tuple[str, ...]] | None:
        if first_contact is not None:
            if first_contact[1].address.lower() in skip:
                return None
            return first_contact[1], (first_contact[1].address,)
        identities = await identities_of(session, resident.id)
        ident = pick_identity(identities, prefer=prefer, skip=skip)
        return (ident, tuple(i.address for i in identities)) if ident is not None else None

    async def _queue(
        self, session: AsyncSession, resident: Resident, ident: Identity,
        addresses: tuple[str, ...], template: str, *, key: str, case: Case | None,
        refs: list[str], automatic: bool, staff_id: int | None, rate_limited: bool,
        **context: Any,
    ) -> Queued | None:
        lang = resident.language or self.wf.settings.default_language
        context.setdefault("case", case)
        # ``via``: the channel this message goes out on, which is not the case's own when that
        # one is unreachable ("reply to this email" must not reach a Telegram chat)
        rendered = self.wf.renderer.render(template, lang, html=ident.channel in HTML_CHANNELS,
                                           resident=resident, via=ident.channel, **context)
        payload = {
            "case_number": case.number if case else None, "subject": rendered.subject,
            "text": rendered.text, "html": rendered.html,  # None for plain-text channels
            "references": refs, "language": lang, "template": template, "staff_id": staff_id,
            **({"actions": context["actions"]} if "actions" in context else {}),
            **({"origin": context["origin"]} if context.get("origin") else {}),
        }
        limit = self.wf.settings.limits.automatic_per_address_per_hour
        return await enqueue(
            session, now=self.wf.clock.now(), channel=ident.channel, recipient=ident.address,
            purpose=template, key=key, payload=payload, case_id=case.id if case else None,
            resident_id=resident.id, automatic=automatic,
            rate_limit=limit if rate_limited else None, rate_addresses=addresses,
        )

    async def staff(
        self, session: AsyncSession, case: Case | None, template: str, *, key: str,
        recipients: list[str], extra: dict[str, Any] | None = None, render: bool = True,
        **context: Any,
    ) -> None:
        """``render=False`` for case cards: the staff channel draws them from the case at
        delivery (and redraws them on every change), so words rendered now would be stale."""
        if render:
            facts = (await self._facts(session, case) if case is not None
                     else {"case": None, "office": self.wf.settings.office_name})
            rendered = self.wf.renderer.render(template, self.wf.settings.default_language,
                                               html=False, **facts, **context)
            subject, text = rendered.subject, rendered.text
        else:
            subject = text = ""
        payload = staff_payload(case.id if case else None, case.number if case else None,
                                subject, text, self.wf.settings.default_language,
                                context.get("level"), extra)
        for recipient in recipients:
            await enqueue(
                session, now=self.wf.clock.now(), channel=STAFF_CHANNEL, recipient=recipient,
                purpose=template, key=f"{key}:{recipient}", payload=payload,
                case_id=case.id if case else None, automatic=False,
            )

    def staff_chat(self, case: Case) -> list[str]:
        building = self.wf.building(case.building_id)
        return [f"chat:{building.code}" if building else "chat:"]

    async def undeliverable(self, session: AsyncSession, item: OutboxItem,
                            exc: PermanentSendError) -> None:
        """A message could not be delivered: record it, try another identity, tell staff."""
        now = self.wf.clock.now()
        case = await session.get(Case, item.case_id) if item.case_id else None
        if case is None:
            return  # a report or a notice about no case: `domovoy status` lists it as failed
        if item.channel == STAFF_CHANNEL:
            await self._staff_undeliverable(session, item, case, exc)
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
                payload = {**item.payload,
                           "references": await conversation_refs(session, case.id,
                                                                 ident.channel)}
                await enqueue(session, now=now, channel=ident.channel, recipient=ident.address,
                              purpose=item.purpose, payload=payload,
                              key=f"{item.idempotency_key}:fallback:{ident.channel}",
                              case_id=case.id, resident_id=case.resident_id,
                              automatic=item.automatic)
        await self.staff(session, case, "delivery_failed", key=f"undeliverable:{item.id}",
                         recipients=self.staff_chat(case),
                         channel=item.channel, recipient=item.recipient, reason=str(exc),
                         fallback=fallback.channel if fallback else None)

    async def _staff_undeliverable(self, session: AsyncSession, item: OutboxItem, case: Case,
                                   exc: PermanentSendError) -> None:
        """A ping to a staff member or to the managers did not arrive (they never started the
        bot, their account is gone, the bot was removed from the managers' chat). It used to
        fail unseen; now it is on the case's history, and the case's staff chat is told so
        someone passes it on. A failure of the staff chat itself, or of this very notice, is
        only recorded: posting it there would fail again, and again."""
        now = self.wf.clock.now()
        session.add(Event(case_id=case.id, at=now, actor="system", action="delivery_failed",
                          note=f"{item.channel} {item.recipient} ({item.purpose}): {exc}"))
        if item.recipient.startswith("chat:") or item.purpose == "staff_undeliverable":
            return
        staff = None
        if item.recipient.startswith("staff:") and item.recipient[6:].isdigit():
            staff = await session.get(Staff, int(item.recipient[6:]))
        await self.staff(session, case, "staff_undeliverable", key=f"undeliverable:{item.id}",
                         recipients=self.staff_chat(case), purpose=item.purpose,
                         staff_name=staff.name if staff else None, reason=str(exc))

