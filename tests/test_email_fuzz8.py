"""Eighth round: conversations a housing office's inbox holds over days. A resident writes from
another spelling of the same Yandex or Gmail mailbox, rates the work in the subject line,
answers "please send more" with a letter of their own, forwards their unanswered letter again;
a state portal forwards a complaint as machine mail; the office's copier mails a scan from the
office's own address. What the office should make of each."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from domovoy.app import App
from domovoy.peers.dovecot import Dovecot
from domovoy.peers.smtp_sink import SmtpSink
from intake.email import parse_mail
from intake.email.channel import EmailChannel
from intake.email.quotes import drop_forward_header
from intake.message import Automated, Channel, mailbox_key
from tests.conftest import RecordingSender
from tests.peers.mail import MAIL_DOMAIN, OFFICE, imap_config, smtp_config
from tests.test_email_fuzz7 import OWN, alias_bounce, ingest, letter, resolve
from workflow.clock import ManualClock
from workflow.feedback import subject_rating
from workflow.models import Case, Feedback, Identity, Message, OutboxItem

_ids = itertools.count(1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n" * 20


async def case_of(app: App, number: str) -> Case:
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return case


async def sent_to(app: App, recorder: RecordingSender, purpose: str) -> list[str]:
    """The addresses the outbox delivered letters of ``purpose`` to."""
    await app.outbox.deliver_due()
    return [i.recipient for i in recorder.sent if i.purpose == purpose]


def with_file(mail: bytes, filename: str = "scan.pdf", data: bytes = PDF,
              ctype: str = "application/pdf") -> bytes:
    """``mail`` (one text part, as :func:`letter` builds it) with a file attached."""
    head, _, body = mail.partition(b"\r\n\r\n")
    head = head.replace(b"Content-Type: text/plain; charset=utf-8\r\n"
                        b"Content-Transfer-Encoding: base64",
                        b'Content-Type: multipart/mixed; boundary="F8"')
    part = (f"--F8\r\nContent-Type: {ctype}; name=\"{filename}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{filename}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode()
    text = (b"--F8\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n")
    return (head + b"\r\n\r\n" + text + body + b"\r\n" + part
            + base64.encodebytes(data).replace(b"\n", b"\r\n") + b"--F8--\r\n")


# --- 1. one Yandex or Gmail mailbox, several spellings ------------------------------------------


@pytest.mark.parametrize(("first", "again"), [
    ("ivanov@yandex.ru", "ivanov@ya.ru"),
    ("ivanov@ya.ru", "ivanov@yandex.com"),
    ("ivanov@yandex.by", "ivanov@yandex.kz"),
    ("ivanov@narod.ru", "ivanov@yandex.ru"),
    ("i.vanov@yandex.ru", "i-vanov@ya.ru"),
    ("i.vanov@gmail.com", "ivanov@googlemail.com"),
    ("ivanov@gmail.com", "ivanov+dom@gmail.com"),
])
def test_spellings_of_one_mailbox_have_one_key(first: str, again: str) -> None:
    assert mailbox_key(Channel.EMAIL, first) == mailbox_key(Channel.EMAIL, again)


@pytest.mark.parametrize(("first", "other"), [
    ("ivanov@mail.ru", "ivanov@inbox.ru"),        # Mail.ru's domains are separate mailboxes
    ("ivanov@mail.ru", "ivanov@bk.ru"),
    ("i.vanov@company.ru", "ivanov@company.ru"),  # a company's dots are its own business
    ("ivanov@gmail.com", "ivanov@yandex.ru"),
])
def test_different_mailboxes_stay_apart(first: str, other: str) -> None:
    assert mailbox_key(Channel.EMAIL, first) != mailbox_key(Channel.EMAIL, other)


async def test_a_resident_writing_from_another_yandex_alias_is_the_same_resident(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter(
        "Течёт стояк", "Ул. Ленина 5, кв. 45: течёт стояк горячей воды в ванной.",
        "Пётр Иванов <ivanov@yandex.ru>"))
    assert await sent_to(app, recorder, "ack") == ["ivanov@yandex.ru"]
    clock.advance(timedelta(hours=3))
    # from the phone's Yandex app, which writes as @ya.ru, with the case tag and no threading
    again = await ingest(app, tmp_path, letter(
        f"Re: [{first['case']}] Обращение зарегистрировано", "Теперь капает и у соседей снизу.",
        "Пётр Иванов <ivanov@ya.ru>"))
    assert (again["action"], again["case"]) == ("threaded", first["case"])
    # staff answer where he wrote from last; the mailbox is one identity, kept as typed
    await app.cases.reply(first["case"], 1001, "Мастер придёт сегодня до 18:00.")
    assert await sent_to(app, recorder, "staff_reply") == ["ivanov@ya.ru"]
    async with app.wf.sessions() as session:
        addresses = (await session.scalars(select(Identity.address))).all()
    assert addresses == ["ivanov@ya.ru"]


async def test_a_gmail_resident_rating_from_googlemail_with_dots_is_recorded(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter(
        "Lift", "The lift in the 2nd entrance of Lenina 5 is stuck between floors, flat 12.",
        "John Smith <johnsmith@gmail.com>"))
    clock.advance(timedelta(days=1))
    await app.cases.act(first["case"], 1001, "resolve", "Repaired")
    clock.advance(timedelta(hours=2))
    got = await ingest(app, tmp_path, letter(
        f"Re: [{first['case']}] Case resolved", "5, thanks!",
        "John Smith <john.smith@googlemail.com>"))
    assert got["case"] == first["case"]
    async with app.wf.sessions() as session:
        fb = await session.scalar(select(Feedback))
        assert fb is not None and fb.rating == 5


async def test_a_neighbour_on_another_mail_ru_domain_is_not_taken_for_the_resident(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter(
        "Домофон", "Ул. Ленина 5, кв. 33: не работает домофон.", "Анна <anna.k@mail.ru>"))
    other = await ingest(app, tmp_path, letter(
        f"[{first['case']}] Домофон", "И у нас в кв. 34 тоже, трубка молчит.",
        "Анна <anna.k@inbox.ru>"))
    # a case number typed by a stranger is not trusted: her own case, linked
    assert other["action"] == "new_case" and other["case"] != first["case"]


async def test_a_bounce_naming_the_old_spelling_still_marks_the_mailbox(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    await ingest(app, tmp_path, letter("Мусор", "Ул. Ленина 5: не вывозят мусор неделю.",
                                       "Семён <semen@yandex.ru>"))
    await ingest(app, tmp_path, letter("Мусор", "Ул. Ленина 5: и контейнеры переполнены.",
                                       "Семён <semen@ya.ru>"))
    # the provider reports the mailbox under its canonical spelling
    bounce = alias_bounce("nothing@uk-zarechye.test").replace(
        b"semen1957@gmail.example", b"semen@yandex.ru").replace(
        b"semen@tsj-lenina5.example", b"semen@yandex.ru")
    got = await ingest(app, tmp_path, bounce)
    assert got["action"] == "bounce"
    async with app.wf.sessions() as session:
        ident = await session.scalar(select(Identity))
        assert ident is not None and ident.address == "semen@ya.ru" and ident.unreachable


async def test_the_answer_goes_to_the_alias_over_real_smtp(
        app: App, dovecot: Dovecot, imap_user: str, smtp_sink: SmtpSink,
        clock: ManualClock) -> None:
    """Through Dovecot and the SMTP sink as ``domovoy run`` wires them: the second letter from
    @ya.ru threads, and the staff answer leaves for @ya.ru."""
    channel = EmailChannel(imap_config(dovecot, imap_user), smtp_config(smtp_sink), app.intake,
                           app.wf, own_addresses=OWN, mail_domain=MAIL_DOMAIN)
    assert channel.sender is not None
    app.register_sender("email", channel.sender)
    app.register_sender("staff", RecordingSender())
    try:
        assert channel.poller is not None
        await dovecot.append(imap_user, letter(
            "Нет света", "Ул. Пушкина 10, кв. 7: нет света в подъезде на 3 этаже.",
            "Ольга <olga.p@yandex.ru>"))
        report = await channel.poller.poll_once()
        number = report.results[0][1].case_number
        assert number is not None
        await app.outbox.deliver_due()
        [ack] = await smtp_sink.wait_for(1)
        assert ack.rcpt_tos == ("olga.p@yandex.ru",)
        await dovecot.append(imap_user, letter(
            f"RE: [{number}] Обращение зарегистрировано", "На 4 этаже тоже темно.",
            "Ольга <olga-p@ya.ru>"))
        report = await channel.poller.poll_once()
        assert report.actions == ["threaded"]
        await app.cases.reply(number, 1001, "Электрик будет в 15:00.")
        await app.outbox.deliver_due()
        received = await smtp_sink.wait_for(2)
        assert received[-1].rcpt_tos == ("olga-p@ya.ru",)
    finally:
        await channel.close()


# --- 2. a rating typed into the subject ------------------------------------------------------


QUOTE = ("\n\n15.01.2026, 12:00, \"УК «Заречье»\" <office@uk-zarechye.test>:\n"
         "> Обращение A-1001 решено.\n> Пожалуйста, оцените работу от 1 до 5.\n")


@pytest.mark.parametrize(("subject", "body", "score"), [
    ("5", "", 5),                                     # Gmail: subject overwritten, empty body
    ("Оценка 5", QUOTE, 5),                           # Yandex: only the quote below
    ("Re: Оценка: 4", "С уважением,\nИван Сидоров" + QUOTE, 4),  # Thunderbird's sign-off
    ("Re: 5", "Спасибо!\n\nОтправлено с iPhone" + QUOTE, 5),
    ("Re: [A-1001] ⭐⭐⭐", "", 3),
], ids=["gmail_bare", "yandex_quote", "thunderbird_signoff", "iphone_thanks", "stars"])
async def test_a_score_in_the_subject_is_a_rating(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path,
        subject: str, body: str, score: int) -> None:
    first = await ingest(app, tmp_path, letter(
        "Засор", "Ул. Ленина 5, кв. 45: засор канализации на кухне."))
    ours = await resolve(app, recorder, clock, first["case"], "Засор устранён")
    clock.advance(timedelta(hours=1))
    got = await ingest(app, tmp_path, letter(subject, body, extra=f"In-Reply-To: {ours}\n"))
    assert got["case"] == first["case"]
    async with app.wf.sessions() as session:
        fb = await session.scalar(select(Feedback))
        assert fb is not None and fb.rating == score
    assert (await case_of(app, first["case"])).stage == "resolved"


def test_an_untouched_or_counting_subject_is_no_rating() -> None:
    assert subject_rating("Re: [A-1042] Заявка выполнена — оцените", "") is None
    assert subject_rating("Re: [A-1042] Обращение решено", "Спасибо") is None
    assert subject_rating("Re: 2 крана так и текут", "") is None
    assert subject_rating("Fwd: 5 лет не могут починить", "") is None
    assert subject_rating("Оценка 2", "Мастер опоздал на час") == (2, "Мастер опоздал на час")


# --- 3. the answer to "need info" as a letter of its own --------------------------------------


async def _asked(app: App, clock: ManualClock, tmp_path: Path, sender: str) -> str:
    first = await ingest(app, tmp_path, letter(
        "Протечка", "Ул. Ленина 5. С потолка в ванной капает вода, течёт по стене.", sender))
    clock.advance(timedelta(hours=2))
    await app.cases.act(first["case"], 1001, "need_info", "Уточните номер квартиры и этаж.")
    clock.advance(timedelta(hours=5))
    return str(first["case"])


async def test_an_answer_sent_as_a_new_letter_joins_the_case_that_asked(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number = await _asked(app, clock, tmp_path, "Нина <nina.v@mail.ru>")
    got = await ingest(app, tmp_path, letter(
        "Уточнение", "Квартира 45, 9 этаж, второй подъезд. Дома после 18:00.",
        "Нина <nina.v@mail.ru>"))
    assert (got["action"], got["case"]) == ("threaded", number)
    case = await case_of(app, number)
    assert case.paused_at is None  # the clock runs again
    assert await sent_to(app, recorder, "staff_resident_message")
    # and a photo sent the next day, as the staff asked, joins too
    clock.advance(timedelta(days=1))
    await app.cases.act(number, 1001, "need_info", "Пришлите фото потолка.")
    clock.advance(timedelta(hours=3))
    photo = await ingest(app, tmp_path, with_file(
        letter("Фото", "Фото во вложении.", "Нина <nina.v@mail.ru>"), "IMG_2041.jpg",
        b"\xff\xd8\xff\xe0" + bytes(200), "image/jpeg"))
    assert (photo["action"], photo["case"]) == ("threaded", number)


@pytest.mark.parametrize(("subject", "body", "wait"), [
    # a new problem of another kind while staff wait: a case of its own
    ("Лифт", "Не работает лифт во втором подъезде, застряли соседи.", timedelta(hours=1)),
    # an answer long after staff asked is read as a new letter
    ("Уточнение", "Квартира 45, 9 этаж.", timedelta(days=6)),
], ids=["other_problem", "too_late"])
async def test_a_new_letter_that_is_not_the_answer_opens_its_own_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path,
        subject: str, body: str, wait: timedelta) -> None:
    number = await _asked(app, clock, tmp_path, "Нина <nina.v@mail.ru>")
    clock.advance(wait)
    got = await ingest(app, tmp_path, letter(subject, body, "Нина <nina.v@mail.ru>"))
    assert got["case"] != number


async def test_with_two_open_cases_an_unthreaded_answer_is_not_guessed(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number = await _asked(app, clock, tmp_path, "Нина <nina.v@mail.ru>")
    await ingest(app, tmp_path, letter("Двор", "Ул. Ленина 5: во дворе не убран снег.",
                                       "Нина <nina.v@mail.ru>"))
    clock.advance(timedelta(hours=1))
    got = await ingest(app, tmp_path, letter("Ответ", "Квартира 45, 9 этаж.",
                                             "Нина <nina.v@mail.ru>"))
    assert got["case"] != number and (await case_of(app, number)).paused_at is not None


# --- 4. the resident's own letter forwarded again -------------------------------------------


ORIGINAL = "Ул. Ленина 5, кв. 45. Течёт кран на кухне, вода капает уже третий день."
AGAIN = "Пишу второй раз, никто не ответил!"
_OWN_FORWARDS = {
    "gmail": ("---------- Forwarded message ---------\n"
              "От: Иван Сидоров <ivan.sidorov@mail.ru>\nDate: пн, 12 янв. 2026 г. в 10:02\n"
              f"Subject: Течёт кран\nTo: <{OFFICE}>\n\n\n{ORIGINAL}\n"),
    "yandex": ("-------- Пересылаемое сообщение --------\n"
               "12.01.2026, 10:02, \"Иван Сидоров\" <ivan.sidorov@mail.ru>:\n\n"
               f"{ORIGINAL}\n\n-------- Конец пересылаемого сообщения --------\n"),
    "iphone": ("Начало переадресованного сообщения:\n\n"
               "От кого: Иван Сидоров <ivan.sidorov@mail.ru>\n"
               "Дата: 12 января 2026 г. в 10:02:00 GMT+3\n"
               f"Кому: {OFFICE}\nТема: Течёт кран\n\n{ORIGINAL}\n"),
    "outlook": ("________________________________\n"
                "От: Иван Сидоров <ivan.sidorov@mail.ru>\n"
                "Отправлено: 12 января 2026 г. 10:02\n"
                f"Кому: {OFFICE}\nТема: Течёт кран\n\n{ORIGINAL}\n"),
}


@pytest.mark.parametrize("layout", list(_OWN_FORWARDS))
def test_the_residents_own_forwarded_letter_reads_as_the_report(layout: str) -> None:
    parsed = parse_mail(letter("Fwd: Течёт кран", f"{AGAIN}\n\n{_OWN_FORWARDS[layout]}"),
                        own_addresses=OWN)
    assert parsed.sender == "ivan.sidorov@mail.ru"
    assert parsed.text == f"{AGAIN}\n\n{ORIGINAL}"


def test_a_neighbours_forwarded_letter_keeps_its_header() -> None:
    neighbour = _OWN_FORWARDS["gmail"].replace("ivan.sidorov@mail.ru", "maria@mail.example")
    assert drop_forward_header(f"Смотрите.\n\n{neighbour}", "ivan.sidorov@mail.ru") is None
    parsed = parse_mail(letter("Fwd: Течёт кран", f"Смотрите.\n\n{neighbour}"),
                        own_addresses=OWN)
    assert "maria@mail.example" in parsed.text


async def test_an_unanswered_letter_forwarded_again_continues_its_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter("Течёт кран", ORIGINAL))
    clock.advance(timedelta(days=3))
    again = await ingest(app, tmp_path, letter(
        "Fwd: Течёт кран", f"{AGAIN}\n\n{_OWN_FORWARDS['yandex']}"))
    assert (again["action"], again["case"]) == ("threaded", first["case"])
    relayed = await sent_to(app, recorder, "staff_resident_message")
    assert relayed
    text = next(i.text for i in recorder.sent if i.purpose == "staff_resident_message")
    assert AGAIN in text


async def test_a_lost_letter_forwarded_again_opens_a_complaint(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    got = await ingest(app, tmp_path, letter(
        "Fwd: Течёт кран", f"{AGAIN}\n\n{_OWN_FORWARDS['iphone']}"))
    assert got["action"] == "new_case"
    case = await case_of(app, got["case"])
    assert case.kind == "complaint" and case.category == "plumbing"
    assert case.text == f"{AGAIN}\n\n{ORIGINAL}"
    assert await sent_to(app, recorder, "ack") == ["ivan.sidorov@mail.ru"]


# --- 5. a state portal's machine mail forwarding a complaint -----------------------------------


GIS = ("Уважаемый пользователь!\n\nВ ГИС ЖКХ поступило обращение гражданина "
       "№ 50-2026-0001234 в адрес вашей организации.\n\nТекст обращения:\n"
       "Ул. Ленина 5, кв. 12. Второй месяц не убирают подъезд, грязь на лестницах.\n\n"
       "Ответ необходимо направить в течение 10 рабочих дней через личный кабинет.\n\n"
       "Это письмо сформировано автоматически, отвечать на него не нужно.")
POS = ("Поступило новое сообщение на платформу обратной связи «Решаем вместе».\n"
       "Категория: ЖКХ — уборка подъездов.\nАдрес: ул. Ленина, 5.\n"
       "Текст: Не убирают подъезд уже месяц.\nСрок ответа: 20.01.2026.")
INSPECTION = ("Государственная жилищная инспекция направляет для рассмотрения жалобу "
              "жителя кв. 12 дома 5 по ул. Ленина на протечку кровли. О результатах "
              "рассмотрения прошу сообщить в срок до 30.01.2026.")


@pytest.mark.parametrize(("sender", "subject", "body"), [
    ("ГИС ЖКХ <noreply@dom.gosuslugi.ru>", "Новое обращение гражданина", GIS),
    ("Решаем вместе <no-reply@pos.gosuslugi.ru>", "Новое сообщение", POS),
    ("ГЖИ <gzhi@gov.spb.ru>", "О рассмотрении жалобы", INSPECTION),
    ("Мосжилинспекция <mzhi@mos.ru>", "Жалоба жителя", INSPECTION),
], ids=["gis_zhkh", "reshaem_vmeste", "inspection_spb", "inspection_moscow"])
async def test_an_authoritys_notice_opens_a_case_for_staff_and_is_never_answered(
        app: App, recorder: RecordingSender, tmp_path: Path,
        sender: str, subject: str, body: str) -> None:
    mail = letter(subject, body, sender, extra="Auto-Submitted: auto-generated\n"
                                               "Reply-To: inspector@gov.spb.ru\n")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None and parsed.sender is None
    got = await ingest(app, tmp_path, mail)
    assert got["action"] == "manual_review"
    case = await case_of(app, got["case"])
    assert case.needs_review and "portal" in (case.review_reason or "")
    await app.outbox.deliver_due()
    assert not [i for i in recorder.sent if i.channel == "email"]  # nothing to a robot
    assert [i for i in recorder.sent if i.purpose == "staff_new_case"]


@pytest.mark.parametrize(("sender", "subject", "body", "extra", "why"), [
    # an inspector's out-of-office answering our letter
    ("Инспектор <petrova@gov.spb.ru>", "Автоответ: [A-1001] Обращение зарегистрировано",
     "Я в отпуске до 25.01. По срочным вопросам обращайтесь в приёмную.",
     "Auto-Submitted: auto-replied\nIn-Reply-To: <a-1001.x@uk-zarechye.test>\n", "autoreply"),
    # Госуслуги telling the office's account about a login: no complaint in it
    ("Госуслуги <noreply@gosuslugi.ru>", "Вход в личный кабинет",
     "Выполнен вход в личный кабинет организации с нового устройства. Если это были не вы, "
     "смените пароль.", "Auto-Submitted: auto-generated\n", "autoreply"),
    # a newsletter about new rules
    ("ГИС ЖКХ <news@dom.gosuslugi.ru>", "Новости ГИС ЖКХ",
     "Изменился порядок обработки обращений граждан в системе. Подробнее на сайте.",
     "Auto-Submitted: auto-generated\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
     "List-Unsubscribe: <https://dom.gosuslugi.ru/unsub>\n", "autoreply"),
    # a shop's robot naming "обращение" is still only a robot
    ("Магазин <robot@shop.example>", "Ваше обращение",
     "Ваше обращение № 123 по заказу зарегистрировано, отвечать на него не нужно. Мы свяжемся "
     "с вами в течение двух рабочих дней.", "Auto-Submitted: auto-generated\n", "autoreply"),
], ids=["inspector_away", "login_notice", "newsletter", "shop_robot"])
def test_other_machine_mail_from_anywhere_stays_ignored(
        sender: str, subject: str, body: str, extra: str, why: str) -> None:
    parsed = parse_mail(letter(subject, body, sender, extra=extra), own_addresses=OWN)
    assert parsed.automated is Automated(why)


# --- 6. the office copier mailing from the office address ------------------------------------


SCANNER_HEADERS = "X-Mailer: KONICA MINOLTA bizhub C250i\n"


async def test_a_scan_from_the_office_copier_opens_a_case_for_staff(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    mail = with_file(letter("Message from KM_C250i", "", f"УК «Заречье» <{OFFICE}>",
                            extra=SCANNER_HEADERS), "SKM_C250i26011512000.pdf")
    got = await ingest(app, tmp_path, mail)
    assert got["action"] == "manual_review"
    case = await case_of(app, got["case"])
    assert case.needs_review and "copier" in (case.review_reason or "")
    await app.outbox.deliver_due()
    assert not [i for i in recorder.sent if i.channel == "email"]
    async with app.wf.sessions() as session:
        assert (await session.scalars(select(Identity))).all() == []  # no "resident" office@


@pytest.mark.parametrize(("subject", "body", "extra", "to_resident"), [
    # our acknowledgement's copy (Bcc to the office): addressed to the resident, no file
    ("[A-1001] Обращение зарегистрировано", "Ваше обращение зарегистрировано.",
     "Auto-Submitted: auto-replied\n", True),
    # a staff member's letter with a PDF from Outlook, copied to the office
    ("Ответ на обращение", "Направляем акт осмотра кв. 45.", "", True),
    # our staff answer with the case tag, a file attached by hand
    ("[A-1001] Ответ по обращению", "Акт во вложении.", "", False),
    # a letter answering another: ours, not the copier's
    ("Re: Протечка", "Акт во вложении.", "In-Reply-To: <x@mail.example>\n", False),
], ids=["our_ack_copy", "staff_outlook_copy", "tagged", "a_reply"])
def test_our_own_letters_are_still_never_imported(
        subject: str, body: str, extra: str, to_resident: bool) -> None:
    mail = with_file(letter(subject, body, f"УК «Заречье» <{OFFICE}>", extra=extra))
    if to_resident:
        mail = mail.replace(f"To: {OFFICE}".encode(), b"To: ivan.sidorov@mail.ru\r\nCc: "
                            + OFFICE.encode())
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.OWN


def test_our_own_letter_without_a_file_is_ours() -> None:
    mail = letter("Проверка", "Тестовое письмо самим себе.", f"УК <{OFFICE}>")
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.OWN


def test_a_scan_with_our_message_id_is_ours() -> None:
    mail = with_file(letter("Скан", "", f"УК <{OFFICE}>",
                            message_id=f"a-1001.{'c' * 32}@{MAIL_DOMAIN}"))
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.OWN


# --- further conversations ------------------------------------------------------------------


async def _count(app: App, model: Any) -> int:
    async with app.wf.sessions() as session:
        return len((await session.scalars(select(model))).all())


async def test_a_letter_logged_under_an_alias_keeps_the_alias_it_came_from(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    """Staff reading the conversation see which address each letter came from: the raw mail
    and the message log keep it, only the identity moves to the latest spelling."""
    await ingest(app, tmp_path, letter("Шум", "Ул. Ленина 5, кв. 8: соседи шумят по ночам.",
                                       "Лена <lena@yandex.ru>"))
    await ingest(app, tmp_path, letter("Шум", "Ул. Ленина 5, кв. 8: снова шумят всю ночь.",
                                       "Лена <lena@ya.ru>"))
    assert await _count(app, Identity) == 1
    async with app.wf.sessions() as session:
        residents = {m.resident_id for m in (await session.scalars(select(Message))).all()}
    assert len(residents) == 1


async def test_an_outbox_history_under_the_old_spelling_stays_as_sent(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    await ingest(app, tmp_path, letter("Батарея", "Ул. Ленина 5, кв. 3: холодная батарея.",
                                       "Олег <oleg@yandex.kz>"))
    await app.outbox.deliver_due()
    await ingest(app, tmp_path, letter("Подъезд", "Ул. Ленина 5: в подъезде не горит свет.",
                                       "Олег <oleg@yandex.ru>"))
    await app.outbox.deliver_due()
    async with app.wf.sessions() as session:
        acks = (await session.scalars(select(OutboxItem.recipient).where(
            OutboxItem.purpose == "ack").order_by(OutboxItem.id))).all()
    assert acks == ["oleg@yandex.kz", "oleg@yandex.ru"]


def test_a_thunderbird_forward_of_her_own_letter_with_a_quote_marker_reads_as_the_report() -> None:
    body = ("Добрый день, повторно отправляю.\n\n-------- Перенаправленное сообщение --------\n"
            "Тема: \tВентиляция\nДата: \tTue, 13 Jan 2026 09:00:00 +0300\n"
            "От: \tТатьяна Ким <tatiana.kim@mail.ru>\nКому: \t" + OFFICE + "\n\n\n"
            "Ул. Пушкина, 10, кв. 71. Не работает вытяжка в ванной.\n")
    parsed = parse_mail(letter("Fwd: Вентиляция", body, "Татьяна Ким <tatiana.kim@mail.ru>"),
                        own_addresses=OWN)
    assert parsed.text == ("Добрый день, повторно отправляю.\n\n"
                           "Ул. Пушкина, 10, кв. 71. Не работает вытяжка в ванной.")


def test_a_bitrix_crm_copy_from_the_office_address_without_a_file_is_ours() -> None:
    """Bitrix24's CRM sends our staff's answers from the office mailbox and files a copy in
    it: no file, addressed to the resident: ours, never a case."""
    mail = letter("Ответ на ваше обращение", "Здравствуйте! Мастер придёт завтра.",
                  f"УК «Заречье» <{OFFICE}>", extra="X-Bitrix-Posting: 123\n")
    mail = mail.replace(f"To: {OFFICE}".encode(), b"To: ivan.sidorov@mail.ru")
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.OWN


def test_a_scanner_with_its_own_mailbox_is_still_a_robot() -> None:
    mail = with_file(letter("Scanned from a Xerox Multifunction Printer",
                            "Please open the attached document.", "Xerox <scan@uk-zarechye.test>"),
                     "Scan_0001.pdf")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None and parsed.sender is None


def test_an_english_notice_forwarded_by_a_foreign_portal_is_not_an_authoritys() -> None:
    mail = letter("New complaint", "A new complaint about your property was submitted through "
                  "our portal by a tenant. Please log in to reply within 5 days.",
                  "Portal <noreply@tenants.example.com>", extra="Auto-Submitted: auto-generated\n")
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.AUTOREPLY


async def test_a_rating_in_the_subject_with_a_complaint_below_reopens(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter("Кран", "Ул. Ленина 5, кв. 45: течёт кран."))
    clock.advance(timedelta(days=1))
    await app.cases.act(first["case"], 1001, "resolve", "Кран заменён")
    clock.advance(timedelta(hours=5))
    # Outlook keeps the tag when the subject is edited after it
    again = await ingest(app, tmp_path, letter(
        f"Re: [{first['case']}] Оценка 2", "Кран опять течёт, проблема осталась."))
    assert (again["action"], again["case"]) == ("reopened", first["case"])
    async with app.wf.sessions() as session:
        fb = await session.scalar(select(Feedback))
        assert fb is not None and fb.rating == 2


async def test_a_need_info_answer_from_another_alias_joins_the_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    number = await _asked(app, clock, tmp_path, "Нина <nina.v@yandex.ru>")
    got = await ingest(app, tmp_path, letter("Ответ", "Кв. 45, этаж 9.", "Нина <nina-v@ya.ru>"))
    assert (got["action"], got["case"]) == ("threaded", number)


async def test_a_resident_sending_her_report_twice_within_the_hour_opens_one_case(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    """A Mail.ru app resending from the outbox after the phone went offline, from the
    googlemail alias the second time."""
    await ingest(app, tmp_path, letter("Свет", "Ул. Ленина 5: нет света на 2 этаже.",
                                       "Вера <vera@gmail.com>"))
    clock.advance(timedelta(minutes=20))
    got = await ingest(app, tmp_path, letter("Свет", "Ул. Ленина 5: нет света на 2 этаже.",
                                             "Вера <vera@googlemail.com>"))
    assert got["action"] == "duplicate"


def test_a_scan_to_email_from_the_office_with_an_encoded_subject_and_a_tiff() -> None:
    mail = with_file(letter("Отсканированный документ", "Отсканировано: 15.01.2026 12:00",
                            f"МФУ офиса <{OFFICE}>"), "doc00123.tif", b"II*\x00" + bytes(100),
                     "image/tiff")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is None and parsed.sender is None
    assert parsed.review_reason is not None
