"""The email channel's configuration sections (``imap:`` and ``smtp:``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from workflow.settings import Strict


class ImapConfig(Strict):
    host: str
    port: int = Field(default=993, ge=1, le=65535)
    ssl: bool = True
    username: str
    password: str = ""
    mailbox: str = "INBOX"
    poll_interval_s: float = Field(default=60.0, gt=0)
    idle: bool = True
    processed_folder: str | None = None
    timeout_s: float = Field(default=30.0, gt=0)


class SmtpConfig(Strict):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    ssl: bool = False
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    from_address: str
    from_name: str = ""
    timeout_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _not_both_tls(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("choose smtp.ssl (implicit TLS, port 465) or smtp.starttls, not both")
        return self
