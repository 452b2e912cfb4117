"""Focused tests for ``parse_mail``: charsets, MIME structure, limits, dates, senders, ids."""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from intake.email import MailLimits, ParsedMail, looks_like_mojibake, parse_mail
from intake.email.charsets import decode_bytes, decode_header_value
from intake.email.mime import format_size, parse_params, sanitize_filename
from intake.message import Automated, Channel

RU = "Добрый день! В подъезде дома 12 по улице Ленина не работает лифт, кв. 45."
WHEN = datetime(2025, 3, 11, 9, 30, tzinfo=UTC)


def raw_mail(headers: Sequence[tuple[str, bytes | str]], body: bytes) -> bytes:
    lines = [
        name.encode() + b": " + (value.encode() if isinstance(value, str) else value)
        for name, value in headers
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


BASE = [
    ("From", "Иван <ivan@example.ru>"),
    ("To", "office@uk-zarechye.ru"),
    ("Date", "Tue, 11 Mar 2025 12:15:00 +0300"),
    ("Message-ID", "<abc123@example.ru>"),
]


def assert_clean_russian(parsed: ParsedMail) -> None:
    for value in (parsed.subject, parsed.text, parsed.full_text, parsed.sender_name or ""):
        assert not looks_like_mojibake(value), value


# --- charsets -------------------------------------------------------------------------------


def test_koi8r_body_without_charset_label() -> None:
    raw = raw_mail(
        [*BASE, ("Subject", "lift"), ("Content-Type", "text/plain")], RU.encode("koi8-r")
    )
    parsed = parse_mail(raw)
    assert parsed.text == RU
    assert_clean_russian(parsed)


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r", "utf-8"])
@pytest.mark.parametrize("label", ["us-ascii", "iso-8859-1", "koi8-r", "windows-1251", None])
def test_mislabelled_russian_bodies(codec: str, label: str | None) -> None:
    ctype = "text/plain" + (f"; charset={label}" if label else "")
    raw = raw_mail([*BASE, ("Subject", "x"), ("Content-Type", ctype)], RU.encode(codec))
    assert parse_mail(raw).text == RU


def test_cp1251_8bit_subject_and_name() -> None:
    raw = raw_mail(
        [
            ("From", "Пётр Сидоров <petr@example.ru>".encode("cp1251")),
            ("To", "office@uk-zarechye.ru"),
            ("Subject", "Протечка в квартире 45".encode("cp1251")),
            ("Content-Type", "text/plain; charset=windows-1251"),
        ],
        RU.encode("cp1251"),
    )
    parsed = parse_mail(raw)
    assert parsed.subject == "Протечка в квартире 45"
    assert parsed.sender_name == "Пётр Сидоров"
    assert parsed.sender == "petr@example.ru"
    assert_clean_russian(parsed)


def test_8bit_utf8_subject_with_cp1251_body_label() -> None:
    raw = raw_mail(
        [
            *BASE,
            ("Subject", "Счётчик воды".encode()),
            ("Content-Type", "text/plain; charset=cp1251"),
        ],
        RU.encode("cp1251"),
    )
    assert parse_mail(raw).subject == "Счётчик воды"


def test_encoded_word_split_mid_character() -> None:
    data = "Николаевич".encode()
    # Split inside the two-byte "л" so neither half decodes alone.
    cut = data.index("л".encode()) + 1
    w1 = base64.b64encode(data[:cut]).decode()
    w2 = base64.b64encode(data[cut:]).decode()
    subject = f"=?UTF-8?B?{base64.b64encode('Иван '.encode()).decode()}?=\r\n =?UTF-8?B?{w1}?="
    subject += f"\r\n =?utf-8?b?{w2}?="
    raw = raw_mail(
        [
            ("From", f'"=?UTF-8?B?{w1}?= =?UTF-8?B?{w2}?=" <nik@example.ru>'),
            ("Subject", subject),
            ("Content-Type", "text/plain; charset=utf-8"),
        ],
        RU.encode(),
    )
    parsed = parse_mail(raw)
    assert parsed.subject == "Иван Николаевич"
    assert parsed.sender_name == "Николаевич"


def test_encoded_words_in_different_charsets_and_q_encoding() -> None:
    second = base64.b64encode(" в квартире".encode("cp1251")).decode()
    value = f"=?koi8-r?Q?=F0=D2=CF=D4=C5=DE=CB=C1?= =?windows-1251?B?{second}?="
    assert decode_header_value(value) == "Протечка в квартире"
    assert decode_header_value("=?utf-8?q?=D0=9B=D0=B8=D1=84=D1=82_=E2=84=96_2?=") == "Лифт № 2"
    assert decode_header_value("plain text") == "plain text"


def test_decode_bytes_never_raises_and_prefers_utf8() -> None:
    assert decode_bytes("Привет".encode(), "windows-1251") == "Привет"
    assert decode_bytes("Привет".encode("cp1251"), "utf-8") == "Привет"
    assert decode_bytes(b"caf\xe9", "iso-8859-1") == "café"
    assert decode_bytes(b"\xff\xfe\x00junk", "no-such-charset")  # no exception
    assert decode_bytes("Запрос цены".encode("cp949"), "ks_c_5601-1987") == "Запрос цены"


def test_german_latin1_is_not_taken_for_russian() -> None:
    text = "Grüße aus München, die Heizung läuft nicht. Schöne Grüße"
    assert decode_bytes(text.encode("latin-1"), "iso-8859-1") == text
    assert decode_bytes(text.encode("latin-1"), None) == text


def test_rfc2231_russian_filename_continuation() -> None:
    name = "Акт осмотра квартиры.pdf".encode()
    quoted = "".join(f"%{b:02X}" for b in name)
    # Cut the percent-encoded value inside a multi-byte character.
    cut = quoted.index("%", 10) + 3
    disposition = (
        f"attachment;\r\n filename*0*=utf-8''{quoted[:cut]};\r\n filename*1*={quoted[cut:]}"
    )
    body = (
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + RU.encode()
        + b"\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        + b"Content-Disposition: "
        + disposition.encode()
        + b"\r\n\r\n"
        + base64.b64encode(b"%PDF-1.4 test")
        + b"\r\n--b1--\r\n"
    )
    raw = raw_mail(
        [*BASE, ("Subject", "act"), ("Content-Type", 'multipart/mixed; boundary="b1"')], body
    )
    parsed = parse_mail(raw)
    assert [a.filename for a in parsed.attachments] == ["Акт осмотра квартиры.pdf"]
    att = parsed.attachments[0]
    assert (att.content_type, att.size, att.ref) == ("application/pdf", 13, "2")


def test_rfc2047_and_8bit_filenames() -> None:
    msg = MIMEMultipart()
    msg["From"] = "a@example.ru"
    msg.attach(MIMEText("см. фото", "plain", "utf-8"))
    img = MIMEApplication(b"\xff\xd8\xff fake jpeg", "octet-stream")
    img.add_header("Content-Disposition", "attachment", filename="=?utf-8?B?0YTQvtGC0L4uanBn?=")
    msg.attach(img)
    parsed = parse_mail(msg.as_bytes())
    assert parsed.attachments[0].filename == "фото.jpg"
    raw = parsed_raw_8bit_filename()
    assert parse_mail(raw).attachments[0].filename == "счёт.pdf"


def parsed_raw_8bit_filename() -> bytes:
    return raw_mail(
        [*BASE, ("Subject", "x"), ("Content-Type", 'multipart/mixed; boundary="q"')],
        b"--q\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n"
        + "Счёт во вложении".encode("cp1251")
        + b'\r\n--q\r\nContent-Type: application/pdf; name="'
        + "счёт.pdf".encode("cp1251")
        + b'"\r\nContent-Disposition: attachment\r\n\r\n%PDF\r\n--q--\r\n',
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\фото.jpg", "фото.jpg"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("tab\tand\x07bell.txt", "tabandbell.txt"),
        ("", "attachment-2.pdf"),
        ("...", "attachment-2.pdf"),
    ],
)
def test_sanitize_filename(name: str, expected: str) -> None:
    assert sanitize_filename(name, "application/pdf", "2") == expected


def test_sanitize_filename_caps_length_and_keeps_extension() -> None:
    name = sanitize_filename("я" * 400 + ".docx", "application/octet-stream", "3")
    assert len(name) <= 150 and name.endswith(".docx")


# --- structure ----------------------------------------------------------------------------------


def test_html_only_mail() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Здравствуйте!</p><p>Не работает&nbsp;домофон&nbsp;&laquo;Визит&raquo;<br>"
        "кв.&nbsp;7</p><div>Спасибо &amp; до свидания</div></body></html>"
    )
    msg = MIMEText(html, "html", "utf-8")
    msg["From"] = "a@example.ru"
    parsed = parse_mail(msg.as_bytes())
    assert parsed.html
    assert parsed.text == "Здравствуйте!\nНе работает домофон «Визит»\nкв. 7\nСпасибо & до свидания"
    assert "alert" not in parsed.full_text and "color" not in parsed.full_text


def test_alternative_prefers_plain_unless_empty() -> None:
    for plain, expected, is_html in (
        ("Простой текст", "Простой текст", False),
        ("  \n", "Текст из HTML", True),
    ):
        msg = MIMEMultipart("alternative")
        msg["From"] = "a@example.ru"
        msg.attach(MIMEText(plain, "plain", "utf-8"))
        msg.attach(MIMEText("<p>Текст из HTML</p>", "html", "utf-8"))
        parsed = parse_mail(msg.as_bytes())
        assert (parsed.text, parsed.html) == (expected, is_html)


def test_related_inline_image_is_an_attachment() -> None:
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("Фото протечки", "plain", "utf-8"))
    related = MIMEMultipart("related")
    related.attach(MIMEText('<p>Фото протечки</p><img src="cid:leak">', "html", "utf-8"))
    img = MIMEApplication(b"\xff\xd8\xff" + b"0" * 5000, "jpeg")
    img.replace_header("Content-Type", "image/jpeg")
    img.add_header("Content-ID", "<leak>")
    img.add_header("Content-Disposition", "inline")
    related.attach(img)
    alt.attach(related)
    alt["From"] = "a@example.ru"
    parsed = parse_mail(alt.as_bytes())
    assert parsed.text == "Фото протечки" and not parsed.html
    assert [(a.content_type, a.ref, a.size) for a in parsed.attachments] == [
        ("image/jpeg", "2.2", 5003)
    ]
    assert parsed.attachments[0].filename == "image-2.2.jpg"


def test_oversized_attachment_is_dropped_with_a_note() -> None:
    msg = MIMEMultipart()
    msg["From"] = "a@example.ru"
    msg["Subject"] = "Документы"
    msg.attach(MIMEText("Отправляю документы", "plain", "utf-8"))
    big = MIMEApplication(b"x" * (3 * 1024 * 1024), "pdf")
    big.add_header("Content-Disposition", "attachment", filename="скан.pdf")
    msg.attach(big)
    small = MIMEApplication(b"y" * 1000, "pdf")
    small.add_header("Content-Disposition", "attachment", filename="ok.pdf")
    msg.attach(small)
    parsed = parse_mail(msg.as_bytes(), limits=MailLimits(max_attachment_bytes=2 * 1024 * 1024))
    assert [a.filename for a in parsed.attachments] == ["ok.pdf"]
    assert parsed.dropped == ("attachment 'скан.pdf' dropped: 3 MB over the 2 MB limit",)
    assert parsed.text == "Отправляю документы"
    assert parsed.dropped[0] in parsed.to_inbound(fallback_time=WHEN).notes


def test_attachment_count_limit() -> None:
    msg = MIMEMultipart()
    msg["From"] = "a@example.ru"
    msg.attach(MIMEText("много фото", "plain", "utf-8"))
    for i in range(5):
        part = MIMEApplication(b"z", "octet-stream")
        part.add_header("Content-Disposition", "attachment", filename=f"{i}.bin")
        msg.attach(part)
    parsed = parse_mail(msg.as_bytes(), limits=MailLimits(max_attachments=3))
    assert len(parsed.attachments) == 3
    # one note for the files over the cap, naming the first and the last
    assert parsed.dropped == ("2 attachments dropped ('3.bin' … '4.bin'): more than 3 "
                              "attachments; they stay in the mail",)


def test_rfc822_forward_keeps_inner_author_and_text() -> None:
    inner = EmailMessage()
    inner["From"] = "Сосед Петров <petrov@example.ru>"
    inner["Subject"] = "Шум по ночам"
    inner["Message-ID"] = "<inner@example.ru>"
    inner.set_content("Сверху каждую ночь стучат.")
    outer = MIMEMultipart()
    outer["From"] = "ivan@example.ru"
    outer["Subject"] = "Fwd: Шум по ночам"
    outer.attach(MIMEText("Пересылаю жалобу соседа.", "plain", "utf-8"))
    outer.attach(MIMEMessage(inner))
    parsed = parse_mail(outer.as_bytes())
    assert parsed.sender == "ivan@example.ru"
    assert parsed.forwarded_from == "petrov@example.ru"
    assert parsed.text == (
        "Пересылаю жалобу соседа.\n\n"
        "Forwarded from Сосед Петров <petrov@example.ru>: Шум по ночам\n\n"
        "Сверху каждую ночь стучат."
    )
    assert [(a.filename, a.content_type, a.ref) for a in parsed.attachments] == [
        ("Шум по ночам.eml", "message/rfc822", "2")
    ]
    assert "inner@example.ru" not in parsed.to_inbound(fallback_time=WHEN).thread_hints


def test_broken_boundary_is_recovered() -> None:
    body = (
        b"--realboundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + RU.encode()
        + b"\r\n--realboundary--\r\n"
    )
    raw = raw_mail(
        [*BASE, ("Subject", "x"), ("Content-Type", 'multipart/mixed; boundary="declared"')], body
    )
    parsed = parse_mail(raw)
    assert parsed.recovered
    assert parsed.text == RU
    assert any(n.startswith("parsed with recovery") for n in parsed.notes)


def test_missing_final_boundary_and_no_boundary_text() -> None:
    raw = raw_mail(
        [*BASE, ("Subject", "x"), ("Content-Type", 'multipart/mixed; boundary="b"')],
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + RU.encode() + b"\r\n",
    )
    parsed = parse_mail(raw)
    assert parsed.text == RU and parsed.recovered
    raw2 = raw_mail(
        [*BASE, ("Subject", "x"), ("Content-Type", 'multipart/mixed; boundary="b"')],
        RU.encode(),
    )
    parsed2 = parse_mail(raw2)
    assert parsed2.text == RU and parsed2.recovered


def test_binary_junk_truncation_and_empty_input_never_raise() -> None:
    rng = random.Random(42)
    good = raw_mail(
        [*BASE, ("Subject", "x"), ("Content-Type", "text/plain; charset=utf-8")], RU.encode()
    )
    samples: list[bytes] = [b"", b"\r\n", b"\x00" * 100, bytes(range(256)) * 4, good[:37]]
    samples += [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000))) for _ in range(50)]
    samples += [good[: rng.randint(0, len(good))] for _ in range(50)]
    for raw in samples:
        parsed = parse_mail(raw)
        assert isinstance(parsed, ParsedMail)
        assert parsed.message_id
    empty = parse_mail(b"")
    assert empty.recovered and empty.notes
    assert isinstance(parse_mail(None), ParsedMail)  # type: ignore[arg-type]


# --- dates, senders, ids --------------------------------------------------------------------------


def test_missing_date_uses_internal_date_then_received() -> None:
    headers = [("From", "a@example.ru"), ("Subject", "x")]
    internal = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)
    assert parse_mail(raw_mail(headers, b"hi"), internal_date=internal).date == internal
    received = ("Received", "from mx by mx2; Tue, 11 Mar 2025 12:00:00 +0300")
    parsed = parse_mail(raw_mail([received, *headers], b"hi"))
    assert parsed.date == datetime(2025, 3, 11, 9, 0, tzinfo=UTC)
    nothing = parse_mail(raw_mail(headers, b"hi"))
    assert nothing.date is None
    with pytest.raises(ValueError):
        nothing.to_inbound()
    assert nothing.to_inbound(fallback_time=WHEN).received_at == WHEN


def test_date_header_and_skew_against_internal_date() -> None:
    raw = raw_mail(BASE, b"hi")
    assert parse_mail(raw).date == datetime(2025, 3, 11, 9, 15, tzinfo=UTC)
    internal = datetime(2026, 1, 1, tzinfo=UTC)
    parsed = parse_mail(raw, internal_date=internal)
    assert parsed.date == internal and parsed.header_date is not None
    naive = parse_mail(raw_mail([("From", "a@b.ru")], b"x"), internal_date=datetime(2025, 1, 1))
    assert naive.date is not None and naive.date.tzinfo is not None


def test_glued_date_keeps_its_timezone() -> None:
    raw = raw_mail(
        [("From", "a@b.ru"), ("Date", "Fri, 07 Apr 2023 17:30:44 +0200Received: from x")], b"x"
    )
    assert parse_mail(raw).date == datetime(2023, 4, 7, 15, 30, 44, tzinfo=UTC)


@pytest.mark.parametrize(
    "from_header",
    # ("a b@c.ru" is a name and an address written without brackets: see test_email_sender)
    [None, "", "   ", "<>", "not an address", "=?utf-8?Q?agent?=@example.com"],
)
def test_missing_or_unusable_from(from_header: str | None) -> None:
    headers = [("Subject", "x")] + ([("From", from_header)] if from_header is not None else [])
    parsed = parse_mail(raw_mail(headers, "Течёт кран".encode()))
    assert parsed.sender is None
    assert any("manual review" in n for n in parsed.notes)
    inbound = parsed.to_inbound(fallback_time=WHEN)
    assert inbound.sender is None and inbound.text == "Течёт кран"


def test_sender_is_lowercased_with_decoded_name() -> None:
    raw = raw_mail([("From", "=?utf-8?B?0JjQstCw0L0=?= <Ivan.Petrov@Example.RU>")], b"x")
    parsed = parse_mail(raw)
    assert (parsed.sender, parsed.sender_name) == ("ivan.petrov@example.ru", "Иван")
    inbound = parsed.to_inbound(fallback_time=WHEN)
    assert inbound.sender is not None
    assert (inbound.sender.channel, inbound.sender.address) == (Channel.EMAIL, parsed.sender)


def test_message_id_and_threading_headers() -> None:
    raw = raw_mail(
        [
            ("From", "a@b.ru"),
            ("Message-ID", "  <Msg-1@b.ru>  "),
            ("In-Reply-To", "<A-1042.1.ack@uk.ru>"),
            ("References", "<first@b.ru>\r\n <A-1042.1.ack@uk.ru>"),
        ],
        b"x",
    )
    parsed = parse_mail(raw)
    assert parsed.message_id == "Msg-1@b.ru" and not parsed.message_id_synthetic
    assert parsed.in_reply_to == "A-1042.1.ack@uk.ru"
    assert parsed.references == ("first@b.ru", "A-1042.1.ack@uk.ru")
    inbound = parsed.to_inbound(raw_ref="INBOX/77:12", fallback_time=WHEN)
    assert inbound.thread_hints == ("A-1042.1.ack@uk.ru", "first@b.ru")
    assert inbound.raw_ref == "INBOX/77:12" and inbound.channel is Channel.EMAIL


def test_synthetic_message_id_is_stable_across_line_endings() -> None:
    lf = b"From: a@b.ru\nSubject: x\n\nline one\nline two\n"
    crlf = lf.replace(b"\n", b"\r\n")
    first, second = parse_mail(lf), parse_mail(crlf)
    assert first.message_id.startswith("sha256:") and first.message_id_synthetic
    assert first.message_id == second.message_id
    assert parse_mail(lf.replace(b"two", b"three")).message_id != first.message_id
    assert parse_mail(b"Message-ID: \n" + lf).message_id.startswith("sha256:")


def test_text_trimmed_to_the_limit() -> None:
    raw = raw_mail(
        [("From", "a@b.ru"), ("Content-Type", "text/plain; charset=utf-8")], ("я" * 500).encode()
    )
    parsed = parse_mail(raw, limits=MailLimits(max_text_chars=100))
    assert len(parsed.text) == 100 and len(parsed.full_text) == 100
    assert "text trimmed to 100 characters" in parsed.notes


def test_bounce_thread_hints_include_returned_message_id() -> None:
    dsn = (
        b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.ru\r\n\r\n"
        b"Final-Recipient: rfc822; resident@mail.ru\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"From: office@uk.ru\r\nMessage-ID: <A-1042.17.ack@uk.ru>\r\nSubject: [A-1042]\r\n\r\n"
        b"--r--\r\n"
    )
    raw = raw_mail(
        [
            ("From", "MAILER-DAEMON@mx.ru"),
            ("Message-ID", "<bounce1@mx.ru>"),
            ("Content-Type", 'multipart/report; report-type=delivery-status; boundary="r"'),
        ],
        dsn,
    )
    parsed = parse_mail(raw, own_addresses=frozenset({"office@uk.ru"}))
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient == "resident@mail.ru"
    assert parsed.bounced_message_ids == ("A-1042.17.ack@uk.ru",)
    inbound = parsed.to_inbound(fallback_time=WHEN)
    assert inbound.thread_hints == ("A-1042.17.ack@uk.ru",)
    assert inbound.bounced_recipient == "resident@mail.ru"


def test_language_hint() -> None:
    ru = parse_mail(raw_mail([("From", "a@b.ru")], RU.encode()))
    en = parse_mail(raw_mail([("From", "a@b.ru")], b"The lift is broken again in block 3."))
    assert (ru.language, en.language) == ("ru", "en")
    assert ru.to_inbound(fallback_time=WHEN).sender.language == "ru"  # type: ignore[union-attr]


def test_mojibake_detector() -> None:
    text = "Протечка в квартире, срочно"
    assert not looks_like_mojibake(text)
    assert looks_like_mojibake(text.encode().decode("latin-1"))
    assert looks_like_mojibake(text.encode().decode("cp1251"))
    assert looks_like_mojibake(("Привет, " * 10).encode("koi8-r").decode("cp1251"))
    assert looks_like_mojibake("CafÃ© â€™")
    assert not looks_like_mojibake("ЖКХ и УК «Заречье» №5, СРОЧНО: ГВС")


def test_parse_is_pure() -> None:
    """Same bytes, same result, every time (its speed is measured in bench/email.py)."""
    msg = MIMEMultipart("alternative")
    msg["From"] = "Иван <ivan@example.ru>"
    msg["Subject"] = "Лифт"
    msg.attach(MIMEText(RU * 20, "plain", "utf-8"))
    msg.attach(MIMEText(f"<p>{RU * 20}</p>", "html", "utf-8"))
    raw = msg.as_bytes()
    first = parse_mail(raw)
    assert all(parse_mail(raw) == first for _ in range(3))


# --- inputs a fuzzing round found (2026-12-06): each used to lose the sender or the text -----

_LEAK = "Здравствуйте! В квартире 12 течёт труба.".encode()


@pytest.mark.parametrize("charset", ["undefined", '" "', "x-unknown-charset"])
def test_a_meaningless_charset_label_keeps_sender_and_text(charset: str) -> None:
    raw = (b"From: Ivan <ivan@mail.ru>\nSubject: Leak\n"
           b"Content-Type: text/plain; charset=" + charset.encode() + b"\n\n" + _LEAK)
    parsed = parse_mail(raw)
    assert parsed.sender == "ivan@mail.ru"
    assert parsed.text.startswith("Здравствуйте! В квартире 12")


def test_a_bounce_whose_report_has_raw_8bit_russian_is_still_a_bounce() -> None:
    raw = (b"From: MAILER-DAEMON@mx.uk.ru\nSubject: Undelivered Mail Returned to Sender\n"
           b"MIME-Version: 1.0\n"
           b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
           b"--b\nContent-Type: text/plain; charset=utf-8\n\n" + "Сообщение не доставлено.".encode()
           + b"\n--b\nContent-Type: message/delivery-status\n\n"
           b"Reporting-MTA: dns; mx.uk.ru\n\nFinal-Recipient: rfc822; ivan@mail.ru\n"
           b"Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 "
           + "Почтовый ящик не существует".encode() + b"\n--b--\n")
    parsed = parse_mail(raw)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient == "ivan@mail.ru"


def test_a_forward_whose_inner_part_names_its_charset_rfc2231_style_keeps_its_sender() -> None:
    inner = (b"From: Petrov <petrov@mail.ru>\nSubject: Leak\n"
             b"Content-Type: text/plain; charset*=utf-8''\n"
             b"Content-Transfer-Encoding: 8bit\n\n" + _LEAK)
    raw = (b"From: Ivan <ivan@mail.ru>\nSubject: Fwd: Leak\nMIME-Version: 1.0\n"
           b'Content-Type: multipart/mixed; boundary="b"\n\n'
           b"--b\nContent-Type: text/plain; charset=utf-8\n\n"
           + "Пересылаю жалобу соседа".encode()
           + b"\n--b\nContent-Type: message/rfc822\n\n" + inner + b"\n--b--\n")
    parsed = parse_mail(raw)
    assert parsed.sender == "ivan@mail.ru"
    assert "Пересылаю" in parsed.text


def test_a_letter_indented_with_spaces_keeps_its_text() -> None:
    # Each line indented by 300 spaces: the quote detector's header pattern once backtracked
    # over every indentation for seconds.
    body = "\n".join(" " * 300 + f"Прошу проверить стояк, строка {i}" for i in range(20))
    raw = ("From: Ivan <ivan@mail.ru>\nSubject: " + "Re" + " " * 3000
           + "\nContent-Type: text/plain; charset=utf-8\n\n" + body).encode()
    parsed = parse_mail(raw)
    assert "Прошу проверить стояк, строка 19" in parsed.text


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r"])
def test_a_labelled_letter_in_capitals_is_read_in_its_label(charset: str) -> None:
    text = "НЕТ ГОРЯЧЕЙ ВОДЫ ТРЕТИЙ ДЕНЬ, ПРОШУ ПРИНЯТЬ МЕРЫ"
    raw = (b"From: Ivan <ivan@mail.ru>\nSubject: Leak\nContent-Type: text/plain; charset="
           + charset.encode() + b"\nContent-Transfer-Encoding: 8bit\n\n" + text.encode(charset))
    assert parse_mail(raw).text == text


def _plain(body: bytes, *, headers: bytes = b"", ctype: bytes = b"text/plain; charset=utf-8",
           sender: bytes = b"Ivan <ivan@mail.ru>") -> bytes:
    return (b"From: " + sender + b"\nSubject: Leak\n" + headers
            + b"Content-Type: " + ctype + b"\n\n" + body)


@pytest.mark.parametrize("html", [
    # </head> is optional in HTML: <body> ends the head
    "<html><head><meta charset='utf-8'><body><p>{}</p></body></html>",
    # Outlook's conditional sections, whose keywords the stdlib parser does not know
    "<html><body><p>Добрый день.</p><![if !supportLists]><p>{}</p><![endif]></body></html>",
    # an unclosed <style> or <title> hides the rest from the parser (and from a browser)
    "<html><head><style>p{{color:red}}</head><body><p>{}</p></body></html>",
    "<html><head><title>Письмо</head><body><p>{}</p></body></html>",
])
def test_html_residents_send_keeps_its_text(html: str) -> None:
    text = "В квартире 12 течёт потолок"
    raw = _plain(html.format(text).encode(), ctype=b"text/html; charset=utf-8")
    assert text in parse_mail(raw).text


def test_a_formal_statements_header_lines_are_no_quoted_history() -> None:
    body = ("Добрый день!\n\nОт: Иванов И.И., кв. 12\nКому: директору ООО «УК»\n"
            "Дата: 15.01.2024\n\nЗАЯВЛЕНИЕ\nВ квартире 12 течёт потолок.").encode()
    assert "В квартире 12 течёт потолок" in parse_mail(_plain(body)).text


def test_a_neighbours_words_relayed_are_kept() -> None:
    body = "Добрый день!\nВ чате дома Мария (кв. 7) пишет:\nВ подъезде 2 нет света.".encode()
    assert "В подъезде 2 нет света" in parse_mail(_plain(body)).text


@pytest.mark.parametrize(("cte", "payload"), [
    # a soft line break with spaces a transport added after it
    (b"quoted-printable", b"=D0=92 =D0=BA=D0=B2=D0=B0=D1=80=D1=82=D0=B8=D1=80=D0=B5 = \n"
                          b"12 =D1=82=D0=B5=D1=87=D1=91=D1=82"),
    # the encoding's name quoted, and base64 pieces joined each with its own padding
    (b'"base64"', base64.b64encode("В квартире 12 течёт".encode())),
    (b"base64", base64.b64encode("В квартире".encode()) + base64.b64encode(" 12 течёт".encode())),
])
def test_transfer_encodings_as_sloppy_clients_write_them(cte: bytes, payload: bytes) -> None:
    raw = _plain(payload, headers=b"Content-Transfer-Encoding: " + cte + b"\n")
    assert parse_mail(raw).text == "В квартире 12 течёт"


def test_an_8bit_body_with_equals_signs_is_not_read_as_quoted_printable() -> None:
    body = "Показания: ХВС=123, ГВС=456\nИтого =\n2 счётчика".encode()
    assert parse_mail(_plain(body)).text.startswith("Показания: ХВС=123, ГВС=456")


@pytest.mark.parametrize(("sender", "address"), [
    (b"ivan@mail.ru <petrov@mail.ru>", "petrov@mail.ru"),
    (b'"ivan.petrov"@mail.ru', "ivan.petrov@mail.ru"),
])
def test_unusual_but_readable_from_headers(sender: bytes, address: str) -> None:
    assert parse_mail(_plain("Течёт".encode(), sender=sender)).sender == address


def test_a_byte_order_mark_before_the_headers_keeps_the_sender() -> None:
    assert parse_mail(b"\xef\xbb\xbf" + _plain("Течёт".encode())).sender == "ivan@mail.ru"


@pytest.mark.parametrize(("charset", "text"), [
    ("koi8-u", "Доброго дня, не працює ліфт у під'їзді"),
    ("x-mac-cyrillic", "Здравствуйте! В квартире 12 течёт потолок"),
])
def test_cyrillic_variants_are_read_in_their_label(charset: str, text: str) -> None:
    raw = _plain(text.encode(charset.replace("x-", "")),
                 ctype=b"text/plain; charset=" + charset.encode())
    assert parse_mail(raw).text == text


def test_a_utf8_reply_over_a_cp1251_quote_reads_both() -> None:
    body = ("Здравствуйте! В квартире 12 течёт потолок.\n\n".encode()
            + "> Заявка №123 принята в работу, мастер придёт завтра.".encode("cp1251"))
    parsed = parse_mail(_plain(body))
    assert parsed.text.startswith("Здравствуйте! В квартире 12")
    assert "мастер придёт завтра" in parsed.full_text


def test_html_full_of_unclosed_tags_keeps_the_text_around_them() -> None:
    # Thousands of "<p " that never close: the stdlib parser rescans the rest of the document
    # for each one unless they are read as text.
    html = "<html><body><p>В квартире 12 течёт потолок</p>" + "<p " * 5000 + "</body></html>"
    raw = _plain(html.encode(), ctype=b"text/html; charset=utf-8")
    assert parse_mail(raw).text.startswith("В квартире 12 течёт потолок")


def test_a_from_header_of_nested_comments_keeps_the_sender() -> None:
    sender = b"(" * 1000 + b"x" + b")" * 1000 + b" <ivan@mail.ru>"
    assert parse_mail(_plain("Течёт".encode(), sender=sender)).sender == "ivan@mail.ru"


# --- a second fuzzing round (2026-12-06) ---------------------------------------------------

def test_a_plain_footer_after_a_base64_body_stays_plain() -> None:
    body = (base64.encodebytes("В квартире 12 течёт потолок".encode("cp1251"))
            + b"\n-- \nDom5 mailing list\nhttps://lists.example/dom5\n")
    raw = _plain(body, ctype=b"text/plain; charset=windows-1251",
                 headers=b"Content-Transfer-Encoding: base64\n")
    parsed = parse_mail(raw)
    assert parsed.text == "В квартире 12 течёт потолок"
    assert "Dom5 mailing list" in parsed.full_text


@pytest.mark.parametrize("cte", [b"quoted-printable", b"base64"])
def test_raw_8bit_text_under_a_wrong_transfer_encoding_is_kept(cte: bytes) -> None:
    body = "Показания: ХВС=123, ГВС=456".encode()
    raw = _plain(body, headers=b"Content-Transfer-Encoding: " + cte + b"\n")
    assert parse_mail(raw).text == "Показания: ХВС=123, ГВС=456"


def test_a_short_cp1251_signature_under_a_long_utf8_letter_reads_both() -> None:
    body = ("Здравствуйте! " * 30 + "В квартире 45 течёт потолок.\n\n").encode() \
        + "Иванов И.И., кв. 45".encode("cp1251")
    assert parse_mail(_plain(body)).full_text.endswith("Иванов И.И., кв. 45")


def test_the_bat_quotes_with_initials_are_history() -> None:
    body = ("Мастер так и не пришёл.\n\nВы писали 15 января 2024 г., 10:00:00:\n\n"
            "Д> Ваше обращение зарегистрировано под номером A-1042.\n").encode()
    assert parse_mail(_plain(body)).text == "Мастер так и не пришёл."


def test_a_reply_to_a_forward_loses_the_offices_history() -> None:
    body = ("Мастер так и не пришёл.\n\nFrom: УК <office@uk.ru>\nSent: Monday, 10:00\n"
            "To: Ivan\nSubject: FW: Протечка\n\nПередали мастеру.").encode()
    raw = _plain(body).replace(b"Subject: Leak", b"Subject: RE: FW: Leak")
    assert parse_mail(raw).text == "Мастер так и не пришёл."


def test_apple_mails_russian_forward_marker_keeps_the_forwarded_letter() -> None:
    body = ("Посмотрите, что пишет сосед.\n\nНачало переадресованного сообщения:\n\n"
            "От: Сосед <s@mail.ru>\nДата: 10 марта 2025 г., 10:00:00 GMT+3\nКому: ivan@mail.ru\n\n"
            "Соседи сверху заливают.").encode()
    assert "Соседи сверху заливают" in parse_mail(_plain(body)).text


def test_a_sentence_starting_otpravleno_is_not_a_phone_signature() -> None:
    body = ("Отправлено через Госуслуги обращение 10 января, ответа нет до сих пор.\n"
            "Прошу срочно прислать сантехника.").encode()
    assert parse_mail(_plain(body)).text.endswith("Прошу срочно прислать сантехника.")


@pytest.mark.parametrize("robot", [b"noreply", b"wordpress", b"forms"])
@pytest.mark.parametrize(("reply_to", "sender"), [
    (b"Reply-To: Ivan <ivan@mail.ru>\n", "ivan@mail.ru"),
    (b"", None),
])
def test_a_no_reply_or_form_relay_sender_is_answered_at_reply_to_or_not_at_all(
        robot: bytes, reply_to: bytes, sender: str | None) -> None:
    # a site's contact form relays the resident's message from its own robot address
    raw = _plain("В квартире 12 течёт".encode(), headers=reply_to,
                 sender=b"Site <" + robot + b"@uk-domovoy.ru>")
    parsed = parse_mail(raw)
    assert parsed.sender == sender and parsed.automated is None


def test_a_bare_blockquote_without_an_attribution_is_indentation_not_history() -> None:
    html = "<p>Добрый день.</p><blockquote>В квартире 12 течёт потолок.</blockquote>"
    raw = _plain(html.encode(), ctype=b"text/html; charset=utf-8")
    assert "В квартире 12 течёт потолок." in parse_mail(raw).text
    quoted = ("<p>Мастер не пришёл.</p><p>10.03.2025, 12:15, УК &lt;office@uk.ru&gt;:</p>"
              "<blockquote>Обращение принято</blockquote>")
    raw = _plain(quoted.encode(), ctype=b"text/html; charset=utf-8")
    assert parse_mail(raw).text == "Мастер не пришёл."


def test_a_phone_signature_in_a_part_of_its_own_after_a_photo_is_dropped() -> None:
    # an iPhone puts a photo placed inside the text between two text parts
    raw = (b"From: Ivan <ivan@icloud.com>\nSubject: Leak\nMIME-Version: 1.0\n"
           b'Content-Type: multipart/mixed; boundary="b"\n\n'
           b"--b\nContent-Type: text/plain; charset=utf-8\n\n"
           + "Течёт потолок в кв. 45, фото:\n".encode()
           + b"--b\nContent-Type: image/jpeg; name=a.jpg\nContent-Disposition: inline; "
             b"filename=a.jpg\nContent-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRg==\n"
           b"--b\nContent-Type: text/plain; charset=utf-8\n\n\n"
           + "Отправлено с iPhone\n".encode() + b"--b--\n")
    assert parse_mail(raw).text == "Течёт потолок в кв. 45, фото:"


def test_a_letter_that_is_only_a_phone_signature_line_is_kept() -> None:
    assert parse_mail(_plain("Отправлено с iPhone".encode())).text == "Отправлено с iPhone"


def test_an_html_document_without_a_content_type_is_read_as_html() -> None:
    raw = (b"From: Ivan <ivan@mail.ru>\nSubject: Form\nMIME-Version: 1.0\n\n"
           + "<html><body><h2>Заявка с сайта</h2><table><tr><td><b>Сообщение:</b></td>"
             "<td>Нет горячей воды</td></tr></table></body></html>".encode())
    text = parse_mail(raw).text
    assert "Нет горячей воды" in text and "<" not in text


def test_rfc2047_words_split_over_plain_rfc2231_continuations_are_decoded() -> None:
    halves = ["Акт осмотра кв", "артиры 45.pdf"]
    words = [f"=?UTF-8?B?{base64.b64encode(h.encode()).decode()}?=" for h in halves]
    _, params = parse_params(f'attachment; filename*0="{words[0]}"; filename*1="{words[1]}"')
    assert params["filename"] == "Акт осмотра квартиры 45.pdf"


@pytest.mark.parametrize(("subject", "charset"), [
    ("КРЫША", "windows-1251"), ("ПОДЪЕЗД 3", "windows-1251"), ("Течь", "koi8-r")])
def test_a_short_raw_8bit_subject_reads_in_the_bodys_charset(subject: str, charset: str) -> None:
    # too few letters for statistics, which read capitals as another codec's lower case
    raw = (b"From: Ivan <ivan@mail.ru>\nSubject: " + subject.encode(charset)
           + b"\nContent-Type: text/plain; charset=" + charset.encode() + b"\n\n"
           + "Течёт крыша над квартирой 45, прошу прислать мастера.".encode(charset))
    assert parse_mail(raw).subject == subject


def test_a_utf16_text_part_is_text_not_binary() -> None:
    # .NET's SmtpClient with Encoding.Unicode, PowerShell's Send-MailMessage -Encoding Unicode
    body = base64.b64encode("В квартире 45 нет горячей воды.".encode("utf-16"))
    raw = _plain(body, headers=b"Content-Transfer-Encoding: base64\n",
                 ctype=b"text/plain; charset=utf-16")
    parsed = parse_mail(raw)
    assert parsed.text == "В квартире 45 нет горячей воды." and not parsed.attachments


def test_a_plain_bounce_with_a_long_base64_line_still_names_the_recipient() -> None:
    # the address search starts only where a run of address characters starts: tried at every
    # position of a long line without an "@" it took seconds
    raw = (b"From: MAILER-DAEMON@mx.uk.ru\nSubject: Undelivered Mail Returned to Sender\n\n"
           + b"<" + b"QUJD" * 4_000 + b"\n"
           b"Delivery to ivan@mail.ru failed permanently.\n")
    parsed = parse_mail(raw)
    assert parsed.automated is Automated.BOUNCE and parsed.bounced_recipient == "ivan@mail.ru"


def test_an_internationalised_domain_is_answered_at_its_ascii_form() -> None:
    raw = _plain("Нет горячей воды, кв. 45".encode(),
                 sender="Иванова Мария <ivanova@почта-дома.рф>".encode())
    parsed = parse_mail(raw)
    assert parsed.sender == "ivanova@" + "почта-дома.рф".encode("idna").decode()
    assert parsed.sender_name == "Иванова Мария"


# --- a fourth fuzzing round: stand-in plain parts, forwarded bounces, opaque S/MIME -----------

_FORM_HTML = ("<html><body><h3>Заявка с сайта</h3><p>Имя: Ольга Смирнова<br>Адрес: ул. Ленина 5, "
              "кв. 12</p><p>Сообщение: в квартире нет отопления второй день, батареи холодные, "
              "дома маленький ребёнок.</p></body></html>")


def _alternative(plain: str, html: str) -> bytes:
    msg = MIMEMultipart("alternative")
    msg["From"] = "Olga <olga@yandex.ru>"
    msg.attach(MIMEText(plain, "plain", "utf-8"))
    msg.attach(MIMEText(html, "html", "utf-8"))
    return msg.as_bytes()


@pytest.mark.parametrize("stub", [
    # PHPMailer's stock AltBody
    "This is an HTML-only message. To view it, activate HTML in your email application.",
    "Это сообщение в формате HTML. Для его просмотра используйте почтовую программу с "
    "поддержкой HTML.",
    "Your email client does not support HTML messages. Please view this email in your browser.",
    "Если письмо отображается некорректно, откройте его веб-версию.",
    # no stand-in words, but the HTML carries far more text than the plain part
    "Новая заявка",
])
def test_a_plain_part_standing_in_for_the_html_gives_way_to_it(stub: str) -> None:
    parsed = parse_mail(_alternative(stub, _FORM_HTML))
    assert parsed.html and "нет отопления второй день" in parsed.text


def test_a_short_plain_part_carrying_the_htmls_words_is_kept() -> None:
    # the resident's own words happen to sound like a stand-in: the HTML says the same
    text = "Не могу открыть квитанцию в браузере, просмотр счёта не работает. Кв. 12."
    parsed = parse_mail(_alternative(text, f"<div dir='ltr'>{text}</div>"))
    assert (parsed.text, parsed.html) == (text, False)


# Postfix's words, line breaks included
_BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.mail.ru>\n"
    b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
    b"--r\nContent-Type: text/plain\n\nThis is the mail system at host mx.mail.ru.\n\n"
    b"I'm sorry to have to inform you that your message could not\nbe delivered to one or "
    b"more recipients.\n\n<old@uk.ru>: host mx.uk.ru said: 550 5.1.1 No such user\n"
    b"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.mail.ru\n\n"
    b"Final-Recipient: rfc822; old@uk.ru\nAction: failed\nStatus: 5.1.1\n"
    b"--r\nContent-Type: text/rfc822-headers\n\n"
    b"From: ivan@mail.ru\nTo: old@uk.ru\nMessage-ID: <old@mail.ru>\n\n--r--\n"
)


def test_a_bounce_forwarded_as_an_attachment_under_a_new_complaint_is_no_bounce() -> None:
    assert parse_mail(_BOUNCE).automated is Automated.BOUNCE
    raw = (b"From: Ivan <ivan@mail.ru>\nSubject: Fwd: Undelivered Mail Returned to Sender\n"
           b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="o"\n\n'
           b"--o\nContent-Type: text/plain; charset=utf-8\n\n"
           + "Писал на старый адрес, письмо вернулось. Повторяю: в подъезде 2 не работает "
             "лифт третий день, кв. 45.\n".encode()
           + b"--o\nContent-Type: message/rfc822\n\n" + _BOUNCE + b"\n--o--\n")
    parsed = parse_mail(raw)
    assert parsed.automated is None and parsed.bounced_recipient is None
    assert parsed.text.startswith("Писал на старый адрес")
    assert "message/delivery-status" not in {a.content_type for a in parsed.attachments}


def _der(tag: int, *content: bytes, indefinite: bool = False) -> bytes:
    body = b"".join(content)
    if indefinite:
        return bytes([tag, 0x80]) + body + b"\0\0"
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    width = (size.bit_length() + 7) // 8
    return bytes([tag, 0x80 | width]) + size.to_bytes(width, "big") + body


_PKCS7_SIGNED = bytes.fromhex("2a864886f70d010702")
_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")
_PKCS7_ENVELOPED = bytes.fromhex("2a864886f70d010703")


def _p7m(content: bytes, *, streamed: bool = False, kind: bytes = _PKCS7_SIGNED) -> bytes:
    """A minimal CMS ContentInfo around ``content``: no certificates, no signers (the parser
    checks no signature). ``streamed`` is what "openssl smime -stream" and Outlook write:
    indefinite lengths and the content in OCTET STRING chunks."""
    if streamed:
        chunks = [_der(0x04, content[i:i + 100]) for i in range(0, len(content), 100)]
        octets = _der(0x24, *chunks, indefinite=True)
    else:
        octets = _der(0x04, content)
    encap = _der(0x30, _der(0x06, _PKCS7_DATA), _der(0xA0, octets, indefinite=streamed),
                 indefinite=streamed)
    signed = _der(0x30, _der(0x02, b"\x01"), _der(0x31), encap, _der(0x31), indefinite=streamed)
    return _der(0x30, _der(0x06, kind), _der(0xA0, signed, indefinite=streamed),
                indefinite=streamed)


def _smime_mail(p7m: bytes, smime_type: str = "signed-data") -> bytes:
    return _plain(base64.encodebytes(p7m), ctype=(
        f'application/x-pkcs7-mime; smime-type={smime_type}; name="smime.p7m"').encode(),
        headers=b"Content-Transfer-Encoding: base64\n"
                b'Content-Disposition: attachment; filename="smime.p7m"\n')


@pytest.mark.parametrize("streamed", [False, True])
def test_an_opaque_smime_signed_letter_is_read_from_inside_the_signature(streamed: bool) -> None:
    inner = ("Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n\r\n"
             "Лифт в подъезде 2 стоит третий день, кв. 45. Прошу срочно починить.\r\n--zz\r\n"
             "Content-Type: application/pdf; name=act.pdf\r\nContent-Transfer-Encoding: base64\r\n"
             "\r\nJVBERi0xLjQK\r\n--zz--\r\n").encode()
    parsed = parse_mail(_smime_mail(_p7m(inner, streamed=streamed)))
    assert parsed.text == "Лифт в подъезде 2 стоит третий день, кв. 45. Прошу срочно починить."
    assert [(a.filename, a.ref) for a in parsed.attachments] == [
        ("smime.p7m", "1"), ("act.pdf", "1.2")]


@pytest.mark.parametrize(("p7m", "smime_type", "text"), [
    (_p7m(b"Content-Type: text/plain\r\n\r\nsecret", kind=_PKCS7_ENVELOPED), "signed-data",
     "[Зашифровано"),
    (_p7m(b"Content-Type: text/plain\r\n\r\nsecret"), "enveloped-data", "[Зашифровано"),
    (_p7m(b"Content-Type: text/plain\r\n\r\nsecret")[:-8], "signed-data", ""),
    (b"\x30\x80" * 1000, "signed-data", ""),
])
def test_an_unreadable_or_encrypted_p7m_stays_an_attachment(p7m: bytes, smime_type: str,
                                                            text: str) -> None:
    """Encrypted, a line saying so stands in for the text; broken, the text stays empty."""
    parsed = parse_mail(_smime_mail(p7m, smime_type))
    assert parsed.text.startswith(text) and bool(parsed.text) == bool(text)
    assert ("message has no readable text" in parsed.notes) == (not text)
    assert [a.filename for a in parsed.attachments] == ["smime.p7m"]


# --- winmail.dat (TNEF) -----------------------------------------------------------------------

_TNEF_SIGNATURE = 0x223E9F78
_MESSAGE, _ATTACHMENT = 1, 2
_ATT_BODY, _ATT_ATTACH_DATA, _ATT_ATTACH_TITLE = 0x0002800C, 0x0006800F, 0x00018010
_ATT_REND_DATA, _ATT_MSG_PROPS, _ATT_ATTACHMENT = 0x00069002, 0x00069003, 0x00069005
_ATT_OEM_CODEPAGE = 0x00069007
_PT_LONG, _PT_STRING8, _PT_UNICODE, _PT_BINARY = 0x0003, 0x001E, 0x001F, 0x0102
_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
_PDF = b"%PDF-1.4\n" + b"0" * 700


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _tnef_attr(level: int, attribute: int, data: bytes) -> bytes:
    """One TNEF attribute: level, id (type in the high word), length, data, checksum."""
    checksum = (sum(data) % 65536).to_bytes(2, "little")
    return bytes([level]) + _u32(attribute) + _u32(len(data)) + data + checksum


def _tnef(*attributes: bytes, codepage: int | None = 1251) -> bytes:
    head = _u32(_TNEF_SIGNATURE) + b"\x34\x12"  # any legacy key
    if codepage is not None:
        head += _tnef_attr(_MESSAGE, _ATT_OEM_CODEPAGE, _u32(codepage) + _u32(0))
    return head + b"".join(attributes)


def _mapi(*props: tuple[int, int, bytes]) -> bytes:
    """A MAPI property block: (id, type, value) with ids from 0x8000 written as named
    properties (a GUID and a UTF-16 name), as Outlook writes its own."""
    out = _u32(len(props))
    for pid, ptype, value in props:
        out += _u32(pid << 16 | ptype)
        if pid >= 0x8000:
            name = "Домовой".encode("utf-16-le") + b"\0\0"
            out += bytes(range(16)) + _u32(1) + _u32(len(name)) + name + b"\0" * (-len(name) % 4)
        if ptype in (_PT_STRING8, _PT_UNICODE, _PT_BINARY):
            out += _u32(1) + _u32(len(value)) + value + b"\0" * (-len(value) % 4)
        else:
            out += value
    return out


def _tnef_file(data: bytes, title: bytes, *props: tuple[int, int, bytes]) -> bytes:
    attrs = [_tnef_attr(_ATTACHMENT, _ATT_REND_DATA, bytes(14)),
             _tnef_attr(_ATTACHMENT, _ATT_ATTACH_TITLE, title + b"\0"),
             _tnef_attr(_ATTACHMENT, _ATT_ATTACH_DATA, data)]
    if props:
        attrs.append(_tnef_attr(_ATTACHMENT, _ATT_ATTACHMENT, _mapi(*props)))
    return b"".join(attrs)


def _tnef_mail(tnef: bytes, text: str | None = "Фото протечки во вложении, кв. 45.",
               ctype: str = "ms-tnef") -> bytes:
    msg = MIMEMultipart()
    msg["From"] = "Иван <ivan@example.ru>"
    msg["Subject"] = "Протечка"
    if text is not None:
        msg.attach(MIMEText(text, "plain", "utf-8"))
    part = MIMEApplication(tnef, ctype)
    part.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    msg.attach(part)
    return msg.as_bytes()


def _lzfu_literals(rtf: bytes) -> bytes:
    """PR_RTF_COMPRESSED holding ``rtf`` as literals only, ended by a reference to the write
    position (the dictionary starts with 207 bytes of RTF words)."""
    end = ((207 + len(rtf)) % 4096 << 4).to_bytes(2, "big")
    body = b""
    for i in range(0, len(rtf) + 1, 8):
        run = rtf[i:i + 8]
        ends_here = len(run) < 8
        body += bytes([1 << len(run) if ends_here else 0]) + run + (end if ends_here else b"")
    return _u32(len(body) + 12) + _u32(len(rtf)) + b"LZFu" + _u32(0) + body


def test_files_inside_a_winmail_dat_are_listed_with_their_long_names() -> None:
    tnef = _tnef(
        _tnef_attr(_MESSAGE, _ATT_BODY, "Текст из winmail.dat".encode("cp1251")),
        _tnef_file(_JPEG, b"FOTOPR~1.JPG",
                   (0x3705, _PT_LONG, _u32(1)),  # PR_ATTACH_METHOD before the name
                   (0x8005, _PT_STRING8, b"named\0"),
                   (0x3707, _PT_STRING8, "фото протечки.jpg".encode("cp1251") + b"\0")),
        _tnef_file(_PDF, b"AKTOSM~1.PDF",
                   (0x3707, _PT_UNICODE, "акт осмотра.pdf".encode("utf-16-le") + b"\0\0")),
        _tnef_file(b"\x89PNG\r\n\x1a\n" + bytes(50), b"SCHEMA.PNG"),
    )
    parsed = parse_mail(_tnef_mail(tnef))
    assert [(a.filename, a.content_type, a.size, a.ref) for a in parsed.attachments] == [
        ("winmail.dat", "application/ms-tnef", len(tnef), "2"),
        ("фото протечки.jpg", "image/jpeg", len(_JPEG), "2.1"),
        ("акт осмотра.pdf", "application/pdf", len(_PDF), "2.2"),
        ("SCHEMA.PNG", "image/png", 58, "2.3"),
    ]
    # the mail's own text is the letter; the TNEF copy of it is not added
    assert parsed.text == "Фото протечки во вложении, кв. 45."


def test_a_winmail_dat_sent_as_octet_stream_is_read_by_its_name() -> None:
    tnef = _tnef(_tnef_file(_JPEG, "ФОТО.JPG".encode("cp1251")))
    parsed = parse_mail(_tnef_mail(tnef, ctype="octet-stream"))
    assert [(a.filename, a.content_type, a.ref) for a in parsed.attachments] == [
        ("winmail.dat", "application/octet-stream", "2"), ("ФОТО.JPG", "image/jpeg", "2.1")]


_TNEF_LETTER = "Добрый день! С потолка в ванной течёт вода, кв. 45, дом 12."


@pytest.mark.parametrize("shape", ["multipart", "empty text part", "single part"])
def test_the_text_of_a_tnef_only_mail_is_read_from_the_winmail_dat(shape: str) -> None:
    tnef = _tnef(_tnef_attr(_MESSAGE, _ATT_BODY, _TNEF_LETTER.encode("cp1251")),
                 _tnef_file(_JPEG, b"IMG_0001.JPG"))
    if shape == "single part":
        raw = (b"From: ivan@example.ru\nSubject: =?utf-8?b?" + base64.b64encode("Течь".encode())
               + b"?=\nMIME-Version: 1.0\nContent-Type: application/ms-tnef; name=winmail.dat\n"
               b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(tnef))
    else:
        raw = _tnef_mail(tnef, text=" \n" if shape == "empty text part" else None)
    parsed = parse_mail(raw)
    assert parsed.text == _TNEF_LETTER
    assert "text read from the winmail.dat (Outlook rich text) attachment" in parsed.notes
    assert "message has no readable text" not in parsed.notes
    assert [a.filename for a in parsed.attachments] == ["winmail.dat", "IMG_0001.JPG"]


_RTF_RU = (rb"{\rtf1\ansi\ansicpg1251\deff0{\fonttbl{\f0\fswiss\fcharset204 Arial;}}"
           rb"{\colortbl;\red0\green0\blue0;}{\*\generator Riched20 15.0;}\viewkind4\uc1"
           rb"\pard\f0\fs20 " + "Течёт крыша".encode("cp1251").replace(b"\xf7", rb"\'f7")
           + rb"\par " + rb"\'ed\'e0\'e4 \'ea\'e2. 45 \u8470?1\line"
           + rb'{\field{\*\fldinst HYPERLINK "http://x.ru"}{\fldrslt ' + b"\xf4\xee\xf2\xee}}"
           + rb"{\pict\pngblip 89504e47}\par}")
_RTF_HTML = (rb"{\rtf1\ansi\ansicpg1251\fromhtml1 \deff0{\fonttbl{\f0\fswiss Arial;}}"
             rb"{\*\htmltag19 <html>}{\*\htmltag34 <body>}\htmlrtf {\htmlrtf0 {\*\htmltag64 <p>}"
             + rb"\'cd\'e5\'f2 \'e2\'ee\'e4\'fb &amp; \'f1\'e2\'e5\'f2\'e0"
             + rb"\htmlrtf\par\htmlrtf0{\*\htmltag72 </p>}}\htmlrtf }\htmlrtf0 "
             rb"{\*\htmltag58 </body>}{\*\htmltag27 </html>}}")


@pytest.mark.parametrize(("props", "expected"), [
    ([(0x1000, _PT_UNICODE, "Нет отопления, кв. 7".encode("utf-16-le") + b"\0\0")],
     "Нет отопления, кв. 7"),
    ([(0x1000, _PT_STRING8, "Нет отопления".encode("cp1251") + b"\0")], "Нет отопления"),
    ([(0x3FDE, _PT_LONG, _u32(65001)),
      (0x1013, _PT_BINARY, "<html><body><p>Сломан <b>домофон</b></p></body></html>".encode())],
     "Сломан домофон"),
    # MS-OXRTFCP's examples: a reference into the initial dictionary, one crossing the write
    # position
    ([(0x1009, _PT_BINARY, bytes.fromhex(
        "2d 00 00 00 2b 00 00 00 4c 5a 46 75 f1 c5 c7 a7 03 00 0a 00 72 63 70 67 31 32 35 42"
        "32 0a f3 20 68 65 6c 09 00 20 62 77 05 b0 6c 64 7d 0a 80 0f a0"))], "hello world"),
    ([(0x1009, _PT_BINARY, bytes.fromhex(
        "1a0000001c0000004c5a4675e2d44b51410004205758595a0d6e7d010eb0"))],
     "WXYZWXYZWXYZWXYZWXYZ"),
    ([(0x1009, _PT_BINARY, _lzfu_literals(_RTF_RU))], "Течёт крыша\nнад кв. 45 №1\nфото"),
    # cut short (no end mark, less than the size it announces): what is there is read
    ([(0x1009, _PT_BINARY, _lzfu_literals(_RTF_RU)[:-20])], "Течёт крыша\nнад кв. 45 №1\nфото"),
    ([(0x1009, _PT_BINARY, _lzfu_literals(_RTF_HTML))], "Нет воды & света"),
    ([(0x1009, _PT_BINARY, _u32(len(_RTF_RU) + 12) + _u32(len(_RTF_RU)) + b"MELA" + _u32(0)
       + _RTF_RU)], "Течёт крыша\nнад кв. 45 №1\nфото"),
])
def test_a_tnef_only_mails_text_from_mapi_properties(
        props: list[tuple[int, int, bytes]], expected: str) -> None:
    tnef = _tnef(_tnef_attr(_MESSAGE, _ATT_MSG_PROPS, _mapi(*props)))
    assert parse_mail(_tnef_mail(tnef, text=None)).text == expected


def test_files_inside_a_winmail_dat_respect_the_attachment_limits() -> None:
    tnef = _tnef(_tnef_file(b"x" * 3000, b"BIG.JPG"), _tnef_file(_JPEG, b"A.JPG"),
                 _tnef_file(_JPEG, b"B.JPG"))
    limits = MailLimits(max_attachments=2, max_attachment_bytes=2800)
    parsed = parse_mail(_tnef_mail(tnef), limits=limits)
    # the winmail.dat itself is too big to keep, the photos inside it are not
    assert [(a.filename, a.ref) for a in parsed.attachments] == [("A.JPG", "2.2"),
                                                                ("B.JPG", "2.3")]
    assert parsed.dropped == (
        f"attachment 'winmail.dat' dropped: {format_size(len(tnef))} over the 3 KB limit",
        "attachment 'BIG.JPG' dropped: 3 KB over the 3 KB limit",
    )
    few = parse_mail(_tnef_mail(_tnef(_tnef_file(_JPEG, b"A.JPG"), _tnef_file(_JPEG, b"B.JPG"))),
                     limits=MailLimits(max_attachments=2))
    assert [a.filename for a in few.attachments] == ["winmail.dat", "A.JPG"]
    assert few.dropped == ("attachment 'B.JPG' dropped: more than 2 attachments",)


_GOOD_ATTRS = [
    (_MESSAGE, _ATT_OEM_CODEPAGE, _u32(1251) + _u32(0)),
    (_MESSAGE, _ATT_BODY, _TNEF_LETTER.encode("cp1251")),
    (_MESSAGE, _ATT_MSG_PROPS, _mapi((0x1009, _PT_BINARY, _lzfu_literals(_RTF_RU)),
                                     (0x8001, _PT_LONG, _u32(5)))),
    (_ATTACHMENT, _ATT_REND_DATA, bytes(14)),
    (_ATTACHMENT, _ATT_ATTACH_TITLE, b"FOTO.JPG\0"),
    (_ATTACHMENT, _ATT_ATTACH_DATA, _JPEG[:64]),
    (_ATTACHMENT, _ATT_ATTACHMENT, _mapi((0x3707, _PT_STRING8, "фото.jpg".encode("cp1251")))),
]
_GOOD_TNEF = _tnef(*(_tnef_attr(*a) for a in _GOOD_ATTRS), codepage=None)


@pytest.mark.parametrize("tnef", [
    b"",
    b"garbage, not TNEF at all",
    _GOOD_TNEF[:4],
    _GOOD_TNEF[:-1],  # the last checksum cut
    _GOOD_TNEF[:6] + b"\x01\x0c\x80\x02\x00\xff\xff\xff\x7f",  # a length past the end
    _GOOD_TNEF[:-2] + b"\x00\x00",  # a wrong checksum
    _GOOD_TNEF[:6] + b"\x07" + _GOOD_TNEF[7:],  # an unknown level
    _GOOD_TNEF[:6] + _tnef_attr(_MESSAGE, 0x8008, b"") * 5000,  # too many attributes
])
def test_damaged_tnef_is_only_the_attachment(tnef: bytes) -> None:
    parsed = parse_mail(_tnef_mail(tnef))
    assert [(a.filename, a.ref) for a in parsed.attachments] == [("winmail.dat", "2")]
    assert parsed.text == "Фото протечки во вложении, кв. 45."


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not out:
            break
        action, at = rng.randrange(4), rng.randrange(len(out))
        if action == 0:
            out[at] = rng.getrandbits(8)
        elif action == 1:
            del out[at:at + rng.randint(1, 40)]
        elif action == 2:
            out[at:at] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 12)))
        else:
            out[at:at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x80", b"\0"])
    return bytes(out)


def test_mutated_tnef_never_raises() -> None:
    rng = random.Random(20250311)
    read = 0
    for case in range(210):
        attrs = list(_GOOD_ATTRS)
        if case % 3 == 0:  # the stream itself: the checksums catch most of it
            tnef = _mutate(_GOOD_TNEF, rng)
        else:  # inside one value, checksum kept right: reaches the MAPI, LZFu and RTF readers
            if case % 3 == 1:  # no plain body, so the RTF is what gets read
                del attrs[1]
                rtf = _RTF_RU if case % 2 else _mutate(_RTF_RU, rng)
                attrs[1] = (_MESSAGE, _ATT_MSG_PROPS, _mapi(
                    (0x1009, _PT_BINARY, _lzfu_literals(rtf)), (0x8001, _PT_LONG, _u32(5))))
            i = rng.randrange(len(attrs))
            level, attribute, value = attrs[i]
            attrs[i] = (level, attribute, _mutate(value, rng))
            tnef = _tnef(*(_tnef_attr(*a) for a in attrs), codepage=None)
        parsed = parse_mail(_tnef_mail(tnef, text=None))
        assert parsed.attachments[0].filename == "winmail.dat"
        for att in parsed.attachments:
            assert 0 < len(att.filename) <= 150 and "/" not in att.filename
            assert att.ref == "1" or (att.ref or "").startswith("1.")  # the TNEF is part 1
        assert "\x00" not in parsed.text
        read += len(parsed.attachments) > 1 or bool(parsed.text)
    assert read > 100  # most mutations inside attributes still leave a readable TNEF
