"""Inline-button payloads. Telegram allows 64 bytes of callback data, so case ids (not numbers)
and one-letter prefixes are used; every factory here stays well under the limit."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

# Staff actions on a case card, in the order the buttons appear.
CARD_ACTIONS = ("take", "progress", "need_info", "resolve", "close", "escalate")


class CaseCb(CallbackData, prefix="c"):
    """A staff action on a case: one of CARD_ACTIONS, ``reopen``, ``rc`` (reclassify menu),
    ``card`` (back to the card's buttons) or ``show`` (post the case details here)."""

    a: str
    id: int


class ReclassCb(CallbackData, prefix="r"):
    """Reclassify: pick an axis (``v`` empty) or a value on it."""

    id: int
    axis: str
    v: str = ""


class LangCb(CallbackData, prefix="lang"):
    code: str


class FormCb(CallbackData, prefix="f"):
    """The residents' guided form: topic choice, done with photos, send, cancel."""

    a: str
    v: str = ""


class StaffFormCb(CallbackData, prefix="sf"):
    """The staff ``/new`` form: building and channel choices, cancel."""

    a: str
    v: str = ""


class CommentCb(CallbackData, prefix="cm"):
    """Skip the optional comment after a rating."""

    a: str


class UnfiledCb(CallbackData, prefix="u"):
    """Open a case from a message the classifier set aside (``m`` is its messages.id)."""

    m: int
