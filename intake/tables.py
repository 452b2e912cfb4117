"""Email channel state kept in the database (the IMAP cursor)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.models import Base


class MailboxState(Base):
    """IMAP cursor per mailbox: import resumes after ``last_uid`` while UIDVALIDITY holds."""

    __tablename__ = "mailbox_state"
    mailbox: Mapped[str] = mapped_column(String(300), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
