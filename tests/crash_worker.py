"""A separate process for the crash tests: it is killed on purpose at a chosen point.

Usage: python -m tests.crash_worker DB_URL SENT_LOG STEP
  ingest          ingest one message, commit, then die before the outbox runs
  send-then-die   deliver: the sender writes to SENT_LOG, then the process dies before
                  the outbox records the send
  deliver         deliver normally (the restart)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from domovoy.app import build_app
from tests.conftest import make_config
from tests.helpers import mail
from workflow.clock import ManualClock
from workflow.outbox import Outgoing


class LoggingSender:
    def __init__(self, log: Path, die_after_send: bool) -> None:
        self.log = log
        self.die = die_after_send

    async def send(self, item: Outgoing) -> str:
        with self.log.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"key": item.idempotency_key, "purpose": item.purpose}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self.die:
            os._exit(9)  # the narrow window: sent, not yet recorded
        return f"<{item.idempotency_key}@test>"


async def main(url: str, log: Path, step: str) -> None:
    app = await build_app(make_config(url), clock=ManualClock())
    sender = LoggingSender(log, die_after_send=step == "send-then-die")
    app.register_sender("email", sender)
    if step == "ingest":
        await app.intake.ingest(mail("crash@example.org", "Течёт батарея в комнате",
                                     app.wf.clock.now(), message_id="crash-1@example.org"))
        os._exit(9)  # committed; the acknowledgement was never sent
    await app.outbox.deliver_due()
    await app.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
