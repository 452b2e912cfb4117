"""Outgoing mail: the outbox's sender for the ``email`` channel, over aiosmtplib.

Every message is built so that the resident's reply finds its case again and so that no robot
answers it: a Message-ID on our own domain derived from the outbox idempotency key (a resend
after a crash is the same message, so the resident's client and our threading see one mail),
In-Reply-To/References to the conversation, the case tag in the subject for clients that drop
the headers, and the RFC 3834 / Exchange headers that stop auto-responders on automatic mail.
"""

from __future__ import annotations

import hashlib
import logging
import re
import ssl
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, Policy
from email.utils import format_datetime

import aiosmtplib

from intake.email.parse import ascii_domain
from intake.email_settings import SmtpConfig
from workflow.clock import Clock, SystemClock
from workflow.outbox import Outgoing, PermanentSendError, TemporarySendError

log = logging.getLogger(__name__)

# References grow with every exchange; long chains upset some MTAs (998-octet line limits are
# folded, but header size limits are not), so keep the root and the most recent ones.
MAX_REFERENCES = 20
_MSGID = re.compile(r"^[^\s<>@\"]+@[^\s<>@\"]+$")
# Enhanced status codes and basic codes that mean "this address does not exist / is disabled".
_UNREACHABLE_BASIC = frozenset({550, 551, 553})
_UNREACHABLE_ENHANCED = re.compile(r"5\.(1\.\d+|2\.1)")
# RFC 3463's enhanced status code, as the server writes it after the basic one
_ENHANCED = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
# "530 5.7.0 Authentication required", "534 5.7.9", "538 5.7.11 Encryption required"
_AUTH_REQUIRED = frozenset({530, 534, 535, 538})
# Exchange's "550 5.7.1 Unable to relay", Postfix's "554 5.7.1 Relay access denied"
_RELAY_DENIED = re.compile(r"\b(unable to relay|relay(ing)? (access )?(denied|not permitted))",
                           re.IGNORECASE)


def message_id_for(key: str, domain: str, case_number: str | None = None) -> str:
    """The Message-ID (without brackets) an outbox item always gets.

    Deterministic in the idempotency key, so the only window for a repeated send (a crash
    between the SMTP transaction and the outbox record) produces the same Message-ID, which
    clients and our own dedupe treat as one message. The case number is readable in it, which
    helps an operator reading raw headers; matching never depends on it.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    prefix = f"{case_number.lower()}." if case_number else ""
    return f"{prefix}{digest}@{domain}"


def tagged_subject(subject: str, case_number: str | None) -> str:
    """Put ``[A-1042]`` in front unless the rendered subject already carries it: the tag is what
    threads a reply from a client that drops In-Reply-To."""
    subject = " ".join(subject.split())
    if not case_number:
        return subject
    if f"[{case_number}]".lower() in subject.lower():
        return subject
    return f"[{case_number}] {subject}".strip()


def thread_references(refs: tuple[str, ...]) -> list[str]:
    """Only real Message-IDs (the parser's synthetic ``sha256:`` ids for mail without one are
    not), deduplicated, capped to the root plus the newest."""
    ids = list(dict.fromkeys(r.strip().strip("<>") for r in refs if r))
    ids = [i for i in ids if _MSGID.match(i)]
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1):]]
    return ids


class MessageIds(str):
    """In-Reply-To and References as RFC 5322 writes them: ``<id>`` items folded between ids,
    never inside one and never encoded. Python folds these headers as free text and turns an
    id that does not fit 78 columns (every Outlook/Office 365 one) into RFC 2047 encoded-words,
    which no mail client decodes there: our answer then fell out of the resident's thread."""

    name: str

    def __new__(cls, name: str, ids: list[str]) -> MessageIds:
        value = super().__new__(cls, " ".join(f"<{i}>" for i in ids))
        value.name = name
        return value

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: " + f"{policy.linesep} ".join(self.split()) + policy.linesep


class SmtpSender:
    """Implements :class:`workflow.outbox.Sender` for email.

    One SMTP connection per message: acknowledgements come in tens per hour, and a fresh
    connection cannot carry a half-dead session's state into the next message.
    """

    def __init__(self, config: SmtpConfig, mail_domain: str, *, clock: Clock | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.mail_domain = mail_domain
        self.clock = clock or SystemClock()
        self.tls_context = tls_context

    def build(self, item: Outgoing) -> EmailMessage:
        """The complete message for one outbox item (exposed so tests can inspect headers)."""
        cfg = self.config
        msg = EmailMessage(policy=SMTP)
        msg["From"] = Address(display_name=cfg.from_name, addr_spec=cfg.from_address)
        # an internationalised domain goes in its ASCII form: an address may not hold an
        # encoded-word (RFC 2047 section 5), and servers route by the ASCII form anyway
        recipient = ascii_domain(item.recipient)
        local, _, domain = recipient.rpartition("@")
        if local.isascii():
            msg["To"] = Address(addr_spec=recipient)
        else:
            # A mailbox whose name is not ASCII (иван@почта.рф) can only be written to with
            # SMTPUTF8 (RFC 6531), its header in raw UTF-8; aiosmtplib asks the server for it
            # (the email package parses no such address, so it is given in its two parts).
            msg.policy = SMTPUTF8
            msg["To"] = Address(username=local, domain=domain)
        subject = tagged_subject(item.subject, item.case_number)
        # Python's own folding of long non-ASCII headers drops the space between two
        # encoded-words ("в работе" arrives as "вработе"); Header keeps spaces inside them.
        msg.set_raw("Subject", subject if subject.isascii()
                    else Header(subject, "utf-8", header_name="Subject").encode(maxlinelen=74))
        msg["Date"] = format_datetime(self.clock.now())
        mid = message_id_for(item.idempotency_key, self.mail_domain, item.case_number)
        msg["Message-ID"] = f"<{mid}>"
        refs = thread_references(item.references)
        if refs:
            msg["In-Reply-To"] = MessageIds("In-Reply-To", refs[-1:])
            msg["References"] = MessageIds("References", refs)
        if item.automatic:
            # RFC 3834: robots must not answer this; Exchange honours only its own header.
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Auto-Response-Suppress"] = "All"
        if item.language:
            msg["Content-Language"] = item.language
        # Quoted-printable keeps the message 7-bit clean for relays without 8BITMIME.
        msg.set_content(item.text or "", subtype="plain", charset="utf-8",
                        cte="quoted-printable")
        if item.html:
            msg.add_alternative(item.html, subtype="html", charset="utf-8",
                                cte="quoted-printable")
        return msg

    async def send(self, item: Outgoing) -> str:
        try:
            msg = self.build(item)
        except (ValueError, TypeError, IndexError) as exc:
            # An address the email package cannot even write down will never be delivered.
            raise PermanentSendError(f"cannot address mail to {item.recipient!r}: {exc}",
                                     unreachable=True) from exc
        message_id = str(msg["Message-ID"]).strip().strip("<>")
        cfg = self.config
        try:
            await aiosmtplib.send(
                msg, sender=cfg.from_address, recipients=[ascii_domain(item.recipient)],
                hostname=cfg.host, port=cfg.port, use_tls=cfg.ssl, start_tls=cfg.starttls,
                username=cfg.username, password=cfg.password, timeout=cfg.timeout_s,
                tls_context=self.tls_context,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0] if exc.recipients else None
            if first is None:
                raise TemporarySendError("SMTP server refused the recipient") from exc
            raise _classify(first.code, first.message, "recipient refused") from exc
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise _classify(exc.code, exc.message, "recipient refused") from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # A wrong password is the operator's to fix, not the message's fault: keep retrying
            # (with the outbox backoff) so nothing is lost once the config is corrected.
            raise TemporarySendError(f"SMTP login refused ({exc.code} {exc.message.strip()}): "
                                     "check smtp.username and smtp.password") from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            raise _classify(exc.code, exc.message,
                            f"SMTP server refused our sender address {cfg.from_address}"
                            if exc.code >= 500 else "SMTP server answered MAIL FROM",
                            stage="mail") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc.code, exc.message, "SMTP server refused the message",
                            stage="data") from exc
        except aiosmtplib.SMTPNotSupported as exc:
            # only a mailbox whose name is not ASCII needs an extension: no retry will help
            raise PermanentSendError(
                f"cannot write to {item.recipient!r}: SMTP {cfg.host} does not offer SMTPUTF8, "
                "which an address that is not ASCII needs", unreachable=True) from exc
        except aiosmtplib.SMTPTimeoutError as exc:
            raise TemporarySendError(f"SMTP {cfg.host}:{cfg.port} timed out after "
                                     f"{cfg.timeout_s:g} s") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if "STARTTLS" in str(exc):
                raise TemporarySendError(
                    f"SMTP {cfg.host}:{cfg.port} does not offer STARTTLS, which smtp.starttls "
                    "asks for: check smtp.port, smtp.ssl and smtp.starttls") from exc
            raise TemporarySendError(f"SMTP {cfg.host}:{cfg.port} unreachable: "
                                     f"{exc or type(exc).__name__}") from exc
        log.info("sent %s to %s as <%s>", item.purpose, item.recipient, message_id)
        return message_id


def _classify(code: int, message: str, what: str, *,
              stage: str = "rcpt") -> TemporarySendError | PermanentSendError:
    """What a refusal means for the message and for the resident's address (RFC 5321, 3463).

    ``stage``: ``rcpt`` (the recipient refused), ``mail`` (our sender address refused) or
    ``data`` (the message refused after it was sent). Only the recipient's own mailbox being
    wrong (X.1.x, X.2.1, or a bare 550/551/553 at RCPT) makes the resident unreachable. A
    refusal that is ours to fix (our sender address, a relay that wants a login, a login
    refused) and a full mailbox are retried: nothing is lost once the config is corrected or
    the mailbox emptied."""
    said = " ".join(message.split())
    reason = f"{what}: {code} {said}".strip()
    enhanced = _ENHANCED.search(said)
    full = (code == 552 and stage == "rcpt") or (enhanced is not None and enhanced[0] == "5.2.2")
    if code < 500 or full:
        return TemporarySendError(reason)
    if code in _AUTH_REQUIRED or _RELAY_DENIED.search(said):
        return TemporarySendError(f"{reason}: the SMTP server wants a login (check "
                                  "smtp.username and smtp.password)")
    if stage == "mail":
        return TemporarySendError(f"{reason}: check smtp.from_address (the server must "
                                  "let smtp.username send as it)")
    if enhanced:
        unreachable = bool(_UNREACHABLE_ENHANCED.fullmatch(enhanced[0]))
    else:
        unreachable = stage == "rcpt" and code in _UNREACHABLE_BASIC
    return PermanentSendError(reason, unreachable=unreachable)
