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
    r"(?:\bкв(?:артир[аеуы])?\.?|\bapt\.?|\bapartment|\bflat)\s*(?:№|no\.?|#)?\s*(\d{1,4}[а-яa-z]?)\b",
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
        for m in re.finditer(re.escape(stem), lowered):
            tail = lowered[m.end():m.end() + 24]
            if re.search(rf"\D{number}\b", tail) or tail.startswith(number):
                found.append(b)
                break
    return found[0] if len(found) == 1 else None


def guess_apartment(text: str) -> str | None:
    m = _APARTMENT.search(text)
    return m.group(1).upper() if m else None
