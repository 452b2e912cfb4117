"""The IMAP poller as a housing office meets it (audit round fourteen), against the real Dovecot
of tests/peers/mail.py: folder names an office would choose (Cyrillic, with spaces), mail that
lands while a poll is running, IDLE renewed before servers cut it, a server without MOVE and
UIDPLUS, and the first start over an inbox of already-handled mail.

Folder names on the wire are modified UTF-7 (RFC 3501 §5.1.3): "Обработанные" is
``&BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-``. The test client (``dovecot.flags``/``append``) sends
its mailbox argument as given, so the tests spell the wire form themselves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest

from domovoy.app import App
from domovoy.peers.dovecot import Dovecot
from intake.email import imap as imap_module
from intake.email.imap import ImapPoller
from intake.message import InboundMessage
from tests.peers.mail import TcpProxy
from tests.test_email_imap import (
    _wait_until,
    acks,
    cursor,
    mail,
    make_poller,
    now_clock,  # noqa: F401 (the fixture, used below)
)
from workflow.clock import ManualClock
from workflow.intake import IntakeResult

# INTERNALDATE is the server's real time: the workflow's clock (``clock``) starts beside it.
pytestmark = pytest.mark.usefixtures("now_clock")

PROCESSED_RU = "Обработанные"
PROCESSED_RU_WIRE = '"&BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-"'


def resident(n: int) -> bytes:
    """A different resident's letter each time (so no two are one thread)."""
    return mail(n, mid=f"r{n}@example.ru", sender=f"Жилец {n} <r{n}@example.ru>")


# --- H3: folder names ------------------------------------------------------------------------


async def test_a_cyrillic_processed_folder_takes_every_batch_and_empties_the_inbox(
        app: App, dovecot: Dovecot, imap_user: str) -> None:
    """``processed_folder: Обработанные``: every letter becomes a case and is moved there, batch
    after batch; before, the move failed ("8bit data in atom") and import stopped for good
    after the first batch."""
    await dovecot.append_many(imap_user, [resident(n) for n in range(1, 13)])
    poller = make_poller(app, dovecot, imap_user, processed_folder=PROCESSED_RU, batch_size=5)
    try:
        report = await poller.poll_once()
        again = await poller.poll_once()
    finally:
        await poller.close()
    assert report.error is None, report.error
    assert report.actions == ["new_case"] * 12
    assert again.error is None and again.fetched == 0
    assert await acks(app) == 12
    assert await dovecot.flags(imap_user) == {}
    assert len(await dovecot.flags(imap_user, PROCESSED_RU_WIRE)) == 12


@pytest.mark.parametrize(("mailbox", "wire"), [
    ("Жильцы", '"&BBYEOAQ7BEwERgRL-"'),
    ("Resident mail", '"Resident mail"'),
    # An operator who worked around the old bug by writing the encoded name keeps working.
    ("&BBYEOAQ7BEwERgRL-", '"&BBYEOAQ7BEwERgRL-"'),
])
async def test_a_mailbox_named_in_russian_or_with_a_space_is_polled(
        app: App, dovecot: Dovecot, imap_user: str, mailbox: str, wire: str) -> None:
    """A folder the office's server-side rule files residents' mail into."""
    await dovecot.append_many(imap_user, [resident(1)], mailbox=wire)
    poller = make_poller(app, dovecot, imap_user, mailbox=mailbox)
    try:
        report = await poller.poll_once()
    finally:
        await poller.close()
    assert report.error is None, report.error
    assert report.actions == ["new_case"]
    assert await dovecot.flags(imap_user, wire) == {1: {"\\Seen"}}
    assert await cursor(app, mailbox) is not None


async def test_processed_mail_goes_to_the_folder_named_with_a_space(
        app: App, dovecot: Dovecot, imap_user: str) -> None:
    """``processed_folder: Processed mail`` is that folder, not one called "Processed"."""
    await dovecot.append_many(imap_user, [resident(1), resident(2)])
    poller = make_poller(app, dovecot, imap_user, processed_folder="Processed mail")
    try:
        report = await poller.poll_once()
    finally:
        await poller.close()
    assert report.error is None, report.error
    assert len(await dovecot.flags(imap_user, '"Processed mail"')) == 2
    assert await dovecot.flags(imap_user, "Processed") == {}


async def test_a_folder_the_server_refuses_stops_no_import_and_says_why(
        app: App, dovecot: Dovecot, imap_user: str) -> None:
    """A processed folder the server will not create (Dovecot refuses "/" in a name; a full
    quota refuses the move the same way): every letter still becomes a case, once, batch after
    batch, and ``domovoy status`` names the folder and the server's reason."""
    await dovecot.append_many(imap_user, [resident(n) for n in range(1, 13)])
    poller = make_poller(app, dovecot, imap_user, processed_folder="Входящие/обработанные",
                         batch_size=5)
    try:
        report = await poller.poll_once()
        await dovecot.append(imap_user, resident(13))
        again = await poller.poll_once()
    finally:
        await poller.close()
    assert report.actions == ["new_case"] * 12
    assert again.actions == ["new_case"]
    assert await acks(app) == 13
    for error in (report.error, again.error):
        assert error is not None
        assert "'Входящие/обработанные'" in error and "must not have '/'" in error, error


# --- M4: mail that lands while a poll is running ---------------------------------------------


async def _stop(poller: ImapPoller, task: asyncio.Task[None]) -> None:
    await poller.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("idle", [True, False], ids=["IDLE", "interval"])
async def test_a_letter_arriving_during_a_poll_is_imported_at_once(
        app: App, dovecot: Dovecot, imap_user: str, idle: bool) -> None:
    """A gas-smell letter delivered while the poller commits another one's case: the server
    told us of it mid-pass, so IDLE then had nothing new to push and the letter waited out the
    whole poll interval (a minute by default)."""
    await dovecot.append(imap_user, resident(1))
    poller = make_poller(app, dovecot, imap_user, poll_interval_s=30.0, idle=idle)
    real_ingest = app.intake.ingest_many
    landed: list[float] = []

    async def ingest_many(msgs: Sequence[InboundMessage]
                          ) -> list[IntakeResult | Exception]:
        if not landed:  # the second letter lands while the first one's case is committed
            await dovecot.append(imap_user, mail(2, mid="gas@example.ru",
                                                 sender="Пётр <petr@example.ru>",
                                                 body="В подъезде сильно пахнет газом!"))
            landed.append(time.monotonic())
        return await real_ingest(msgs)

    app.intake.ingest_many = ingest_many  # type: ignore[method-assign]
    task = asyncio.create_task(poller.run())
    try:
        await _wait_until(lambda: acks(app), 2, timeout=8.0)
    finally:
        await _stop(poller, task)
    took = time.monotonic() - landed[0]
    assert await acks(app) == 2
    assert took < 3.0, f"the letter waited {took:.1f} s for a 30 s poll interval"


# --- L3: IDLE renewed before servers cut it --------------------------------------------------


async def test_idle_is_renewed_within_29_minutes_whatever_the_poll_interval(
        app: App, dovecot: Dovecot, imap_user: str, imap_proxy: TcpProxy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 2177: servers and NATs drop a session idle for about 30 minutes, so IDLE is re-issued
    at least every 29 minutes even when ``poll_interval_s`` is an hour. The 29 minutes are
    scaled down to 0.3 s here; the interval stays far above them."""
    monkeypatch.setattr(imap_module, "IDLE_RENEW_S", 0.3, raising=False)
    poller = make_poller(app, imap_proxy, imap_user, poll_interval_s=3600.0)
    task = asyncio.create_task(poller.run())
    try:
        await asyncio.sleep(1.6)
        idles = sum(1 for line in imap_proxy.client_lines if line.split(b" ")[1:2] == [b"IDLE"])
        await dovecot.append(imap_user, resident(1))
        await _wait_until(lambda: acks(app), 1, timeout=3.0)  # and IDLE still sees new mail
    finally:
        await _stop(poller, task)
    assert idles >= 3, f"{idles} IDLE command(s) in 1.6 s with IDLE capped at 0.3 s"


# --- L4: a server without MOVE and UIDPLUS ---------------------------------------------------


async def test_without_move_and_uidplus_processed_mail_leaves_the_inbox(
        app: App, dovecot: Dovecot, imap_user: str, imap_proxy: TcpProxy) -> None:
    """An older server (no MOVE, no UIDPLUS): processed mail is copied to the folder and taken
    out of the inbox, where it used to stay flagged \\Deleted for ever. A letter someone marked
    deleted in their mail client meanwhile is left as they left it: the bot expunges only its
    own."""
    imap_proxy.hide_capabilities = frozenset({"MOVE", "UIDPLUS"})
    await dovecot.append_many(imap_user, [resident(1), resident(2)])
    real_ingest = app.intake.ingest_many
    theirs: list[int] = []

    async def ingest_many(msgs: Sequence[InboundMessage]) -> list[IntakeResult | Exception]:
        if not theirs:  # a clerk deletes a letter in Thunderbird while the batch commits
            theirs.append(await dovecot.append(imap_user, resident(3), flags="(\\Deleted)"))
        return await real_ingest(msgs)

    app.intake.ingest_many = ingest_many  # type: ignore[method-assign]
    poller = make_poller(app, imap_proxy, imap_user, password=dovecot.password_for(imap_user),
                         processed_folder="Processed")
    try:
        report = await poller.poll_once()
    finally:
        await poller.close()
    assert report.error is None, report.error
    assert report.actions == ["new_case", "new_case"]
    assert await dovecot.flags(imap_user) == {theirs[0]: {"\\Deleted"}}
    assert len(await dovecot.flags(imap_user, "Processed")) == 2
    assert not any(b" MOVE " in line for line in imap_proxy.client_lines)


# --- M3: the first start, and a mailbox restored from a backup -------------------------------


def handled(n: int) -> bytes:
    """A letter the office read and answered by hand long before the bot."""
    return mail(n, mid=f"old-{n}@example.ru", sender=f"Давний {n} <old{n}@example.ru>",
                body=f"Течёт крыша над квартирой {n}, потолок мокрый.")


async def test_first_start_with_a_processed_folder_answers_no_handled_history(
        app: App, dovecot: Dovecot, imap_user: str) -> None:
    """An office switches the bot on over an inbox of letters it has read and answered: only the
    unread one becomes a case and is acknowledged; the read ones are left where they are, in
    both modes (here with a processed folder, where all of them used to be answered)."""
    await dovecot.append_many(imap_user, [handled(1), handled(2), handled(3)],
                              flags="(\\Seen)")
    await dovecot.append(imap_user, resident(4))
    poller = make_poller(app, dovecot, imap_user, processed_folder="Processed")
    try:
        first = await poller.poll_once()
        await dovecot.append(imap_user, resident(5), flags="(\\Seen)")  # read by a clerk
        second = await poller.poll_once()
    finally:
        await poller.close()
    assert first.error is None, first.error
    assert [uid for uid, _ in first.results] == [4]
    assert second.actions == ["new_case"]  # after the first start the cursor decides, not \Seen
    assert await acks(app) == 2
    assert await dovecot.flags(imap_user) == {n: {"\\Seen"} for n in (1, 2, 3)}
    assert len(await dovecot.flags(imap_user, "Processed")) == 2


async def test_a_restore_that_lost_the_flags_answers_no_letter_from_before_the_bot(
        app: App, dovecot: Dovecot, imap_user: str, clock: ManualClock) -> None:
    """The mailbox comes back from a backup (new UIDVALIDITY) with every letter unread, dates
    kept. Letters from before the bot's last good poll are left alone (before, the read
    history the first start had skipped was answered now); the one imported before is no
    duplicate case; the one that arrived while the bot was down is imported."""
    folder = "Office"
    long_ago = clock.now() - timedelta(days=60)
    await dovecot.append_many(imap_user, [handled(1), handled(2)], mailbox=folder,
                              flags="(\\Seen)", date=long_ago)
    await dovecot.append(imap_user, resident(3), mailbox=folder)
    poller = make_poller(app, dovecot, imap_user, mailbox=folder)
    try:
        first = await poller.poll_once()
        await poller.disconnect()
        async with dovecot.client(imap_user) as imap:
            await imap.delete(folder)
        await dovecot.append_many(imap_user, [handled(1), handled(2)], mailbox=folder,
                                  date=long_ago)
        await dovecot.append_many(imap_user, [resident(3), resident(4)], mailbox=folder)
        second = await poller.poll_once()
    finally:
        await poller.close()
    assert first.actions == ["new_case"]
    assert second.error is None and second.rescanned
    assert second.actions == ["duplicate", "new_case"]
    assert await acks(app) == 2
