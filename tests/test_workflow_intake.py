"""The intake service: what residents and staff notice when a message arrives."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from domovoy.app import App
from intake.message import Attachment, Automated, PresetLabels
from tests.conftest import RecordingSender
from tests.helpers import LEAK, OUTAGE, mail, tg_message
from workflow.clock import ManualClock
from workflow.intake import _HINTED, _INCIDENT_PEER, Action, IntakeResult
from workflow.models import Case, Event, Feedback, Identity, Message, OutboxItem
from workflow.outbox import Outgoing
from workflow.sqlite_inline import sqlite_connection

PHOTO = Attachment("photo.jpg", "image/jpeg", 1234, "file-id")


async def count(app: App, model: type, *where: Any) -> int:
    async with app.wf.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_new_message_opens_case_and_acknowledges_on_same_channel(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    result = await app.intake.ingest(tg_message(501, "Течёт кран на кухне, прошу сантехника",
                                                clock.now(), preset=LEAK))
    assert result.action == Action.NEW_CASE
    assert result.case_number == "A-1001"
    assert result.acknowledged
    await app.outbox.deliver_due()
    acks = [o for o in recorder.sent if o.purpose == "ack"]
    assert len(acks) == 1
    assert acks[0].channel == "telegram" and acks[0].recipient == "501"
    assert "A-1001" in acks[0].text
    cards = [o for o in recorder.sent if o.channel == "staff"]
    assert cards and cards[0].recipient == "chat:lenina-5"
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
        assert case is not None
        assert case.stage == "acknowledged" and case.department == "plumbing"
        assert case.respond_due == clock.now() + timedelta(days=1)
        assert case.next_deadline == case.respond_due
        actions = list(await s.scalars(select(Event.action).where(Event.case_id == case.id)))
    assert actions == ["received", "acknowledged"]


async def test_exact_duplicate_is_dropped(app: App, clock: ManualClock) -> None:
    msg = tg_message(502, "Не работает лифт", clock.now())
    first = await app.intake.ingest(msg)
    again = await app.intake.ingest(msg)
    assert first.action == Action.NEW_CASE
    assert again.action == Action.DUPLICATE
    assert await count(app, Case) == 1
    assert await count(app, OutboxItem, OutboxItem.purpose == "ack") == 1


async def test_thanks_opens_no_case_but_a_person_sees_it(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    result = await app.intake.ingest(tg_message(503, "Спасибо, всё починили!", clock.now()))
    assert result.action == Action.IGNORED
    assert await count(app, Case) == 0
    assert await count(app, Message) == 1
    await app.outbox.deliver_due()
    relay = next(o for o in recorder.sent if o.purpose == "staff_unfiled")
    assert "Спасибо, всё починили!" in relay.text and relay.payload["message_id"]
    note = next(o for o in recorder.sent if o.purpose == "unfiled")
    assert note.channel == "telegram" and note.recipient == "503"
    # Staff disagree with the classifier: the message becomes a case after all.
    opened = await app.intake.open_from_logged(relay.payload["message_id"], "staff:1")
    assert opened.action == Action.NEW_CASE and opened.acknowledged
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.manual_triage and case.kind != "other"
    again = await app.intake.open_from_logged(relay.payload["message_id"], "staff:1")
    assert again.case_number == opened.case_number


async def test_unfiled_email_gets_no_automatic_answer(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    await app.intake.ingest(mail("spam@example.org", "Спасибо!", clock.now()))
    await app.outbox.deliver_due()
    assert [o.purpose for o in recorder.sent] == ["staff_unfiled"]


async def test_classifier_failure_still_opens_case_for_manual_triage(
        app: App, clock: ManualClock) -> None:
    class Broken:
        def classify(self, text: str, subject: str = "") -> object:
            raise RuntimeError("rules file vanished")

    app.wf.classifier = Broken()  # type: ignore[assignment]
    result = await app.intake.ingest(tg_message(504, "Что-то странное", clock.now()))
    assert result.action == Action.NEW_CASE and result.acknowledged
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case))
    assert case is not None and case.manual_triage and case.needs_review
    assert "rules file vanished" in (case.review_reason or "")


async def test_reply_reference_threads_into_open_case(app: App, clock: ManualClock) -> None:
    first = mail("anna@example.org", "Протекает потолок в ванной", clock.now(),
                 message_id="first@example.org")
    opened = await app.intake.ingest(first)
    follow = mail("anna@example.org", "Добавляю фото", clock.now(), subject="Re: Обращение",
                  hints=("first@example.org",))
    result = await app.intake.ingest(follow)
    assert result.action == Action.THREADED
    assert result.case_number == opened.case_number
    assert await count(app, Case) == 1


async def test_case_number_threads_only_for_its_own_resident(
        app: App, clock: ManualClock) -> None:
    opened = await app.intake.ingest(tg_message(505, "Нет света в квартире", clock.now()))
    mine = await app.intake.ingest(
        tg_message(505, f"По заявке {opened.case_number}: свет так и не дали", clock.now()))
    assert mine.action == Action.THREADED and mine.case_number == opened.case_number
    stranger = await app.intake.ingest(
        tg_message(506, f"Про заявку {opened.case_number}: у меня тоже нет света", clock.now()))
    assert stranger.action == Action.NEW_CASE
    assert stranger.linked_case == opened.case_number


async def test_a_case_number_typed_in_lower_case_still_threads(app: App,
                                                                 clock: ManualClock) -> None:
    """The number is matched regardless of case; the quick "is there a number at all" test in
    front of the pattern must not lose "a-1001" typed on a phone."""
    opened = await app.intake.ingest(tg_message(507, "Нет света в квартире", clock.now()))
    assert opened.case_number
    again = await app.intake.ingest(tg_message(
        507, f"по заявке {opened.case_number.lower()} ничего не изменилось", clock.now()))
    assert again.action == Action.THREADED and again.case_number == opened.case_number


async def test_reply_after_resolution_reopens_and_later_opens_linked_case(
        app: App, clock: ManualClock) -> None:
    opened = await app.intake.ingest(tg_message(507, "Течёт кран", clock.now(), preset=LEAK))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "take")
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили прокладку")
    clock.advance(timedelta(days=1))
    again = await app.intake.ingest(tg_message(507, f"{opened.case_number} снова течёт!",
                                               clock.now()))
    assert again.action == Action.REOPENED
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == opened.case_number))
        assert case is not None and case.stage == "investigating" and case.next_deadline
    await app.cases.act(opened.case_number, 1001, "close", "Готово")
    clock.advance(timedelta(days=30))
    late = await app.intake.ingest(tg_message(507, f"{opened.case_number} опять течёт",
                                              clock.now()))
    assert late.action == Action.NEW_CASE
    assert late.linked_case == opened.case_number


async def test_one_digit_reply_to_resolved_case_is_a_rating_not_a_reopen(
        app: App, clock: ManualClock) -> None:
    first = mail("boris@example.org", "Прошу заменить лампу в подъезде", clock.now(),
                 message_id="lamp@example.org")
    opened = await app.intake.ingest(first)
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили")
    rating = await app.intake.ingest(mail("boris@example.org", "5", clock.now(),
                                          hints=("lamp@example.org",)))
    assert rating.action == Action.THREADED and rating.note == "rating"
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == opened.case_number))
    assert case is not None and case.stage == "resolved"


@pytest.mark.parametrize("reply", ["Спасибо большое, всё починили!", "Спасибо! 5",
                                   "Оценка: 5", "Здравствуйте, УК «Домовой».\n\n5",
                                   # nothing to act on: the fix confirmed
                                   "Всё работает.", "Ок", "👍", "Отлично!",
                                   "Хорошо, что починили."])
async def test_thanks_a_rating_or_a_confirmation_after_resolution_does_not_reopen(
        app: App, recorder: RecordingSender, clock: ManualClock, reply: str) -> None:
    opened = await app.intake.ingest(mail("vera@example.org", "Прошу заменить лампу в подъезде",
                                          clock.now(), message_id="lamp2@example.org"))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили")
    await app.outbox.deliver_due()
    sent = len(recorder.sent)
    answer = await app.intake.ingest(mail("vera@example.org", reply, clock.now(),
                                          hints=("lamp2@example.org",)))
    assert answer.action == Action.THREADED and answer.note in ("settled", "rating")
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == opened.case_number))
    assert case is not None and case.stage == "resolved"
    await app.outbox.deliver_due()
    assert len(recorder.sent) == sent  # nobody is told the job is open again


async def _resolved_then(app: App, clock: ManualClock, reply: str,
                         msgid: str) -> tuple[str, IntakeResult]:
    opened = await app.intake.ingest(mail("vera@example.org", "Течёт кран на кухне, кв. 5",
                                          clock.now(), message_id=msgid))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили кран")
    return opened.case_number, await app.intake.ingest(
        mail("vera@example.org", reply, clock.now(), hints=(msgid,)))


async def test_a_rating_with_a_remark_is_kept_and_the_remark_reaches_staff(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    number, answer = await _resolved_then(app, clock, "Оценка 4, мастер опоздал на час.",
                                          "tap-r1@example.org")
    assert answer.action == Action.THREADED and answer.note == "rating"
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
        rating = await s.scalar(select(Feedback.rating))
    assert case is not None and case.stage == "resolved" and rating == 4
    await app.outbox.deliver_due()
    relay = [o for o in recorder.sent if o.purpose == "staff_resident_message"]
    assert relay and "опоздал" in relay[-1].text


async def test_a_rating_whose_remark_says_the_fault_is_back_reopens(
        app: App, clock: ManualClock) -> None:
    _, answer = await _resolved_then(app, clock, "2, кран опять течёт", "tap-r2@example.org")
    assert answer.action == Action.REOPENED
    async with app.wf.sessions() as s:
        assert await s.scalar(select(Feedback.rating)) == 2


async def test_a_follow_up_sent_twice_reaches_staff_once(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    opened = await app.intake.ingest(mail("vera@example.org", "Течёт кран на кухне, кв. 5",
                                          clock.now(), message_id="tap-r3@example.org"))
    first = await app.intake.ingest(mail("vera@example.org", "Когда придёт мастер?",
                                         clock.now(), hints=("tap-r3@example.org",)))
    clock.advance(timedelta(minutes=1))
    again = await app.intake.ingest(mail("vera@example.org", "Когда придёт мастер?",
                                         clock.now(), hints=("tap-r3@example.org",)))
    assert first.action == Action.THREADED and again.action == Action.DUPLICATE
    assert again.case_number == opened.case_number
    await app.outbox.deliver_due()
    assert len([o for o in recorder.sent if o.purpose == "staff_resident_message"]) == 1


@pytest.mark.parametrize("reply", ["Спасибо, но лампа опять не горит", "Проблема осталась",
                                   "Не починили", "", "Нет", "Не совсем",
                                   "2, проблема осталась."])
async def test_anything_but_thanks_after_resolution_reopens(
        app: App, clock: ManualClock, reply: str) -> None:
    # our own subject ("Re: [A-1001] Обращение решено") must not make "Проблема осталась" sound
    # settled; a photo without a word reopens too
    opened = await app.intake.ingest(mail("vera@example.org", "Прошу заменить лампу в подъезде",
                                          clock.now(), message_id="lamp3@example.org"))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили")
    again = await app.intake.ingest(dataclasses.replace(
        mail("vera@example.org", reply, clock.now(), hints=("lamp3@example.org",),
             subject=f"Re: [{opened.case_number}] Обращение решено"),
        attachments=() if reply else (PHOTO,)))
    assert again.action == Action.REOPENED


async def test_a_new_matter_answered_under_a_resolved_case_gets_its_own_case(
        app: App, clock: ManualClock) -> None:
    # the lamp was the electricians'; the pipe is the plumbers', with its own deadline
    opened = await app.intake.ingest(mail("vera@example.org", "Прошу заменить лампу в подъезде",
                                          clock.now(), message_id="lamp5@example.org"))
    assert opened.case_number
    await app.cases.act(opened.case_number, 1001, "resolve", "Заменили")
    answer = await app.intake.ingest(mail("vera@example.org",
                                          "Спасибо! А ещё в подвале течёт труба", clock.now(),
                                          hints=("lamp5@example.org",)))
    assert answer.action == Action.NEW_CASE and answer.linked_case == opened.case_number
    assert answer.labels is not None and answer.labels.category == "plumbing"
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == opened.case_number))
    assert case is not None and case.stage == "resolved"


@pytest.mark.parametrize("typed", ["По заявке А-{n} ничего не сделано",  # Cyrillic А
                                   "Заявка A{n}: всё ещё нет света",
                                   "по заявке №{n} свет так и не дали",
                                   "по заявке {n} свет так и не дали",
                                   "Заявка N{n}: всё ещё нет света",
                                   "Case #{n}: still no light"])
async def test_a_case_number_typed_loosely_threads(app: App, clock: ManualClock,
                                                   typed: str) -> None:
    opened = await app.intake.ingest(tg_message(508, "Нет света в квартире", clock.now()))
    assert opened.case_number
    number = opened.case_number.split("-")[1]
    again = await app.intake.ingest(tg_message(508, typed.format(n=number), clock.now()))
    assert again.action == Action.THREADED and again.case_number == opened.case_number


async def test_a_neighbours_reply_all_gets_her_own_case_linked_to_his(
        app: App, clock: ManualClock) -> None:
    # Ivan copied his neighbour; she answers all about her own leak
    his = await app.intake.ingest(mail("ivan@example.org", "Течёт стояк в ванной, кв. 45",
                                       clock.now(), message_id="riser@example.org"))
    hers = await app.intake.ingest(mail("anna@example.org", "У меня в кв. 41 тоже мокро",
                                        clock.now(), message_id="riser-anna@example.org",
                                        hints=("riser@example.org",)))
    assert hers.action == Action.NEW_CASE and hers.linked_case == his.case_number
    again = await app.intake.ingest(mail("ivan@example.org", "Уже капает на пол", clock.now(),
                                         hints=("riser@example.org",)))
    assert again.action == Action.THREADED and again.case_number == his.case_number
    # she answers all to his letter again: her own case, not a third one
    hers_again = await app.intake.ingest(mail("anna@example.org", "Уже и на кухне мокро",
                                              clock.now(), hints=("riser@example.org",)))
    assert hers_again.action == Action.THREADED and hers_again.case_number == hers.case_number
    # he answers all to her answer: his references name both letters, his own case is his
    his_again = await app.intake.ingest(mail(
        "ivan@example.org", "Сантехник обещал прийти завтра", clock.now(),
        hints=("riser@example.org", "riser-anna@example.org")))
    assert his_again.action == Action.THREADED and his_again.case_number == his.case_number


async def test_photos_sent_in_a_letter_of_their_own_join_the_report(
        app: App, clock: ManualClock) -> None:
    report = await app.intake.ingest(mail("olga@example.org", "Протечка с потолка в ванной, кв. 7",
                                          clock.now()))
    clock.advance(timedelta(minutes=15))
    photos = await app.intake.ingest(dataclasses.replace(
        mail("olga@example.org", "Фото прилагаю", clock.now(),
             subject="Протечка с потолка"), attachments=(PHOTO,)))
    assert photos.action == Action.THREADED and photos.case_number == report.case_number
    # a scan sent hours later is a document of its own, for staff to read
    clock.advance(timedelta(hours=3))
    scan = await app.intake.ingest(dataclasses.replace(
        mail("olga@example.org", "", clock.now()), attachments=(PHOTO,)))
    assert scan.action == Action.NEW_CASE and scan.case_number != report.case_number


async def test_the_same_letter_sent_twice_opens_one_case(app: App, clock: ManualClock) -> None:
    first = await app.intake.ingest(mail("oleg@example.org", "В подъезде 3 не горит свет",
                                         clock.now()))
    clock.advance(timedelta(minutes=2))
    second = await app.intake.ingest(mail("oleg@example.org", "В подъезде 3 не горит свет",
                                          clock.now()))
    assert second.action == Action.DUPLICATE and second.case_number == first.case_number
    assert await count(app, OutboxItem, OutboxItem.purpose == "ack") == 1
    clock.advance(timedelta(hours=2))
    later = await app.intake.ingest(mail("oleg@example.org", "В подъезде 3 не горит свет",
                                         clock.now()))
    assert later.action == Action.NEW_CASE  # the light went out again


async def test_a_conjunction_before_a_sum_is_no_case_number(app: App,
                                                             clock: ManualClock) -> None:
    first = await app.intake.ingest(tg_message(509, "Нет света в квартире", clock.now()))
    assert first.case_number
    number = first.case_number.split("-")[1]
    other = await app.intake.ingest(tg_message(
        510, f"Начислено 3400 руб., а {number} руб. из них непонятная корректировка",
        clock.now()))
    assert other.action == Action.NEW_CASE and other.linked_case is None


@pytest.mark.parametrize("text", ["Добрый день! Заявление во вложении.", ""])
async def test_a_file_sent_with_no_words_to_classify_opens_a_case_for_staff(
        app: App, clock: ManualClock, text: str) -> None:
    msg = dataclasses.replace(mail("petr@example.org", text, clock.now(), subject="Заявление"),
                              attachments=(Attachment("Заявление.docx", "application/msword",
                                                      20_000, "1"),))
    opened = await app.intake.ingest(msg)
    assert opened.action == Action.NEW_CASE and opened.acknowledged
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == opened.case_number))
    assert case is not None and case.needs_review


async def test_a_photo_sent_with_thanks_opens_no_case(app: App, clock: ManualClock) -> None:
    msg = dataclasses.replace(mail("petr@example.org", "Спасибо, всё работает!", clock.now()),
                              attachments=(PHOTO,))
    assert (await app.intake.ingest(msg)).action == Action.IGNORED


async def test_a_letter_asking_for_no_auto_reply_opens_a_case_without_an_acknowledgement(
        app: App, clock: ManualClock) -> None:
    msg = dataclasses.replace(mail("olga@example.org", "Нет света в квартире", clock.now()),
                              no_auto_reply=True)
    opened = await app.intake.ingest(msg)
    assert opened.action == Action.NEW_CASE and not opened.acknowledged
    assert await count(app, OutboxItem, OutboxItem.purpose == "ack") == 0
    assert await count(app, OutboxItem, OutboxItem.channel == "staff") > 0  # staff see it


async def test_a_date_in_the_future_does_not_start_deadlines_late(
        app: App, clock: ManualClock) -> None:
    ahead = clock.now() + timedelta(days=2)
    opened = await app.intake.ingest(mail("gleb@example.org", "Нет света в квартире", ahead))
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == opened.case_number))
    assert case is not None and case.received_at == clock.now()
    assert case.respond_due is not None and case.respond_due <= clock.now() + timedelta(days=1)


async def test_three_residents_reporting_one_outage_form_one_incident(
        app: App, clock: ManualClock) -> None:
    results = [await app.intake.ingest(tg_message(600 + i, "Во всём доме нет света", clock.now(),
                                                  preset=OUTAGE)) for i in range(3)]
    incidents = {r.incident_id for r in results[1:]}
    assert len(incidents) == 1 and None not in incidents
    async with app.wf.sessions() as s:
        linked = list(await s.scalars(select(Case.incident_id)))
    assert linked == [results[1].incident_id] * 3
    # Resolving the incident's first case resolves everyone's.
    assert results[0].case_number
    await app.cases.act(results[0].case_number, 1002, "resolve", "Свет дали")
    async with app.wf.sessions() as s:
        stages = set(await s.scalars(select(Case.stage)))
    assert stages == {"resolved"}


async def test_one_flats_leak_is_no_incident_for_a_building_wide_question(
        app: App, clock: ManualClock) -> None:
    leak = await app.intake.ingest(tg_message(650, "Течёт кран", clock.now(), preset=LEAK))
    question = await app.intake.ingest(tg_message(
        651, "Когда дадут горячую воду во всём доме?", clock.now(),
        preset=PresetLabels(kind="inquiry", category="plumbing", urgency="high",
                            scope="building")))
    assert leak.incident_id is None and question.incident_id is None
    assert leak.case_number
    await app.cases.act(leak.case_number, 1001, "resolve", "Заменили прокладку")
    async with app.wf.sessions() as s:
        stage = await s.scalar(select(Case.stage).where(Case.number == question.case_number))
    assert stage == "acknowledged"  # fixing one flat's tap answers nobody else's question


async def test_mail_without_sender_opens_case_for_review_and_sends_nothing(
        app: App, clock: ManualClock) -> None:
    result = await app.intake.ingest(mail(None, "Нет отопления в квартире 7", clock.now()))
    assert result.action == Action.MANUAL_REVIEW
    assert not result.acknowledged
    assert await count(app, OutboxItem, OutboxItem.channel != "staff") == 0


async def test_autoreplies_and_lists_are_never_answered(app: App, clock: ManualClock) -> None:
    auto = await app.intake.ingest(mail("ooo@example.org", "I am out of office", clock.now(),
                                        automated=Automated.AUTOREPLY))
    lst = await app.intake.ingest(mail("list@example.org", "Newsletter", clock.now(),
                                       automated=Automated.LIST))
    assert auto.action == Action.IGNORED_AUTOREPLY
    assert lst.action == Action.IGNORED_LIST
    assert await count(app, Case) == 0
    assert await count(app, OutboxItem) == 0


async def acknowledged_case(app: App, recorder: RecordingSender, clock: ManualClock,
                            address: str) -> tuple[IntakeResult, Outgoing]:
    """A resident's mail opens a case; returns it and the acknowledgement that went out."""
    opened = await app.intake.ingest(mail(address, "Прошу прислать электрика", clock.now()))
    await app.outbox.deliver_due()
    return opened, next(o for o in recorder.sent if o.purpose == "ack")


async def test_bounce_marks_address_undeliverable_and_alerts_staff(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    opened, ack = await acknowledged_case(app, recorder, clock, "gone@example.org")
    bounce = await app.intake.ingest(mail("MAILER-DAEMON@mx.example.org", "Undelivered",
                                          clock.now(), automated=Automated.BOUNCE,
                                          bounced="gone@example.org",
                                          hints=(f"out-{ack.outbox_id}",)))
    assert bounce.action == Action.BOUNCE and bounce.case_number == opened.case_number
    async with app.wf.sessions() as s:
        ident = await s.scalar(select(Identity).where(Identity.address == "gone@example.org"))
    assert ident is not None and ident.unreachable
    await app.outbox.deliver_due()
    alerts = [o for o in recorder.sent if o.purpose == "delivery_failed"]
    assert alerts and opened.case_number and opened.case_number in alerts[0].text


async def test_a_resident_who_bounced_once_is_answered_again_when_they_write(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    # a full mailbox bounced the acknowledgement; a week later they write from it again
    _, ack = await acknowledged_case(app, recorder, clock, "full@example.org")
    await app.intake.ingest(mail("MAILER-DAEMON@mx.example.org", "Undelivered", clock.now(),
                                 automated=Automated.BOUNCE, bounced="full@example.org",
                                 hints=(f"out-{ack.outbox_id}",)))
    clock.advance(timedelta(days=7))
    again = await app.intake.ingest(mail("full@example.org", "В подъезде не горит свет",
                                         clock.now()))
    assert again.action == Action.NEW_CASE and again.acknowledged


async def test_a_delivery_delay_notice_alerts_nobody_and_marks_nothing(
        app: App, recorder: RecordingSender, clock: ManualClock) -> None:
    opened, ack = await acknowledged_case(app, recorder, clock, "slow@example.org")
    delay = dataclasses.replace(
        mail("MAILER-DAEMON@mx.example.org", "Delayed", clock.now(),
             automated=Automated.BOUNCE, hints=(f"out-{ack.outbox_id}",)),
        bounce_delayed=True)
    result = await app.intake.ingest(delay)
    assert result.action == Action.BOUNCE and result.case_number == opened.case_number
    async with app.wf.sessions() as s:
        ident = await s.scalar(select(Identity).where(Identity.address == "slow@example.org"))
    assert ident is not None and not ident.unreachable
    await app.outbox.deliver_due()
    assert not [o for o in recorder.sent if o.purpose == "delivery_failed"]


async def test_album_burst_joins_one_case(app: App, clock: ManualClock) -> None:
    results = [await app.intake.ingest(tg_message(510, text, clock.now(), burst="album-1"))
               for text in ("Трещина в стене подъезда", "", "")]
    assert [r.action for r in results] == [Action.NEW_CASE, Action.THREADED, Action.THREADED]
    assert await count(app, Case) == 1


async def test_dry_run_leaves_nothing_behind(app: App, clock: ManualClock) -> None:
    result = await app.intake.ingest(tg_message(511, "Не работает домофон", clock.now()),
                                     dry_run=True)
    assert result.action == Action.NEW_CASE
    assert await count(app, Case) == 0 and await count(app, OutboxItem) == 0


async def test_automatic_messages_are_rate_limited_per_resident(
        app: App, clock: ManualClock) -> None:
    limit = app.wf.settings.limits.automatic_per_address_per_hour
    for i in range(limit + 3):
        await app.intake.ingest(tg_message(512, f"Проблема номер {i}: не работает лифт",
                                           clock.now()))
    async with app.wf.sessions() as s:
        states = list(await s.scalars(select(OutboxItem.state).where(
            OutboxItem.recipient == "512")))
    assert states.count("pending") == limit
    assert states.count("suppressed") == 3


async def test_a_batch_is_one_commit_and_sees_its_own_messages(
        app: App, clock: ManualClock) -> None:
    """Within one ``ingest_many`` a repeated mail is a duplicate, a reply threads into the case
    opened a moment earlier, and a second resident's report joins the first one's incident."""
    first = mail("anna@example.org", "Течёт кран на кухне, кв. 5", clock.now(),
                 message_id="a1@example.org")
    reply = mail("anna@example.org", "Фото прилагаю", clock.now(), subject="Re: Обращение",
                 hints=("a1@example.org",))
    outage = [tg_message(700 + n, "Во всём доме нет света!", clock.now(), preset=OUTAGE)
              for n in range(2)]
    results = await app.intake.ingest_many([first, first, reply, *outage])
    actions = [getattr(r, "action", r) for r in results]
    assert actions == [Action.NEW_CASE, Action.DUPLICATE, Action.THREADED,
                       Action.NEW_CASE, Action.NEW_CASE]
    assert results[2].case_number == results[0].case_number  # type: ignore[union-attr]
    assert results[3].incident_id is None  # type: ignore[union-attr]
    assert results[4].incident_id is not None  # type: ignore[union-attr]
    assert await count(app, Case) == 3
    assert await count(app, OutboxItem, OutboxItem.purpose == "ack") == 3


async def test_a_failing_message_costs_only_itself(
        app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    real = app.intake.process

    async def broken_on_gas(session: Any, msg: Any) -> Any:
        if "газ" in msg.text:
            raise RuntimeError("disk full")
        return await real(session, msg)

    monkeypatch.setattr(app.intake, "process", broken_on_gas)
    results = await app.intake.ingest_many([
        tg_message(801, "Не работает лифт", clock.now()),
        tg_message(802, "Пахнет газом в подъезде", clock.now()),
        tg_message(803, "Течёт кран", clock.now(), preset=LEAK)])
    assert [type(r).__name__ for r in results] == ["IntakeResult", "RuntimeError", "IntakeResult"]
    assert await count(app, Case) == 2
    assert await count(app, Message) == 2  # the failed one left nothing half-written


def test_inbound_message_survives_json_for_quarantine() -> None:
    from datetime import UTC, datetime

    from intake.message import (
        Attachment,
        Automated,
        Channel,
        InboundMessage,
        PresetLabels,
        SenderIdentity,
        message_from_json,
        message_to_json,
    )

    full = InboundMessage(
        channel=Channel.TELEGRAM, external_id="5001:42",
        sender=SenderIdentity(Channel.TELEGRAM, "5001", "Анна", "ru"), text="Течёт кран",
        received_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC), subject="",
        attachments=(Attachment("photo.jpg", "image/jpeg", 1234, "file-id"),),
        thread_hints=("5001:41",), building_code="lenina-5", apartment="7", phone="+7999",
        automated=Automated.AUTOREPLY, notes=("album",),
        preset=PresetLabels(kind="request", category="plumbing"), burst_key="album-1")
    bare = InboundMessage(channel=Channel.EMAIL, external_id="<x@y>", sender=None, text="",
                          received_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    for msg in (full, bare):
        assert message_from_json(json.loads(json.dumps(message_to_json(msg)))) == msg


async def test_text_no_database_could_store_still_opens_a_case(any_app: App,
                                                               clock: ManualClock) -> None:
    """A lone surrogate (an emoji escape cut in half, bytes smuggled through surrogateescape)
    or a NUL character made the insert fail on both databases, and the quarantine's own JSON
    with it: the resident was neither served nor kept. They are cleaned at the edge."""
    msg = tg_message(931, "Течёт кран \ud83d на кухне\x00, и \ud83d\ude00 вот", clock.now())
    result = await any_app.intake.ingest(msg)
    assert result.action == Action.NEW_CASE
    async with any_app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == result.case_number))
    assert case is not None and case.text == "Течёт кран \ufffd на кухне, и 😀 вот"


async def test_incident_lookup_reads_a_short_index_range(app: App) -> None:
    """Every building-wide report looks for its incident: it must read the window's rows of one
    building and category in order, not every open case of them, sorted, per message. The plan
    is the one for the statement as it runs, parameters unbound: the index holds building-wide
    cases only, and the planner must see from the query itself that this is enough."""
    async with app.wf.sessions() as session:
        conn = await session.connection()
        sql = str(_INCIDENT_PEER.stmt.compile(dialect=conn.dialect))
        assert "?" in sql  # the window and the building are parameters, not literals
        raw = sqlite_connection((await conn.get_raw_connection()).driver_connection)
        assert raw is not None
        plan = " | ".join(str(r[-1]) for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                           (None,) * sql.count("?")))
    assert "ix_cases_incident_peer" in plan and "received_at>" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def test_a_flats_case_is_not_in_the_incident_index(app: App) -> None:
    """Only building-wide cases can be incident peers, so the migrated index holds only them: a
    flat's case (most of them) adds no entry, which is a page fewer for its commit."""
    async with app.wf.sessions() as session:
        partial = {row[1]: row[4] for row in await session.execute(
            text("PRAGMA index_list(cases)"))}
        (definition,) = (await session.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_cases_incident_peer'"))).one()
    assert partial["ix_cases_incident_peer"] == 1
    assert "scope = 'building'" in definition


async def test_a_reply_finds_its_case_by_index(app: App) -> None:
    """Every reply (email In-Reply-To/References, a Telegram reply) looks up what it answers:
    by channel and external id, the unique index, not by reading the whole conversation log."""
    query = _HINTED.params(channel="email", hints=["<a@x>", "<b@x>"])
    async with app.wf.sessions() as session:
        conn = await session.connection()
        sql = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        plan = " | ".join(str(r[-1])
                          for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "SEARCH messages USING INDEX" in plan and "SCAN messages" not in plan, plan


@pytest.mark.parametrize(("table", "index", "lookup"), [
    ("cases", "ix_cases_incident_id", select(Case.id).where(Case.incident_id == 7)),
    ("messages", "ix_messages_burst_key", select(Message.id).where(Message.burst_key == "k")),
])
async def test_sparse_indexes_hold_only_rows_that_have_a_value(any_app: App, table: str,
                                                               index: str, lookup: Any) -> None:
    """Most cases join no incident and mail has no burst key: an index entry for each of those
    cost every new case a page of its commit. The indexes are partial on both databases, and
    a lookup by value still uses them."""
    async with any_app.wf.sessions() as session:
        conn = await session.connection()
        if conn.dialect.name == "postgresql":
            definition = await conn.scalar(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": index})
        else:
            definition = await conn.scalar(text(
                "SELECT sql FROM sqlite_master WHERE name = :name"), {"name": index})
            sql = lookup.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            plan = " | ".join(str(r[-1])
                              for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert f"INDEX {index}" in plan and "SCAN" not in plan, plan
    assert definition is not None and "IS NOT NULL" in definition, (table, definition)


@pytest.mark.parametrize("again", ["Пишу второй раз: кран до сих пор течёт, никто не пришёл",
                                   "It's been a week and nobody has come, the tap still drips"])
async def test_a_request_written_about_again_as_not_done_becomes_a_complaint(
        app: App, clock: ManualClock, again: str) -> None:
    """The taxonomy's complaint is "a problem that was reported before and not fixed": the case
    becomes one, its deadlines follow, and the history says why."""
    opened = await app.intake.ingest(mail("olga@example.org", "Течёт кран на кухне, кв. 8",
                                          clock.now(), message_id="tap-up@example.org"))
    async with app.wf.sessions() as s:
        before = await s.scalar(select(Case).where(Case.number == opened.case_number))
        assert before is not None and before.kind == "request"
        due_before = before.resolve_due
    clock.advance(timedelta(days=3))
    result = await app.intake.ingest(mail("olga@example.org", again, clock.now(),
                                          hints=("tap-up@example.org",)))
    assert result.action == Action.THREADED
    async with app.wf.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == opened.case_number))
        assert case is not None and case.kind == "complaint"
        assert case.resolve_due != due_before  # the complaint's deadlines
        notes = (await s.scalars(select(Event.note).where(
            Event.case_id == case.id, Event.action == "reclassified"))).all()
    assert notes == ["kind: request → complaint (the resident writes again: not done)"]


@pytest.mark.parametrize("again", ["Добавляю фото", "Когда придёт мастер?",
                                   "Спасибо, буду ждать"])
async def test_a_plain_follow_up_leaves_the_request_a_request(
        app: App, clock: ManualClock, again: str) -> None:
    opened = await app.intake.ingest(mail("olga@example.org", "Течёт кран на кухне, кв. 8",
                                          clock.now(), message_id="tap-keep@example.org"))
    await app.intake.ingest(mail("olga@example.org", again, clock.now(),
                                 hints=("tap-keep@example.org",)))
    async with app.wf.sessions() as s:
        kind = await s.scalar(select(Case.kind).where(Case.number == opened.case_number))
    assert kind == "request"
