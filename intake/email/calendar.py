"""A calendar invitation (iCalendar, RFC 5545) read as the few facts a person would tell.

Outlook's and Yandex's "invite to a meeting" can reach the office as a letter whose only body is
``text/calendar`` ("Осмотр подвала", a time, a place, a description). Shown raw, that is a page
of ``BEGIN:VTIMEZONE`` and ``DTSTART;TZID=…`` lines; the case needs the event's summary, time,
place and description. Only the first event is read (an invitation carries one), and only its
own properties: the time zone definitions and reminders inside it have a DTSTART and a
DESCRIPTION of their own ("Reminder", 1601-01-01) that are nobody's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CalendarEvent", "read_calendar"]

# An invitation is a few kilobytes; an attached calendar export can be megabytes, and only the
# first event is wanted.
_MAX_CHARS = 512 * 1024
_EVENTS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})
_FOLD = re.compile(r"\r?\n[ \t]|\r[ \t]")
_ESCAPE = re.compile(r"\\([\\;,nN])")
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})\d{2}(Z?))?")
_BLANK_RUN = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class CalendarEvent:
    """What the invitation says, each field as text to show ("" when it says nothing)."""

    method: str  # REQUEST (an invitation), CANCEL, REPLY, PUBLISH…
    summary: str
    start: str
    end: str
    location: str
    description: str


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split_property(line: str) -> tuple[str, dict[str, str], str] | None:
    """``NAME;PARAM=a;PARAM="b:c":value`` as (NAME, params, value); None for no property. The
    value starts at the first colon outside quotes (a quoted CN may hold one)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1 :]
            break
    else:
        return None
    name, *raw_params = head.split(";")
    params = {}
    for raw in raw_params:
        key, _, val = raw.partition("=")
        params[key.strip().upper()] = val.strip().strip('"')
    return name.strip().upper(), params, value


def _when(value: str) -> str:
    """20260120T100000 → "20.01.2026 10:00" (the time as the sender's calendar wrote it, in
    its own zone; a UTC time says so); a whole-day date shows only the date."""
    m = _DATE.match(value.strip())
    if m is None:
        return value.strip()
    year, month, day, hour, minute, utc = m.groups()
    shown = f"{day}.{month}.{year}"
    if hour is not None:
        shown += f" {hour}:{minute}" + (" UTC" if utc else "")
    return shown


def read_calendar(text: str, method: str = "") -> CalendarEvent | None:
    """The first event of an iCalendar text, or None when there is none (no calendar at all,
    or one holding only time zones or free/busy times). ``method``: what the MIME part's
    ``method`` parameter says, for a calendar that leaves its own METHOD out (RFC 6047 has
    both say it; a program that writes only one still sends an answer, not an invitation)."""
    lines = _FOLD.sub("", text[:_MAX_CHARS]).splitlines()
    method = method.strip().upper()
    stack: list[str] = []
    found: dict[str, tuple[dict[str, str], str]] = {}
    seen_event = False
    for line in lines:
        prop = _split_property(line)
        if prop is None:
            continue
        name, params, value = prop
        if name == "BEGIN":
            component = value.strip().upper()
            if component in _EVENTS and seen_event:
                break  # the first event is the invitation
            seen_event = seen_event or component in _EVENTS
            stack.append(component)
        elif name == "END":
            if stack:
                stack.pop()
        elif name == "METHOD" and stack == ["VCALENDAR"]:
            method = value.strip().upper()
        elif stack and stack[-1] in _EVENTS and name not in found:
            found[name] = (params, value)
    if not seen_event:
        return None

    def text_of(key: str) -> str:
        value = _unescape(found.get(key, ({}, ""))[1]).replace("\r\n", "\n").replace("\r", "\n")
        return _BLANK_RUN.sub(
            "\n\n", "\n".join(part.rstrip() for part in value.split("\n"))
        ).strip()

    start = _when(found["DTSTART"][1]) if "DTSTART" in found else ""
    end = _when(found["DTEND"][1]) if "DTEND" in found else ""
    day = start.split(" ", 1)[0]
    if start != day and end.startswith(day + " "):
        end = end[len(day) + 1 :]  # "20.01.2026 10:00 – 11:00"
    return CalendarEvent(
        method=method,
        summary=" ".join(text_of("SUMMARY").split()),
        start=start,
        end=end if end != start else "",
        location=" ".join(text_of("LOCATION").split()),
        description=text_of("DESCRIPTION"),
    )
