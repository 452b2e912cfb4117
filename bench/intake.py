"""Messages per second through the intake service (classify + persist + outbox) on SQLite,
beside bare stdlib ``sqlite3`` writing the same rows, in the same run and with the same
durability settings (WAL, synchronous=FULL: a commit survives power loss, which acknowledging
input right after the commit requires). Both sides end their timed run with a checkpoint, so
neither is credited for WAL pages it has not yet written back to the database file.

A third line replays, with bare ``sqlite3``, exactly the statements our intake ran (recorded
from the driver, commit for commit, on a copy of the same database): the floor Domovoy's own
schema, indexes and rows set, with none of its Python. It tells the cost of what we store from
the cost of the code around it.

Both sides run two ways: one transaction per message (``IntakeService.ingest``, what a single
Telegram message gets) and batches of 50 in one transaction (``ingest_many``, what the IMAP
poller does with each fetch). The issue's baseline is the bare one-per-message loop; the
batched bare loop is printed too, so nobody mistakes group commit for faster code.

    .venv/bin/python bench/intake.py [N]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/<name>.py`: Python puts bench/ first on the path, where email.py and
# intake.py would shadow the stdlib and our own packages. Start from the repo root instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import asyncio
import json
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._common import ratio_line, synthetic_texts
from domovoy.app import build_app
from domovoy.config import Config
from intake.message import Channel, InboundMessage, SenderIdentity
from workflow import sqlite_inline
from workflow.clock import SystemClock

BATCH = 50


def baseline(path: Path, texts: list[str], batch: int = 1) -> float:
    """Bare sqlite3: the rows one new case writes (resident, identity, case, message,
    two events, two outbox items, counter), ``batch`` messages per transaction."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.executescript("""
        CREATE TABLE residents(id INTEGER PRIMARY KEY, name TEXT, language TEXT, created_at TEXT);
        CREATE TABLE identities(id INTEGER PRIMARY KEY, resident_id INT, channel TEXT,
            address TEXT, created_at TEXT, UNIQUE(channel, address));
        CREATE TABLE counters(name TEXT PRIMARY KEY, value INT);
        CREATE TABLE cases(id INTEGER PRIMARY KEY, number TEXT UNIQUE, kind TEXT, category TEXT,
            urgency TEXT, scope TEXT, stage TEXT, resident_id INT, text TEXT, explanation TEXT,
            next_deadline TEXT, received_at TEXT);
        CREATE INDEX ix_deadline ON cases(next_deadline);
        CREATE TABLE messages(id INTEGER PRIMARY KEY, case_id INT, channel TEXT,
            external_id TEXT, text TEXT, created_at TEXT, UNIQUE(channel, external_id));
        CREATE TABLE events(id INTEGER PRIMARY KEY, case_id INT, action TEXT, at TEXT);
        CREATE TABLE outbox(id INTEGER PRIMARY KEY, case_id INT, channel TEXT, recipient TEXT,
            payload TEXT, idempotency_key TEXT UNIQUE, state TEXT, created_at TEXT);
        INSERT INTO counters VALUES ('case', 1000);
    """)
    now = datetime.now(UTC).isoformat()
    start = time.perf_counter()
    for i, text in enumerate(texts):
        if i % batch == 0:
            con.execute("BEGIN")
        dup = con.execute("SELECT id FROM messages WHERE channel='telegram' AND external_id=?",
                          (f"{i}:1",)).fetchone()
        assert dup is None
        rid = con.execute("INSERT INTO residents(name, language, created_at) VALUES (?,?,?)",
                          (f"r{i}", "ru", now)).lastrowid
        con.execute("INSERT INTO identities(resident_id, channel, address, created_at) "
                    "VALUES (?,?,?,?)", (rid, "telegram", str(i), now))
        (n,) = con.execute("UPDATE counters SET value=value+1 WHERE name='case' "
                           "RETURNING value").fetchone()
        cid = con.execute("INSERT INTO cases(number, kind, category, urgency, scope, stage, "
                          "resident_id, text, explanation, next_deadline, received_at) "
                          "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                          (f"A-{n}", "request", "plumbing", "normal", "unit", "acknowledged",
                           rid, text, json.dumps({"rules": []}), now, now)).lastrowid
        con.execute("INSERT INTO messages(case_id, channel, external_id, text, created_at) "
                    "VALUES (?,?,?,?,?)", (cid, "telegram", f"{i}:1", text, now))
        con.executemany("INSERT INTO events(case_id, action, at) VALUES (?,?,?)",
                        [(cid, "received", now), (cid, "acknowledged", now)])
        con.executemany("INSERT INTO outbox(case_id, channel, recipient, payload, "
                        "idempotency_key, state, created_at) VALUES (?,?,?,?,?,?,?)",
                        [(cid, "staff", "chat:", json.dumps({"text": text}), f"card:{cid}",
                          "pending", now),
                         (cid, "telegram", str(i), json.dumps({"text": text}), f"ack:{cid}",
                          "pending", now)])
        if i % batch == batch - 1 or i == len(texts) - 1:
            con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the WAL left behind is work owed too
    elapsed = time.perf_counter() - start
    con.close()
    return len(texts) / elapsed


class _Recording(sqlite3.Connection):
    """A connection that keeps every statement it runs and marks each commit, so that what
    the intake asked of SQLite can be replayed without it (see :func:`floor`)."""

    log: list[tuple[str, tuple[Any, ...]] | None] | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.log is not None:
            self.log.append((sql, tuple(parameters)))
        return super().execute(sql, parameters)

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        conn = self

        class Cursor(sqlite3.Cursor):
            def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
                if conn.log is not None:
                    conn.log.append((sql, tuple(parameters)))
                return super().execute(sql, parameters)

        return super().cursor(Cursor)

    def commit(self) -> None:
        if self.log is not None:
            self.log.append(None)
        super().commit()


def floor(schema: Path, path: Path, log: list[tuple[str, tuple[Any, ...]] | None],
          messages: int) -> float:
    """Bare sqlite3 running exactly the statements the intake ran, commit for commit, on a
    copy of the same schema with the same durability: what Domovoy's rows and indexes cost
    SQLite itself, with none of our Python around them."""
    shutil.copy(schema, path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA foreign_keys=ON")
    start = time.perf_counter()
    for entry in log:
        if entry is None:
            con.commit()
        else:
            con.execute(*entry)
    con.commit()
    con.execute("PRAGMA wal_checkpoint(PASSIVE)")
    elapsed = time.perf_counter() - start
    con.close()
    return messages / elapsed


async def ours(path: Path, texts: list[str], batch: int = 1,
               log: list[tuple[str, tuple[Any, ...]] | None] | None = None) -> float:
    """Domovoy's intake; ``log``: the statements of the timed part are appended to it."""
    config = Config.model_validate({"database": {"url": f"sqlite+aiosqlite:///{path}"},
                                    "buildings": [{"code": "b1"}]})
    driver = sqlite_inline._module  # what SQLAlchemy's dialect connects through
    real_connect = driver.connect
    driver.connect = lambda *a, **kw: real_connect(*a, factory=_Recording, **kw)
    try:
        return await _ours(path, config, texts, batch, log)
    finally:
        driver.connect = real_connect


async def _ours(path: Path, config: Config, texts: list[str], batch: int,
                log: list[tuple[str, tuple[Any, ...]] | None] | None) -> float:
    app = await build_app(config, clock=SystemClock())
    now = app.wf.clock.now()
    msgs = [InboundMessage(channel=Channel.TELEGRAM, external_id=f"{i}:1",
                           sender=SenderIdentity(Channel.TELEGRAM, str(i), f"r{i}", "ru"),
                           text=t, received_at=now, building_code="b1")
            for i, t in enumerate(texts)]
    await app.intake.ingest(msgs[0])  # warm-up: caches, prepared statements
    if log is not None:  # the database as the timed part finds it, WAL included
        with sqlite3.connect(path) as src, sqlite3.connect(path.with_suffix(".schema")) as dst:
            src.backup(dst)
    _Recording.log = log
    start = time.perf_counter()
    if batch == 1:
        for m in msgs[1:]:
            await app.intake.ingest(m)
    else:
        for i in range(1, len(msgs), batch):
            results = await app.intake.ingest_many(msgs[i:i + batch])
            assert not any(isinstance(r, Exception) for r in results)
    async with app.engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    elapsed = time.perf_counter() - start
    _Recording.log = None
    await app.close()
    return (len(msgs) - 1) / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    texts = synthetic_texts(n)
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(Path(tmp) / "bare.sqlite3", texts)
        base_batched = baseline(Path(tmp) / "bare-batched.sqlite3", texts, BATCH)
        log: list[tuple[str, tuple[Any, ...]] | None] = []
        single = asyncio.run(ours(Path(tmp) / "domovoy.sqlite3", texts, log=log))
        own = floor(Path(tmp) / "domovoy.schema", Path(tmp) / "replay.sqlite3", log, n - 1)
        batched = asyncio.run(ours(Path(tmp) / "domovoy-batched.sqlite3", texts, BATCH))
    print(f"intake benchmark, {n} new cases, SQLite WAL, synchronous=FULL")
    print(f"  bare sqlite3, one transaction per message (the baseline): {base:,.0f} msg/s")
    print(f"  bare sqlite3, {BATCH} messages per transaction: {base_batched:,.0f} msg/s")
    print("  " + ratio_line("bare sqlite3 replaying Domovoy's own statements, one commit per "
                            "message (its schema and indexes, none of its Python)", own, base))
    print("  " + ratio_line("domovoy, one transaction per message (ingest)", single, base))
    print(f"    of its own statements replayed bare: {single / own:.0%}")
    print("  " + ratio_line(f"domovoy, {BATCH} per transaction (ingest_many, as IMAP)",
                            batched, base))
    for name, mine in (("one per message", single), (f"{BATCH} per transaction", batched)):
        met = mine >= 1000 and mine >= 0.5 * base
        print(f"  target >= 1,000 msg/s and >= 50% of the baseline, {name}: "
              f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
