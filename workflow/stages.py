"""Case stages and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STAGES = frozenset({Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.INVESTIGATING})

# Closing straight from an open stage covers duplicates and cases withdrawn by the resident;
# resolved → investigating is a reopen after the resident says the problem is still there.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    # a case nobody could be told of (no usable sender) is resolved with its incident too
    Stage.RECEIVED: frozenset({Stage.ACKNOWLEDGED, Stage.INVESTIGATING, Stage.RESOLVED,
                               Stage.CLOSED}),
    Stage.ACKNOWLEDGED: frozenset({Stage.INVESTIGATING, Stage.RESOLVED, Stage.CLOSED}),
    Stage.INVESTIGATING: frozenset({Stage.RESOLVED, Stage.CLOSED}),
    Stage.RESOLVED: frozenset({Stage.CLOSED, Stage.INVESTIGATING}),
    Stage.CLOSED: frozenset({Stage.INVESTIGATING}),
}


class TransitionError(ValueError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a case in stage {current!r} cannot move to {target!r}")
        self.current = current
        self.target = target


def check_transition(current: str, target: Stage) -> None:
    if target not in TRANSITIONS[Stage(current)]:
        raise TransitionError(current, target)
