"""A message's words as plain text, with what its formatting alone carried.

The bot reads and sends plain text (no parse mode), so formatting is dropped: bold, a spoiler
and a custom emoji leave their words as they are, but a link hidden behind words ("фото
тут", "оплатить здесь") is only in the message's entities, and would be lost with them.
"""

from __future__ import annotations

from aiogram.types import Message, MessageEntity


def plain_text(message: Message) -> str:
    """The message's text (or caption), a hidden link's address put in brackets after the
    words that carried it. Entities count UTF-16 units, as Telegram does: an emoji before
    the link is two of them."""
    text = message.text if message.text is not None else message.caption or ""
    entities: list[MessageEntity] = list(
        (message.entities if message.text is not None else message.caption_entities) or [])
    links = sorted((e for e in entities if e.type == "text_link" and e.url and e.url not in text),
                   key=lambda e: e.offset + e.length)
    if not links:
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    out, pos = [], 0
    for link in links:
        end = max(pos, 2 * (link.offset + link.length))
        out += [units[pos:end].decode("utf-16-le", "surrogatepass"), f" ({link.url})"]
        pos = end
    out.append(units[pos:].decode("utf-16-le", "surrogatepass"))
    return "".join(out)
