"""Quoted history and signatures are removed from ``text``; ``full_text`` keeps them."""

from __future__ import annotations

import pytest

from intake.email import html_to_text, parse_mail, strip_quotes, strip_signature
from intake.email.quotes import is_forward_subject

NEW = "Добрый день! Лифт снова не работает, кв. 45."


@pytest.mark.parametrize(
    "history",
    [
        "11.03.2025, 12:15, Иван Петров пишет:\n> Ваше обращение A-1042 принято.",
        "11 марта 2025 г., в 12:15, УК Заречье <office@uk.ru> написал(а):\n\n> Обращение принято",
        "вт, 11 мар. 2025 г. в 12:15, УК Заречье <office@uk.ru>:\n> Обращение принято",
        "Вторник, 11 марта 2025, 12:15 +03:00 от УК Заречье <office@uk.ru>:\n> Принято",
        '11.03.2025, 12:15, "УК Заречье" <office@uk.ru>:\n> Принято',
        "-----Исходное сообщение-----\nОт: УК Заречье\nОтправлено: 11 марта 2025 г. 12:15\n"
        "Кому: Иван\nТема: Обращение A-1042\n\nПринято.",
        "От: УК Заречье [mailto:office@uk.ru]\nОтправлено: 11 марта 2025 г. 12:15\n"
        "Кому: ivan@example.ru\nТема: RE: Обращение\n\nПринято.",
        "On Tue, Mar 11, 2025 at 12:15 PM Office <office@uk.ru> wrote:\n> Your request is in",
        "On Tue, Mar 11, 2025 at 12:15 PM Management Office <\noffice@uk.ru> wrote:\n\n> Received",
        "-----Original Message-----\nFrom: Office\nSent: Tuesday\nTo: Ivan\nSubject: A-1042\n\nok",
        "________________________________\nFrom: Office <office@uk.ru>\nSent: Tuesday, March 11"
        "\nTo: Ivan\nSubject: RE: A-1042\n\nReceived.",
    ],
)
def test_top_posted_reply_markers(history: str) -> None:
    assert strip_quotes(f"{NEW}\n\n{history}") == NEW


@pytest.mark.parametrize(
    "tail",
    [
        "Отправлено из мобильной Почты Mail.ru",
        "Отправлено с iPhone",
        "Sent from my iPhone",
        "Отправлено из приложения Яндекс Почта",
        "Get Outlook for Android",
        "-- \nИван Петров\nтел. +7 900 000-00-00",
        "--\nIvan",
    ],
)
def test_signatures(tail: str) -> None:
    assert strip_signature(f"{NEW}\n\n{tail}") == NEW


def test_sign_off_with_contact_data_is_kept() -> None:
    text = f"{NEW}\n\nС уважением,\nИван Петров, кв. 45\n+7 900 000-00-00"
    assert strip_signature(strip_quotes(text)) == text


def test_bottom_posting_and_interleaving() -> None:
    bottom = "Иван пишет 10.03.2025, 09:00:\n> старый текст\n> ещё\n\nНовый ответ снизу."
    assert strip_quotes(bottom) == "Новый ответ снизу."
    interleaved = "> Когда удобно?\nЗавтра после 18:00.\n> Номер квартиры?\n45"
    assert strip_quotes(interleaved) == "Завтра после 18:00.\n45"


def test_a_bottom_posted_reply_under_a_greeting_keeps_greeting_and_answer() -> None:
    # The Bat!'s template: greeting, attribution, quote with the author's initials, answer
    text = ("Здравствуйте, Управляющая.\n\nВы писали 11 марта 2025 г., 12:15:30:\n\n"
            "УК> Ваше обращение A-1042 принято.\n\nМастер так и не пришёл.\n\n-- \nИван")
    assert strip_signature(strip_quotes(text)) == \
        "Здравствуйте, Управляющая.\n\nМастер так и не пришёл."


def test_a_dated_attribution_over_quoted_lines_is_still_history() -> None:
    assert strip_quotes(f"{NEW}\n\nВ ответе от 15.01.2025 вы написали:\n> Принято") == NEW


def test_no_markers_keeps_everything() -> None:
    text = "Пишу вам: во дворе яма.\n\nЖильцы дома 5 пишут: когда засыплете?"
    assert strip_quotes(text) == text


def test_forward_keeps_the_forwarded_header_block() -> None:
    body = (
        "Посмотрите, что прислал сосед.\n\n-------- Пересылаемое сообщение --------\n"
        "От: Сосед <s@example.ru>\nДата: 10.03.2025\nТема: Шум\n\nСверху стучат."
    )
    assert strip_quotes(body) == body
    outlook_fw = "см. ниже\n\nFrom: Сосед\nSent: Monday\nTo: Ivan\nSubject: Шум\n\nСверху стучат."
    assert strip_quotes(outlook_fw, forward=True) == outlook_fw
    assert is_forward_subject("Fwd: Шум") and is_forward_subject("Пересл: Шум")
    # a reply to a forward is a reply: its history is the office's, already on the case
    assert not is_forward_subject("RE: FW: x") and not is_forward_subject("Re: Шум")
    # in HTML the forwarded letter sits in a quote container, which a forward keeps too
    text = "Пересылаю жалобу соседки.\nОт: Соседка\nТема: Залив\nВы опять залили потолок."
    assert strip_quotes(text, forward=True, quote_at=text.index("От:")) == text
    assert strip_quotes(text, quote_at=text.index("От:")) == "Пересылаю жалобу соседки."


def test_html_quote_containers() -> None:
    html = (
        "<div>Спасибо, жду мастера.</div><div class='gmail_quote'>"
        "вт, 11 мар. 2025 г. в 12:15, УК &lt;office@uk.ru&gt;:<blockquote>Обращение принято"
        "</blockquote></div>"
    )
    text, at = html_to_text(html)
    assert strip_quotes(text, quote_at=at) == "Спасибо, жду мастера."
    assert "Обращение принято" in text


@pytest.mark.parametrize(("html", "expected"), [
    # Thunderbird's default: attribution, quote, then the answer under it
    ("<div class='moz-cite-prefix'>11.03.2025 12:15, УК пишет:<br></div>"
     "<blockquote type='cite'>Обращение принято</blockquote><br>Мастер так и не пришёл.",
     "Мастер так и не пришёл."),
    # a greeting, the attribution, the quote, the answer
    ("<p>Здравствуйте.</p><p>11.03.2025, 12:15, УК &lt;office@uk.ru&gt;:</p>"
     "<blockquote type='cite'>Обращение принято</blockquote><p>Мастер так и не пришёл.</p>",
     "Здравствуйте.\n\nМастер так и не пришёл."),
    # Outlook's reply header holds only the header: the history after it is no answer
    ("<p>Мастер так и не пришёл.</p><div id='divRplyFwdMsg'>From: УК &lt;office@uk.ru&gt;<br>"
     "Sent: 11 March</div><div>Обращение принято</div>", "Мастер так и не пришёл."),
])
def test_html_replies_written_under_the_quote_keep_the_answer(html: str, expected: str) -> None:
    text, at = html_to_text(html)
    assert strip_quotes(text, quote_at=at) == expected


def test_parse_mail_strips_quotes_only_from_text() -> None:
    raw = (
        "From: ivan@example.ru\nSubject: Re: [A-1042] Лифт\nContent-Type: text/plain; "
        f"charset=utf-8\n\n{NEW}\n\nОтправлено с iPhone\n\n11.03.2025, 12:15, УК пишет:\n"
        "> Обращение A-1042 принято\n"
    ).encode()
    parsed = parse_mail(raw)
    assert parsed.text == NEW
    assert "Обращение A-1042 принято" in parsed.full_text


def test_reply_that_is_only_a_quote_has_empty_text() -> None:
    raw = (
        "From: ivan@example.ru\nContent-Type: text/plain; charset=utf-8\n\n"
        "11.03.2025, 12:15, УК пишет:\n> Обращение принято\n"
    ).encode()
    parsed = parse_mail(raw)
    assert parsed.text == "" and parsed.full_text
    assert "no new text outside the quoted history" in parsed.notes


# --- fuzz round 4 -------------------------------------------------------------------------------

NEIGHBOUR = "Маша, у меня в кв. 46 с потолка течёт в ванной, передай в управляющую, пожалуйста."


def _mail(subject: str, body: str, *, headers: str = "") -> bytes:
    return (
        f"From: maria@icloud.com\nSubject: {subject}\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}"
    ).encode()


@pytest.mark.parametrize("marker", [
    "Begin forwarded message:", "Начало переадресованного сообщения:",
])
def test_an_apple_forward_keeps_the_quoted_letter(marker: str) -> None:
    # iPhone / Apple Mail: the forwarded letter is quoted with "> " under the marker
    body = (
        f"Пересылаю письмо соседки.\n\nОтправлено с iPhone\n\n{marker}\n\n"
        "> От кого: Анна <anna.k@yandex.ru>\n> Дата: 4 декабря 2025 г. в 21:15:03 GMT+3\n"
        f"> Тема: Протечка\n>\n> {NEIGHBOUR}\n"
    )
    text = parse_mail(_mail("Fwd: Протечка", body)).text
    assert text.startswith("Пересылаю письмо соседки.\n\n" + marker)
    assert text.endswith(f"Тема: Протечка\n\n{NEIGHBOUR}")
    assert "Отправлено с iPhone" not in text
    assert not any(line.startswith(">") for line in text.split("\n"))
    # quoted lines above the forward marker are still a reply's history
    reply = f"Вот.\n> старое\n\n{marker}\n> {NEIGHBOUR}"
    assert strip_quotes(reply) == f"Вот.\n\n{marker}\n{NEIGHBOUR}"


@pytest.mark.parametrize("header", [
    "---------- Forwarded message ---------",
    "-------- Пересылаемое сообщение --------",
    "Begin forwarded message:",
])
def test_a_signature_above_a_forward_keeps_the_forwarded_letter(header: str) -> None:
    text = (f"Пересылаю письмо соседки.\n\n-- \nМария Сидорова\nтел. 8-900-000-00-00\n\n{header}\n"
            f"От: Анна <anna.k@yandex.ru>\nDate: чт, 4 дек. 2025 г. в 21:15\nSubject: Протечка\n\n"
            f"{NEIGHBOUR}\n\n-- \nАнна")
    assert strip_signature(strip_quotes(text, forward=True)) == (
        f"Пересылаю письмо соседки.\n\n{header}\nОт: Анна <anna.k@yandex.ru>\n"
        f"Date: чт, 4 дек. 2025 г. в 21:15\nSubject: Протечка\n\n{NEIGHBOUR}"
    )


@pytest.mark.parametrize("said", [
    "В ответе от 15.01.2025 вы написали:\n\"Ремонт кровли запланирован на февраль\".",
    "Ваш инженер 20.02 написал:\nзамена стояка в марте.",
    "5 декабря в 10:00 ваш диспетчер мне написал:\n«Сантехник придёт завтра с 9 до 12».",
    "Вчера в 23:40 сосед из кв. 50 написал в чат дома:\nКто-то опять сверлит, невозможно спать.",
])
def test_a_residents_sentence_quoting_the_office_is_no_reply_header(said: str) -> None:
    text = f"Здравствуйте.\n{said}\nНикто не пришёл, вода течёт, кв. 12. Прошу принять меры!"
    assert strip_quotes(text) == text
    # the same words over quoted lines, or a client's stamp with an address, still cut
    assert strip_quotes(f"{NEW}\n\n{said.split(chr(10))[0]}\n> Принято") == NEW
    assert strip_quotes(f"{NEW}\n\n11.03.2025, 12:15, УК <office@uk.ru>:\nПринято.") == NEW


def test_html_inline_answers_between_quotes_are_kept() -> None:
    # Thunderbird, HTML only: the answers sit between three cite blockquotes
    html = (
        "<p>Здравствуйте, отвечаю по пунктам.</p>"
        "<div class='moz-cite-prefix'>05.12.2025 10:00, УК «Домовой» пишет:<br></div>"
        "<blockquote type='cite'>Уточните номер квартиры.</blockquote><p>кв. 45</p>"
        "<blockquote type='cite'>Когда удобно принять мастера?</blockquote>"
        "<p>завтра после 18:00</p>"
        "<blockquote type='cite'>Есть ли доступ к стояку?</blockquote><p>да</p>"
    )
    text, at = html_to_text(html)
    assert strip_quotes(text, quote_at=at) == \
        "Здравствуйте, отвечаю по пунктам.\n\nкв. 45\n\nзавтра после 18:00\n\nда"


@pytest.mark.parametrize("tail", ["", "\n\nОтправлено с iPhone"])
def test_a_sent_via_sentence_inside_the_letter_is_kept(tail: str) -> None:
    text = ("Здравствуйте.\nТретий раз пишу про протечку кровли над кв. 98.\n"
            "Отправлено через Госуслуги 20.11, ответа нет.\n"
            "Вода капает прямо на проводку, это опасно!")
    assert strip_signature(text + tail) == text


def test_a_plain_blockquote_inside_the_letter_is_kept() -> None:
    # the resident quotes a contract clause with the editor's quote button
    html = ("<p>Подрядчик повредил антенну. Цитирую ваш же договор:</p>"
            "<blockquote>п. 4.2. Подрядчик возмещает ущерб.</blockquote>"
            "<p>Прошу возместить ущерб, кв. 98.</p>")
    text, at = html_to_text(html)
    assert strip_quotes(text, quote_at=at) == ("Подрядчик повредил антенну. Цитирую ваш же "
                                               "договор:\n\nп. 4.2. Подрядчик возмещает ущерб."
                                               "\n\nПрошу возместить ущерб, кв. 98.")
    # a reply attribution over it makes it history, with or without an answer under it
    reply = ("<p>Мастер не пришёл.</p><p>11.03.2025 12:15, УК пишет:</p>"
             "<blockquote>Обращение принято</blockquote>")
    text, at = html_to_text(reply + "<p>Жду.</p>")
    assert strip_quotes(text, quote_at=at) == "Мастер не пришёл.\n\nЖду."
    text, at = html_to_text(reply)
    assert strip_quotes(text, quote_at=at) == "Мастер не пришёл."


def test_a_signature_keeps_the_residents_address() -> None:
    from workflow.whereabouts import guess_apartment

    body = ("Третий день не работает домофон.\n\n-- \nПётр Сидоров\nул. Ленина, д. 5, кв. 45\n"
            "тел. +7 912 345-67-89\n")
    text = parse_mail(_mail("Домофон", body)).text
    assert text == "Третий день не работает домофон.\n\nул. Ленина, д. 5, кв. 45"
    assert guess_apartment(text) == "45"


def test_gt_lines_in_a_new_letter_are_the_residents() -> None:
    body = ("В квартире 12 холодно.\nТемпература в комнатах:\n> 16 градусов уже неделю\n"
            "> батареи еле тёплые\nПрошу проверить стояк.")
    assert parse_mail(_mail("Холодно", body)).text == body
    # in a reply the same lines are a quote
    answer = "В квартире 12 холодно.\nТемпература в комнатах:\nПрошу проверить стояк."
    assert parse_mail(_mail("Re: Холодно", body)).text == answer
    assert parse_mail(_mail("Холодно", body, headers="In-Reply-To: <t0@uk.ru>\n")).text == answer
    # an attribution in a new letter still marks its ">" lines as quoted
    assert strip_quotes(f"{NEW}\n\n11.03.2025, 12:15, УК пишет:\n> Принято", reply=False) == NEW


# --- fuzz round 5 -------------------------------------------------------------------------------

FORWARDER = "Пересылаю письмо соседки, у неё нет вашего адреса."
LETTER = "У меня в кв. 46 с потолка в ванной течёт вода, с проводки капает. Тел. 8-912-000-11-22."


def _html_mail(subject: str, html: str, *, headers: str = "") -> bytes:
    return _mail(subject, html, headers=headers).replace(b"text/plain", b"text/html", 1)


_RETYPED_FORWARDS = {
    "gmail_html": (_html_mail, (
        f"<div dir='ltr'>{FORWARDER}<br></div><br><div class='gmail_quote'>"
        "<div dir='ltr' class='gmail_attr'>---------- Forwarded message ---------<br>"
        "От: <strong class='gmail_sendername'>Мария</strong> &lt;maria46@mail.ru&gt;<br>"
        "Date: пт, 5 дек. 2025 г. в 09:00<br>Subject: протечка<br></div><br>"
        f"<div dir='ltr'>{LETTER}</div></div>")),
    "mailru_html": (_html_mail, (
        f"<div>{FORWARDER}</div><div>-------- Пересылаемое сообщение --------<br>"
        "От кого: Мария &lt;maria46@mail.ru&gt;<br>Дата: Пятница, 5 декабря 2025, 9:00 +03:00<br>"
        "Тема: протечка<br><blockquote style='border-left:1px solid #0857A6'>"
        f"<div>{LETTER}</div></blockquote></div>")),
    "thunderbird_ru": (_mail, (
        f"{FORWARDER}\n\n\n-------- Перенаправленное сообщение --------\nТема: \tпротечка\n"
        "Дата: \tFri, 5 Dec 2025 09:00:00 +0300\nОт: \tМария <maria46@mail.ru>\n"
        f"Кому: \tИван <ivan@gmail.com>\n\n\n{LETTER}\n")),
    "outlook": (_mail, (
        f"Добрый день, пересылаю обращение соседки.\n\n________________________________\n"
        "От: Мария <maria46@mail.ru>\nОтправлено: 5 декабря 2025 г. 9:00\n"
        f"Кому: Иван <ivan@outlook.com>\nТема: протечка\n\n{LETTER}\n")),
}


@pytest.mark.parametrize("layout", list(_RETYPED_FORWARDS))
def test_a_forward_with_a_retyped_subject_keeps_the_letter(layout: str) -> None:
    build, body = _RETYPED_FORWARDS[layout]
    retyped = parse_mail(build("Протечка у соседки кв. 46", body)).text
    assert LETTER in retyped
    assert retyped == parse_mail(build("Fwd: протечка", body)).text


def test_an_outlook_header_block_in_a_reply_is_still_history() -> None:
    body = _RETYPED_FORWARDS["outlook"][1]
    first = "Добрый день, пересылаю обращение соседки."
    # a reply to the office (threaded, or "Re:") quotes our letter under the same block
    assert parse_mail(_mail("Протечка", body, headers="In-Reply-To: <a@uk.ru>\n")).text == first
    assert parse_mail(_mail("RE: Протечка", body)).text == first
    # and a new letter whose writer does not say they forward one
    said = body.replace("пересылаю обращение соседки", "вода так и течёт")
    assert parse_mail(_mail("Протечка", said)).text == "Добрый день, вода так и течёт."


@pytest.mark.parametrize("marker", [
    # Apple Mail on a Mac in Russian, then Yandex 360: the marker line is quoted too
    "> Начало переадресованного письма:\n>\n> Отправитель: Мария <maria46@mail.ru>\n"
    "> Дата: 5 декабря 2025 г. в 09:00:00 GMT+3\n>",
    "> -------- Перенаправленное сообщение --------\n> 05.12.2025, 09:00, Мария "
    "<maria46@mail.ru>:\n>",
])
def test_a_forward_quoted_marker_and_all_keeps_the_letter(marker: str) -> None:
    body = f"{FORWARDER}\n\nОтправлено с iPhone\n\n{marker}\n> {LETTER}\n\n-- \nИван\n"
    text = parse_mail(_mail("Fwd: протечка", body)).text
    assert text.startswith(f"{FORWARDER}\n\n{marker[2:marker.index(chr(10))]}\n")
    assert text.endswith(LETTER)
    assert not any(line.startswith(">") for line in text.split("\n"))
    # a forward quoted under a reply's attribution is still that reply's history
    reply = f"Спасибо.\n\n05.12.2025, 10:00, УК <office@uk.ru>:\n{marker}\n> {LETTER}"
    assert strip_quotes(reply) == "Спасибо."


@pytest.mark.parametrize("said", [
    "01.12.2025 в 10:00 ваш диспетчер написал мне:\n«Сантехник придёт завтра с 9 до 12».",
    "Вчера, 04.12.2025 в 18:40, мастер Сергей написал мне в WhatsApp:\n\"Завтра буду в 10\".",
])
def test_a_residents_dated_attribution_without_a_quote_keeps_the_letter(said: str) -> None:
    text = f"Здравствуйте.\n{said}\nНикто не пришёл, вода течёт, кв. 12. Требую мастера сегодня!"
    assert parse_mail(_mail("Сантехник не пришёл", text)).text == text
    # a client's header names an address; without one, ">" lines under it still make a quote
    assert strip_quotes(f"{NEW}\n\n05.12.2025 10:00, УК <office@uk.ru> пишет:\nПринято.") == NEW
    assert strip_quotes(f"{NEW}\n\n{said.split(chr(10))[0]}\n> Принято") == NEW


def test_an_attribution_over_an_html_quote_container_is_history_without_an_address() -> None:
    for html in ("<div>Спасибо, жду.</div><div class='gmail_quote'>11.03.2025 12:15, УК пишет:"
                 "<blockquote>Обращение принято</blockquote></div>",
                 "<div>Спасибо, жду.</div><div>Вы писали 11 марта 2025 г., 12:15:</div>"
                 "<blockquote type='cite'>Обращение принято</blockquote>"):
        text, at = html_to_text(html)
        assert strip_quotes(text, quote_at=at) == "Спасибо, жду."


_FORM_TEMPLATE = (
    "<h3>Новая заявка с сайта</h3>\n<b>Имя:</b> Ольга Смирнова<br>\n<b>Квартира:</b> 45<br>\n"
    "<b>Сообщение:</b> Нет отопления, в квартире 14&nbsp;градусов.<br>\n<hr>\n"
)


@pytest.mark.parametrize("body", [
    _FORM_TEMPLATE,
    "<!DOCTYPE html>\n<html><body>Нет отопления, кв. 45</body></html>",
    "<p>Здравствуйте!</p><p>Не работает лифт.<br>Кв. 98</p>",
])
def test_html_sent_as_plain_text_is_read_as_html(body: str) -> None:
    parsed = parse_mail(_mail("Заявка с сайта", body))
    assert parsed.html and "<" not in parsed.text and "&nbsp;" not in parsed.text
    assert "<" not in parsed.full_text


def test_plain_text_mentioning_tags_stays_plain() -> None:
    text = ("На сайте вместо квитанции видно <p> и <br>, ничего не понятно.\n"
            "Прошу прислать квитанцию по почте.\nКв. 12, ул. Ленина 5.")
    parsed = parse_mail(_mail("Квитанция", text))
    assert (parsed.text, parsed.html) == (text, False)


def test_inline_pgp_armour_is_dropped() -> None:
    body = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
            "В кв. 45 течёт кран на кухне.\n- -----Original Message-----\n"
            "- ---------\n- --\nИван Петров\n-----BEGIN PGP SIGNATURE-----\n\n"
            "iQEzBAEBCAAdFiEEq0Lr2mJd0f4dYx1XyJ0o0m2v0a8FAmdRm2cACgkQyJ0o0m2v\n=Ab12\n"
            "-----END PGP SIGNATURE-----\n")
    parsed = parse_mail(_mail("Течёт кран", body.replace("- -----Original Message-----\n"
                                                         "- ---------\n", "")))
    assert parsed.text == "В кв. 45 течёт кран на кухне."
    assert "BEGIN PGP SIGNATURE" in parsed.full_text
    # dash-escaped lines are the writer's: an escaped reply marker still cuts the history
    assert strip_quotes(body) == "В кв. 45 течёт кран на кухне."
    # in HTML the quote container's offset moves up with the dropped armour lines
    text = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nЖду мастера.\nОбращение принято."
    assert strip_quotes(text, quote_at=text.index("Обращение")) == "Жду мастера."


def test_a_follow_up_typed_into_the_subject_is_the_letter() -> None:
    # a phone user answers an acknowledgement by typing into its subject; the body is only
    # the quoted acknowledgement
    raw = ("From: Ivan <ivan@mail.ru>\nSubject: Re: [A-1042] Обращение зарегистрировано — "
           "мастер так и не пришёл\nIn-Reply-To: <a1042@uk.example>\n"
           "Content-Type: text/plain; charset=utf-8\n\n"
           "> Ваше обращение зарегистрировано под номером A-1042.\n").encode()
    assert parse_mail(raw).text == "Обращение зарегистрировано — мастер так и не пришёл"
