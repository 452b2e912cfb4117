"""Whose words a forwarded message carries, as one line staff read before those words.

A forward is sent by someone (a resident, or a staff member filing a complaint for one) but
written by someone else: a channel, a group, a neighbour. Both the residents' chat and the staff
``/new`` form put the same line before the words, rendered from the ``forwarded`` block of
``bot_resident.j2``, so staff never take a news post for the sender's own report.
"""

from __future__ import annotations

from aiogram.types import (
    Message,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from bot.texts import BotTexts


def origin_of(origin: MessageOrigin) -> dict[str, str | None]:
    """Whose words a forward carries: a channel, a group, or a person (maybe hidden)."""
    if isinstance(origin, MessageOriginChannel):
        return {"kind": "channel", "name": origin.chat.title}
    if isinstance(origin, MessageOriginChat):
        return {"kind": "chat", "name": origin.sender_chat.title}
    if isinstance(origin, MessageOriginUser):
        return {"kind": "user", "name": origin.sender_user.full_name}
    if isinstance(origin, MessageOriginHiddenUser):
        return {"kind": "user", "name": origin.sender_user_name}
    return {"kind": None, "name": None}


def with_origin(texts: BotTexts, lang: str, message: Message, text: str, *,
                dated: bool = False) -> str:
    """``text`` with the forward's origin line before it (``text`` itself if it is no forward).

    ``dated`` adds when the original was written: staff filing a complaint from a message the
    resident sent them days ago need that date, while a resident's own forward arrives as it
    is sent, and the line has always read without one there.
    """
    origin = message.forward_origin
    if origin is None:
        return text
    line = texts.resident(lang, "forwarded", **origin_of(origin),
                          date=origin.date if dated else None)
    return f"{line}\n{text}".strip()


def with_reply_origin(texts: BotTexts, lang: str, message: Message, text: str) -> str:
    """``text`` with a line saying what it answers when that is in another chat (Telegram's
    "reply in another chat": a resident answering a post of the house chat or a channel in
    their chat with the bot), with the words they quoted from it. Staff got only "Вот опять
    то же самое" and could not tell what it was about. A reply in the chat itself gets the
    line only when it quotes a part of the message it answers."""
    external = message.external_reply
    quote = message.quote.text if message.quote is not None else None
    if external is None:
        # The part of the office's message the resident quoted ("Да" quoting "Вода
        # перекрыта?" of "Мастер придёт в 10? Вода перекрыта?"): staff got a bare "Да" and
        # could not tell which question it answered.
        if quote is None or message.reply_to_message is None:
            return text
        return f"{texts.resident(lang, 'quoted', quote=quote)}\n{text}".strip()
    line = texts.resident(lang, "external_reply", **origin_of(external.origin),
                          chat=external.chat.title if external.chat is not None else None,
                          quote=quote)
    return f"{line}\n{text}".strip()
