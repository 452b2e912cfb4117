"""Ninth round: raw mail formats. What old clients, gateways, site scripts and signing mailers
put on the wire (UTF-16 without a byte-order mark, Outlook Express's UTF-7 label, a Content-Type
missing its semicolon, S/MIME and PGP signatures, uuencoded files, a company's legal footer,
transfer encodings nobody defined, RFC 822's "Subject :", a forward encoded in base64 or sent
as an .eml file) and what the office should read from each."""

from __future__ import annotations

import base64
import binascii
import itertools
import quopri
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from domovoy.app import App
from intake.email import parse_mail
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import OWN, ew, ingest, resolve
from workflow.clock import ManualClock
from workflow.models import Case

_ids = itertools.count(1)
REPORT = "Здравствуйте! В квартире 45 третий день течёт кран на кухне, вызовите сантехника."
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 2


def raw(body: bytes, ctype: str = "text/plain; charset=utf-8", cte: str | None = "8bit", *,
        sender: str = "Иван Петров <ivan.petrov@mail.ru>", subject: str = "Течёт кран",
        extra: str = "") -> bytes:
    """One mail with ``body`` as written under the given Content-Type and transfer encoding
    (None: no Content-Transfer-Encoding header at all)."""
    name, _, addr = sender.partition(" <")
    head = (f"From: {ew(name)} <{addr}\r\nTo: office@uk-dom.ru\r\nSubject: {ew(subject)}\r\n"
            f"Date: Thu, 15 Jan 2026 12:00:00 +0300\r\nMessage-ID: <fuzz9.{next(_ids)}@mail.ru>"
            f"\r\n{extra}MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n")
    if cte is not None:
        head += f"Content-Transfer-Encoding: {cte}\r\n"
    return head.encode() + b"\r\n" + body


def multipart(subtype: str, *parts: bytes, params: str = "", **kw: str) -> bytes:
    """``parts`` (each its own headers, a blank line and its body) in one multipart mail."""
    body = b"".join(b"--B9\r\n" + p + b"\r\n" for p in parts) + b"--B9--\r\n"
    return raw(body, f'multipart/{subtype}; boundary="B9"{params}', None, **kw)


TEXT_PART = ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             + REPORT).encode()


def photo_part(headers: str) -> bytes:
    return (headers + "\r\nContent-Transfer-Encoding: base64\r\n\r\n").encode() \
        + base64.encodebytes(JPEG)


# --- what earlier rounds handle, kept so -------------------------------------------------------


def _b64_lines(data: bytes, width: int) -> bytes:
    code = base64.b64encode(data).decode()
    return "\r\n".join(code[i:i + width] for i in range(0, len(code), width)).encode()


def _qp_broken_inside_letters(text: str) -> bytes:
    """Quoted-printable with a soft break after every seven characters or escapes, so most
    breaks fall between the two bytes of a Cyrillic letter."""
    escapes = quopri.encodestring(text.encode()).decode().replace("=\n", "")
    tokens = re.findall(r"=[0-9A-F]{2}|.", escapes)
    return "=\r\n".join("".join(tokens[i:i + 7]) for i in range(0, len(tokens), 7)).encode()


_READ: dict[str, bytes] = {
    "cp866": raw(REPORT.encode("cp866"), "text/plain; charset=cp866"),
    "ibm866": raw(REPORT.encode("cp866"), "text/plain; charset=ibm866"),
    "iso-8859-5": raw(REPORT.encode("iso8859_5"), "text/plain; charset=iso-8859-5"),
    "koi8-u": raw(REPORT.encode("koi8_u"), "text/plain; charset=koi8-u"),
    "x-mac-cyrillic": raw(REPORT.encode("mac_cyrillic"), "text/plain; charset=x-mac-cyrillic"),
    "cp866 unlabelled": raw(REPORT.encode("cp866"), "text/plain"),
    "utf-7": raw(REPORT.encode("utf-7"), "text/plain; charset=utf-7", "7bit"),
    "utf-16 with bom": raw(base64.encodebytes(REPORT.encode("utf-16")),
                           "text/plain; charset=utf-16", "base64"),
    "label cp-1251": raw(REPORT.encode("cp1251"), "text/plain; charset=cp-1251"),
    "label windows1251": raw(REPORT.encode("cp1251"), "text/plain; charset=windows1251"),
    "label quoted koi8-r": raw(REPORT.encode("koi8_r"), 'text/plain; charset="koi8-r"'),
    "label 'windows-1251'": raw(REPORT.encode("cp1251"), "text/plain; charset='windows-1251'"),
    "base64 without padding": raw(base64.b64encode(REPORT.encode()).rstrip(b"="),
                                  cte="base64"),
    "base64 in 7-character lines": raw(_b64_lines(REPORT.encode(), 7), cte="base64"),
    "qp soft breaks inside letters": raw(_qp_broken_inside_letters(REPORT),
                                         cte="quoted-printable"),
    "8-bit cp1251, no MIME headers": (
        b"From: ivan.petrov@mail.ru\r\nTo: office@uk-dom.ru\r\nSubject: "
        + "Течёт кран".encode("cp1251") + b"\r\n\r\n" + REPORT.encode("cp1251")),
    "NUL bytes": raw(REPORT.encode().replace(b" ", b" \x00", 3)),
    "bare CR line ends": raw(REPORT.encode()).replace(b"\r\n", b"\r"),
    "no closing boundary": multipart("mixed", TEXT_PART, photo_part(
        "Content-Type: image/jpeg; name=a.jpg")).removesuffix(b"--B9--\r\n"),
    "boundary line in the text": multipart("mixed", TEXT_PART + b"\r\n--B9 is what I meant"),
    "html with <br>, &nbsp; and <style>": raw(
        ("<html><head><style>p{color:red}</style></head><body>Здравствуйте!<br>В квартире&nbsp;45"
         " третий день течёт\u00a0кран на кухне,<br>вызовите сантехника.</body></html>").encode(),
        "text/html; charset=utf-8"),
}


@pytest.mark.parametrize("mail", list(_READ.values()), ids=list(_READ))
def test_raw_formats_earlier_rounds_read_stay_read(mail: bytes) -> None:
    parsed = parse_mail(mail, own_addresses=OWN)
    assert "течёт кран на кухне" in " ".join(parsed.text.split())
    assert parsed.sender == "ivan.petrov@mail.ru" and parsed.automated is None


@pytest.mark.parametrize(("disposition", "name"), [
    ("attachment;\r\n filename*0*=utf-8'ru'%D0%A4%D0%BE%D1%82%D0%BE;\r\n"
     " filename*1*=%20%D0%BA%D1%80%D0%B0%D0%BD%D0%B0.jpg", "Фото крана.jpg"),
    ("attachment; filename*=windows-1251''%D4%EE%F2%EE.jpg", "Фото.jpg"),
    ("attachment; filename*=\"utf-8''%D0%A4%D0%BE%D1%82%D0%BE.jpg\"", "Фото.jpg"),
    (None, "Фото кухни.jpg"),
])
def test_file_names_in_rfc2231_and_in_content_type_alone(disposition: str | None,
                                                        name: str) -> None:
    headers = ('Content-Type: image/jpeg;\r\n name="=?utf-8?B?0KTQvtGC0L4g0LrRg9GF0L3QuA==?=\r\n'
               ' =?utf-8?B?LmpwZw==?="' if disposition is None
               else f"Content-Type: image/jpeg\r\nContent-Disposition: {disposition}")
    parsed = parse_mail(multipart("mixed", TEXT_PART, photo_part(headers)))
    assert [a.filename for a in parsed.attachments] == [name]


# --- charsets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "codec"), [
    ("utf-16le", "utf-16-le"), ("utf-16be", "utf-16-be"), ("utf-32le", "utf-32-le")])
def test_utf16_without_a_byte_order_mark_is_read_in_its_label(label: str, codec: str) -> None:
    # Cyrillic in UTF-16 has no byte above 0x7f: it was taken for ASCII control characters
    mail = raw(base64.encodebytes(REPORT.encode(codec)), f"text/plain; charset={label}",
               "base64")
    parsed = parse_mail(mail)
    assert parsed.text == REPORT and parsed.language == "ru"


def test_outlook_express_utf7_label_and_a_typed_utf8_label_are_their_codecs() -> None:
    # "unicode-1-1-utf-7" was mapped to "utf-7", which the 7-bit path did not know
    assert parse_mail(raw(REPORT.encode("utf-7"), "text/plain; charset=unicode-1-1-utf-7",
                          "7bit")).text == REPORT
    name = "=?unicode-1-1-utf-7?Q?" + "Иван_Петров".encode("utf-7").decode() + "?="
    mail = raw(b"x").replace(ew("Иван Петров").encode(), name.encode())
    assert parse_mail(mail).sender_name == "Иван Петров"
    # a stray byte in a letter labelled "utf8" is one replacement, not the whole letter
    # read as Russian single-byte mojibake
    parsed = parse_mail(raw(REPORT.encode() + b"\xff", "text/plain; charset=utf8"))
    assert parsed.text.startswith(REPORT)


# --- Content-Type and transfer encodings as scripts write them ----------------------------------


@pytest.mark.parametrize("ctype", [
    "text/html charset=utf-8",
    "text/html, charset=utf-8",
    "text/plain charset=koi8-r",
    "plain/text; charset=utf-8",
    "html/text; charset=utf-8",
])
def test_a_content_type_written_carelessly_keeps_the_letter(ctype: str) -> None:
    # PHP scripts: the letter became "attachment-1.bin" and the case had no text
    codec = "koi8_r" if "koi8" in ctype else "utf-8"
    body = f"<p>{REPORT}</p>" if "html" in ctype else REPORT
    parsed = parse_mail(raw(body.encode(codec), ctype))
    assert parsed.text == REPORT and parsed.attachments == ()


@pytest.mark.parametrize(("cte", "encode"), [
    ("base-64", base64.encodebytes),
    ("quoted printable", quopri.encodestring),
    ("x-base64", base64.encodebytes),
])
def test_a_transfer_encoding_nobody_defined_is_read_from_the_bytes(
        cte: str, encode: Callable[[bytes], bytes]) -> None:
    parsed = parse_mail(raw(encode(REPORT.encode()), cte=cte))
    assert parsed.text == REPORT


@pytest.mark.parametrize("cte", ["x-unknown", "8-bit"])
def test_text_under_an_unknown_transfer_encoding_is_kept_as_written(cte: str) -> None:
    body = "Счётчик ХВС=123, ГВС=45. Прошу принять показания, кв. 12."
    assert parse_mail(raw(body.encode(), cte=cte)).text == body


def test_header_names_with_a_blank_before_the_colon_keep_sender_and_subject() -> None:
    # RFC 822's syntax: "From :" was read as an mbox separator, "Subject :" as the body
    mail = (b"From : Ivan Petrov <ivan.petrov@mail.ru>\r\nTo : office@uk-dom.ru\r\n"
            b"Subject : " + "Течёт кран".encode() + b"\r\n"
            b"Content-Type : text/plain; charset=utf-8\r\n\r\n" + REPORT.encode())
    parsed = parse_mail(mail)
    assert (parsed.sender, parsed.subject, parsed.text) == (
        "ivan.petrov@mail.ru", "Течёт кран", REPORT)
    # a mailbox file's separator line is still no header
    assert parse_mail(b"From ivan@mail.ru Thu Jan 15 12:00:00 2026\r\n" + mail).sender \
        == "ivan.petrov@mail.ru"


# --- signatures ---------------------------------------------------------------------------------


_SIGNATURES = {
    "s/mime": ('application/pkcs7-signature; name="smime.p7s"', "smime.p7s"),
    "s/mime, old type": ('application/x-pkcs7-signature; name="smime.p7s"', "smime.p7s"),
    "pgp/mime": ('application/pgp-signature; name="signature.asc"', "signature.asc"),
    "p7s as octet-stream": ('application/octet-stream; name="smime.p7s"', "smime.p7s"),
}


def signed(text: str, kind: str, **kw: str) -> bytes:
    ctype, name = _SIGNATURES[kind]
    protocol = ctype.split(";")[0]
    body = (b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
            b"\r\n") + base64.encodebytes(text.encode())
    signature = (f"Content-Type: {ctype}\r\nContent-Disposition: attachment; filename={name}\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\n").encode() \
        + base64.encodebytes(b"0\x82\x06$\x06\t*\x86H\x86\xf7\r\x01\x07\x02" * 8)
    return multipart("signed", body, signature,
                     params=f'; protocol="{protocol}"; micalg=sha-256', **kw)


@pytest.mark.parametrize("kind", list(_SIGNATURES))
def test_the_signature_of_a_signed_letter_is_no_file_of_it(kind: str) -> None:
    parsed = parse_mail(signed(REPORT, kind))
    assert parsed.text == REPORT
    assert parsed.attachments == ()
    assert any("digital signature" in n for n in parsed.notes)


def test_a_signature_file_the_resident_attaches_stays_a_file() -> None:
    # an electronically signed application and its detached signature, sent as two files
    sig = (b"Content-Type: application/pkcs7-signature; name=\"zayavlenie.pdf.sig\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n") + base64.encodebytes(b"0\x82sig")
    parsed = parse_mail(multipart("mixed", TEXT_PART, sig))
    assert [a.filename for a in parsed.attachments] == ["zayavlenie.pdf.sig"]


async def test_a_signed_thank_you_for_a_resolved_case_reopens_nothing(
        app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, raw(
        "Ул. Ленина 5, кв. 45: на кухне течёт кран, вызовите сантехника.".encode()))
    ours = await resolve(app, recorder, clock, first["case"], "Кран заменён")
    clock.advance(timedelta(hours=1))
    # Outlook with "sign all outgoing mail": the signature counted as a file sent, and a
    # reply with a file reopens a resolved case
    got = await ingest(app, tmp_path, signed(
        "Спасибо, всё работает!", "s/mime", subject=f"RE: [{first['case']}] Обращение решено",
        extra=f"In-Reply-To: {ours}\r\n"))
    assert got["attachments"] == []
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == first["case"]))
        assert case is not None and case.stage == "resolved"


# --- uuencoded files ----------------------------------------------------------------------------


def uuencoded(name: str, data: bytes) -> str:
    lines = [binascii.b2a_uu(data[i:i + 45]).decode() for i in range(0, len(data), 45)]
    return f"begin 644 {name}\n{''.join(lines)}`\nend\n"


def test_files_uuencoded_into_the_text_are_files_not_words() -> None:
    body = f"{REPORT}\n\n{uuencoded('kran.jpg', JPEG)}\n{uuencoded('Акт.pdf', b'%PDF-1.4')}"
    parsed = parse_mail(raw(body.replace("\n", "\r\n").encode()))
    assert parsed.text == REPORT
    assert [(a.filename, a.content_type, a.size, a.ref) for a in parsed.attachments] == [
        ("kran.jpg", "image/jpeg", len(JPEG), "1.1"), ("Акт.pdf", "application/pdf", 8, "1.2")]


def test_a_line_starting_begin_that_is_no_uuencoding_stays_text() -> None:
    body = "begin 644 раз я вам писала\nи ничего\nend\n" + REPORT
    parsed = parse_mail(raw(body.encode()))
    assert parsed.text == body.strip() and parsed.attachments == ()


# --- a company's legal footer -------------------------------------------------------------------


@pytest.mark.parametrize("footer", [
    "Это письмо и любые вложения конфиденциальны и предназначены исключительно для адресата. "
    "Если вы получили его по ошибке, сообщите отправителю и удалите письмо.",
    "________________________________\nКонфиденциальность: информация в этом сообщении "
    "предназначена только для адресата.\nЕсли вы не являетесь адресатом, любое "
    "распространение запрещено.",
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and intended\n"
    "solely for the addressee. If you received it in error, please delete it.",
])
def test_a_legal_footer_is_no_part_of_the_report(footer: str) -> None:
    body = f"{REPORT}\n\nС уважением,\nИван Петров, кв. 45\n\n{footer}\n"
    parsed = parse_mail(raw(body.encode()))
    assert parsed.text == f"{REPORT}\n\nС уважением,\nИван Петров, кв. 45"
    assert footer.splitlines()[-1] in parsed.full_text


def test_a_residents_own_word_on_confidentiality_is_kept() -> None:
    body = (f"{REPORT}\n\nПрошу сохранить конфиденциальность: не сообщайте соседям из кв. 49, "
            "что жалоба от меня, это сообщение только для управляющей компании.")
    assert parse_mail(raw(body.encode())).text == body
    # nor is a letter that is nothing but such a footer emptied
    footer = ("Это письмо конфиденциально и предназначено только для адресата. "
              "Если вы получили его по ошибке, удалите его.")
    assert parse_mail(raw(footer.encode())).text == footer


# --- forwards -----------------------------------------------------------------------------------


NEIGHBOUR = ("From: =?utf-8?B?0J7Qu9GM0LPQsA==?= <olga@mail.ru>\r\n"
             "Subject: =?utf-8?B?0JbQsNC70L7QsdCw?=\r\nMessage-ID: <olga.1@mail.ru>\r\n"
             "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             + REPORT).encode()
COMMENT = ("Content-Type: text/plain; charset=utf-8\r\n\r\n"
           "Пересылаю письмо соседки из кв. 45.").encode()


@pytest.mark.parametrize(("cte", "encode"), [
    ("base64", base64.encodebytes), ("quoted-printable", quopri.encodestring)])
def test_a_forward_encoded_in_base64_or_qp_keeps_its_author_and_words(
        cte: str, encode: Callable[[bytes], bytes]) -> None:
    forward = (f"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: {cte}\r\n"
               "\r\n").encode() + encode(NEIGHBOUR)
    parsed = parse_mail(multipart("mixed", COMMENT, forward))
    assert parsed.text.endswith(f"Forwarded from Ольга <olga@mail.ru>: Жалоба\n\n{REPORT}")
    assert parsed.forwarded_from == "olga@mail.ru"
    assert [a.filename for a in parsed.attachments] == ["Жалоба.eml"]


def test_a_forward_wrongly_labelled_base64_is_read_as_written() -> None:
    forward = b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    parsed = parse_mail(multipart("mixed", COMMENT, forward + NEIGHBOUR))
    assert parsed.text.endswith(REPORT) and parsed.forwarded_from == "olga@mail.ru"


def test_an_eml_file_sent_as_octet_stream_is_read_as_a_forward() -> None:
    eml = (b'Content-Type: application/octet-stream; name="letter.eml"\r\n'
           b'Content-Disposition: attachment; filename="letter.eml"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\n") + base64.encodebytes(NEIGHBOUR)
    parsed = parse_mail(multipart("mixed", COMMENT, eml))
    assert parsed.text.endswith(f"Forwarded from Ольга <olga@mail.ru>: Жалоба\n\n{REPORT}")
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("letter.eml", "application/octet-stream")]
    # a file named .eml that holds no letter is only the file
    junk = eml.split(b"\r\n\r\n")[0] + b"\r\n\r\n" + base64.encodebytes(JPEG)
    parsed = parse_mail(multipart("mixed", COMMENT, junk))
    assert parsed.text == "Пересылаю письмо соседки из кв. 45." and parsed.forwarded_from is None


async def test_ingest_eml_reads_a_careless_script_mail_and_a_signed_letter(
        app: App, tmp_path: Path) -> None:
    """The path ``domovoy ingest-eml`` and IMAP take: the letter, not a file, is the case."""
    script = await ingest(app, tmp_path, raw(
        f"<p>{REPORT} Ул. Ленина 5.</p>".encode(), "text/html charset=utf-8",
        sender="Ольга <olga.k@yandex.ru>"))
    assert script["action"] == "new_case" and REPORT in script["text"]
    assert script["attachments"] == []
    letter = await ingest(app, tmp_path, signed("Добрый день.", "pgp/mime", subject="Добрый день"))
    # a greeting with no file is no case; with its signature taken for a file it was one
    assert letter["action"] != "new_case" and letter["attachments"] == []
