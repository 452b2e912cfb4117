"""Small builders shared by the workflow tests."""

from __future__ import annotations

import itertools
from datetime import datetime

from intake.message import Automated, Channel, InboundMessage, PresetLabels, SenderIdentity

_ids = itertools.count(1)


def tg_message(user: int, text: str, now: datetime, *, building: str | None = "lenina-5",
               apartment: str | None = "12", preset: PresetLabels | None = None,
               hints: tuple[str, ...] = (), burst: str | None = None,
               lang: str = "ru") -> InboundMessage:
    return InboundMessage(
        channel=Channel.TELEGRAM, external_id=f"{user}:{next(_ids)}",
        sender=SenderIdentity(Channel.TELEGRAM, str(user), f"Житель {user}", lang),
        text=text, received_at=now, building_code=building, apartment=apartment,
        preset=preset, thread_hints=hints, burst_key=burst,
    )


def mail(sender: str | None, text: str, now: datetime, *, subject: str = "Обращение",
         message_id: str | None = None, hints: tuple[str, ...] = (),
         automated: Automated | None = None, bounced: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel=Channel.EMAIL, external_id=message_id or f"m{next(_ids)}@resident.example",
        sender=SenderIdentity(Channel.EMAIL, sender, None) if sender else None,
        subject=subject, text=text, received_at=now, thread_hints=hints,
        automated=automated, bounced_recipient=bounced,
    )


LEAK = PresetLabels(kind="request", category="plumbing", urgency="normal", scope="unit")
OUTAGE = PresetLabels(kind="complaint", category="electrical", urgency="high", scope="building")
