"""What staff do to cases: take, progress, ask for information, resolve, close, reopen,
reassign, reclassify, reply, note. Every action is checked, recorded as an event, and told to
whoever needs to know through the outbox — all in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.labels import AXES
from workflow.context import Workflow
from workflow.feedback import NotRateable, record_feedback
from workflow.models import Case, Correction, Event, Incident, Message, Staff
from workflow.notify import Notifier
from workflow.stages import OPEN_STAGES, TRANSITIONS, Stage, TransitionError, check_transition

# Cyrillic letters that look like Latin ones: a case number typed on a Russian keyboard.
LOOKALIKE = str.maketrans("АВЕКМНОРСТХаекорсух", "ABEKMHOPCTXaekopcyx")
_TYPED_NUMBER = re.compile(r"^([A-Z]{1,5})\s*[-–—]?\s*(\d{1,12})$")


def typed_case_number(typed: str) -> str:
    """A case number as people type it ("а-1042" on a Russian keyboard, "A1042", "№A-1042")
    in the form it is stored ("A-1042"); anything else comes back upper-cased as it was."""
    text = typed.strip().translate(LOOKALIKE).upper().lstrip("№#").strip()
    match = _TYPED_NUMBER.match(text)
    return f"{match[1]}-{match[2]}" if match else typed.strip().upper()


class NotAllowed(Exception):
    """The person is not configured staff, or their role does not permit the action."""


class CaseNotFound(LookupError):
    pass


class AlreadyTaken(Exception):
    def __init__(self, owner: str) -> None:
        super().__init__(f"already taken by {owner}")
        self.owner = owner


@dataclass(frozen=True)
class ActionResult:
    case_number: str
    stage: str
    assignee: str | None
    note: str | None = None


ROLE_RANK = {"staff": 0, "head": 1, "manager": 2}


class CaseActions:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        self.notify = Notifier(wf)

    # --- helpers ------------------------------------------------------------------------

    async def staff_by_telegram(self, session: AsyncSession, telegram_user_id: int,
                                min_role: str = "staff") -> Staff:
        staff = await session.scalar(select(Staff).where(
            Staff.telegram_user_id == telegram_user_id, Staff.active.is_(True)))
        if staff is None:
            raise NotAllowed("not registered as staff")
        if ROLE_RANK[staff.role] < ROLE_RANK[min_role]:
            raise NotAllowed(f"needs the {min_role} role")
        return staff

    async def case_by_number(self, session: AsyncSession, number: str) -> Case:
        case = await session.scalar(select(Case).where(Case.number == number.strip().upper()))
        if case is None:
            raise CaseNotFound(number)
        return case

    def _event(self, session: AsyncSession, case: Case, staff: Staff | None, action: str,
               now: datetime, from_stage: str | None = None, to_stage: str | None = None,
               note: str | None = None) -> None:
        actor = f"staff:{staff.id}" if staff else "system"
        session.add(Event(case_id=case.id, at=now, actor=actor, action=action,
                          from_stage=from_stage, to_stage=to_stage, note=note))

    async def _move(self, session: AsyncSession, case: Case, staff: Staff | None,
                    target: Stage, now: datetime, note: str | None, action: str, *,
                    tell: bool = True, incident: bool = True) -> None:
        """``tell``: the resident hears of it (not twice for one incident they reported
        twice); ``incident``: the case's incident follows (not again for each of its cases)."""
        check_transition(case.stage, target)
        from_stage = case.stage
        case.stage = target
        case.updated_at = now
        if target == Stage.INVESTIGATING and case.first_response_at is None:
            case.first_response_at = now
        if target == Stage.RESOLVED:
            case.resolved_at = now
            case.first_response_at = case.first_response_at or now
        if target == Stage.CLOSED:
            # a duplicate or a withdrawn case closes unresolved: no resolution to count
            case.closed_at = now
        if target != Stage.INVESTIGATING and case.paused_at is not None:
            # resolved while waiting on the resident (who answered by phone): the wait is
            # given back, as their answer in writing would have given it
            self.wf.sla.shift(case, case.paused_at, now)
            case.paused_at = None
        self.wf.sla.refresh_next(case)
        self._event(session, case, staff, action, now, from_stage, target, note)
        template = {Stage.RESOLVED: "resolved", Stage.CLOSED: "closed"}.get(target, "stage")
        context: dict[str, Any] = {"note": note}
        if target in (Stage.RESOLVED, Stage.CLOSED):
            # a reply until then reopens the case (the window is configurable: the wording
            # gives its end, not a fixed "two weeks")
            context["reopen_until"] = now + self.wf.settings.sla.reopen_window
        if target == Stage.RESOLVED:
            context["actions"] = [[{"label": str(n), "action": f"rate:{case.number}:{n}"}
                                   for n in range(1, 6)]]
        if tell:
            await self.notify.resident(session, case, template,
                                       key=f"stage:{case.id}:{target}:{now.isoformat()}",
                                       **context)
        if incident and case.incident_id is not None and target in (Stage.RESOLVED,
                                                                     Stage.CLOSED):
            await self._propagate_incident(session, case, staff, target, now, note)

    async def _propagate_incident(self, session: AsyncSession, case: Case, staff: Staff | None,
                                  target: Stage, now: datetime, note: str | None) -> None:
        """Fixing a building-wide problem fixes it for everyone who reported it, each told
        once however many times they reported it."""
        others = (await session.scalars(select(Case).where(
            Case.incident_id == case.incident_id, Case.id != case.id,
            Case.stage.in_(list(OPEN_STAGES) + ([Stage.RESOLVED] if target == Stage.CLOSED
                                                 else []))).order_by(Case.id))).all()
        told = {case.resident_id}
        for other in others:
            if target in TRANSITIONS[Stage(other.stage)]:
                await self._move(session, other, staff, target, now, note,
                                 action=f"incident_{target}", incident=False,
                                 tell=other.resident_id is None or other.resident_id not in told)
                told.add(other.resident_id)
        if target == Stage.CLOSED:
            incident = await session.get(Incident, case.incident_id)
            if incident is not None and incident.closed_at is None:
                incident.closed_at = now

    async def act(self, number: str, telegram_user_id: int, action: str,
                  note: str | None = None) -> ActionResult:
        """Take / progress / need_info / resolve / close / escalate, by a staff member."""
        now = self.wf.clock.now()
        async with self.wf.sessions.begin() as session:
            min_role = "head" if action == "escalate" else "staff"
            staff = await self.staff_by_telegram(session, telegram_user_id, min_role)
            case = await self.case_by_number(session, number)
            if action == "take":
                await self._take(session, case, staff, now)
            elif action == "progress":
                if case.assignee_id is None:
                    case.assignee_id = staff.id
                if case.stage in (Stage.RESOLVED, Stage.CLOSED):
                    # "В работе" on a finished case's card is a reopen, with its fresh promise
                    self.wf.sla.restart(case, now)
                    await self._move(session, case, staff, Stage.INVESTIGATING, now, note,
                                     "reopened")
                elif case.stage == Stage.INVESTIGATING and case.paused_at is not None:
                    self._resume(session, case, staff, now, note)
                else:
                    await self._move(session, case, staff, Stage.INVESTIGATING, now, note,
                                     "in_progress")
            elif action == "need_info":
                await self._need_info(session, case, staff, now, note)
            elif action == "resolve":
                await self._move(session, case, staff, Stage.RESOLVED, now, note, "resolved")
            elif action == "close":
                await self._move(session, case, staff, Stage.CLOSED, now, note, "closed")
            elif action == "reopen":
                # a refused move raises before the commit: the restarted clock goes with it
                self.wf.sla.restart(case, now)
                await self._move(session, case, staff, Stage.INVESTIGATING, now, note,
                                 "reopened")
            elif action == "escalate":
                self._event(session, case, staff, "escalated_by_staff", now, note=note)
                managers = (await session.scalars(select(Staff.id).where(
                    Staff.role == "manager", Staff.active.is_(True)))).all()
                await self.notify.staff(session, case, "escalation",
                                        key=f"manual-esc:{case.id}:{now.isoformat()}",
                                        recipients=[f"staff:{m}" for m in managers]
                                        + ["managers"], level=3, manual=True)
            else:
                raise ValueError(f"unknown action {action!r}")
            result = await self._result(session, case)
        self.wf.wake_outbox()
        return result

    async def _result(self, session: AsyncSession, case: Case, note: str | None = None
                      ) -> ActionResult:
        assignee = await session.get(Staff, case.assignee_id) if case.assignee_id else None
        return ActionResult(case.number, case.stage, assignee.name if assignee else None, note)

    def _resume(self, session: AsyncSession, case: Case, staff: Staff, now: datetime,
                note: str | None) -> None:
        """Staff restart a clock paused on "need info" (the resident answered by phone, or in
        a message of their own): the wait is given back."""
        assert case.paused_at is not None
        self.wf.sla.shift(case, case.paused_at, now)
        case.paused_at = None
        case.updated_at = now
        self.wf.sla.refresh_next(case)
        self._event(session, case, staff, "resumed", now, note=note)

    async def _take(self, session: AsyncSession, case: Case, staff: Staff,
                    now: datetime) -> None:
        if case.stage == Stage.CLOSED:
            raise TransitionError(case.stage, "take")
        # Atomic: of two staff pressing Take at once, exactly one UPDATE matches.
        won = await session.execute(
            update(Case).where(Case.id == case.id, Case.assignee_id.is_(None))
            .values(assignee_id=staff.id).execution_options(synchronize_session=False))
        if won.rowcount == 0:  # type: ignore[attr-defined]
            await session.refresh(case)
            if case.assignee_id == staff.id:
                return
            owner = await session.get(Staff, case.assignee_id) if case.assignee_id else None
            raise AlreadyTaken(owner.name if owner else "someone")
        await session.refresh(case)
        self._event(session, case, staff, "taken", now, note=staff.name)
        if case.stage in (Stage.RECEIVED, Stage.ACKNOWLEDGED):
            await self._move(session, case, staff, Stage.INVESTIGATING, now, None, "in_progress")

    async def _need_info(self, session: AsyncSession, case: Case, staff: Staff, now: datetime,
                         question: str | None) -> None:
        if case.stage not in OPEN_STAGES:
            raise TransitionError(case.stage, "need_info")
        if case.stage != Stage.INVESTIGATING:
            await self._move(session, case, staff, Stage.INVESTIGATING, now, None, "in_progress")
        # a second question while waiting keeps the first one's start: the whole wait is
        # given back when the resident answers
        case.paused_at = case.paused_at or now
        self.wf.sla.refresh_next(case)
        self._event(session, case, staff, "need_info", now, note=question)
        await self.notify.resident(session, case, "need_info", key=f"need-info:{case.id}:{now}",
                                   automatic=False, staff_id=staff.id, question=question or "")

    async def assign(self, number: str, telegram_user_id: int, assignee_ref: str
                     ) -> ActionResult:
        now = self.wf.clock.now()
        async with self.wf.sessions.begin() as session:
            staff = await self.staff_by_telegram(session, telegram_user_id, "head")
            case = await self.case_by_number(session, number)
            ref = assignee_ref.lstrip("@")
            target = await session.scalar(select(Staff).where(
                (Staff.username == ref) | (Staff.name == ref)
                | (Staff.telegram_user_id == (int(ref) if ref.isdigit() else -1))))
            if target is None:
                raise CaseNotFound(f"staff {assignee_ref}")
            if not target.active:
                raise NotAllowed(f"{target.name} is no longer on the staff")
            case.assignee_id = target.id
            case.updated_at = now
            self._event(session, case, staff, "assigned", now, note=target.name)
            await self.notify.staff(session, case, "staff_assigned",
                                    key=f"assigned:{case.id}:{now.isoformat()}",
                                    recipients=[f"staff:{target.id}"])
            result = await self._result(session, case)
        self.wf.wake_outbox()
        return result

    async def reply(self, number: str, telegram_user_id: int, text: str,
                    origin: str | None = None, *, correction: bool = False) -> ActionResult:
        """A staff answer to the resident, through the resident's own channel. ``origin`` names
        the staff message it came from, so the delivery outcome can be shown on it later.
        ``correction``: the staff member edited an answer already sent; the new wording goes
        out marked as a correction (a mail cannot be edited, and a chat message the resident
        may have read already should not change silently)."""
        now = self.wf.clock.now()
        async with self.wf.sessions.begin() as session:
            staff = await self.staff_by_telegram(session, telegram_user_id)
            case = await self.case_by_number(session, number)
            if case.first_response_at is None:
                case.first_response_at = now
                self.wf.sla.refresh_next(case)
            case.updated_at = now
            self._event(session, case, staff, "staff_reply_corrected" if correction
                        else "staff_reply", now, note=text[:200])
            item = await self.notify.resident(session, case, "staff_reply",
                                              key=_reply_key(case.id, now, origin, correction),
                                              automatic=False, staff_id=staff.id, text=text,
                                              origin=origin, correction=correction)
            result = await self._result(session, case,
                                        note=None if item else "resident unreachable")
        self.wf.wake_outbox()
        return result

    async def note(self, number: str, telegram_user_id: int, text: str) -> ActionResult:
        now = self.wf.clock.now()
        async with self.wf.sessions.begin() as session:
            staff = await self.staff_by_telegram(session, telegram_user_id)
            case = await self.case_by_number(session, number)
            self._event(session, case, staff, "note", now, note=text)
            session.add(Message(case_id=case.id, direction="note", channel="staff",
                                staff_id=staff.id, text=text, created_at=now))
            return await self._result(session, case)

    async def reclassify(self, number: str, actor: str, changes: dict[str, str],
                         telegram_user_id: int | None = None) -> ActionResult:
        """Correct the labels; the correction is kept to show which rules misfire."""
        now = self.wf.clock.now()
        async with self.wf.sessions.begin() as session:
            staff = (await self.staff_by_telegram(session, telegram_user_id)
                     if telegram_user_id is not None else None)
            case = await self.case_by_number(session, number)
            old_kind, old_urgency = case.kind, case.urgency
            for axis, value in changes.items():
                if axis not in AXES:
                    raise ValueError(f"unknown axis {axis!r}; use kind, category, urgency, scope")
                value = AXES[axis](value).value
                old = getattr(case, axis)
                if old == value:
                    continue
                session.add(Correction(case_id=case.id, actor=actor, axis=axis, old_value=old,
                                       new_value=value,
                                       rules=list(case.explanation.get("rules", [])), at=now))
                setattr(case, axis, value)
                self._event(session, case, staff, "reclassified", now,
                            note=f"{axis}: {old} → {value}")
            case.department = self.wf.settings.department_for(case.category)
            case.manual_triage = False
            self.wf.sla.relabel(case, old_kind, old_urgency, await clock_started(session, case),
                                now)
            return await self._result(session, case)

    async def rate(self, number: str, resident_id: int, rating: int,
                   comment: str | None = None) -> bool:
        """A resident's 1–5 rating after resolution; False if it is not their case or it is
        not resolved."""
        now = self.wf.clock.now()
        async with self.wf.sessions.begin() as session:
            case = await self.case_by_number(session, number)
            if case.resident_id != resident_id:
                return False
            try:
                await record_feedback(session, case, resident_id, rating, comment, now)
            except NotRateable:
                return False
            return True


async def clock_started(session: AsyncSession, case: Case) -> datetime:
    """When the case's deadlines were last set from: its latest reopening, else its receipt."""
    reopened = await session.scalar(select(func.max(Event.at)).where(
        Event.case_id == case.id, Event.action.in_(("reopened", "incident_reopened"))))
    return reopened or case.received_at


def _reply_key(case_id: int, now: datetime, origin: str | None, correction: bool) -> str:
    """One outbox item per staff message and per correction of it: keyed by the time alone,
    two answers given in the same instant were one item and the second was never sent."""
    kind = "correction" if correction else "reply"
    return f"{kind}:{case_id}:{origin or ''}:{now.isoformat()}"
