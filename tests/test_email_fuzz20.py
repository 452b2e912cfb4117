"""Twentieth round: a Content-Transfer-Encoding written "base64;" or "quoted-printable;" (PHP
scripts' headers, as if parameters followed), with a comment ("quoted-printable (qp)") or a
trailing blank is read as meant, for the letter's text and for its files alike (a photo under
"base64 " was kept as its code); what signing programs and receipts send: a read receipt a
gateway re-wrapped as multipart/mixed or sent as its report part alone is automatic and
opens no case, GnuPG's "NotDashEscaped:" armour header is no word of the letter (and its
"- " list items stay), Enigmail's protected headers part is no file of a signed "Спасибо";
Zimbra's Russian quote header ("Отправленные:") goes with the quote. Pinned as they are
(they already worked, and nothing here may change them): S/MIME and PGP/MIME signed letters,
inline PGP, a quoted-printable soft break inside a letter, UTF-16 and UTF-8 byte-order marks
under any label, a body uuencoded whole, Russian bounces from Yandex and a Russian Exim,
Thunderbird's read receipt, quote headers of K-9 Mail, FairEmail, Yahoo, Spark and
Airmail, and The Bat!'s bottom-posted reply."""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
from pathlib import Path

import pytest

from domovoy.app import App
from intake.email import parse_mail
from intake.message import Automated
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import OFFICE, OWN, ew, ingest

_WORDS = "Здравствуйте! В квартире 12 течёт кран на кухне, прошу прислать сантехника."
_PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


def _mail(subject: str, body: str, *, ctype: str = "text/plain; charset=utf-8",
          sender: str = "Иван Петров <ivan.petrov@mail.ru>", extra: str = "") -> bytes:
    """One mail, its body given as it goes on the wire (transfer encoding and all)."""
    name, _, addr = sender.partition(" <")
    head = (f"From: {ew(name)} <{addr}\r\nTo: {OFFICE}\r\nSubject: {ew(subject)}\r\n"
            "Date: Thu, 15 Jan 2026 12:00:00 +0300\r\n"
            f"Message-ID: <{hashlib.sha1(body.encode()).hexdigest()}@mail.example>\r\n{extra}"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n")
    return (head + body).replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _qp(text: str) -> str:
    """``text`` in quoted-printable, every byte above ASCII as =XX, on one line."""
    return "".join(chr(b) if 32 <= b < 127 and b != 61 else f"={b:02X}" for b in text.encode())


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


# --- 1. a transfer encoding written as PHP scripts and gateways write it -----------------------


@pytest.mark.parametrize("label", ["quoted-printable;", "quoted-printable (qp)",
                                   "Quoted-Printable "])
def test_quoted_printable_under_a_sloppy_label_is_read(label: str) -> None:
    """A site's PHP script copies "Content-Transfer-Encoding: quoted-printable;" with the
    semicolon of the header above it; RFC 2045 allows a comment after the mechanism. The
    resident's words came to staff as "=D0=97=D0=B4=D1=80…"."""
    mail = _mail("Течёт кран", f"Content-Transfer-Encoding: {label}\n\n{_qp(_WORDS)}\n")
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.text == _WORDS
    assert parsed.language == "ru"


@pytest.mark.parametrize("label", ["base64 ", "base64;", "Base64 (encoded)"])
def test_a_photo_under_a_sloppy_base64_label_is_the_photo(label: str) -> None:
    """The standard library decodes a file only under a label written exactly: a photo sent
    with "base64;" or "base64 " was kept as its base64 code (a third bigger, opening nowhere),
    while the letter's text beside it was read."""
    body = ('\n--b\nContent-Type: text/plain; charset=utf-8\n\nФото протечки в ванной.\n'
            '--b\nContent-Type: image/jpeg; name="IMG_2034.jpg"\n'
            'Content-Disposition: attachment; filename="IMG_2034.jpg"\n'
            f"Content-Transfer-Encoding: {label}\n\n{_b64(_PHOTO)}--b--\n")
    parsed = parse_mail(_mail("Протечка", body, ctype="multipart/mixed; boundary=b"),
                        own_addresses=OWN)
    [photo] = parsed.attachments
    assert (photo.filename, photo.size) == ("IMG_2034.jpg", len(_PHOTO))
    assert photo.digest == hashlib.sha256(_PHOTO).hexdigest()
    assert parsed.text == "Фото протечки в ванной."


def test_a_photo_under_an_exact_label_is_unchanged() -> None:
    """Guard: the label as RFC 2045 writes it (any case) is still the standard library's."""
    body = ('\n--b\nContent-Type: text/plain; charset=utf-8\n\nФото.\n'
            '--b\nContent-Type: image/jpeg; name="a.jpg"\nContent-Transfer-Encoding: BASE64\n\n'
            f"{_b64(_PHOTO)}--b--\n")
    parsed = parse_mail(_mail("Протечка", body, ctype="multipart/mixed; boundary=b"),
                        own_addresses=OWN)
    assert [a.size for a in parsed.attachments] == [len(_PHOTO)]


# --- 2. signed letters -------------------------------------------------------------------------

_THANKS = "Спасибо, всё починили."
_PGP_SIGNATURE = ('Content-Type: application/pgp-signature; name="OpenPGP_signature.asc"\n'
                  "Content-Description: OpenPGP digital signature\n"
                  'Content-Disposition: attachment; filename="OpenPGP_signature.asc"\n\n'
                  "-----BEGIN PGP SIGNATURE-----\n\nwnsEABYIACMWIQTd8p8=\n=Lw0x\n"
                  "-----END PGP SIGNATURE-----\n")


def _pgp_mime(inner: str) -> bytes:
    """A PGP/MIME signed letter (RFC 3156) as Thunderbird and Enigmail send it."""
    body = ("\nThis is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n"
            f"--sig\n{inner}\n--sig\n{_PGP_SIGNATURE}\n--sig--\n")
    return _mail("Re: [A-1001] Течёт кран", body, ctype='multipart/signed; micalg=pgp-sha256; '
                 'protocol="application/pgp-signature"; boundary="sig"')


def test_enigmails_protected_headers_are_no_file_of_a_signed_thanks() -> None:
    """Enigmail repeats a signed letter's From, To and Subject in a text/rfc822-headers part
    under the signature ("protected headers"), for mail programs to check. Listed, a signed
    "Спасибо" came with a file, which reopens a resolved case."""
    inner = ('Content-Type: multipart/mixed; boundary="inner";\n protected-headers="v1"\n'
             "From: Ivan <ivan.petrov@mail.ru>\nTo: office@uk-zarechye.ru\n"
             "Subject: Re: [A-1001] Течёт кран\n\n"
             '--inner\nContent-Type: text/rfc822-headers; protected-headers="v1"\n'
             "Content-Disposition: inline\n\n"
             "From: Ivan <ivan.petrov@mail.ru>\nTo: office@uk-zarechye.ru\n"
             f"Subject: Re: [A-1001] {ew('Течёт кран')}\n\n"
             "--inner\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
             f"{_THANKS}\n\n--inner--\n")
    parsed = parse_mail(_pgp_mime(inner), own_addresses=OWN)
    assert parsed.attachments == ()
    assert parsed.text == _THANKS


def test_a_bounce_returning_headers_still_lists_them() -> None:
    """Guard: a bounce's text/rfc822-headers (RFC 3464) is the returned letter's, kept."""
    body = ('\n--r\nContent-Type: text/plain; charset=utf-8\n\nDelivery failed.\n'
            "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.mail.ru\n\n"
            "Final-Recipient: rfc822; ivan.petrov@mail.ru\nAction: failed\nStatus: 5.1.1\n\n"
            '--r\nContent-Type: text/rfc822-headers\n\nFrom: office@uk-zarechye.ru\n'
            "Message-ID: <a-1001.0123456789abcdef0123456789abcdef@uk-zarechye.ru>\n"
            "Subject: [A-1001] Test\n\n--r--\n")
    parsed = parse_mail(_mail("Undelivered Mail Returned to Sender", body,
                              ctype="multipart/report; report-type=delivery-status; boundary=r",
                              sender="Mail Delivery System <MAILER-DAEMON@mx.mail.ru>"),
                        own_addresses=OWN)
    assert "text/rfc822-headers" in [a.content_type for a in parsed.attachments]
    assert parsed.bounced_recipient == "ivan.petrov@mail.ru"


@pytest.mark.parametrize("protocol", ["application/pkcs7-signature",
                                      "application/x-pkcs7-signature"])
def test_an_smime_signed_thanks_has_no_file(protocol: str) -> None:
    """Pinned: Outlook's (x-pkcs7, older) and Thunderbird's S/MIME signature is no file."""
    body = ("\nThis is an S/MIME signed message\n\n------=_SIG\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            f"{_THANKS}\n"
            f'\n------=_SIG\nContent-Type: {protocol}; name="smime.p7s"\n'
            "Content-Transfer-Encoding: base64\n"
            'Content-Disposition: attachment; filename="smime.p7s"\n\n'
            "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIF\n"
            "\n------=_SIG--\n")
    parsed = parse_mail(_mail("Re: [A-1001] Течёт кран", body, ctype=(
        f'multipart/signed; protocol="{protocol}"; micalg=sha-256; boundary="----=_SIG"')),
        own_addresses=OWN)
    assert (parsed.text, parsed.attachments) == (_THANKS, ())


def test_a_pgp_mime_signed_letter_in_quoted_printable_is_read() -> None:
    """Pinned: PGP/MIME's signed part is the letter, its signature no file."""
    inner = ("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: "
             f"quoted-printable\n\n{_qp(_WORDS)}\n")
    parsed = parse_mail(_pgp_mime(inner), own_addresses=OWN)
    assert (parsed.text, parsed.attachments) == (_WORDS, ())


def _plain(subject: str, text: str) -> bytes:
    return _mail(subject, f"Content-Transfer-Encoding: base64\n\n{_b64(text.encode())}")


_SIGNATURE_BLOCK = ("-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG v1\n\n"
                    "iQEzBAEBCAAdFiEEu0Bq\n=XyZ1\n-----END PGP SIGNATURE-----\n")


def test_gnupgs_not_dash_escaped_header_is_no_word_of_the_letter() -> None:
    """GnuPG's --not-dash-escaped writes "NotDashEscaped: You need GnuPG to verify this
    message" under the armour's first line: it came to staff as the letter's first line (and
    made an English letter of a Russian one), and the "- " of the resident's list, which that
    option leaves as written, was taken for escaping and dropped."""
    text = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n"
            "NotDashEscaped: You need GnuPG to verify this message\n\n"
            "В кв. 12 течёт кран.\nГде течёт:\n- - на кухне\n- - в ванной\n" + _SIGNATURE_BLOCK)
    parsed = parse_mail(_plain("Течёт кран", text), own_addresses=OWN)
    assert parsed.text == "В кв. 12 течёт кран.\nГде течёт:\n- - на кухне\n- - в ванной"
    assert parsed.language == "ru"


def test_inline_pgp_armour_is_no_part_of_the_text() -> None:
    """Pinned: the armour's "Hash:" line and signature go, the dash escaping of the signed
    text is undone (the "- -- " is the resident's own signature line)."""
    text = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + _WORDS + "\nГде течёт:\n"
            "- - на кухне\n\n- -- \nИван Петров, кв. 12\n" + _SIGNATURE_BLOCK)
    parsed = parse_mail(_plain("Течёт кран", text), own_addresses=OWN)
    assert parsed.text.startswith(_WORDS + "\nГде течёт:\n- на кухне")
    assert "PGP" not in parsed.text and "Hash" not in parsed.text


# --- 3. quote headers ---------------------------------------------------------------------------

_REPLY = "Спасибо, мастер пришёл, но кран опять течёт."
_ACK = ("Здравствуйте, Иван Петров!\nВаше обращение зарегистрировано под номером A-1001.\n"
        "Чтобы дополнить обращение, просто ответьте на это сообщение.")
_QUOTED_ACK = "\n".join("> " + line for line in _ACK.split("\n"))


def test_zimbras_russian_quote_header_goes_with_the_quote() -> None:
    """Zimbra's web client in Russian heads the quote of an HTML reply with "От: / Кому: /
    Отправленные: / Тема:" under a rule (its "Sent" is the folder's name): the header and our
    whole acknowledgement came to staff as the resident's words."""
    html = (f"<html><body><div>{_REPLY}</div><div><br></div><hr id=\"zwchr\">"
            f"<div><b>От: </b>\"УК\" &lt;{OFFICE}&gt;<br>"
            "<b>Кому: </b>\"Иван Петров\" &lt;ivan.petrov@mail.ru&gt;<br>"
            "<b>Отправленные: </b>Четверг, 15 Январь 2026 г 12:00:00<br>"
            "<b>Тема: </b>[A-1001] Течёт кран<br></div><div><br></div>"
            f"<div>{_ACK.replace(chr(10), '<br>')}</div></body></html>")
    mail = _mail("Re: [A-1001] Течёт кран",
                 f"Content-Transfer-Encoding: base64\n\n{_b64(html.encode())}",
                 ctype="text/html; charset=utf-8")
    assert parse_mail(mail, own_addresses=OWN).text == _REPLY


_QUOTE_HEADERS = {
    "zimbra, plain text": (
        f"\n\n----- Исходное сообщение -----\nОт: \"УК\" <{OFFICE}>\n"
        "Кому: \"Иван Петров\" <ivan.petrov@mail.ru>\n"
        "Отправленные: Четверг, 15 Январь 2026 г 12:00:00\nТема: [A-1001] Течёт кран\n\n" + _ACK),
    "k-9 mail": f"\n\n15 января 2026 г. 12:00:00 GMT+03:00, УК <{OFFICE}> пишет:\n{_QUOTED_ACK}",
    "fairemail": f"\n\n15 января 2026 г. 12:00:00 УК <{OFFICE}>:\n{_QUOTED_ACK}",
    "yahoo": ("\n\n    четверг, 15 января 2026 г., 12:00:00 GMT+3, УК "
              f"<{OFFICE}> написал(-а):  \n\n {_ACK}"),
    "spark": f"\n\nOn 15 Jan 2026, 12:00 +0300, УК <{OFFICE}>, wrote:\n{_QUOTED_ACK}",
    "airmail": f"\n\nOn 15 January 2026 at 12:00:00, УК ({OFFICE}) wrote:\n{_QUOTED_ACK}",
    "thunderbird, no address": f"\n\n15.01.2026 12:00, УК «Заречье» пишет:\n{_QUOTED_ACK}",
}


@pytest.mark.parametrize("quote", list(_QUOTE_HEADERS.values()), ids=list(_QUOTE_HEADERS))
def test_mail_programs_quote_headers_go_with_the_quote(quote: str) -> None:
    """Pinned: the quote headers of mail programs earlier rounds did not name."""
    parsed = parse_mail(_plain("Re: [A-1001] Течёт кран", _REPLY + quote), own_addresses=OWN)
    assert parsed.text == _REPLY


def test_the_bats_bottom_posted_reply_keeps_the_answer_under_the_quote() -> None:
    """Pinned: The Bat!'s template greets, quotes with "Вы писали …:" and puts the cursor
    under the quote; the answer written there is the letter."""
    text = (f"Здравствуйте, УК.\n\nВы писали 15 января 2026 г., 12:00:00:\n\n{_QUOTED_ACK}\n\n"
            f"{_REPLY}\n\n-- \nС уважением,\n Иван                          "
            "mailto:ivan.petrov@mail.ru\n")
    parsed = parse_mail(_plain("Re: [A-1001] Течёт кран", text), own_addresses=OWN)
    assert _REPLY in parsed.text and "Ваше обращение" not in parsed.text


# --- 4. read receipts ---------------------------------------------------------------------------

_MDN = ("Content-Type: message/disposition-notification\n\n"
        "Reporting-UA: mail.ru; Mail.Ru\nFinal-Recipient: rfc822;ivan.petrov@mail.ru\n"
        "Original-Message-ID: <a-1001.0123456789abcdef0123456789abcdef@uk-zarechye.ru>\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n")
_RECEIPTS = {
    # a gateway (an antivirus, a journaling server) re-wrapped the report as multipart/mixed
    "re-wrapped as multipart/mixed": _mail(
        "Уведомление о прочтении",
        "\n--m\nContent-Type: text/plain; charset=utf-8\n\nВаше письмо \"[A-1001] Течёт кран\" "
        f"прочитано 15.01.2026 12:30.\n--m\n{_MDN}--m--\n",
        ctype="multipart/mixed; boundary=m"),
    "the report part alone": _mail("Read: [A-1001] Течёт кран", _MDN.partition("\n")[2],
                                   ctype="message/disposition-notification"),
}


@pytest.mark.parametrize("mail", list(_RECEIPTS.values()), ids=list(_RECEIPTS))
async def test_a_read_receipt_out_of_its_report_opens_no_case(
        mail: bytes, app: App, recorder: RecordingSender, tmp_path: Path) -> None:
    """A read receipt is told by its machine part (RFC 8098), whatever wraps it: out of its
    multipart/report it opened a case ("Ваше письмо прочитано") and was acknowledged."""
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.AUTOREPLY
    row = await ingest(app, tmp_path, mail)
    assert row["action"] == "ignored_autoreply" and row["case"] is None
    await app.outbox.deliver_due()
    assert not [i for i in recorder.sent if i.channel == "email"]


def test_a_forwarded_read_receipt_is_still_the_residents_letter() -> None:
    """Guard: a resident forwarding a receipt they got ("мне пришло вот это, что значит?")
    encloses its report in the forwarded letter, which is no part of this mail's own."""
    inner = _RECEIPTS["re-wrapped as multipart/mixed"].decode()
    body = ("\n--f\nContent-Type: text/plain; charset=utf-8\n\n"
            "Мне пришло вот это, что оно значит? Мастер так и не приходил, кв. 12.\n"
            f'--f\nContent-Type: message/rfc822; name="receipt.eml"\n\n{inner}\n--f--\n')
    parsed = parse_mail(_mail("Что это?", body, ctype="multipart/mixed; boundary=f"),
                        own_addresses=OWN)
    assert parsed.automated is None and "Мастер так и не приходил" in parsed.text


def test_thunderbirds_read_receipt_is_automatic() -> None:
    """Pinned: a receipt in its multipart/report, Thunderbird's "Return Receipt (displayed)"."""
    body = ("\n--r\nContent-Type: text/plain; charset=UTF-8\n\n"
            "Это уведомление о прочтении сообщения, отправленного вами.\n"
            f"--r\n{_MDN}--r\nContent-Type: text/rfc822-headers\n\nFrom: {OFFICE}\n"
            "Subject: [A-1001] Test\n\n--r--\n")
    mail = _mail("Return Receipt (displayed) - [A-1001] Течёт кран", body,
                 ctype="multipart/report; report-type=disposition-notification; boundary=r")
    assert parse_mail(mail, own_addresses=OWN).automated is Automated.AUTOREPLY


# --- 5. pinned: raw formats and Russian bounces ---------------------------------------------------


def _soft_break_inside_a_letter() -> str:
    """``_WORDS`` in quoted-printable with a soft line break between the two bytes of "т"."""
    code = _qp(_WORDS)
    at = code.index("=D1=82") + 3
    return f"{code[:at]}=\n{code[at:]}\n"


_BODIES = {
    "quoted-printable soft break inside a letter": (
        "text/plain; charset=utf-8",
        f"Content-Transfer-Encoding: quoted-printable\n\n{_soft_break_inside_a_letter()}"),
    "UTF-16 with its byte-order mark under a utf-8 label": (
        "text/plain; charset=utf-8",
        f"Content-Transfer-Encoding: base64\n\n{_b64(_WORDS.encode('utf-16'))}"),
    "UTF-8 with a byte-order mark under a windows-1251 label": (
        "text/plain; charset=windows-1251",
        "Content-Transfer-Encoding: base64\n\n" + _b64(codecs.BOM_UTF8 + _WORDS.encode())),
    "a body uuencoded whole": (
        "text/plain; charset=utf-8",
        "Content-Transfer-Encoding: x-uuencode\n\nbegin 644 body.txt\n"
        + "".join(binascii.b2a_uu(_WORDS.encode()[i:i + 45]).decode()
                  for i in range(0, len(_WORDS.encode()), 45)) + "`\nend\n"),
}


@pytest.mark.parametrize("body", list(_BODIES.values()), ids=list(_BODIES))
def test_raw_formats_read_as_the_residents_words(body: tuple[str, str]) -> None:
    parsed = parse_mail(_mail("Течёт кран", body[1], ctype=body[0]), own_addresses=OWN)
    assert parsed.text == _WORDS and parsed.attachments == ()


_RETURNED = ("\n\n------ Исходное сообщение ------\n"
             f"From: {OFFICE}\nTo: ivan.petrov@mail.ru\nSubject: [A-1001] Течёт кран\n\n"
             "Здравствуйте, Иван Петров!\n")
# Yandex's own report, and Exim's layout under the Russian template a host gave it
_BOUNCES = {
    "yandex": ('"Почтовая служба Яндекса" <mailer-daemon@yandex.ru>', "Недоставленное сообщение",
               "Сообщение не было доставлено.\n\nПочтовый ящик получателя переполнен.\n\n"
               "Адресат: ivan.petrov@mail.ru\n"),
    "exim in russian": ("Mail Delivery System <Mailer-Daemon@beget.com>",
                        "Mail delivery failed: returning message to sender",
                        "Это сообщение было создано автоматически программой доставки почты.\n\n"
                        "Не удалось доставить сообщение одному или нескольким получателям:\n\n"
                        "  ivan.petrov@mail.ru\n    host mxs.mail.ru [94.100.180.31]\n"
                        "    SMTP error from remote mail server after RCPT TO:"
                        "<ivan.petrov@mail.ru>:\n    550 5.1.1 No such user\n"),
}


@pytest.mark.parametrize("bounce", list(_BOUNCES.values()), ids=list(_BOUNCES))
def test_a_russian_bounce_names_the_failed_address(bounce: tuple[str, str, str]) -> None:
    sender, subject, text = bounce
    encoded = _b64((text + _RETURNED).encode())
    mail = _mail(subject, f"Content-Transfer-Encoding: base64\n\n{encoded}", sender=sender)
    parsed = parse_mail(mail, own_addresses=OWN)
    assert parsed.automated is Automated.BOUNCE
    assert parsed.bounced_recipient == "ivan.petrov@mail.ru"
