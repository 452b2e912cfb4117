"""Raw mail into intake: the one path shared by the IMAP poller, ``domovoy requeue`` and
``domovoy ingest-eml``.

Keeping a single path means a backlog imported from files is threaded, deduplicated and
loop-checked exactly like live mail, and a file import can be rehearsed with ``--dry-run``.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from intake.email import MailLimits, ParsedMail, parse_mail
from intake.email.loops import DEFAULT_AUTHORITY_DOMAINS
from workflow.intake import IntakeResult, IntakeService

log = logging.getLogger(__name__)

SINGLE_SUFFIXES = frozenset({".eml", ".box"})
MBOX_SUFFIXES = frozenset({".mbox"})
ROW_KEYS = ("file", "action", "case", "sender", "subject", "text", "attachments", "kind",
            "category", "urgency", "scope", "acknowledged", "error")
# Parsing is synchronous; a large message goes to a thread so IDLE, the outbox and the bot
# keep running while it is taken apart. Small ones stay inline: the hop costs more than them.
THREAD_PARSE_BYTES = 256 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024

_HEADER_LINE = re.compile(
    rb"^(from|to|cc|subject|date|message-id|received|return-path|content-type|mime-version|"
    rb"delivered-to|reply-to|sender|x-[\w-]+|list-id|in-reply-to|references|"
    rb"auto-submitted|dkim-signature|authentication-results)[ \t]*:",
    re.IGNORECASE | re.MULTILINE)


class NotMail(ValueError):
    """Input that is not an email message at all (an image, a PDF, an empty file)."""


def not_mail_reason(raw: bytes) -> str | None:
    """Why ``raw`` cannot be a mail message, or None when it plausibly is one.

    The parser recovers almost anything that is mail; this only keeps out things that are not
    (a photo dropped in the mailbox folder, a truncated zero-byte file), which would otherwise
    become a blank case for manual review.
    """
    if not raw.strip():
        return "empty: no bytes to read as mail"
    head = raw[:65536]
    if _HEADER_LINE.search(head):
        return None  # real mail may carry stray NULs; the parser copes
    if b"\x00" in head[:4096]:
        return "binary data, not an email message"
    return "not an email message: no mail header lines (From:, Subject:, Date: …) found"


async def parse_raw(raw: bytes, *, own_addresses: frozenset[str],
                    internal_date: datetime | None = None,
                    limits: MailLimits | None = None,
                    authority_domains: tuple[str, ...] = DEFAULT_AUTHORITY_DOMAINS
                    ) -> ParsedMail:
    """parse_mail, off the event loop for large messages; raises :class:`NotMail`."""
    reason = not_mail_reason(raw)
    if reason is not None:
        raise NotMail(reason)
    kwargs: dict[str, Any] = {"own_addresses": own_addresses, "internal_date": internal_date,
                              "authority_domains": authority_domains}
    if limits is not None:
        kwargs["limits"] = limits
    if len(raw) > THREAD_PARSE_BYTES:
        return await asyncio.to_thread(parse_mail, raw, **kwargs)
    return parse_mail(raw, **kwargs)


async def ingest_raw(intake: IntakeService, raw: bytes, *, raw_ref: str | None,
                     own_addresses: frozenset[str], internal_date: datetime | None = None,
                     dry_run: bool = False,
                     limits: MailLimits | None = None,
                     authority_domains: tuple[str, ...] = DEFAULT_AUTHORITY_DOMAINS
                     ) -> tuple[ParsedMail, IntakeResult]:
    """Parse and ingest one message in its own transaction. Raises on anything that stops it
    (not mail, a database error); the caller decides between quarantine and a report line."""
    parsed = await parse_raw(raw, own_addresses=own_addresses, internal_date=internal_date,
                             limits=limits or MailLimits.configured(intake.wf.settings.limits),
                             authority_domains=authority_domains)
    inbound = parsed.to_inbound(raw_ref=raw_ref, fallback_time=intake.wf.clock.now())
    result = await intake.ingest(inbound, dry_run=dry_run)
    return parsed, result


def describe_error(exc: BaseException) -> str:
    """An exception as one sentence for an operator (quarantine reason, JSON ``error``)."""
    if isinstance(exc, NotMail):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


# --- files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    label: str
    raw: bytes | None = None
    error: str | None = None


def _row(label: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    row.update(file=label, subject="", text="", attachments=[], acknowledged=False)
    row.update(values)
    return row


def _walk(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Each file to read, with an error instead when a named path cannot be used."""
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.suffix.lower() in SINGLE_SUFFIXES | MBOX_SUFFIXES)
            yield from ((p, None) for p in found)
        elif path.is_file():
            yield path, None
        elif path.exists():
            yield path, "not a regular file"
        else:
            yield path, "no such file or folder"


_FROM_ESCAPED = re.compile(rb"(?m)^>(>*From )")


def _read(path: Path) -> Iterator[_Item]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES and path.suffix.lower() not in MBOX_SUFFIXES:
            yield _Item(str(path), error=f"file of {size} bytes is over the "
                                         f"{MAX_FILE_BYTES // 2**20} MB limit for one message")
            return
        if path.suffix.lower() not in MBOX_SUFFIXES:
            yield _Item(str(path), raw=path.read_bytes())
            return
        box = mailbox.mbox(path, create=False)
        try:
            keys = list(box.keys())
            if not keys:
                yield _Item(str(path), error="not an mbox mailbox: no 'From ' separator lines")
                return
            for n, key in enumerate(keys, 1):
                # a mailbox escapes a body line starting "From " as ">From " (mboxrd adds one
                # more ">" per level): take one back, or the line reads as a quote
                yield _Item(f"{path}#{n}", raw=_FROM_ESCAPED.sub(rb"\1", box.get_bytes(key)))
        finally:
            box.close()
    except (OSError, mailbox.Error) as exc:
        yield _Item(str(path), error=f"cannot read the file: {exc.strerror or exc}"
                    if isinstance(exc, OSError) else f"cannot read the mailbox: {exc}")


async def ingest_files(intake: IntakeService, paths: list[Path], *, dry_run: bool,
                       own_addresses: frozenset[str],
                       authority_domains: tuple[str, ...] = DEFAULT_AUTHORITY_DOMAINS
                       ) -> AsyncIterator[dict[str, Any]]:
    """One row per message found under ``paths`` (keys :data:`ROW_KEYS`); never raises for a
    bad file: it becomes a ``rejected`` row with a readable ``error``."""
    for path, problem in _walk(paths):
        if problem is not None:
            yield _row(str(path), action="rejected", error=problem)
            continue
        for item in _read(path):
            if item.raw is None:
                yield _row(item.label, action="rejected", error=item.error)
                continue
            yield await _ingest_one(intake, item, dry_run=dry_run, own_addresses=own_addresses,
                                    authority_domains=authority_domains)


async def _ingest_one(intake: IntakeService, item: _Item, *, dry_run: bool,
                      own_addresses: frozenset[str],
                      authority_domains: tuple[str, ...]) -> dict[str, Any]:
    assert item.raw is not None
    try:
        parsed, result = await ingest_raw(intake, item.raw, raw_ref=f"file:{item.label}",
                                          own_addresses=own_addresses, dry_run=dry_run,
                                          authority_domains=authority_domains)
    except NotMail as exc:
        return _row(item.label, action="rejected", error=str(exc))
    except Exception as exc:  # one bad file must not stop a backlog import
        log.exception("ingest-eml: %s could not be processed", item.label)
        return _row(item.label, action="rejected",
                    error=f"could not be processed: {describe_error(exc)}")
    labels = result.labels
    return _row(
        item.label, action=str(result.action), case=result.case_number, sender=parsed.sender,
        subject=parsed.subject, text=parsed.text,
        attachments=[a.filename for a in parsed.attachments],
        kind=str(labels.kind) if labels else None,
        category=str(labels.category) if labels else None,
        urgency=str(labels.urgency) if labels else None,
        scope=str(labels.scope) if labels else None,
        acknowledged=result.acknowledged, error=None)
