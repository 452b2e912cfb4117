"""The staff chat as the bot keeps it: one card per case, one forum topic per case where the
group is a forum, and a map from every posted message back to its case.

Telegram gives no way to ask "which case is this topic about" later, and staff reply to any
message in the chat, so everything posted about a case is recorded in ``telegram_cards`` and
``telegram_message_links`` the moment it is sent. The card's text is always re-rendered from
the database, so an edit after Take or Reclassify shows the case as it is now.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.methods import (
    CloseForumTopic,
    CopyMessage,
    CreateForumTopic,
    EditForumTopic,
    EditMessageText,
    GetChat,
    ReopenForumTopic,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, ReplyParameters
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CARD_ACTIONS, CaseCb, UnfiledCb
from bot.limits import TOPIC_NAME_LIMIT, fit, utf16_len
from bot.registry import media_sources
from bot.sender import (
    Deferred,
    TelegramOutput,
    fault_pause,
    inline_keyboard,
    not_modified,
    send_error,
    transient,
)
from bot.settings import TelegramConfig
from bot.tables import TelegramCard, TelegramChatMove, TelegramMessageLink
from bot.texts import BotTexts
from workflow.context import Workflow
from workflow.models import Building, Case, Message, Resident, Staff
from workflow.notify import staff_payload
from workflow.outbox import (
    STAFF_CHANNEL,
    Outgoing,
    PermanentSendError,
    TemporarySendError,
    enqueue,
)
from workflow.stages import Stage

if TYPE_CHECKING:
    from bot.membership import ChatAccess
    from bot.menu import CommandMenu

log = logging.getLogger(__name__)

# Media copied under one card or relay: an album is at most 10, and the staff chat's budget
# (20 messages a minute) is shared by every case.
MEDIA_PER_POST = 10

CARD_TEXT_BUDGET = 3900  # a card is edited later; it must stay one message
# Cards whose look is remembered (see Cards.showing); an older card's next redraw is sent
# without asking, and a "not modified" answer to it is only logged.
SHOWN_MAX = 5000
# The outbox purpose of a card's redraw kept over a restart (see Cards.close): the staff
# sender redraws the card as the case is then, posting nothing.
CARD_REDRAW = "telegram_card_redraw"
# A card's redraw that met Telegram's own fault (a 5xx) is tried again this many times.
CARD_FAULT_ATTEMPTS = 5


def thread_missing(exc: TelegramAPIError) -> bool:
    text = exc.message.lower()
    return "thread not found" in text or "topic_id_invalid" in text or "topic_deleted" in text


def topic_shut(exc: TelegramAPIError) -> bool:
    """The topic is closed, and the bot may not post there (nor reopen it): only those who
    may manage topics write in a closed one."""
    return "topic_closed" in exc.message.lower()


def topics_refused(exc: TelegramAPIError) -> bool:
    """The group will not have a topic made: the bot lost its right to manage topics, or an
    admin turned topics off. The card still has to reach staff."""
    text = exc.message.lower()
    return "not enough rights" in text or "not a forum" in text or "chat_admin_required" in text


def chat_gone(exc: TelegramAPIError) -> bool:
    """The bot can no longer post in the group at all: it was kicked or left ("Forbidden:
    bot was kicked from the supergroup chat", "... is not a member ..."), or the group was
    deleted ("chat not found"). A move to a supergroup is not this: it is followed."""
    if isinstance(exc, TelegramForbiddenError):
        return True
    return isinstance(exc, TelegramBadRequest) and "chat not found" in exc.message.lower()


def chat_muted(exc: TelegramAPIError) -> bool:
    """The bot is still in the group but may not write there: an admin restricted it, or
    demoted it where members may not write ("not enough rights to send text messages",
    "have no rights to send a message", CHAT_WRITE_FORBIDDEN, CHAT_RESTRICTED, "need
    administrator rights in the channel chat"). Every post to that chat is refused alike."""
    if not isinstance(exc, TelegramBadRequest):
        return False
    text = exc.message.lower()
    return any(sign in text for sign in (
        "not enough rights to send", "have no rights to send", "chat_write_forbidden",
        "chat_restricted", "need administrator rights"))


Buttons = list[list[tuple[str, str | None]]]


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def buttons_of(markup: Any) -> Buttons:
    """An inline keyboard as its labels and callback data, to tell whether an edit changes it."""
    rows = getattr(markup, "inline_keyboard", None) or []
    return [[(b.text, b.callback_data) for b in row] for row in rows]


@dataclass
class StaffChats:
    """Which Telegram chat a symbolic staff recipient means, and whether it is a forum."""

    config: TelegramConfig
    wf: Workflow
    output: TelegramOutput
    menu: CommandMenu | None = None  # set on the group's new id after an upgrade

    def __post_init__(self) -> None:
        self._forum: dict[int, bool] = {}
        self._moved: dict[int, int] = {}
        self._ids = {b.staff_chat_id for b in self.wf.settings.buildings if b.staff_chat_id}
        for extra in (self.config.staff_chat_id, self.config.managers_chat_id):
            if extra:
                self._ids.add(extra)

    def chat_ids(self) -> set[int]:
        """Every chat where staff work (building chats, the global one, the managers'). The
        set itself, so that the staff router's filter sees a chat that moved (:meth:`migrated`)."""
        return self._ids

    def resolve(self, chat_id: int) -> int:
        """Where a configured chat is now (a group upgraded to a supergroup has a new id)."""
        return self._moved.get(chat_id, chat_id)

    async def load(self) -> None:
        """Follow the moves recorded before a restart at once: the old id would refuse the
        first post, and staff writing in the new group would be taken for strangers."""
        async with self.wf.sessions() as session:
            moves = (await session.scalars(select(TelegramChatMove))).all()
        for move in moves:
            self._follow(move.old_chat_id, move.new_chat_id)
            if self._configured(move.old_chat_id):
                self._ask_operator(move.old_chat_id, move.new_chat_id)

    async def migrated(self, old: int, new: int) -> None:
        """Telegram upgraded a staff group to a supergroup: the old id refuses every message.
        Follow it, and remember it, until the operator updates the configuration."""
        if self._moved.get(old) == new:
            return
        self._follow(old, new)
        try:
            async with self.wf.sessions.begin() as session:
                await session.merge(TelegramChatMove(old_chat_id=old, new_chat_id=new,
                                                     moved_at=self.wf.clock.now()))
        except IntegrityError:  # the service message and a refused post, at the same time
            pass
        self._ask_operator(old, new)
        if self.menu is not None:
            # the staff menu belongs to the old id: staff in the new group saw no commands
            await self.menu.for_staff_chat(new)

    def _follow(self, old: int, new: int) -> None:
        self._moved[old] = new
        self._ids.add(new)
        self._forum.pop(new, None)

    def _configured(self, chat_id: int) -> bool:
        return chat_id in (self.config.staff_chat_id, self.config.managers_chat_id) or any(
            b.staff_chat_id == chat_id for b in self.wf.settings.buildings)

    @staticmethod
    def _ask_operator(old: int, new: int) -> None:
        log.error("staff chat %s was upgraded to a supergroup with id %s: following it; "
                  "put the new id in the configuration (telegram.staff_chat_id, "
                  "telegram.managers_chat_id or buildings[].staff_chat_id)", old, new)

    def managers_only(self, chat_id: int) -> bool:
        """Whether the chat is the managers' chat and no chat where cards are posted: what is
        posted there about a case (an escalation) is no card, and staff answer residents
        elsewhere."""
        cards = {self.resolve(c) for c in (self.config.staff_chat_id, *(
            b.staff_chat_id for b in self.wf.settings.buildings)) if c}
        managers = self.config.managers_chat_id
        if not managers:
            return False
        return chat_id == self.resolve(managers) and chat_id not in cards

    def for_building(self, code: str) -> int | None:
        for b in self.wf.settings.buildings:
            if b.code == code and b.staff_chat_id:
                return self.resolve(b.staff_chat_id)
        return self.resolve(self.config.staff_chat_id) if self.config.staff_chat_id else None

    def forget(self, chat_id: int) -> None:
        """What is known of the chat may have changed (the bot was away from it)."""
        self._forum.pop(chat_id, None)

    async def is_forum(self, chat_id: int) -> bool:
        if chat_id not in self._forum:
            chat = await self.output.unbudgeted(GetChat(chat_id=chat_id))
            self._forum[chat_id] = bool(chat.is_forum)
        return self._forum[chat_id]


def card_keyboard(texts: BotTexts, lang: str, case: Case) -> InlineKeyboardMarkup | None:
    def b(action: str) -> tuple[str, str]:
        return texts.button(lang, action), CaseCb(a=action, id=case.id).pack()

    if case.stage == Stage.CLOSED:
        return inline_keyboard([[b("reopen")]])
    if case.stage == Stage.RESOLVED:
        return inline_keyboard([[b("close"), b("reopen")]])
    rows = [[b(a) for a in CARD_ACTIONS[i:i + 2]] for i in range(0, len(CARD_ACTIONS), 2)]
    rows.append([(texts.button(lang, "reclassify"), CaseCb(a="rc", id=case.id).pack())])
    return inline_keyboard(rows)


class Cards:
    def __init__(self, wf: Workflow, output: TelegramOutput, texts: BotTexts,
                 chats: StaffChats) -> None:
        self.wf = wf
        self.output = output
        self.texts = texts
        self.chats = chats
        self.lang = wf.settings.default_language
        # What each card message shows now (a digest of its text, and its buttons), as far as
        # this process drew it: Telegram refuses an edit that changes nothing ("message is
        # not modified"). The most recently drawn SHOWN_MAX cards are kept.
        self._shown: OrderedDict[tuple[int, int], tuple[bytes | None, Buttons]] = OrderedDict()
        self._redraws: dict[int, asyncio.Task[None]] = {}
        # Redraws in a row that met Telegram's own fault (a 5xx) or the network's, per case.
        self._faults: dict[int, int] = {}

    # --- rendering ------------------------------------------------------------------------

    async def card_text(self, session: AsyncSession, case: Case) -> str:
        building = await session.get(Building, case.building_id) if case.building_id else None
        assignee = await session.get(Staff, case.assignee_id) if case.assignee_id else None
        resident = await session.get(Resident, case.resident_id) if case.resident_id else None
        incoming = (await session.scalars(select(Message).where(
            Message.case_id == case.id, Message.direction == "in").order_by(Message.id))).all()
        attachments = sum(len(m.attachments or []) for m in incoming)
        facts: dict[str, Any] = {
            "case": case, "building": building, "assignee": assignee, "resident": resident,
            "office": self.wf.settings.office_name, "attachments": attachments,
            # what the channel noted on the report (a file dropped over the size limit, a mail
            # too big to fetch whole, a text recovered from a broken layout): staff must know
            # something is missing before they answer
            "notes": next((m.note for m in incoming if m.note), None),
            "rules": list(case.explanation.get("rules", [])),
        }
        body = self.wf.renderer.render("staff_new_case", self.lang, html=False, **facts).text
        footer = self.texts.staff(self.lang, "card_footer", case=case, assignee=assignee)
        # Only the resident's text can make it this long; the full text is in /case.
        body = fit(body, max(200, CARD_TEXT_BUDGET - utf16_len(footer) - 2))
        return f"{body}\n\n{footer}"

    def keyboard(self, case: Case) -> InlineKeyboardMarkup | None:
        return card_keyboard(self.texts, self.lang, case)

    # --- what a card shows ----------------------------------------------------------------

    def shown_buttons(self, chat_id: int, message_id: int) -> Buttons | None:
        """The buttons this process last put under a card message (None: not known here)."""
        shown = self._shown.get((chat_id, message_id))
        return shown[1] if shown is not None else None

    def showing(self, chat_id: int, message_id: int, markup: Any,
                text: str | None = None) -> None:
        """Record a card message's buttons (and text) after an edit, so the next edit that
        would change nothing is not sent."""
        key = (chat_id, message_id)
        if text is None and key not in self._shown:
            return  # not a card this process drew
        old = self._shown[key][0] if key in self._shown else None
        self._shown[key] = (_digest(text) if text is not None else old, buttons_of(markup))
        self._shown.move_to_end(key)
        while len(self._shown) > SHOWN_MAX:
            self._shown.popitem(last=False)

    # --- lookups --------------------------------------------------------------------------

    async def case_for(self, chat_id: int, thread_id: int | None,
                       reply_to: int | None) -> int | None:
        """The case a staff message is about: its forum topic, or the message it replies to."""
        async with self.wf.sessions() as session:
            if thread_id is not None:
                case_id = await session.scalar(select(TelegramCard.case_id).where(
                    TelegramCard.chat_id == chat_id, TelegramCard.thread_id == thread_id))
                if case_id is not None:
                    return case_id
            if reply_to is not None:
                return await session.scalar(select(TelegramMessageLink.case_id).where(
                    TelegramMessageLink.chat_id == chat_id,
                    TelegramMessageLink.message_id == reply_to))
        return None

    async def link_parts(self, chat_id: int, message_ids: list[int], case_id: int) -> None:
        """The later parts of an answer sent to a resident in several messages stand for its
        first part, the one the outbox recorded (see :meth:`first_part_of`)."""
        first = f"{chat_id}:{message_ids[0]}"
        for message_id in message_ids[1:]:
            await self.link(chat_id, message_id, case_id, source=first)

    async def first_part_of(self, chat_id: int, message_id: int) -> str | None:
        """"<chat>:<message>" of the first part of the answer this message is a later part of."""
        async with self.wf.sessions() as session:
            return await session.scalar(select(TelegramMessageLink.source).where(
                TelegramMessageLink.chat_id == chat_id,
                TelegramMessageLink.message_id == message_id))

    async def link(self, chat_id: int, message_id: int, case_id: int,
                   source: str | None = None) -> None:
        async with self.wf.sessions() as session:
            exists = await session.scalar(select(func.count(TelegramMessageLink.id)).where(
                TelegramMessageLink.chat_id == chat_id,
                TelegramMessageLink.message_id == message_id))
            if exists:
                return
            session.add(TelegramMessageLink(chat_id=chat_id, message_id=message_id,
                                            case_id=case_id, source=source))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()

    # --- posting --------------------------------------------------------------------------

    async def post_card(self, case_id: int, chat_id: int) -> str:
        """Post the case's card (in its own topic on a forum); idempotent per case."""
        async with self.wf.sessions() as session:
            card = await session.get(TelegramCard, case_id)
            posted = card is not None and card.chat_id == chat_id and card.message_id is not None
            thread_id = card.thread_id if card is not None and card.chat_id == chat_id else None
        if posted:
            # A retry after a lost acknowledgement, or after the group's budget ran out while
            # the media were copied under the card: the card stays, the missing copies follow
            # (the retry used to stop here, and those photos never reached staff).
            assert card is not None and card.message_id is not None
            await self.copy_media(case_id, chat_id, thread_id, card.message_id,
                                  await self._media_refs(case_id))
            return f"{chat_id}:{card.message_id}"
        forum = await self.chats.is_forum(chat_id)
        if forum and thread_id is None:
            thread_id = await self._create_topic(case_id, chat_id)
        try:
            message_id = await self._send_card(case_id, chat_id, thread_id)
        except TelegramBadRequest as exc:
            if not (forum and thread_missing(exc)):
                raise
            thread_id = await self._create_topic(case_id, chat_id)
            message_id = await self._send_card(case_id, chat_id, thread_id)
        return f"{chat_id}:{message_id}"

    async def _send_card(self, case_id: int, chat_id: int, thread_id: int | None) -> int:
        async with self.wf.sessions() as session:
            case = await session.get_one(Case, case_id)
            text = await self.card_text(session, case)
            markup = self.keyboard(case)
        sent = await self.output.send_text(chat_id, text, markup=markup, thread_id=thread_id)
        message_id = sent[-1].message_id
        self.showing(chat_id, message_id, markup, text)
        async with self.wf.sessions.begin() as session:
            card = await session.get(TelegramCard, case_id)
            if card is None:
                card = TelegramCard(case_id=case_id, chat_id=chat_id)
                session.add(card)
            card.chat_id, card.message_id, card.thread_id = chat_id, message_id, thread_id
            card.topic_closed = False
        for m in sent:
            await self.link(chat_id, m.message_id, case_id)
        await self.copy_media(case_id, chat_id, thread_id, message_id,
                              await self._media_refs(case_id))
        return message_id

    async def _media_refs(self, case_id: int) -> list[str]:
        """The resident's Telegram messages with media on the case, oldest first."""
        async with self.wf.sessions() as session:
            return media_sources((await session.scalars(
                select(Message).where(Message.case_id == case_id, Message.direction == "in",
                                      Message.channel == "telegram")
                .order_by(Message.id))).all())

    async def media_of(self, external_ids: list[str]) -> list[str]:
        """The messages carrying the attachments of these logged Telegram messages."""
        async with self.wf.sessions() as session:
            return media_sources((await session.scalars(
                select(Message).where(Message.channel == "telegram",
                                      Message.external_id.in_(external_ids))
                .order_by(Message.id))).all())

    async def copy_media(self, case_id: int, chat_id: int, thread_id: int | None,
                         card_id: int | None, refs: list[str]) -> None:
        """Show staff the resident's photos, documents and voice messages themselves: a copy
        of each original message (any media type, caption included) under the card."""
        async with self.wf.sessions() as session:
            done = set((await session.scalars(select(TelegramMessageLink.source).where(
                TelegramMessageLink.chat_id == chat_id,
                TelegramMessageLink.source.in_(refs)))).all())
        for ref in [r for r in refs if r not in done][:MEDIA_PER_POST]:
            from_chat, _, message_id = ref.partition(":")
            if not (from_chat.lstrip("-").isdigit() and message_id.isdigit()):
                continue
            reply = (ReplyParameters(message_id=card_id, allow_sending_without_reply=True)
                     if thread_id is None and card_id is not None else None)
            copy = CopyMessage(chat_id=chat_id, from_chat_id=int(from_chat),
                               message_id=int(message_id), message_thread_id=thread_id,
                               reply_parameters=reply)
            try:
                try:
                    copied = await self.output.call(chat_id, copy)
                except TelegramBadRequest as exc:
                    if "caption is too long" not in exc.message.lower():
                        raise
                    # A Telegram Premium resident's caption may be longer than a bot may
                    # send, and Telegram copies it only unchanged, not as a reply under the
                    # card: it follows the card instead, and is linked to the case all the
                    # same. (An empty caption, which would keep the reply, aiogram leaves out.)
                    copied = await self.output.call(chat_id, copy.model_copy(
                        update={"reply_parameters": None}))
            except TelegramBadRequest as exc:  # the resident deleted it meanwhile
                log.info("case %s: media %s not copied: %s", case_id, ref, exc.message)
                continue
            await self.link(chat_id, copied.message_id, case_id, source=ref)

    async def _create_topic(self, case_id: int, chat_id: int) -> int | None:
        """A topic per case; recorded at once so a retry after a 429 reuses it. None when the
        group refuses topics: the card then goes to its general topic, where staff answer it
        by replying, as in a group without topics (it used to fail, and the case had no card)."""
        async with self.wf.sessions() as session:
            case = await session.get_one(Case, case_id)
            name = self.topic_name(case)
        try:
            topic = await self.output.call(chat_id, CreateForumTopic(chat_id=chat_id, name=name))
        except TelegramBadRequest as exc:
            if not topics_refused(exc):
                raise
            log.warning("staff chat %s refuses a topic for case %s (%s): the card goes to the "
                        "general topic; give the bot the right to manage topics",
                        chat_id, case_id, exc.message)
            return None
        async with self.wf.sessions.begin() as session:
            card = await session.get(TelegramCard, case_id)
            if card is None:
                card = TelegramCard(case_id=case_id, chat_id=chat_id)
                session.add(card)
            card.chat_id, card.thread_id, card.message_id = chat_id, topic.message_thread_id, None
            card.topic_closed = False
        return topic.message_thread_id

    async def post_in_case(self, case_id: int, chat_id: int, text: str, *,
                           markup: InlineKeyboardMarkup | None = None,
                           max_wait: float | None = None, source: str | None = None) -> str:
        """Post about a case where staff look for it: its topic, or as a reply to its card.

        ``source`` names what is posted (an outbox item): posted once already, it is not
        posted again. A relay whose photos had to wait for the group's budget is retried
        whole, and its words used to appear twice."""
        async with self.wf.sessions() as session:
            card = await session.get(TelegramCard, case_id)
            if source is not None:
                done = await session.scalar(select(TelegramMessageLink.message_id).where(
                    TelegramMessageLink.chat_id == chat_id,
                    TelegramMessageLink.source == source).limit(1))
                if done is not None:
                    return f"{chat_id}:{done}"
        if card is not None and card.chat_id != chat_id and self.chats.resolve(
                card.chat_id) == chat_id:
            # The card is in the group as it was before Telegram upgraded it: staff work in
            # the new one, where the old card's topic and message ids mean nothing (a photo
            # copied into that topic was refused and lost, the words came with no card). The
            # case gets its card there first, with its photos, and the post follows it.
            await self.post_card(case_id, chat_id)
            return await self.post_in_case(case_id, chat_id, text, markup=markup,
                                           max_wait=max_wait, source=source)
        if card is None or card.chat_id != chat_id:
            sent = await self.output.send_text(chat_id, text, markup=markup, max_wait=max_wait)
        elif card.thread_id is not None:
            await self.sync_topic(case_id, reopen_only=True)
            try:
                sent = await self.output.send_text(chat_id, text, markup=markup,
                                                   thread_id=card.thread_id, max_wait=max_wait)
            except TelegramBadRequest as exc:
                if topic_shut(exc):
                    # Closed by hand, and the bot may no longer reopen it (its right to manage
                    # topics was taken): Telegram refuses the post there, and the resident's
                    # words failed for good. They go to the general topic, where staff answer
                    # them by replying (the post is linked to the case below).
                    log.warning("topic of case %s is closed and the bot may not reopen it: "
                                "posted in the general topic", case_id)
                    sent = await self.output.send_text(chat_id, text, markup=markup,
                                                       max_wait=max_wait)
                elif thread_missing(exc):
                    # Someone deleted the topic: a new one with a fresh card keeps the case
                    # reachable.
                    await self.post_card_in_new_topic(case_id, chat_id)
                    return await self.post_in_case(case_id, chat_id, text, markup=markup,
                                                   max_wait=max_wait, source=source)
                else:
                    raise
        else:
            sent = await self.output.send_text(chat_id, text, markup=markup,
                                               reply_to=card.message_id, max_wait=max_wait)
        for i, m in enumerate(sent):
            await self.link(chat_id, m.message_id, case_id, source=source if i == 0 else None)
        return f"{chat_id}:{sent[0].message_id}"

    async def post_card_in_new_topic(self, case_id: int, chat_id: int) -> None:
        thread_id = await self._create_topic(case_id, chat_id)
        await self._send_card(case_id, chat_id, thread_id)

    def topic_name(self, case: Case) -> str:
        return fit(self.texts.staff(self.lang, "topic_name", case=case), TOPIC_NAME_LIMIT)

    async def rename_topic(self, case_id: int, *, was: str | None = None) -> None:
        """The topic's name carries the category: after a reclassification the list of
        topics would still show the old one. ``was``: the name before the change; when the
        change left it as it was (a new urgency), Telegram would refuse the rename."""
        async with self.wf.sessions() as session:
            card = await session.get(TelegramCard, case_id)
            case = await session.get(Case, case_id)
            if card is None or card.thread_id is None or case is None:
                return
            name = self.topic_name(case)
            if name == was:
                return
            chat_id, thread_id = card.chat_id, card.thread_id
        try:
            # in a halted chat, or on a 429, made once Telegram allows (it used to be lost)
            await self.output.edit(chat_id, thread_id, EditForumTopic(
                chat_id=chat_id, message_thread_id=thread_id, name=name), aspect="topic_name")
        except TelegramAPIError as exc:
            log.info("topic of case %s not renamed: %s", case_id, exc.message)

    async def topic_toggled(self, chat_id: int, thread_id: int, closed: bool) -> None:
        """Someone closed or reopened a case's topic by hand. Remembered, so the topic is
        reopened when there is news on an open case (staff who are not admins cannot write
        in a closed topic) and closed again when the case closes."""
        async with self.wf.sessions.begin() as session:
            card = await session.scalar(select(TelegramCard).where(
                TelegramCard.chat_id == chat_id, TelegramCard.thread_id == thread_id))
            if card is not None:
                card.topic_closed = closed

    async def edit_made(self, method: TelegramMethod[Any]) -> None:
        """An edit was made, now, later or after a restart (``bot.sender.KEPT_EDIT``): a case's
        topic closed or reopened is remembered as one toggled by hand is. A close kept over a
        restart but not remembered left the bot believing the topic open, and it was not
        reopened with the case, where staff who are not admins could not answer."""
        if isinstance(method, CloseForumTopic | ReopenForumTopic) \
                and isinstance(method.chat_id, int):
            await self.topic_toggled(method.chat_id, method.message_thread_id,
                                     closed=isinstance(method, CloseForumTopic))

    async def refresh(self, case_id: int) -> None:
        """Re-render the card after a change and keep its topic's open/closed state in step."""
        async with self.wf.sessions() as session:
            card = await session.get(TelegramCard, case_id)
            if card is None or card.message_id is None:
                return
            case = await session.get_one(Case, case_id)
            text = await self.card_text(session, case)
            markup = self.keyboard(case)
        chat_id, message_id = card.chat_id, card.message_id
        if self._shown.get((chat_id, message_id)) != (_digest(text), buttons_of(markup)):
            await self._draw(case_id, chat_id, message_id, text, markup)
        await self.sync_topic(case_id)

    async def _draw(self, case_id: int, chat_id: int, message_id: int, text: str,
                    markup: InlineKeyboardMarkup | None) -> None:
        """Edit the card to show ``text`` and ``markup``, or draw it later when Telegram
        halted the chat with 429: an edit then was refused again, and the card kept showing
        the case as nobody's (a post there had met the 429, the edit went at once all the
        same)."""
        halted = self.output.governor.halted_for(chat_id)
        if halted > 0:
            self._redraw_later(case_id, halted)
            return
        self.output.drop_edit(chat_id, message_id)  # this draws the buttons as they are now
        try:
            await self.output.unbudgeted(EditMessageText(
                chat_id=chat_id, message_id=message_id, text=text, reply_markup=markup))
            self.showing(chat_id, message_id, markup, text)
            self._faults.pop(case_id, None)
        except TelegramRetryAfter as exc:
            # Flood control: draw it once Telegram allows, not now and not never.
            self._redraw_later(case_id, exc.retry_after)
        except TelegramMigrateToChat as exc:
            # The card is in the group as it was before Telegram upgraded it, where nothing
            # can be edited any more: staff in the new group get a card of their own.
            await self.chats.migrated(chat_id, exc.migrate_to_chat_id)
            await self._card_again(case_id, message_id)
        except TelegramAPIError as exc:
            faults = self._faults.get(case_id, 0)
            if transient(exc) and faults < CARD_FAULT_ATTEMPTS:
                # A 502 on "Взято: Иван" left the card showing the case as nobody's until its
                # next change: it is drawn again in a moment.
                self._faults[case_id] = faults + 1
                self._redraw_later(case_id, fault_pause(faults))
            elif not_modified(exc):
                self.showing(chat_id, message_id, markup, text)
            elif "message to edit not found" in exc.message.lower():
                await self._card_again(case_id, message_id)
            else:
                self._faults.pop(case_id, None)
                log.warning("card of case %s not updated: %s", case_id, exc.message)

    async def _card_again(self, case_id: int, gone: int) -> None:
        """Someone deleted the card (an admin tidying the chat), or it stayed behind in a
        group Telegram upgraded: every redraw of it was refused, and the case went on with no
        card showing its stage and no buttons. A new card is posted through the outbox (to
        the group's new home), where it waits for the group's budget like any."""
        async with self.wf.sessions.begin() as session:
            card = await session.get(TelegramCard, case_id)
            case = await session.get_one(Case, case_id)
            if card is None or card.message_id != gone:
                return
            card.message_id = None
            building = self.wf.building(case.building_id)
            await enqueue(session, now=self.wf.clock.now(), channel=STAFF_CHANNEL,
                          recipient=f"chat:{building.code}" if building else "chat:",
                          purpose="staff_new_case", key=f"telegram:card_again:{case_id}:{gone}",
                          payload=staff_payload(case.id, case.number, "", "", self.lang),
                          case_id=case.id, automatic=False)
        log.warning("the card of case %s was deleted: a new one is posted", case_id)
        self.wf.wake_outbox()

    def _redraw_later(self, case_id: int, delay: float) -> None:
        if case_id in self._redraws:
            return  # one redraw draws the case as it is then
        task = asyncio.get_running_loop().create_task(self._redraw_after(case_id, delay))
        self._redraws[case_id] = task

    async def _redraw_after(self, case_id: int, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            self._redraws.pop(case_id, None)
            await self.refresh(case_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("card of case %s not redrawn after flood control", case_id)

    async def close(self) -> None:
        """The channel stops: the redraws still waiting are kept in the outbox and made after
        the restart. They used to be dropped, and a card Telegram had held back with 429 went
        on showing a taken case as nobody's until the case happened to change again."""
        waiting = list(self._redraws)
        tasks = list(self._redraws.values())
        self._redraws.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if waiting:
            try:
                await self._keep_redraws(waiting)
            except Exception:
                log.exception("redraws of cards %s not kept for after the restart", waiting)

    async def _keep_redraws(self, case_ids: list[int]) -> None:
        async with self.wf.sessions.begin() as session:
            for case_id in case_ids:
                case = await session.get(Case, case_id)
                if case is None:
                    continue
                building = self.wf.building(case.building_id)
                await enqueue(session, now=self.wf.clock.now(), channel=STAFF_CHANNEL,
                              recipient=f"chat:{building.code}" if building else "chat:",
                              purpose=CARD_REDRAW, key=f"telegram:redraw:{uuid.uuid4().hex}",
                              payload=staff_payload(case.id, case.number, "", "", self.lang),
                              case_id=case.id, automatic=False)
        log.info("redraws of cards %s kept for after the restart", case_ids)

    async def refresh_by_number(self, number: str) -> None:
        """Redraw the case's card and, once it is resolved or closed, those of the rest of its
        incident: the workflow moves them along, and their cards showed the old stage (an
        edit of an unchanged card is refused, so they are not redrawn after other actions)."""
        async with self.wf.sessions() as session:
            case = await session.scalar(select(Case).where(Case.number == number))
            if case is None:
                return
            ids = [case.id]
            if case.incident_id is not None and case.stage in (Stage.RESOLVED, Stage.CLOSED):
                ids += (await session.scalars(select(Case.id).where(
                    Case.incident_id == case.incident_id, Case.id != case.id)
                    .order_by(Case.id))).all()
        for case_id in ids:
            await self.refresh(case_id)

    async def sync_topic(self, case_id: int, *, reopen_only: bool = False) -> None:
        """Closed case, closed topic; reopened case, reopened topic."""
        async with self.wf.sessions() as session:
            card = await session.get(TelegramCard, case_id)
            case = await session.get(Case, case_id)
            if card is None or card.thread_id is None or case is None:
                return
            want_closed = case.stage == Stage.CLOSED
            if want_closed == card.topic_closed or (reopen_only and want_closed):
                return
            chat_id, thread_id = card.chat_id, card.thread_id
        method = (CloseForumTopic(chat_id=chat_id, message_thread_id=thread_id) if want_closed
                  else ReopenForumTopic(chat_id=chat_id, message_thread_id=thread_id))
        try:
            # A 429 is waited out (the topic of a closed case used to stay open among the live
            # ones until the case changed again); a reopen replaces a close still waiting.
            await self.output.edit(chat_id, thread_id, method, aspect="topic",
                                   done=lambda: self.edit_made(method))
        except TelegramAPIError as exc:
            log.warning("topic of case %s not %s: %s", case_id,
                        "closed" if want_closed else "reopened", exc.message)


class StaffSender:
    """Outbox sender for channel ``staff``: cards, relays, pings to staff and managers."""

    def __init__(self, wf: Workflow, config: TelegramConfig, output: TelegramOutput,
                 texts: BotTexts, chats: StaffChats, cards: Cards, access: ChatAccess) -> None:
        self.access = access
        self.wf = wf
        self.config = config
        self.output = output
        self.texts = texts
        self.chats = chats
        self.cards = cards
        self.lang = wf.settings.default_language

    def _open_button(self, item: Outgoing) -> InlineKeyboardMarkup | None:
        if item.case_id is None:
            return None
        return inline_keyboard([[(self.texts.button(self.lang, "open_case"),
                                  CaseCb(a="show", id=item.case_id).pack())]])

    async def send(self, item: Outgoing) -> str | None:
        try:
            try:
                return await self._send(item)
            except TelegramMigrateToChat as exc:
                old = getattr(exc.method, "chat_id", None)
                if not isinstance(old, int) or self.chats.resolve(old) != old:
                    raise
                await self.chats.migrated(old, exc.migrate_to_chat_id)
                return await self._send(item)  # the same post, in the group's new home
        except (Deferred, TelegramAPIError) as exc:
            raise send_error(exc, private=False) from exc

    async def _send(self, item: Outgoing) -> str | None:
        recipient = item.recipient
        if recipient.startswith("chat:"):
            code = recipient.removeprefix("chat:")
            chat_id = self.chats.for_building(code)
            if chat_id is None:
                raise PermanentSendError("no staff chat configured (telegram.staff_chat_id)")
            return await self._in_chat(chat_id, self._to_staff_chat(item, chat_id))
        return await self._to_person_or_managers(item, recipient)

    async def _in_chat(self, chat_id: int, post: Awaitable[str | None]) -> str | None:
        """Post in a staff or the managers' chat; a chat the bot was removed from (or may
        not write in) is told to those who can put it right (``bot.membership``). A post it
        refused for that is failed so that it goes again once the bot is back; one it may
        not write in yet is retried meanwhile."""
        try:
            return await post
        except TelegramAPIError as exc:
            if chat_gone(exc):
                await self.access.lost(chat_id, exc.message)
                raise self.access.refused(chat_id, exc.message) from exc
            if chat_muted(exc):
                await self.access.lost(chat_id, exc.message, muted=True)
                raise self._muted(chat_id, exc) from exc
            raise

    async def _to_staff_chat(self, item: Outgoing, chat_id: int) -> str | None:
        if item.case_id is not None and item.purpose == CARD_REDRAW:
            await self.cards.refresh(item.case_id)
            return None
        if item.case_id is not None and item.purpose == "staff_new_case":
            return await self.cards.post_card(item.case_id, chat_id)
        if item.case_id is not None:
            markup = self._open_button(item) if item.purpose == "escalation" else None
            posted = await self.cards.post_in_case(item.case_id, chat_id, item.text,
                                                   markup=markup,
                                                   source=f"outbox:{item.outbox_id}")
            logged = [r.removeprefix("telegram:") for r in item.payload.get("media", [])
                      if r.startswith("telegram:")]
            refs = await self.cards.media_of(logged) if logged else []
            if refs:
                async with self.wf.sessions() as session:
                    card = await session.get(TelegramCard, item.case_id)
                if card is not None and card.chat_id != chat_id:
                    card = None  # another group's topic and message ids mean nothing here
                await self.cards.copy_media(
                    item.case_id, chat_id, card.thread_id if card else None,
                    card.message_id if card else None, refs)
            if item.payload.get("redraw"):
                # The resident's words relabelled the case (the words after a photo sent
                # first): the card showed "прочее, обычная" above "пахнет газом".
                await self.cards.refresh(item.case_id)
            return posted
        markup = None
        if isinstance(item.payload.get("message_id"), int):
            # A message the classifier set aside: staff can still make it a case.
            markup = inline_keyboard([[(self.texts.button(self.lang, "file_case"),
                                        UnfiledCb(m=item.payload["message_id"]).pack())]])
        sent = await self.output.send_text(chat_id, item.text, markup=markup)
        return f"{chat_id}:{sent[0].message_id}"

    async def _to_person_or_managers(self, item: Outgoing, recipient: str) -> str | None:
        if recipient.startswith("staff:"):
            async with self.wf.sessions() as session:
                staff = await session.get(Staff, int(recipient.removeprefix("staff:")))
            if staff is None:
                raise PermanentSendError(f"no staff member {recipient}")
            return await self._direct(staff.telegram_user_id, item)
        if recipient == "managers":
            # The managers' chat is optional: managers are always written to directly as
            # well (recipients ``staff:<id>``), so without the chat there is nothing to add.
            if not self.config.managers_chat_id:
                return None
            chat_id = self.chats.resolve(self.config.managers_chat_id)
            return await self._in_chat(chat_id, self._direct(chat_id, item))
        raise PermanentSendError(f"unknown staff recipient {recipient!r}")

    @staticmethod
    def _muted(chat_id: int, exc: TelegramAPIError) -> TemporarySendError:
        """A chat the bot may not write in is an admin's slip, put right in minutes by giving
        the right back, and the post refused can be an emergency card: it is retried with
        the outbox's backoff (four days, not for ever) rather than failed for good on the first
        refusal, and logged as an error besides the notice to the people who can fix it."""
        log.error("the bot may not write in chat %s (%s): an admin must give it the right "
                  "to send messages; posts there are retried", chat_id, exc.message)
        return TemporarySendError(f"Telegram: no right to write in chat {chat_id}: "
                                  f"{exc.message}")

    async def _direct(self, chat_id: int, item: Outgoing) -> str:
        sent = await self.output.send_text(chat_id, item.text, markup=self._open_button(item))
        if item.case_id is not None:
            for m in sent:
                await self.cards.link(chat_id, m.message_id, item.case_id)
        return f"{chat_id}:{sent[0].message_id}"
