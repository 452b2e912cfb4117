"""The hourly cap on automatic messages holds per resident across channels: a resident who
writes by email and by Telegram gets at most N automatic messages an hour in all."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from domovoy.app import App
from tests.conftest import RecordingSender
from tests.helpers import mail, tg_message
from workflow.clock import ManualClock
from workflow.models import LinkCode, OutboxItem
from workflow.residents import redeem_link_code

EMAIL = "olga@example.org"
TELEGRAM = "7701"
PROBLEMS = ["не работает лифт", "течёт кран на кухне", "нет горячей воды", "искрит розетка",
            "сломан домофон", "не горит свет в подъезде", "протекает крыша",
            "разбито окно в подъезде", "не вывозят мусор", "шумят соседи сверху",
            "холодные батареи", "треснула плитка на лестнице", "засор в канализации",
            "не закрывается дверь подъезда"]


async def _resident_on_both_channels(app: App, clock: ManualClock) -> None:
    """Olga writes by email; the acknowledgement's /link code ties her Telegram to her."""
    first = await app.intake.ingest(mail(EMAIL, f"Здравствуйте, {PROBLEMS[0]}.", clock.now()))
    assert first.case_number
    async with app.wf.sessions.begin() as s:
        code = await s.scalar(select(LinkCode.code))
        assert code, "the email acknowledgement carries a /link code"
        assert await redeem_link_code(s, code, "telegram", TELEGRAM, clock.now())


async def _write(app: App, clock: ManualClock, n: int) -> None:
    """Problem ``n``, by email for even ``n`` and by Telegram for odd."""
    text = f"Здравствуйте, {PROBLEMS[n]}. Обращение номер {n}."
    msg = mail(EMAIL, text, clock.now(), subject=PROBLEMS[n]) if n % 2 == 0 \
        else tg_message(int(TELEGRAM), text, clock.now())
    result = await app.intake.ingest(msg)
    assert result.case_number, (n, result)
    clock.advance(timedelta(minutes=1))


def _to_resident(sender: RecordingSender) -> list[str]:
    return [o.channel for o in sender.sent if o.recipient in (EMAIL, TELEGRAM)]


async def test_the_hourly_cap_counts_email_and_telegram_together(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    limit = app.wf.settings.limits.automatic_per_address_per_hour
    assert len(PROBLEMS) > limit + 2
    await _resident_on_both_channels(app, clock)
    for n in range(1, limit + 2):  # limit + 1 more cases, alternating channels
        await _write(app, clock, n)
    while await app.outbox.deliver_due():
        pass
    delivered = _to_resident(recorder)
    # Neither channel alone reached the cap; together they did, and the rest was held back.
    assert len(delivered) == limit
    assert {"email", "telegram"} <= set(delivered)
    assert delivered.count("email") < limit and delivered.count("telegram") < limit
    async with app.wf.sessions() as s:
        held = list(await s.execute(select(OutboxItem.channel, OutboxItem.last_error).where(
            OutboxItem.state == "suppressed").order_by(OutboxItem.id)))
    # The two over the cap, one to each channel, are kept in the log with the reason.
    assert [c for c, _ in held] == ["email", "telegram"]
    assert all(e == f"over {limit} automatic messages an hour" for _, e in held)

    # An hour after the first of them, the resident hears from us again.
    clock.advance(timedelta(hours=1))
    await _write(app, clock, limit + 2)
    while await app.outbox.deliver_due():
        pass
    assert len(_to_resident(recorder)) == limit + 1
