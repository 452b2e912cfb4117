"""What every workflow service needs, built once by the composition root and passed down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from intake.classifier import Classifier
from workflow.clock import Clock
from workflow.db import SessionFactory
from workflow.render import Renderer
from workflow.settings import WorkflowSettings
from workflow.sla import SlaPolicy


@dataclass(frozen=True)
class BuildingInfo:
    id: int
    code: str
    address: str
    staff_chat_id: int | None


@dataclass
class Workflow:
    sessions: SessionFactory
    clock: Clock
    settings: WorkflowSettings
    classifier: Classifier
    renderer: Renderer
    # Set by the composition root to the outbox dispatcher's wake(); called after commits.
    wake_outbox: Callable[[], None] = field(default=lambda: None)
    # Buildings come from the config and change only at start-up: looked up in memory.
    buildings: dict[int, BuildingInfo] = field(default_factory=dict)

    def building_id(self, code: str | None) -> int | None:
        if not code:
            return None
        return next((b.id for b in self.buildings.values() if b.code == code), None)

    def building(self, building_id: int | None) -> BuildingInfo | None:
        return self.buildings.get(building_id) if building_id is not None else None

    sla: SlaPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.sla = SlaPolicy(self.settings.sla, self.settings.timezone)
