"""The organisation as Domovoy sees it: buildings, departments, staff, SLA, numbering.

These are the parts of the configuration the workflow needs; channel settings stay with the
channels, and the composition root (``domovoy.config``) puts the whole file together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from intake.labels import Category, Kind, Urgency

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """Durations are written as ``30m``, ``4h``, ``10d`` (or a number of seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    raise ValueError(f"expected a duration such as 30m, 4h or 10d, got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


@dataclass(frozen=True)
class WorkingDays:
    """A deadline counted in the office's working days ("10wd"): Russian rules give written
    requests 10 working days, England's complaint code counts working days too, and ten
    calendar days from a Friday is not what either means."""

    count: int


_WORKING_DAYS = re.compile(r"^\s*(\d+)\s*wd\s*$")


def parse_sla_span(value: Any) -> timedelta | WorkingDays:
    """A duration (``30m``, ``4h``, ``10d``) or a number of working days (``10wd``)."""
    if isinstance(value, WorkingDays):
        return value
    if isinstance(value, str) and (m := _WORKING_DAYS.match(value)):
        return WorkingDays(int(m.group(1)))
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError("expected a duration such as 30m, 4h or 10d, or working days such "
                         f"as 10wd, got {value!r}") from None


SlaSpan = Annotated[timedelta | WorkingDays, BeforeValidator(parse_sla_span)]


@dataclass(frozen=True)
class OfficeHours:
    """When the office is open on its working days, in its time zone (opening inclusive)."""

    opens: time
    closes: time


_OFFICE_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_office_hours(value: Any) -> OfficeHours | None:
    """``09:00-18:00``, written as one string: YAML 1.1 would read a bare ``18:00`` as the
    number 1080 (base 60), so the two times cannot be separate keys."""
    if value is None or isinstance(value, OfficeHours):
        return value
    m = _OFFICE_HOURS.match(value) if isinstance(value, str) else None
    try:
        if m is None:
            raise ValueError
        h1, m1, h2, m2 = map(int, m.groups())
        opens, closes = time(h1, m1), time(h2, m2)
    except ValueError:
        # a bare 18:00 reaches us as YAML's base-60 number 1080: say so rather than echo it
        got = "a single time" if isinstance(value, int) else repr(value)
        raise ValueError(f'expected opening hours such as "09:00-18:00", got {got}') from None
    if opens >= closes:
        raise ValueError(f"the office must open before it closes, got {value!r}")
    return OfficeHours(opens, closes)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)



class BuildingConfig(Strict):
    code: str
    address: str = ""
    staff_chat_id: int | None = None

    @field_validator("code")
    @classmethod
    def _deep_link_safe(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v):
            raise ValueError(
                "building codes go into Telegram deep links: use only A-Z, a-z, 0-9, _ and -"
            )
        return v


class DepartmentConfig(Strict):
    code: str
    name: str = ""
    categories: list[Category] = []
    head: int | None = Field(default=None, description="Telegram user id of the head")


class StaffConfig(Strict):
    telegram_user_id: int
    name: str
    username: str | None = None
    role: Literal["staff", "head", "manager"] = "staff"
    departments: list[str] = []


class SlaClock(Strict):
    respond: SlaSpan
    resolve: SlaSpan


def _default_sla() -> dict[Kind, dict[Urgency, SlaClock]]:
    """RU-leaning defaults from ``shared/research/housing-sla.md``: hours for what cannot wait,
    working days where the rules count them (written answers: 10 working days, information
    about works: 5)."""
    h = timedelta(hours=1)
    d = timedelta(days=1)
    wd = WorkingDays
    fix = {
        Urgency.EMERGENCY: SlaClock(respond=0.5 * h, resolve=24 * h),
        Urgency.HIGH: SlaClock(respond=2 * h, resolve=24 * h),
        Urgency.NORMAL: SlaClock(respond=1 * d, resolve=7 * d),
        Urgency.LOW: SlaClock(respond=3 * d, resolve=14 * d),
    }
    answer = {
        Urgency.EMERGENCY: SlaClock(respond=0.5 * h, resolve=24 * h),
        Urgency.HIGH: SlaClock(respond=2 * h, resolve=3 * d),
        Urgency.NORMAL: SlaClock(respond=1 * d, resolve=wd(10)),
        Urgency.LOW: SlaClock(respond=2 * d, resolve=wd(10)),
    }
    inquiry = {
        Urgency.EMERGENCY: SlaClock(respond=0.5 * h, resolve=1 * h),
        Urgency.HIGH: SlaClock(respond=2 * h, resolve=8 * h),
        Urgency.NORMAL: SlaClock(respond=1 * d, resolve=wd(5)),
        Urgency.LOW: SlaClock(respond=2 * d, resolve=wd(10)),
    }
    return {Kind.REQUEST: fix, Kind.COMPLAINT: answer, Kind.INQUIRY: inquiry}


class SlaConfig(Strict):
    deadlines: dict[Kind, dict[Urgency, SlaClock]] = Field(default_factory=_default_sla)
    # After a missed deadline, how long each escalation level has before the next one.
    escalation_step: Duration = timedelta(hours=4)
    reopen_window: Duration = timedelta(days=14)
    incident_window: Duration = timedelta(hours=12)
    # What a working day is, for deadlines written in working days ("10wd"), in the office's
    # time zone: these weekdays, except the listed public holidays.
    workdays: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1)
    holidays: list[date] = []
    # Days off made working days (the Russian production calendar moves them: a working
    # Saturday before a long holiday); they count whatever weekday they fall on.
    extra_workdays: list[date] = []
    # Escalation pings for cases that can wait go out in office hours only, on working days:
    # a normal complaint missed on Friday night reaches its head at Monday's opening, not at
    # 01:30 on a Sunday. None pings at any hour.
    office_hours: Annotated[OfficeHours | None, BeforeValidator(parse_office_hours)] = None
    # What cannot wait for the morning: pinged at any hour, office hours or not.
    ping_any_hour: list[Urgency] = [Urgency.EMERGENCY, Urgency.HIGH]

    @model_validator(mode="after")
    def _complete(self) -> SlaConfig:
        for kind in (Kind.COMPLAINT, Kind.REQUEST, Kind.INQUIRY):
            missing = [u.value for u in Urgency if u not in self.deadlines.get(kind, {})]
            if missing:
                raise ValueError(f"sla.deadlines.{kind.value} lacks {', '.join(missing)}")
        return self


class CaseNumberConfig(Strict):
    prefix: str = Field(default="A", pattern=r"^[A-Za-z]{1,5}$")
    start: int = Field(default=1000, ge=0)


class LimitsConfig(Strict):
    automatic_per_address_per_hour: int = Field(default=10, ge=1)
    max_attachment_mb: float = Field(default=10.0, gt=0)
    max_attachments: int = Field(default=50, ge=1)
    acknowledgement_expiry_h: float = Field(default=72.0, gt=0)



class WorkflowSettings(Strict):
    office_name: str = "Управляющая компания"
    default_language: Literal["ru", "en"] = "ru"
    timezone: str = "Europe/Moscow"
    buildings: list[BuildingConfig] = []
    departments: list[DepartmentConfig] = []
    staff: list[StaffConfig] = []
    sla: SlaConfig = SlaConfig()
    case_number: CaseNumberConfig = CaseNumberConfig()
    limits: LimitsConfig = LimitsConfig()

    def department_for(self, category: str) -> str | None:
        for d in self.departments:
            if category in d.categories:
                return d.code
        return None
