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


@pytest.mark.parametrize("said", [
    "В ответе от 15.01.2025 вы написали:\n\"Ремонт кровли запланирован на февраль\".",
    "Ваш инженер 20.02 написал:\nзамена стояка в марте.",
])
def test_a_resident_quoting_the_office_in_a_sentence_keeps_the_letter(said: str) -> None:
    text = f"Здравствуйте!\n{said}\nСейчас март, ничего не сделано. Прошу принять меры."
    assert strip_quotes(text) == text


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
    "5 декабря в 10:00 ваш диспетчер мне написал:\n«Сантехник придёт завтра с 9 до 12».",
    "Вчера в 23:40 сосед из кв. 50 написал в чат дома:\nКто-то опять сверлит, невозможно спать.",
])
def test_a_residents_sentence_with_a_time_is_no_reply_header(said: str) -> None:
    text = f"Здравствуйте.\n{said}\nНикто не пришёл, вода течёт, кв. 12. Прошу принять меры!"
    assert strip_quotes(text) == text
    # the same words over quoted lines, or a client's stamp (full date and time), still cut
    assert strip_quotes(f"{NEW}\n\n{said.split(chr(10))[0]}\n> Принято") == NEW
    assert strip_quotes(f"{NEW}\n\n11.03.2025, 12:15, УК пишет:\nОбращение принято.") == NEW


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
