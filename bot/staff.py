"""The staff chat: buttons on case cards, replies to residents, notes and commands.

Anyone in the group can press a button or type a command, so every handler asks the
workflow, which checks the person against the configured staff and their role; a refusal
changes nothing. Confirmations are toasts (answerCallbackQuery) where possible, because every
message in the group spends the group's 20-a-minute budget that new case cards need.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup
from aiogram.types import (
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy import func, select

from bot.callbacks import CaseCb, ReclassCb, StaffFormCb, UnfiledCb
from bot.deps import BotDeps
from bot.entities import plain_text
from bot.forwards import with_origin
from bot.limits import CALLBACK_ANSWER_LIMIT, CALLBACK_DATA_LIMIT, fit
from bot.registry import COMMAND_RE, case_number_in
from bot.sender import inline_keyboard
from bot.staffchat import buttons_of, card_keyboard
from intake.labels import AXES
from intake.message import Channel, InboundMessage, SenderIdentity
from workflow.cases import AlreadyTaken, CaseNotFound, NotAllowed
from workflow.context import BuildingInfo
from workflow.models import Building, Case, Event, Identity, OutboxItem, Staff
from workflow.stages import OPEN_STAGES, TransitionError

log = logging.getLogger(__name__)

ACTIONS = {"take", "progress", "need_info", "resolve", "close", "escalate", "reopen"}
NUMBER_RE = re.compile(r"^[A-Za-z]{1,5}-\d{1,12}$")
PHONE_RE = re.compile(r"^\+?[\d\s()-]{7,20}$")
OPEN_LIST_MAX = 30
# The /new menu shows buildings a page at a time: Telegram refuses a message with over 100
# buttons, and a company with a hundred buildings is no rarity (their menu never appeared).
BUILDINGS_PER_PAGE = 40
BUILDINGS_PER_ROW = 2
ALBUMS_NOTED = 1000
# A pending step (the question for "need info", the /new form) takes words, never a command:
# a mistyped "/clsoe done" was sent to the resident as the question.
NOT_A_COMMAND = ~F.text.startswith("/")
# The source recorded on a staff message that was sent to the resident as a "Need info"
# question (``bot.tables.TelegramMessageLink``), so that its edit follows it.
QUESTION = "need_info"


def _may_post(member: object) -> bool:
    """Whether the bot, as this member of a group, may post there."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member and member.can_send_messages
    return isinstance(member, ChatMemberAdministrator | ChatMemberOwner) or getattr(
        member, "status", None) == "member"


class Question(StatesGroup):
    text = State()


class Intake(StatesGroup):
    """``/new``: a complaint received in person or by phone."""

    building = State()
    apartment = State()
    contact = State()
    channel = State()
    text = State()


def build_router(deps: BotDeps) -> Router:
    router = Router(name="staff")
    staff_chats = deps.chats.chat_ids()
    router.message.filter(F.chat.id.in_(staff_chats))
    router.edited_message.filter(F.chat.id.in_(staff_chats))
    wf, texts, lang = deps.wf, deps.texts, deps.staff_lang

    def t(block: str, **ctx: Any) -> str:
        return texts.staff(lang, block, **ctx)

    async def staff_member(user_id: int) -> Staff | None:
        async with wf.sessions() as session:
            return await session.scalar(select(Staff).where(
                Staff.telegram_user_id == user_id, Staff.active.is_(True)))

    async def toast(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
        await deps.output.answer_query(AnswerCallbackQuery(
            callback_query_id=query.id, text=fit(text, CALLBACK_ANSWER_LIMIT) if text else None,
            show_alert=alert))

    async def number_of(case_id: int) -> str | None:
        async with wf.sessions() as session:
            case = await session.get(Case, case_id)
            return case.number if case else None

    def refusal(exc: Exception) -> str:
        text = str(exc)
        if "role" in text:
            return t("need_role", role=text.rsplit("the ", 1)[-1].split(" ")[0])
        return t("refusal")

    async def act(number: str, user_id: int, action: str, note: str | None = None,
                  *, answered: Callable[[str], Awaitable[None]] | None = None) -> str:
        """Run one workflow action; the answer is what the staff member should be told.

        ``answered(answer)`` tells them before the cards are redrawn: resolving an incident
        redraws every card of it, a round trip to Telegram each, and a button press answered
        only after them all was past its life (Telegram refused the answer, and the button
        span and stopped with no word)."""
        try:
            result = await deps.cases.act(number, user_id, action, note)
        except NotAllowed as exc:
            answer = refusal(exc)
        except AlreadyTaken as exc:
            answer = t("taken_by", owner=exc.owner)
        except TransitionError as exc:
            answer = t("transition_error", stage=exc.current)
        except CaseNotFound:
            answer = t("not_found", number=number)
        else:
            answer = t("done", result=result)
            if answered is not None:
                await answered(answer)
                answered = None
            await deps.cards.refresh_by_number(result.case_number)
        if answered is not None:
            await answered(answer)
        return answer

    @router.message(F.migrate_to_chat_id)
    async def upgraded(message: Message) -> None:
        """The group became a supergroup with a new id: follow it there."""
        assert message.migrate_to_chat_id is not None
        await deps.chats.migrated(message.chat.id, message.migrate_to_chat_id)

    @router.my_chat_member(F.chat.id.in_(staff_chats))
    async def bot_membership(event: ChatMemberUpdated) -> None:
        """Someone removed the bot from a staff (or the managers') chat, or took its right to
        write there, or put it back: Telegram says so at once, and the office hears of it now
        rather than from the first card refused (see ``bot.membership``)."""
        chat_id, new = event.chat.id, event.new_chat_member
        was, now = _may_post(event.old_chat_member), _may_post(new)
        deps.chats.forget(chat_id)  # a demoted bot may no longer open topics
        if was == now:
            return
        if now:
            count = await deps.access.back(chat_id)
            await deps.say(chat_id, t("back_in_chat", count=count))
            return
        restricted = isinstance(new, ChatMemberRestricted)
        await deps.access.lost(chat_id, t("chat_removed", name=event.from_user.full_name,
                                          restricted=restricted), muted=restricted)

    @router.message(F.forum_topic_closed | F.forum_topic_reopened)
    async def topic_toggled(message: Message) -> None:
        """A person closed or reopened a case's topic by hand (see Cards.topic_toggled)."""
        if message.message_thread_id is not None:
            await deps.cards.topic_toggled(message.chat.id, message.message_thread_id,
                                           closed=message.forum_topic_closed is not None)

    # --- buttons on cards -----------------------------------------------------------------

    @router.message(_unidentified)
    async def anonymous_admin(message: Message) -> None:
        """A group admin with "Remain anonymous" on writes as the group itself, and a member
        who picked a channel in Telegram's "send as" writes as that channel (from its
        Channel_Bot), so nobody can tell which staff member it is: a command or a reply to a
        case would be refused as an outsider's or, worse, dropped unseen as another bot's.
        Say why instead; other chatter is left alone."""
        text = message.text or message.caption or ""
        if text.startswith("/") or await case_of(message) is not None:
            group = message.sender_chat is not None and message.sender_chat.id == message.chat.id
            await deps.reply(message, t("anonymous_admin" if group else "as_channel"),
                             quote=True)

    @router.callback_query(CaseCb.filter(F.a.in_(ACTIONS)))
    async def card_action(query: CallbackQuery, callback_data: CaseCb,
                          state: FSMContext) -> None:
        async with wf.sessions() as session:
            case = await session.get(Case, callback_data.id)
        if case is None:
            await toast(query, t("not_found", number=callback_data.id), alert=True)
            return
        number = case.number
        if await staff_member(query.from_user.id) is None:
            await toast(query, t("refusal"), alert=True)
            return
        current = card_keyboard(texts, lang, case)
        if query.data not in {data for row in buttons_of(current) for _, data in row}:
            # A button from before the case moved on (an old /case detail, a phone not yet
            # updated): "In progress" under a closed case reopened it and told the resident.
            await toast(query, t("transition_error", stage=case.stage), alert=True)
            await edit_markup(query, current)
            return
        if callback_data.a == "need_info":
            await state.set_state(Question.text)
            await state.update_data(number=number, thread=thread_of(query.message))
            await toast(query, t("ask_question"), alert=True)
            return

        async def answered(answer: str) -> None:
            await toast(query, answer, alert=not answer.startswith(number))

        await act(number, query.from_user.id, callback_data.a, answered=answered)

    @router.callback_query(CaseCb.filter(F.a == "rc"))
    async def reclassify_menu(query: CallbackQuery, callback_data: CaseCb) -> None:
        if await staff_member(query.from_user.id) is None:
            await toast(query, t("refusal"), alert=True)
            return
        rows = [[(texts.button(lang, "axis", axis=axis),
                  ReclassCb(id=callback_data.id, axis=axis).pack())]
                for axis in ("kind", "category", "urgency", "scope")]
        rows.append([(texts.button(lang, "back"), CaseCb(a="card", id=callback_data.id).pack())])
        await set_buttons(query, rows)
        await toast(query, t("pick_axis"))

    @router.callback_query(CaseCb.filter(F.a == "card"))
    async def back_to_card(query: CallbackQuery, callback_data: CaseCb) -> None:
        if await staff_member(query.from_user.id) is None:
            await toast(query, t("refusal"), alert=True)
            return
        async with wf.sessions() as session:
            case = await session.get(Case, callback_data.id)
        if case is not None and query.message is not None:
            await edit_markup(query, card_keyboard(texts, lang, case))
        await toast(query)

    @router.callback_query(ReclassCb.filter(F.v == ""))
    async def reclassify_axis(query: CallbackQuery, callback_data: ReclassCb) -> None:
        if await staff_member(query.from_user.id) is None or callback_data.axis not in AXES:
            await toast(query, t("refusal"), alert=True)
            return
        values = [v.value for v in AXES[callback_data.axis]]
        buttons = [(texts.label(lang, callback_data.axis, v),
                    ReclassCb(id=callback_data.id, axis=callback_data.axis, v=v).pack())
                   for v in values]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        rows.append([(texts.button(lang, "back"), CaseCb(a="rc", id=callback_data.id).pack())])
        await set_buttons(query, rows)
        await toast(query)

    @router.callback_query(ReclassCb.filter(F.v != ""))
    async def reclassify_value(query: CallbackQuery, callback_data: ReclassCb) -> None:
        async with wf.sessions() as session:
            before = await session.get(Case, callback_data.id)
        if before is None:
            await toast(query, t("not_found", number=callback_data.id), alert=True)
            return
        number, topic_was = before.number, deps.cards.topic_name(before)
        try:
            result = await deps.cases.reclassify(
                number, f"telegram:{query.from_user.id}", {callback_data.axis: callback_data.v},
                telegram_user_id=query.from_user.id)
        except NotAllowed as exc:
            await toast(query, refusal(exc), alert=True)
            return
        except (ValueError, CaseNotFound):
            await toast(query, t("not_found", number=number), alert=True)
            return
        await toast(query, t("reclassified", result=result))  # before the redraws: see act
        await deps.cards.refresh_by_number(result.case_number)
        await deps.cards.rename_topic(callback_data.id, was=topic_was)
        if query.message is not None:
            async with wf.sessions() as session:
                case = await session.get_one(Case, callback_data.id)
            await edit_markup(query, card_keyboard(texts, lang, case))

    @router.callback_query(CaseCb.filter(F.a == "show"))
    async def show_case(query: CallbackQuery, callback_data: CaseCb) -> None:
        if await staff_member(query.from_user.id) is None:
            await toast(query, t("refusal"), alert=True)
            return
        await toast(query)
        chat_id = query.message.chat.id if query.message else query.from_user.id
        await post_detail(chat_id, callback_data.id, None)

    async def set_buttons(query: CallbackQuery, rows: list[list[tuple[str, str]]]) -> None:
        await edit_markup(query, inline_keyboard(rows))

    async def edit_markup(query: CallbackQuery, markup: Any) -> None:
        msg = query.message
        if msg is None:
            return
        # What the message shows now: a card redrawn during this press already has its new
        # buttons, which the press (a copy of the message from before) does not know.
        shown = deps.cards.shown_buttons(msg.chat.id, msg.message_id)
        if shown is None:
            shown = buttons_of(getattr(msg, "reply_markup", None))
        if shown == buttons_of(markup):
            return  # Telegram refuses an edit that changes nothing ("message is not modified")
        chat_id, message_id = msg.chat.id, msg.message_id
        try:
            await deps.output.edit(chat_id, message_id, EditMessageReplyMarkup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup),
                done=lambda: deps.cards.showing(chat_id, message_id, markup))
        except TelegramAPIError as exc:
            log.info("buttons not changed: %s", exc)

    async def post_detail(chat_id: int, case_id: int, thread_id: int | None) -> None:
        async with wf.sessions() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return
            building = await session.get(Building, case.building_id) if case.building_id else None
            assignee = await session.get(Staff, case.assignee_id) if case.assignee_id else None
            events = list((await session.scalars(select(Event).where(Event.case_id == case.id)
                                                 .order_by(Event.id.desc()).limit(15))).all())
        events.reverse()

        await deps.say(chat_id, t("case_detail", case=case, building=building,
                                  assignee=assignee, events=events),
                       markup=card_keyboard(texts, lang, case), thread_id=thread_id,
                       case_id=case_id)  # staff answer the details as they answer the card

    @router.callback_query(UnfiledCb.filter())
    async def file_case(query: CallbackQuery, callback_data: UnfiledCb) -> None:
        if await staff_member(query.from_user.id) is None:
            await toast(query, t("refusal"), alert=True)
            return
        try:
            result = await deps.intake.open_from_logged(callback_data.m,
                                                        f"telegram:{query.from_user.id}")
        except LookupError:
            await toast(query, t("not_found", number=f"#{callback_data.m}"), alert=True)
            return
        await edit_markup(query, None)
        await toast(query, t("filed", number=result.case_number))

    # --- commands -------------------------------------------------------------------------

    @router.message(Command("open", ignore_case=True))
    async def open_cases(message: Message, command: CommandObject) -> None:
        user = message.from_user
        staff = await staff_member(user.id) if user else None
        if staff is None:
            await deps.reply(message, t("refusal"))
            return
        # Matched as Telegram matches usernames, whatever the case: a phone's keyboard
        # capitalises the first letter, and "/open Lenina-5" listed no cases at all.
        arg = (command.args or "").strip()
        buildings = {b.code.casefold(): b for b in wf.buildings.values()}
        departments = {d.code.casefold(): d.code for d in wf.settings.departments}
        key = arg.casefold()
        building = buildings.get(key)
        if arg and key != "mine" and building is None and key not in departments:
            # Taken for a department nobody has, it was answered "no open cases", and believed.
            await deps.reply(message, t("usage_open", typed=arg, buildings=sorted(
                b.code for b in buildings.values()), departments=sorted(departments.values())))
            return
        query = select(Case).where(Case.stage.in_(list(OPEN_STAGES)))
        title = "mine" if key == "mine" else building.code if building else departments.get(key)
        async with wf.sessions() as session:
            if key == "mine":
                query = query.where(Case.assignee_id == staff.id)
            elif building is not None:
                query = query.where(Case.building_id == building.id)
            elif arg:
                query = query.where(Case.department == departments[key])
            else:
                # A building's own chat sees that building's cases, also once Telegram has
                # moved it to a new id (the configured one is the old id until the operator
                # changes it, and the moved chat listed every building's cases).
                ids = [b.id for b in (await session.scalars(select(Building))).all()
                       if b.staff_chat_id and deps.chats.resolve(b.staff_chat_id)
                       == message.chat.id]
                if ids:
                    query = query.where(Case.building_id.in_(ids))
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            cases = list((await session.scalars(
                query.order_by(Case.due.is_(None), Case.due, Case.id)  # real due, not held
                .limit(OPEN_LIST_MAX))).all())
        if not cases:
            await deps.reply(message, t("open_empty", title=title))
            return
        await deps.reply(message, t("open_list", cases=cases, title=title,
                                    more=(total or 0) > len(cases), total=total))

    @router.message(Command("case", ignore_case=True))
    async def case_cmd(message: Message, command: CommandObject) -> None:
        if await require_staff(message) is None:
            return
        number = case_number_in(command.args or "")
        if not NUMBER_RE.match(number):
            await deps.reply(message, t("usage_case"))
            return
        async with wf.sessions() as session:
            case_id = await session.scalar(select(Case.id).where(Case.number == number))
        if case_id is None:
            await deps.reply(message, t("not_found", number=number))
            return
        thread_id = message.message_thread_id if message.is_topic_message else None
        await post_detail(message.chat.id, case_id, thread_id)

    @router.message(Command("assign", ignore_case=True))
    async def assign_cmd(message: Message, command: CommandObject) -> None:
        parts = (command.args or "").split(maxsplit=1)
        parts[:1] = [case_number_in(p) for p in parts[:1]]
        if len(parts) != 2 or not NUMBER_RE.match(parts[0]):
            await deps.reply(message, t("usage_assign"))
            return
        parts[1] = parts[1].strip()
        assert message.from_user is not None
        if await require_staff(message) is None:
            return
        # A colleague with no username is mentioned by name, and Telegram carries who it is
        # in a text_mention (the name may be two words: "Мария Иванова"): /assign was
        # answered with its usage, and such staff, most of an office, could not be named.
        mentioned = next((e.user for e in message.entities or []
                          if e.type == "text_mention" and e.user is not None), None)
        target = await assignee(str(mentioned.id) if mentioned is not None else parts[1])
        if target is None or not target.active:
            await deps.reply(message, t("assign_unknown" if target is None else
                                        "assign_inactive", who=parts[1]), quote=True)
            return
        try:
            # by user id, the one reference the workflow matches exactly as resolved here
            result = await deps.cases.assign(parts[0], message.from_user.id,
                                             str(target.telegram_user_id))
        except NotAllowed as exc:
            await deps.reply(message, refusal(exc))
            return
        except CaseNotFound as exc:
            await deps.reply(message, t("not_found", number=str(exc.args[0])))
            return
        await deps.cards.refresh_by_number(result.case_number)
        await deps.reply(message, t("assigned", result=result), quote=True)

    async def assignee(ref: str) -> Staff | None:
        """The staff member ``/assign`` names: ``@username`` in any case, as Telegram ignores
        it (``@Ivan`` is ``ivan``), a one-word name, or a user id. Former (inactive) staff are
        found too, so that staff hear why the case cannot go to them: they could not act on it.
        """
        key = ref.removeprefix("@").casefold()
        async with wf.sessions() as session:
            staff = (await session.scalars(select(Staff))).all()
        found = [s for s in staff if key in ((s.username or "").casefold(), s.name.casefold(),
                                             str(s.telegram_user_id))]
        return max(found, key=lambda s: s.active, default=None)

    @router.message(Command("close", ignore_case=True))
    async def close_cmd(message: Message, command: CommandObject) -> None:
        parts = (command.args or "").split(maxsplit=1)
        parts[:1] = [case_number_in(p) for p in parts[:1]]
        if not parts or not NUMBER_RE.match(parts[0]):
            await deps.reply(message, t("usage_close"))
            return
        assert message.from_user is not None
        answer = await act(parts[0].upper(), message.from_user.id, "close",
                           parts[1] if len(parts) > 1 else None)
        await deps.reply(message, answer, quote=True)

    @router.message(Command("note", ignore_case=True))
    async def note_cmd(message: Message, command: CommandObject) -> None:
        assert message.from_user is not None
        args = (command.args or "").strip()
        first = args.split(maxsplit=1)[0] if args else ""
        number: str | None = None
        typed = case_number_in(first)
        if NUMBER_RE.match(typed) and typed.startswith(wf.settings.case_number.prefix + "-"):
            number, args = typed, args[len(first):].strip()
        else:
            case_id = await case_of(message)
            number = await number_of(case_id) if case_id is not None else None
        if number is None or not args:
            await deps.reply(message, t("usage_note"))
            return
        try:
            await deps.cases.note(number, message.from_user.id, args)
        except NotAllowed as exc:
            await deps.reply(message, refusal(exc))
            return
        except CaseNotFound:
            await deps.reply(message, t("not_found", number=number))
            return
        await deps.reply(message, t("note_saved", number=number), quote=True)

    async def require_staff(message: Message) -> Staff | None:
        staff = await staff_member(message.from_user.id) if message.from_user else None
        if staff is None:
            await deps.reply(message, t("refusal"))
        return staff

    # --- /new: a complaint received in person or by phone ---------------------------------

    @router.message(Command("new", ignore_case=True))
    async def new_start(message: Message, state: FSMContext) -> None:
        if await require_staff(message) is None:
            return
        await state.clear()
        await state.set_state(Intake.building)
        await state.update_data(thread=thread_of(message))
        await deps.reply(message, t("new_building"), markup=building_menu(0))

    def building_menu(page: int) -> InlineKeyboardMarkup | None:
        """One page of the /new form's buildings, with buttons to the pages either side."""
        buildings = sorted(wf.buildings.values(), key=lambda b: b.id)
        pages = max(1, -(-len(buildings) // BUILDINGS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        shown = buildings[page * BUILDINGS_PER_PAGE:(page + 1) * BUILDINGS_PER_PAGE]
        rows = [[(b.code, building_button(b)) for b in shown[i:i + BUILDINGS_PER_ROW]]
                for i in range(0, len(shown), BUILDINGS_PER_ROW)]
        turn = []
        if page > 0:
            turn.append((texts.button(lang, "page_back", page=page, pages=pages),
                         StaffFormCb(a="p", v=str(page - 1)).pack()))
        if page < pages - 1:
            turn.append((texts.button(lang, "page_next", page=page + 2, pages=pages),
                         StaffFormCb(a="p", v=str(page + 1)).pack()))
        if turn:
            rows.append(turn)
        rows.append([(texts.button(lang, "cancel"), StaffFormCb(a="x").pack())])
        return inline_keyboard(rows)

    @router.callback_query(Intake.building, StaffFormCb.filter(F.a == "p"))
    async def new_page(query: CallbackQuery, callback_data: StaffFormCb) -> None:
        await edit_markup(query, building_menu(int(callback_data.v)
                                               if callback_data.v.isdigit() else 0))
        await toast(query)

    @router.callback_query(StaffFormCb.filter(F.a == "x"))
    async def new_cancel(query: CallbackQuery, state: FSMContext) -> None:
        if await staff_member(query.from_user.id) is None:  # someone else's form stays
            await toast(query, t("refusal"), alert=True)
            return
        await state.clear()
        await edit_markup(query, None)
        await toast(query, t("new_cancelled"))

    @router.callback_query(Intake.building, StaffFormCb.filter(F.a.in_({"b", "B"})))
    async def new_building(query: CallbackQuery, callback_data: StaffFormCb,
                           state: FSMContext) -> None:
        if callback_data.a == "B":
            building = wf.building(int(callback_data.v)) if callback_data.v.isdigit() else None
        else:
            building = wf.building(wf.building_id(callback_data.v))
        if building is None:  # a menu from before the buildings changed
            await toast(query, texts.resident(lang, "button_stale"))
            return
        await state.update_data(building=building.code)
        await state.set_state(Intake.apartment)
        await edit_markup(query, None)
        await toast(query, building.code)
        if query.message is not None:
            await deps.say(query.message.chat.id, t("new_apartment"),
                           thread_id=thread_of(query.message))

    async def leave_if_elsewhere(message: Message, state: FSMContext) -> None:
        """A step waits for its answer where it was asked. Staff who then write in another
        case's topic, or reply to a card, are talking about that case: the step is dropped and
        the message handled as if no step were pending (it once sent a question meant for one
        resident to another). A reply to the very case the question is for is the question.

        In a forum every message "replies" to its topic's opening: only a real reply counts
        (counting that one dropped every question typed in a case's topic, which then went
        out as a plain answer, the clock still running)."""
        data = await state.get_data()
        if replied_to(message) is None and thread_of(message) == data.get("thread"):
            return
        case_id = await case_of(message)
        if data.get("number") is not None and case_id is not None \
                and await number_of(case_id) == data["number"]:
            return
        await state.clear()
        raise SkipHandler

    @router.message(Intake.apartment, F.text, NOT_A_COMMAND)
    async def new_apartment(message: Message, state: FSMContext) -> None:
        await leave_if_elsewhere(message, state)
        flat = (message.text or "").strip()
        await state.update_data(apartment=None if flat in ("-", "—") else flat[:32])
        await state.set_state(Intake.contact)
        await deps.reply(message, t("new_contact"))

    @router.message(Intake.contact, F.text, NOT_A_COMMAND)
    async def new_contact(message: Message, state: FSMContext) -> None:
        await leave_if_elsewhere(message, state)
        await state.update_data(contact=(message.text or "").strip()[:200])
        await state.set_state(Intake.channel)
        rows = [[(texts.button(lang, "in_person"),
                  StaffFormCb(a="c", v=Channel.IN_PERSON.value).pack()),
                 (texts.button(lang, "phone"), StaffFormCb(a="c", v=Channel.PHONE.value).pack())]]
        await deps.reply(message, t("new_channel"), markup=inline_keyboard(rows))

    @router.callback_query(Intake.channel, StaffFormCb.filter(F.a == "c"))
    async def new_channel(query: CallbackQuery, callback_data: StaffFormCb,
                          state: FSMContext) -> None:
        await state.update_data(channel=callback_data.v)
        await state.set_state(Intake.text)
        await edit_markup(query, None)
        await toast(query)
        if query.message is not None:
            await deps.say(query.message.chat.id, t("new_text"),
                           thread_id=thread_of(query.message))

    @router.message(Intake.text, F.text | F.caption, NOT_A_COMMAND)
    async def new_text(message: Message, state: FSMContext) -> None:
        """The complaint's words: typed, or a resident's message forwarded here (a photo's
        caption too), which keeps the line saying who wrote it and when."""
        assert message.from_user is not None
        await leave_if_elsewhere(message, state)
        data = await state.get_data()
        await state.clear()
        staff = await staff_member(message.from_user.id)
        if staff is None:
            await deps.reply(message, t("refusal"))
            return
        channel = Channel(data.get("channel", Channel.PHONE.value))
        contact = str(data.get("contact") or "")
        msg = InboundMessage(
            channel=channel, external_id=f"staff:{message.chat.id}:{message.message_id}",
            sender=SenderIdentity(channel, contact or f"staff-intake:{message.message_id}",
                                  contact or None),
            text=with_origin(texts, lang, message, plain_text(message), dated=True),
            received_at=wf.clock.now(),
            building_code=data.get("building"), apartment=data.get("apartment"),
            phone=contact if PHONE_RE.match(contact) else None,
            notes=(f"registered by {staff.name}",),
        )
        try:
            result = await deps.intake.ingest(msg)
        except Exception as exc:
            log.exception("staff /new could not be registered")
            await deps.reply(message, t("new_failed", reason=repr(exc)))
            return
        await deps.reply(message, t("new_done", number=result.case_number or "—"), quote=True)

    @router.message(Intake.text, NOT_A_COMMAND)
    async def new_text_missing(message: Message, state: FSMContext) -> None:
        """No words to take (a resident's voice note or a bare photo forwarded here): only
        text goes into the case, so say so; the form still waits for the words. It used to
        say nothing, and staff believed the complaint was filed."""
        await leave_if_elsewhere(message, state)
        await deps.reply(message, t("new_text_needed"), quote=True)

    # --- questions and replies ------------------------------------------------------------

    # A staff member pinged directly (an assignment, an escalation) opens the case in the
    # private chat with the bot and may press "Уточнить" there: the question they type next is
    # theirs to the resident, not a resident's message to the office.
    private = Router(name="staff-private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)

    @private.message(F.text, Command("case", ignore_case=True))
    async def case_in_private(message: Message, command: CommandObject) -> None:
        """``/case N`` typed by a staff member in their private chat with the bot (where the
        ping about the case came) shows the staff details, as in the staff chat: it was
        answered as a resident's, «N is not among yours». A staff member's own case, as a
        resident, and anyone else's command go on to the residents' handler."""
        user = message.from_user
        staff = await staff_member(user.id) if user is not None else None
        number = case_number_in(command.args or "")
        if staff is None or not NUMBER_RE.match(number):
            raise SkipHandler
        async with wf.sessions() as session:
            case = await session.scalar(select(Case).where(Case.number == number))
            own = case is not None and case.resident_id is not None and (
                await session.scalar(select(Identity.id).where(
                    Identity.resident_id == case.resident_id,
                    Identity.channel == Channel.TELEGRAM.value,
                    Identity.address == str(staff.telegram_user_id))) is not None)
        if case is None:
            await deps.reply(message, t("not_found", number=number))
        elif own:
            raise SkipHandler
        else:
            await post_detail(message.chat.id, case.id, None)

    @router.message(Question.text, F.text, NOT_A_COMMAND)
    @private.message(Question.text, F.text, NOT_A_COMMAND)
    async def question(message: Message, state: FSMContext) -> None:
        assert message.from_user is not None and message.text is not None
        await leave_if_elsewhere(message, state)
        data = await state.get_data()
        await state.clear()
        number = str(data.get("number"))
        # a link behind words ("заполните форму тут") keeps its address, as in an answer
        answer = await act(number, message.from_user.id, "need_info", plain_text(message))
        if answer.startswith(number):
            answer = t("need_info_sent", number=number)
            async with wf.sessions() as session:
                case_id = await session.scalar(select(Case.id).where(Case.number == number))
            if case_id is not None and message.chat.type != ChatType.PRIVATE:
                # so that an edit of the question reaches the resident (see staff_reply_edited)
                await deps.cards.link(message.chat.id, message.message_id, case_id,
                                      source=QUESTION)
        await deps.reply(message, answer, quote=True)

    @router.message(F.text | F.caption)
    async def staff_reply(message: Message) -> None:
        """A message in a case's topic, or a reply to its card, goes to the resident."""
        user = message.from_user
        if user is None or user.is_bot:
            return
        text = message.text or message.caption or ""
        if text.startswith("/"):
            command = COMMAND_RE.match(text)
            # Commands meant for another bot in the group are none of our business; an
            # unknown one of ours is answered, never relayed to a resident or ignored. So is
            # a slash no bot could take ("/старт" typed on a Russian keyboard, a lone "/"),
            # which used to vanish without a word.
            me = await message.bot.me() if message.bot is not None else None
            ours = command is None or command.group(2) is None or (
                me is not None and command.group(2).lower() == (me.username or "").lower())
            if ours:
                typed = "/" + command.group(1) if command is not None else text.split()[0]
                await deps.reply(message, t("unknown_command", command=typed), quote=True)
            return
        case_id = await case_of(message)
        if case_id is None:
            if await answers_the_bot(message) and await staff_member(user.id) is not None:
                # A reply to the bot's list or answer reaches nobody; say so, rather than
                # let staff believe the resident was told.
                await deps.reply(message, t("no_case_here"), quote=True)
            return  # chatter in the general topic
        number = await number_of(case_id)
        if number is None:
            return
        if deps.chats.managers_only(message.chat.id):
            # A manager answering an escalation there talks to the office, as one answering
            # a ping in private does: «Иван, почему до сих пор не сделано?» reached the
            # resident as the office's answer. It is a note on the case.
            await note_not_answer(message, number, user.id, text)
            return
        try:
            result = await deps.cases.reply(number, user.id, plain_text(message),
                                            origin=f"{message.chat.id}:{message.message_id}")
        except NotAllowed:
            await deps.reply(message, t("refusal"), quote=True)
            return
        if result.note == "resident unreachable":
            await deps.reply(message, t("reply_unreachable", number=number), quote=True)
            return
        async with wf.sessions() as session:
            item_id = await session.scalar(select(OutboxItem.id).where(
                OutboxItem.case_id == case_id, OutboxItem.purpose == "staff_reply")
                .order_by(OutboxItem.id.desc()).limit(1))
        if item_id is not None:
            deps.watch.track(item_id, message.chat.id, message.message_id)
        if message.text is None:  # a caption: its words went, the file did not
            await file_not_relayed(message)

    async def note_not_answer(message: Message, number: str, user_id: int, text: str) -> None:
        """Keep words meant for the office as a note on the case, and say the resident did
        not get them and where to answer."""
        try:
            await deps.note_for_the_office(message, number, user_id, text)
        except NotAllowed:
            await deps.reply(message, t("refusal"), quote=True)
        except CaseNotFound:
            await deps.reply(message, t("not_found", number=number), quote=True)

    @router.message(F.photo | F.document | F.video | F.voice | F.audio | F.video_note
                    | F.animation | F.sticker | F.location | F.contact | F.poll | F.dice
                    | F.story | F.paid_media | F.checklist)
    async def staff_attachment(message: Message) -> None:
        """A file without a caption in a case's topic: the resident gets only text from the
        staff chat, so say so rather than let staff believe it was sent. So with a poll
        ("Когда вам удобно? 10:00 / 14:00"), a dice, a story or a checklist ("Что взять
        мастеру"), which got no word at all."""
        user = message.from_user
        if user is None or user.is_bot or await case_of(message) is None:
            return
        if await staff_member(user.id) is None:
            await deps.reply(message, t("refusal"), quote=True)
            return
        await file_not_relayed(message)

    # Albums already told that their files were not sent (the newest ALBUMS_NOTED of them).
    albums_noted: OrderedDict[tuple[int, str], None] = OrderedDict()

    async def file_not_relayed(message: Message) -> None:
        """Say once per post that the file did not reach the resident: an album arrives as one
        message per photo, and a note for each spent the group's budget that new cards need."""
        if message.media_group_id is not None:
            album = (message.chat.id, message.media_group_id)
            if album in albums_noted:
                return
            albums_noted[album] = None
            while len(albums_noted) > ALBUMS_NOTED:
                albums_noted.popitem(last=False)
        await deps.reply(message, t("attachment_not_relayed"), quote=True)

    @router.edited_message(F.text | F.caption)
    async def staff_reply_edited(message: Message) -> None:
        """A staff member corrects an answer already relayed: the resident gets the new
        wording, marked as a correction. Edits of chatter, notes and commands stay here."""
        user = message.from_user
        text = message.text or message.caption or ""
        if user is None or user.is_bot or text.startswith("/"):
            return
        origin = f"{message.chat.id}:{message.message_id}"
        # The question asked with "Need info" ("Мастер придёт в 10, удобно?" mended to "в 11"):
        # its edit stayed in the staff chat, and the resident waited for the plumber at 10.
        asked = await deps.cards.first_part_of(message.chat.id, message.message_id) == QUESTION
        case_id = (await deps.cards.case_for(message.chat.id, None, message.message_id)
                   if asked else await case_of(message))
        if case_id is None:
            return
        async with wf.sessions() as session:
            payloads = (await session.scalars(select(OutboxItem.payload).where(
                OutboxItem.case_id == case_id, OutboxItem.purpose == "staff_reply"))).all()
        if not asked and not any(p.get("origin") == origin for p in payloads):
            return  # never relayed: nothing the resident saw has changed
        number = await number_of(case_id)
        if number is None:
            return
        try:
            await deps.cases.reply(number, user.id, plain_text(message), origin=origin,
                                   correction=True)
        except NotAllowed:
            await deps.reply(message, t("refusal"), quote=True)

    async def answers_the_bot(message: Message) -> bool:
        """A reply to one of the bot's own messages (not to a topic's opening notice)."""
        reply = message.reply_to_message
        if replied_to(message) is None or reply is None or reply.from_user is None \
                or message.bot is None:
            return False
        return reply.from_user.id == message.bot.id

    async def case_of(message: Message) -> int | None:
        return await deps.cards.case_for(message.chat.id, thread_of(message), replied_to(message))

    # Registered last: a button here that no handler took (an outsider pressing a colleague's
    # /new form, a step that is over) is answered, and never reaches the residents' side.
    @router.callback_query(F.message.chat.id.in_(staff_chats))
    async def unknown_button(query: CallbackQuery) -> None:
        if await staff_member(query.from_user.id) is None:
            await toast(query, t("refusal"), alert=True)
        else:
            await toast(query, texts.resident(lang, "button_stale"))

    outer = Router(name="staff-all")
    outer.include_router(router)
    outer.include_router(private)
    return outer


def building_button(building: BuildingInfo) -> str:
    """The /new form's callback data for a building: its code (``b``), or its id (``B``) when
    "sf:b:" and the code are over Telegram's 64 bytes; a code may be 64 characters, and the
    menu with such a building failed to appear at all."""
    by_code = f"{StaffFormCb.__prefix__}:b:{building.code}"
    if len(by_code.encode()) <= CALLBACK_DATA_LIMIT:
        return StaffFormCb(a="b", v=building.code).pack()
    return StaffFormCb(a="B", v=str(building.id)).pack()


def _unidentified(message: Message) -> bool:
    """Sent by no person the bot can name: an anonymous admin (as the group) or a member
    writing as a channel. A linked channel's own posts, copied into its discussion group
    (``is_automatic_forward``), are no one writing there."""
    return message.sender_chat is not None and not message.is_automatic_forward


def replied_to(message: Message) -> int | None:
    """The message this one answers. In a forum every message "replies" to its topic's
    opening notice; that is no answer to anything."""
    reply = message.reply_to_message
    if reply is None or reply.message_id == thread_of(message) \
            or reply.forum_topic_created is not None:
        return None
    return reply.message_id


def thread_of(message: Any) -> int | None:
    return message.message_thread_id if getattr(message, "is_topic_message", False) else None
