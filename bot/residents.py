"""The residents' side of the bot: registration, free-form messages, the guided form, case
lists, language and ratings — private chats only.

Every message a resident sends becomes an :class:`InboundMessage` and goes through the same
intake path as email; the bot adds only what Telegram knows (who, which building, which
message it replies to, which burst it belongs to). Handlers return only after intake has
committed, and the dispatcher confirms an update to Telegram only after its handler returned.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, replace
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import (
    KICKED,
    MEMBER,
    ChatMemberUpdatedFilter,
    Command,
    CommandObject,
    CommandStart,
    StateFilter,
)
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    KeyboardButton,
    Message,
    MessageReactionUpdated,
    ReactionTypeEmoji,
    ReplyKeyboardMarkup,
    Update,
    User,
)
from sqlalchemy import select

from bot.callbacks import CommentCb, FormCb, LangCb
from bot.deps import REPLY_MAX_WAIT_S, BotDeps
from bot.entities import plain_text
from bot.forwards import with_origin, with_reply_origin
from bot.limits import CALLBACK_ANSWER_LIMIT, fit
from bot.registry import (
    COMMAND_RE,
    building_by_code,
    case_history,
    case_number_in,
    ensure_resident,
    language_of,
    media_ref,
    recent_burst,
    resident_cases,
    resident_of,
)
from bot.sender import Deferred, inline_keyboard
from intake import quarantine
from intake.labels import Category, Kind
from intake.message import (
    Attachment,
    Channel,
    InboundMessage,
    PresetLabels,
    SenderIdentity,
    message_to_json,
)
from workflow.cases import CaseNotFound, NotAllowed
from workflow.feedback import parse_rating
from workflow.models import Building, Case, Identity, Resident, Staff
from workflow.models import Message as LoggedMessage
from workflow.notify import staff_payload
from workflow.outbox import STAFF_CHANNEL, enqueue
from workflow.render import LANGUAGES
from workflow.residents import redeem_link_code
from workflow.stages import OPEN_STAGES, Stage

log = logging.getLogger(__name__)

FORM_TOPICS = ("plumbing", "heating", "electrical", "elevator", "cleaning", "territory",
               "noise", "structure", "other")
APARTMENT_RE = re.compile(r"^[0-9]{1,5}[\w/-]{0,6}$")
# The word people put before the number, as in an address: «кв. 12», «квартира 7», «flat 3B».
FLAT_WORD_RE = re.compile(r"^(?:кв(?:артира)?|flat|apt|apartment|№|#)\.?\s*", re.IGNORECASE)
PHONE_RE = re.compile(r"^\+?[\d\s()-]{7,20}$")
# A slash word alone, in any script ("/помощь" typed on a Russian keyboard, a lone "/"):
# Telegram takes no such command, but the resident meant one, not a report.
SLASH_WORD_RE = re.compile(r"^/\w{0,32}(?:@\w{3,64})?$")
# A command is typed: a photo captioned "/new течёт кран" is a report with its photo (aiogram
# reads a caption as a command too, and the photo was dropped while the form started).
TYPED = F.text
# The commands the residents' router answers in any step (``/start`` is taken before the steps).
STEP_COMMANDS = frozenset({"help", "link", "cases", "case", "lang", "new"})
# Service messages Telegram posts in a private chat about the chat itself.
SERVICE = (F.pinned_message | F.message_auto_delete_timer_changed | F.chat_background_set
           | F.write_access_allowed)
# An edit this close to the words it replaces mends them (a typo), and says nothing new.
RETOUCH_RATIO = 0.8


class Registration(StatesGroup):
    apartment = State()
    phone = State()


class Form(StatesGroup):
    topic = State()
    describe = State()
    photos = State()
    confirm = State()


class Rating(StatesGroup):
    comment = State()


def flat_number(typed: str) -> str | None:
    """The flat number in a registration answer, upper-cased ("12А"), with or without the
    word before it: «кв. 12» was refused, and the resident asked for the number again and
    again until they guessed to leave the word out. None when it is no flat number."""
    flat = FLAT_WORD_RE.sub("", typed.strip()).upper()
    return flat if APARTMENT_RE.match(flat) else None


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """What the message carries, each ref naming the message besides the file
    (:func:`bot.registry.media_ref`): the form's photos and a photo carried into the words
    after it are filed on another message, and staff were shown a copy of that one (the
    words) instead of the photo."""
    return tuple(replace(a, ref=media_ref(message.chat.id, message.message_id, a.ref or ""))
                 for a in _files_of(message))


def _files_of(message: Message) -> tuple[Attachment, ...]:
    """Metadata and file_id of what the message carries; the bytes stay with Telegram."""
    mid = message.message_id
    if message.photo:
        p = message.photo[-1]
        return (Attachment(f"photo_{mid}.jpg", "image/jpeg", p.file_size or 0, p.file_id),)
    if message.animation:  # a GIF: Telegram adds it as a document too, but not always
        g = message.animation
        return (Attachment(g.file_name or f"animation_{mid}.mp4", g.mime_type or "video/mp4",
                           g.file_size or 0, g.file_id),)
    if message.document:
        d = message.document
        return (Attachment(d.file_name or f"document_{mid}",
                           d.mime_type or "application/octet-stream", d.file_size or 0,
                           d.file_id),)
    if message.voice:
        v = message.voice
        return (Attachment(f"voice_{mid}.ogg", v.mime_type or "audio/ogg", v.file_size or 0,
                           v.file_id),)
    if message.video:
        v2 = message.video
        return (Attachment(v2.file_name or f"video_{mid}.mp4", v2.mime_type or "video/mp4",
                           v2.file_size or 0, v2.file_id),)
    if message.video_note:
        vn = message.video_note
        return (Attachment(f"video_note_{mid}.mp4", "video/mp4", vn.file_size or 0,
                           vn.file_id),)
    if message.audio:
        a = message.audio
        return (Attachment(a.file_name or f"audio_{mid}.mp3", a.mime_type or "audio/mpeg",
                           a.file_size or 0, a.file_id),)
    return ()


def build_router(deps: BotDeps) -> Router:
    router = Router(name="residents")
    for observer in (router.message, router.edited_message, router.my_chat_member,
                     router.message_reaction):
        observer.filter(F.chat.type == ChatType.PRIVATE)
    wf, texts = deps.wf, deps.texts

    async def lang_of(user: User | None) -> str:
        if user is None:
            return wf.settings.default_language
        async with wf.sessions() as session:
            resident = await resident_of(session, user.id)
        if resident is not None and resident.language:
            return resident.language
        return language_of(user.language_code, wf.settings.default_language)

    def example() -> str:
        cfg = wf.settings.case_number
        return f"{cfg.prefix}-{cfg.start + 42}"

    async def say(message: Message, block: str, markup: Any = None, **ctx: Any) -> None:
        lang = await lang_of(message.from_user)
        await deps.say(message.chat.id, texts.resident(lang, block, **ctx), markup=markup)

    @router.message(SERVICE)
    async def service_message(message: Message) -> None:
        """What Telegram posts in the chat about the chat itself, not words to the office: the
        resident pinned the acknowledgement (as people keep a case number at hand), turned
        on auto-delete, set a wallpaper. Each was answered "this kind of message is not
        taken", and at a registration step it ended the step."""

    # --- registration ---------------------------------------------------------------------

    @router.message(TYPED, CommandStart(deep_link=True, ignore_case=True))
    async def start_link(message: Message, command: CommandObject, state: FSMContext) -> None:
        user = message.from_user
        assert user is not None
        code = (command.args or "").strip()
        async with wf.sessions.begin() as session:
            building = await building_by_code(session, code)
            if building is None:
                resident = None
            else:
                lang = language_of(user.language_code, wf.settings.default_language)
                resident = await ensure_resident(session, user.id, user.full_name, lang,
                                                 wf.clock.now())
                resident.building_id = building.id
            address = building.address if building else None
        if building is None:
            await say(message, "start_unknown_building")
            await say(message, "start_plain", office=wf.settings.office_name)
            return
        await state.set_state(Registration.apartment)
        await say(message, "start_building", office=wf.settings.office_name,
                  building={"address": address, "code": code})

    @router.message(TYPED, CommandStart(ignore_case=True))
    async def start_plain(message: Message, state: FSMContext) -> None:
        """Start pressed with no building: a newcomer, or a registered resident who cleared
        the chat (or blocked and restarted the bot), whose menu keyboard went with it and was
        not given back: it comes with the greeting."""
        await state.clear()
        assert message.from_user is not None
        async with wf.sessions() as session:
            resident = await resident_of(session, message.from_user.id)
            registered = resident is not None and resident.building_id is not None
        lang = await lang_of(message.from_user)
        await say(message, "start_plain", office=wf.settings.office_name,
                  markup=menu_keyboard(lang) if registered else None)

    def reports(text: str) -> bool:
        """Whether words typed where a registration step asked something else (the flat,
        the phone) report a problem, as the classifier reads them."""
        return not text.startswith("/") and wf.classifier.classify(text, "").kind != Kind.OTHER

    async def command_in_step(message: Message) -> bool:
        """Whether words typed in a registration step are one of the bot's commands or menu
        buttons, which the step leaves to their handlers: /lang, /help or /cases typed where
        the flat was asked got "your flat number, please" again (a resident who reads no
        Russian could not switch the language before registering), and where the phone was
        asked they finished registration and were lost."""
        typed = (message.text or "").strip()
        if typed in menu_new or typed in menu_cases:
            return True
        match = COMMAND_RE.match(typed)
        if match is None or match[1].lower() not in STEP_COMMANDS:
            return False
        if match[2] is None:
            return True
        me = await message.bot.me() if message.bot is not None else None
        return me is not None and match[2].lower() == (me.username or "").lower()

    @router.message(Registration.apartment, F.text)
    async def got_apartment(message: Message, state: FSMContext, event_update: Update) -> None:
        assert message.text is not None and message.from_user is not None
        if await command_in_step(message):
            raise SkipHandler  # the step waits on; the command is answered
        flat = flat_number(message.text)
        if message.text.startswith("/") or flat is None:
            if reports(message.text):
                # "Течёт кран…" typed instead of the flat: it was answered "your flat number,
                # please" and lost. It is filed; the flat is still asked for.
                await any_message(message, event_update, state)
            await say(message, "ask_apartment")
            return
        await remember(message.from_user.id, apartment=flat)
        if (await state.get_data()).get("phone_kept"):
            # shared already, where the flat was asked: not asked a second time
            await finish_registration(message, state, None)
            return
        await state.set_state(Registration.phone)
        await say(message, "ask_phone", markup=phone_keyboard(await lang_of(message.from_user)),
                  apartment=flat)

    async def remember(user_id: int, **answers: str) -> None:
        """A registration step's answer kept on the resident (unknown until the link is
        opened, when there is nobody to keep it on)."""
        async with wf.sessions.begin() as session:
            resident = await resident_of(session, user_id)
            if resident is not None:
                for field, value in answers.items():
                    setattr(resident, field, value)

    def phone_keyboard(lang: str) -> ReplyKeyboardMarkup:
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=texts.button(lang, "share_phone"),
                                      request_contact=True)],
                      [KeyboardButton(text=texts.button(lang, "skip"))]],
            resize_keyboard=True, one_time_keyboard=True)

    @router.message(Registration.apartment, F.location)
    async def place_for_flat(message: Message) -> None:
        """A location or a place (a venue: the house on the map) sent where the flat number
        is asked: the resident shows where they live. It ended the step and was filed as a
        message («сообщение получено, его видят сотрудники»), staff got a stray note of
        coordinates, and the flat was never asked again. The building is known from the link:
        the flat is asked for again."""
        assert message.from_user is not None
        async with wf.sessions() as session:
            resident = await resident_of(session, message.from_user.id)
            building = (await session.get(Building, resident.building_id)
                        if resident is not None and resident.building_id else None)
        await say(message, "ask_apartment_not_place",
                  address=building.address if building else None)

    @router.message(Registration.apartment, F.contact)
    async def contact_for_flat(message: Message, state: FSMContext,
                               event_update: Update) -> None:
        """The resident's own number shared where the flat is asked (people take the phone
        for what the office needs first): it was taken for the phone step's answer, and
        registration finished with no flat, which was never asked again. The phone is kept
        and the flat asked. Someone else's card (the plumber's number) is a report, and the
        flat is still asked."""
        assert message.contact is not None and message.from_user is not None
        if message.contact.user_id != message.from_user.id:
            await any_message(message, event_update, state)
            await say(message, "ask_apartment")
            return
        await remember(message.from_user.id, phone=message.contact.phone_number)
        await state.update_data(phone_kept=True)
        await say(message, "ask_apartment_phone_kept", phone=message.contact.phone_number)

    @router.message(Registration.apartment, ~F.text)
    async def report_for_flat(message: Message, state: FSMContext,
                              event_update: Update) -> None:
        """A photo of the leak (a voice note, a file) sent where the flat is asked: it ended
        the step and was filed, and the flat was never asked again, as it is after a report
        typed there. It is filed, and the flat asked once per album."""
        await any_message(message, event_update, state)
        album = message.media_group_id
        asked = (await state.get_data()).get("albums_asked", [])
        if album is not None and album in asked:
            return
        if album is not None:
            await state.update_data(albums_asked=[*asked, album][-20:])
        await say(message, "ask_apartment")

    @router.message(Registration.phone, ~F.text, ~F.contact)
    async def report_for_phone(message: Message, state: FSMContext,
                               event_update: Update) -> None:
        """A photo (a voice note, a place) sent where the phone is asked, which is optional:
        it ended the step silently, so the resident was never told they were registered and
        never got the menu. Registration finishes without the phone, as after a report
        typed there, and the message is filed."""
        await finish_registration(message, state, None)
        await any_message(message, event_update, state)

    @router.message(Registration.phone, F.contact)
    async def got_contact(message: Message, state: FSMContext) -> None:
        assert message.contact is not None and message.from_user is not None
        # Anyone can attach someone else's contact card; only the user's own number counts.
        if message.contact.user_id != message.from_user.id:
            await say(message, "phone_not_own")
            return
        await finish_registration(message, state, message.contact.phone_number)

    @router.message(Registration.phone, F.text)
    async def got_phone_text(message: Message, state: FSMContext, event_update: Update) -> None:
        if await command_in_step(message):
            raise SkipHandler  # the step waits on; the command is answered
        text = (message.text or "").strip()
        phone = PHONE_RE.match(text) is not None
        await finish_registration(message, state, text if phone else None)
        if not phone and text not in skip_buttons and reports(text):
            # A report typed instead of the phone finished registration and was lost.
            await any_message(message, event_update, state)

    async def finish_registration(message: Message, state: FSMContext,
                                  phone: str | None) -> None:
        assert message.from_user is not None
        async with wf.sessions.begin() as session:
            resident = await resident_of(session, message.from_user.id)
            building = None
            if resident is not None:
                if phone:
                    resident.phone = phone
                building = (await session.get(Building, resident.building_id)
                            if resident.building_id else None)
            facts = {"building": ({"address": building.address, "code": building.code}
                                  if building else None),
                     "apartment": resident.apartment if resident else None}
        await state.clear()
        await say(message, "registered", markup=menu_keyboard(await lang_of(message.from_user)),
                  **facts)

    # --- plain commands -------------------------------------------------------------------

    @router.message(TYPED, Command("help", ignore_case=True))
    async def help_(message: Message) -> None:
        await say(message, "help", example=example())

    @router.message(TYPED, Command("link", ignore_case=True))
    async def link(message: Message, command: CommandObject, state: FSMContext) -> None:
        user = message.from_user
        assert user is not None
        code = (command.args or "").strip()
        if not code:
            await say(message, "link_usage")
            return
        now = wf.clock.now()
        async with wf.sessions.begin() as session:
            resident = await redeem_link_code(session, code, Channel.TELEGRAM, str(user.id), now,
                                              name=user.full_name)
            count = len(await resident_cases(session, resident.id, 1000)) if resident else 0
        await state.clear()
        if resident is None:
            await say(message, "link_bad")
        else:
            await say(message, "link_ok", count=count)

    def menu_keyboard(lang: str) -> ReplyKeyboardMarkup:
        """Always-there buttons for the two things residents do besides writing."""
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=texts.button(lang, "menu_new")),
                       KeyboardButton(text=texts.button(lang, "menu_cases"))]],
            resize_keyboard=True, is_persistent=True)

    menu_new = {texts.button(lang, "menu_new") for lang in ("ru", "en")}
    menu_cases = {texts.button(lang, "menu_cases") for lang in ("ru", "en")}

    @router.message(F.text.in_(menu_new))
    async def menu_new_pressed(message: Message, state: FSMContext) -> None:
        await form_start(message, state)

    @router.message(F.text.in_(menu_cases))
    async def menu_cases_pressed(message: Message) -> None:
        await my_cases(message)

    @router.message(TYPED, Command("cases", ignore_case=True))
    async def my_cases(message: Message) -> None:
        assert message.from_user is not None
        async with wf.sessions() as session:
            resident = await resident_of(session, message.from_user.id)
            cases = await resident_cases(session, resident.id) if resident else []
        if not cases:
            await say(message, "cases_empty")
        else:
            await say(message, "cases", cases=cases)

    @router.message(TYPED, Command("case", ignore_case=True))
    async def one_case(message: Message, command: CommandObject) -> None:
        assert message.from_user is not None
        number = case_number_in(command.args or "")
        if not number:
            await say(message, "case_usage", example=example())
            return
        # Read everything first and answer after the session is closed: an answer looks up
        # the resident's language in a session of its own, and SQLite's pool holds one.
        async with wf.sessions() as session:
            resident = await resident_of(session, message.from_user.id)
            case = await session.scalar(select(Case).where(Case.number == number))
            if case is None or resident is None or case.resident_id != resident.id:
                case = None
            else:
                assignee = await session.get(Staff, case.assignee_id) \
                    if case.assignee_id else None
                history = await case_history(session, case)
        if case is None:
            await say(message, "case_not_found", number=number)
            return
        await say(message, "case", case=case, assignee=assignee, history=history)

    @router.message(TYPED, Command("lang", ignore_case=True))
    async def lang_menu(message: Message) -> None:
        lang = await lang_of(message.from_user)
        markup = inline_keyboard([[(texts.button(lang, "lang_ru"), LangCb(code="ru").pack()),
                                   (texts.button(lang, "lang_en"), LangCb(code="en").pack())]])
        await say(message, "lang_pick", markup=markup)

    @router.callback_query(LangCb.filter())
    async def lang_set(query: CallbackQuery, callback_data: LangCb, state: FSMContext) -> None:
        user = query.from_user
        code = texts.language(callback_data.code)
        async with wf.sessions.begin() as session:
            known = await resident_of(session, user.id)
            changed = known is None or known.language != code
            resident = known or await ensure_resident(session, user.id, user.full_name, code,
                                                      wf.clock.now())
            resident.language = code
            registered = resident.building_id is not None
            apartment = resident.apartment
        if not changed:  # a double tap, or the language already in use: no second message
            await answer(query, texts.resident(code, "lang_set"))
            return
        await answer(query)
        step = await state.get_state()
        if step in (Registration.apartment.state, Registration.phone.state):
            # Switched before registering (the link's greeting was in a language they do not
            # read): the step's question comes again in the new language, the phone's with
            # its buttons (the menu would have taken their place).
            await deps.say(user.id, texts.resident(code, "lang_set"))
            if step == Registration.apartment.state:
                await deps.say(user.id, texts.resident(code, "ask_apartment"))
            else:
                await deps.say(user.id, texts.resident(code, "ask_phone", apartment=apartment),
                               markup=phone_keyboard(code))
            return
        # The menu under the input field is in the language it was sent in: a resident who
        # switched to English went on reading «📝 Новое обращение». A registered resident has
        # it, so it comes again in the new language.
        await deps.say(user.id, texts.resident(code, "lang_set"),
                       markup=menu_keyboard(code) if registered else None)

    # --- the guided form ------------------------------------------------------------------

    @router.message(TYPED, Command("new", ignore_case=True))
    async def form_start(message: Message, state: FSMContext) -> None:
        lang = await lang_of(message.from_user)
        await state.clear()
        await state.set_state(Form.topic)
        rows = [[(texts.label(lang, "category", t), FormCb(a="t", v=t).pack())
                 for t in FORM_TOPICS[i:i + 2]] for i in range(0, len(FORM_TOPICS), 2)]
        rows.append([(texts.button(lang, "cancel"), FormCb(a="x").pack())])
        await say(message, "new_pick_topic", markup=inline_keyboard(rows))

    @router.callback_query(FormCb.filter(F.a == "x"))
    async def form_cancel(query: CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        await answer(query)
        await drop_buttons(query)
        lang = await lang_of(query.from_user)
        await deps.say(query.from_user.id, texts.resident(lang, "new_cancelled"))

    @router.callback_query(Form.topic, FormCb.filter(F.a == "t"))
    async def form_topic(query: CallbackQuery, callback_data: FormCb, state: FSMContext) -> None:
        topic = callback_data.v if callback_data.v in FORM_TOPICS else "other"
        await state.update_data(topic=topic, photos=[])
        await state.set_state(Form.describe)
        await answer(query)
        await drop_buttons(query)
        lang = await lang_of(query.from_user)
        await deps.say(query.from_user.id, texts.resident(lang, "new_describe", category=topic))

    @router.message(Form.describe, F.text)
    async def form_text(message: Message, state: FSMContext) -> None:
        assert message.text is not None
        if message.text.startswith("/"):
            await say(message, "new_need_description")
            return
        lang = await lang_of(message.from_user)
        # A forward (a neighbour's message) keeps the line saying whose words they are, as
        # when it is written freely: it reached the card as the resident's own words.
        await state.update_data(text=quoted(message, lang, plain_text(message)),
                                external_id=external_id(message))
        await state.set_state(Form.photos)
        markup = inline_keyboard([[(texts.button(lang, "done"), FormCb(a="d").pack())]])
        await say(message, "new_photos", markup=markup,
                  photos=len((await state.get_data()).get("photos", [])))

    @router.message(Form.describe, F.caption, ~F.caption.startswith("/"))
    async def form_captioned(message: Message, state: FSMContext) -> None:
        """A photo sent with the words as its caption is the description and its first photo
        (it was refused as "no text", and the photo dropped)."""
        assert message.caption is not None
        await state.update_data(text=quoted(message, await lang_of(message.from_user),
                                            plain_text(message)),
                                external_id=external_id(message))
        await state.set_state(Form.photos)
        await form_photo(message, state, words=False)

    @router.message(Form.describe, F.photo | F.document | F.video | F.voice | F.audio
                    | F.video_note | F.animation)
    async def form_media_first(message: Message, state: FSMContext) -> None:
        """Photos sent before the words (an album of the leak, no caption): they are kept for
        the case and the words are asked for once an album. Each photo used to get «a text
        description is needed», a second apart, and was dropped: the case went out without
        them."""
        data = await state.get_data()
        photos = [*data.get("photos", []), *[asdict(a) for a in attachments_of(message)]]
        groups = set(data.get("groups", []))
        await state.update_data(photos=photos, groups=[*groups, message.media_group_id])
        if message.media_group_id is None or message.media_group_id not in groups:
            await say(message, "new_need_description_media", count=len(photos))

    @router.message(Form.describe)
    async def form_text_missing(message: Message) -> None:
        await say(message, "new_need_description")

    @router.message(Form.photos, F.photo | F.document | F.video | F.voice | F.audio
                    | F.video_note | F.animation)
    async def form_photo(message: Message, state: FSMContext, words: bool = True,
                         answer: bool = True) -> None:
        """A photo, or any file (a video, a voice note), is kept for the case: staff see it
        under the card as they see a photo (a voice note got only "press a button", and the
        case went out without it). Its caption ("а это в ванной") joins the description
        (``words``: unless it is the description itself); it was dropped."""
        data = await state.get_data()
        photos = [*data.get("photos", []), *[asdict(a) for a in attachments_of(message)]]
        groups = set(data.get("groups", []))
        more = list(data.get("more", []))
        if words and message.caption and not message.caption.startswith("/"):
            more.append(quoted(message, await lang_of(message.from_user), plain_text(message)))
        await state.update_data(photos=photos, groups=[*groups, message.media_group_id],
                                more=more)
        # One answer per album, not one per photo: the chat allows a message a second.
        if answer and (message.media_group_id is None
                       or message.media_group_id not in groups):
            lang = await lang_of(message.from_user)
            markup = inline_keyboard([[(texts.button(lang, "done"), FormCb(a="d").pack())]])
            await say(message, "new_photo_added", markup=markup, count=len(photos))

    @router.callback_query(Form.photos, FormCb.filter(F.a == "d"))
    async def form_confirm(query: CallbackQuery, state: FSMContext) -> None:
        data = await state.get_data()
        await state.set_state(Form.confirm)
        await answer(query)
        await drop_buttons(query)
        await show_summary(query.from_user.id, await lang_of(query.from_user), data)

    def described(data: dict[str, Any]) -> str:
        """The form's description: its words, and the words typed after them."""
        return "\n".join(p for p in (str(data.get("text", "")), *data.get("more", [])) if p)

    async def show_summary(chat_id: int, lang: str, data: dict[str, Any]) -> None:
        markup = inline_keyboard([[(texts.button(lang, "send"), FormCb(a="s").pack()),
                                   (texts.button(lang, "cancel"), FormCb(a="x").pack())]])
        await deps.say(chat_id, texts.resident(
            lang, "new_confirm", category=data.get("topic"), text=described(data),
            photos=len(data.get("photos", []))), markup=markup)

    @router.callback_query(Form.confirm, FormCb.filter(F.a == "s"))
    async def form_send(query: CallbackQuery, state: FSMContext, event_update: Update) -> None:
        data = await state.get_data()
        await answer(query)
        await drop_buttons(query)
        user = query.from_user
        text = described(data)
        topic = str(data.get("topic", "other"))
        # The resident chose to file a case: the form never ends as "not a request".
        guess = wf.classifier.classify(text, "")
        kind = Kind.REQUEST.value if guess.kind == Kind.OTHER else None
        preset = PresetLabels(kind=kind, category=Category(topic).value)
        attachments = tuple(Attachment(**a) for a in data.get("photos", []))
        lang = await lang_of(user)
        await deps.say(user.id, texts.resident(lang, "new_sent"))
        msg = await inbound(user, str(data.get("external_id")), text, attachments,
                            preset=preset, burst_key=None)
        await ingest(msg, user.id, event_update)
        # Only now: a stop before the case is recorded leaves the form to send again when
        # Telegram redelivers the press (the form's message id makes a second send a duplicate).
        await state.clear()

    # --- ratings --------------------------------------------------------------------------

    @router.callback_query(F.data.startswith("rate:"))
    async def rate(query: CallbackQuery, state: FSMContext) -> None:
        parts = (query.data or "").split(":", 2)
        number, value = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
        lang = await lang_of(query.from_user)
        if value.isdigit() and await state.get_state() == Rating.comment.state:
            data = await state.get_data()
            if data.get("number") == number and data.get("rating") == int(value):
                await answer(query)  # the same press again (a double tap): thanked once
                return
        async with wf.sessions() as session:
            resident = await resident_of(session, query.from_user.id)
            stage = await session.scalar(select(Case.stage).where(Case.number == number))
        if stage is not None and stage not in (Stage.RESOLVED.value, Stage.CLOSED.value):
            # Reopened since ("не починили"): an old button must not score a job not done.
            await answer(query, texts.resident(lang, "button_stale"))
            await drop_buttons(query)
            return
        ok = False
        if resident is not None and value.isdigit():
            try:
                ok = await deps.cases.rate(number, resident.id, int(value))
            except (ValueError, LookupError):
                ok = False
        await answer(query, "★" * int(value) if ok and value.isdigit() else None)
        if not ok:
            await deps.say(query.from_user.id, texts.resident(lang, "rate_not_yours"))
            return
        await drop_buttons(query)
        await state.set_state(Rating.comment)
        pressed = query.message
        await state.update_data(number=number, rating=int(value), reply=(
            f"{pressed.chat.id}:{pressed.message_id}" if pressed is not None else None))
        markup = inline_keyboard([[(texts.button(lang, "skip"), CommentCb(a="skip").pack())]])
        await deps.say(query.from_user.id, texts.resident(lang, "rated", rating=value),
                       markup=markup)

    @router.callback_query(CommentCb.filter())
    async def skip_comment(query: CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        await answer(query)
        await drop_buttons(query)

    @router.message(Rating.comment, F.text)
    async def comment(message: Message, state: FSMContext, event_update: Update) -> None:
        assert message.from_user is not None and message.text is not None
        if message.text.startswith("/"):
            await state.clear()
            return
        data = await state.get_data()
        await state.clear()
        number, rating, hint = str(data["number"]), int(data["rating"]), data.get("reply")
        said = f"{rating}, {message.text.strip()}"
        if hint and parse_rating(said) == (rating, message.text.strip()):
            # The score and its remark, as a reply to the "resolved" message: intake reads it
            # as it reads "3, опять течёт" by mail, so a remark reaches staff and a fault still
            # there reopens the case (kept only on the rating, such a complaint was lost).
            msg = await inbound(message.from_user, external_id(message), said, (),
                                thread_hints=(str(hint),), burst_key=None)
            if await ingest(msg, message.from_user.id, event_update) is None:
                return
        else:
            async with wf.sessions() as session:
                resident = await resident_of(session, message.from_user.id)
            if resident is not None:
                await deps.cases.rate(number, resident.id, rating, message.text)
        await say(message, "comment_saved")

    # --- blocked / unblocked --------------------------------------------------------------

    @router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
    async def blocked(event: ChatMemberUpdated) -> None:
        await set_reachable(event.from_user.id, False, event.date)

    @router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    async def unblocked(event: ChatMemberUpdated) -> None:
        await set_reachable(event.from_user.id, True, event.date)

    async def set_reachable(user_id: int, reachable: bool, at: datetime) -> None:
        """Blocking the bot is known at once; marking the identity now sends the next
        message by email instead of failing first, and staff learn it on the case. So they
        learn that the resident unblocked it: told only of the block, they went on phoning a
        resident who was back, and never sent again the answer that had not reached them.

        Staff are told at once where the staff chat's budget allows, and through the outbox
        otherwise: the notice used to wait 3 s for the budget and was dropped when new cards
        had spent it, and staff went on answering a resident who could no longer read them."""
        async with wf.sessions.begin() as session:
            ident = await session.scalar(select(Identity).where(
                Identity.channel == Channel.TELEGRAM.value, Identity.address == str(user_id)))
            if ident is None or ident.unreachable == (not reachable):
                return
            ident.unreachable = not reachable
            ident.unreachable_reason = None if reachable else "blocked the bot"
            resident = await session.get_one(Resident, ident.resident_id)
            fallback = await session.scalar(select(Identity.address).where(
                Identity.resident_id == resident.id, Identity.unreachable.is_(False),
                Identity.channel == Channel.EMAIL.value))
            open_cases = (await session.scalars(select(Case).where(
                Case.resident_id == resident.id, Case.stage.in_(list(OPEN_STAGES))))).all()
            name, lang = resident.name, resident.language or wf.settings.default_language
            since = wf.clock.now() - wf.settings.sla.reopen_window
            recent = [c for c in await resident_cases(session, resident.id)
                      if c.stage in OPEN_STAGES or c.updated_at >= since] if reachable else []
        if recent:
            # What was said to them meanwhile went nowhere ("resolved" with its rating, a
            # staff answer): they are shown where their cases stand, the one that could
            # still be answered or reopened among them.
            await deps.say(user_id, texts.resident(lang, "back_after_block", cases=recent))
        purpose = "bot_unblocked" if reachable else "bot_blocked"
        text = texts.staff(deps.staff_lang, purpose, name=name, fallback=fallback)
        for case in open_cases:
            building = wf.building(case.building_id)
            code = building.code if building else ""
            chat_id = deps.chats.for_building(code)
            if chat_id is None:
                continue
            try:
                await deps.cards.post_in_case(case.id, chat_id, text, max_wait=REPLY_MAX_WAIT_S)
                continue
            except (Deferred, TelegramAPIError) as exc:
                log.info("staff told through the outbox that %s %s: %s", user_id,
                         purpose.replace("_", " "), exc)
            async with wf.sessions.begin() as session:
                await enqueue(session, now=wf.clock.now(), channel=STAFF_CHANNEL,
                              recipient=f"chat:{code}", purpose=purpose,
                              key=f"telegram:{purpose}:{user_id}:{case.id}:{at.timestamp():.0f}",
                              payload=staff_payload(case.id, case.number, "", text,
                                                    deps.staff_lang),
                              case_id=case.id, automatic=False)
            wf.wake_outbox()

    # --- anything else a resident sends ---------------------------------------------------

    @router.edited_message()
    async def edited(message: Message, state: FSMContext, event_update: Update) -> None:
        user = message.from_user
        if user is None:
            return
        text = plain_text(message)
        if not text.strip():
            # No words to add: a live location's every move (Telegram sends one edit per
            # position, for up to eight hours) or a caption removed. Filed, each was an empty
            # note to staff, and hundreds of them spent the group's budget ahead of cards.
            return
        original = external_id(message)
        if (await state.get_data()).get("external_id") == original:
            # the description of a form not yet sent: the form takes the new words (filing the
            # edit too made one complaint two cases)
            await state.update_data(text=text)
            return
        async with wf.sessions() as session:
            # the message as the case last got it: itself, or its latest edit
            known = (await session.execute(select(LoggedMessage.text, Case.stage).outerjoin(
                Case, Case.id == LoggedMessage.case_id).where(
                LoggedMessage.channel == Channel.TELEGRAM.value,
                (LoggedMessage.external_id == original) | LoggedMessage.external_id.startswith(
                    f"{original}:edit:", autoescape=True))
                .order_by(LoggedMessage.id.desc()).limit(1))).first()
        if known is None:
            # Never a report (a command, the flat number, a form step): nor is its edit, and
            # filing it only showed staff a stray "17". Or never received at all (the bot was
            # down longer than Telegram keeps updates): the edit is all there is of the
            # report, and dropping it lost the resident's words without a word to them.
            if await state.get_state() is None and not a_step_or_command(text):
                await any_message(message, event_update, state)
            return
        logged, stage = known
        was = unmarked(logged or "")
        lang = await lang_of(user)
        # as the message itself was filed: with the line saying what it answers in another
        # chat (compared without it, a word made bold came to staff again as a correction, and
        # a typo mended under "resolved" reopened the case)
        text = quoted(message, lang, text)
        if was == text:
            # The words are as they were: only their formatting changed (a word made bold, a
            # link's preview), and staff were shown the same answer again as news.
            return
        if stage in (Stage.RESOLVED.value, Stage.CLOSED.value) \
                and SequenceMatcher(None, was, text).ratio() >= RETOUCH_RATIO:
            # a typo mended in a report whose job is done reopened it and told the resident
            return
        # Marked as a correction: "5 этаж" came to staff like a new message under "3 этаж"
        # (an answer to their question, mended), and nobody could tell which one stood.
        msg = await inbound(user, f"{original}:edit:{message.edit_date or 0}",
                            f"{texts.resident(lang, 'edited')}\n{text}", (),
                            thread_hints=(original,), notes=("edited message",), burst_key=None)
        await ingest(msg, user.id, event_update, quiet=True)

    @router.message_reaction()
    async def reacted(event: MessageReactionUpdated, event_update: Update) -> None:
        """A reaction put on staff's words about an open case (👍 under "can the plumber
        come at 10?", as people answer in Telegram) is the resident's answer: it reaches staff
        and gives a paused clock back, as a sticker sent in reply does. It used to be unseen
        (the bot did not even ask Telegram for reactions), and the case stayed paused.
        A reaction taken away, or put on anything else (an acknowledgement), says nothing."""
        user = event.user
        old = {r.model_dump_json() for r in event.old_reaction}
        added = [r for r in event.new_reaction if r.model_dump_json() not in old]
        if user is None or not added:
            return
        ref = await open_case_ref(event.chat.id, event.message_id, staff_words=True)
        if ref is None:
            return
        emoji = next((r.emoji for r in added if isinstance(r, ReactionTypeEmoji)), None)
        text = texts.resident(await lang_of(user), "reaction_answer", emoji=emoji)
        msg = await inbound(user, f"{ref}:reaction:{event.date.timestamp():.0f}", text, (),
                            thread_hints=(ref,), burst_key=None)
        await ingest(msg, user.id, event_update, quiet=True)

    @router.message(StateFilter(None))
    async def any_message(message: Message, event_update: Update, state: FSMContext) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        typed = (message.text or "").strip()
        if await late_registration(message, user, typed, state, event_update):
            return
        if (command := COMMAND_RE.match(typed)) is not None or SLASH_WORD_RE.match(typed):
            # A mistyped or unknown command is not a complaint: say so, and show the menu.
            await say(message, "unknown_command",
                      command=command.group(0) if command is not None else typed,
                      example=example())
            return
        lang = await lang_of(user)
        text = words_of(message, lang)
        attachments = attachments_of(message)
        if message.sticker is not None and not text and await answers_a_case(message):
            # 👍 under the office's question ("Can the plumber come at 10?") is the answer:
            # it was refused as a message the bot does not take, the case stayed paused, and
            # staff never heard of it
            text = texts.resident(lang, "sticker_answer", emoji=message.sticker.emoji)
        if not text and not attachments:
            await say(message, "unsupported")
            return
        async with wf.sessions() as session:
            resident = await resident_of(session, user.id)
            burst = await recent_burst(session, resident.id if resident else None,
                                       wf.clock.now(), deps.burst_window)
        if message.animation is not None and not text and burst.key is None:
            # A GIF with no words is a reaction far more often than a report (as a sticker
            # is): it opened a case of nothing. Right after a report it shows that report.
            await say(message, "animation_alone")
            return
        if message.reply_to_message and await staff_answer_to_a_ping(message, user, text):
            return
        own = (f"tg-album:{message.chat.id}:{message.media_group_id}"
               if message.media_group_id else f"tg:{external_id(message)}")
        hints: tuple[str, ...] = ()
        if message.reply_to_message:
            replied = message.reply_to_message.message_id
            # a later part of a long answer stands for its first, the one the case knows
            first = await deps.cards.first_part_of(message.chat.id, replied)
            hints = (f"{message.chat.id}:{replied}", *((first,) if first else ()))
        msg = await inbound(user, external_id(message), quoted(message, lang, text),
                            burst.carried + attachments, thread_hints=hints,
                            burst_key=burst.key or own)
        # A message that opens no case gets the workflow's "unfiled" note through the outbox.
        await ingest(msg, user.id, event_update, quiet=True)

    skip_buttons = {texts.button(lang, "skip") for lang in ("ru", "en")}
    step_buttons = menu_new | menu_cases | skip_buttons

    async def late_registration(message: Message, user: User, typed: str,
                                state: FSMContext, event_update: Update) -> bool:
        """A registration answer given after its step lapsed (an hour, see
        ``bot.fsm_storage.FORM_TTL``): the resident asked for the flat, or for the phone under
        the "share phone" and "Skip" buttons still shown, answers when they come back. Each was
        filed as a message (the phone as a case "Контакт: …" with a card for staff, the flat
        and "Skip" as stray notes) and the flat or phone stayed unknown. Only what the step
        asked, of a resident it was asked of, counts: other words are a report as before."""
        if message.forward_origin is not None:
            return False
        async with wf.sessions() as session:
            resident = await resident_of(session, user.id)
        if resident is None or resident.building_id is None:
            return False
        if typed in skip_buttons:
            await finish_registration(message, state, None)
            return True
        contact = message.contact  # someone else's card is a report, as before
        own_phone = contact.phone_number if contact and contact.user_id == user.id else None
        flat = resident.apartment is None and flat_number(typed) is not None
        phone = (resident.phone is None and resident.apartment is not None
                 and PHONE_RE.match(typed) is not None)
        if not (own_phone or flat or phone) or await office_awaits(message, resident.id):
            # "Which flat?", "a number to call?" asked about a case: the flat, the phone or
            # the resident's own contact card is the answer. Taken for registration, it was
            # answered "you are registered", and staff never heard it (the clock stayed
            # paused).
            return False
        if flat:
            await got_apartment(message, state, event_update)
        else:
            await finish_registration(message, state, own_phone or typed)
        return True

    edit_marks = {f"{texts.resident(lang, 'edited')}\n" for lang in LANGUAGES}

    def unmarked(logged: str) -> str:
        """The resident's words of a logged message or edit, without the edit's mark."""
        return next((logged.removeprefix(mark) for mark in edit_marks
                     if logged.startswith(mark)), logged)

    def a_step_or_command(text: str) -> bool:
        """Words the bot takes without filing them: a command, a menu button, the flat number
        or phone asked at registration."""
        typed = text.strip()
        return bool(COMMAND_RE.match(typed) or SLASH_WORD_RE.match(typed)
                    or typed in step_buttons or flat_number(typed)
                    or PHONE_RE.match(typed))

    async def staff_answer_to_a_ping(message: Message, user: User, text: str) -> bool:
        """A staff member answering the bot's ping about a case (an assignment, an
        escalation) in their private chat with it ("Принял, еду") writes to the office, not
        as a resident: they were registered as one, thanked for a message that opened no
        case, and the staff chat was told of it. Their words are a note on the case, and
        they are told the resident did not get them. (A staff member who lives in a building
        still reports as a resident: only a reply to a ping about another's case is this.)"""
        replied = message.reply_to_message
        if replied is None or not text:
            return False
        case_id = await deps.cards.case_for(message.chat.id, None, replied.message_id)
        if case_id is None:
            return False
        async with wf.sessions() as session:
            staff = await session.scalar(select(Staff).where(
                Staff.telegram_user_id == user.id, Staff.active.is_(True)))
            case = await session.get(Case, case_id)
            resident = await resident_of(session, user.id)
        if staff is None or case is None or (
                resident is not None and case.resident_id == resident.id):
            return False
        try:
            await deps.note_for_the_office(message, case.number, user.id, text)
        except (NotAllowed, CaseNotFound):
            return False
        return True

    async def answers_a_case(message: Message) -> bool:
        """Whether the message replies to one the bot sent about a case still open (a 👍
        under "resolved" is thanks, and must not reopen it)."""
        replied = message.reply_to_message
        return replied is not None \
            and await open_case_ref(message.chat.id, replied.message_id) is not None

    async def open_case_ref(chat_id: int, message_id: int, *,
                            staff_words: bool = False) -> str | None:
        """The logged reference of a message in this chat that belongs to a case still open
        (``staff_words``: one staff wrote), or None. A card sent in parts is logged by its
        first part."""
        ref = await deps.cards.first_part_of(chat_id, message_id) or f"{chat_id}:{message_id}"
        query = select(LoggedMessage.id).join(Case, LoggedMessage.case_id == Case.id).where(
            LoggedMessage.channel == Channel.TELEGRAM.value, LoggedMessage.external_id == ref,
            Case.stage.in_([s.value for s in OPEN_STAGES]))
        if staff_words:
            query = query.where(LoggedMessage.staff_id.is_not(None))
        async with wf.sessions() as session:
            return ref if await session.scalar(query.limit(1)) is not None else None

    async def office_awaits(message: Message, resident_id: int) -> bool:
        """Whether the message answers the office: it replies to a message about an open
        case, or a case of the resident's waits for their answer ("need info")."""
        if await answers_a_case(message):
            return True
        async with wf.sessions() as session:
            return await session.scalar(select(Case.id).where(
                Case.resident_id == resident_id, Case.paused_at.is_not(None),
                Case.stage.in_([s.value for s in OPEN_STAGES])).limit(1)) is not None

    def words_of(message: Message, lang: str) -> str:
        """What the message says, in words staff can read (a place or a contact card too)."""
        if message.location is not None:
            text = texts.resident(lang, "location", lat=message.location.latitude,
                                  lon=message.location.longitude)
            if message.venue is not None:  # a named place: its address is what staff need
                text = f"{text}\n{message.venue.title}, {message.venue.address}"
            return text
        if message.contact is not None:
            return texts.resident(lang, "contact", name=message.contact.first_name,
                                  phone=message.contact.phone_number)
        # a link behind words ("фото тут") keeps its address: staff got only "тут"
        return plain_text(message)

    def quoted(message: Message, lang: str, text: str) -> str:
        """A forwarded message is the resident's (they chose to send it, and are answered),
        but its words are someone else's: a news post, a neighbour's message. Staff are
        shown whose, so that a channel's announcement is not read as the resident's own
        report; the origin never becomes the sender."""
        return with_reply_origin(texts, lang, message, with_origin(texts, lang, message, text))

    @router.message(StateFilter(Form.topic, Registration.apartment, Registration.phone,
                                Rating.comment))
    async def off_step(message: Message, state: FSMContext, event_update: Update) -> None:
        """A message the pending step cannot take (a complaint typed instead of picking a
        topic, a photo while the flat number is asked) ends the step and is handled as any
        other message, rather than vanishing."""
        await state.clear()
        await any_message(message, event_update, state)

    @router.message(Form.confirm, F.photo | F.document | F.video | F.voice | F.audio
                    | F.video_note | F.animation)
    async def form_photo_after_done(message: Message, state: FSMContext) -> None:
        """A photo sent after "Done", under the summary (the one the resident forgot): it
        was answered "press a button" and the case went out without it. It is kept, its
        caption joins the description, and the summary is shown again, once an album."""
        data = await state.get_data()
        groups = set(data.get("groups", []))
        await form_photo(message, state, words=True, answer=False)
        if message.media_group_id is None or message.media_group_id not in groups:
            await show_summary(message.chat.id, await lang_of(message.from_user),
                               await state.get_data())

    @router.message(StateFilter(Form.photos, Form.confirm), F.text, ~F.text.startswith("/"))
    async def form_more_words(message: Message, state: FSMContext) -> None:
        """Words typed after the description, before "Send" ("и ещё в ванной капает"), as
        people write in a chat, one thought a message: they were answered "press a button"
        and lost, and the case went out without them. They join the description; after
        "Done" the summary is shown again with them."""
        lang = await lang_of(message.from_user)
        data = await state.get_data()
        await state.update_data(more=[*data.get("more", []),
                                      quoted(message, lang, plain_text(message))])
        if await state.get_state() == Form.confirm.state:
            await show_summary(message.chat.id, lang, await state.get_data())
            return
        markup = inline_keyboard([[(texts.button(lang, "done"), FormCb(a="d").pack())]])
        await say(message, "new_text_added", markup=markup)

    @router.message(StateFilter(Form.photos, Form.confirm))
    async def form_waits_for_buttons(message: Message) -> None:
        """The form holds the resident's description: a stray message does not throw it away,
        and is not ignored either."""
        await say(message, "new_use_buttons")

    # --- helpers --------------------------------------------------------------------------

    def external_id(message: Message) -> str:
        return f"{message.chat.id}:{message.message_id}"

    async def inbound(user: User, ext_id: str, text: str,
                      attachments: tuple[Attachment, ...], *,
                      thread_hints: tuple[str, ...] = (), notes: tuple[str, ...] = (),
                      preset: PresetLabels | None = None,
                      burst_key: str | None = None) -> InboundMessage:
        async with wf.sessions() as session:
            resident = await resident_of(session, user.id)
            building = (await session.get(Building, resident.building_id)
                        if resident is not None and resident.building_id else None)
        return InboundMessage(
            channel=Channel.TELEGRAM, external_id=ext_id,
            sender=SenderIdentity(Channel.TELEGRAM, str(user.id), user.full_name,
                                  user.language_code),
            text=text, received_at=wf.clock.now(), attachments=attachments,
            thread_hints=thread_hints, building_code=building.code if building else None,
            apartment=resident.apartment if resident else None,
            phone=resident.phone if resident else None, notes=notes, preset=preset,
            burst_key=burst_key,
        )

    async def ingest(msg: InboundMessage, chat_id: int, update: Update,
                     quiet: bool = False) -> Any:
        """Intake commits or the update is quarantined whole; either way it is not lost."""
        try:
            return await deps.intake.ingest(msg)
        except Exception as exc:
            log.exception("telegram update %s could not be ingested", update.update_id)
            # The update as Telegram sent it, and the message as intake was given it:
            # `domovoy requeue` retries the latter. ASCII escapes keep even text that is not
            # valid Unicode (a lone surrogate in the update) storable.
            await quarantine.store(
                wf.sessions, channel=Channel.TELEGRAM.value, source=f"update {update.update_id}",
                raw=json.dumps({"update": update.model_dump(mode="json", exclude_none=True),
                                "inbound": message_to_json(msg)}).encode(),
                reason=repr(exc), now=wf.clock.now())
            # In the resident's language, as every other answer (it came in the office's).
            lang = await lang_of(getattr(update.event, "from_user", None))
            await deps.say(chat_id, texts.resident(lang, "error"))
            return None

    async def answer(query: CallbackQuery, text: str | None = None) -> None:
        await deps.output.answer_query(AnswerCallbackQuery(
            callback_query_id=query.id, text=fit(text, CALLBACK_ANSWER_LIMIT) if text else None))

    async def drop_buttons(query: CallbackQuery) -> None:
        """Buttons of a finished step go away, so an old one cannot be pressed twice."""
        msg = query.message
        if msg is None or getattr(msg, "reply_markup", None) is None:
            return  # gone already (a second press): Telegram refuses an edit changing nothing
        try:
            await deps.output.edit(msg.chat.id, msg.message_id, EditMessageReplyMarkup(
                chat_id=msg.chat.id, message_id=msg.message_id, reply_markup=None))
        except TelegramAPIError as exc:
            log.info("buttons not removed: %s", exc)

    # Registered last: a button no handler took (from a step that is over, an old message,
    # a form cleared by time) is still answered, so it does not spin with nothing happening.
    @router.callback_query()
    async def stale_button(query: CallbackQuery) -> None:
        await answer(query, texts.resident(await lang_of(query.from_user), "button_stale"))

    return router


def build_group_router(deps: BotDeps) -> Router:
    """A command to the bot in a group that is no staff chat (a house chat it was added to):
    reports are taken in private, so the sender is pointed there. Other group talk is left
    alone; the staff router, included first, takes the staff chats."""
    router = Router(name="groups")
    router.message.filter(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}),
                          ~F.chat.id.in_(deps.chats.chat_ids()))
    wf, texts = deps.wf, deps.texts

    @router.message(F.text.regexp(COMMAND_RE))
    async def to_private(message: Message) -> None:
        me = await message.bot.me() if message.bot is not None else None
        match = COMMAND_RE.match(message.text or "")
        if me is None or match is None or (match[2] and match[2].lower()
                                           != (me.username or "").lower()):
            return  # another bot's command
        lang = language_of(message.from_user.language_code if message.from_user else None,
                           wf.settings.default_language)
        # In the topic it was asked in, to the one who asked: in a house chat with topics the
        # answer went to the general topic, which the asker was not reading (and which its
        # admins often close), and in a busy chat nobody could tell whom it answered.
        await deps.reply(message, texts.resident(
            lang, "group_hint", link=f"https://t.me/{me.username}"), quote=True)

    return router

