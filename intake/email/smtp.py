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
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime

import aiosmtplib

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
_UNREACHABLE_ENHANCED = re.compile(r"\b5\.(1\.\d+|2\.1)\b")


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
        local, _, domain = item.recipient.rpartition("@")
        if local.isascii():
            msg["To"] = Address(addr_spec=item.recipient)
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
                    else Header(subject, "utf-8", header_name="Subject").encode())
        msg["Date"] = format_datetime(self.clock.now())
        mid = message_id_for(item.idempotency_key, self.mail_domain, item.case_number)
        msg["Message-ID"] = f"<{mid}>"
        refs = thread_references(item.references)
        if refs:
            msg["In-Reply-To"] = f"<{refs[-1]}>"
            msg["References"] = " ".join(f"<{r}>" for r in refs)
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
                msg, sender=cfg.from_address, recipients=[item.recipient],
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
            raise _classify(exc.code, exc.message, f"sender {cfg.from_address} refused",
                            recipient_stage=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc.code, exc.message, "SMTP server refused the message",
                            recipient_stage=False) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            # only a mailbox whose name is not ASCII needs an extension: no retry will help
            raise PermanentSendError(
                f"cannot write to {item.recipient!r}: SMTP {cfg.host} does not offer SMTPUTF8, "
                "which an address that is not ASCII needs", unreachable=True) from exc
        except aiosmtplib.SMTPTimeoutError as exc:
            raise TemporarySendError(f"SMTP {cfg.host}:{cfg.port} timed out after "
                                     f"{cfg.timeout_s:g} s") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporarySendError(f"SMTP {cfg.host}:{cfg.port} unreachable: "
                                     f"{exc or type(exc).__name__}") from exc
        log.info("sent %s to %s as <%s>", item.purpose, item.recipient, message_id)
        return message_id


def _classify(code: int, message: str, what: str, *,
              recipient_stage: bool = True) -> TemporarySendError | PermanentSendError:
    reason = f"{what}: {code} {' '.join(message.split())}".strip()
    if 400 <= code < 500 or code < 400:
        return TemporarySendError(reason)
    unreachable = recipient_stage and (code in _UNREACHABLE_BASIC
                                       or bool(_UNREACHABLE_ENHANCED.search(message)))
    if not recipient_stage and _UNREACHABLE_ENHANCED.search(message) and code == 550:
        unreachable = True
    return PermanentSendError(reason, unreachable=unreachable)
