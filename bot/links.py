"""``domovoy links``: each building's deep link into the bot, and a QR code to post at the
entrance.

The link carries the building code (``/start <code>``), so a resident who scans the code at
their entrance is registered to the right building before typing a word. The bot's username
is asked from Telegram (getMe) rather than configured, so a renamed bot cannot leave stale
links behind.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import segno
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError

from bot.settings import TelegramConfig
from workflow.settings import BuildingConfig


@dataclass(frozen=True)
class BuildingLink:
    code: str
    address: str
    url: str
    qr_path: Path


def deep_link(username: str, code: str) -> str:
    return f"https://t.me/{username}?start={code}"


async def bot_username(config: TelegramConfig, session: BaseSession | None = None) -> str:
    own = session is None
    session = session or AiohttpSession(api=TelegramAPIServer.from_base(config.api_base_url))
    try:
        me = await Bot(config.token, session=session).get_me()
    finally:
        if own:
            await session.close()
    if not me.username:
        raise RuntimeError("the bot has no username; set one with @BotFather")
    return me.username


async def write_links(config: TelegramConfig, buildings: list[BuildingConfig], out: Path,
                      session: BaseSession | None = None) -> list[BuildingLink]:
    """One PNG per building (``<code>.png`` in ``out``); returns what was written."""
    username = await bot_username(config, session)
    out.mkdir(parents=True, exist_ok=True)
    links = []
    for b in buildings:
        url = deep_link(username, b.code)
        path = out / f"{b.code}.png"
        # Error level M survives a scratched print; a border of 4 modules is the standard.
        segno.make(url, error="m").save(str(path), scale=10, border=4)
        links.append(BuildingLink(b.code, b.address, url, path))
    return links


async def main(config: TelegramConfig | None, buildings: list[BuildingConfig],
               out: Path) -> int:
    """What the CLI command runs; returns the exit code."""
    if config is None:
        print("domovoy links: no telegram section in the config", file=sys.stderr)
        return 2
    if not buildings:
        print("domovoy links: no buildings in the config", file=sys.stderr)
        return 2
    try:
        links = await write_links(config, buildings, out)
    except TelegramAPIError as exc:  # network errors included: the bot's name comes from getMe
        print(f"domovoy links: cannot ask {config.api_base_url} for the bot's username "
              f"(getMe): {exc}", file=sys.stderr)
        return 1
    for link in links:
        print(f"{link.code}\t{link.url}\t{link.qr_path}\t{link.address}")
    return 0
