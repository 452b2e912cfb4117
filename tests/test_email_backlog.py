"""``domovoy ingest-eml`` and the other email commands: files, folders and mboxes through the
same path as IMAP, one JSON line per message, nothing crashing on bad input."""

from __future__ import annotations

import argparse
import json
import mailbox
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from domovoy import commands
from domovoy.app import App
from domovoy.config import Config
from intake import quarantine
from intake.email.backlog import ROW_KEYS, ingest_files, not_mail_reason
from intake.message import Automated
from tests.conftest import SHARED, make_config, shared_path
from tests.peers.mail import OFFICE
from workflow.clock import ManualClock
from workflow.health import record_health
from workflow.models import Case, OutboxItem

RU_MAIL = ("From: =?utf-8?b?0JzQsNGA0LjRjw==?= <maria@example.ru>\nTo: office@uk.test\n"
           "Subject: =?utf-8?b?0J3QtSDRgNCw0LHQvtGC0LDQtdGCINC70LjRhNGC?=\n"
           "Date: Thu, 15 Jan 2026 10:00:00 +0300\nMessage-ID: <lift-{n}@example.ru>\n"
           "Content-Type: text/plain; charset=utf-8\n\n"
           "Добрый день! В подъезде {n} дома на Ленина, 5 не работает лифт.\n")


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


async def rows(app: App, paths: list[Path], dry_run: bool = False) -> list[dict[str, Any]]:
    return [r async for r in ingest_files(app.intake, paths, dry_run=dry_run,
                                          own_addresses=frozenset({OFFICE}))]


async def test_a_list_copy_arriving_first_does_not_swallow_the_residents_own(
        app: App, tmp_path: Path) -> None:
    """A resident writes to the house's mailing list and copies the office, which is on the
    list too: both copies carry one Message-ID, and the list's may come first."""
    letter = RU_MAIL.format(n=7)
    listed = write(tmp_path / "1-list.eml", "List-Id: <dom5.lists.example>\n" + letter)
    direct = write(tmp_path / "2-direct.eml", letter)
    again = write(tmp_path / "3-list-again.eml", "List-Id: <dom5.lists.example>\n" + letter)
    got = await rows(app, [listed, direct, again])
    assert [r["action"] for r in got] == ["ignored_list", "new_case", "duplicate"]


def test_not_mail_reason() -> None:
    assert not_mail_reason(b"") is not None
    assert not_mail_reason(b"\x89PNG\r\n\x1a\n\x00\x00") is not None
    assert not_mail_reason(b"just some text\nwith lines\n") is not None
    assert not_mail_reason(RU_MAIL.format(n=1).encode()) is None
    assert not_mail_reason(b"From MAILER-DAEMON Thu Jan 1\nSubject: x\n\nbody") is None


async def test_files_folders_and_mboxes(app: App, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.eml", RU_MAIL.format(n=1))
    write(tmp_path / "in" / "sub" / "b.box", "From x@y Thu Jan  1 00:00:00 2026\n"
          + RU_MAIL.format(n=2))
    write(tmp_path / "in" / "notes.txt", "not looked at")
    write(tmp_path / "in" / "photo.eml", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" * 20)
    box = mailbox.mbox(tmp_path / "in" / "old.mbox")
    for n in (3, 4):
        box.add(RU_MAIL.format(n=n).encode())
    box.add(RU_MAIL.format(n=3).encode())  # the same mail twice in an export
    box.close()
    write(tmp_path / "junk.mbox", "no separators here\n")
    got = await rows(app, [tmp_path / "in", tmp_path / "junk.mbox", tmp_path / "missing.eml"])
    assert all(tuple(r) == ROW_KEYS for r in got)
    by_file = {Path(r["file"]).name: r for r in got}
    assert set(by_file) == {"a.eml", "b.box", "photo.eml", "old.mbox#1", "old.mbox#2",
                            "old.mbox#3", "junk.mbox", "missing.eml"}
    a = by_file["a.eml"]
    assert a["action"] == "new_case" and a["case"] == "A-1001"
    assert a["subject"] == "Не работает лифт" and a["sender"] == "maria@example.ru"
    assert a["text"].startswith("Добрый день!") and a["acknowledged"] is True
    assert a["category"] == "elevator" and a["error"] is None
    assert by_file["b.box"]["action"] == "new_case"
    assert [by_file[f"old.mbox#{n}"]["action"] for n in (1, 2, 3)] == \
        ["new_case", "new_case", "duplicate"]
    for bad in ("photo.eml", "junk.mbox", "missing.eml"):
        assert by_file[bad]["action"] == "rejected" and by_file[bad]["error"], bad
    assert "no such file" in by_file["missing.eml"]["error"]
    json.dumps(got, ensure_ascii=False)


async def test_dry_run_keeps_nothing(app: App, tmp_path: Path) -> None:
    f = write(tmp_path / "a.eml", RU_MAIL.format(n=1))
    first = await rows(app, [f], dry_run=True)
    again = await rows(app, [f], dry_run=True)
    assert first[0]["action"] == again[0]["action"] == "new_case"
    async with app.wf.sessions() as s:
        assert await s.scalar(select(func.count(Case.id))) == 0
        assert await s.scalar(select(func.count(OutboxItem.id))) == 0


def _args(paths: list[Path], *, as_json: bool = True, dry_run: bool = False) -> Any:
    return argparse.Namespace(paths=paths, json=as_json, dry_run=dry_run)


def _config(sqlite_url: str) -> Config:
    return make_config(sqlite_url, smtp={"host": "127.0.0.1", "port": 25, "starttls": False,
                                         "from_address": OFFICE})


async def test_cli_json_lines_and_exit_code(sqlite_url: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "a.eml", RU_MAIL.format(n=1))
    assert await commands.ingest_eml(_args([good]), _config(sqlite_url)) == 0
    [line] = capsys.readouterr().out.splitlines()
    row = json.loads(line)
    assert row["action"] == "new_case" and "Не работает лифт" in line  # ensure_ascii=False
    bad = write(tmp_path / "b.eml", "")
    assert await commands.ingest_eml(_args([good, bad]), _config(sqlite_url)) == 1
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["action"] for r in out] == ["duplicate", "rejected"]
    assert await commands.ingest_eml(_args([good], as_json=False), _config(sqlite_url)) == 0
    table = capsys.readouterr().out
    assert "duplicate" in table and "1 message(s): 1 duplicate" in table


INSPECTORATE_NOTICE = (
    "From: ГЖИ Республики <noreply@gzhi.example-region.ru>\nTo: office@uk.test\n"
    "Subject: =?utf-8?b?0JbQsNC70L7QsdCwINC20LjRgtC10LvRjw==?=\n"
    "Date: Thu, 15 Jan 2026 10:00:00 +0300\nMessage-ID: <n-1@gzhi.example-region.ru>\n"
    "Auto-Submitted: auto-generated\nContent-Type: text/plain; charset=utf-8\n\n"
    "Государственная жилищная инспекция направляет для рассмотрения жалобу жителя кв. 12 "
    "дома 5 по ул. Ленина на протечку кровли. Ответ направить в срок до 30.01.2026.\n")


@pytest.mark.parametrize(("domains", "action"), [
    (None, "ignored_autoreply"),  # the built-in list knows no regional inspectorate's domain
    (["gov.ru", "gzhi.example-region.ru"], "manual_review"),
    (["example-region.ru"], "manual_review"),  # a domain covers its subdomains
])
async def test_the_operator_names_the_inspectorates_domain(
        sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        domains: list[str] | None, action: str) -> None:
    """A region's housing inspectorate mails from its own domain: named in
    ``imap.authority_domains``, its notice opens a case for staff; otherwise it is a robot."""
    imap: dict[str, Any] = {"host": "127.0.0.1", "username": OFFICE}
    if domains is not None:
        imap["authority_domains"] = domains
    config = make_config(sqlite_url, imap=imap)
    notice = write(tmp_path / "notice.eml", INSPECTORATE_NOTICE)
    assert await commands.ingest_eml(_args([notice]), config) == 0
    [row] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row["action"] == action


async def test_cli_status_and_requeue(sqlite_url: str, tmp_path: Path, clock: ManualClock,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from domovoy.app import build_app

    config = _config(sqlite_url)
    app = await build_app(config, clock=clock)
    try:
        await record_health(app.wf.sessions, "email.imap", clock.now(),
                            "IMAP server 127.0.0.1:993 refused the connection")
        await quarantine.store(app.wf.sessions, channel="email", source="imap:INBOX:1:7",
                               raw=RU_MAIL.format(n=9).encode(), reason="RuntimeError: boom",
                               now=clock.now())
        await quarantine.store(app.wf.sessions, channel="email", source="imap:INBOX:1:8",
                               raw=b"\x00\x01", reason="binary", now=clock.now())
    finally:
        await app.close()
    assert commands.channels_on(config) == "email (SMTP out only: no mailbox polled)"
    # the mailbox was taken out of the config since: its last error is history, not a fault
    assert await commands.status(config) == 0
    out = capsys.readouterr().out
    assert "email.imap: not configured now (last poll" in out and "refused" not in out
    reading = config.model_copy(update={"imap": make_config(
        sqlite_url, imap={"host": "127.0.0.1", "username": OFFICE}).imap})
    assert await commands.status(reading) == 0
    out = capsys.readouterr().out
    assert "email.imap: FAILING" in out and "refused the connection" in out
    assert "quarantine: 2 message(s) waiting" in out and "outbox: 0 pending" in out
    assert await commands.requeue(config) == 1
    out = capsys.readouterr().out
    assert "imap:INBOX:1:7: new_case A-1001" in out
    assert "imap:INBOX:1:8: still failing (attempt 2)" in out
    assert await commands.status(config) == 0
    out = capsys.readouterr().out
    assert "quarantine: 1 message(s) waiting" in out and "outbox: 2 pending" in out
    assert "pending: email 1, staff 1" in out


# --- the shared corpus -----------------------------------------------------------------------

ACTION_FOR = {Automated.BOUNCE: "bounce", Automated.AUTOREPLY: "ignored_autoreply",
              Automated.OWN: "ignored_autoreply", Automated.LIST: "ignored_list"}


async def test_every_corpus_file_goes_through(app: App) -> None:
    from tests.test_email_corpus import expected_automated

    corpus = shared_path("corpus", "email")
    # Dry run: each message alone, so the action shows the classification, not dedupe.
    got = await rows(app, [corpus], dry_run=True)
    assert len(got) >= 760
    wrong: list[str] = []
    for row in got:
        assert tuple(row) == ROW_KEYS
        json.loads(json.dumps(row, ensure_ascii=False))
        rel = str(Path(row["file"]).relative_to(corpus))
        assert row["action"] != "rejected", (rel, row["error"])
        expected = expected_automated(rel)
        want = ACTION_FOR.get(expected) if expected else None
        if want is not None and row["action"] != want:
            wrong.append(f"{rel}: {row['action']} (want {want})")
        if expected is None and row["action"] in ACTION_FOR.values():
            wrong.append(f"{rel}: {row['action']} (a person wrote it)")
    assert not wrong, "\n".join(wrong)
    sisimai = [r for r in got if "/sisimai/maildir/bsd/" in r["file"]]
    assert sum(r["action"] == "bounce" for r in sisimai) > 400
    # nothing a mail system wrote is answered (a person forwarding a bounce with a word of
    # their own, lhost-sendmail-14, is a person)
    assert all(r["acknowledged"] is False for r in sisimai
               if expected_automated(str(Path(r["file"]).relative_to(corpus))) is not None)


async def test_corpus_committed_import_never_acknowledges_robots(app: App) -> None:
    corpus = shared_path("corpus", "email", "sisimai")
    got = await rows(app, [corpus])
    assert {r["action"] for r in got} <= {"bounce", "ignored_autoreply", "ignored_list",
                                          "duplicate", "new_case", "manual_review", "ignored"}
    robots = [r for r in got if "/maildir/not/" not in r["file"]
              and r["action"] in ("new_case", "manual_review")]
    assert len(robots) <= 2, robots  # the two forwarded-by-a-person exceptions


def test_corpus_location_is_shared() -> None:
    assert SHARED.name == "shared"


async def test_an_mbox_gives_back_body_lines_it_escaped(app: App, tmp_path: Path) -> None:
    # Python's mailbox (like most writers) escapes a body line starting "From " as ">From ".
    box = mailbox.mbox(tmp_path / "old.mbox")
    box.add((RU_MAIL.format(n=1) + "From 12 to 18 I am home\n").encode())
    box.close()
    [row] = await rows(app, [tmp_path / "old.mbox"])
    assert "From 12 to 18 I am home" in row["text"]
