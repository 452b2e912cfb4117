"""What a case says when the letter has no text of its own to say it.

A letter can carry its content in a form that converts to no text: an encrypted one (S/MIME,
PGP), a calendar invitation
("Осмотр подвала", a time, a place), pictures in an HTML letter, one fragment of a message the
sender's mail program split (message/partial). An empty case text leaves staff guessing
whether something was lost; the words that stand in come from the templates
(:mod:`intake.email.wording`), in the letter's language, Russian by default.
"""

from __future__ import annotations

from collections.abc import Callable

from intake.email.mime import MimeResult
from intake.email.wording import email_text

__all__ = ["partial_notice", "stand_in"]

Language = Callable[[str], str | None]
_WEB = ("http://", "https://")


def stand_in(mime: MimeResult, subject: str, language: Language) -> tuple[str, str] | None:
    """(text, note) for a letter with no text: a line saying it is encrypted (staff, not the
    parser, must ask for it again in the clear), its invitation's event, or a line saying it
    holds only pictures (named, with their sizes, so two photo letters are not one letter
    "sent again"); None when it is none of these."""
    if mime.encrypted:
        return (email_text("encrypted", language(subject)),
                "encrypted letter: a placeholder text stands in")
    if mime.calendar:
        event = mime.calendar[0]
        words = " ".join((event.summary, event.location, event.description))
        text = email_text("calendar", language(words) or language(subject), event=event)
        return text, "text read from the calendar invitation"
    if not mime.images:
        return None
    images = [
        {"name": a.filename, "kb": max(1, round(a.size / 1024))}
        for a in mime.attachments
        if a.content_type.startswith("image/")
    ]
    links = [src for src in mime.images if src.lower().startswith(_WEB)]
    text = email_text("images_only", language(subject), images=images, links=links)
    return text, "HTML letter of pictures only: a placeholder text stands in"


def partial_notice(mime: MimeResult, subject: str, language: Language) -> str | None:
    """The line that tells staff the letter is one fragment of a split message."""
    if mime.partial is None:
        return None
    number, total = mime.partial
    return email_text("partial", language(subject), number=number or "?", total=total)
