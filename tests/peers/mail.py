"""Fixtures for the email channel's peers: Dovecot (IMAP) and an aiosmtpd sink (SMTP).

Dovecot runs once per test session (start takes ~20 ms, but its process is shared); each test
gets a user nobody used before, hence an empty Maildir and a UIDVALIDITY of its own. The SMTP
sink is per test. A cuttable TCP proxy lets a test drop the network in the middle of a FETCH.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from domovoy.peers.dovecot import Dovecot, dovecot_available, free_port
from domovoy.peers.smtp_sink import SmtpSink
from intake.email_settings import ImapConfig, SmtpConfig

OFFICE = "office@uk-zarechye.test"
MAIL_DOMAIN = "uk-zarechye.test"
_CAPABILITY_LINE = re.compile(rb"CAPABILITY[^\r\n\]]*")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if dovecot_available() is None:
        pytest.fail("Dovecot is not installed, so the IMAP integration tests cannot run: "
                    "run `make system-deps` (installs dovecot-imapd dovecot-core)")
    # Not pytest's tmp_path: its 0700 parents are not traversable by Dovecot's user nobody.
    directory = Path(tempfile.mkdtemp(prefix="domovoy-dovecot-"))
    directory.chmod(0o755)
    server = Dovecot(directory / "dovecot")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def imap_user(dovecot: Dovecot) -> str:
    return dovecot.new_user()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def imap_config(server: Dovecot, user: str, **overrides: Any) -> ImapConfig:
    values: dict[str, Any] = {
        "host": server.host, "port": server.port, "ssl": False, "username": user,
        "password": server.password_for(user), "mailbox": "INBOX", "poll_interval_s": 5.0,
        "timeout_s": 5.0,
    }
    values.update(overrides)
    return ImapConfig.model_validate(values)


def smtp_config(sink: SmtpSink, **overrides: Any) -> SmtpConfig:
    values: dict[str, Any] = {
        "host": sink.host, "port": sink.port, "ssl": False, "starttls": False,
        "from_address": OFFICE, "from_name": "УК «Заречье»", "timeout_s": 5.0,
    }
    values.update(overrides)
    return SmtpConfig.model_validate(values)


class TcpProxy:
    """Loopback TCP proxy whose connections a test can cut, at once or after N bytes of the
    server's answer (the network dropping in the middle of a large FETCH).

    It can also play two other servers a real Dovecot will not: one that accepts connections
    and then stops answering (``stalled``: the server's bytes are swallowed, as on a hung
    peer or a black-holed route), and one that does not offer some capabilities
    (``hide_capabilities``, e.g. ``{"IDLE"}``: the names are taken out of CAPABILITY lines).
    ``client_lines`` is what the client sent, one command line each, for asserting which
    commands a client used."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.cut_after: int | None = None
        self.cuts = 0
        self.stalled = False
        self.hide_capabilities: frozenset[str] = frozenset()
        self.client_lines: list[bytes] = []

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        return self

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def _handle(self, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, server_w}

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter,
                       from_server: bool) -> None:
            sent = 0
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await r.read(65536):
                    if not from_server:
                        self.client_lines += data.splitlines()
                    elif self.stalled:
                        continue  # a server that stopped answering: nothing comes back
                    else:
                        data = self._without_hidden_capabilities(data)
                    if from_server and self.cut_after is not None \
                            and sent + len(data) > self.cut_after:
                        w.write(data[: max(self.cut_after - sent, 0)])
                        self.cut_after = None
                        self.cuts += 1
                        self.cut()
                        return
                    sent += len(data)
                    w.write(data)
                    await w.drain()
            w.transport.abort()

        await asyncio.gather(pipe(client_r, server_w, False), pipe(server_r, client_w, True))
        self._writers -= {client_w, server_w}

    def _without_hidden_capabilities(self, data: bytes) -> bytes:
        """CAPABILITY lines (the greeting's, the LOGIN answer's, a CAPABILITY response's) with
        the hidden names taken out. Only for test traffic: a FETCH literal quoting such a line
        would change length and break the framing."""
        if not self.hide_capabilities or b"CAPABILITY" not in data:
            return data
        hidden = {c.upper().encode() for c in self.hide_capabilities}

        def strip(m: re.Match[bytes]) -> bytes:
            return b" ".join(t for t in m.group(0).split(b" ") if t.upper() not in hidden)

        return _CAPABILITY_LINE.sub(strip, data)


@pytest.fixture
async def imap_proxy(dovecot: Dovecot) -> AsyncIterator[TcpProxy]:
    proxy = await TcpProxy(dovecot.host, dovecot.port).start()
    yield proxy
    await proxy.stop()
