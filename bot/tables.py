"""Telegram channel state kept in the database (staff-chat cards, topics, message links, guided
forms, staff groups that moved)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.models import Base


class TelegramCard(Base):
    """Where a case lives in the staff chat: its card message and, in forums, its topic."""

    __tablename__ = "telegram_cards"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    topic_closed: Mapped[bool] = mapped_column(Boolean, default=False)


class TelegramMessageLink(Base):
    """Maps the bot's messages back to their case: in the staff chat, cards and relayed
    resident messages; in a resident's chat, the later parts of an answer sent in several."""

    __tablename__ = "telegram_message_links"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_tg_links_chat_msg"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The "<chat>:<message>" a message stands for: the original of a copy of a resident's
    # media (so none is copied twice), the first part of a split answer (so a reply threads).
    source: Mapped[str | None] = mapped_column(String(64), index=True)


class TelegramChatMove(Base):
    """A staff group Telegram upgraded to a supergroup: its old id refuses every message, so
    the bot keeps following the new one, across restarts, until the configuration names it."""

    __tablename__ = "telegram_chat_moves"
    old_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    new_chat_id: Mapped[int] = mapped_column(BigInteger)
    moved_at: Mapped[datetime]


class TelegramFsm(Base):
    """Where a resident is in a guided form (registration, the complaint form, a rating), and
    what they have entered so far, so that a restart does not make them start over."""

    __tablename__ = "telegram_fsm"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
