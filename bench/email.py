"""End-to-end email import speed: Dovecot → IMAP FETCH → parse → classify → commit →
acknowledgement queued → \\Seen, in messages per second and peak RSS, beside the bare cost of
``email.message_from_bytes`` on the same mails in the same run.

The mails are synthetic but shaped like a Russian office inbox: UTF-8, KOI8-R and windows-1251;
8-bit, base64 and quoted-printable bodies; RFC 2047 and raw 8-bit subjects; plain text and
multipart/alternative with HTML; 1-5 KB each. Every imported subject is checked against what
was written, so speed is not bought with mojibake.

    .venv/bin/python bench/email.py [N]        (default 2000; needs dovecot-imapd)
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/email.py`: Python puts bench/ first on the path, where this very file
# would shadow the standard library's ``email`` package. Start from the repo root instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import asyncio
import base64
import email
import email.utils
import os
import quopri
import random
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.header import Header

from sqlalchemy import func, select

from bench._common import PROBLEMS, ratio_line
from domovoy.app import build_app
from domovoy.config import Config
from domovoy.peers.dovecot import Dovecot
from intake.email import parse_mail
from intake.email.imap import ImapPoller
from intake.email_settings import ImapConfig
from workflow.clock import ManualClock
from workflow.models import Case, OutboxItem

OFFICE = "office@uk-zarechye.test"
NAMES = ["Иван Петров", "Мария Сидорова", "Ольга Кузнецова", "Сергей Смирнов",
         "Наталья Попова", "Алексей Волков", "Елена Морозова", "Дмитрий Новиков"]
FILLER = ["Прошу принять меры как можно скорее, ситуация повторяется уже не первый раз.",
          "Звонила в диспетчерскую, но там не отвечают.",
          "Квартира на пятом этаже, подъезд номер два, код домофона работает.",
          "Буду дома после семи вечера.", "Соседи снизу тоже жалуются."]
SUBJECTS = ["Течёт кран", "Не работает лифт", "Нет горячей воды", "Холодные батареи",
            "Шум по ночам", "Не горит свет в подъезде", "Перерасчёт за отопление",
            "Не убирают снег во дворе"]


def sized_mail(i: int, rnd: random.Random) -> tuple[bytes, str]:
    """A mail of 1-5 KB on the wire: as much filler as fits the size drawn for it."""
    target = rnd.randint(1024, 5 * 1024)
    best = synthetic_mail(i, 0)
    for sentences in range(1, 40):
        mail = synthetic_mail(i, sentences)
        if len(mail[0]) > target and len(best[0]) >= 1024:
            break
        best = mail
    return best


def synthetic_mail(i: int, sentences: int) -> tuple[bytes, str]:
    """One mail and the subject a correct import must show."""
    rnd = random.Random(i)
    charset = rnd.choice(["utf-8", "koi8-r", "windows-1251"])
    cte = rnd.choice(["8bit", "base64", "quoted-printable"])
    subject = f"{rnd.choice(SUBJECTS)} — кв. {rnd.randint(1, 300)}"
    if charset == "koi8-r":
        subject = subject.replace("—", "-")  # KOI8-R has no em dash; residents type "-"
    name = rnd.choice(NAMES)
    body = (f"Здравствуйте!\n\n{rnd.choice(PROBLEMS).capitalize()}.\n\n"
            + " ".join(FILLER[k % len(FILLER)] for k in range(sentences))
            + f"\n\nС уважением,\n{name}\n")
    raw_subject = rnd.random() < 0.15  # old clients: raw 8-bit header in the body charset
    head = [
        f"From: {Header(name, 'utf-8').encode()} <resident{i % 400}@example.ru>",
        f"To: {OFFICE}",
        f"Date: {email.utils.format_datetime(datetime.now(UTC))}",
        f"Message-ID: <bench-{i}.{rnd.randrange(10**9)}@example.ru>",
        "MIME-Version: 1.0",
    ]
    if not raw_subject:
        head.append(f"Subject: {Header(subject, charset).encode()}")

    def part(ctype: str, text: str) -> bytes:
        data = text.replace("\n", "\r\n").encode(charset)
        if cte == "base64":
            payload = base64.encodebytes(data).replace(b"\n", b"\r\n")
        elif cte == "quoted-printable":
            payload = quopri.encodestring(data).replace(b"\n", b"\r\n")
        else:
            payload = data
        return (f"Content-Type: {ctype}; charset={charset}\r\n"
                f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode() + payload + b"\r\n"

    if rnd.random() < 0.5:
        body_bytes = part("text/plain", body)
    else:
        html = "<html><body>" + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) \
            + "</body></html>"
        b = f"=_alt_{i}"
        head.append(f'Content-Type: multipart/alternative; boundary="{b}"')
        body_bytes = (f"--{b}\r\n".encode() + part("text/plain", body)
                      + f"--{b}\r\n".encode() + part("text/html", html)
                      + f"--{b}--\r\n".encode())
    headers = "\r\n".join(head).encode() + b"\r\n"
    if raw_subject:
        headers += b"Subject: " + subject.encode(charset) + b"\r\n"
    if body_bytes.startswith(b"Content-Type: text/plain"):
        headers += body_bytes.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        body_bytes = body_bytes.split(b"\r\n\r\n", 1)[1]
    else:
        headers += b"\r\n"
    return headers + body_bytes, subject


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mails(n: int) -> Iterator[tuple[bytes, str]]:
    """The same ``n`` mails (raw bytes, subject as written) on every call."""
    rnd = random.Random(2026)
    return (sized_mail(i, rnd) for i in range(n))


async def load(server: Dovecot, user: str, n: int) -> tuple[list[str], list[int]]:
    """Append the mails one by one; keep only their subjects and sizes, so that the importer
    measured afterwards does not share its peak memory with the generator's 2,000 mails."""
    subjects, sizes = [], []
    async with server.client(user, timeout=60) as imap:
        for raw, subject in mails(n):
            resp = await imap.append(raw, mailbox="INBOX")
            assert resp.result == "OK", resp
            subjects.append(subject)
            sizes.append(len(raw))
    return subjects, sorted(sizes)


async def run(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="domovoy-bench-"))
    tmp.chmod(0o755)
    server = Dovecot(tmp / "dovecot")
    server.start()
    try:
        user = server.new_user("bench")
        t0 = time.perf_counter()
        subjects, sizes = await load(server, user, n)
        load_s = time.perf_counter() - t0

        clock = ManualClock(datetime.now(UTC))
        url = f"sqlite+aiosqlite:///{tmp}/b.db"
        # The schema is created as a deployment does it (`domovoy db upgrade`, its own
        # process), so the process measured is the daemon as it runs: on a current database
        # it never loads Alembic (about 11 MB more on a first start, when it migrates itself).
        subprocess.run([sys.executable, "-m", "domovoy", "db", "upgrade"], check=True,
                       env={**os.environ, "DOMOVOY_DATABASE_URL": url},
                       cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL)
        config = Config.model_validate({"database": {"url": url},
                                        "buildings": [{"code": "b1"}]})
        app = await build_app(config, clock=clock)
        imap = ImapConfig(host=server.host, port=server.port, ssl=False, username=user,
                          password=server.password, timeout_s=60)
        poller = ImapPoller(imap, app.intake, app.wf, own_addresses=frozenset({OFFICE}),
                            batch_size=50)
        rss_before = rss_mb()
        t0 = time.perf_counter()
        report = await poller.poll_once()
        ours_s = time.perf_counter() - t0
        rss_peak = rss_mb()
        await poller.close()
        assert report.error is None, report.error
        async with app.wf.sessions() as s:
            cases = await s.scalar(select(func.count(Case.id)))
            acks = await s.scalar(select(func.count(OutboxItem.id))
                                  .where(OutboxItem.purpose == "ack"))
            stored = dict((await s.execute(select(Case.number, Case.subject))).all())
        flags = await server.flags(user)
        unseen = sum(1 for f in flags.values() if "\\Seen" not in f)
        by_number = {r.case_number: uid for uid, r in report.results}
        garbled = sum(1 for number, subject in stored.items()
                      if subject != subjects[by_number[number] - 1])

        # Where the time goes: the IMAP fetch alone (same batches) and our parse alone.
        fetcher = ImapPoller(imap, app.intake, app.wf, batch_size=50)
        t0 = time.perf_counter()
        await fetcher.connect()
        fetched = 0
        for batch in await fetcher._batches(sorted(flags)):
            fetched += len(await fetcher._fetch(batch))
        fetch_s = time.perf_counter() - t0
        await fetcher.close()
        assert fetched == n
        now = clock.now()
        raws = [raw for raw, _ in mails(n)]
        t0 = time.perf_counter()
        for raw in raws:
            parse_mail(raw, own_addresses=frozenset({OFFICE})).to_inbound(fallback_time=now)
        parse_s = time.perf_counter() - t0
        await app.close()

        # Baseline: the stdlib parse alone, same bytes, same process.
        t0 = time.perf_counter()
        for raw in raws:
            email.message_from_bytes(raw)
        base_s = time.perf_counter() - t0
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    ours_rate, base_rate = n / ours_s, n / base_s
    print(f"email import benchmark: {n} mails, {sizes[0]}-{sizes[-1]} bytes "
          f"(median {sizes[len(sizes) // 2]}), loaded into Dovecot in {load_s:.1f} s")
    print(f"  imported {report.imported} ({report.actions.count('new_case')} new cases), "
          f"{cases} cases and {acks} acknowledgements queued, {unseen} left unseen, "
          f"{garbled} subjects garbled, {len(report.quarantined)} quarantined")
    print(ratio_line("  end-to-end IMAP import", ours_rate, base_rate)
          + " (baseline: email.message_from_bytes alone)")
    print(f"  time: {ours_s:.2f} s ours, {base_s:.2f} s baseline; "
          f"{1000 * ours_s / n:.2f} ms vs {1000 * base_s / n:.3f} ms per mail")
    rest = ours_s - fetch_s - parse_s
    print(f"  of which: IMAP fetch {1000 * fetch_s / n:.2f} ms, parse {1000 * parse_s / n:.2f} ms, "
          f"intake (classify, commit, acknowledgement queued) and \\Seen "
          f"{1000 * rest / n:.2f} ms per mail")
    print(f"  peak RSS: {rss_peak:.0f} MB (was {rss_before:.0f} MB before the import)")
    met = ours_rate >= 400 and rss_peak <= 100 and garbled == 0 and unseen == 0
    print(f"  target: >= 400 msg/s, peak RSS <= 100 MB, nothing garbled or left unseen -> "
          f"{'met' if met else 'NOT met'}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    asyncio.run(run(n))


if __name__ == "__main__":
    main()
