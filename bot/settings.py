"""The Telegram channel's configuration section (``telegram:``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from workflow.settings import Strict

TELEGRAM_API = "https://api.telegram.org"


class TelegramConfig(Strict):
    token: str
    api_base_url: str = TELEGRAM_API
    mode: Literal["polling", "webhook"] = "polling"
    staff_chat_id: int | None = None
    managers_chat_id: int | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8080"
    webhook_secret: str | None = None
    burst_window_s: float = Field(default=60.0, ge=0)

    @field_validator("token")
    @classmethod
    def _token_shape(cls, v: str) -> str:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", v):
            raise ValueError("a bot token looks like 123456:ABC-def (from @BotFather)")
        return v

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError("telegram.mode is webhook but telegram.webhook_url is not set")
        return self
