"""The IMAP poller: the office inbox into intake, with nothing lost and nothing imported twice.

Order of work for each message, and why:

1. ``UID FETCH … BODY.PEEK[]`` — PEEK leaves \\Seen alone, so a crash before step 3 leaves the
   message looking unprocessed to staff and to us.
2. parse → intake (one committed transaction: case, events, acknowledgement in the outbox).
3. \\Seen (or UID MOVE to ``processed_folder``), in batches.
4. the cursor (UIDVALIDITY, last UID) in ``mailbox_state``.

A crash between 2 and 4 means the message is fetched again next time; intake's dedupe on the
Message-ID (or the parser's stable hash) turns it into a ``duplicate`` with no second
acknowledgement. The cursor, not \\Seen, decides what is new, so a human reading the inbox in
a mail client cannot hide a message from the bot.

Selection when there is no usable cursor (first contact with a mailbox, or a UIDVALIDITY
change): only UNSEEN messages, with or without a ``processed_folder``, so the read history of an
inbox the office answered by hand is not turned into cases and acknowledgements; it stays where
it is. After a UIDVALIDITY change (a restore, a migration) mail delivered more than
``RESCAN_MARGIN`` before the last good poll is left alone too: a restore that lost the flags
shows that history unread, and dedupe knows only what was once imported. What is left is
re-imported, and dedupe turns what was imported before into duplicates.

A mail over ``max_message_bytes`` is not fetched whole: its BODYSTRUCTURE, its header and the
start of its first text part (``BODY.PEEK[1.1]<0.N>``) make a small mail that opens the case
like any other, with a note naming what stayed on the server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import random
import re
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aioimaplib import IMAP4, AioImapException, CommandTimeout, Response
from sqlalchemy import select

from intake import quarantine as quarantine_store
from intake.email import MailLimits
from intake.email.backlog import describe_error, parse_raw
from intake.email.bodystructure import (
    MimePart,
    body_structure,
    cut_at_line,
    first_text_part,
    mime_parts,
    oversize_note,
    partial_message,
)
from intake.email_settings import ImapConfig
from intake.message import InboundMessage
from intake.tables import MailboxState
from workflow.clock import wait_event
from workflow.context import Workflow
from workflow.health import read_health, record_health
from workflow.intake import Action, IntakeResult, IntakeService
from workflow.models import Quarantine
from workflow.rows import record_event

log = logging.getLogger(__name__)

HEALTH_CHANNEL = "email.imap"
SIZE_CHUNK = 100
FETCH_CHUNK = 10
RECURSION_LIMIT = 20_000
# RFC 2177: re-issue IDLE at least every 29 minutes; servers and NATs drop a session idle for
# about 30, which would show in status as "connection lost during IDLE" and a reconnect.
IDLE_RENEW_S = 29 * 60
# After a UIDVALIDITY change, mail delivered this long before the last good poll is still
# looked at (delivered during that poll, or the server's clock a little behind ours).
RESCAN_MARGIN = timedelta(hours=1)
# 2**60 × any sensible base is far past any cap; more doublings only risk a float overflow.
BACKOFF_DOUBLINGS = 60
T = TypeVar("T")

_FETCH_START = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_STATUS_UIDNEXT = re.compile(rb"\bUIDNEXT (\d+)")


class ImapError(Exception):
    """A poll failed; the message is the sentence ``domovoy status`` shows."""


class MarkRefused(ImapError):
    """The server refused to mark or move mail whose cases are committed (quota, a folder it
    will not create). The connection is fine, so the poll carries on with later mail."""


def _utf7_encode(name: str) -> str:
    """RFC 3501 §5.1.3 modified UTF-7: printable ASCII stands for itself ("&" as "&-"), any
    other run is UTF-16BE in base64 with "," for "/" between "&" and "-"."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            data = base64.b64encode("".join(run).encode("utf-16-be")).decode("ascii")
            out.append("&" + data.rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _utf7_decode(name: str) -> str | None:
    """The name a modified UTF-7 wire form stands for; None when ``name`` is not one."""
    out: list[str] = []
    pos = 0
    while (amp := name.find("&", pos)) != -1:
        end = name.find("-", amp)
        if end == -1:
            return None
        out.append(name[pos:amp])
        chunk = name[amp + 1:end]
        try:
            out.append(base64.b64decode(chunk.replace(",", "/") + "=" * (-len(chunk) % 4),
                                        validate=True).decode("utf-16-be") if chunk else "&")
        except (binascii.Error, UnicodeDecodeError):
            return None
        pos = end + 1
    out.append(name[pos:])
    text = "".join(out)
    return text if _utf7_encode(text) == name else None


def mailbox_arg(name: str) -> str:
    """A folder name as an IMAP command argument: modified UTF-7, then quoted. aioimaplib sends
    arguments as they are, so "Обработанные" was refused ("8bit data in atom") and
    "Processed mail" named two arguments. A name already written in modified UTF-7
    (``&BB4EMQ…-``, the workaround before this) is sent as it is."""
    wire = name if _utf7_decode(name) is not None else _utf7_encode(name)
    return '"' + wire.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class FetchedMail:
    """One message as fetched. A mail over the size limit is fetched in part: ``raw`` is then
    its headers and first text part put together, ``note`` says what was left out and
    ``headers`` are its headers as the server sent them."""

    uid: int
    raw: bytes
    internal_date: datetime | None = None
    note: str | None = None
    headers: bytes | None = None


@dataclass
class PollReport:
    """What one poll did, for tests, logs and the benchmark."""

    mailbox: str
    uidvalidity: int | None = None
    rescanned: bool = False
    fetched: int = 0
    results: list[tuple[int, IntakeResult]] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    marked: int = 0
    left_alone: int = 0  # re-scan: mail from before the last good poll, not imported
    last_uid: int = 0
    error: str | None = None
    # The error is only the server refusing to mark or move imported mail: the connection
    # and the import are fine, so the loop carries on without a reconnect or a retry delay.
    mark_refused: bool = False

    @property
    def actions(self) -> list[str]:
        return [str(r.action) for _, r in self.results]

    @property
    def imported(self) -> int:
        return sum(1 for _, r in self.results if r.action != Action.DUPLICATE)


def uid_set(uids: Iterable[int]) -> str:
    """``1:3,7,9:10`` — compact UID sets keep long batches inside IMAP line limits."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def parse_internaldate(value: bytes) -> datetime | None:
    try:
        return datetime.strptime(value.decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def parse_fetch(lines: list[Any]) -> list[FetchedMail]:
    """aioimaplib 2.x FETCH lines → messages: each ``n FETCH (…`` line is followed by the
    BODY[] literal as a bytearray and a closing line that may carry more items."""
    out: list[FetchedMail] = []
    meta: bytes | None = None
    body: bytes | None = None

    def flush() -> None:
        if meta is None or body is None:
            return  # an unsolicited FETCH (a flag change) has no body: not ours
        uid = _UID.search(meta)
        if uid is None:
            return
        date = _INTERNALDATE.search(meta)
        out.append(FetchedMail(int(uid.group(1)), body,
                               parse_internaldate(date.group(1)) if date else None))

    for line in lines:
        if isinstance(line, bytearray):
            if meta is not None:
                body = bytes(line)
            continue
        if not isinstance(line, bytes):
            continue
        if _FETCH_START.match(line):
            flush()
            meta, body = line, None
        elif meta is not None:
            meta += b" " + line
    flush()
    return out


def _sizes(lines: list[Any]) -> dict[int, tuple[int, datetime | None]]:
    """UID → (RFC822.SIZE, INTERNALDATE) from a ``(UID RFC822.SIZE INTERNALDATE)`` FETCH."""
    sizes: dict[int, tuple[int, datetime | None]] = {}
    for line in lines:
        if isinstance(line, bytes) and _FETCH_START.match(line):
            uid, size = _UID.search(line), _SIZE.search(line)
            date = _INTERNALDATE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = (int(size.group(1)),
                                            parse_internaldate(date.group(1)) if date else None)
    return sizes


def _text(resp: Response) -> str:
    parts = [bytes(x).decode(errors="replace") for x in resp.lines
             if isinstance(x, bytes | bytearray)]
    return " ".join(" ".join(parts).split())[:300] or resp.result


class ImapPoller:
    """Polls one mailbox; ``poll_once()`` is one pass, ``run()`` loops with IDLE and backoff."""

    def __init__(
        self,
        config: ImapConfig,
        intake: IntakeService,
        wf: Workflow,
        *,
        own_addresses: frozenset[str] = frozenset(),
        limits: MailLimits | None = None,
        batch_size: int = 50,
        batch_bytes: int = 16 * 1024 * 1024,
        max_message_bytes: int = 40 * 1024 * 1024,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        ssl_context: ssl.SSLContext | None = None,
        partial_bytes: int = 256 * 1024,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """``max_message_bytes``: a mail bigger than this is not fetched whole; its headers and
        the first ``partial_bytes`` of its first text part open the case instead.
        ``sleep`` waits out a retry delay; tests pass one that records the delay and returns,
        so the backoff can be watched without waiting minutes (by default the wait ends
        early when the poller is closed)."""
        self.config = config
        self.intake = intake
        self.wf = wf
        self.own_addresses = own_addresses
        self.limits = limits or MailLimits.configured(wf.settings.limits)
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.max_message_bytes = max_message_bytes
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.ssl_context = ssl_context
        self.partial_bytes = partial_bytes
        self._sleep = sleep
        self._imap: IMAP4 | None = None
        self._lost = asyncio.Event()
        self._uidvalidity: int | None = None
        self._uidnext: int | None = None
        # Every UID below this was in the view of a SEARCH we ran: mail at or above it came
        # after, even if the server already told us so in the middle of a pass.
        self._covered: int | None = None
        self._folder_refused: str | None = None  # why the server would not create the folder
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self.failures = 0
        self._oversized: dict[int, int] = {}  # UID → size, for mail over the limit
        # aioimaplib 2.0 parses each read recursively, one frame per response line; a server
        # pushing a few thousand untagged lines at once (flag updates after another client
        # marked the inbox read, EXPUNGEs) would overflow the default limit of 1000 and kill
        # the connection. Python-to-Python calls cost no C stack on 3.11+, so a higher
        # limit is safe.
        if sys.getrecursionlimit() < RECURSION_LIMIT:
            sys.setrecursionlimit(RECURSION_LIMIT)

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    # --- connection ---------------------------------------------------------------------

    async def _call(self, what: str, aw: Awaitable[T], timeout: float | None = None) -> T:
        """Every IMAP call goes through here: a named timeout, and a dropped connection noticed
        at once (aioimaplib otherwise leaves the command waiting for its full timeout)."""
        limit = timeout if timeout is not None else self.config.timeout_s
        task = asyncio.ensure_future(aw)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait({task, lost}, timeout=limit,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            lost.cancel()
        if task not in done:
            task.cancel()
            if lost in done:
                raise ImapError(f"IMAP connection to {self.where} was lost during {what}")
            raise ImapError(f"IMAP {what} timed out after {limit:g} s")
        try:
            return task.result()
        except ImapError:
            raise
        except (TimeoutError, CommandTimeout) as exc:
            # aioimaplib times FETCH and STORE itself; its CommandTimeout says only the
            # command's tag, so it gets the same sentence as our own timeout.
            raise ImapError(f"IMAP {what} timed out after {limit:g} s") from exc
        except ConnectionRefusedError as exc:
            raise ImapError(f"IMAP server {self.where} refused the connection") from exc
        except ssl.SSLError as exc:
            raise ImapError(f"IMAP TLS handshake with {self.where} failed: {exc}") from exc
        except OSError as exc:
            raise ImapError(f"IMAP {what} failed: network error talking to {self.where}: "
                            f"{exc.strerror or exc}") from exc
        except AioImapException as exc:
            raise ImapError(f"IMAP {what} failed: {exc}") from exc

    async def connect(self) -> None:
        """Connect, log in, select; learn UIDVALIDITY and UIDNEXT."""
        await self.disconnect()
        cfg = self.config
        lost = asyncio.Event()
        self._lost = lost
        context = self.ssl_context
        if cfg.ssl and context is None:
            context = ssl.create_default_context()
        imap = IMAP4(cfg.host, cfg.port, timeout=cfg.timeout_s,
                     conn_lost_cb=lambda exc: lost.set(),
                     ssl_context=context if cfg.ssl else None)
        self._imap = imap
        await self._call("connect", imap.wait_hello_from_server())
        resp = await self._call("LOGIN", imap.login(cfg.username, cfg.password))
        if resp.result != "OK":
            raise ImapError(f"IMAP login as {cfg.username} refused by {self.where}: "
                            f"{_text(resp)}")
        self._folder_refused = None
        if cfg.processed_folder:
            # CREATE answers NO when the folder exists: that is fine. Any other refusal is
            # kept for the move's error, which would otherwise say only "doesn't exist".
            resp = await self._call("CREATE", imap.create(mailbox_arg(cfg.processed_folder)))
            if resp.result != "OK" and "ALREADYEXISTS" not in _text(resp).upper():
                self._folder_refused = _text(resp)
        resp = await self._call("SELECT", imap.select(mailbox_arg(cfg.mailbox)))
        if resp.result != "OK":
            raise ImapError(f"IMAP mailbox {cfg.mailbox!r} cannot be opened: {_text(resp)}")
        self._uidvalidity = self._uidnext = None
        for line in resp.lines:
            if isinstance(line, bytes):
                if m := _UIDVALIDITY.search(line):
                    self._uidvalidity = int(m.group(1))
                if m := _UIDNEXT.search(line):
                    self._uidnext = int(m.group(1))
        if self._uidvalidity is None:
            raise ImapError(f"IMAP server {self.where} sent no UIDVALIDITY for {cfg.mailbox!r}")
        self._covered = self._uidnext

    async def disconnect(self) -> None:
        imap, self._imap = self._imap, None
        if imap is None:
            return
        if not self._lost.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(imap.logout(), 1.0)
        transport = getattr(imap.protocol, "transport", None)
        if transport is not None:
            transport.close()

    # --- one pass ------------------------------------------------------------------------

    async def poll_once(self) -> PollReport:
        """Import whatever is new; never raises for network, protocol or per-message trouble
        (the report's ``error`` says what went wrong and health records it)."""
        report = PollReport(mailbox=self.config.mailbox)
        try:
            if self._imap is None or self._lost.is_set():
                await self.connect()
            else:
                # A selected session sees mail that arrived since its last command only
                # after the server syncs the view; SEARCH alone may run on the old view.
                resp = await self._call("NOOP", self._imap.noop())
                if resp.result != "OK":
                    raise ImapError(f"IMAP NOOP refused: {_text(resp)}")
            await self._poll(report)
        except MarkRefused as exc:
            report.error, report.mark_refused = str(exc), True
        except ImapError as exc:
            report.error = str(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("IMAP poll of %s failed", self.config.mailbox)
            report.error = f"IMAP poll of {self.config.mailbox!r} failed: {describe_error(exc)}"
        if report.error is not None and not report.mark_refused:
            log.warning("%s", report.error)
            await self.disconnect()
        await self._health(report.error)
        return report

    async def _health(self, error: str | None) -> None:
        try:
            await record_health(self.wf.sessions, HEALTH_CHANNEL, self.wf.clock.now(), error)
        except Exception:
            log.exception("could not record IMAP health")

    async def _load_state(self) -> MailboxState | None:
        async with self.wf.sessions() as session:
            return await session.get(MailboxState, self.config.mailbox)

    async def _save_state(self, uidvalidity: int, last_uid: int) -> None:
        async with self.wf.sessions.begin() as session:
            row = await session.get(MailboxState, self.config.mailbox)
            if row is None:
                session.add(MailboxState(mailbox=self.config.mailbox, uidvalidity=uidvalidity,
                                         last_uid=last_uid))
            else:
                row.uidvalidity = uidvalidity
                row.last_uid = max(last_uid, row.last_uid) \
                    if row.uidvalidity == uidvalidity else last_uid

    async def _search(self, *criteria: str) -> list[int]:
        assert self._imap is not None
        resp = await self._call("UID SEARCH", self._imap.uid_search(*criteria, charset=None))
        if resp.result != "OK":
            raise ImapError(f"IMAP UID SEARCH refused: {_text(resp)}")
        uids: list[int] = []
        for line in resp.lines[:-1] or resp.lines:
            if isinstance(line, bytes):
                uids += [int(t) for t in line.split() if t.isdigit()]
        return uids

    async def _poll(self, report: PollReport) -> None:
        validity = self._uidvalidity
        assert validity is not None
        report.uidvalidity = validity
        state = await self._load_state()
        fresh = state is None or state.uidvalidity != validity
        not_before: datetime | None = None
        if fresh:
            # No cursor: read mail is history the office handled by hand, in both modes.
            criteria: tuple[str, ...] = ("UNSEEN",)
            report.rescanned = state is not None
            if state is not None:
                not_before = await self._rescan_bound()
                log.warning("UIDVALIDITY of %r changed (%s → %s): re-scanning unread mail%s; "
                            "dedupe keeps already imported mail out", self.config.mailbox,
                            state.uidvalidity, validity,
                            f" delivered since {not_before:%Y-%m-%d %H:%M} UTC"
                            if not_before else "")
            last = 0
        else:
            assert state is not None
            last = state.last_uid
            criteria = ("UID", f"{last + 1}:*")
        # "n:*" always matches the highest UID, even when it is below n.
        found = await self._search(*criteria)
        if found and not fresh:
            self._covered = max(self._covered or 0, max(found) + 1)
        uids = sorted(u for u in found if u > last)
        report.last_uid = last
        refused: MarkRefused | None = None
        for batch in await self._batches(uids, not_before, report):
            try:
                await self._process_batch(batch, report)
            except MarkRefused as exc:
                # The batch's cases are committed and the cursor, not \Seen, decides what is
                # new: later mail is still imported; status shows the error until it is fixed.
                log.warning("%s", exc)
                refused = exc
            if not fresh:
                await self._save_state(validity, batch[-1])
            report.last_uid = max(report.last_uid, batch[-1])
        if report.left_alone:
            log.warning("IMAP %r: %d unread letter(s) delivered before %s left alone (history "
                        "from before the bot's last good poll)", self.config.mailbox,
                        report.left_alone, not_before)
        if fresh:
            # Only now does the new UIDVALIDITY count: a crash before this repeats the
            # re-scan, and dedupe absorbs the repeat.
            floor = (self._uidnext - 1) if self._uidnext else 0
            report.last_uid = max(report.last_uid, floor)
            await self._save_state(validity, report.last_uid)
        if refused is not None:
            raise refused

    async def _rescan_bound(self) -> datetime | None:
        """After a UIDVALIDITY change, mail delivered before the last good poll (less
        ``RESCAN_MARGIN``) was there to be seen: imported then (dedupe would absorb it) or left
        on purpose as history. A restore that lost the flags shows that history unread, and
        dedupe cannot tell it from new mail, so it is left by its INTERNALDATE. None when
        no poll ever succeeded."""
        for health in await read_health(self.wf.sessions):
            if health.channel == HEALTH_CHANNEL and health.last_ok_at is not None:
                return health.last_ok_at - RESCAN_MARGIN
        return None

    async def _batches(self, uids: list[int], not_before: datetime | None = None,
                       report: PollReport | None = None) -> list[list[int]]:
        """Batches of at most ``batch_size`` messages and ``batch_bytes`` bytes, since
        aioimaplib holds a whole FETCH response in memory. Mail delivered before
        ``not_before`` is left out, counted in ``report.left_alone`` (the benchmark calls
        this without a report)."""
        if not uids:
            return []
        assert self._imap is not None
        sizes: dict[int, tuple[int, datetime | None]] = {}
        # aioimaplib parses a response recursively, one stack frame per line: a few hundred
        # untagged lines in one read exhaust Python's recursion limit, so ask in small chunks.
        for i in range(0, len(uids), SIZE_CHUNK):
            chunk = uids[i:i + SIZE_CHUNK]
            resp = await self._call("UID FETCH (RFC822.SIZE)", self._imap.uid(
                "fetch", uid_set(chunk), "(UID RFC822.SIZE INTERNALDATE)"))
            if resp.result != "OK":
                raise ImapError(f"IMAP UID FETCH (RFC822.SIZE) refused: {_text(resp)}")
            sizes.update(_sizes(resp.lines))
        batches: list[list[int]] = []
        current: list[int] = []
        total = 0
        for uid in uids:
            if uid not in sizes:
                continue  # expunged since the search
            size, delivered = sizes[uid]
            if not_before is not None and delivered is not None and delivered < not_before:
                if report is not None:
                    report.left_alone += 1
                continue
            if self.max_message_bytes and size > self.max_message_bytes:
                self._oversized[uid] = size
                size = 0  # only its header and the start of its text will be fetched
            if current and (len(current) >= self.batch_size or total + size > self.batch_bytes):
                batches.append(current)
                current, total = [], 0
            current.append(uid)
            total += size
        if current:
            batches.append(current)
        return batches

    async def _fetch(self, uids: list[int]) -> list[FetchedMail]:
        assert self._imap is not None
        wanted = set(uids)
        mails: list[FetchedMail] = []
        # aioimaplib holds and splits a whole response at once, at some thirty times its size:
        # small FETCHes keep that peak (and so the process's RSS) low for the same batch.
        for i in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[i:i + FETCH_CHUNK]
            resp = await self._call("UID FETCH", self._imap.uid(
                "fetch", uid_set(chunk), "(UID INTERNALDATE BODY.PEEK[])"))
            if resp.result != "OK":
                raise ImapError(f"IMAP UID FETCH refused: {_text(resp)}")
            mails.extend(m for m in parse_fetch(resp.lines) if m.uid in wanted)
        return sorted(mails, key=lambda m: m.uid)

    async def _fetch_section(self, uid: int, section: str) -> FetchedMail | None:
        """The first ``partial_bytes`` of one section (``HEADER``, ``1.2``) of one message;
        None when the message is gone (expunged since it was listed)."""
        assert self._imap is not None
        what = f"UID FETCH (BODY[{section}])"
        resp = await self._call(what, self._imap.uid(
            "fetch", str(uid),
            f"(UID INTERNALDATE BODY.PEEK[{section}]<0.{self.partial_bytes}>)"))
        if resp.result != "OK":
            raise ImapError(f"IMAP {what} refused: {_text(resp)}")
        found = [m for m in parse_fetch(resp.lines) if m.uid == uid]
        return found[0] if found else None

    async def _mime_parts(self, uid: int) -> list[MimePart]:
        """The message's parts as the server describes them, without fetching any."""
        assert self._imap is not None
        what = "UID FETCH (BODYSTRUCTURE)"
        resp = await self._call(what, self._imap.uid("fetch", str(uid), "(UID BODYSTRUCTURE)"))
        if resp.result != "OK":
            raise ImapError(f"IMAP {what} refused: {_text(resp)}")
        try:
            structure = body_structure(resp.lines)
            parts = mime_parts(structure) if structure is not None else []
        except Exception:
            # Reading it is our code, not the server's: a structure it trips on must not
            # fail the poll (the batch would be retried forever). Headers alone still open
            # the case.
            log.exception("IMAP message %s: BODYSTRUCTURE not understood", self._source(uid))
            return []
        if not parts:
            log.warning("IMAP message %s: no readable BODYSTRUCTURE", self._source(uid))
        return parts

    async def _fetch_oversized(self, uid: int) -> FetchedMail | None:
        """A mail over ``max_message_bytes`` (a scan of every page of a contract, a video)
        still opens its case: its headers and the start of its first text part, each within
        ``partial_bytes``, are put together as a small mail of their own, and a note says
        what stayed on the server. Fetching it whole would hold it in memory some thirty
        times over (aioimaplib), and quarantining it would leave the resident unanswered."""
        head = await self._fetch_section(uid, "HEADER")
        if head is None:
            return None
        header = cut_at_line(head.raw) if len(head.raw) >= self.partial_bytes else head.raw
        parts = await self._mime_parts(uid)
        text = first_text_part(parts)
        body, cut = b"", None
        if text is not None:
            got = await self._fetch_section(uid, text.section)
            body = got.raw if got is not None else b""
            if text.size > self.partial_bytes:
                body, cut = cut_at_line(body), self.partial_bytes
        note = oversize_note(self._oversized[uid], self.max_message_bytes, parts, text, cut)
        log.warning("IMAP message %s: %s", self._source(uid), note)
        return FetchedMail(uid, partial_message(header, text, body), head.internal_date,
                           note=note, headers=header)

    async def _process_batch(self, batch: list[int], report: PollReport) -> None:
        whole = [u for u in batch if u not in self._oversized]
        mails = await self._fetch(whole) if whole else []
        for uid in batch:
            if uid in self._oversized and (partial := await self._fetch_oversized(uid)):
                mails.append(partial)
        mails.sort(key=lambda m: m.uid)
        parsed = await self._parse(mails, report)
        # One commit for the batch; \Seen only after it.
        results = await self.intake.ingest_many([inbound for _, inbound in parsed])
        for (mail, _), result in zip(parsed, results, strict=True):
            if isinstance(result, Exception):
                await self._failed(mail, result, report)
                continue
            report.results.append((mail.uid, result))
            if mail.note is not None:
                await self._record_oversized(mail, result)
        if mails:
            await self._mark_processed([m.uid for m in mails])
            report.marked += len(mails)

    async def _parse(self, mails: list[FetchedMail],
                     report: PollReport) -> list[tuple[FetchedMail, InboundMessage]]:
        """Each mail to an InboundMessage; one that cannot be read goes to quarantine."""
        parsed: list[tuple[FetchedMail, InboundMessage]] = []
        for mail in mails:
            report.fetched += 1
            try:
                inbound = (await parse_raw(
                    mail.raw, own_addresses=self.own_addresses, internal_date=mail.internal_date,
                    limits=self.limits, authority_domains=self.config.authority_domains,
                    )).to_inbound(raw_ref=self._source(mail.uid),
                                  fallback_time=self.wf.clock.now())
            except Exception as exc:
                await self._failed(mail, exc, report)
                continue
            if mail.note is not None:  # kept beside the resident's words in the log
                inbound = replace(inbound, notes=(mail.note, *inbound.notes))
            parsed.append((mail, inbound))
        return parsed

    async def _record_oversized(self, mail: FetchedMail, result: IntakeResult) -> None:
        """Staff read a case's events (``/case``), so the note goes there as well; the raw
        headers are kept in the quarantine table for inspection, already resolved, since
        there is nothing to retry: the mail did its work. A mail seen again (a duplicate
        after a crash) adds neither twice."""
        now = self.wf.clock.now()
        source = self._source(mail.uid)
        outcome = f"{result.action} {result.case_number or ''}".strip()
        async with self.wf.sessions.begin() as session:
            if result.case_id is not None and result.action != Action.DUPLICATE:
                await record_event(session, case_id=result.case_id, at=now, actor="system",
                                   action="oversized", note=mail.note)
            if await session.scalar(select(Quarantine.id).where(
                    Quarantine.source == source).limit(1)) is None:
                session.add(Quarantine(
                    channel="email", source=source, raw=mail.headers or b"",
                    reason=f"{mail.note}; {outcome}; headers kept for inspection",
                    attempts=1, created_at=now, resolved_at=now))

    def _source(self, uid: int) -> str:
        return f"imap:{self.config.mailbox}:{self._uidvalidity}:{uid}"

    async def _failed(self, mail: FetchedMail, exc: Exception, report: PollReport) -> None:
        """Kept, not lost: the raw mail goes to quarantine for ``domovoy requeue``."""
        log.error("IMAP message %s could not be processed", self._source(mail.uid),
                  exc_info=exc)
        reason = describe_error(exc)
        if mail.note is not None:
            reason += f" ({mail.note}; its headers and first text part are kept)"
        await self._quarantine(mail.uid, mail.raw, reason)
        report.quarantined.append(mail.uid)

    async def _quarantine(self, uid: int, raw: bytes, reason: str) -> None:
        await quarantine_store.store(self.wf.sessions, channel="email", source=self._source(uid),
                                     raw=raw, reason=reason, now=self.wf.clock.now())

    async def _mark_processed(self, uids: list[int]) -> None:
        """\\Seen, or a move to ``processed_folder``; only ever after the commits."""
        assert self._imap is not None
        imap, folder, uids_text = self._imap, self.config.processed_folder, uid_set(uids)
        if folder is None:
            resp = await self._call("UID STORE \\Seen",
                                    imap.uid("store", uids_text, "+FLAGS.SILENT", r"(\Seen)"))
        elif imap.has_capability("MOVE"):
            resp = await self._call("UID MOVE", imap.uid("move", uids_text, mailbox_arg(folder)))
        else:
            resp = await self._call("UID COPY", imap.uid("copy", uids_text, mailbox_arg(folder)))
            if resp.result == "OK":
                resp = await self._call("UID STORE \\Deleted", imap.uid(
                    "store", uids_text, "+FLAGS.SILENT", r"(\Seen \Deleted)"))
            if resp.result == "OK" and imap.has_capability("UIDPLUS"):
                resp = await self._call("UID EXPUNGE", imap.uid("expunge", uids_text))
            elif resp.result == "OK":
                resp = await self._expunge_only(uids)
        if resp.result != "OK":
            where = f" (moving to {folder!r})" if folder else ""
            why = f"; creating the folder was refused: {self._folder_refused}" \
                if folder and self._folder_refused else ""
            raise MarkRefused(f"IMAP could not mark {len(uids)} processed message(s){where}: "
                              f"{_text(resp)}{why}")

    async def _expunge_only(self, ours: list[int]) -> Response:
        """Takes our copied mail out of the inbox on a server without UIDPLUS (before, it stayed
        there flagged \\Deleted for ever). Plain EXPUNGE removes every \\Deleted letter, and a
        clerk whose mail client deletes by flagging (Thunderbird's "mark as deleted") may
        still want theirs back, so their flags come off for the EXPUNGE and go back on after
        it. Should the connection drop in between, their letters are left undeleted, never
        lost; one a clerk flags in the moment between our SEARCH and EXPUNGE goes, as their
        own client's next expunge would take it."""
        assert self._imap is not None
        imap = self._imap
        theirs = uid_set(set(await self._search("DELETED")) - set(ours))
        if theirs:
            resp = await self._call("UID STORE -\\Deleted", imap.uid(
                "store", theirs, "-FLAGS.SILENT", r"(\Deleted)"))
            if resp.result != "OK":
                return resp
        resp = await self._call("EXPUNGE", imap.expunge())
        if theirs:
            restored = await self._call("UID STORE \\Deleted", imap.uid(
                "store", theirs, "+FLAGS.SILENT", r"(\Deleted)"))
            if resp.result == "OK":
                resp = restored
        return resp

    # --- the loop ------------------------------------------------------------------------

    async def _arrived_during_pass(self) -> bool:
        """Whether mail came in after the last pass's SEARCH. The server reports it with an
        untagged EXISTS in the middle of that pass's FETCH or STORE, which aioimaplib drops;
        IDLE then has nothing new to push and the letter would wait out the whole interval.
        STATUS reads the mailbox afresh. A server that refuses STATUS on the selected mailbox
        (RFC 3501 discourages it) only loses this shortcut."""
        if self._imap is None:
            return False
        resp = await self._call("STATUS", self._imap.status(
            mailbox_arg(self.config.mailbox), "(UIDNEXT)"))
        found = next((int(m.group(1)) for line in resp.lines if isinstance(line, bytes)
                      and (m := _STATUS_UIDNEXT.search(line))), None)
        if resp.result != "OK" or found is None:
            log.debug("IMAP STATUS gave no UIDNEXT: %s", _text(resp))
            return False
        grew = self._covered is not None and found > self._covered
        # The next pass's NOOP brings everything below ``found`` into its SEARCH's view.
        self._covered = max(self._covered or 0, found)
        return grew

    def wake(self) -> None:
        """Poll now instead of at the end of the interval (tests, the demo, a signal)."""
        self._wake.set()

    async def _wait_for_mail(self, seconds: float) -> None:
        imap = self._imap
        if imap is not None and self.config.idle and imap.has_capability("IDLE"):
            await self._idle(imap, min(seconds, IDLE_RENEW_S))
            return
        self._wake.clear()
        await wait_event(self._wake, seconds)

    async def _idle(self, imap: IMAP4, seconds: float) -> None:
        """IDLE until the server pushes anything (new mail within ~0.5 s on Dovecot) or
        ``seconds`` end (the poll interval, at most ``IDLE_RENEW_S``); either way the caller
        polls next, which renews the IDLE."""
        self._wake.clear()
        idle_task = await self._call("IDLE", imap.idle_start(timeout=seconds))
        push = asyncio.ensure_future(imap.wait_server_push(timeout=seconds + 1))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await self._call("IDLE", asyncio.wait({push, woken},
                                                  return_when=asyncio.FIRST_COMPLETED),
                             timeout=seconds + 5)
        finally:
            push.cancel()
            woken.cancel()
            if imap.has_pending_idle() and not self._lost.is_set():
                imap.idle_done()
        await self._call("IDLE DONE", idle_task)

    def _backoff(self) -> float:
        """base, 2×base, 4×base … up to ``backoff_cap``, less up to 20 % jitter (so several
        pollers do not hammer a recovering server in step). The exponent is bounded: after
        some thousand failures (days of outage) ``2 ** failures`` no longer fits a float,
        and the overflow would have ended the loop for good."""
        doublings = min(max(self.failures - 1, 0), BACKOFF_DOUBLINGS)
        delay = min(self.backoff_cap, self.backoff_base * 2.0 ** doublings)
        return delay * random.uniform(0.8, 1.0)

    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` seconds before retrying, or less if the poller is closed."""
        if self._sleep is not None:
            await self._sleep(delay)
            return
        await wait_event(self._stopping, delay)

    async def run(self) -> None:
        """Poll, wait for mail (IDLE or the interval), repeat; reconnect with capped backoff
        on any failure. Runs until cancelled or :meth:`close`."""
        while not self._stopping.is_set():
            report = await self.poll_once()
            error = None if report.mark_refused else report.error
            if error is None:
                self.failures = 0
                try:
                    if not await self._arrived_during_pass():
                        await self._wait_for_mail(self.config.poll_interval_s)
                    continue
                except ImapError as exc:
                    error = str(exc)
                    await self.disconnect()
                    await self._health(error)
            self.failures += 1
            delay = self._backoff()
            log.warning("IMAP: %s; retrying in %.1f s", error, delay)
            await self._pause(delay)

    async def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        await self.disconnect()
