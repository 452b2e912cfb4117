"""Small builders shared by the workflow tests."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from intake.message import Automated, Channel, InboundMessage, PresetLabels, SenderIdentity

_ids = itertools.count(1)


def tg_message(user: int, text: str, now: datetime, *, building: str | None = "lenina-5",
               apartment: str | None = "12", preset: PresetLabels | None = None,
               hints: tuple[str, ...] = (), burst: str | None = None,
               lang: str = "ru") -> InboundMessage:
    return InboundMessage(
        channel=Channel.TELEGRAM, external_id=f"{user}:{next(_ids)}",
        sender=SenderIdentity(Channel.TELEGRAM, str(user), f"Житель {user}", lang),
        text=text, received_at=now, building_code=building, apartment=apartment,
        preset=preset, thread_hints=hints, burst_key=burst,
    )


def mail(sender: str | None, text: str, now: datetime, *, subject: str = "Обращение",
         message_id: str | None = None, hints: tuple[str, ...] = (),
         automated: Automated | None = None, bounced: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel=Channel.EMAIL, external_id=message_id or f"m{next(_ids)}@resident.example",
        sender=SenderIdentity(Channel.EMAIL, sender, None) if sender else None,
        subject=subject, text=text, received_at=now, thread_hints=hints,
        automated=automated, bounced_recipient=bounced,
    )


LEAK = PresetLabels(kind="request", category="plumbing", urgency="normal", scope="unit")
OUTAGE = PresetLabels(kind="complaint", category="electrical", urgency="high", scope="building")


ROOT = Path(__file__).resolve().parents[1]


def cli(cwd: Path, *args: str, db: Path | str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point, run from a scratch folder so nothing lands in the checkout
    (relative SQLite paths land there); the caller's DOMOVOY_* settings are left out."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOMOVOY_")}
    environ["PYTHONPATH"] = str(ROOT)
    if db is not None:
        environ["DOMOVOY_DATABASE_URL"] = (db if isinstance(db, str)
                                           else f"sqlite+aiosqlite:///{db}")
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "domovoy", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)


def refused(out: subprocess.CompletedProcess[str], code: int, *words: str,
            one_line: bool = False) -> None:
    """An operator's mistake: exit ``code``, no traceback, ``words`` on stderr (and nothing
    but one line there, with ``one_line``)."""
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr, out.stderr
    if one_line:
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    for word in words:
        assert word in out.stderr, out.stderr
