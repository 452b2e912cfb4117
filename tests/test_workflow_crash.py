"""Nothing lost, nothing twice: kill the process at the awkward moments and restart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def step(url: str, log: Path, name: str) -> int:
    proc = subprocess.run([sys.executable, "-m", "tests.crash_worker", url, str(log), name],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 9), proc.stderr
    return proc.returncode


def sent(log: Path) -> list[dict[str, str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_killed_between_commit_and_send_the_ack_goes_out_once(
        sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "sent.jsonl"
    assert step(sqlite_url, log, "ingest") == 9
    assert sent(log) == []
    assert step(sqlite_url, log, "deliver") == 0
    assert step(sqlite_url, log, "deliver") == 0
    assert [s["purpose"] for s in sent(log)] == ["ack"]


def test_killed_between_send_and_record_the_resend_reuses_the_key(
        sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "sent.jsonl"
    step(sqlite_url, log, "ingest")
    assert step(sqlite_url, log, "send-then-die") == 9
    assert step(sqlite_url, log, "deliver") == 0
    assert step(sqlite_url, log, "deliver") == 0
    keys = [s["key"] for s in sent(log)]
    # The one permitted repeat: same idempotency key (hence the same email Message-ID).
    assert len(keys) == 2 and keys[0] == keys[1]
