"""The words a resident gave a photo instead of writing a letter.

A phone's share sheet sends a photo with no text at all; what the resident had to say is the
name they gave the file ("протечка в ванной.jpg", a document's "Заявление на перерасчёт.pdf")
or the description their mail program put beside it (Content-Description). An empty case leaves
staff opening the photo to learn what it is about and the classifier nothing to read. A
camera's own name (IMG_2034.jpg, DSC0001.JPG, "Снимок экрана 2026-12-03 в 10.15.00.png", a
messenger's "photo_2026-12-03_10-15-00.jpg") says nothing, and must not become words: "IMG" or
"Screenshot" would be read as a report.
"""

from __future__ import annotations

import re

__all__ = ["caption"]

# Words cameras, phones, messengers and mail programs put into the names they make up.
_MACHINE_NAMES = """
    img image images imagen imag pic pict picture pictures photo photos foto fotos bild
    dsc dscn dscf dcim sam pxl mvimg vid video videos mov movie clip clips
    screenshot screenshots screen shot shots snapshot capture scan scanned scans camera cam
    received unnamed untitled noname attachment attach file files document doc copy edited edit
    hdr burst portrait pano panorama live cover original orig scaled small large medium resized
    crop cropped compressed thumbnail thumb preview gallery mms upload download temp tmp new
    final selfie whatsapp telegram viber signal instagram vk tg wa dji gopro android iphone
    jpeg jpg png heic heif gif webp bmp tif tiff mp4 mpeg dat bin default at on am pm
    фото фотография фотографии фотка снимок снимки экрана скриншот скрин скан изображение
    изображения картинка рисунок вложение файл без названия имени копия видео документ
    безымянный новый новая новое яндекс галерея камера браузер телеграм вконтакте
    pdf docx xlsx xls odt ods rtf word excel microsoft office adobe acrobat libreoffice book
    sheet page pages scanner print printed output xerox canon ricoh kyocera konica minolta
    sharp brother epson skm лист книга страница стр документа отсканированный скан-копия
"""
_MACHINE_WORDS = frozenset(_MACHINE_NAMES.split())
# A hexadecimal id (an iPhone's "5F3A9C2E-1B7D-…" names).
_HEX_ID = re.compile(r"[0-9a-f]*\d[0-9a-f]*|[0-9a-f]{8,}")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC_WORD = re.compile(r"^[А-Яа-яЁё]{3,}$")
_LATIN_WORD = re.compile(r"^[A-Za-z]{4,}$")
# A file's extension: a short run of letters and digits after the last dot.
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
# A description that only says what kind of file it is ("image/jpeg").
_MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def _machine(token: str) -> bool:
    """A word or counter a device made up: "IMG", "2034", "DSC0001", "image001", "WA0001"."""
    low = token.lower()
    base = low.rstrip("0123456789")
    return base in _MACHINE_WORDS or bool(_HEX_ID.fullmatch(low)) \
        or (base != low and len(base) <= 3 and base.isascii())


def _words_of(text: str) -> str | None:
    """``text`` as a caption, from the first word after a camera's name ("IMG_20261203_101500
    лужа" is "лужа"), or None when no word in it is a person's. After a camera's name only
    Cyrillic words count: a phone adds the app's name to a screenshot's ("…_Chrome.jpg")."""
    tokens = _TOKEN.findall(text)
    lead = 0
    while lead < len(tokens) and _machine(tokens[lead]):
        lead += 1
    # a camera's name ends with its counter or clock; "Фото протечки" keeps its first word
    cut = max((n + 1 for n in range(lead) if any(c.isdigit() for c in tokens[n])), default=0)
    own = [t for t in tokens[cut:] if not _machine(t)]
    if not (any(_CYRILLIC_WORD.match(t) for t in own)
            or (cut == 0 and any(_LATIN_WORD.match(t) for t in own))):
        return None
    rest = text[text.index(tokens[cut]):] if cut else text
    return " ".join(rest.replace("_", " ").split()) or None


def caption(filename: str | None, description: str | None) -> str | None:
    """What a photo's description or, failing that, its file name says, or None."""
    if description:
        said = description.strip()
        if not _MIME_TYPE.match(said) and said != (filename or "").strip():
            words = _words_of(_EXTENSION.sub("", said))
            if words is not None:
                return words
    if filename:
        stem = _EXTENSION.sub("", filename.strip())
        if "_" not in stem and " " not in stem:
            stem = stem.replace("-", " ")  # "protechka-v-vannoy": a slug's hyphens are blanks
        return _words_of(stem)
    return None
