"""Configuration: defaults, the shipped example, env secrets, and readable errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from domovoy.config import DEFAULT_DATABASE_URL, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "domovoy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_safe_defaults_without_channels() -> None:
    config = load_config(None, env={})
    assert config.database.url == DEFAULT_DATABASE_URL
    assert config.telegram is None and config.imap is None and config.smtp is None


def test_shipped_example_is_valid() -> None:
    config = load_config(ROOT / "config.example.yaml", env={})
    assert config.telegram is not None and config.imap is not None and config.smtp is not None
    assert config.workflow.department_for("heating") == "water-heat"


def test_secrets_from_environment_override_the_file() -> None:
    config = load_config(ROOT / "config.example.yaml", env={
        "DOMOVOY_TELEGRAM_TOKEN": "42:from-env", "DOMOVOY_IMAP_PASSWORD": "imap-secret",
        "DOMOVOY_SMTP_PASSWORD": "smtp-secret",
        "DOMOVOY_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1/x"})
    assert config.telegram and config.telegram.token == "42:from-env"
    assert config.imap and config.imap.password == "imap-secret"
    assert config.smtp and config.smtp.password == "smtp-secret"
    assert config.database.url.startswith("postgresql")


def test_a_secret_alone_does_not_switch_a_channel_on() -> None:
    assert load_config(None, env={"DOMOVOY_TELEGRAM_TOKEN": "42:x"}).telegram is None


@pytest.mark.parametrize(("text", "expected"), [
    ("telegram:\n  token: nonsense\n", "telegram.token: a bot token looks like"),
    ("imap:\n  host: h\n  username: u\n  port: 99999\n", "imap.port:"),
    ("buildings:\n  - code: 'дом 5'\n", "buildings[0].code: building codes go into"),
    ("sla:\n  escalation_step: soon\n", "sla.escalation_step: expected a duration"),
    ("sla:\n  deadlines:\n    complaint:\n      normal: {respond: 1d, resolve: 2.5wd}\n",
     "sla.deadlines.complaint.normal.resolve: expected a duration such as 30m, 4h or 10d, or "
     "working days such as 10wd"),
    ("sla:\n  workdays: []\n", "sla.workdays:"),
    ("sla:\n  office_hours: 18:00-09:00\n",
     "sla.office_hours: the office must open before it closes"),
    ("sla:\n  office_hours: 18:00\n",  # YAML's base-60 number 1080
     'sla.office_hours: expected opening hours such as "09:00-18:00", got a single time'),
    ("sla:\n  ping_any_hour: [urgent]\n", "sla.ping_any_hour[0]:"),
    ("smtp:\n  host: h\n  from_address: a@b\n  ssl: true\n  starttls: true\n",
     "smtp: choose smtp.ssl"),
    ("databse:\n  url: x\n", "databse: unknown key"),
    ("staff:\n  - telegram_user_id: 1\n    name: A\n    departments: [nope]\n",
     "line 4: staff[0].departments[0]: unknown department 'nope' (departments: none are "
     "configured)"),
    ("buildings:\n  - code: b1\n  - code: b2\n  - code: b1\n",
     "line 4: buildings[2].code: 'b1' is already the code of buildings[0]"),
    ("departments:\n  - code: d1\n    categories: [plumbing]\n"
     "  - code: d2\n    categories: [heating, plumbing]\n",
     "line 5: departments[1].categories[1]: category 'plumbing' is owned by 'd1' too"),
    ("staff:\n  - telegram_user_id: 5\n    name: A\n  - telegram_user_id: 5\n    name: B\n",
     "line 4: staff[1].telegram_user_id: 5 is already staff[0]'s"),
    ("departments:\n  - code: d1\n    head: 77\n",
     "line 3: departments[0].head: 77 is not among the staff"),
    ("smtp:\n  host: h\n  from_address: 'УК <office@uk.ru>'\n",
     "line 3: smtp.from_address: expected a bare mail address"),
    ("smtp:\n  host: h\n  from_address: office\n", "smtp.from_address: expected a bare"),
    ("a: [1, 2\n", "not valid YAML"),
    ("imap:\n  host: h\n  username: u\n  authority_domains: [gov.ru, 'ГЖИ РТ']\n",
     "imap.authority_domains: not a mail domain: 'гжи рт'"),
])
def test_bad_config_names_file_key_and_problem(tmp_path: Path, text: str,
                                               expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert message.startswith(str(path))
    assert expected in message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", env={})


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "domovoy", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env=env)


def test_check_config_passes_on_the_example_and_fails_cleanly_on_a_bad_file(
        tmp_path: Path) -> None:
    ok = run_cli("check-config", "--config", str(ROOT / "config.example.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    by_env = run_cli("check-config", env={**os.environ,
                                          "DOMOVOY_CONFIG": str(ROOT / "config.example.yaml")})
    assert by_env.returncode == 0 and "config.example.yaml: OK" in by_env.stdout
    bad = run_cli("check-config", "--config", str(write(tmp_path, "telegram:\n  mode: x\n")))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "telegram" in bad.stderr and str(tmp_path) in bad.stderr


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    """An operator fixes a long file in one pass: each wrong key is named with its line."""
    path = write(tmp_path, "telegram:\n  token: t\n  mode: pull\nimap:\n  port: abc\n"
                           "buildings:\n  - code: b1\n    staff_chat_id: x\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert message.startswith(f"{path}: 6 problems:")
    assert "line 2: telegram.token:" in message
    assert "line 3: telegram.mode: Input should be 'polling' or 'webhook'" in message
    assert "line 4: imap.host: required, and missing" in message
    assert "line 5: imap.port:" in message
    assert "line 8: buildings[0].staff_chat_id:" in message


def test_a_bad_secret_from_the_environment_is_named_by_its_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "telegram:\n  token: 123456:good-token-from-the-file\n")
    load_config(path, env={})
    with pytest.raises(ConfigError) as err:
        load_config(path, env={"DOMOVOY_TELEGRAM_TOKEN": "x"})
    assert str(err.value).startswith(f"{path}: set by DOMOVOY_TELEGRAM_TOKEN: telegram.token:")
