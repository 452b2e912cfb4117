"""``domovoy links`` against the emulator: the bot's real username, a readable QR per building."""

from __future__ import annotations

from pathlib import Path

from bot.links import write_links
from domovoy.peers.telegram_api import BotAPIEmulator
from tests.conftest import make_config
from tests.peers.telegram import telegram_config


async def test_links_and_qr_codes(tg_emulator: BotAPIEmulator, tmp_path: Path) -> None:
    tg_emulator.set_bot_profile(username="uk_zarechye_bot")
    config = make_config("sqlite://")
    links = await write_links(telegram_config(tg_emulator), list(config.buildings), tmp_path)
    assert [link.url for link in links] == ["https://t.me/uk_zarechye_bot?start=lenina-5",
                                            "https://t.me/uk_zarechye_bot?start=pushkina-10"]
    for link in links:
        assert link.qr_path.read_bytes().startswith(b"\x89PNG")
