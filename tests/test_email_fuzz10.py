"""Tenth round: raw mail formats. Mac Cyrillic with no label or a Mac Roman one, base64 that a
gateway put blanks and strays into, a calendar invitation as the whole letter, one fragment of
a split message (message/partial), an HTML letter of pictures alone, KOI8-R headers over a
windows-1251 body, RFC 2231 name segments in two charsets, Thunderbird's public key beside a
signed letter, text/enriched, multipart/digest and a Mac's AppleDouble file; what the office
should read from each. A few tests guard what these fixes must not change (said so at each)."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from domovoy.app import App
from intake.email import parse_mail
from tests.conftest import RecordingSender
from tests.test_email_fuzz7 import ingest, resolve
from tests.test_email_fuzz9 import JPEG, REPORT, TEXT_PART, multipart, photo_part, raw
from workflow.clock import ManualClock
from workflow.models import Case
from workflow.render import Renderer

_ids = itertools.count(1)
PHOTO = JPEG * 4  # over the size a spacer or a tracking pixel has


def headers_raw(subject: bytes, name: bytes, body: bytes, ctype: str) -> bytes:
    """A mail whose From name and Subject are raw 8-bit bytes, as old mailers write them."""
    return (
        b"From: " + name + b" <ivan.petrov@mail.ru>\r\nTo: office@uk-dom.ru\r\n"
        b"Subject: " + subject + b"\r\nDate: Thu, 15 Jan 2026 12:00:00 +0300\r\n"
        b"Message-ID: <fuzz10." + str(next(_ids)).encode() + b"@mail.ru>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: " + ctype.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )


# --- Mac Cyrillic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ctype",
    [
        "text/plain",
        "text/plain; charset=macintosh",
        "text/plain; charset=us-ascii",
        "text/plain; charset=iso-8859-1",
        "text/plain; charset=utf-8",
    ],
)
def test_mac_cyrillic_without_its_label_reads_as_russian(ctype: str) -> None:
    # Mac Mail and Eudora: read as cp1251, every capital was lost ("‡дравствуйте", "течЮт")
    parsed = parse_mail(raw(REPORT.encode("mac_cyrillic"), ctype))
    assert parsed.text == REPORT


def test_mac_cyrillic_raw_headers_read_as_russian() -> None:
    mail = headers_raw(
        "Течёт кран".encode("mac_cyrillic"),
        "Иван Петров".encode("mac_cyrillic"),
        REPORT.encode("mac_cyrillic"),
        "text/plain",
    )
    parsed = parse_mail(mail)
    assert (parsed.subject, parsed.sender_name, parsed.text) == (
        "Течёт кран",
        "Иван Петров",
        REPORT,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Ремонт подъезда: «когда?» — «скоро». Счётчик №5 — показания 123, кв. 45.",
        "течёт кран — на кухне — вода — везде, уже третий день",
        "Добрый день. Прошу прислать электрика — нет света в подъезде №3.",
    ],
)
def test_windows_1251_with_dashes_and_quotes_is_not_taken_for_mac(text: str) -> None:
    # a guard: letter statistics alone read cp1251's dashes as Mac capitals
    for ctype in ("text/plain", "text/plain; charset=windows-1251"):
        assert parse_mail(raw(text.encode("cp1251"), ctype)).text == text
    assert (
        parse_mail(raw(text.encode("mac_cyrillic"), "text/plain; charset=x-mac-cyrillic")).text
        == text
    )


def test_mac_roman_text_labelled_macintosh_stays_mac_roman() -> None:
    # a guard: the "macintosh" label is weak now, but still right for Western text
    text = "Bonjour, la fenêtre de l'entrée est cassée, très froid déjà."
    assert parse_mail(raw(text.encode("mac_roman"), "text/plain; charset=macintosh")).text == text


# --- base64 as gateways leave it ----------------------------------------------------------------


def _b64(text: str = REPORT) -> bytes:
    return base64.encodebytes(text.encode())


_BASE64 = {
    "a blank inside a line": _b64()[:30] + b" " + _b64()[30:],
    "a tab inside a line": _b64()[:50] + b"\t" + _b64()[50:],
    "a stray '!'": _b64()[:20] + b"!" + _b64()[20:],
    "strays '*' and '-'": _b64()[:20] + b"*" + _b64()[20:40] + b"-" + _b64()[40:],
    "a stray no-break space": _b64()[:20] + "\u00a0".encode() + _b64()[20:],
    "line breaks turned into blanks": _b64().replace(b"\n", b" "),
    "no padding, blank-split": _b64().rstrip().rstrip(b"=")[:60]
    + b" "
    + _b64().rstrip().rstrip(b"=")[60:],
}


@pytest.mark.parametrize("body", list(_BASE64.values()), ids=list(_BASE64))
def test_base64_with_blanks_and_strays_decodes_what_is_there(body: bytes) -> None:
    # the whole letter came out as its base64 code
    assert parse_mail(raw(body, cte="base64")).text == REPORT


def test_a_footer_after_base64_stays_a_footer() -> None:
    # a guard: lines with blanks may be base64 now, a footer's words still are not
    body = _b64() + b"--\r\nThis message has been scanned for viruses by the mail gateway.\r\n"
    parsed = parse_mail(raw(body, cte="base64"))
    assert parsed.text == REPORT
    assert "scanned for viruses" in parsed.full_text


# --- a calendar invitation as the whole letter -------------------------------------------------


def invitation(
    summary: str = "Осмотр подвала",
    method: str = "REQUEST",
    description: str = "Прошу провести осмотр подвала\\, там стоит вода и \r\n"
    " пахнет канализацией.\\nКлючи у старшего по дому.",
    location: str = "ул. Ленина\\, 5\\, подвал 2-го подъезда",
) -> str:
    """An Outlook meeting request: a time zone (with its own 1601 DTSTART), the event, and a
    reminder inside it (with its own DESCRIPTION)."""
    return (
        "BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
        f"VERSION:2.0\r\nMETHOD:{method}\r\nBEGIN:VTIMEZONE\r\nTZID:Russian Standard Time\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0300\r\n"
        "TZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n"
        'ORGANIZER;CN="Петров: кв. 45":mailto:ivan.petrov@mail.ru\r\n'
        "ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:office@uk-dom.ru\r\n"
        f"DESCRIPTION;LANGUAGE=ru-RU:{description}\r\n"
        "UID:040000008200E00074C5B7101A82E00800000000\r\n"
        f"SUMMARY;LANGUAGE=ru-RU:{summary}\r\n"
        "DTSTART;TZID=Russian Standard Time:20260120T100000\r\n"
        "DTEND;TZID=Russian Standard Time:20260120T110000\r\n"
        f"LOCATION;LANGUAGE=ru-RU:{location}\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:REMINDER\r\nTRIGGER;RELATED=START:-PT15M\r\n"
        "END:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


INVITATION_TEXT = (
    "Приглашение: Осмотр подвала\nКогда: 20.01.2026 10:00 – 11:00\n"
    "Где: ул. Ленина, 5, подвал 2-го подъезда\n\n"
    "Прошу провести осмотр подвала, там стоит вода и пахнет канализацией.\n"
    "Ключи у старшего по дому."
)
CALENDAR = "text/calendar; charset=utf-8; method=REQUEST"

_INVITATIONS = {
    "calendar body": raw(invitation().encode(), CALENDAR, subject="Осмотр подвала"),
    "calendar body in base64": raw(
        base64.encodebytes(invitation().encode()), CALENDAR, "base64", subject="Осмотр подвала"
    ),
    "empty plain text beside it": multipart(
        "alternative",
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n \r\n",
        f"Content-Type: {CALENDAR}\r\n\r\n".encode() + invitation().encode(),
        subject="Осмотр подвала",
    ),
    "yandex: calendar and .ics file": multipart(
        "mixed",
        f"Content-Type: {CALENDAR}\r\n\r\n".encode() + invitation().encode(),
        b'Content-Type: application/ics; name="invite.ics"\r\n'
        b'Content-Disposition: attachment; filename="invite.ics"\r\n\r\n' + invitation().encode(),
        subject="Осмотр подвала",
    ),
}


@pytest.mark.parametrize("mail", list(_INVITATIONS.values()), ids=list(_INVITATIONS))
def test_a_calendar_only_letter_reads_as_its_event(mail: bytes) -> None:
    # the case was opened with no text at all (the invitation only a file)
    parsed = parse_mail(mail)
    assert parsed.text == INVITATION_TEXT
    assert "REMINDER" not in parsed.text and "1601" not in parsed.text
    assert all(a.filename.endswith(".ics") for a in parsed.attachments)


def test_a_cancelled_english_meeting_reads_in_english() -> None:
    mail = raw(
        invitation(
            "Basement inspection", "CANCEL", "The water is gone\\, no need.", "Lenina 5"
        ).encode(),
        CALENDAR,
        subject="Cancelled",
    )
    assert parse_mail(mail).text == (
        "Meeting cancelled: Basement inspection\n"
        "When: 20.01.2026 10:00 – 11:00\nWhere: Lenina 5\n\n"
        "The water is gone, no need."
    )


def test_an_invitation_beside_the_residents_own_words_leaves_them_alone() -> None:
    # a guard: the invitation stands in only for a letter without words
    mail = multipart(
        "mixed", TEXT_PART, f"Content-Type: {CALENDAR}\r\n\r\n".encode() + invitation().encode()
    )
    assert parse_mail(mail).text == REPORT


async def test_a_calendar_invitation_opens_a_case_with_its_words(app: App, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, _INVITATIONS["calendar body"])
    assert row["action"] == "new_case" and row["text"] == INVITATION_TEXT
    assert row["category"] == "plumbing"


# --- message/partial ----------------------------------------------------------------------------

SPLIT = (
    b"Content-Type: multipart/mixed; boundary=X\r\nMIME-Version: 1.0\r\n\r\n--X\r\n"
    + TEXT_PART
    + b"\r\n--X\r\nContent-Type: image/jpeg; name=kran.jpg\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PHOTO) + b"\r\n--X--\r\n"
)


def fragment(number: int, total: int | None = 2, subject: str = "Течёт кран") -> bytes:
    cut = len(SPLIT) // 2
    piece = SPLIT[:cut] if number == 1 else SPLIT[cut:]
    params = f'id="split.{total}@mail.ru"; number={number}' + (f"; total={total}" if total else "")
    return raw(piece, f"message/partial; {params}", "7bit", subject=subject)


def test_the_first_fragment_of_a_split_letter_keeps_its_text_and_says_what_it_is() -> None:
    parsed = parse_mail(fragment(1))
    assert parsed.text.startswith(REPORT + "\n\n[Часть 1 из 2 сообщения")
    assert "message/partial" in parsed.text
    assert [a.filename for a in parsed.attachments] == ["message-part-1-of-2.txt"]


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ("number=2; total=2", "[Часть 2 из 2 сообщения"),
        ("number=3", "[Часть 3 сообщения"),
        ("number=x; total=", "[Часть ? сообщения"),
    ],
)
def test_a_later_fragment_opens_with_a_clear_note(params: str, shown: str) -> None:
    # it opened a case with no text and a file named "attachment-1.bin"
    parsed = parse_mail(raw(SPLIT[len(SPLIT) // 2 :], f"message/partial; id=abc; {params}", "7bit"))
    assert parsed.text.startswith(shown) and parsed.sender == "ivan.petrov@mail.ru"
    assert len(parsed.attachments) == 1
    assert any("message/partial" in n for n in parsed.notes)


async def test_both_fragments_of_a_split_letter_land_in_one_case(app: App, tmp_path: Path) -> None:
    first = await ingest(app, tmp_path, fragment(1))
    assert first["action"] == "new_case" and first["text"].startswith(REPORT)
    second = await ingest(app, tmp_path, fragment(2))
    assert second["case"] == first["case"] and second["attachments"]


# --- an HTML letter of pictures alone -----------------------------------------------------------


def inline_photo(name: str, cid: str, data: bytes = PHOTO) -> bytes:
    return (
        f"Content-Type: image/jpeg; name={name}\r\nContent-ID: <{cid}>\r\n"
        f"Content-Disposition: inline; filename={name}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(data)


def html_part(html: str) -> bytes:
    return b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()


PICTURES = multipart(
    "related",
    html_part(
        '<html><body><div><img src="cid:p1@x"><br><img src="cid:p2@x">'
        "</div><div><br></div></body></html>"
    ),
    inline_photo("IMG_0001.jpg", "p1@x"),
    inline_photo("IMG_0002.jpg", "p2@x", PHOTO * 2),
    params='; type="text/html"',
    subject="Фото",
)


def test_an_html_letter_of_inline_pictures_says_so() -> None:
    parsed = parse_mail(PICTURES)
    assert parsed.text == (
        "[Без текста, только изображения: IMG_0001.jpg (2 КБ), IMG_0002.jpg (4 КБ)]"
    )
    assert [a.filename for a in parsed.attachments] == ["IMG_0001.jpg", "IMG_0002.jpg"]


def test_pictures_on_the_web_are_named_by_their_addresses() -> None:
    mail = raw(
        b'<html><body><img src="https://cloud.mail.ru/public/kran.jpg" alt=""></body></html>',
        "text/html; charset=utf-8",
        subject="Photo of the leak",
    )
    assert parse_mail(mail).text == "[No text, only images: https://cloud.mail.ru/public/kran.jpg]"


def test_a_picture_pasted_into_the_html_is_a_file() -> None:
    # a data: address inside the HTML: the resident's photo was nowhere in the case
    pasted = f'<img src="data:image/jpeg;base64,{base64.b64encode(PHOTO).decode()}">'
    alone = parse_mail(
        raw(f"<html><body>{pasted}</body></html>".encode(), "text/html; charset=utf-8")
    )
    assert [(a.filename, a.content_type, a.size, a.ref) for a in alone.attachments] == [
        ("image-1.1.jpg", "image/jpeg", len(PHOTO), "1.1")
    ]
    assert alone.text == "[Без текста, только изображения: image-1.1.jpg (2 КБ)]"
    beside = parse_mail(raw(f"<p>{REPORT}</p>{pasted}".encode(), "text/html; charset=utf-8"))
    assert beside.text == REPORT and len(beside.attachments) == 1
    # a tracking pixel is no picture of anything
    pixel = (
        '<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">'
    )
    assert (
        parse_mail(raw(f"<p>{REPORT}</p>{pixel}".encode(), "text/html; charset=utf-8")).attachments
        == ()
    )


async def test_a_letter_of_pictures_opens_a_case_with_them(app: App, tmp_path: Path) -> None:
    row = await ingest(app, tmp_path, PICTURES)
    assert row["action"] == "new_case"
    assert row["text"].startswith("[Без текста, только изображения: IMG_0001.jpg")
    assert row["attachments"] == ["IMG_0001.jpg", "IMG_0002.jpg"]
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == row["case"]))
        assert case is not None and case.text == row["text"]


def test_the_words_standing_in_for_text_exist_in_both_languages() -> None:
    env = Renderer().env
    ru, en = (set(env.get_template(f"{lang}/_email_text.j2").blocks) for lang in ("ru", "en"))
    assert ru == en == {"images_only", "partial", "calendar", "encrypted"}


# --- 8-bit headers in another charset than the body ---------------------------------------------


@pytest.mark.parametrize(
    ("subject", "name"), [("Течёт кран на кухне", "Иван Петров"), ("Кран", "Иван")]
)
def test_koi8_headers_over_a_windows_1251_body(subject: str, name: str) -> None:
    # the body's label read the headers: "фЕЮЈФ ЛТБО ОБ ЛХИОЕ" from "йЧБО рЕФТПЧ"
    mail = headers_raw(
        subject.encode("koi8_r"),
        name.encode("koi8_r"),
        REPORT.encode("cp1251"),
        "text/plain; charset=windows-1251",
    )
    parsed = parse_mail(mail)
    assert (parsed.subject, parsed.sender_name, parsed.text) == (subject, name, REPORT)


@pytest.mark.parametrize("subject", ["КРЫША", "Счёт ТСЖ «ЖилКомСервис»"])
def test_a_short_subject_in_capitals_still_follows_the_bodys_label(subject: str) -> None:
    # a guard: the body's label still reads words in capitals and a brand's inner capitals,
    # which letter statistics cannot
    mail = headers_raw(
        subject.encode("cp1251"),
        b"Ivan",
        REPORT.encode("cp1251"),
        "text/plain; charset=windows-1251",
    )
    assert parse_mail(mail).subject == subject


# --- RFC 2231 segments in more than one charset --------------------------------------------------


@pytest.mark.parametrize(
    "disposition",
    [
        # every segment names its charset (some webmails' and gateways' writers)
        "attachment; filename*0*=utf-8''%D0%A4%D0%BE%D1%82%D0%BE;"
        " filename*1*=utf-8''%20%D0%BA%D1%83%D1%85%D0%BD%D0%B8.jpg",
        # the second segment in another charset, named
        "attachment; filename*0*=utf-8''%D0%A4%D0%BE%D1%82%D0%BE;"
        " filename*1*=koi8-r''%20%CB%D5%C8%CE%C9.jpg",
        # the second segment in another charset, not named
        "attachment; filename*0*=UTF-8''%D0%A4%D0%BE%D1%82%D0%BE;"
        " filename*1*=%20%EA%F3%F5%ED%E8.jpg",
    ],
)
def test_file_name_segments_in_several_charsets(disposition: str) -> None:
    # "Фотоutf-8'' кухни.jpg", "аЄаОбаО ъѓѕэш.jpg"
    parsed = parse_mail(
        multipart(
            "mixed",
            TEXT_PART,
            photo_part(f"Content-Type: image/jpeg\r\nContent-Disposition: {disposition}"),
        )
    )
    assert [a.filename for a in parsed.attachments] == ["Фото кухни.jpg"]


# --- Thunderbird's public key beside a signed letter ---------------------------------------------


def thunderbird_signed(text: str, **kw: str) -> bytes:
    """Thunderbird signing with OpenPGP, its public key attached (its default)."""
    key = (
        b'Content-Type: application/pgp-keys; name="OpenPGP_0x8D2E1A3F5B7C9D01.asc"\r\n'
        b'Content-Disposition: attachment; filename="OpenPGP_0x8D2E1A3F5B7C9D01.asc"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\nxsFNBGWq\r\n"
        b"-----END PGP PUBLIC KEY BLOCK-----\r\n"
    )
    content = (
        b'Content-Type: multipart/mixed; boundary="IN"\r\n\r\n--IN\r\n'
        b"Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + text.encode()
        + b"\r\n--IN\r\n"
        + key
        + b"\r\n--IN--\r\n"
    )
    signature = (
        b'Content-Type: application/pgp-signature; name="OpenPGP_signature.asc"\r\n'
        b'Content-Disposition: attachment; filename="OpenPGP_signature"\r\n\r\n'
        b"-----BEGIN PGP SIGNATURE-----\r\n\r\nwsB5BAABCAAj\r\n"
        b"-----END PGP SIGNATURE-----\r\n"
    )
    return multipart(
        "signed",
        content,
        signature,
        params='; protocol="application/pgp-signature"; micalg=pgp-sha256',
        **kw,
    )


def test_the_public_key_thunderbird_attaches_is_no_file_of_the_letter() -> None:
    parsed = parse_mail(thunderbird_signed(REPORT))
    assert parsed.text == REPORT and parsed.attachments == ()
    assert any("public key" in n for n in parsed.notes)


async def test_a_thunderbird_signed_thank_you_reopens_nothing(
    app: App, recorder: RecordingSender, clock: ManualClock, tmp_path: Path
) -> None:
    first = await ingest(
        app,
        tmp_path,
        raw("Ул. Ленина 5, кв. 45: на кухне течёт кран, вызовите сантехника.".encode()),
    )
    ours = await resolve(app, recorder, clock, first["case"], "Кран заменён")
    clock.advance(timedelta(hours=1))
    got = await ingest(
        app,
        tmp_path,
        thunderbird_signed(
            "Спасибо, всё работает!",
            subject=f"Re: [{first['case']}] Обращение решено",
            extra=f"In-Reply-To: {ours}\r\n",
        ),
    )
    assert got["attachments"] == []
    async with app.wf.sessions() as session:
        case = await session.scalar(select(Case).where(Case.number == first["case"]))
        assert case is not None and case.stage == "resolved"


# --- text/enriched, multipart/digest, AppleDouble -----------------------------------------------


def test_text_enriched_and_richtext_bodies_are_the_letter() -> None:
    # left as files ("attachment-1.bin"), the case had no text
    enriched = (
        "<bold>Здравствуйте!</bold>\r\n\r\nВ квартире 45 третий день течёт кран на кухне,"
        "\r\nвызовите <color><param>red</param>сантехника</color>. <<срочно>"
    )
    assert parse_mail(raw(enriched.encode(), "text/enriched; charset=utf-8")).text == (
        "Здравствуйте!\nВ квартире 45 третий день течёт кран на кухне, вызовите сантехника. "
        "<срочно>"
    )
    richtext = "<bold>Течёт кран</bold><nl>кв. 45,<nl>вызовите сантехника <lt>срочно>"
    assert parse_mail(raw(richtext.encode(), "text/richtext; charset=utf-8")).text == (
        "Течёт кран\nкв. 45,\nвызовите сантехника <срочно>"
    )


def test_letters_forwarded_as_a_digest_are_read() -> None:
    # the parts of a digest are letters unless they say otherwise: they were read as empty text
    def letter(name: str, addr: str, text: str) -> bytes:
        return (
            f"From: {name} <{addr}>\r\nSubject: =?utf-8?B?0JbQsNC70L7QsdCw?=\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"
        ).encode()

    digest = (
        b'Content-Type: multipart/digest; boundary="DG"\r\n\r\n--DG\r\n\r\n'
        + letter("Olga", "olga@mail.ru", REPORT)
        + b"\r\n--DG\r\n\r\n"
        + letter("Anna", "anna@mail.ru", "В подъезде 2 не горит свет.")
        + b"\r\n--DG--\r\n"
    )
    parsed = parse_mail(
        multipart(
            "mixed",
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + "Пересылаю письма соседей.".encode(),
            digest,
        )
    )
    assert parsed.text == (
        "Пересылаю письма соседей.\n\nForwarded from Olga <olga@mail.ru>: "
        f"Жалоба\n\n{REPORT}\n\nForwarded from Anna <anna@mail.ru>: Жалоба"
        "\n\nВ подъезде 2 не горит свет."
    )
    assert [a.filename for a in parsed.attachments] == ["Жалоба.eml", "Жалоба.eml"]


def test_a_mac_file_in_two_parts_is_one_file() -> None:
    # AppleDouble: the resource fork part was listed as a second "scan.pdf"
    def part(ctype: str, data: bytes) -> bytes:
        return (
            f'Content-Type: {ctype}; name="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
            'Content-Disposition: attachment; filename="scan.pdf"\r\n\r\n'
        ).encode() + base64.encodebytes(data)

    double = (
        b'Content-Type: multipart/appledouble; boundary="AD"\r\n\r\n--AD\r\n'
        + part("application/applefile", b"\x00\x05\x16\x07" + bytes(60))
        + b"\r\n--AD\r\n"
        + part("application/pdf", b"%PDF-1.4 scan")
        + b"\r\n--AD--\r\n"
    )
    parsed = parse_mail(multipart("mixed", TEXT_PART, double))
    assert [(a.filename, a.content_type, a.ref) for a in parsed.attachments] == [
        ("scan.pdf", "application/pdf", "2.2")
    ]
    assert parsed.text == REPORT
