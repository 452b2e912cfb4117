"""Configuration: one YAML file, validated into pydantic models once, passed down explicitly.

Secrets may come from the environment instead of the file (``DOMOVOY_TELEGRAM_TOKEN`` and
friends), so the file can be committed to an operator's repository without them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import TelegramConfig
from intake.email_settings import ImapConfig, SmtpConfig
from workflow.settings import (
    BuildingConfig,
    CaseNumberConfig,
    DepartmentConfig,
    LimitsConfig,
    SlaConfig,
    StaffConfig,
    Strict,
    WorkflowSettings,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/domovoy.sqlite3"
# The one asyncio driver each database is run with; a URL naming no driver gets this one.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
URL_FORMS = "sqlite+aiosqlite:///path/to/file.sqlite3 or postgresql+asyncpg://user@host/db"


class DatabaseConfig(Strict):
    url: str = DEFAULT_DATABASE_URL
    echo: bool = False
    sqlite_driver: Literal["inline", "thread"] = "inline"

    @field_validator("url")
    @classmethod
    def _async_url(cls, url: str) -> str:
        """A URL SQLAlchemy cannot parse, or one for a driver we do not ship, used to pass
        check-config and then crash every command with a traceback from deep inside the
        engine. A URL naming no driver (``postgresql://``, the form every other tool takes)
        gets ours. The URL is never echoed back: it may hold a password."""
        if not url.strip():
            raise ValueError(f"empty; expected {URL_FORMS}")
        try:
            parsed = make_url(url.strip())
        except ArgumentError:
            raise ValueError(f"not a database URL; expected {URL_FORMS}") from None
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
        if backend not in ASYNC_DRIVERS:
            raise ValueError(f"unsupported database {backend!r}; expected {URL_FORMS}")
        if "+" not in parsed.drivername:
            parsed = parsed.set(drivername=f"{backend}+{ASYNC_DRIVERS[backend]}")
        elif driver != ASYNC_DRIVERS[backend]:
            raise ValueError(f"driver {driver!r} is not supported for {backend}; use "
                             f"{backend}+{ASYNC_DRIVERS[backend]}://")
        return parsed.render_as_string(hide_password=False)


class Config(Strict):
    database: DatabaseConfig = DatabaseConfig()
    telegram: TelegramConfig | None = None
    imap: ImapConfig | None = None
    smtp: SmtpConfig | None = None
    office_name: str = "Управляющая компания"
    default_language: Literal["ru", "en"] = "ru"
    buildings: list[BuildingConfig] = []
    departments: list[DepartmentConfig] = []
    staff: list[StaffConfig] = []
    sla: SlaConfig = SlaConfig()
    case_number: CaseNumberConfig = CaseNumberConfig()
    limits: LimitsConfig = LimitsConfig()
    classifier_rules: list[Path] = []
    timezone: str = "Europe/Moscow"
    mail_domain: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        """An unknown zone passed check-config and crashed ``status``, ``report`` and ``run``
        on their first date."""
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}; use an IANA name such as "
                             "Europe/Moscow") from None
        return name

    @model_validator(mode="after")
    def _references(self) -> Config:
        """Cross-references, each reported at the key that is wrong (a model's own check is
        placed at the top level, and "two buildings share a code" left the operator to find
        which two in a long file)."""
        first: dict[str, int] = {}
        for i, b in enumerate(self.buildings):
            if b.code in first:
                raise _At(("buildings", i, "code"),
                          f"{b.code!r} is already the code of buildings[{first[b.code]}]")
            first[b.code] = i
        seen: dict[int, int] = {}
        for i, s in enumerate(self.staff):
            if s.telegram_user_id in seen:
                raise _At(("staff", i, "telegram_user_id"),
                          f"{s.telegram_user_id} is already staff[{seen[s.telegram_user_id]}]'s")
            seen[s.telegram_user_id] = i
        depts = [d.code for d in self.departments]
        for i, s in enumerate(self.staff):
            for k, d in enumerate(s.departments):
                if d not in depts:
                    known = ", ".join(map(repr, depts)) or "none are configured"
                    raise _At(("staff", i, "departments", k),
                              f"unknown department {d!r} (departments: {known})")
        owners: dict[str, str] = {}
        for i, dept in enumerate(self.departments):
            # escalation looks the head up among the staff: one not listed is pinged by nobody
            if dept.head is not None and dept.head not in seen:
                raise _At(("departments", i, "head"),
                          f"{dept.head} is not among the staff (list them under staff)")
            for k, c in enumerate(dept.categories):
                if c in owners:
                    raise _At(("departments", i, "categories", k),
                              f"category {c.value!r} is owned by {owners[c]!r} too")
                owners[c] = dept.code
        return self

    @property
    def workflow(self) -> WorkflowSettings:
        return WorkflowSettings(
            office_name=self.office_name,
            default_language=self.default_language,
            timezone=self.timezone,
            buildings=self.buildings,
            departments=self.departments,
            staff=self.staff,
            sla=self.sla,
            case_number=self.case_number,
            limits=self.limits,
        )


class _At(ValueError):
    """A cross-reference error that knows the key it is about (see ``Config._references``)."""

    def __init__(self, loc: tuple[int | str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class ConfigError(Exception):
    """A configuration problem, worded for the operator: file, key, what is wrong."""


class DatabaseUnavailable(Exception):
    """The configured database cannot be opened or brought up to date, worded for the
    operator: which database (its password hidden) and why. It lives here, beside
    :class:`ConfigError`, so the CLI can catch it without importing the application."""


class NoDatabase(Exception):
    """``database.url`` names no Domovoy database (a SQLite file that is not there, a database
    never upgraded), for a command that only reads or acts on what is already in one: a
    mistyped path used to create a new empty database and report an office without cases.
    An operator's mistake, worded for the operator: which database, and the way to create
    one."""


ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "DOMOVOY_DATABASE_URL": ("database", "url"),
    "DOMOVOY_TELEGRAM_TOKEN": ("telegram", "token"),
    "DOMOVOY_IMAP_PASSWORD": ("imap", "password"),
    "DOMOVOY_SMTP_PASSWORD": ("smtp", "password"),
    "DOMOVOY_TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
}


def _apply_env(data: dict[str, Any], env: dict[str, str]) -> None:
    for var, (section, key) in ENV_OVERRIDES.items():
        if var not in env:
            continue
        target = data.get(section)
        # A secret alone does not switch a channel on: only an existing section gets it,
        # except the database, which always exists.
        if target is None and section != "database":
            continue
        if target is None:
            target = data[section] = {}
        if not isinstance(target, dict):
            continue
        target[key] = env[var]


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word, so a second ``telegram:``
    pasted at the end of a file silently replaced the first; YAML itself forbids it."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = self.construct_object(key_node, deep=False)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice (first on line {seen[key]})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(top level)"


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Load and validate; raise :class:`ConfigError` with one readable sentence on any problem.

    Without a file, safe defaults apply (SQLite under ``./var/``, no channels).
    """
    env = dict(os.environ) if env is None else env
    if path is None and env.get("DOMOVOY_CONFIG"):
        path = Path(env["DOMOVOY_CONFIG"])
    where = str(path) if path else "(defaults)"
    data: Any = {}
    text = ""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{where}: config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read the config file: {exc}") from None
        try:
            data = yaml.load(text, Loader=_UniqueKeyLoader) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"{where}:{line}: not valid YAML: {problem}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: the top level must be a mapping of sections")
    _apply_env(data, env)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(where, exc, text, env)) from None


def _describe(where: str, exc: ValidationError, text: str, env: dict[str, str]) -> str:
    """Every problem at once, each with its key and, where the file has it, its line: an
    operator fixing a long file one error per run would run it as many times."""
    lines = _key_lines(text)
    from_env = {target: var for var, target in ENV_OVERRIDES.items() if var in env}
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _At):
            loc = (*loc, *cause.loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against config.example.yaml)"
        elif err["type"] == "missing":
            msg = "required, and missing"
        if loc in from_env:
            at = f"set by {from_env[loc]}: "
        else:
            known = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines),
                         None)
            at = f"line {known}: " if known is not None else ""
        problems.append(f"{at}{_key_path(loc)}: {msg}")
    if len(problems) == 1:
        return f"{where}: {problems[0]}"
    return f"{where}: {len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems)


def _key_lines(text: str) -> dict[tuple[int | str, ...], int]:
    """The line each key and list item of the file starts on (read only when the file is
    wrong, so start-up never pays for it)."""
    lines: dict[tuple[int | str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[int | str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    lines[(*path, key.value)] = key.start_mark.line + 1
                    walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    root = yaml.compose(text, Loader=yaml.SafeLoader) if text else None
    if root is not None:
        walk(root, ())
    return lines
