"""The four label axes of ``shared/taxonomy.md``.

Labels are plain snake_case strings everywhere (database, templates, JSON output); the enums
exist so that a typo is a type error and so that rules files can be validated at load time.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    COMPLAINT = "complaint"
    REQUEST = "request"
    INQUIRY = "inquiry"
    OTHER = "other"


class Category(StrEnum):
    PLUMBING = "plumbing"
    HEATING = "heating"
    ELECTRICAL = "electrical"
    ELEVATOR = "elevator"
    STRUCTURE = "structure"
    CLEANING = "cleaning"
    TERRITORY = "territory"
    NOISE = "noise"
    RULES = "rules"
    SAFETY = "safety"
    BILLING = "billing"
    STAFF = "staff"
    OTHER = "other"


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Scope(StrEnum):
    UNIT = "unit"
    BUILDING = "building"


AXES: dict[str, type[StrEnum]] = {
    "kind": Kind,
    "category": Category,
    "urgency": Urgency,
    "scope": Scope,
}
