"""The in-process control API of the Bot API emulator: what tests and the demo do to it.

Tests act as the residents and staff (messages, button presses, blocking the bot, deleting a
topic), schedule failures, and read back what the bot did. The same methods exist on the
emulator (for its default token) and on per-token views, so they are written once here.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import secrets
import time
from collections.abc import Callable
from typing import Any

from .telegram_flood import FloodHit
from .telegram_state import (
    BLOCKED,
    ApiError,
    BotWorld,
    ChatState,
    Injection,
    Json,
    RecordedRequest,
    auto_entities,
    copy_json,
    member_json,
    new_message,
)

# The sender Telegram puts on an anonymous group admin's messages.
ANONYMOUS_ADMIN: Json = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                         "username": "GroupAnonymousBot"}


class TelegramControl:
    """The in-process control API shared by the emulator and per-token views."""

    def _world(self) -> BotWorld:
        raise NotImplementedError

    # -- setup -------------------------------------------------------------------------------
    def set_bot_profile(
        self,
        *,
        first_name: str | None = None,
        username: str | None = None,
        can_read_all_group_messages: bool | None = None,
    ) -> Json:
        """Change what getMe returns (deep links are built from the username)."""
        bot = self._world().bot_user
        if first_name is not None:
            bot["first_name"] = first_name
        if username is not None:
            bot["username"] = username
        if can_read_all_group_messages is not None:
            bot["can_read_all_group_messages"] = can_read_all_group_messages
        return copy_json(bot)

    def add_private_chat(
        self,
        user_id: int,
        first_name: str = "Resident",
        *,
        language_code: str | None = "ru",
        username: str | None = None,
        last_name: str | None = None,
    ) -> Json:
        """Register a user who has pressed /start, so the bot may write to them."""
        if user_id <= 0:
            raise ValueError("private chat ids (user ids) are positive")
        w = self._world()
        w.ensure_user(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        return w.private_chat(user_id).public()

    def add_supergroup(
        self,
        chat_id: int,
        title: str = "Staff",
        *,
        is_forum: bool = False,
        username: str | None = None,
        bot_status: str = "administrator",
    ) -> Json:
        """Register a supergroup the bot is in (admin with topic rights unless told otherwise)."""
        if chat_id >= 0:
            raise ValueError("supergroup ids are negative (-100...)")
        w = self._world()
        chat = ChatState(
            id=chat_id,
            type="supergroup",
            title=title,
            username=username,
            is_forum=is_forum,
            bot_status=bot_status,
            next_message_id=2,  # 1 is the "group created" service message
        )
        w.chats[chat_id] = chat
        return chat.public()

    def add_member(
        self,
        chat_id: int,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = None,
        status: str = "member",
    ) -> Json:
        """Add a user to a group; ``status`` may be member, administrator or creator."""
        w = self._world()
        chat = w.chat(chat_id)
        user = w.ensure_user(user_id, first_name, username=username, language_code=language_code)
        chat.members[user_id] = status
        return copy_json(user)

    def register_file(
        self, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> str:
        """Store bytes the bot can later fetch with getFile + download; returns the file_id."""
        w = self._world()
        ext = "." + file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else ""
        rec = w.register_file(
            data, folder="documents", extension=ext, mime_type=mime_type, file_name=file_name
        )
        return rec.file_id

    # -- failures ----------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        n: int = 1,
    ) -> None:
        """Answer the next ``n`` calls of ``method`` (optionally for one chat) with an error.

        The call is recorded but not performed, exactly like a real refused request.
        """
        if error_code == 429:
            wait = retry_after if retry_after is not None else 1
            error = ApiError(
                429, description or f"Too Many Requests: retry after {wait}", retry_after=wait
            )
        else:
            default = {
                400: "Bad Request: injected failure",
                403: BLOCKED,
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
            error = ApiError(error_code, description or default, retry_after=retry_after)
        self._world().injections.append(
            Injection(method.lower(), None if chat_id is None else str(chat_id), error, n)
        )

    def block_user(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to them get 403; a my_chat_member update is queued."""
        w = self._world()
        w.blocked.add(user_id)
        if notify and user_id in w.chats:
            self._member_update(w, user_id, "member", "kicked")

    def unblock_user(self, user_id: int, *, notify: bool = True) -> None:
        w = self._world()
        if user_id in w.blocked:
            w.blocked.discard(user_id)
            if notify and user_id in w.chats:
                self._member_update(w, user_id, "kicked", "member")

    @staticmethod
    def _member_update(w: BotWorld, user_id: int, old: str, new: str) -> None:
        def member(status: str) -> Json:
            return member_json(w.bot_public(), status)

        w.enqueue(
            "my_chat_member",
            {
                "chat": w.private_chat(user_id).public(),
                "from": copy_json(w.users[user_id]),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def upgrade_group(self, chat_id: int, new_id: int, *, notify: bool = True) -> Json:
        """Telegram upgrades a group to a supergroup (an admin turned on topics or history):
        the members move to ``new_id``, every call naming the old id is refused with 400 and
        ``migrate_to_chat_id``, and (``notify``) the old group gets the service message."""
        w = self._world()
        old = w.chat(chat_id)
        new = self.add_supergroup(new_id, old.title or "Staff", is_forum=old.is_forum,
                                  bot_status=old.bot_status)
        w.chat(new_id).members.update(old.members)
        if notify:
            admin = next((w.users[u] for u in old.members if u in w.users), w.bot_public())
            msg = new_message(old, copy_json(admin), None, None)
            msg["migrate_to_chat_id"] = new_id
            old.messages[msg["message_id"]] = msg
            w.enqueue("message", msg)
        old.migrated_to = new_id
        return new

    def set_bot_status(self, chat_id: int, status: str, *, by: int | None = None,
                       notify: bool = True) -> None:
        """Someone changes the bot's place in a group: removes it ("kicked", "left"),
        restricts it ("restricted": it may post nothing), demotes it ("member") or adds it
        back ("administrator", "member"). Telegram tells the bot at once with a
        ``my_chat_member`` update from ``by`` (the first member, else the group itself)."""
        w = self._world()
        chat = w.chat(chat_id)
        old, chat.bot_status = chat.bot_status, status
        if not notify or old == status:
            return
        actor = (copy_json(w.users[by]) if by is not None and by in w.users
                 else next((copy_json(w.users[u]) for u in chat.members if u in w.users),
                           w.bot_public()))
        w.enqueue("my_chat_member", {
            "chat": chat.public(), "from": actor, "date": int(time.time()),
            "old_chat_member": member_json(w.bot_public(), old),
            "new_chat_member": member_json(w.bot_public(), status)})

    def restrict_bot(self, chat_id: int, *, restricted: bool = True) -> None:
        """An admin takes away (or, ``restricted=False``, gives back) the bot's right to
        write in the group: it stays a member, but every post there is refused with 400
        "not enough rights to send text messages to the chat"."""
        self._world().chat(chat_id).bot_status = "restricted" if restricted else "administrator"

    def delete_chat(self, chat_id: int) -> None:
        """Someone deleted the group: Telegram answers every call naming it "chat not found"
        (what the bot already sent stays readable here, for the test's assertions)."""
        self._world().chat(chat_id).deleted_chat = True

    def inject_update(self, body: Json) -> Json:
        """Queue an update exactly as given (it gets the next update_id), however malformed:
        what a newer Bot API, or a fault on Telegram's side, may send. Returns the update."""
        return copy_json(self._world().enqueue_raw(body))

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Someone deleted the forum topic in the Telegram UI (no update is sent for that)."""
        topic = self._world().chat(chat_id).topics.get(thread_id)
        if topic is None:
            raise KeyError(f"chat {chat_id} has no topic {thread_id}")
        topic.deleted = True

    def user_toggles_topic(self, user_id: int, chat_id: int, thread_id: int, *,
                           closed: bool = True) -> Json:
        """A person closes (or reopens) a forum topic in the Telegram UI: Telegram posts a
        ``forum_topic_closed`` (``forum_topic_reopened``) service message in the topic."""
        w = self._world()
        chat = w.chat(chat_id)
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise KeyError(f"chat {chat_id} has no live topic {thread_id}")
        topic.closed = closed
        w.ensure_user(user_id)
        msg = new_message(chat, copy_json(w.users[user_id]), thread_id,
                          chat.messages.get(thread_id))
        msg["forum_topic_closed" if closed else "forum_topic_reopened"] = {}
        chat.messages[msg["message_id"]] = msg
        w.enqueue("message", msg)
        return copy_json(msg)

    # -- user actions ------------------------------------------------------------------------
    def user_sends(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        photo: bytes | None = None,
        document: tuple[str, bytes, str] | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        voice: bytes | None = None,
        location: tuple[float, float] | None = None,
        live_period: int | None = None,
        contact: Json | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        entities: list[Json] | None = None,
        edit_of: int | None = None,
        anonymous: bool = False,
    ) -> Json:
        """Inject a message (or, with ``edit_of``, an edit) from a user; returns the Message.

        ``live_period`` makes ``location`` a live location; each later position is an edit
        (``edit_of`` with ``location``), as Telegram sends it while the location is shared.
        ``anonymous``: the user is a group admin with "Remain anonymous" on, so Telegram sends
        the message from its GroupAnonymousBot on behalf of the group (``sender_chat``)."""
        w = self._world()
        if chat_id is None or chat_id == user_id:
            w.ensure_user(user_id)
            chat = w.private_chat(user_id)
            if user_id in w.blocked:
                self.unblock_user(user_id)  # writing to a blocked bot first unblocks it
        else:
            chat = w.chat(chat_id)
            w.ensure_user(user_id)
            chat.members.setdefault(user_id, "member")
        user = copy_json(w.users[user_id])

        if edit_of is not None:
            return self._user_edits(w, chat, user_id, edit_of, text, caption, entities,
                                    location)

        content: Json = {}
        if text is not None:
            content["text"] = text
            ents = entities if entities is not None else auto_entities(text)
            if ents:
                content["entities"] = ents
        if photo is not None:
            content["photo"] = w.photo_sizes(photo)
        if document is not None:
            name, data, mime = document
            content["document"] = w.document_obj(data, name, mime)
        if voice is not None:
            content["voice"] = w.voice_obj(voice)
        if location is not None:
            content["location"] = {"latitude": location[0], "longitude": location[1]}
            if live_period is not None:
                content["location"]["live_period"] = live_period
        if contact is not None:
            content["contact"] = dict(contact)
        if caption is not None:
            if not any(k in content for k in ("photo", "document", "voice")):
                raise ValueError("caption needs a photo, document or voice")
            content["caption"] = caption
        if not content:
            raise ValueError("user_sends() needs text or an attachment")
        if "text" in content and len(content) > 1 and "entities" not in content:
            raise ValueError("text and attachments are separate messages; use caption=")

        thread_id, reply_to = self._user_thread(chat, message_thread_id, reply_to_message_id)
        if anonymous:
            user = dict(ANONYMOUS_ADMIN)
        msg = new_message(chat, user, thread_id, reply_to)
        if anonymous:
            msg["sender_chat"] = chat.public()
        if media_group_id is not None:
            msg["media_group_id"] = media_group_id
        msg.update(content)
        chat.messages[msg["message_id"]] = msg
        w.enqueue("message", msg)
        return copy_json(msg)

    @staticmethod
    def _user_thread(
        chat: ChatState, thread_id: int | None, reply_to_id: int | None
    ) -> tuple[int | None, Json | None]:
        reply_to: Json | None = None
        if reply_to_id is not None:
            reply_to = chat.live_message(reply_to_id)
            if reply_to is None:
                raise KeyError(f"message {reply_to_id} does not exist in chat {chat.id}")
            if thread_id is None and chat.is_forum:
                thread_id = reply_to.get("message_thread_id")
        if thread_id is None:
            return None, reply_to
        if not chat.is_forum:
            raise ValueError(f"chat {chat.id} is not a forum; message_thread_id makes no sense")
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise KeyError(f"chat {chat.id} has no live topic {thread_id}")
        if reply_to is None:
            # Telegram marks every topic message as a reply to the topic's service message.
            reply_to = chat.messages.get(thread_id)
        return thread_id, reply_to

    @staticmethod
    def _user_edits(
        w: BotWorld,
        chat: ChatState,
        user_id: int,
        message_id: int,
        text: str | None,
        caption: str | None,
        entities: list[Json] | None,
        location: tuple[float, float] | None = None,
    ) -> Json:
        msg = chat.live_message(message_id)
        if msg is None or msg.get("from", {}).get("id") != user_id:
            raise KeyError(f"user {user_id} has no message {message_id} in chat {chat.id}")
        if text is not None:
            if "text" not in msg:
                raise ValueError("only text messages can get new text; use caption=")
            msg["text"] = text
            ents = entities if entities is not None else auto_entities(text)
            msg.pop("entities", None)
            if ents:
                msg["entities"] = ents
        if caption:
            msg["caption"] = caption
        elif caption is not None:  # a caption removed: Telegram leaves the field out
            msg.pop("caption", None)
            msg.pop("caption_entities", None)
        if location is not None:
            if "live_period" not in msg.get("location", {}):
                raise ValueError("only a live location moves; send it with live_period=")
            msg["location"] = {**msg["location"], "latitude": location[0],
                               "longitude": location[1]}
        msg["edit_date"] = int(time.time())
        w.enqueue("edited_message", msg)
        return copy_json(msg)

    def user_presses(
        self,
        user_id: int,
        message: Json | tuple[int, int],
        data: str,
        *,
        check_button: bool = True,
    ) -> Json:
        """Press an inline button under a message; returns the CallbackQuery."""
        w = self._world()
        if isinstance(message, tuple):
            chat_id, message_id = message
        else:
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        chat = w.chat(chat_id)
        current = chat.live_message(message_id)
        if current is None:
            raise KeyError(f"message {message_id} in chat {chat_id} does not exist (deleted?)")
        if check_button:
            rows = (current.get("reply_markup") or {}).get("inline_keyboard") or []
            datas = [b.get("callback_data") for row in rows for b in row]
            if data not in datas:
                raise ValueError(
                    f"message {message_id} has no button with callback_data {data!r}; "
                    f"buttons: {datas!r}"
                )
        w.ensure_user(user_id)
        if not chat.is_private:
            chat.members.setdefault(user_id, "member")
        elif chat.id != user_id:
            raise ValueError("only the chat's user can press buttons in a private chat")
        w._query_counter += 1
        query_id = f"{w.bot_id}{w._query_counter:08d}{secrets.randbelow(10**6):06d}"
        query: Json = {
            "id": query_id,
            "from": copy_json(w.users[user_id]),
            "message": copy_json(current),
            "chat_instance": str(int(hashlib.sha256(str(chat.id).encode()).hexdigest()[:15], 16)),
            "data": data,
        }
        w.callback_queries[query_id] = {"query": query, "answered": False}
        w.enqueue("callback_query", query)
        return copy_json(query)

    def user_shares_contact(
        self,
        user_id: int,
        phone_number: str = "+79990000000",
        *,
        own: bool = True,
        first_name: str | None = None,
    ) -> Json:
        """Send a contact, by default the user's own (as the request_contact button does)."""
        w = self._world()
        user = w.ensure_user(user_id)
        contact: Json = {
            "phone_number": phone_number,
            "first_name": first_name or user["first_name"],
        }
        if own:
            contact["user_id"] = user_id
        return self.user_sends(user_id, contact=contact)

    def set_webhook_target(self, url: str, secret_token: str | None = None) -> None:
        """Deliver updates by POSTing them to ``url`` instead of queueing them for getUpdates."""
        w = self._world()
        w.webhook = {"url": url, "secret_token": secret_token, "last_error": None}
        self._webhook_started(w)

    def _webhook_started(self, w: BotWorld) -> None:
        raise NotImplementedError

    # -- reading what the bot did ------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        return self._world().requests

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded requests of one method (case-insensitive)."""
        name = method.lower()
        return [r for r in self._world().requests if r.method.lower() == name]

    def sent_messages(self, chat_id: int | None = None, thread_id: int | None = None) -> list[Json]:
        """Messages the bot sent successfully, oldest first, with later edits applied.

        Each is the Message dict plus ``raw_text`` (text/caption as sent, e.g. HTML),
        ``parse_mode``, ``method`` and ``deleted``.
        """
        w = self._world()
        out: list[Json] = []
        for cid, mid, meta in w.sent:
            if chat_id is not None and cid != chat_id:
                continue
            chat = w.chats[cid]
            msg = chat.messages[mid]
            if thread_id is not None and msg.get("message_thread_id") != thread_id:
                continue
            item = copy_json(msg)
            item.update(meta)
            item["deleted"] = mid in chat.deleted
            out.append(item)
        return out

    def message(self, chat_id: int, message_id: int) -> Json:
        """The current state of any message (user's or bot's)."""
        return copy_json(self._world().chat(chat_id).messages[message_id])

    @property
    def callback_answers(self) -> list[Json]:
        return self._world().callback_answers

    def topics(self, chat_id: int) -> list[Json]:
        chat = self._world().chat(chat_id)
        return [
            {**t.public(), "closed": t.closed, "deleted": t.deleted} for t in chat.topics.values()
        ]

    @property
    def flood_hits(self) -> list[FloodHit]:
        return self._world().flood_hits

    @property
    def flood_error_count(self) -> int:
        """How many 429s flood control gave (injected ones are not counted)."""
        return len(self._world().flood_hits)

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed by a getUpdates with a higher offset."""
        return copy_json(self._world().updates)

    @property
    def my_commands(self) -> dict[str, list[Json]]:
        return self._world().commands

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,
        *,
        what: str | None = None,
        interval: float = 0.01,
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            if time.monotonic() >= deadline:
                recent = [f"{r.method}{'' if r.ok else ' (failed)'}" for r in self.requests[-8:]]
                name = what or getattr(predicate, "__name__", repr(predicate))
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {name}; last bot requests: {recent}"
                )
            await asyncio.sleep(interval)
