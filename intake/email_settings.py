"""The email channel's configuration sections (``imap:`` and ``smtp:``)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from intake.email.loops import DEFAULT_AUTHORITY_DOMAINS
from workflow.settings import Strict

# A domain of two labels or more; "*" may stand for any one label ("gov.*.ru").
_LABEL = r"(?:\*|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)"
_DOMAIN_PATTERN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")


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
    # Where state bodies' systems (a housing inspectorate, a state portal) mail from: their
    # auto-generated notices open a case for staff and are never answered.
    authority_domains: tuple[str, ...] = DEFAULT_AUTHORITY_DOMAINS

    @field_validator("authority_domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out, bad = [], []
        for domain in value:
            ascii_form = _ascii_domain(domain)
            if ascii_form is None or not _DOMAIN_PATTERN.fullmatch(ascii_form):
                bad.append(domain.strip().lower())
            else:
                out.append(ascii_form)
        if bad:
            raise ValueError(f"not a mail domain: {', '.join(repr(b) for b in bad)} (write "
                             "domains like gzhi.example.ru; * stands for one label: gov.*.ru)")
        return tuple(out)


def _ascii_domain(domain: str) -> str | None:
    """A domain as mail headers carry it: lower case, a Cyrillic label (гжи.рф) in its
    punycode form; None where a label cannot be encoded."""
    labels = domain.strip().lower().rstrip(".").split(".")
    try:
        return ".".join(label if label == "*" else label.encode("idna").decode("ascii")
                        for label in labels)
    except UnicodeError:
        return None


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

    @field_validator("from_address")
    @classmethod
    def _an_address(cls, value: str) -> str:
        """Every letter goes out From this and takes its Message-ID's domain from it: a value
        with no domain passed check-config and failed on the first letter."""
        local, at, domain = value.strip().rpartition("@")
        if not (at and local and domain) or any(c.isspace() or c in "<>,;" for c in value.strip()):
            raise ValueError(f"expected a bare mail address such as office@example.ru, got "
                             f"{value!r} (the name goes in smtp.from_name)")
        return value.strip()

    @model_validator(mode="after")
    def _not_both_tls(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("choose smtp.ssl (implicit TLS, port 465) or smtp.starttls, not both")
        return self
