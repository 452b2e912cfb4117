"""``domovoy demo``: the real application, in-process, against local peers on loopback.

Residents write through the Bot API emulator (the bot's real dispatcher polls it over HTTP)
and through Dovecot (the real IMAP poller); acknowledgements leave through the real Telegram
sender and the real SMTP sender into an aiosmtpd sink. Staff press real buttons in the staff
chat. A shifted clock lets real seconds pass and jumps a day ahead for the deadline. No
credentials, no internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.sender import SendLimits
from domovoy.config import Config
from domovoy.peers.dovecot import Dovecot, dovecot_available
from domovoy.peers.smtp_sink import SmtpSink
from domovoy.peers.telegram_api import BotAPIEmulator
from domovoy.peers.telegram_flood import FloodLimits
from domovoy.runner import Services, start_services
from workflow.clock import ShiftedClock
from workflow.models import Case, Incident, OutboxItem

START = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
DEMO_SPEED = 6.0  # how much faster than Telegram's own the demo's send limits run
TZ = ZoneInfo("Europe/Moscow")
STAFF_CHAT = -1001000000001
MANAGERS_CHAT = -1001000000002
OFFICE = "office@uk-domovoy.test"
STAFF = {1001: "Иван Петров", 1002: "Мария Иванова", 1009: "Анна Смирнова"}
RESIDENTS = {501: ("Ольга", "ru"), 502: ("Пётр", "ru"), 503: ("Emily", "en"),
             504: ("Сергей", "ru")}


class DemoFailed(Exception):
    pass


@dataclass
class Timeline:
    clock: ShiftedClock
    quiet: bool
    started: float = field(default_factory=time.monotonic)
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def say(self, who: str, text: str) -> None:
        if self.quiet:
            return
        at = self.clock.now().astimezone(TZ).strftime("%d.%m %H:%M")
        first, *rest = text.strip().splitlines() or [""]
        print(f"  {at}  +{time.monotonic() - self.started:5.1f}s  {who:<14} {first}")
        for line in rest[:6]:
            if line.strip():
                print(f"  {'':33}{line}")

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))
        if not ok:
            self.say("CHECK FAILED", what)


def demo_config(db: Path, emu: BotAPIEmulator, sink: SmtpSink,
                dovecot: Dovecot | None, office_user: str | None) -> Config:
    data: dict[str, Any] = {
        "database": {"url": f"sqlite+aiosqlite:///{db}"},
        "office_name": "УК «Домовой»",
        "mail_domain": "uk-domovoy.test",
        "telegram": {"token": emu.token, "api_base_url": emu.base_url,
                     "staff_chat_id": STAFF_CHAT, "managers_chat_id": MANAGERS_CHAT,
                     "burst_window_s": 5},
        "smtp": {"host": sink.host, "port": sink.port, "ssl": False, "starttls": False,
                 "from_address": OFFICE, "from_name": "УК «Домовой»", "timeout_s": 5},
        "buildings": [{"code": "lenina-5", "address": "ул. Ленина, 5"}],
        "departments": [
            {"code": "water-heat", "categories": ["plumbing", "heating"], "head": 1002},
            {"code": "electric", "categories": ["electrical", "elevator", "safety"],
             "head": 1002},
            {"code": "general", "categories": ["structure", "cleaning", "territory", "noise",
                                               "rules", "billing", "staff", "other"],
             "head": 1002},
        ],
        "staff": [
            {"telegram_user_id": 1001, "name": STAFF[1001], "username": "ivan",
             "role": "staff", "departments": ["water-heat", "electric"]},
            {"telegram_user_id": 1002, "name": STAFF[1002], "username": "maria",
             "role": "head", "departments": ["water-heat", "electric", "general"]},
            {"telegram_user_id": 1009, "name": STAFF[1009], "username": "anna",
             "role": "manager"},
        ],
    }
    if dovecot is not None and office_user is not None:
        data["imap"] = {"host": dovecot.host, "port": dovecot.port, "ssl": False,
                        "username": office_user, "password": dovecot.password_for(office_user),
                        "poll_interval_s": 2, "timeout_s": 5}
    return Config.model_validate(data)


def resident_mail(sender: str, name: str, subject: str, body: str, when: datetime) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = OFFICE
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(body)
    return msg.as_bytes()


class Demo:
    def __init__(self, emu: BotAPIEmulator, sink: SmtpSink, services: Services,
                 clock: ShiftedClock, timeline: Timeline, dovecot: Dovecot | None,
                 office_user: str | None) -> None:
        self.emu = emu
        self.sink = sink
        self.services = services
        self.app = services.app
        self.clock = clock
        self.t = timeline
        self.dovecot = dovecot
        self.office_user = office_user

    # --- peers --------------------------------------------------------------------------

    def bot_said(self, chat_id: int) -> list[dict[str, Any]]:
        return self.emu.sent_messages(chat_id=chat_id)

    async def wait_bot(self, chat_id: int, what: str, seen: int,
                       contains: str = "") -> dict[str, Any]:
        def arrived() -> bool:
            return any(contains in (m.get("text") or m.get("caption") or "")
                       for m in self.bot_said(chat_id)[seen:])

        await self.emu.wait_for(arrived, timeout=15, what=what)
        return next(m for m in self.bot_said(chat_id)[seen:]
                    if contains in (m.get("text") or m.get("caption") or ""))

    async def resident_says(self, user: int, text: str, expect: str = "") -> dict[str, Any]:
        name = RESIDENTS[user][0]
        self.t.say(f"{name} (tg)", text)
        seen = len(self.bot_said(user))
        self.emu.user_sends(user, text)
        reply = await self.wait_bot(user, f"the bot's answer to {name}", seen, expect)
        self.t.say("bot → " + name, reply.get("text", ""))
        return reply

    async def register(self, user: int, apartment: str) -> None:
        name = RESIDENTS[user][0]
        seen = len(self.bot_said(user))
        self.emu.user_sends(user, "/start lenina-5")
        await self.wait_bot(user, "the apartment question", seen)
        seen = len(self.bot_said(user))
        self.emu.user_sends(user, apartment)
        await self.wait_bot(user, "the phone question", seen)
        seen = len(self.bot_said(user))
        self.emu.user_shares_contact(user, phone_number=f"+7900000{user}")
        await self.wait_bot(user, "the end of registration", seen)
        self.t.say(f"{name} (tg)", f"/start lenina-5 → кв. {apartment}, телефон → registered")

    async def resident_emails(self, sender: str, name: str, subject: str, body: str) -> str:
        self.t.say(f"{name} (mail)", f"{subject}: {body}")
        before = len(self.sink.messages)
        raw = resident_mail(sender, name, subject, body, self.clock.now())
        if self.dovecot is not None and self.office_user is not None:
            await self.dovecot.append(self.office_user, raw, date=self.clock.now())
        else:  # no Dovecot here: the same parser and intake path the poller uses
            from intake.email import parse_mail

            parsed = parse_mail(raw, own_addresses=frozenset({OFFICE}))
            await self.app.intake.ingest(parsed.to_inbound(fallback_time=self.clock.now()))
        got = await self.sink.wait_for(before + 1, timeout=15)
        ack = got[before].message
        self.t.say("mail → " + name, f"{ack['Subject']}")
        return str(ack["Subject"])

    def card_of(self, number: str) -> dict[str, Any]:
        for m in reversed(self.bot_said(STAFF_CHAT)):
            if number in (m.get("text") or "") and m.get("reply_markup"):
                return m
        raise DemoFailed(f"no card for {number} in the staff chat")

    async def staff_presses(self, staff: int, number: str, action: str) -> None:
        card = self.card_of(number)
        buttons = [b for row in card["reply_markup"]["inline_keyboard"] for b in row]
        data = next((b["callback_data"] for b in buttons
                     if b.get("callback_data", "").startswith(f"c:{action}:")), None)
        if data is None:
            raise DemoFailed(f"no {action} button on the card of {number}")
        answers = len(self.emu.callback_answers)
        self.emu.user_presses(staff, card, data)
        await self.emu.wait_for(lambda: len(self.emu.callback_answers) > answers, timeout=10,
                                what=f"the answer to {STAFF[staff]} pressing {action}")
        self.t.say(STAFF[staff].split()[0] + " (staff)", f"[{action}] on {number}")

    async def case(self, number: str) -> Case:
        async with self.app.wf.sessions() as s:
            case = await s.scalar(select(Case).where(Case.number == number))
        if case is None:
            raise DemoFailed(f"case {number} not found")
        return case

    async def settle(self) -> None:
        """Let the outbox drain (it is woken on commit; this only waits for it)."""
        for _ in range(150):
            async with self.app.wf.sessions() as s:
                pending = await s.scalar(select(OutboxItem.id).where(
                    OutboxItem.state == "pending",
                    OutboxItem.next_attempt_at <= self.clock.now()).limit(1))
            if pending is None:
                return
            self.app.outbox.wake()
            await asyncio.sleep(0.1)

    # --- the scenario -------------------------------------------------------------------

    async def run(self) -> None:
        t = self.t
        number = _number_in

        t.say("residents", "four residents scan the entrance QR code (t.me/<bot>?start=lenina-5)")
        await asyncio.gather(self.register(501, "12"), self.register(503, "7"),
                             self.register(502, "30"), self.register(504, "88"))
        reply = await self.resident_says(
            501, "Третий раз пишу: опять не работает лифт во втором подъезде, "
                 "никто не реагирует! Бабушка с пятого этажа не может выйти.", expect="A-")
        lift = number(reply["text"])
        t.check("complaint acknowledged in Telegram with a case number", bool(lift))

        self.clock.advance(timedelta(minutes=7))
        subject = await self.resident_emails(
            "smirnov@example.org", "Игорь Смирнов", "Течёт смеситель",
            "Добрый день! Прошу прислать сантехника: течёт смеситель на кухне, кв. 45.")
        tap = number(subject)
        t.check("email request acknowledged by email, threaded subject tag", bool(tap))

        self.clock.advance(timedelta(minutes=5))
        reply = await self.resident_says(503, "When will the hot water be back? "
                                              "We have had none since yesterday.", expect="-")
        t.check("English resident answered in English", "case" in reply["text"].lower())

        self.clock.advance(timedelta(minutes=9))
        reply = await self.resident_says(502, "В подъезде сильно пахнет газом!!!", expect="112")
        gas = number(reply["text"])
        t.check("gas smell: emergency acknowledgement with safety advice", bool(gas))

        self.clock.advance(timedelta(minutes=20))
        outage: list[str] = []
        reply = await self.resident_says(504, "Во всём доме нет света, весь подъезд "
                                              "в темноте.", expect="A-")
        outage.append(number(reply["text"]))
        self.clock.advance(timedelta(minutes=2))
        reply = await self.resident_says(501, "Света нет во всём доме с утра", expect="A-")
        outage.append(number(reply["text"]))
        self.clock.advance(timedelta(minutes=3))
        outage.append(number(await self.resident_emails(
            "volkova@example.org", "Анна Волкова", "Нет электричества",
            "Здравствуйте, во всём доме нет электричества, лифты стоят.")))
        incidents = {(await self.case(n)).incident_id for n in outage if n}
        t.check("three reports of one outage form one incident",
                len(incidents) == 1 and None not in incidents)

        self.clock.advance(timedelta(minutes=15))
        await self.settle()
        sent_before = len(self.sink.messages)
        await self.staff_presses(1001, tap, "take")
        await self.settle()
        await self.staff_presses(1001, tap, "resolve")
        await self.settle()
        got = await self.sink.wait_for(sent_before + 2, timeout=15)
        for mail in got[sent_before:]:
            t.say("mail → Игорь", str(mail.message["Subject"]))
        t.check("take and resolve reached the email resident",
                (await self.case(tap)).stage == "resolved")

        # The electrician restores the power: resolving one report of the outage resolves the
        # incident, and every resident who reported it is told on their own channel.
        self.clock.advance(timedelta(minutes=40))
        sent_before = len(self.sink.messages)
        reporters = ((504, outage[0]), (501, outage[1]))
        seen = {uid: len(self.bot_said(uid)) for uid, _ in reporters}
        await self.staff_presses(1001, outage[0], "take")
        await self.settle()
        await self.staff_presses(1001, outage[0], "resolve")
        await self.settle()
        got = await self.sink.wait_for(sent_before + 1, timeout=15)  # the email reporter
        t.say("mail → Анна", str(got[-1].message["Subject"]))
        told = [any(n in (m.get("text") or "") for m in self.bot_said(uid)[seen[uid]:])
                 for uid, n in reporters]
        t.check("resolving the outage told all three residents",
                all(told) and all([(await self.case(n)).stage == "resolved" for n in outage]))

        # Nobody takes the lift complaint: a day later its deadline has passed.
        t.say("clock", "… a day passes (accelerated clock) …")
        self.clock.advance(timedelta(days=1, hours=1))
        for _ in range(3):
            report = await self.app.escalator.run_pass()
            t.say("scheduler", f"deadline pass: {report.escalated} case(s) escalated, "
                               f"{report.pings} ping(s)")
            await self.settle()
            self.clock.advance(self.app.config.sla.escalation_step + timedelta(minutes=1))
        manager_pings = [m for m in self.bot_said(1009) if lift in (m.get("text") or "")]
        chat_pings = [m for m in self.bot_said(MANAGERS_CHAT) if lift in (m.get("text") or "")]
        if manager_pings:
            t.say("bot → Анна", manager_pings[-1]["text"])
        t.check("the overdue complaint's escalation reached the manager",
                bool(manager_pings) and bool(chat_pings))
        t.check("the emergency was escalated too (nobody took it either)",
                (await self.case(gas)).escalation_level > 0)

    async def summary(self) -> None:
        async with self.app.wf.sessions() as s:
            cases = (await s.scalars(select(Case).order_by(Case.id))).all()
            incidents = (await s.scalars(select(Incident))).all()
            states = [o.state for o in await s.scalars(select(OutboxItem))]
        print("\n  case     channel   kind/category/urgency/scope             "
              "stage          incident  escalation")
        for c in cases:
            labels = f"{c.kind}/{c.category}/{c.urgency}/{c.scope}"
            print(f"  {c.number:8} {c.channel:9} {labels:40} {c.stage:14} "
                  f"{('#' + str(c.incident_id)) if c.incident_id else '—':9} "
                  f"level {c.escalation_level}")
        tg = [m for m in self.emu.sent_messages()]
        print(f"\n  {len(cases)} cases, {len(incidents)} incident(s); outbox: "
              + ", ".join(f"{s} {states.count(s)}" for s in sorted(set(states))))
        print(f"  Telegram: {len(tg)} bot messages ({len(self.bot_said(STAFF_CHAT))} in the "
              f"staff chat, {len(self.emu.topics(STAFF_CHAT))} case topics), "
              f"{self.emu.flood_error_count} flood-limit answers; "
              f"email: {len(self.sink.messages)} messages in the SMTP sink")


def _number_in(text: str) -> str:
    import re

    m = re.search(r"\bA-\d+\b", text)
    return m.group(0) if m else ""


@contextlib.contextmanager
def _peers_dir() -> Iterator[Path]:
    # Dovecot runs as nobody: its directory must be traversable (not a 0700 mkdtemp).
    path = Path(tempfile.mkdtemp(prefix="domovoy-demo-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def run_demo(quiet: bool = False) -> int:
    # The polling loop logs a reconnect when the emulator stops first; not news in a demo.
    logging.getLogger("aiogram").setLevel(logging.CRITICAL)
    clock = ShiftedClock(START)
    timeline = Timeline(clock, quiet)
    out: Callable[[str], None] = (lambda s: None) if quiet else print
    with _peers_dir() as tmp:
        emu = BotAPIEmulator()
        await emu.start()
        # The demo's day is compressed six times: the staff chat gets Telegram's 20 messages
        # per window, but a 10 s window instead of a minute, and a chat six messages a second
        # instead of one; the bot paces itself to the same, so the demo finishes in seconds.
        emu.flood_limits = FloodLimits(group_window=60.0 / DEMO_SPEED,
                                       private_per_second=DEMO_SPEED)
        emu.add_supergroup(STAFF_CHAT, "Диспетчерская УК", is_forum=True)
        emu.add_supergroup(MANAGERS_CHAT, "Руководство УК")
        for uid, name in STAFF.items():
            emu.add_private_chat(uid, first_name=name.split()[0])
            emu.add_member(STAFF_CHAT, uid, name.split()[0])
            emu.add_member(MANAGERS_CHAT, uid, name.split()[0])
        for uid, (name, lang) in RESIDENTS.items():
            emu.add_private_chat(uid, first_name=name, language_code=lang)
        sink = SmtpSink().start()
        dovecot: Dovecot | None = None
        office_user: str | None = None
        if dovecot_available() is not None:
            dovecot = Dovecot(tmp / "dovecot")
            dovecot.start()
            office_user = dovecot.new_user("office")
        services: Services | None = None
        try:
            config = demo_config(tmp / "domovoy.sqlite3", emu, sink, dovecot, office_user)
            out("Domovoy demo: the real bot, IMAP poller and SMTP sender against local peers")
            out(f"  Bot API emulator {emu.base_url} · SMTP sink {sink.host}:{sink.port} · "
                + (f"Dovecot IMAP {dovecot.host}:{dovecot.port}" if dovecot else
                   "no Dovecot here (run `make system-deps`): mail goes through the same "
                   "parser and intake path directly"))
            out("")
            services = await start_services(
                config, clock=clock, scheduler=False,
                telegram_limits=SendLimits(group_window_s=60.0 / DEMO_SPEED,
                                           private_interval_s=1.0 / DEMO_SPEED))
            demo = Demo(emu, sink, services, clock, timeline, dovecot, office_user)
            await demo.run()
            await demo.settle()
            if not quiet:
                await demo.summary()
        except (DemoFailed, TimeoutError) as exc:
            timeline.check(f"scenario ran to the end ({exc})", False)
        except Exception as exc:  # the demo reports, it does not crash
            timeline.check(f"scenario ran to the end (unexpected {exc!r})", False)
        finally:
            if services is not None:
                await services.stop()
            sink.stop()
            if dovecot is not None:
                dovecot.stop()
            await emu.stop()
    failed = [what for what, ok in timeline.checks if not ok]
    out("")
    for what, ok in timeline.checks:
        out(f"  {'✓' if ok else '✗'} {what}")
    out(f"\n  {'all checks passed' if not failed else f'{len(failed)} check(s) failed'} in "
        f"{time.monotonic() - timeline.started:.1f} s")
    return 0 if not failed else 1
