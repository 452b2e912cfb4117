"""State and wire helpers of the Bot API emulator: chats, files, updates, parameters.

Kept apart from the HTTP layer so the control API (what tests do) and the method handlers (what
the bot does) share one model of "what this bot token can see" and cannot drift apart.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import mimetypes
import re
import secrets
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from .telegram_flood import FloodController, FloodHit
from .telegram_html import utf16_len

Json = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
# Telegram refuses an inline keyboard of more than 100 buttons ("reply markup is too long").
INLINE_BUTTONS_LIMIT = 100
# The emoji a bot may react with (Bot API, ReactionTypeEmoji); any other is REACTION_INVALID.
REACTION_EMOJI = frozenset((
    "👍", "👎", "❤", "🔥", "🥰", "👏", "😁", "🤔", "🤯", "😱", "🤬", "😢", "🎉", "🤩", "🤮", "💩",
    "🙏", "👌", "🕊", "🤡", "🥱", "🥴", "😍", "🐳", "\u2764\u200d\U0001f525", "🌚", "🌭", "💯",
    "🤣", "⚡", "🍌", "🏆", "💔", "🤨", "😐", "🍓", "🍾", "💋", "🖕", "😈", "😴", "😭", "🤓", "👻",
    "\U0001f468\u200d\U0001f4bb", "👀", "🎃", "🙈", "😇", "😨", "🤝", "✍", "🤗", "🫡", "🎅",
    "🎄", "☃", "💅", "🤪", "🗿", "🆒", "💘", "🙉", "🦄", "😘", "💊", "🙊", "😎", "👾",
    "\U0001f937\u200d\u2642", "🤷", "\U0001f937\u200d\u2640", "😡"))
CALLBACK_ANSWER_LIMIT = 200
# tdlib cuts a topic name at 128 characters (code points); the emulator refuses a name over
# 128 UTF-16 units instead, the unit Telegram counts every other text in, so a bot that fits
# it fits either reading.
TOPIC_NAME_LIMIT = 128
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
PHOTO_LIMIT = 10 * 1024 * 1024
TOPIC_ICON_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?(?=\s|$)")
BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
COMMAND_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats",
                            "all_chat_administrators", "chat", "chat_administrators",
                            "chat_member"})
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
NOT_FOUND: Json = {"ok": False, "error_code": 404, "description": "Not Found"}
CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "voice",
    "video",
    "audio",
    "animation",
    "sticker",
    "caption",
    "caption_entities",
    "location",
    "contact",
    "venue",
    "poll",
)


class ApiError(Exception):
    """An error answer, worded as Telegram words it, so the bot's error handling is tested."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        parameters = {k: v for k, v in (("retry_after", self.retry_after),
                                        ("migrate_to_chat_id", self.migrate_to_chat_id))
                      if v is not None}
        if parameters:
            body["parameters"] = parameters
        return body


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def upgraded_group(new_id: int) -> ApiError:
    return ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=new_id)


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


THREAD_NOT_FOUND = "message thread not found"
CHAT_NOT_FOUND = "chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class FileRecord:
    """A stored file: uploaded by the bot, injected by a test, or attached by a user."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None

    def as_file(self) -> Json:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class RecordedRequest:
    """One Bot API call as the emulator saw it; ``params`` keeps the wire strings."""

    method: str
    params: dict[str, Any]
    at: float
    ok: bool | None = None
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    def json_param(self, name: str) -> Any:
        """Decode a JSON-encoded parameter (reply_markup, entities, ...) for assertions."""
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class Injection:
    method: str
    chat_id: str | None
    error: ApiError
    remaining: int


@dataclass
class Topic:
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def public(self) -> Json:
        topic: Json = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class ChatState:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    user: Json | None = None
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "administrator"
    next_message_id: int = 1
    messages: dict[int, Json] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    topics: dict[int, Topic] = field(default_factory=dict)
    # Set when Telegram upgraded the group to a supergroup: the old id refuses every call.
    migrated_to: int | None = None
    # Set when someone deleted the group: every call naming it is "chat not found".
    deleted_chat: bool = False

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def public(self) -> Json:
        chat: Json = {"id": self.id, "type": self.type}
        if self.is_private and self.user is not None:
            chat["first_name"] = self.user["first_name"]
            for key in ("last_name", "username"):
                if self.user.get(key):
                    chat[key] = self.user[key]
        else:
            chat["title"] = self.title
            if self.username:
                chat["username"] = self.username
            if self.is_forum:
                chat["is_forum"] = True
        return chat

    def new_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def live_message(self, message_id: int) -> Json | None:
        if message_id in self.deleted:
            return None
        return self.messages.get(message_id)


ADMIN_RIGHTS = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info",
                "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
                "can_pin_messages", "can_manage_topics", "can_send_welcome_messages")
RESTRICTED_RIGHTS = ("can_send_messages", "can_send_audios", "can_send_documents",
                     "can_send_photos", "can_send_videos", "can_send_video_notes",
                     "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                     "can_add_web_page_previews", "can_react_to_messages", "can_edit_tag",
                     "can_change_info", "can_invite_users", "can_pin_messages",
                     "can_manage_topics")


def member_json(user: Json, status: str) -> Json:
    """A ChatMember as Telegram shows it (getChatMember, my_chat_member): every field its
    status requires, so a client that validates them reads it. A restricted member here may
    send nothing, the restriction this emulator knows."""
    if status == "administrator":
        return {"status": status, "user": user, "can_be_edited": False, "is_anonymous": False,
                **dict.fromkeys(ADMIN_RIGHTS, True)}
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    if status == "restricted":
        return {"status": status, "user": user, "is_member": True, "until_date": 0,
                **dict.fromkeys(RESTRICTED_RIGHTS, False)}
    return {"status": status if status in ("member", "left") else "member", "user": user}


def copy_json(value: Any) -> Any:
    return copy.deepcopy(value)


def new_message(chat: ChatState, sender: Json, thread_id: int | None,
                reply_to: Json | None) -> Json:
    """The envelope every message shares, from the bot or from a user: id, sender, chat, time,
    topic and the message it answers."""
    msg: Json = {
        "message_id": chat.new_message_id(),
        "from": sender,
        "chat": chat.public(),
        "date": int(time.time()),
    }
    if thread_id is not None:
        msg["message_thread_id"] = thread_id
        msg["is_topic_message"] = True
    if reply_to is not None:
        msg["reply_to_message"] = shallow_reply(reply_to)
    return msg


def shallow_reply(message: Json) -> Json:
    """Telegram does not nest replies further than one level."""
    return {k: copy_json(v) for k, v in message.items() if k != "reply_to_message"}


class Params:
    """Typed access to request parameters, with Telegram's wording for bad values."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def get_str(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None or isinstance(value, Upload):
            return None
        if isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, (dict, list)) else str(value)

    def require_str(self, name: str, missing: str | None = None) -> str:
        value = self.get_str(name)
        if value is None or value == "":
            raise bad_request(missing or f'parameter "{name}" is required')
        return value

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def require_int(self, name: str, missing: str | None = None) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def get_bool(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1") if value is not None else False

    def get_json(self, name: str, what: str | None = None) -> Any:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None


def _file_unique_id(data: bytes, salt: str = "") -> str:
    return "AQAD" + hashlib.sha256(salt.encode() + data).hexdigest()[:12]


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG/JPEG/GIF/WebP, or None when it is not an image Telegram takes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            i += 2 + int(seg_len)
        return 1280, 960
    return None


class BotWorld:
    """Everything one bot token can see: chats, files, pending updates, what it did."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: Json = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Domovoy Test Bot",
            "username": f"domovoy_test_{self.bot_id}_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.users: dict[int, Json] = {}
        self.chats: dict[int, ChatState] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.updates: list[Json] = []
        self.next_update_id = 1
        self.allowed_updates: list[str] | None = None
        self.update_event = asyncio.Event()
        self.poll_waiter: asyncio.Future[str] | None = None
        self.requests: list[RecordedRequest] = []
        self.sent: list[tuple[int, int, Json]] = []
        self.callback_answers: list[Json] = []
        self.callback_queries: dict[str, Json] = {}
        self.injections: list[Injection] = []
        self.flood = FloodController()
        self.flood_hits: list[FloodHit] = []
        self.commands: dict[str, list[Json]] = {}
        self.menu_buttons: dict[str, Json] = {}
        self.reactions: list[Json] = []
        self.webhook: Json | None = None
        self.webhook_task: asyncio.Task[None] | None = None
        self._file_counter = 0
        self._query_counter = 0

    # -- users, chats, files -------------------------------------------------------------
    def bot_public(self) -> Json:
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def ensure_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Json:
        """Create or update a user; omitted fields keep their value (a new user speaks ru)."""
        user = self.users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}",
                    "language_code": "ru"}
            self.users[user_id] = user
        elif first_name:
            user["first_name"] = first_name
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        return user

    def private_chat(self, user_id: int) -> ChatState:
        chat = self.chats.get(user_id)
        if chat is None:
            user = self.ensure_user(user_id)
            chat = self.chats[user_id] = ChatState(id=user_id, type="private", user=user)
            chat.members[user_id] = "member"
        return chat

    def chat(self, chat_id: int) -> ChatState:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise KeyError(
                f"chat {chat_id} is unknown to the emulator for bot {self.bot_id}: register it "
                "with add_private_chat()/add_supergroup() first"
            )
        return chat

    def register_file(
        self,
        data: bytes,
        *,
        folder: str,
        extension: str,
        mime_type: str | None = None,
        file_name: str | None = None,
        unique_salt: str = "",
    ) -> FileRecord:
        self._file_counter += 1
        record = FileRecord(
            file_id=f"BQAC{self.bot_id}_{self._file_counter}_{secrets.token_urlsafe(12)}",
            file_unique_id=_file_unique_id(data, unique_salt),
            data=data,
            file_path=f"{folder}/file_{self._file_counter}{extension}",
            mime_type=mime_type,
            file_name=file_name,
        )
        self.files[record.file_id] = record
        self.files_by_path[record.file_path] = record
        return record

    def photo_sizes(self, data: bytes) -> list[Json]:
        width, height = image_size(data) or (1280, 960)
        full = self.register_file(data, folder="photos", extension=".jpg", mime_type="image/jpeg")
        thumb = self.register_file(
            data, folder="photos", extension=".jpg", mime_type="image/jpeg", unique_salt="thumb"
        )
        scale = 90 / max(width, height, 1)
        small_w, small_h = max(1, round(width * scale)), max(1, round(height * scale))
        return [
            {
                "file_id": thumb.file_id,
                "file_unique_id": thumb.file_unique_id,
                "file_size": len(data),
                "width": small_w,
                "height": small_h,
            },
            {
                "file_id": full.file_id,
                "file_unique_id": full.file_unique_id,
                "file_size": len(data),
                "width": width,
                "height": height,
            },
        ]

    def document_obj(self, data: bytes, file_name: str, mime_type: str | None) -> Json:
        ext = "." + file_name.rsplit(".", 1)[-1] if "." in file_name else ""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        rec = self.register_file(
            data, folder="documents", extension=ext, mime_type=mime, file_name=file_name
        )
        return {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "file_name": file_name,
            "mime_type": mime,
            "file_size": len(data),
        }

    def voice_obj(self, data: bytes, duration: int = 3) -> Json:
        rec = self.register_file(data, folder="voice", extension=".oga", mime_type="audio/ogg")
        return {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }

    # -- updates ---------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: Json) -> Json:
        return self.enqueue_raw({kind: payload})

    def enqueue_raw(self, body: Json) -> Json:
        """Queue ``body`` as an update, as is, under the next update_id. Only its kind is
        required (getUpdates filters by it); the rest may break the Bot API schema."""
        if not any(k != "update_id" for k in body):
            raise ValueError("an update needs a kind (message, callback_query, ...)")
        update = {"update_id": self.next_update_id,
                  **{k: copy_json(v) for k, v in body.items() if k != "update_id"}}
        self.next_update_id += 1
        self.updates.append(update)
        event, self.update_event = self.update_event, asyncio.Event()
        event.set()
        return update

    def confirm(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def deliverable(self, limit: int) -> list[Json]:
        allowed = set(self.allowed_updates or ()) or DEFAULT_UPDATE_TYPES
        kept: list[Json] = []
        for update in self.updates:
            kind = next(k for k in update if k != "update_id")
            if kind in allowed:
                kept.append(update)
        # Types the bot did not ask for are never delivered, as on Telegram.
        self.updates = kept
        return [copy_json(u) for u in kept[:limit]]

    def pending_count(self) -> int:
        return len(self.updates)


def auto_entities(text: str) -> list[Json]:
    match = COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
