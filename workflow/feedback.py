"""Residents' ratings after resolution: from Telegram buttons or a one-digit email reply."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.models import Case, Event, Feedback

# A reply that is just a score ("5", "4 — спасибо", "3/5") and short enough to be nothing else,
# after at most a greeting, thanks or "Оценка:" ("Спасибо! 5", "Здравствуйте, УК «Домовой».
# 5" as The Bat!'s template writes it).
_LEAD = (r"(?:(?:здравствуйте|добрый (?:день|вечер)|спасибо(?: большое| огромное)?|благодарю|"
         r"hello|hi|thanks|thank you|(?:моя )?оценка|ставлю|оцениваю(?: на)?|(?:my )?rating|"
         r"score)\b(?:(?!кв|квартир|дом\b|подъезд|этаж|flat|apt)[^\d\n]){0,40}?[\s.!,:;—–-]*){0,4}")
_RATING = re.compile(
    rf"^\s*{_LEAD}([1-5])\s*(?:/\s*5|из\s*5|out of 5)?(?![\d.,:])[\s.!,)—–-]*(.*)$",
    re.DOTALL | re.IGNORECASE)
MAX_RATING_REPLY = 300


def parse_rating(text: str) -> tuple[int, str | None] | None:
    if len(text) > MAX_RATING_REPLY:
        return None
    m = _RATING.match(text)
    if m is None:
        return None
    comment = m.group(2).strip()
    return int(m.group(1)), comment or None


async def record_feedback(session: AsyncSession, case: Case, resident_id: int, rating: int,
                          comment: str | None, now: datetime) -> None:
    """One rating per case; a later one replaces it (residents change their minds)."""
    if not 1 <= rating <= 5:
        raise ValueError("rating must be 1–5")
    fb = await session.scalar(select(Feedback).where(Feedback.case_id == case.id))
    if fb is None:
        session.add(Feedback(case_id=case.id, rating=rating, comment=comment, at=now))
    else:
        fb.rating, fb.comment, fb.at = rating, comment or fb.comment, now
    session.add(Event(case_id=case.id, at=now, actor=f"resident:{resident_id}", action="rated",
                      note=f"{rating}" + (f": {comment}" if comment else "")))
