"""``domovoy`` misused the way a tired operator misuses it: every mistake is one readable line
on stderr and a non-zero exit, never a traceback, never a silent success."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from domovoy.config import load_config
from tests.helpers import ROOT, cli, refused
from workflow.db import upgrade_sync


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "domovoy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- config --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "words"), [
    ("office_name: a\noffice_name: b\n", ("line 2", "'office_name' appears twice",
                                          "first on line 1")),
    ("buildings:\n  - code: a\n    address: x\n    code: b\n", ("line 4", "'code' appears twice")),
    ("timezone: Mars/Olympus\n", ("line 1", "timezone: unknown time zone 'Mars/Olympus'")),
    ("database:\n  url: nonsense\n", ("line 2", "database.url: not a database URL")),
    ("database:\n  url: 'mysql://u:hunter2@h/db'\n", ("database.url: unsupported database",)),
    ("database:\n  url: 'foo+bar://h/db'\n", ("database.url: unsupported database 'foo'",)),
    ("database:\n  url: 'postgresql+psycopg://h/db'\n",
     ("database.url: driver 'psycopg' is not supported", "postgresql+asyncpg://")),
])
def test_check_config_refuses_what_used_to_pass_and_crash_later(
        tmp_path: Path, text: str, words: tuple[str, ...]) -> None:
    """Each of these passed check-config; the database URLs and the zone then crashed every
    command with a traceback, and a duplicate key silently replaced the first."""
    out = cli(tmp_path, "--config", str(config_file(tmp_path, text)), "check-config")
    refused(out, 2, "domovoy.yaml", *words)
    assert "hunter2" not in out.stderr


@pytest.mark.parametrize("value", ["", "  ", "sqlite"])
def test_a_bad_database_url_from_the_environment_names_the_variable(
        tmp_path: Path, value: str) -> None:
    out = cli(tmp_path, "status", env={"DOMOVOY_DATABASE_URL": value})
    refused(out, 2, "set by DOMOVOY_DATABASE_URL: database.url:")


def test_a_url_naming_no_driver_gets_ours() -> None:
    """``postgresql://`` is how every other tool writes it; it used to crash on psycopg."""
    config = load_config(None, env={"DOMOVOY_DATABASE_URL": "postgresql://u:pw@db.local/x"})
    assert config.database.url == "postgresql+asyncpg://u:pw@db.local/x"
    assert load_config(None, env={"DOMOVOY_DATABASE_URL": "sqlite:///var/x.sqlite3"}
                       ).database.url == "sqlite+aiosqlite:///var/x.sqlite3"


# --- a database that cannot be used --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_postgresql_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    out = cli(tmp_path, "status",
              db=f"postgresql+asyncpg://postgres:hunter2@127.0.0.1:{free_port()}/x")
    refused(out, 1, "domovoy status: cannot open the database postgresql+asyncpg://postgres:***@",
            "nothing answers")
    assert "hunter2" not in out.stderr


def test_a_database_name_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    out = cli(tmp_path, "report", db="postgresql+asyncpg://postgres@127.0.0.1:5432/"
                                     "domovoy_no_such_db_a8f3")
    refused(out, 1, 'database "domovoy_no_such_db_a8f3" does not exist')


def test_a_file_that_is_no_database_is_one_line_and_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n", "utf-8")
    out = cli(tmp_path, "requeue", db=notes)
    refused(out, 1, "domovoy requeue: cannot open the database", "file is not a database")
    assert notes.read_text("utf-8") == "shopping list\n"


def test_a_sqlite_path_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("", "utf-8")
    out = cli(tmp_path, "db", "upgrade", db=tmp_path / "var" / "d.sqlite3")
    refused(out, 1, "domovoy db: cannot open the database",
            f"{tmp_path / 'var'} is a file, where a folder was expected")


def test_a_database_from_a_newer_domovoy_says_so(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    upgrade_sync(f"sqlite+aiosqlite:///{db}")
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    for command in (["status"], ["db", "upgrade"]):
        refused(cli(tmp_path, *command, db=db), 1, "at migration 0999, newer than this")


def test_an_old_database_is_upgraded_by_the_command_that_opens_it(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    upgrade_sync(f"sqlite+aiosqlite:///{db}", "0005")
    out = cli(tmp_path, "status", db=db)
    assert out.returncode == 0, out.stderr
    assert "quarantine: 0" in out.stdout


# --- report --------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "words"), [
    ("0", "expected 1 to 36600 days, got 0"),
    ("-7", "expected 1 to 36600 days, got -7"),
    ("1000000", "expected 1 to 36600 days, got 1000000"),  # crashed: a date before year 1
    ("week", "expected a whole number of days, got 'week'"),
])
def test_report_refuses_a_period_that_is_no_period(tmp_path: Path, days: str, words: str) -> None:
    """``--days 0`` and ``--days -7`` printed a report ending before it began, exit 0."""
    refused(cli(tmp_path, "report", "--days", days, db=tmp_path / "d.sqlite3"), 2,
            "--days", words)


# --- classify ------------------------------------------------------------------------------


def mailed_case(tmp_path: Path, db: Path) -> str:
    eml = tmp_path / "m.eml"
    eml.write_bytes(b"From: a@example.org\r\nTo: office@example.org\r\nSubject: Lift\r\n"
                    b"Message-ID: <ops1@example.org>\r\nDate: Thu, 15 Jan 2026 09:00:00 +0000\r\n"
                    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                    + "Прошу починить лифт, не работает.\r\n".encode())
    out = cli(tmp_path, "ingest-eml", "--json", str(eml), db=db)
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout.splitlines()[0])["case"])


def test_correct_refuses_unknown_cases_labels_and_axes(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    case = mailed_case(tmp_path, db)
    refused(cli(tmp_path, "classify", "--correct", "A-9999", "category=heating", db=db), 2,
            "no case 'A-9999'")
    refused(cli(tmp_path, "classify", "--correct", case, "category=boiler", db=db), 2,
            "unknown category 'boiler'", "heating")
    refused(cli(tmp_path, "classify", "--correct", case, "colour=red", db=db), 2,
            "unknown axis 'colour'")
    refused(cli(tmp_path, "classify", "--correct", case, db=db), 2,
            "give the corrected labels as axis=value")
    misfires = cli(tmp_path, "classify", "--misfires", db=db)
    assert "no staff corrections recorded yet" in misfires.stdout  # nothing half-recorded


@pytest.mark.parametrize(("lines", "extra", "words"), [
    ('{"text": "течёт кран", "subject": 5}\n', [], ":1: the subject must be a string"),
    ("", [], "no JSON lines in it"),
    ("\n\n", ["--eval"], "no JSON lines in it"),
    ('{"text": "течёт кран", "kind": "request"}\n', ["--eval"],
     ":1: no gold category, urgency, scope label"),
])
def test_classify_jsonl_refuses_what_it_cannot_read(
        tmp_path: Path, lines: str, extra: list[str], words: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(lines, "utf-8")
    refused(cli(tmp_path, "classify", "--jsonl", str(path), *extra), 2, str(path), words)


def test_classify_options_that_need_another_are_not_ignored(tmp_path: Path) -> None:
    """``--eval`` without ``--jsonl`` classified the word "text" and said nothing."""
    refused(cli(tmp_path, "classify", "--eval", "text"), 2, "--eval needs --jsonl")
    refused(cli(tmp_path, "classify", "--model-out", "m.json", "text"), 2,
            "--model-out needs --train")
    assert not (tmp_path / "m.json").exists()


def test_unquoted_words_are_one_message(tmp_path: Path) -> None:
    """``classify Пахнет газом в подъезде`` classified "Пахнет" alone."""
    out = cli(tmp_path, "classify", "Пахнет", "газом", "в", "подъезде")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["urgency"] == "emergency"


def test_ctrl_c_during_training_stops_it_and_writes_no_model(tmp_path: Path) -> None:
    """The first Ctrl-C only asked asyncio to cancel at the next await: training, which has
    none, ran to its end and wrote the model anyway, and the process said nothing."""
    labelled = tmp_path / "labelled.jsonl"
    with labelled.open("w", encoding="utf-8") as out:
        for path in sorted((ROOT / "tests" / "data").glob("messages-*.jsonl")):
            for line in path.read_text("utf-8").splitlines():
                if '"kind"' in line:
                    out.write(line + "\n")
    model = tmp_path / "model.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOMOVOY_")}
    # An operator's terminal delivers Ctrl-C; a test run started in the background (CI under
    # nohup) has SIGINT ignored, and a child inherits that: give it the terminal's default.
    proc = subprocess.Popen([sys.executable, "-m", "domovoy", "classify", "--train",
                             str(labelled), "--model-out", str(model)], cwd=tmp_path,
                            env={**environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(6)  # imported, reading and training
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()  # one that ran on must not outlive the test
    assert proc.returncode == 130, (stdout, stderr)
    assert "domovoy classify: interrupted" in stderr and "Traceback" not in stderr
    assert list(tmp_path.glob("*model.json*")) == []


# --- ingest-eml, links ---------------------------------------------------------------------


def test_ingest_of_a_folder_without_mail_says_so(tmp_path: Path) -> None:
    """It printed "0 message(s): none" and exit 0: a wrong folder read as a clean import."""
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "notes.txt").write_text("not mail", "utf-8")
    refused(cli(tmp_path, "ingest-eml", "mail", db=tmp_path / "d.sqlite3"), 1,
            "no mail files (.eml, .box, .mbox) in mail")


def test_links_into_a_file_is_refused_before_asking_telegram(tmp_path: Path) -> None:
    conf = config_file(tmp_path, "telegram:\n  token: '123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456'"
                                 "\n  staff_chat_id: -100123\n  api_base_url: "
                                 f"'http://127.0.0.1:{free_port()}'\n"
                                 "buildings:\n  - code: b1\n    address: 'ул. Ленина, 5'\n")
    (tmp_path / "qr").write_text("", "utf-8")
    refused(cli(tmp_path, "--config", str(conf), "links", "--out", "qr"), 2,
            "--out qr is a file; give a folder")


def test_output_piped_into_a_reader_that_stops_early_is_no_traceback(tmp_path: Path) -> None:
    """`domovoy classify --jsonl … --eval | head -2`: the reader closes the pipe, which is no
    mistake of the operator's; it printed a BrokenPipeError traceback."""
    lines = tmp_path / "m.jsonl"
    lines.write_text("".join(json.dumps({"id": i, "text": "Течёт кран на кухне"}) + "\n"
                             for i in range(3000)), encoding="utf-8")
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "domovoy", "classify", "--jsonl", str(lines)],
                            cwd=tmp_path, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
