"""Thirteenth round: who a letter is from and what of it is the resident's. An "E-mail:" line in
a signature is no form's field, a Reply-To set by the resident's mail program does not make
their reply a stranger's, a helpdesk's "письмо сформировано автоматически" is never answered, a
colleague copying the inbox is no resident, "Auto-payment" is no out-of-office label, a list
under "--" dividers and a P.S. under a signature stay, and fifty photos are fifty photos."""

from __future__ import annotations

from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from pydantic import ValidationError

from domovoy.app import App
from domovoy.runner import own_addresses
from intake.email import MailLimits, parse_mail
from intake.email.backlog import ingest_files
from tests.conftest import RecordingSender, make_config
from tests.peers.mail import MAIL_DOMAIN, OFFICE
from tests.test_email_fuzz7 import OWN, ingest, letter
from workflow.settings import LimitsConfig

IVAN = "Иван Петров <ivan.petrov@mail.ru>"


# --- 1. an "E-mail:" line that is not a form's field ------------------------------------------


@pytest.mark.parametrize("body", [
    # an employer's signature block
    "Здравствуйте! Течёт кран на кухне, кв. 45, ул. Ленина 5.\n\nС уважением,\nИван Петров\n"
    "Менеджер ООО «Ромашка»\nТел.: +7 495 123-45-67\nМоб.: +7 916 123-45-67\n"
    "E-mail: sales@romashka.ru\nСайт: romashka.ru",
    # a complaint that names the contractor's address
    "Жалоба на подрядчика.\n\nАдрес: ул. Ленина 5, кв. 45\nПодрядчик: ООО «Ремстрой»\n"
    "Телефон подрядчика: +7 495 765-43-21\nE-mail: info@remstroy.ru\n"
    "Суть: после ремонта крыши у меня течёт потолок, подрядчик не отвечает.",
    # a son writing for his mother gives her address; he asked for the answer himself
    "Добрый день! Пишу за маму.\n\nФИО: Сидорова Анна Ивановна\nАдрес: ул. Ленина 5, кв. 12\n"
    "Телефон: +7 916 000-11-22\nE-mail: anna.sidorova1948@mail.ru\n"
    "Проблема: не работает батарея в комнате.\n\nОтвет, пожалуйста, пришлите мне.",
], ids=["signature", "contractor", "relative"])
def test_a_persons_letter_is_answered_at_its_own_address_whatever_email_it_names(
        body: str) -> None:
    parsed = parse_mail(letter("Течёт кран", body, IVAN), own_addresses=OWN)
    assert parsed.sender == "ivan.petrov@mail.ru"
    assert not any("Reply-To" in note for note in parsed.notes)


def test_a_form_letter_from_the_sites_own_mailbox_is_still_its_authors() -> None:
    body = ("Вам было отправлено сообщение через форму обратной связи\n\nИмя: Ольга\n"
            "E-mail: olga.s@yandex.ru\nТелефон: +7 900 000-00-00\n\nСообщение:\n"
            "В доме 5 по ул. Ленина нет горячей воды.")
    parsed = parse_mail(letter("Сообщение с сайта", body, "Сайт <zayavki@uk-site.example>"),
                        own_addresses=OWN)
    assert parsed.sender == "olga.s@yandex.ru"


# --- 2. a resident whose mail program sets a Reply-To -----------------------------------------


async def test_a_reply_with_a_reply_to_of_the_residents_own_joins_the_case(
        app: App, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, letter(
        "Течёт кран", "Ул. Ленина 5, кв. 45: течёт кран на кухне.", IVAN))
    again = await ingest(app, tmp_path, letter(
        f"Re: [{first['case']}] Обращение зарегистрировано",
        "Кран так и течёт, уже залило соседей. Когда придёт мастер?", IVAN,
        extra="Reply-To: Ivan Petrov <i.petrov@company.ru>\n"))
    assert (again["action"], again["case"]) == ("threaded", first["case"])


# --- 3. letters that say they are automatic ---------------------------------------------------


async def test_a_helpdesks_ticket_notice_opens_a_case_for_staff_and_is_never_answered(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, letter(
        "Обращение №458812 зарегистрировано",
        "Здравствуйте!\n\nВаше обращение №458812 зарегистрировано. Срок рассмотрения — 10 "
        "рабочих дней.\n\nПисьмо сформировано автоматически, не отвечайте на него.",
        "Водоканал <support@vodokanal.example>"))
    assert (row["action"], row["acknowledged"]) == ("manual_review", False)
    await app.outbox.deliver_due()
    assert not [i for i in recorder.sent if i.channel == "email"]


def test_a_challenge_response_filter_is_not_answered() -> None:
    body = ("Hello,\nI'm protecting myself from receiving junk mail. Please click the link below "
            "to complete the verification process. You have to do this only once.\n"
            "https://www.spamarrest.com/verify?id=abc\n"
            "Your original message is held and will be delivered once you verify.")
    parsed = parse_mail(letter("Re: [A-1001] Обращение зарегистрировано", body,
                               "Ivan <ivan-verify@spamarrest.com>",
                               extra="In-Reply-To: <a-1001.x@uk-zarechye.test>\n"),
                        own_addresses=OWN)
    assert parsed.automated is not None


# --- 4. a colleague copying the office inbox --------------------------------------------------


async def test_a_colleagues_answer_copied_to_the_inbox_is_logged_on_the_case_unanswered(
        app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    own = own_addresses(make_config("sqlite://", mail_domain=MAIL_DOMAIN))
    first_mail = letter("Течёт кран", "Ул. Ленина 5, кв. 45: течёт кран на кухне.", IVAN,
                        message_id="first@mail.ru")
    answer = letter("Re: Течёт кран", "Иван, добрый день!\nСантехник придёт завтра с 10 до 12.",
                    f"Мария Иванова <m.ivanova@{MAIL_DOMAIN}>",
                    extra=f"In-Reply-To: <first@mail.ru>\nCc: {OFFICE}\n")
    rows = []
    for n, mail in enumerate((first_mail, answer)):
        path = tmp_path / f"{n}.eml"
        path.write_bytes(mail)
        rows += [row async for row in ingest_files(app.intake, [path], dry_run=False,
                                                   own_addresses=own)]
    assert rows[1]["action"] == "threaded" and rows[1]["case"] == rows[0]["case"]
    await app.outbox.deliver_due()
    assert [i.recipient for i in recorder.sent if i.channel == "email"] == [
        "ivan.petrov@mail.ru"]


def test_a_public_providers_domain_is_never_the_offices() -> None:
    config = make_config("sqlite://", mail_domain="gmail.com")
    assert not any(a.startswith("*@") for a in own_addresses(config))


# --- 5. "Auto-" in a resident's subject -------------------------------------------------------


@pytest.mark.parametrize("subject", ["Auto-payment charged twice for November",
                                     "Auto (car) parked on the lawn by entrance 2"])
def test_a_subject_starting_with_auto_is_a_residents(subject: str) -> None:
    parsed = parse_mail(letter(subject, "Flat 45, Lenina 5. Please look into it.", IVAN),
                        own_addresses=OWN)
    assert parsed.automated is None


@pytest.mark.parametrize("subject", ["AUTO: Out of office", "[Auto] Away until Monday"])
def test_auto_as_a_label_is_still_an_out_of_office_notice(subject: str) -> None:
    parsed = parse_mail(letter(subject, "I am away until Monday.", IVAN), own_addresses=OWN)
    assert parsed.automated is not None


# --- 6. "--" as a divider, a P.S. under a signature -------------------------------------------


def test_faults_listed_under_dividers_stay_in_the_case() -> None:
    body = ("Здравствуйте. Ленина 5, кв. 45.\n\n--\nПервое: течёт кран.\n--\n"
            "Второе: нет света в подъезде.")
    assert "нет света в подъезде" in parse_mail(letter("Две проблемы", body, IVAN)).text


def test_a_postscript_under_the_signature_is_the_residents() -> None:
    body = ("Ленина 5, кв. 45. Течёт кран.\n\n-- \nИван Петров\n+7 916 123-45-67\n\n"
            "P.S. Дома буду после 18:00, приходите вечером.")
    text = parse_mail(letter("Кран", body, IVAN)).text
    assert "после 18:00" in text and "+7 916" not in text


# --- 7. many photos in one letter -------------------------------------------------------------


def many_photos(count: int) -> bytes:
    """A letter with ``count`` distinct photos, as a phone's "select all" sends it."""
    msg = MIMEMultipart()
    msg["From"] = "ivan.petrov@mail.ru"
    msg["To"] = OFFICE
    msg["Subject"] = "Фото протечки"
    msg["Message-ID"] = f"<photos{count}@mail.ru>"
    msg.attach(MIMEText("Ленина 5, кв. 45, фото прилагаю.", "plain", "utf-8"))
    for n in range(count):
        photo = MIMEImage(b"\xff\xd8\xff\xe0" + bytes([n]) * 100, "jpeg")
        photo.add_header("Content-Disposition", "attachment", filename=f"photo_{n}.jpg")
        msg.attach(photo)
    return msg.as_bytes()


async def test_fifty_photos_in_one_letter_are_all_kept(app: App, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, many_photos(50))
    assert len(row["attachments"]) == 50


def test_photos_over_the_configured_cap_are_one_note_naming_them() -> None:
    parsed = parse_mail(many_photos(8), limits=MailLimits.configured(
        LimitsConfig(max_attachments=5)))
    assert len(parsed.attachments) == 5
    assert parsed.dropped == ("3 attachments dropped ('photo_5.jpg' … 'photo_7.jpg'): more "
                              "than 5 attachments; they stay in the mail",)


def test_the_attachment_limits_are_read_from_the_config() -> None:
    config = make_config("sqlite://", limits={"max_attachment_mb": 1, "max_attachments": 3})
    limits = MailLimits.configured(config.limits)
    assert (limits.max_attachments, limits.max_attachment_bytes) == (3, 1024 * 1024)
    with pytest.raises(ValidationError):
        make_config("sqlite://", limits={"max_attachments": 0})
