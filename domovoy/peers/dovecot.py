"""A private Dovecot IMAP server on loopback, for the tests, the benchmark and ``domovoy demo``.

Why a real Dovecot rather than a Python fake: the poller's correctness rests on server
behaviour a fake would have to guess (UIDVALIDITY, UID assignment, IDLE push timing, literal
framing of BODY[] in FETCH responses, \\Seen semantics). The instance shares nothing with a
system Dovecot: its own ``base_dir``, ``instance_name``, config, port and log, all inside the
directory it is given.

Traps handled here (see the research notes): the mail directory must belong to ``nobody`` and
every parent must be traversable by it; the listener answers before ``run/master.pid`` exists;
``auth_failure_delay`` defaults to 2 s; a port that already answers belongs to someone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aioimaplib import IMAP4

__all__ = ["Dovecot", "DovecotError", "dovecot_available", "free_port"]

PASSWORD = "secret"

_CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = domovoy-{tag}
protocols = imap
listen = {host}
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{dir}/mail/%u/Maildir
mail_uid = nobody
mail_gid = nogroup
{passdb}
# auth_failure_delay = 0 is not enough: anvil's per-IP auth penalty would still hold the next
# login from 127.0.0.1 for 2-15 s after a failed one. Mode 0 on its socket switches it off.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""

_STATIC_DB = """\
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/mail/%u
}}
"""

_PASSWD_DB = """\
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
  default_fields = uid=nobody gid=nogroup home={dir}/mail/%u
}}
"""


class DovecotError(RuntimeError):
    """The peer could not be started or driven; the message says what to do."""


def dovecot_available() -> str | None:
    """The dovecot binary's path, or None when the Debian package is not installed."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.path.exists(p)), None)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_answers(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _traversable_by_nobody(path: Path) -> Path | None:
    """The first directory on the way to ``path`` that ``nobody`` cannot enter, if any."""
    for parent in [*reversed(path.parents), path]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            return parent
    return None


@dataclass
class Dovecot:
    """One Dovecot instance living in ``directory`` (created if missing).

    With ``users`` None any user name logs in with :data:`PASSWORD` (static passdb), so each test
    gets a fresh, empty Maildir just by picking a new name (:meth:`new_user`). With ``users``
    given, a passwd-file holds exactly those users and passwords.
    """

    directory: Path
    host: str = "127.0.0.1"
    port: int = 0
    users: dict[str, str] | None = None
    password: str = PASSWORD
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8], init=False)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path:
        return self.directory / "dovecot.log"

    def new_user(self, prefix: str = "t") -> str:
        """A user name nobody used before: with the static passdb, a fresh empty mailbox."""
        if self.users is not None:
            raise DovecotError("new_user() needs the static passdb (users=None)")
        return f"{prefix}-{uuid.uuid4().hex[:12]}@example.test"

    def password_for(self, user: str) -> str:
        return self.users.get(user, "") if self.users is not None else self.password

    def _write_config(self) -> Path:
        d = self.directory
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        nobody = pwd.getpwnam("nobody")
        if os.geteuid() == 0:
            os.chown(d / "mail", nobody.pw_uid, nobody.pw_gid)
        if self.users is None:
            passdb = _STATIC_DB.format(password=self.password, dir=d)
        else:
            users = d / "users"
            users.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))
            users.chmod(0o644)  # auth runs as user "dovecot"
            passdb = _PASSWD_DB.format(users=users, dir=d)
        conf = d / "dovecot.conf"
        conf.write_text(_CONFIG.format(dir=d, tag=self._tag, host=self.host, port=self.port,
                                       passdb=passdb))
        return conf

    def start(self, timeout: float = 10.0) -> None:
        """Start in the foreground as our child (so stopping it is by our own PID) and wait
        until the port answers and the master has written its PID file."""
        binary = dovecot_available()
        if binary is None:
            raise DovecotError("dovecot is not installed: run `make system-deps` "
                               "(Debian packages dovecot-imapd dovecot-core)")
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)
        blocked = _traversable_by_nobody(self.directory)
        if blocked is not None:
            raise DovecotError(f"{blocked} is not traversable by user nobody; Dovecot's mail "
                               "processes could not reach the Maildir (use a 0755 directory)")
        if not self.port:
            self.port = free_port(self.host)
        if _port_answers(self.host, self.port):
            raise DovecotError(f"port {self.host}:{self.port} already answers: another server "
                               "owns it, refusing to start a second one there")
        conf = self._write_config()
        pidfile = self.directory / "run" / "master.pid"
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()
        self._proc = subprocess.Popen([binary, "-F", "-c", str(conf)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr \
                    else ""
                self._proc = None
                raise DovecotError(f"dovecot exited at start: {err.strip() or 'no output'} "
                                   f"(log: {self.log_path})")
            if (pidfile.exists() and pidfile.read_text().strip()
                    and _port_answers(self.host, self.port)):
                return
            time.sleep(0.01)
        self.stop()
        raise DovecotError(f"dovecot did not answer on {self.host}:{self.port} within "
                           f"{timeout:g} s (log: {self.log_path})")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop our own process by PID: TERM, then KILL only if it will not go."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stderr is not None:
            proc.stderr.close()

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- driving it as a mail client would ------------------------------------------------

    @contextlib.asynccontextmanager
    async def client(self, user: str, timeout: float = 10.0) -> AsyncIterator[IMAP4]:
        """A logged-in aioimaplib client (for putting mail in and looking at flags)."""
        imap = IMAP4(self.host, self.port, timeout=timeout)
        await imap.wait_hello_from_server()
        resp = await imap.login(user, self.password_for(user))
        if resp.result != "OK":
            raise DovecotError(f"login as {user} refused: {resp.lines}")
        try:
            yield imap
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(imap.logout(), 2)

    async def append(self, user: str, raw: bytes, mailbox: str = "INBOX",
                     flags: str | None = None, date: datetime | None = None) -> int:
        """APPEND one raw message; returns its UID (from APPENDUID). ``date`` sets the
        INTERNALDATE (the demo's clock runs ahead of the real one)."""
        uids = await self.append_many(user, [raw], mailbox=mailbox, flags=flags, date=date)
        return uids[0]

    async def append_many(self, user: str, raws: list[bytes], mailbox: str = "INBOX",
                          flags: str | None = None,
                          date: datetime | None = None) -> list[int]:
        uids: list[int] = []
        async with self.client(user) as imap:
            if mailbox.upper() != "INBOX":
                await imap.create(mailbox)
            for raw in raws:
                resp = await imap.append(raw, mailbox=mailbox, flags=flags, date=date)
                if resp.result != "OK":
                    raise DovecotError(f"APPEND refused: {resp.lines}")
                uids.append(_appenduid(resp.lines))
        return uids

    async def flags(self, user: str, mailbox: str = "INBOX") -> dict[int, set[str]]:
        """UID → flags of every message in a mailbox."""
        out: dict[int, set[str]] = {}
        async with self.client(user) as imap:
            resp = await imap.select(mailbox)
            exists = next((int(bytes(x).split()[0]) for x in resp.lines
                           if bytes(x).endswith(b" EXISTS")), 0)
            # aioimaplib parses one stack frame per response line: ask 200 at a time.
            for start in range(1, exists + 1, 200):
                resp = await imap.fetch(f"{start}:{min(start + 199, exists)}", "(UID FLAGS)")
                for line in resp.lines:
                    if isinstance(line, bytes | bytearray) and b"FETCH" in line:
                        text = bytes(line).decode(errors="replace")
                        uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                        flags = text.split("FLAGS (", 1)[1].split(")", 1)[0].split()
                        out[uid] = set(flags)
        return out


def _appenduid(lines: list[bytes]) -> int:
    for line in lines:
        text = bytes(line).decode(errors="replace")
        if "APPENDUID" in text:
            return int(text.split("APPENDUID", 1)[1].split("]")[0].split()[1])
    raise DovecotError(f"no APPENDUID in {lines!r}")
