"""The email channel as ``domovoy run`` sees it: an IMAP poller in, an SMTP sender out.

Either half may be configured alone: SMTP without IMAP still lets the office answer by email
(cases opened by ``ingest-eml`` or another channel), IMAP without SMTP still records mail.
"""

from __future__ import annotations

import asyncio

from intake.email.imap import ImapPoller
from intake.email.smtp import SmtpSender
from intake.email_settings import ImapConfig, SmtpConfig
from workflow.context import Workflow
from workflow.intake import IntakeService
from workflow.outbox import Sender


class EmailChannel:
    def __init__(self, imap: ImapConfig | None, smtp: SmtpConfig | None, intake: IntakeService,
                 wf: Workflow, *, own_addresses: frozenset[str], mail_domain: str) -> None:
        self.imap_config = imap
        self.smtp_config = smtp
        self.own_addresses = own_addresses
        self.mail_domain = mail_domain
        self.sender: Sender | None = (
            SmtpSender(smtp, mail_domain, clock=wf.clock) if smtp is not None else None)
        # Mail from our own address is recognised by the parser as OWN and never answered.
        self.poller: ImapPoller | None = (
            ImapPoller(imap, intake, wf, own_addresses=own_addresses)
            if imap is not None else None)
        self._closed = asyncio.Event()

    async def run(self) -> None:
        """Run the IMAP loop; with no IMAP configured, wait until closed (the runner treats
        a finished channel task as a failure)."""
        if self.poller is None:
            await self._closed.wait()
            return
        await self.poller.run()

    async def close(self) -> None:
        self._closed.set()
        if self.poller is not None:
            await self.poller.close()
