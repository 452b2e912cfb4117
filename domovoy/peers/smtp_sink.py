"""An in-process SMTP sink (aiosmtpd) that keeps what it receives, for tests and the demo.

Why aiosmtpd rather than a mock sender: the SmtpSender's real work is in the bytes on the wire
(encoded Cyrillic headers, multipart structure, Message-ID) and in mapping a server's 4xx/5xx
replies to retry or failure; only a real SMTP conversation exercises both. The sink can require
AUTH and can answer a chosen error for the next N messages.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from domovoy.peers.dovecot import free_port

__all__ = ["Received", "SmtpSink"]


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the exact DATA bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...] = ()
    login: str | None = None

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Failure:
    reply: str
    count: int
    stage: str


@dataclass
class _Handler:
    sink: SmtpSink
    failures: list[_Failure] = field(default_factory=list)

    def _take(self, stage: str) -> str | None:
        with self.sink._lock:
            for f in self.failures:
                if f.stage == stage and f.count > 0:
                    f.count -= 1
                    return f.reply
        return None

    async def handle_MAIL(self, server: Any, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if self.sink.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        reply = self._take("mail")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        reply = self._take("rcpt")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        reply = self._take("data")
        if reply is not None:
            return reply
        login = session.auth_data.login.decode() \
            if isinstance(session.auth_data, LoginPassword) else None
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        self.sink._record(Received(
            mail_from=envelope.mail_from or "", rcpt_tos=tuple(envelope.rcpt_tos), data=data,
            mail_options=tuple(envelope.mail_options), login=login))
        return "250 Message accepted"


class SmtpSink:
    """``SmtpSink().start()`` listens on a free loopback port (``.port``); ``.messages`` fills up.

    With ``auth=(user, password)`` the sink advertises AUTH (without TLS on loopback) and
    refuses mail from clients that did not log in.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 auth: tuple[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.auth = auth
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._handler = _Handler(self)
        self._controller: Controller | None = None

    def _authenticate(self, server: Any, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.auth is not None
              and auth_data.login.decode() == self.auth[0]
              and auth_data.password.decode() == self.auth[1])
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> SmtpSink:
        if not self.port:
            self.port = free_port(self.host)
        kwargs: dict[str, Any] = {}
        if self.auth is not None:
            # AUTH is enforced in handle_MAIL rather than with auth_required, which warns on
            # every connection when TLS is not also required (loopback needs no TLS).
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        self._controller = Controller(self._handler, hostname=self.host, port=self.port,
                                      **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, reply: str, count: int = 1, *, stage: str = "data") -> None:
        """Answer ``reply`` (e.g. ``"451 4.3.0 try later"`` or ``"550 5.1.1 no such user"``)
        instead of accepting, for the next ``count`` messages, at MAIL FROM, RCPT or DATA."""
        if stage not in ("mail", "rcpt", "data"):
            raise ValueError("stage is 'mail', 'rcpt' or 'data'")
        with self._lock:
            self._handler.failures.append(_Failure(reply, count, stage))

    def _record(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until at least ``count`` messages arrived (the sink runs in its own thread)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"SMTP sink got {len(self.messages)} of {count} messages "
                                   f"in {timeout:g} s")
            await asyncio.sleep(0.01)
        return list(self.messages)
