"""One person, one case history: joining a resident's email and Telegram identities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.message import mailbox_domains, mailbox_key
from workflow.models import Case, Identity, LinkCode, Message, OutboxItem, Resident
from workflow.rows import Prepared, adopt, insert_row

# Plain columns, labelled per table: the ORM's entity loading costs twice a Core SELECT, and
# this runs for every incoming message.
_RESIDENT_COLS = [c.label(f"r_{c.key}") for c in Resident.__table__.columns]
_IDENTITY_COLS = [c.label(f"i_{c.key}") for c in Identity.__table__.columns]
_FIND = Prepared(
    select(*_RESIDENT_COLS, *_IDENTITY_COLS)
    .join_from(Identity, Resident, Identity.resident_id == Resident.id)
    .where(Identity.channel == bindparam("channel"), Identity.address == bindparam("address")))


async def find_identity(session: AsyncSession, channel: str, address: str
                        ) -> tuple[Resident, Identity] | None:
    row = (await _FIND.run(session, {"channel": channel, "address": address})).first()
    if row is None:
        return None
    m = row._asdict()
    resident = adopt(session, Resident, {c.key: m[f"r_{c.key}"] for c in Resident.__table__.c})
    ident = adopt(session, Identity, {c.key: m[f"i_{c.key}"] for c in Identity.__table__.c})
    return resident, ident


async def find_alias(session: AsyncSession, channel: str, address: str
                     ) -> tuple[Resident, Identity] | None:
    """The identity stored under another spelling of the same mailbox (``ivanov@yandex.ru``
    for a letter from ``ivanov@ya.ru``), for a sender whose exact address is unknown.

    The stored addresses are as typed, so the spellings are compared in Python; the query
    reads only the family's domains and the login's first letter (no spelling moves it), and
    runs only for an address a provider aliases."""
    domains = mailbox_domains(channel, address)
    if not domains:
        return None
    key = mailbox_key(channel, address)
    rows = await session.scalars(
        select(Identity.address).where(
            Identity.channel == channel,
            or_(*(Identity.address.ilike(f"{key[0]}%@{domain}") for domain in sorted(domains))))
        .order_by(Identity.id))
    same = next((a for a in rows if a != address and mailbox_key(channel, a) == key), None)
    return await find_identity(session, channel, same) if same is not None else None


async def find_or_create(session: AsyncSession, channel: str, address: str, now: datetime, *,
                         name: str | None = None, language: str = "ru",
                         building_id: int | None = None, apartment: str | None = None,
                         phone: str | None = None) -> tuple[Resident, Identity, bool]:
    """The person behind a channel address, created on first contact (third item: new)."""
    found = await find_identity(session, channel, address)
    if found is not None:
        return found[0], found[1], False
    resident, ident = await create_resident(
        session, channel, address, now, name=name, language=language,
        building_id=building_id, apartment=apartment, phone=phone)
    return resident, ident, True


async def create_resident(session: AsyncSession, channel: str, address: str, now: datetime, *,
                          name: str | None, language: str, building_id: int | None,
                          apartment: str | None, phone: str | None
                          ) -> tuple[Resident, Identity]:
    """A new person known by one channel address (the caller checked there was none)."""
    resident = await insert_row(session, Resident, name=name, language=language,
                                building_id=building_id, apartment=apartment, phone=phone,
                                created_at=now)
    ident = await insert_row(session, Identity, resident_id=resident.id, channel=channel,
                             address=address, created_at=now)
    return resident, ident


async def merge_residents(session: AsyncSession, keep_id: int, merge_id: int) -> None:
    """Move everything of ``merge_id`` onto ``keep_id``; the merged row stays as a tombstone
    with no identities, so old audit references still resolve."""
    if keep_id == merge_id:
        return
    for model in (Identity, Case, Message, OutboxItem):
        await session.execute(update(model).where(model.resident_id == merge_id)
                              .values(resident_id=keep_id))
    await session.execute(delete(LinkCode).where(LinkCode.resident_id == merge_id))
    keep = await session.get_one(Resident, keep_id)
    gone = await session.get_one(Resident, merge_id)
    keep.name = keep.name or gone.name
    keep.phone = keep.phone or gone.phone
    keep.building_id = keep.building_id or gone.building_id
    keep.apartment = keep.apartment or gone.apartment


async def redeem_link_code(session: AsyncSession, code: str, channel: str, address: str,
                           now: datetime, *, name: str | None = None) -> Resident | None:
    """``/link CODE``: the identity (channel, address) joins the resident who got the code.

    Returns that resident, or None for an unknown or expired code. The code is single-use.
    """
    link = await session.get(LinkCode, code.strip().upper())
    if link is None or link.expires_at <= now:
        return None
    ident = await session.scalar(select(Identity).where(Identity.channel == channel,
                                                        Identity.address == address))
    if ident is None:
        session.add(Identity(resident_id=link.resident_id, channel=channel, address=address,
                             created_at=now))
    else:
        await merge_residents(session, link.resident_id, ident.resident_id)
    await session.delete(link)
    resident = await session.get_one(Resident, link.resident_id)
    resident.name = resident.name or name
    await session.flush()
    return resident
