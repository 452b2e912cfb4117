"""Residents' ratings after resolution: from Telegram buttons or a one-digit email reply."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.models import Case, Event, Feedback
from workflow.stages import Stage

# A score written as a word: a school grade ("ставлю пятёрку", "кол") on its own, a number
# word only before "баллов"/"звёзд" or after a marker ("оценка пять"), a grade adverb only after
# a marker ("оценка отлично", "на отлично": "Хорошо, спасибо" alone is no score). Text is
# matched with "ё" folded to "е".
_WORD_VALUES = {
    "единиц": 1, "единичк": 1, "кол": 1, "двойк": 2, "двоечк": 2, "тройк": 3, "троечк": 3,
    "четверк": 4, "четверочк": 4, "пятерк": 5, "пятерочк": 5,
    "один": 1, "одн": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
    "отлично": 5, "хорошо": 4, "удовлетворительно": 3, "неудовлетворительно": 2, "плохо": 2,
    "ужасно": 1,
}
_GRADE = (r"(?:(?:единиц|единичк|двойк|двоечк|тройк|троечк|четверк|четверочк|пятерк|пятерочк)"
          r"[аеиуы]|кол)\b")
# A digit or number followed by one of these counts something, it does not score: "1 раз за
# 10 лет", "2 недели ждали", "3 дня не было воды", "на 5 этаже", "1-й раз", "5,5", "5.12".
_COUNT = (r"(?!\d|[.,:]\d|:|-?[^\W\d_]|\s*(?:раз|дн|ден|сут|лет|год|час|мин|сек|недел|месяц|мес\b|"
          r"этаж|подъезд|кв|дом|человек|чел\b|градус|процент|руб|тыс|шт|числ|"
          r"times?\b|days?\b|hours?\b|weeks?\b|months?\b|years?\b|min|floor|flat|apt|[%°₽]))")
_CARDINAL = rf"(?:один|одна|одну|два|две|три|четыре|пять)\b{_COUNT}"
_ADVERB = r"(?:отлично|хорошо|удовлетворительно|неудовлетворительно|плохо|ужасно)\b"
_STAR = "⭐★🌟"
_STARS = rf"(?:[{_STAR}]\ufe0f?\s?){{1,5}}(?:☆\s?){{0,4}}(?![{_STAR}])"
# "1." or "1)" before more text starts a numbered list ("1. Никто не пришёл."), not a score.
_DIGIT = rf"(?:[2-5]|1(?![.)]\s*\S)){_COUNT}"
_UNIT = r"(?:\s*(?:балл|звезд|stars?\b|points?\b)\w*)?(?:\s*(?:/\s*5|из\s*(?:5|пяти)|out of 5))?"
# Words that name the score that follows: "Оценка: 5", "ставлю пятёрку", "на 5". Only "на"
# right before the score counts at the start of a reply: as a lead it would let "На кухне снова
# течёт 2 крана" through.
_MARKER = r"(?:(?:моя |my )?(?:оценк[аиу]|rating|score)|ставлю|ставим|оцениваю(?: на)?|на|give)"
_SAID = rf"{_MARKER}\s*[:—–-]?\s*(?P<said>{_ADVERB}|{_CARDINAL})"
_SCORE = (rf"(?:{_SAID}|(?:на\s+)?(?P<score>{_DIGIT}|{_GRADE}|{_STARS}"
          rf"|{_CARDINAL}(?=\s*(?:балл|звезд|из)))){_UNIT}")
# A reply that is just a score ("5", "4 — спасибо", "3/5", "5, спасибо!", "⭐⭐⭐⭐⭐") and short
# enough to be nothing else, after at most a greeting, thanks or "Оценка:" ("Спасибо! 5",
# "Здравствуйте, УК «Домовой».\n\n5" as The Bat!'s template writes it, "Отлично! 5"). Not
# "Хорошо, …": "хорошо, но 2 крана так и текут" is no score.
_LEAD = (r"(?:(?:здравствуйте|добрый (?:день|вечер)|"
         r"(?:большое |огромное )?спасибо(?: большое| огромное)?|благодарю|"
         r"(?:все )?(?:отлично|супер)|"
         r"hello|hi|thanks|thank you|(?:моя )?оценка|ставлю|оцениваю(?: на)?|(?:my )?rating|"
         r"score)\b(?:(?!кв|квартир|дом\b|подъезд|этаж|flat|apt)[^\d\n]){0,40}?[\s.!,:;—–-]*){0,4}")
_RATING = re.compile(rf"^\s*{_LEAD}{_SCORE}[\s.!,)—–-]*(?P<comment>.*)$",
                     re.DOTALL | re.IGNORECASE)
# ... or a reply that ends by giving one: "Мастер пришёл вовремя, ставлю 5 :)", "Отлично,
# спасибо! Ставлю пятёрку.", "Всё сделали на отлично!". The words before it are the comment.
_LAST_RATING = re.compile(
    rf"\b(?:{_SAID}|{_MARKER}\s*[:—–-]?\s*(?P<score>{_DIGIT}|{_GRADE}|{_STARS})){_UNIT}\W*$",
    re.IGNORECASE)
MAX_RATING_REPLY = 300


def parse_rating(text: str) -> tuple[int, str | None] | None:
    """The score (1–5) and the rest as a comment, when ``text`` is a rating reply."""
    if len(text) > MAX_RATING_REPLY:
        return None
    folded = text.replace("ё", "е").replace("Ё", "Е")  # same length: spans index ``text`` too
    m = _RATING.match(folded)
    if m is not None:
        comment = text[m.start("comment"):].strip()
    elif (m := _LAST_RATING.search(folded)) is not None:
        comment = text[:m.start()].strip(" \t\n,.;:—–-")
    else:
        return None
    return _value(m["said"] or m["score"]), comment or None


# What a mail client or our own subject puts before the words a resident types there: "Re:",
# "Fwd:", "Отв:", "RE[2]:", "[A-1042]".
_SUBJECT_LABELS = re.compile(r"^(?:\s*(?:\[[^\]]*\]|[^\W\d_]{1,6}\s*(?:\[\d+\])?\s*:))*")


def subject_rating(subject: str, text: str) -> tuple[int, str | None] | None:
    """A score typed over the subject of our "please rate" letter ("Re: [A-1042] Обращение
    решено" edited to "5" or "Оценка 5"), when the letter's own words give none: those words
    (a "Спасибо!", a sign-off) are its comment. A subject left as it was scores nothing, and
    neither does one whose digit may count what follows it ("2 крана текут")."""
    said = _SUBJECT_LABELS.sub("", subject).strip()
    found = parse_rating(said) if said and not bare_score(said) else None
    if found is None:
        return None
    score, comment = found
    body = text.strip()
    if body and body != said:
        comment = f"{comment}\n{body}" if comment else body
    return score, comment


# A reply that opens with a lone digit and a word: "2 крана так и текут" counts taps, where
# "2, мастер опоздал" or "Оценка 2: мастер опоздал" scores.
_BARE_SCORE = re.compile(r"^\s*\d\s+(?!балл|звезд|из\b|stars?\b|points?\b)[^\W\d_]",
                         re.IGNORECASE)


def bare_score(text: str) -> bool:
    """Whether a rating's score is a digit that could as well count what follows it."""
    return _BARE_SCORE.match(text) is not None


def _value(score: str) -> int:
    """The number a matched score stands for: a digit, a row of stars or a word."""
    score = score.lower()
    if score[0].isdigit():
        return int(score[0])
    if score[0] in _STAR:
        return sum(score.count(star) for star in _STAR)
    return next(v for stem, v in _WORD_VALUES.items() if score.startswith(stem))


class NotRateable(ValueError):
    """A rating for a case still being worked on: there is no job done yet to score (an old
    "rate" button pressed after the case reopened, or a caller that skipped the check)."""

    def __init__(self, number: str, stage: str) -> None:
        super().__init__(f"case {number} is {stage}: only a resolved or closed case is rated")
        self.number = number
        self.stage = stage


async def record_feedback(session: AsyncSession, case: Case, resident_id: int, rating: int,
                          comment: str | None, now: datetime) -> None:
    """One rating per case; a later one replaces it whole (residents change their minds, and
    the words of a 5 read beside a later 1 would say the opposite of the score). Raises
    :class:`NotRateable` while the case is open: every channel goes through here, not only
    the bot, which checks the stage itself."""
    if not 1 <= rating <= 5:
        raise ValueError("rating must be 1–5")
    if case.stage not in (Stage.RESOLVED, Stage.CLOSED):
        raise NotRateable(case.number, case.stage)
    fb = await session.scalar(select(Feedback).where(Feedback.case_id == case.id))
    if fb is None:
        session.add(Feedback(case_id=case.id, rating=rating, comment=comment, at=now))
    else:
        fb.rating, fb.comment, fb.at = rating, comment, now
    session.add(Event(case_id=case.id, at=now, actor=f"resident:{resident_id}", action="rated",
                      note=f"{rating}" + (f": {comment}" if comment else "")))
