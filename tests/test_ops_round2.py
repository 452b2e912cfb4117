"""Operations, second round: what an operator and the staff notice.

- a mistyped database path no longer passes for an office without cases;
- a case held for office hours keeps its place in the staff's /open list;
- ``status`` and ``report`` read right on a real database.
"""

from __future__ import annotations

import email.utils
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from domovoy import commands
from domovoy.app import App, build_app
from tests.conftest import make_config
from tests.helpers import LEAK, ROOT, cli, mail, refused, tg_message
from tests.peers.telegram import STAFF_CHAT, STAFF_IDS, TelegramHarness
from workflow.clock import ManualClock
from workflow.models import Case, Staff
from workflow.outbox import Outgoing, PermanentSendError


def config_with_db(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "domovoy.yaml"
    path.write_text(f"database:\n  url: '{url}'\n", encoding="utf-8")
    return path


MAIL = (b"From: a@example.org\r\nTo: office@example.org\r\nSubject: Lift\r\n"
        b"Message-ID: <round2@example.org>\r\nDate: Thu, 15 Jan 2026 09:00:00 +0000\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + "Прошу починить лифт, не работает.\r\n".encode())


# --- 1. a mistyped database path -----------------------------------------------------------

READING_COMMANDS = [
    ["status"],
    ["report"],
    ["requeue"],
    ["classify", "--misfires"],
    ["classify", "--correct", "A-1000", "category=heating"],
    ["classify", "--train", "labelled.jsonl", "--with-corrections"],
]


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_a_mistyped_sqlite_path_is_refused_not_created(tmp_path: Path,
                                                       command: list[str]) -> None:
    """The office's database is var/domovoy.sqlite3; the config says var/domovy.sqlite3.
    Each of these created and migrated an empty file there and reported no cases, no
    quarantine, no corrections: the operator believed the office had none."""
    (tmp_path / "var").mkdir()
    real = tmp_path / "var" / "domovoy.sqlite3"
    ingest = cli(tmp_path, "--config", str(config_with_db(
        tmp_path, "sqlite+aiosqlite:///var/domovoy.sqlite3")), "ingest-eml",
        str(_mail_file(tmp_path)))
    assert ingest.returncode == 0, ingest.stderr
    (tmp_path / "labelled.jsonl").write_text(
        json.dumps({"text": "течёт кран", "kind": "request", "category": "plumbing",
                    "scope": "unit", "urgency": "normal"}) + "\n", "utf-8")
    typo = config_with_db(tmp_path, "sqlite+aiosqlite:///var/domovy.sqlite3")
    out = cli(tmp_path, "--config", str(typo), *command)
    refused(out, 2, f"domovoy {command[0]}: no database at "
                     f"{tmp_path / 'var' / 'domovy.sqlite3'}", "database.url",
                     "domovoy db upgrade", one_line=True)
    assert out.stdout == ""
    assert sorted(p.name for p in (tmp_path / "var").iterdir() if "domovy." in p.name) == []
    assert real.exists()


def _mail_file(tmp_path: Path) -> Path:
    eml = tmp_path / "m.eml"
    eml.write_bytes(MAIL)
    return eml


def test_a_missing_folder_is_named_and_not_created(tmp_path: Path) -> None:
    """A path whose folder does not exist either: one line saying so, and no folder made."""
    out = cli(tmp_path, "report",
              env={"DOMOVOY_DATABASE_URL": "sqlite+aiosqlite:///data/office.sqlite3"})
    refused(out, 2, f"no database at {tmp_path / 'data' / 'office.sqlite3'}",
                     f"nor the folder {tmp_path / 'data'}",
                     "database.url, set by DOMOVOY_DATABASE_URL", "domovoy db upgrade",
                     one_line=True)
    assert not (tmp_path / "data").exists()


def test_a_dry_run_with_no_database_tries_the_mail_in_a_scratch_one(tmp_path: Path) -> None:
    """On a fresh machine with no config, ``ingest-eml --dry-run`` was refused ("no
    database"); before that it left a new database behind although it keeps nothing. It now
    says so and tries the mail against an empty database in a temporary folder."""
    out = cli(tmp_path, "ingest-eml", "--json", "--dry-run", str(_mail_file(tmp_path)))
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert (row["action"], row["category"]) == ("new_case", "elevator")
    assert "no database at" in out.stderr and "kept nowhere" in out.stderr
    assert not (tmp_path / "var").exists()


def test_a_folder_for_a_database_file_is_named(tmp_path: Path) -> None:
    """``database.url: sqlite:///var`` (the file name left off): SQLite says only "unable to
    open database file"."""
    (tmp_path / "var").mkdir()
    for command in (["status"], ["db", "upgrade"]):
        out = cli(tmp_path, *command, env={"DOMOVOY_DATABASE_URL": "sqlite+aiosqlite:///var"})
        refused(out, 1, f"{tmp_path / 'var'} is a folder, where a database file was "
                                 "expected", one_line=True)


def test_an_empty_file_is_no_database_either(tmp_path: Path) -> None:
    (tmp_path / "office.sqlite3").touch()
    out = cli(tmp_path, "status",
              env={"DOMOVOY_DATABASE_URL": "sqlite+aiosqlite:///office.sqlite3"})
    refused(out, 2, f"no Domovoy database at {tmp_path / 'office.sqlite3'}",
                     "domovoy db upgrade", one_line=True)


def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """``status`` pointed at another program's SQLite file refused it, but only after opening
    it through the engine, whose connect hook switched the file's journal to WAL for good."""
    other = tmp_path / "inventory.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE items (name TEXT)")
    out = cli(tmp_path, "status", env={"DOMOVOY_DATABASE_URL": f"sqlite+aiosqlite:///{other}"})
    refused(out, 2, f"no Domovoy database at {other}", one_line=True)
    with sqlite3.connect(other) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not other.with_name("inventory.db-wal").exists()


def test_a_postgresql_database_never_set_up_is_refused(tmp_path: Path, pg_url: str) -> None:
    """The server has the database (created by hand, or another program's), but Domovoy
    never upgraded it: ``report`` created the tables and reported nothing."""
    url = pg_url.replace("postgres@", "postgres:hunter2@")  # trust auth ignores it
    out = cli(tmp_path, "report", env={"DOMOVOY_DATABASE_URL": url})
    refused(out, 2, "no Domovoy database at postgresql+asyncpg://postgres:***@",
                     "domovoy db upgrade", one_line=True)
    assert "hunter2" not in out.stderr
    upgraded = cli(tmp_path, "db", "upgrade", env={"DOMOVOY_DATABASE_URL": url})
    assert upgraded.returncode == 0, upgraded.stderr
    assert "is up to date" in upgraded.stdout
    assert "hunter2" not in upgraded.stdout  # it printed the URL with its password
    assert cli(tmp_path, "report", env={"DOMOVOY_DATABASE_URL": url}).returncode == 0


def test_db_upgrade_and_ingest_still_start_a_new_office_and_say_so(tmp_path: Path) -> None:
    url = {"DOMOVOY_DATABASE_URL": "sqlite+aiosqlite:///var/new.sqlite3"}
    created = cli(tmp_path, "db", "upgrade", env=url)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"created a new database at {tmp_path / 'var/new.sqlite3'}"
    again = cli(tmp_path, "db", "upgrade", env=url)
    assert "is up to date" in again.stdout
    status = cli(tmp_path, "status", env=url)
    assert status.returncode == 0, status.stderr
    assert "quarantine: 0" in status.stdout

    other = {"DOMOVOY_DATABASE_URL": "sqlite+aiosqlite:///mail/office.sqlite3"}
    ingest = cli(tmp_path, "ingest-eml", str(_mail_file(tmp_path)), env=other)
    assert ingest.returncode == 0, ingest.stderr
    assert "new_case" in ingest.stdout
    assert (f"no database at {tmp_path / 'mail/office.sqlite3'} yet (database.url, set by "
            "DOMOVOY_DATABASE_URL): creating a new one") in ingest.stderr
    again_ingest = cli(tmp_path, "ingest-eml", str(_mail_file(tmp_path)), env=other)
    assert "creating" not in again_ingest.stderr


def test_check_config_says_where_the_database_is_and_whether_it_is_there(
        tmp_path: Path) -> None:
    """The typo shows before ``run`` starts a new office's database at it."""
    typo = cli(tmp_path, "--config", str(config_with_db(
        tmp_path, "sqlite+aiosqlite:///var/domovy.sqlite3")), "check-config")
    assert typo.returncode == 0, typo.stderr
    assert (f"database: {tmp_path / 'var/domovy.sqlite3'} (no such file yet: `domovoy run` "
            "or `domovoy db upgrade` would create a new database there)") in typo.stdout
    assert not (tmp_path / "var").exists()
    server = cli(tmp_path, "check-config",
                 env={"DOMOVOY_DATABASE_URL": "postgresql://office:hunter2@db.local/office"})
    assert "database: postgresql+asyncpg://office:***@db.local/office" in server.stdout


def test_run_still_creates_the_database_of_a_new_office(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOMOVOY_")}
    environ.update(PYTHONPATH=str(ROOT), DOMOVOY_DATABASE_URL="sqlite+aiosqlite:///var/d.sqlite3")
    proc = subprocess.Popen([sys.executable, "-m", "domovoy", "run"], cwd=tmp_path, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        # its log says when it runs (and stops on SIGTERM); before that SIGTERM kills it
        while not any("domovoy running" in line for line in seen):
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    finally:
        proc.kill()
    stderr = "".join(seen) + rest
    assert (tmp_path / "var" / "d.sqlite3").exists(), stderr
    assert proc.returncode == 0, stderr
    assert f"no database at {tmp_path / 'var/d.sqlite3'} yet" in stderr
    assert "Traceback" not in stderr


# --- 2. a case held for office hours keeps its place in /open --------------------------------

OPENING_TUESDAY = datetime(2026, 1, 20, 6, 0, tzinfo=UTC)  # 09:00 Moscow; Monday is a holiday


@pytest.fixture
def clock() -> ManualClock:
    """Friday 16 January 2026, 20:00 in Moscow: the office (09:00–18:00) has closed."""
    return ManualClock(datetime(2026, 1, 16, 17, 0, tzinfo=UTC))


@pytest.fixture
async def app(sqlite_url: str, clock: ManualClock) -> AsyncIterator[App]:
    """The application of an office with hours, for the bot harness (``make_telegram``)."""
    application = await build_app(make_config(sqlite_url, sla={
        "office_hours": "09:00-18:00", "holidays": ["2026-01-19"]}), clock=clock)
    yield application
    await application.close()


async def open_list(h: TelegramHarness) -> list[str]:
    """The case numbers of the staff chat's /open list, top first."""
    h.emu.user_sends(STAFF_IDS["ivan"], "/open", chat_id=STAFF_CHAT)
    await h.settle()
    text = h.texts_to(STAFF_CHAT)[-1]
    return [line.split(" · ")[0].removeprefix("• ") for line in text.splitlines()
            if line.startswith("• ")]


async def test_the_most_overdue_case_stays_on_top_of_the_open_list(
        telegram: TelegramHarness, clock: ManualClock) -> None:
    """A leak reported on Friday evening is overdue from Saturday 20:00; nobody is pinged
    until the office opens on Tuesday. Holding it set its next deadline to Tuesday 09:00, and
    /open, which sorted by that, put a case not due until Tuesday 08:00 above it; once the
    managers had been told (the last level), it had no next deadline at all and fell to the
    bottom of the list, below cases that were not even late, and off it past thirty."""
    app = telegram.app
    friday = await app.intake.ingest(tg_message(830, "Течёт кран", clock.now(), preset=LEAK))
    clock.advance(timedelta(hours=24, minutes=1))  # Saturday 20:01: late, held till Tuesday
    assert (await app.escalator.run_pass()).held == 1
    clock.set(datetime(2026, 1, 19, 5, 0, tzinfo=UTC))  # Monday (a holiday) 08:00
    monday_8 = await app.intake.ingest(tg_message(831, "Течёт труба", clock.now(), preset=LEAK))
    clock.advance(timedelta(hours=2))
    monday_10 = await app.intake.ingest(tg_message(832, "Течёт батарея", clock.now(),
                                                   preset=LEAK))
    by_due = [friday.case_number, monday_8.case_number, monday_10.case_number]
    async with app.wf.sessions() as s:
        held = await s.scalar(select(Case).where(Case.number == friday.case_number))
    assert held is not None and held.next_deadline == OPENING_TUESDAY  # as before
    assert await open_list(telegram) == by_due
    # and the line says when the case was really due, not when the office opens
    top = next(line for line in telegram.texts_to(STAFF_CHAT)[-1].splitlines()
               if line.startswith(f"• {friday.case_number} "))
    assert top.endswith(f"ответить до {app.wf.renderer.when(held.respond_due)}"), top

    clock.set(OPENING_TUESDAY + timedelta(minutes=1))  # the head hears of the first two
    assert (await app.escalator.run_pass()).escalated == 2
    clock.advance(timedelta(hours=4, minutes=1))  # then the managers; the third is late now
    assert (await app.escalator.run_pass()).escalated == 3
    assert await open_list(telegram) == by_due


async def test_the_real_due_moment_reads_the_same_in_python_and_in_sql(
        any_app: App, clock: ManualClock) -> None:
    """``Case.due`` on SQLite and PostgreSQL: the answer deadline until staff answer, then the
    fix deadline; none while the case waits on the resident, nor once it is resolved."""
    app = any_app
    numbers = [str((await app.intake.ingest(tg_message(840 + n, "Течёт кран", clock.now(),
                                                       preset=LEAK))).case_number)
               for n in range(4)]
    waiting, taken, unanswered, resolved = numbers
    clock.advance(timedelta(minutes=5))
    await app.cases.act(taken, 1001, "take")
    await app.cases.act(waiting, 1001, "need_info", "Какой этаж?")
    await app.cases.act(resolved, 1001, "resolve")
    async with app.wf.sessions() as s:
        cases = {c.number: c for c in await s.scalars(select(Case))}
        in_sql = {n: d for n, d in (await s.execute(select(Case.number, Case.due))).all()}
    assert {n: c.due for n, c in cases.items()} == in_sql == {
        unanswered: cases[unanswered].respond_due, taken: cases[taken].resolve_due,
        waiting: None, resolved: None}
    assert cases[unanswered].respond_due is not None and cases[taken].resolve_due is not None


# --- 3. status and report as an office manager reads them ----------------------------------


class Refusing:
    """A mail server that refuses every recipient for good."""

    async def send(self, item: Outgoing) -> str:
        raise PermanentSendError("550 5.1.1 mailbox unavailable")


async def test_status_accounts_for_every_message_and_says_why_in_office_time(
        app: App, sqlite_url: str, clock: ManualClock,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An office running without Telegram, and without SMTP at first. ``status`` left the
    staff notices it had dropped (no staff chat) out of its counts, so the outbox did not add
    up; said "no sender for channel 'email'"; gave every time in UTC beside a report in
    Moscow time; and of a message given up on said only "1 failed"."""
    await app.intake.ingest(mail("resident@example.org", "Течёт кран на кухне", clock.now(),
                                 subject="Течь"))
    await app.outbox.deliver_due()  # nothing to send either with
    config = make_config(sqlite_url)
    capsys.readouterr()
    assert await commands.status(config) == 0
    out = capsys.readouterr().out
    outbox = next(line for line in out.splitlines() if line.startswith("outbox:"))
    skipped = int(outbox.split(", ")[-1].split()[0])
    assert skipped >= 1 and outbox.endswith("skipped (no staff chat configured)")
    # Friday 17:00:05 UTC, the first retry five seconds on, is 20:00:05 in Moscow
    assert ("email retrying (next try 2026-01-16 20:00:05 MSK): no email channel is "
            "configured to send it") in out

    app.register_sender("email", Refusing())
    clock.advance(timedelta(minutes=1))
    await app.outbox.deliver_due()
    assert await commands.status(config) == 0
    out = capsys.readouterr().out
    assert "outbox: 0 pending, 1 failed" in out
    assert "email given up, the last: 550 5.1.1 mailbox unavailable" in out


async def test_commands_run_without_the_config_leave_the_staff_alone(
        tmp_path: Path, clock: ManualClock) -> None:
    """A manager runs ``domovoy report`` on the office's database without ``--config``. Each
    command mirrored the config's organisation into the database, the defaults' none
    included: every staff member was marked inactive, and the running bot then refused them
    all ("you are not staff") and escalated to no one until it was restarted. ``status`` and
    ``report`` no longer write the organisation; the others leave the staff alone when the
    config names none."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    running = await build_app(make_config(url), clock=clock)  # `domovoy run`, already up
    try:
        opened = await running.intake.ingest(tg_message(850, "Течёт кран", clock.now(),
                                                        preset=LEAK))
        for command in (["status"], ["report"], ["requeue"], ["classify", "--misfires"]):
            out = cli(tmp_path, *command, env={"DOMOVOY_DATABASE_URL": url})
            assert out.returncode == 0, out.stderr
        taken = await running.cases.act(str(opened.case_number), 1001, "take")
        assert taken.case_number == opened.case_number
        async with running.wf.sessions() as s:
            assert all(await s.scalars(select(Staff.active)))
    finally:
        await running.close()


async def test_status_counts_acknowledgements_that_came_too_late_to_send(
        app: App, sqlite_url: str, clock: ManualClock,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Mail taken in three days before SMTP came: its acknowledgement is not sent, and
    ``status`` says so instead of leaving the outbox's numbers short of what the cases queued."""
    await app.intake.ingest(mail("resident@example.org", "Течёт кран на кухне", clock.now(),
                                 subject="Течь"))
    clock.advance(timedelta(hours=73))
    await app.outbox.deliver_due()
    capsys.readouterr()
    assert await commands.status(make_config(sqlite_url)) == 0
    outbox = next(line for line in capsys.readouterr().out.splitlines()
                  if line.startswith("outbox:"))
    assert outbox.startswith("outbox: 0 pending, 0 failed, 0 sent")
    assert outbox.endswith(", 1 expired (acknowledgements too late to send)")


def test_a_report_to_now_counts_this_mornings_cases(tmp_path: Path) -> None:
    """A manager asking at noon: the report of whole days ends at midnight, so the cases of
    the morning were in no report until tomorrow's; ``--to-now`` runs the period up to now."""
    url = {"DOMOVOY_DATABASE_URL": "sqlite+aiosqlite:///var/office.sqlite3"}
    eml = tmp_path / "today.eml"
    eml.write_bytes(MAIL.replace(b"Thu, 15 Jan 2026 09:00:00 +0000",
                                 email.utils.formatdate().encode()))
    ingested = cli(tmp_path, "ingest-eml", str(eml), env=url)
    assert ingested.returncode == 0, ingested.stderr
    whole_days = cli(tmp_path, "report", "--days", "1", env=url)
    to_now = cli(tmp_path, "report", "--days", "1", "--to-now", env=url)
    assert whole_days.returncode == to_now.returncode == 0, to_now.stderr
    assert "Поступило обращений: 0" in whole_days.stdout
    assert "Поступило обращений: 1" in to_now.stdout
