"""A message's words as plain text, with what its formatting alone carried.

The bot reads and sends plain text (no parse mode), so formatting is dropped: bold, a spoiler
and a custom emoji leave their words as they are, but a link hidden behind words ("фото
тут", "оплатить здесь") is only in the message's entities, and would be lost with them.
"""

from __future__ import annotations

from aiogram.types import Checklist, Message, MessageEntity


def plain_text(message: Message) -> str:
    """The message's text (or caption), a hidden link's address put in brackets after the
    words that carried it. Entities count UTF-16 units, as Telegram does: an emoji before
    the link is two of them. A checklist's words are its title and tasks."""
    if message.checklist is not None:
        return checklist_text(message.checklist)
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


def checklist_text(checklist: Checklist) -> str:
    """A checklist ("Что сломано в подъезде": the light on the 3rd floor, the door closer),
    which a Premium user sends as a message of its own with no text or caption, as lines
    of words, each task marked done or not: it was answered "this kind of message is not
    taken", and the list was lost."""
    return "\n".join([checklist.title, *(f"{'☑' if task.completion_date else '☐'} {task.text}"
                                         for task in checklist.tasks)])
