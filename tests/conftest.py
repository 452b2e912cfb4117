"""Shared fixtures: a fresh application on a real SQLite file (and PostgreSQL where asked),
a manual clock, and a recording sender for the outbox."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from domovoy.app import App, build_app
from domovoy.config import Config
from workflow.clock import ManualClock
from workflow.outbox import Outgoing

pytest_plugins = ["tests.peers.mail", "tests.peers.telegram"]



def _shared() -> Path:
    """The shared corpora: ``$DOMOVOY_SHARED``, else ``../shared`` beside the checkout, else
    the workspace's own ``/work/shared`` (a clean clone made elsewhere, as CI makes one, has
    no ``../shared``). The first candidate names the place in a skip's reason when none
    exists."""
    env = os.environ.get("DOMOVOY_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [Path(__file__).resolve().parents[1].parent / "shared", Path("/work/shared")]
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = _shared()
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{db}"

ORG = {
    "buildings": [{"code": "lenina-5", "address": "ул. Ленина, 5"},
                  {"code": "pushkina-10", "address": "ул. Пушкина, 10"}],
    "departments": [
        {"code": "plumbing", "categories": ["plumbing", "heating"], "head": 1002},
        {"code": "electric", "categories": ["electrical", "elevator", "safety"], "head": 1002},
        {"code": "general", "categories": ["structure", "cleaning", "territory", "noise",
                                            "rules", "billing", "staff", "other"]},
    ],
    "staff": [
        {"telegram_user_id": 1001, "name": "Иван Петров", "username": "ivan", "role": "staff",
         "departments": ["plumbing"]},
        {"telegram_user_id": 1003, "name": "Олег Сидоров", "username": "oleg", "role": "staff",
         "departments": ["plumbing"]},
        {"telegram_user_id": 1002, "name": "Мария Иванова", "username": "maria", "role": "head",
         "departments": ["plumbing", "electric"]},
        {"telegram_user_id": 1009, "name": "Анна Управ", "username": "anna", "role": "manager"},
    ],
}


def shared_path(*parts: str) -> Path:
    """A path into ../shared, or a skip that says why the test cannot run."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus not found at {path} (tests read it from ../shared)")
    return path


class RecordingSender:
    """Stands in for a channel only in workflow unit tests; channel tests use real peers."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, item: Outgoing) -> str:
        self.sent.append(item)
        return f"out-{item.outbox_id}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_config(db_url: str, **overrides: object) -> Config:
    return Config.model_validate({"database": {"url": db_url}, **ORG, **overrides})


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'domovoy.sqlite3'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throwaway database on the machine's PostgreSQL (127.0.0.1:5432, trust auth)."""
    asyncpg = pytest.importorskip("asyncpg")
    name = f"domovoy_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres",
                                     database="postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    yield PG_URL.format(db=name)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'domovoy.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


async def _running_app(url: str, clock: ManualClock) -> AsyncIterator[App]:
    application = await build_app(make_config(url), clock=clock)
    yield application
    await application.close()


@pytest.fixture
async def app(sqlite_url: str, clock: ManualClock) -> AsyncIterator[App]:
    async for application in _running_app(sqlite_url, clock):
        yield application


@pytest.fixture
async def pg_app(pg_url: str, clock: ManualClock) -> AsyncIterator[App]:
    async for application in _running_app(pg_url, clock):
        yield application


@pytest.fixture
async def any_app(any_db_url: str, clock: ManualClock) -> AsyncIterator[App]:
    """The application on SQLite and on PostgreSQL in turn."""
    async for application in _running_app(any_db_url, clock):
        yield application


@pytest.fixture
def recorder(app: App) -> RecordingSender:
    sender = RecordingSender()
    app.register_sender("telegram", sender)
    app.register_sender("email", sender)
    app.register_sender("staff", sender)
    return sender
