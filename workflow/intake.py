"""The intake service: one inbound message in, one committed outcome out.

Everything for a message happens in one transaction (dedupe, resident, threading,
classification, case, routing, events, acknowledgement in the outbox), so a crash leaves either
all of it or none of it, and the channel acknowledges its input only after the commit.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.classifier import Classification
from intake.labels import Kind, Scope, Urgency
from intake.message import (
    CHAT_CHANNELS,
    SENDER_NAMED_IDS,
    Attachment,
    Automated,
    Channel,
    InboundMessage,
)
from workflow.cases import LOOKALIKE, clock_started
from workflow.context import Workflow
from workflow.feedback import bare_score, parse_rating, record_feedback, subject_rating
from workflow.models import (
    BUILDING_WIDE,
    Case,
    Counter,
    Identity,
    Incident,
    LinkCode,
    Message,
    OutboxItem,
    Resident,
)
from workflow.notify import Notifier, held_addresses, hold_automatic
from workflow.outbox import withdraw
from workflow.residents import create_resident, find_alias, find_identity
from workflow.rows import Prepared, connection, insert_row, record_event, update_row
from workflow.stages import OPEN_STAGES, Stage
from workflow.whereabouts import guess_apartment, guess_building

log = logging.getLogger(__name__)

# The statements every new message runs, built once: building one and computing its cache
# key costs more than executing it (~60 µs against ~50 µs on SQLite).
_LOG_MESSAGE = Prepared(insert(Message))
_DUPLICATE = Prepared(select(Message.id).where(Message.channel == bindparam("channel"),
                                               Message.external_id == bindparam("external_id")))
_NEXT_NUMBER = Prepared(update(Counter).where(Counter.name == "case")
                        .values(value=Counter.value + 1).returning(Counter.value))
# The earliest open building-wide case of the kind within the window, read along
# ix_cases_incident_peer (whose rows BUILDING_WIDE names, as a literal, or the planners could
# not tell that the index holds every row the query wants). The open stages are spelt out as
# equalities: an IN list is expanded per execution, which the prepared path leaves to SQLAlchemy.
_INCIDENT_PEER = Prepared(
    select(Case.id, Case.number, Case.incident_id, Case.received_at)
    .where(Case.building_id == bindparam("building_id"), Case.category == bindparam("category"),
           Case.received_at >= bindparam("since"), BUILDING_WIDE,
           or_(*(Case.stage == stage for stage in sorted(OPEN_STAGES))),
           # one resident writing twice is no building-wide incident
           Case.resident_id.is_distinct_from(bindparam("resident_id")))
    .order_by(Case.received_at, Case.id).limit(1))
_HINTED = (select(Message.case_id)
           .where(Message.channel == bindparam("channel"),
                  Message.external_id.in_(bindparam("hints", expanding=True)),
                  Message.case_id.is_not(None))
           .order_by(Message.id.desc()))
_LIVE_LINK_CODE = Prepared(
    select(LinkCode.code).where(LinkCode.resident_id == bindparam("resident_id"),
                                LinkCode.expires_at > bindparam("now")))
_NEW_LINK_CODE = Prepared(insert(LinkCode))
_NEW_COUNTER = Prepared(insert(Counter))
_NEW_INCIDENT = Prepared(insert(Incident))

BURST_WINDOW = timedelta(minutes=2)
# The resident's latest case (along ix_cases_resident_id), if one of its incoming messages reads
# exactly like this one and it opened within the window: one prepared statement, since every
# message from a returning resident asks it.
_LATEST_CASE = (select(func.max(Case.id)).where(Case.resident_id == bindparam("resident_id"))
                .scalar_subquery())
_REPEATED = Prepared(
    select(Message.case_id, Message.id, Message.attachments, Message.reply_to)
    .join(Case, Case.id == Message.case_id)
    .where(Message.case_id == _LATEST_CASE, Case.received_at >= bindparam("since"),
           Message.direction == "in", Message.channel == bindparam("channel"),
           Message.text == bindparam("text"), Message.subject == bindparam("subject")))
# Up to two of the resident's open cases, with whether staff wait on one: every new letter
# from a returning resident asks it (see _awaiting_answer), so one prepared statement.
_OPEN_CASES = Prepared(
    select(Case.id, Case.paused_at, Case.category)
    .where(Case.resident_id == bindparam("resident_id"),
           or_(*(Case.stage == stage for stage in sorted(OPEN_STAGES))))
    .limit(2))
# The resident's follow-ups on a case that read exactly like this one, within the window: a
# phone resending a reply with a new Message-ID (if the files and references agree too).
_REPEATED_ON_CASE = Prepared(
    select(Message.case_id, Message.id, Message.attachments, Message.reply_to).where(
        Message.case_id == bindparam("case_id"), Message.resident_id == bindparam("resident_id"),
        Message.direction == "in", Message.channel == bindparam("channel"),
        Message.created_at >= bindparam("since"), Message.text == bindparam("text"),
        Message.subject == bindparam("subject")))
# The subjects of what we wrote to the resident on a case, sent or waiting.
_OUR_SUBJECTS = (select(OutboxItem.payload["subject"].as_string())
                 .where(OutboxItem.case_id == bindparam("case_id"),
                        OutboxItem.channel == bindparam("channel")))
# How long a letter sent again word for word is taken for the same one, not a new report.
REPEAT_WINDOW = timedelta(hours=1)
LINK_CODE_TTL = timedelta(days=30)
# How long after staff asked a resident for more a new letter of theirs (not a reply) may be
# the answer: a few days, over a weekend.
ANSWER_WINDOW = timedelta(days=3)


class Action(StrEnum):
    NEW_CASE = "new_case"
    THREADED = "threaded"
    REOPENED = "reopened"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    IGNORED_AUTOREPLY = "ignored_autoreply"
    IGNORED_LIST = "ignored_list"
    BOUNCE = "bounce"
    MANUAL_REVIEW = "manual_review"


@dataclass(frozen=True)
class IntakeResult:
    action: Action
    case_number: str | None = None
    case_id: int | None = None
    labels: Classification | None = None
    acknowledged: bool = False
    incident_id: int | None = None
    linked_case: str | None = None
    note: str | None = None


# Categories that name no department's work: a reply filed under them says nothing new.
_NO_DEPARTMENT = frozenset({"other", "staff"})
# The classifier's rules that hear a fault still there or back ("проблема осталась", "опять
# течёт"): a rating's remark that says so reopens the case.
_FAULT_PERSISTS = frozenset({"kind.complaint.unresolved", "kind.complaint.repetition"})
# What turns an open request into a complaint when the resident writes again (taxonomy: "a
# problem that was reported before and not fixed"): the fault persists, nobody came or
# answered, it has dragged on.
_STILL_WAITING = _FAULT_PERSISTS | {"kind.complaint.no_response", "kind.complaint.duration"}
_UPGRADABLE = frozenset({Kind.REQUEST.value, Kind.INQUIRY.value})
# A word in a reply to "Обращение решено" that may say the job is not done ("Нет", "Не
# совсем", "not really"), whatever else the reply files as.
_DISSENT = re.compile(r"\b(?:не|нет|ни|no|not|nope)\b|👎", re.IGNORECASE)
# A greeting is the one "other" rule that says nothing about what is wanted; thanks, praise,
# an advert, a cancellation or a season's greetings sent with a file are still no request.
_GREETING_RULE = "kind.other.greeting_only"
# A case number without its prefix, named as one: "по заявке №1042", "заявка N1042", "по
# заявке 1042", "case #1042".
_NUMBER_ONLY = re.compile(r"(?:заявк|обращени|case|ticket)\w*\s*(?:№|#|n|no\.?|номер)?\s*"
                          r"(\d{3,12})(?![\w-])", re.IGNORECASE)

def _typed_as(prefix: str) -> str:
    """The case prefix as a pattern that also takes its look-alike letters typed on a Russian
    keyboard ("А-1042" for "A-1042"), so the text need not be rewritten to Latin first."""
    twins: dict[str, set[str]] = {}
    for cyrillic, latin in LOOKALIKE.items():
        twins.setdefault(chr(latin).upper(), set()).add(chr(cyrillic))
    return "".join(f"[{re.escape(c)}{''.join(sorted(twins.get(c.upper(), ())))}]" if c.isalpha()
                   else re.escape(c) for c in prefix)


@lru_cache(maxsize=16)
def _references(case_ref: re.Pattern[str], prefix: str, subject: str,
                text: str) -> tuple[str, ...]:
    where = f"{subject}\n{text}"
    found = [m.group(1) for m in case_ref.finditer(where)
             if m.start() == 0 or not (where[m.start() - 1].isalnum()
                                       or where[m.start() - 1] in "_-")]
    found += _NUMBER_ONLY.findall(where)
    return tuple(dict.fromkeys(f"{prefix}-{int(n)}" for n in found))


# Why a case was opened for manual triage when its first message was files with no words:
# the words that follow take their labels (see ``IntakeService._words_for_files``).
FILES_ALONE = "a file sent with no words to classify"
FALLBACK_LABELS = Classification(kind=Kind.REQUEST, category="other", urgency=Urgency.NORMAL,
                                 scope=Scope.UNIT, rules=("manual_triage",))


class IntakeService:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        self.notify = Notifier(wf)
        self._prefix = wf.settings.case_number.prefix.upper()
        # "A-1042", "A1042", "А-1042" typed on a Russian keyboard (the text is read with
        # look-alike letters made Latin), "заявка №1042". Without a dash the number must follow
        # the letter at once: "а 1001 руб." is a conjunction. The pattern opens with the
        # prefix, so re skips through a long mail in C; the character before it is checked
        # afterwards.
        self._case_ref = re.compile(
            rf"{_typed_as(self._prefix)}(?:\s?[-–—]\s?)?(\d{{1,12}})(?![\w-])", re.IGNORECASE)

    async def ingest(self, msg: InboundMessage, *, dry_run: bool = False) -> IntakeResult:
        """Process one message in its own transaction; ``dry_run`` rolls it back."""
        async with self.wf.sessions() as session:
            try:
                result = await self.process(session, msg)
            except IntegrityError:
                # Another worker stored the same (channel, external id) first.
                await session.rollback()
                return IntakeResult(Action.DUPLICATE, note="stored concurrently")
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
        if not dry_run:
            self.wf.wake_outbox()
        return result

    async def ingest_many(self, msgs: Sequence[InboundMessage]
                          ) -> list[IntakeResult | Exception]:
        """Several messages, one commit: a channel that receives a batch (an IMAP fetch) pays
        for one durable commit instead of one per message, which is most of a message's cost.

        Each message stays all-or-nothing: if any of them fails, the whole batch is rolled back
        and replayed one message per transaction, so a bad message costs only itself. The
        result list matches ``msgs``; a message that failed on its own has its exception in
        its place. As with :meth:`ingest`, the caller acknowledges its input only after this
        returns, i.e. after the commit.
        """
        if len(msgs) > 1:
            async with self.wf.sessions() as session:
                try:
                    results: list[IntakeResult | Exception] = []
                    for msg in msgs:
                        results.append(await self.process(session, msg))
                        # The next message reads with Core: write this one's ORM changes
                        # first (most messages leave none: a flush's greenlet round trip
                        # costs more than asking), and let it load fresh objects rather than
                        # this one's.
                        if not session.sync_session._is_clean():
                            await session.flush()
                        session.expunge_all()
                    await session.commit()
                except Exception as exc:
                    log.info("a batch of %d messages failed (%s); replaying them one by one",
                             len(msgs), exc)
                    await session.rollback()
                else:
                    self.wf.wake_outbox()
                    return results
        return [await self._ingest_or_error(msg) for msg in msgs]

    async def _ingest_or_error(self, msg: InboundMessage) -> IntakeResult | Exception:
        try:
            return await self.ingest(msg)
        except Exception as exc:  # the caller logs and keeps it (quarantine)
            return exc

    async def process(self, session: AsyncSession, msg: InboundMessage) -> IntakeResult:
        """The whole decision, inside the caller's transaction."""
        now = self.wf.clock.now()
        if msg.received_at > now:
            # a sender's clock running ahead must not start the deadlines late
            msg = replace(msg, received_at=now)
        if await _logged(session, msg):
            renamed = await self._under_own_id(session, msg)
            if renamed is None:
                return IntakeResult(Action.DUPLICATE)
            msg = renamed

        if msg.automated is not None:
            return await self._automated(session, msg, now)

        resident, first_contact = None, None
        if msg.sender is not None:
            resident, ident, new = await self._resident(session, msg, now)
            first_contact = (resident, ident, msg.external_id) if new else None
        # the cases a reply answers, asked once: threaded into, or linked to below
        hinted = await self._hinted_cases(session, msg) if msg.thread_hints else []
        case = await self._thread_target(session, msg, resident, hinted, now) \
            if first_contact is None or hinted or msg.relayed_by else None
        if case is not None:
            return await self._follow_up(session, msg, resident, case, now)

        if msg.resent and resident is not None and first_contact is None:
            again = await self._resent_case(session, msg, resident)
            if again is not None:
                return await self._follow_up(session, msg, resident, again, now)
        # A mail client (or a double click on "send") resends a letter; in a chat, writing the
        # same again is the resident's own doing and is taken as it comes.
        if resident is not None and first_contact is None and msg.channel not in CHAT_CHANNELS:
            repeated = await self._repeated(session, msg, resident)
            if repeated is not None:
                first, sent_again = repeated
                if sent_again:
                    return IntakeResult(Action.DUPLICATE, first.number, first.id,
                                        note="the same letter sent again")
                # the same words with other photos, or answering a later letter: more for the
                # case the first copy opened, not a second case
                return await self._follow_up(session, msg, resident, first, now)
        # a chat message has no subject: its words are the whole message, classified once
        classified = self._classify(msg) if not msg.subject else None
        if msg.attachments and resident is not None and first_contact is None and _wordless(
                (classified or self._classify(replace(msg, subject="")))[0]):
            # Photos sent in a letter of their own ("Фото прилагаю", under the report's
            # subject again) a few minutes after the report belong to it
            recent = await session.scalar(select(Case).where(
                Case.id == _LATEST_CASE, Case.received_at >= msg.received_at - REPEAT_WINDOW,
                Case.stage.in_(OPEN_STAGES)), {"resident_id": resident.id})
            if recent is not None:
                return await self._follow_up(session, msg, resident, recent, now)
        labels, failure = classified or self._classify(msg)
        if resident is not None and first_contact is None and not hinted and failure is None:
            # in a chat too: most people type the answer rather than use Telegram's "reply"
            asked = await self._awaiting_answer(session, msg, resident, labels, now)
            if asked is not None:
                return await self._follow_up(session, msg, resident, asked, now)
        if labels.kind == Kind.OTHER and msg.attachments and _wordless(labels):
            # "Заявление во вложении", a scan with no word at all: a person sent a file to act
            # on, and only staff can read it
            labels, failure = FALLBACK_LABELS, FILES_ALONE
        if labels.kind == Kind.OTHER and resident is not None:
            logged = await self._log_message(session, msg, None, resident, now,
                                             note="kind other: no case")
            await self._unfiled(session, msg, resident, logged, first_contact)
            return IntakeResult(Action.IGNORED, labels=labels)

        case = await self._open_case(session, msg, resident, labels, now, failure)
        linked = await self._link_foreign_reference(session, msg, case,
                                                    hinted[0] if hinted else None)
        if resident is None:
            case.needs_review = True
            case.review_reason = msg.review_reason or "sender unknown: nothing can be sent back"
            return IntakeResult(Action.MANUAL_REVIEW, case.number, case.id, labels,
                                linked_case=linked)
        acknowledged = await self._acknowledge(session, case, now, first_contact)
        return IntakeResult(Action.NEW_CASE, case.number, case.id, labels, acknowledged,
                            case.incident_id, linked_case=linked)

    # --- pieces -------------------------------------------------------------------------

    def _classify(self, msg: InboundMessage) -> tuple[Classification, str | None]:
        try:
            labels = self.wf.classifier.classify(msg.text, msg.subject)
        except Exception as exc:  # a classifier bug must never drop a resident's message
            log.exception("classifier failed on %s %s", msg.channel, msg.external_id)
            return FALLBACK_LABELS, f"classifier failed: {exc!r}"
        if msg.preset is not None:
            p = msg.preset
            labels = Classification(
                kind=p.kind or labels.kind, category=p.category or labels.category,
                urgency=p.urgency or labels.urgency, scope=p.scope or labels.scope,
                rules=(*labels.rules, "resident_choice"),
            )
        return labels, None

    async def _resident(self, session: AsyncSession, msg: InboundMessage,
                        now: datetime) -> tuple[Resident, Identity, bool]:
        """The sender's resident and identity, created on first contact (third item: new)."""
        sender = msg.sender
        assert sender is not None
        found = await find_identity(session, sender.channel, sender.address)
        if found is None and (found := await find_alias(session, sender.channel,
                                                        sender.address)) is not None:
            # The same mailbox under another spelling (ya.ru for yandex.ru, a Gmail address
            # with dots or a "+tag"): the same resident, answered where they write from now.
            await update_row(session, found[1], address=sender.address)
        if found is None:
            # A first contact is created knowing the building and flat its message names,
            # which spares the case an UPDATE of the row just inserted.
            building_id, apartment = self._whereabouts(msg, None)
            resident, ident = await create_resident(
                session, sender.channel, sender.address, now, name=sender.display_name,
                language=self._language(sender.language), building_id=building_id,
                apartment=apartment, phone=msg.phone)
            return resident, ident, True
        resident, ident = found
        await update_row(session, resident, **_missing(
            resident, building_id=self.wf.building_id(msg.building_code),
            apartment=msg.apartment, phone=msg.phone, name=sender.display_name))
        if ident.unreachable:
            # They write again: a full mailbox was emptied, a blocked bot restarted. Try
            # them again; another bounce marks them again.
            await update_row(session, ident, unreachable=False, unreachable_reason=None)
        return resident, ident, False

    def _language(self, lang: str | None) -> str:
        if lang and lang.lower().startswith("en"):
            return "en"
        if lang and lang.lower().startswith("ru"):
            return "ru"
        return self.wf.settings.default_language

    def _referenced_numbers(self, msg: InboundMessage) -> tuple[str, ...]:
        """The case numbers a message names; asked up to four times per message, so read once
        (a long letter took a quarter of a millisecond each time)."""
        return _references(self._case_ref, self._prefix, msg.subject, msg.text)

    async def _thread_target(self, session: AsyncSession, msg: InboundMessage,
                             resident: Resident | None, hinted: list[Case],
                             now: datetime) -> Case | None:
        """The case this message continues, if any: reply reference, burst, or case number."""
        # A reply-all names every letter of the thread: the newest case the sender is on
        # ("Re: Re:" from Ivan after his neighbour's answer is still about his own leak).
        for candidate in hinted:
            if await self._on_case(session, candidate, resident) \
                    or await self._relayer_on_case(session, candidate, msg):
                return candidate
        if resident is None:
            return None
        if hinted:
            # a neighbour answering all again continues the case her first answer opened
            own = await session.scalar(
                select(Case).where(Case.resident_id == resident.id,
                                   Case.linked_case_id == hinted[0].id)
                .order_by(Case.id.desc()).limit(1))
            if own is not None:
                return own
        if msg.burst_key:
            case_id = await session.scalar(
                select(Message.case_id).where(Message.burst_key == msg.burst_key,
                                              Message.resident_id == resident.id,
                                              Message.case_id.is_not(None),
                                              Message.created_at >= now - BURST_WINDOW)
                .order_by(Message.id.desc()).limit(1))
            if case_id is not None:
                return await session.get_one(Case, case_id)
        for number in self._referenced_numbers(msg):
            case = await session.scalar(select(Case).where(Case.number == number))
            # A bare case number is trusted only from the case's own resident: anyone can
            # type a number, and threading into a stranger's case would leak it to them.
            if case is not None and (case.resident_id == resident.id
                                     or await self._relayer_on_case(session, case, msg)):
                return case
        return None

    @staticmethod
    async def _resent_case(session: AsyncSession, msg: InboundMessage,
                           resident: Resident) -> Case | None:
        """The resident's case that a letter of theirs sent again opened: its words are in
        this one ("пишу второй раз, никто не ответил" over the forwarded letter). Among the
        resident's latest few cases, so one from years ago is not revived by a quote."""
        sent = " ".join(msg.text.split())
        recent = await session.scalars(select(Case).where(Case.resident_id == resident.id)
                                       .order_by(Case.id.desc()).limit(5))
        return next((c for c in recent if c.text.strip() and " ".join(c.text.split()) in sent),
                    None)

    async def _awaiting_answer(self, session: AsyncSession, msg: InboundMessage,
                               resident: Resident, labels: Classification,
                               now: datetime) -> Case | None:
        """The case a new letter answers when staff asked its resident for more ("Уточните
        номер квартиры") and the answer came as a letter of its own, not a reply: no
        In-Reply-To, no case tag. Conservative, because joining the wrong case hides a
        report: the resident has exactly one open case, staff are waiting on it (its clock
        is paused by "need info") and asked within ``ANSWER_WINDOW``, the letter names no
        other case, and its words are no report of another kind (a leak while the question
        was about the lift opens its own case)."""
        if self._referenced_numbers(msg):
            return None
        open_cases = list(await _OPEN_CASES.run(session, {"resident_id": resident.id}))
        if len(open_cases) != 1:
            return None
        case_id, paused_at, category = open_cases[0]
        if paused_at is None or now - paused_at > ANSWER_WINDOW:
            return None
        if labels.kind != Kind.OTHER and labels.category != category:
            return None
        return await session.get_one(Case, case_id)

    @staticmethod
    async def _repeated(session: AsyncSession, msg: InboundMessage,
                        resident: Resident) -> tuple[Case, bool] | None:
        """The resident's latest case, if a letter word for word like this one is on it and it
        opened within the hour, and whether this letter is that one sent again ("send" pressed
        twice, a client resending with a new Message-ID: the same files and references too).
        Only the latest: a letter sent again follows its first copy."""
        if not msg.text.strip():
            return None
        rows = list(await _REPEATED.run(session, {
            "resident_id": resident.id, "since": msg.received_at - REPEAT_WINDOW,
            "channel": msg.channel, "text": msg.text, "subject": msg.subject}))
        if not rows:
            return None
        return await session.get_one(Case, rows[0].case_id), _sent_again(msg, rows)

    async def _under_own_id(self, session: AsyncSession,
                            msg: InboundMessage) -> InboundMessage | None:
        """``msg`` under an id of its own when the id it came with names another letter
        already logged: a site script's constant "<1@localhost>", a sender reusing another's
        Message-ID. A different letter is never dropped as a duplicate. None when it is the
        logged letter itself (a re-delivery, an IMAP re-scan), under its id or under the one
        this gave it the first time."""
        if msg.channel not in SENDER_NAMED_IDS:
            return None
        logged = await session.scalar(select(Message).where(
            Message.channel == msg.channel, Message.external_id == msg.external_id))
        if logged is None or await self._same_letter(session, logged, msg):
            return None
        taken = msg.external_id
        renamed = replace(msg, external_id=_content_id(msg), notes=(
            *msg.notes, f"another letter came first under the id {taken}: stored under its own"))
        return None if await _logged(session, renamed) else renamed

    async def _same_letter(self, session: AsyncSession, logged: Message,
                           msg: InboundMessage) -> bool:
        """Whether a logged message is ``msg`` delivered again: the same sender, subject, words
        and files. The words are compared as the intake stored them (our own subject's words
        left in a reply stand for no text)."""
        if logged.subject != msg.subject or not _same_files(logged.attachments, msg.attachments):
            return False
        text = await self._own_text(session, msg, logged.case_id) if logged.case_id else msg.text
        if logged.text != text:
            return False
        if logged.resident_id is None:  # automated mail and mail without a usable sender
            return True
        if msg.sender is None:
            return False
        found = await find_identity(session, msg.sender.channel, msg.sender.address) \
            or await find_alias(session, msg.sender.channel, msg.sender.address)
        return found is not None and found[0].id == logged.resident_id

    @staticmethod
    async def _own_text(session: AsyncSession, msg: InboundMessage, case_id: int) -> str:
        """The message's words, or none when they are only the words of a subject we wrote on
        the case, left as it was: a photo sent in reply to "[A-1042] Обращение
        зарегистрировано" has no words, and the channel took the subject for them (a phone
        user types a reply into the subject)."""
        said = " ".join(msg.text.split()).casefold()
        subject = " ".join(msg.subject.split()).casefold()
        if not said or not subject.endswith(said):
            return msg.text
        ours = await session.scalars(_OUR_SUBJECTS, {"case_id": case_id, "channel": msg.channel})
        for sent in ours:
            sent = " ".join((sent or "").split()).casefold()
            if sent.endswith(said) and subject.endswith(sent) and len(sent) > len(said):
                return ""
        return msg.text

    @staticmethod
    async def _on_case(session: AsyncSession, case: Case, resident: Resident | None) -> bool:
        """Whether a reply from this sender belongs in the case: its resident's, or someone who
        has written in it before. A neighbour copied on a resident's letter who answers all
        about her own leak gets a case of her own (linked), not a place in his."""
        if resident is None or case.resident_id == resident.id:
            return True
        return await session.scalar(select(Message.id).where(
            Message.case_id == case.id, Message.resident_id == resident.id).limit(1)) is not None

    @staticmethod
    async def _relayer_on_case(session: AsyncSession, case: Case, msg: InboundMessage) -> bool:
        """Whether the letter comes from the case's resident's own mailbox with answers asked
        at another address (a Reply-To their mail program adds): the reply is theirs."""
        if msg.relayed_by is None:
            return False
        found = await find_identity(session, msg.channel, msg.relayed_by) \
            or await find_alias(session, msg.channel, msg.relayed_by)
        return found is not None and found[0].id == case.resident_id

    @staticmethod
    async def _hinted_cases(session: AsyncSession, msg: InboundMessage) -> list[Case]:
        """The cases of the messages this one refers to (In-Reply-To/References, a Telegram
        reply), the newest message's first. Replies and what they answer share a channel, and
        asking by channel uses the unique (channel, external id) index; by external id alone
        every reply read the whole conversation log."""
        ids = dict.fromkeys(await session.scalars(_HINTED, {"channel": msg.channel,
                                                            "hints": list(msg.thread_hints)}))
        return [await session.get_one(Case, case_id) for case_id in ids]

    async def _link_foreign_reference(self, session: AsyncSession, msg: InboundMessage,
                                      case: Case, hinted: Case | None) -> str | None:
        """Link a new case to the one its message answers (a reply refused above) or names."""
        other = hinted
        numbers = iter(self._referenced_numbers(msg))
        while other is None or other.id == case.id:
            number = next(numbers, None)
            if number is None:
                return None
            other = await session.scalar(select(Case).where(Case.number == number))
        case.linked_case_id = other.id
        await record_event(session, case_id=case.id, at=case.received_at, actor="system",
                           action="linked", note=f"refers to {other.number}")
        return other.number

    async def _log_message(self, session: AsyncSession, msg: InboundMessage,
                           case: Case | None, resident: Resident | None, now: datetime,
                           note: str | None = None) -> int:
        """The incoming message in the conversation log; returns its id."""
        return (await _LOG_MESSAGE.run(session, {
            "case_id": case.id if case else None, "direction": "in", "channel": msg.channel,
            "external_id": msg.external_id, "resident_id": resident.id if resident else None,
            "staff_id": None, "subject": msg.subject, "text": msg.text,
            "attachments": [{"filename": a.filename, "content_type": a.content_type,
                             "size": a.size, "ref": a.ref,
                             **({"digest": a.digest} if a.digest else {})}
                            for a in msg.attachments],
            "raw_ref": msg.raw_ref,
            "note": "; ".join(filter(None, (note, *msg.notes))) or None,
            "burst_key": msg.burst_key, "reply_to": _answers(msg), "created_at": now,
        })).inserted_id

    async def _unfiled(self, session: AsyncSession, msg: InboundMessage, resident: Resident,
                       logged_id: int,
                       first_contact: tuple[Resident, Identity, str] | None) -> None:
        """A message that opens no case must still reach a person: a wrong "other" would
        otherwise mean a resident silently ignored. Staff see it with a way to open a case;
        a Telegram sender gets a short note (never email: that would answer spam)."""
        building = self.wf.building(resident.building_id)
        # An album arrives as several messages: one notice for the lot, not one per photo.
        key = f"unfiled:{msg.channel}:" + (f"burst:{msg.burst_key}" if msg.burst_key
                                          else msg.external_id)
        await self.notify.staff(session, None, "staff_unfiled", key=key,
                                recipients=[f"chat:{building.code}" if building else "chat:"],
                                extra={"message_id": logged_id}, text=msg.text,
                                subject=msg.subject, channel=msg.channel, resident=resident)
        if msg.channel in CHAT_CHANNELS:
            await self.notify.direct(session, resident, "unfiled", key=key,
                                     prefer=msg.channel, first_contact=first_contact)

    async def open_from_logged(self, message_id: int, actor: str) -> IntakeResult:
        """Staff decided an unfiled message needs a case after all."""
        now = self.wf.clock.now()
        async with self.wf.sessions() as session:
            logged = await session.get(Message, message_id)
            if logged is None or logged.direction != "in":
                raise LookupError(f"no incoming message #{message_id}")
            if logged.case_id is not None:
                number = await session.scalar(select(Case.number).where(
                    Case.id == logged.case_id))
                return IntakeResult(Action.THREADED, number, logged.case_id, note="already filed")
            resident = (await session.get(Resident, logged.resident_id)
                        if logged.resident_id else None)
            labels = self.wf.classifier.classify(logged.text, logged.subject)
            if labels.kind == Kind.OTHER:
                labels = replace(labels, kind=Kind.REQUEST, urgency=Urgency.NORMAL)
            msg = InboundMessage(channel=Channel(logged.channel),
                                 external_id=logged.external_id or f"logged:{logged.id}",
                                 sender=None, text=logged.text, subject=logged.subject,
                                 received_at=logged.created_at)
            case = await self._open_case(session, msg, resident, labels, now, None,
                                         logged=logged)
            case.manual_triage = True
            await record_event(session, case_id=case.id, at=now, actor=actor,
                               action="filed_by_staff",
                               note="opened from a message the classifier had set aside")
            acknowledged = await self._acknowledge(session, case, now) if resident else False
            await session.commit()
        self.wf.wake_outbox()
        return IntakeResult(Action.NEW_CASE, case.number, case.id, labels, acknowledged)

    async def _follow_up(self, session: AsyncSession, msg: InboundMessage,
                         resident: Resident | None, case: Case, now: datetime) -> IntakeResult:
        reopen_window = self.wf.settings.sla.reopen_window
        if msg.channel not in CHAT_CHANNELS:
            text = await self._own_text(session, msg, case.id)
            msg = msg if text == msg.text else replace(msg, text=text)
        if resident is not None and msg.channel not in CHAT_CHANNELS \
                and (msg.text.strip() or msg.attachments) \
                and _sent_again(msg, await _REPEATED_ON_CASE.run(session, {
                    "case_id": case.id, "resident_id": resident.id,
                    "since": now - REPEAT_WINDOW, "channel": msg.channel,
                    "text": msg.text, "subject": msg.subject})):
            # a phone resending a follow-up with a new Message-ID: staff heard it once
            return IntakeResult(Action.DUPLICATE, case.number, case.id,
                                note="the same letter sent again")
        await self._hold_automatic(session, msg, case, resident, now)
        rating = None
        if case.stage in (Stage.RESOLVED, Stage.CLOSED):
            # the score in the letter's words, else typed over our subject ("Re: [A-1042]
            # Обращение решено" made "Оценка 5") above a sign-off or the quote alone
            rating = parse_rating(msg.text) or subject_rating(msg.subject, msg.text)
        remark = self._classify(replace(msg, text=rating[1], subject=""))[0] \
            if rating is not None and rating[1] is not None else None
        if remark is not None and remark.kind != Kind.OTHER and bare_score(msg.text):
            rating = None  # "5 лет не могут починить" is a new grievance, not a score
        if rating is not None and resident is not None and case.resident_id == resident.id:
            await self._log_message(session, msg, case, resident, now, note="rating")
            await record_feedback(session, case, resident.id, *rating, now)
            if remark is not None and remark.kind != Kind.OTHER:
                # "Оценка 4, мастер опоздал на час": the score stands and staff read why;
                # "2, проблема осталась" also says the job is not done
                if any(r in _FAULT_PERSISTS for r in remark.rules) \
                        and now - (case.closed_at or case.resolved_at or now) <= reopen_window:
                    await self._reopen(session, case, now, msg)
                    return IntakeResult(Action.REOPENED, case.number, case.id, note="rating")
                await self._relay(session, msg, case)
            return IntakeResult(Action.THREADED, case.number, case.id, note="rating")
        # the reply's own words, not our subject it answers ("Re: Обращение решено" would
        # make "Проблема осталась" sound settled), asked once for both questions below
        own = self._classify(replace(msg, subject=""))[0] \
            if case.stage in (Stage.RESOLVED, Stage.CLOSED) else None
        if own is not None and _settles(msg, own):
            # "Спасибо, всё починили!", "Всё работает", 👍 answer the resolution: the job
            # stays done
            await self._log_message(session, msg, case, resident, now, note="settled")
            await record_event(session, case_id=case.id, at=now, actor=_actor(resident),
                               action="message", note=msg.text[:200] or None)
            return IntakeResult(Action.THREADED, case.number, case.id, note="settled")
        if own is not None:
            ended = case.closed_at or case.resolved_at or now
            if now - ended > reopen_window:
                why = "closed too long ago"
            elif own.kind != Kind.OTHER and own.category not in _NO_DEPARTMENT \
                    and own.category != case.category and _named(own, own.category):
                # Residents answer the office's last letter to report something else ("Спасибо
                # за мусор. Теперь в 1 подъезде не работает лифт"): the lift is a job of its
                # own, for its own department, not the cleaners' case reopened.
                why = f"a new {own.category} matter"
            else:
                why = None
            if why is not None:
                labels, failure = self._classify(msg)
                new = await self._open_case(session, msg, resident, labels, now, failure)
                new.linked_case_id = case.id
                await record_event(session, case_id=new.id, at=now, actor="system",
                                   action="linked", note=f"follow-up to {case.number}, {why}")
                acknowledged = await self._acknowledge(session, new, now) if resident else False
                return IntakeResult(Action.NEW_CASE, new.number, new.id, labels, acknowledged,
                                    new.incident_id, linked_case=case.number)
            await self._log_message(session, msg, case, resident, now)
            await self._reopen(session, case, now, msg)
            return IntakeResult(Action.REOPENED, case.number, case.id)
        await self._log_message(session, msg, case, resident, now)
        await record_event(session, case_id=case.id, at=now, actor=_actor(resident),
                           action="message", note=msg.text[:200] or None)
        relabelled = False
        if msg.text.strip() and _files_alone(case):
            relabelled = await self._words_for_files(session, msg, case, now)
        elif case.kind in _UPGRADABLE and msg.text.strip():
            relabelled = await self._upgrade_if_still_waiting(session, msg, case, now)
        if case.paused_at is not None:
            self.wf.sla.shift(case, case.paused_at, now)
            case.paused_at = None
            self.wf.sla.refresh_next(case)
            await record_event(session, case_id=case.id, at=now, actor="system",
                               action="clock_resumed")
        case.updated_at = now
        await self._relay(session, msg, case, redraw=relabelled)
        return IntakeResult(Action.THREADED, case.number, case.id)

    @staticmethod
    async def _hold_automatic(session: AsyncSession, msg: InboundMessage, case: Case,
                              resident: Resident | None, now: datetime) -> None:
        """A letter on a case that asks for no automatic answers (Outlook's
        X-Auto-Response-Suppress) holds its address from the case's automatic messages from
        now on, as the letter that opens a case does (see :func:`_explanation`)."""
        if not msg.no_auto_reply or msg.sender is None or resident is None \
                or msg.sender.address.lower() in held_addresses(case):
            return
        case.explanation = hold_automatic(case.explanation or {}, msg.sender.address)
        await record_event(session, case_id=case.id, at=now, actor=_actor(resident),
                           action="no_auto_reply",
                           note=f"{msg.sender.address}: no automatic messages, staff answer")

    async def _upgrade_if_still_waiting(self, session: AsyncSession, msg: InboundMessage,
                                        case: Case, now: datetime) -> bool:
        """A request the resident writes about again as not done ("пишу второй раз, до сих пор
        течёт", "nobody has come") is a complaint now: its deadlines and the managers' counts
        follow, and the event says why (staff can put it back with Reclassify)."""
        own = self._classify(replace(msg, subject=""))[0]
        if own.kind != Kind.COMPLAINT or not any(rule in _STILL_WAITING for rule in own.rules):
            return False
        old = case.kind
        case.kind = Kind.COMPLAINT.value
        self.wf.sla.relabel(case, old, case.urgency, await clock_started(session, case), now)
        await record_event(session, case_id=case.id, at=now, actor="system",
                           action="reclassified",
                           note=f"kind: {old} → complaint (the resident writes again: not done)")
        return True

    async def _words_for_files(self, session: AsyncSession, msg: InboundMessage, case: Case,
                               now: datetime) -> bool:
        """The first words after files that came with none (a photo sent first, the words
        typed a moment later, as most people write in a chat) are the case's report: it takes
        their labels, department, deadlines and incident, and the resident is told the case
        as it now stands. The files opened a case of «прочее, обычная» for manual triage, and
        the words only joined it: "Сильно пахнет газом" after a photo was due in a week, with
        no word on what to do now. Words that report nothing ("вот") change nothing.
        Whether the case's labels changed."""
        labels, failure = self._classify(replace(msg, subject=""))
        if failure is not None or labels.kind == Kind.OTHER:
            return False
        old = (case.kind, case.category, case.urgency)
        old_respond, old_resolve = case.respond_due, case.resolve_due
        case.kind, case.category = labels.kind, labels.category
        case.urgency, case.scope = labels.urgency, labels.scope
        case.department = self.wf.settings.department_for(labels.category)
        case.text, case.manual_triage, case.needs_review, case.review_reason = \
            msg.text, False, False, None
        case.explanation = {**{k: v for k, v in (case.explanation or {}).items()
                               if k != "error"}, "rules": list(labels.rules)}
        self.wf.sla.relabel(case, old[0], old[2], await clock_started(session, case), now)
        await record_event(session, case_id=case.id, at=now, actor="system",
                           action="reclassified",
                           note=f"{'/'.join(old)} → {labels.kind}/{labels.category}/"
                                f"{labels.urgency}: the words that followed the files")
        if case.incident_id is None:
            resident = await session.get(Resident, case.resident_id) \
                if case.resident_id is not None else None
            incident = await self._incident_for(session, case.building_id, labels, now,
                                                resident)
            if incident is not None:
                case.incident_id = incident[0]
                await record_event(session, case_id=case.id, at=now, actor="system",
                                   action="incident", note=f"incident #{incident[0]}, first "
                                                           f"reported as {incident[1]}")
        if (case.kind, case.category, case.urgency) == old and (
                case.respond_due, case.resolve_due) == (old_respond, old_resolve):
            return False
        # The first acknowledgement, if it has not gone yet, would only contradict this one,
        # which then is the first the resident reads.
        superseded = await withdraw(session, key=f"ack:{case.id}", reason="superseded by the "
                                    "acknowledgement of the words that followed the files")
        await self.notify.resident(session, case, "ack", key=f"ack:{case.id}:words",
                                   revised=not superseded, link_code=None)
        return True

    async def _relay(self, session: AsyncSession, msg: InboundMessage, case: Case, *,
                     redraw: bool = False) -> None:
        """The resident's words (and files) to the case's staff chat; ``redraw``: the words
        changed the case's labels, which its card shows."""
        # The rest of an album adds photos to the case; staff need not hear of each one.
        relay_key = (f"relay:burst:{msg.burst_key}" if msg.burst_key and not msg.text.strip()
                     else f"relay:{msg.channel}:{msg.external_id}")
        media = [f"{msg.channel}:{msg.external_id}"] if msg.attachments else []
        await self.notify.staff(session, case, "staff_resident_message", key=relay_key,
                                extra={"media": media, **({"redraw": True} if redraw else {})},
                                recipients=self.notify.staff_chat(case),
                                text=msg.text, attachments=len(msg.attachments))

    async def _reopen(self, session: AsyncSession, case: Case, now: datetime,
                      msg: InboundMessage) -> None:
        from_stage = case.stage
        case.stage = Stage.INVESTIGATING
        self.wf.sla.restart(case, now)
        case.first_response_at = None
        self.wf.sla.refresh_next(case)
        case.updated_at = now
        await record_event(session, case_id=case.id, at=now, actor="resident",
                           action="reopened", from_stage=from_stage,
                           to_stage=Stage.INVESTIGATING)
        await self.notify.resident(session, case, "reopened", key=f"reopened:{case.id}:{now}")
        # staff read why: the resident's words and files, not only that the case is open again
        media = [f"{msg.channel}:{msg.external_id}"] if msg.attachments else []
        await self.notify.staff(session, case, "staff_reopened", key=f"reopened:{case.id}:{now}",
                                extra={"media": media}, recipients=self.notify.staff_chat(case),
                                text=msg.text, attachments=len(msg.attachments))

    async def next_number(self, session: AsyncSession) -> str:
        cfg = self.wf.settings.case_number
        value = (await _NEXT_NUMBER.run(session)).scalar()
        if value is None:
            value = cfg.start + 1
            await _NEW_COUNTER.run(session, {"name": "case", "value": value})
        return f"{cfg.prefix}-{value}"

    def _whereabouts(self, msg: InboundMessage, resident: Resident | None
                     ) -> tuple[int | None, str | None]:
        """The building and flat a message is about: the channel's, else the resident's, else
        guessed from the text."""
        building_id = self.wf.building_id(msg.building_code)
        if building_id is None and resident is not None:
            building_id = resident.building_id
        apartment = msg.apartment or (resident.apartment if resident else None)
        if building_id is None or apartment is None:
            where = f"{msg.subject}\n{msg.text}"
            if building_id is None and (guess := guess_building(where,
                                                                self.wf.buildings.values())):
                building_id = guess.id
            apartment = apartment or guess_apartment(where)
        return building_id, apartment

    async def _open_case(self, session: AsyncSession, msg: InboundMessage,
                         resident: Resident | None, labels: Classification, now: datetime,
                         failure: str | None, logged: Message | None = None) -> Case:
        building_id, apartment = self._whereabouts(msg, resident)
        if resident is not None:  # remembered for the resident's next message
            await update_row(session, resident, **_missing(resident, building_id=building_id,
                                                           apartment=apartment))
        number = await self.next_number(session)
        incident = await self._incident_for(session, building_id, labels, now, resident)
        # A case whose resident can be answered is acknowledged in this same transaction;
        # inserting it that way spares an UPDATE (the events still show both steps).
        stage = Stage.ACKNOWLEDGED if resident is not None else Stage.RECEIVED
        respond_due, resolve_due = self.wf.sla.dues(labels.kind, labels.urgency,
                                                    msg.received_at or now)
        case = await insert_row(
            session, Case, number=number, kind=labels.kind, category=labels.category,
            urgency=labels.urgency, scope=labels.scope, stage=stage,
            acknowledged_at=now if resident is not None else None,
            department=self.wf.settings.department_for(labels.category),
            building_id=building_id, apartment=apartment,
            resident_id=resident.id if resident else None, channel=msg.channel,
            subject=msg.subject, text=msg.text,
            explanation=_explanation(labels, failure, msg),
            manual_triage=failure is not None, needs_review=failure is not None,
            review_reason=failure, escalation_level=0, received_at=msg.received_at or now,
            updated_at=now, respond_due=respond_due, resolve_due=resolve_due,
            next_deadline=self.wf.sla.next_due(stage, paused=False, answered=False,
                                               respond_due=respond_due,
                                               resolve_due=resolve_due),
            incident_id=incident[0] if incident else None,
        )
        if logged is None:
            await self._log_message(session, msg, case, resident, now)
        else:
            logged.case_id = case.id
        await record_event(session, case_id=case.id, at=now, actor=_actor(resident),
                           action="received", to_stage=Stage.RECEIVED,
                           note=f"{labels.kind}/{labels.category}/{labels.urgency}/"
                                f"{labels.scope}")
        if incident is not None:
            await record_event(session, case_id=case.id, at=now, actor="system",
                               action="incident",
                               note=f"incident #{incident[0]}, first reported as {incident[1]}")
        await self.notify.staff(session, case, "staff_new_case", key=f"card:{case.id}",
                                recipients=self.notify.staff_chat(case), render=False)
        return case

    async def _incident_for(self, session: AsyncSession, building_id: int | None,
                            labels: Classification, now: datetime,
                            resident: Resident | None) -> tuple[int, str] | None:
        """Several residents reporting the same building-wide problem become one incident:
        the incident (id, first case's number) a new case joins, creating it on the second
        report."""
        if labels.scope != Scope.BUILDING or building_id is None or labels.kind == Kind.OTHER:
            return None
        since = now - self.wf.settings.sla.incident_window
        other = (await _INCIDENT_PEER.run(session, {
            "building_id": building_id, "category": labels.category, "since": since,
            "resident_id": resident.id if resident is not None else None})).first()
        if other is None:
            return None
        if other.incident_id is not None:
            return other.incident_id, other.number
        incident_id = (await _NEW_INCIDENT.run(session, {
            "building_id": building_id, "category": labels.category,
            "opened_at": other.received_at})).inserted_id
        await (await connection(session)).execute(update(Case).where(Case.id == other.id)
                           .values(incident_id=incident_id))
        await record_event(session, case_id=other.id, at=now, actor="system", action="incident",
                           note=f"incident #{incident_id}")
        return incident_id, other.number

    async def _acknowledge(self, session: AsyncSession, case: Case, now: datetime,
                           first_contact: tuple[Resident, Identity, str] | None = None) -> bool:
        """Record the case as acknowledged and tell the resident, unless the letter that opened
        it asked for no automatic answers (its address is held on the case, and the notifier
        keeps every later automatic message from it too)."""
        sent, note = False, "acknowledgement not sent: the sender asked for no automatic replies"
        if not held_addresses(case):
            link_code = None
            if case.channel not in CHAT_CHANNELS and case.resident_id is not None:
                link_code = await self._link_code(session, case.resident_id, now,
                                                  fresh=first_contact is not None)
            item = await self.notify.resident(session, case, "ack", key=f"ack:{case.id}",
                                              link_code=link_code, first_contact=first_contact)
            sent = item is not None and item.state == "pending"
            note = "acknowledgement not sent (unreachable or rate-limited)"
        await record_event(session, case_id=case.id, at=now, actor="system",
                           action="acknowledged", from_stage=Stage.RECEIVED,
                           to_stage=Stage.ACKNOWLEDGED, note=None if sent else note)
        return sent

    async def _link_code(self, session: AsyncSession, resident_id: int, now: datetime,
                         *, fresh: bool = False) -> str:
        """The resident's live /link code, or a new one (``fresh``: nobody has one yet)."""
        if not fresh:
            code = (await _LIVE_LINK_CODE.run(session, {"resident_id": resident_id,
                                                        "now": now})).scalar()
            if code:
                return str(code)
        code = secrets.token_hex(4).upper()
        await _NEW_LINK_CODE.run(session, {"code": code, "resident_id": resident_id,
                                           "expires_at": now + LINK_CODE_TTL})
        return code

    async def _automated(self, session: AsyncSession, msg: InboundMessage,
                         now: datetime) -> IntakeResult:
        """Auto-replies, lists and our own mail are logged and never answered; a bounce is
        matched to its case so staff can reach the resident another way."""
        if msg.automated != Automated.BOUNCE:
            await self._log_message(session, msg, None, None, now,
                                    note=f"automated: {msg.automated}")
            action = Action.IGNORED_LIST if msg.automated == Automated.LIST \
                else Action.IGNORED_AUTOREPLY
            return IntakeResult(action)
        hinted = await self._hinted_cases(session, msg) if msg.thread_hints else []
        case = hinted[0] if hinted else None
        if case is None:
            for number in self._referenced_numbers(msg):
                case = await session.scalar(select(Case).where(Case.number == number))
                if case is not None:
                    break
        await self._log_message(session, msg, case, None, now,
                                note="delivery delayed" if msg.bounce_delayed else "bounce")
        if msg.bounce_delayed:
            # the mail system is still trying: nothing failed, nobody to alert
            return IntakeResult(Action.BOUNCE, case.number if case else None,
                                case.id if case else None, note="delivery delayed")
        found = None
        if msg.bounced_recipient:
            # our letter went to the spelling the resident last wrote from; the bounce may
            # name another spelling of the mailbox
            found = await find_identity(session, msg.channel, msg.bounced_recipient) \
                or await find_alias(session, msg.channel, msg.bounced_recipient)
            if found is not None:
                await update_row(session, found[1], unreachable=True,
                                 unreachable_reason="mail bounced")
        reason = msg.bounce_reason
        if case is not None:
            await record_event(session, case_id=case.id, at=now, actor="system",
                               action="bounce",
                               note=f"undeliverable: {msg.bounced_recipient or 'unknown address'}")
            await self.notify.staff(session, case, "delivery_failed",
                                    key=f"bounce:{msg.external_id}",
                                    recipients=self.notify.staff_chat(case),
                                    channel=msg.channel,
                                    recipient=msg.bounced_recipient or "?",
                                    reason=reason, fallback=None)
        elif msg.bounced_recipient:
            await self._bounce_without_case(session, msg, found[0] if found else None,
                                            reason, now)
        return IntakeResult(Action.BOUNCE, case.number if case else None,
                            case.id if case else None)

    async def _bounce_without_case(self, session: AsyncSession, msg: InboundMessage,
                                   resident: Resident | None, reason: str | None,
                                   now: datetime) -> None:
        """A message to an address came back and names no case (a letter staff wrote by hand,
        a relay that rewrote everything): the address is marked undeliverable, and staff must
        hear it too, or they keep writing to a dead address. Once a day per address, so a
        bounce storm does not flood the chat; addresses no resident has (backscatter of mail
        forged with the office's address) share one notice a day between them."""
        who = msg.bounced_recipient if resident is not None else "unknown"
        building = self.wf.building(resident.building_id) if resident is not None else None
        await self.notify.staff(session, None, "delivery_failed",
                                key=f"bounce:no-case:{who}:{now.date().isoformat()}",
                                recipients=[f"chat:{building.code}" if building else "chat:"],
                                channel=msg.channel, recipient=msg.bounced_recipient,
                                reason=reason, fallback=None, resident=resident)


async def _logged(session: AsyncSession, msg: InboundMessage) -> bool:
    """Whether a message is logged under this one's channel and external id."""
    return (await _DUPLICATE.run(session, {"channel": msg.channel,
                                           "external_id": msg.external_id})).first() is not None


def _sent_again(msg: InboundMessage, alike: Iterable[Any]) -> bool:
    """Whether ``msg`` is one of the logged letters ``alike`` (rows that read word for word
    like it) sent again with a new id: it carries the same files and answers the same letter.
    "Да" to one question and "Да" to the next are two answers; photos sent one per letter
    under one subject are so many photos."""
    answers = _answers(msg)
    return any(_same_files(row.attachments, msg.attachments) and row.reply_to == answers
               for row in alike)


def _answers(msg: InboundMessage) -> str | None:
    """What a message answers: its first thread hint (a letter's In-Reply-To, else its first
    reference), None for a message that answers nothing."""
    return msg.thread_hints[0] if msg.thread_hints else None


def _same_files(logged: Sequence[dict[str, Any]] | None, sent: Sequence[Attachment]) -> bool:
    """Whether a logged message carried the very files ``sent`` are: the same names and sizes,
    and the same bytes where both digests are known (older rows have none)."""
    theirs = sorted((str(f.get("filename")), int(f.get("size") or 0), f.get("digest") or "")
                    for f in logged or ())
    mine = sorted((a.filename, a.size, a.digest or "") for a in sent)
    return len(theirs) == len(mine) and all(
        t[:2] == m[:2] and (not t[2] or not m[2] or t[2] == m[2])
        for t, m in zip(theirs, mine, strict=True))


def _content_id(msg: InboundMessage) -> str:
    """An id for a message from its id, sender and content: the same for the same letter
    delivered again, so a second letter under a Message-ID another one took is stored (and
    found again) under this one. Shaped as the parser's ids for mail without a Message-ID,
    which our replies never name in References."""
    parts = [msg.external_id, msg.sender.address if msg.sender else "", msg.subject, msg.text,
             *(f"{a.filename}/{a.size}/{a.digest or ''}" for a in msg.attachments)]
    return "sha256:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _explanation(labels: Classification, failure: str | None,
                 msg: InboundMessage) -> dict[str, Any]:
    """A new case's explanation: the classifier's rules, its failure if any, and the sender's
    address when the letter asked for no automatic answers (nothing automatic about the case
    goes there then: :func:`workflow.notify.held_addresses`)."""
    explanation: dict[str, Any] = {"rules": list(labels.rules),
                                   **({"error": failure} if failure else {})}
    if msg.no_auto_reply and msg.sender is not None:
        explanation = hold_automatic(explanation, msg.sender.address)
    return explanation


def _missing(resident: Resident, **known: object) -> dict[str, object]:
    """What a message tells about its resident that the record lacks (never overwrites)."""
    return {key: value for key, value in known.items()
            if value not in (None, "") and getattr(resident, key) in (None, "")}


def _settles(msg: InboundMessage, own: Classification) -> bool:
    """Whether a reply to a resolved case leaves the job done: nothing in its own words to
    act on (the classifier files thanks, "Всё работает", "Ок", 👍 as other) and no "нет" or
    "не" that may say the job is not done; a photo, a new request, "Не починили" or a bare
    "Нет" reopens."""
    return not msg.attachments and not _DISSENT.search(msg.text) and own.kind == Kind.OTHER


def _named(labels: Classification, category: str) -> bool:
    """Whether the message's own words name ``category`` (one of its rules fired), not the
    learned model's guess for words that name no department ("Не починили")."""
    return any(rule.startswith(f"category.{category}.") for rule in labels.rules)


def _files_alone(case: Case) -> bool:
    """Whether the case was opened by files that came with no words, and nobody has given it
    words or labels since (staff's Reclassify ends the manual triage)."""
    return case.manual_triage and case.review_reason == FILES_ALONE and not case.text.strip()


def _wordless(labels: Classification) -> bool:
    """Whether words sent with a file say nothing the classifier can act on: no report, and
    none of thanks, praise, an advert or a cancellation (a greeting says nothing)."""
    return labels.kind == Kind.OTHER and not any(
        rule.startswith("kind.other.") and rule != _GREETING_RULE for rule in labels.rules)


def _actor(resident: Resident | None) -> str:
    return f"resident:{resident.id}" if resident is not None else "unknown"
