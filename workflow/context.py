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


@dataclass
class Workflow:
    sessions: SessionFactory
    clock: Clock
    settings: WorkflowSettings
    classifier: Classifier
    renderer: Renderer
    # Set by the composition root to the outbox dispatcher's wake(); called after commits.
    wake_outbox: Callable[[], None] = field(default=lambda: None)

    @property
    def sla(self) -> SlaPolicy:
        return SlaPolicy(self.settings.sla)
