"""The Telegram channel's configuration section (``telegram:``)."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from workflow.settings import Strict

TELEGRAM_API = "https://api.telegram.org"
# What Telegram's setWebhook accepts (it refuses anything else, and the channel stopped at
# start): a secret_token of 1-256 of these characters, and an https URL on one of these ports
# (Telegram's own servers; a self-hosted Bot API server posts to any URL).
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = (443, 80, 88, 8443)


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

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, v: str | None) -> str | None:
        if v is not None and not WEBHOOK_SECRET_RE.fullmatch(v):
            raise ValueError("Telegram takes 1-256 characters A-Z a-z 0-9 _ - only "
                             "(e.g. from `openssl rand -hex 32`)")
        return v

    @field_validator("webhook_url")
    @classmethod
    def _url_shape(cls, v: str | None, info: ValidationInfo) -> str | None:
        # A self-hosted Bot API server (api_base_url) also posts to http and to any port.
        api = str(info.data.get("api_base_url", TELEGRAM_API)).rstrip("/")
        if v is None or api != TELEGRAM_API:
            return v
        url = urlsplit(v)
        try:
            port = url.port or 443
        except ValueError:
            port = 0
        if url.scheme != "https" or not url.hostname or port not in WEBHOOK_PORTS:
            raise ValueError("Telegram sends updates only to an https:// URL on port "
                             f"{', '.join(map(str, WEBHOOK_PORTS))}")
        return v

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError("telegram.mode is webhook but telegram.webhook_url is not set")
        return self
