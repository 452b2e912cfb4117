"""Which building and flat a message is about, when the channel could not say.

Telegram residents register with a building; email residents just write "ул. Ленина, д. 5,
кв. 45". Without this, their cases would join no incident and show no address to staff.
Pure functions over the configured buildings: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workflow.context import BuildingInfo

_STREET_WORDS = {"ул", "улица", "пр", "пр-т", "проспект", "пер", "переулок", "ш", "шоссе",
                 "б-р", "бульвар", "пл", "площадь", "наб", "набережная", "д", "дом", "корп",
                 "к", "стр", "street", "st", "road", "rd", "avenue", "ave", "lane", "house"}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?", re.UNICODE)
_NUMBER = re.compile(r"\b(\d{1,4})\s*([а-яa-z])?\b", re.IGNORECASE)
_APARTMENT = re.compile(
    r"(?:\bкв(?:артир[аеуы])?\.?|\bapt\.?|\bapartment|\bflat)\s*:?\s*(?:№|no\.?|#)?\s*(\d{1,4}[а-яa-z]?)\b",
    re.IGNORECASE)


def _street_and_number(address: str) -> tuple[str, str] | None:
    words = [w for w in _WORD.findall(address.lower()) if w not in _STREET_WORDS]
    number = _NUMBER.search(address)
    if not words or number is None:
        return None
    street = max(words, key=len)
    return street[:max(4, len(street) - 2)], number.group(1)  # a stem survives declension


def guess_building(text: str, buildings: Iterable[BuildingInfo]) -> BuildingInfo | None:
    """The one building the text names by street and house number, or the only building."""
    candidates = list(buildings)
    if len(candidates) == 1:
        return candidates[0]
    lowered = text.lower()
    found = []
    for b in candidates:
        parts = _street_and_number(b.address)
        if parts is None:
            continue
        stem, number = parts
        if any(re.search(rf"\D{number}\b", tail) or tail.startswith(number)
               for tail in (lowered[m.end():m.end() + 24]
                            for m in re.finditer(re.escape(stem), lowered))) \
                or re.search(_HOUSE_FIRST.format(number=number, stem=re.escape(stem)), lowered):
            found.append(b)
    return found[0] if len(found) == 1 else None


# The house number before its street, after a word for a house: "во всём доме 5 по ул.
# Ленина", "д. 5 на улице Ленина", "house 5, Lenina street".
_HOUSE_FIRST = (r"(?:\bдом\w*|\bд\.?|\bhouse)\s*№?\s*{number}\b\s*,?\s*(?:(?:по|на)\s+)?"
                r"(?:ул\.?|улиц\w*|пр-т|проспект\w*|пер\.?|переулк\w*|бульвар\w*)?\s*{stem}")


# What makes the number after "квартир…" a measure or a count rather than a flat: "в квартире
# 16 градусов", "квартира 54 кв.м", "в квартире 3 дня нет воды", also after a range or a decimal
# ("16-18 градусов", "16,5°"). A floor is a count only when no number follows it: "кв. 45 этаж 9"
# names flat 45 on floor 9, "в квартире 2 этажа" names none.
_MEASURE = re.compile(
    r"(?:\s*[-–]\s*\d+|[.,]\d+)?\s*-?\s*(?:[°℃%₽]|(?:"
    r"градус\w*|см|мм|м|м2|м²|метр(?:а|ов)?|км|кв\.?\s*м|раза?|дн(?:я|ей|и)?|день|сут(?:ки|ок)|"
    r"час(?:а|ов)?|мин|минут\w*|недел\w*|мес|месяц\w*|лет|год(?:а|у)?|руб\w*|тыс\w*|"
    r"процент\w*|комнат\w*|человек|чел|degrees?|cm|mm|m|m2|sq\.?\s*m|sqm|meters?|metres?|"
    r"times?|days?|hours?|weeks?|months?|years?|rooms?|people|percent)\b|"
    r"(?:этаж|floor|storey)(?!\w*\s*\d))")
# A flat named as someone else's, by the word just before it: "над квартирой 37", "the flat
# above, flat 37"; "из"/"from" too ("соседи из кв. 37"), unless the writer says it of themselves
# ("я из кв. 45", "I'm from flat 7").
_OTHERS_FLAT_BEFORE = re.compile(
    r"(?:\b(?:над|под|напротив|выше|ниже|above|below|opposite)"
    r"|(?<!\bя )(?<!\bмы )(?<!\bпишу )\bиз"
    r"|(?<!\bi'm )(?<!\bi am )(?<!\bwe're )(?<!\bwe are )(?<!\bwriting )\bfrom)\s*$")
# ... or by words just after it: "кв. 37 над нами", "flat 37 above us". "Сверху"/"этажом ниже"
# alone decide nothing: "у меня в кв. 46 (этажом ниже) капает" is the writer's own flat.
_OTHERS_FLAT_AFTER = re.compile(
    r"[\s,]*(?:(?:над|под)\s+(?:нами|мной|мною|нашей|моей)|(?:above|below)\s+(?:us|me|mine|ours))\b")
_NEIGHBOUR = re.compile(r"сосед|neighbou?r")
# A first-person word after "соседи" in the same clause takes the flat back for the writer:
# "соседи шумят и мешают мне в кв. 45".
_FIRST_PERSON = re.compile(r"\b(?:я|мы|мне|меня|мой|моя|мою|моей|моём|наш\w*|нас|нам|"
                           r"i|i'm|me|my|we|our|us)\b")
_CLAUSE_END = re.compile(r"[.!?;,\n]")


def guess_apartment(text: str) -> str | None:
    """The writer's own flat: the first flat number that is neither a measure nor a flat the
    text says is a neighbour's. Noise and leak reports name the flat they suffer from; taking
    it would send the technician, and every later case of the writer's, to that door."""
    lowered = text.lower()  # one case for the context patterns; flat letters are upper-cased
    for m in _APARTMENT.finditer(lowered):
        if _MEASURE.match(lowered, m.end(1)) or _neighbours(lowered, m.start(), m.end()):
            continue
        return m.group(1).upper()
    return None


def _neighbours(text: str, start: int, end: int) -> bool:
    """The flat mentioned at ``text[start:end]`` is said to be somebody else's."""
    clause = _CLAUSE_END.split(text[max(0, start - 60):start])[-1]
    if _OTHERS_FLAT_BEFORE.search(clause) or _OTHERS_FLAT_AFTER.match(text, end):
        return True
    neighbour = [n.end() for n in _NEIGHBOUR.finditer(clause)]
    return bool(neighbour) and not _FIRST_PERSON.search(clause, neighbour[-1])
