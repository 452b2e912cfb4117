"""Turning mail bytes into text without mojibake.

Residents' mail arrives in UTF-8, KOI8-R and windows-1251, often with a wrong label or none at all
(old Outlook Express, Bat!, webmail forms), and raw 8-bit bytes show up in headers that should be
ASCII. Labels are therefore only a hint: valid UTF-8 always wins (real cp1251/KOI8 text is never
valid UTF-8), Russian single-byte encodings are chosen by letter statistics, and only then do we
trust an exotic label or ask charset-normalizer.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections import Counter
from functools import lru_cache

__all__ = [
    "blank_controls",
    "decode_bytes",
    "decode_header_value",
    "drop_invisible",
    "looks_like_mojibake",
    "normalize_charset",
    "unfold",
    "unwrap_encoded_address",
    "wide_codec",
]

# Labels seen in the wild that Python does not know, or knows under a misleading meaning.
_ALIASES: dict[str, str | None] = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ks_c_5601-1989": "cp949",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-ukrainian": "mac_cyrillic",
    "utf8": "utf-8",
    "x-utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    # Windows' and .NET's names for UTF-16 (Encoding.Unicode, Encoding.BigEndianUnicode)
    "unicode": "utf-16",
    "ucs-2": "utf-16",
    "ucs2": "utf-16",
    "iso-10646-ucs-2": "utf-16",
    "unicodefffe": "utf-16-be",
    "win-1251": "cp1251",
    "x-cp1251": "cp1251",
    "cp-1251": "cp1251",
    "windows1251": "cp1251",
    "koi8r": "koi8_r",
    "koi8": "koi8_r",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso8859_8",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp_ext",
    "latin1": "cp1252",
    "iso-8859-1": "cp1252",  # browsers do the same: cp1252 is a superset in practice
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "unknown-8bit": None,
    "x-unknown": None,
    "unknown": None,
    "x-user-defined": None,
    "default": None,
    "default_charset": None,
    "8bit": None,
    "binary": None,
    "charset": None,
}

# Labels that senders put on text of any encoding: do not believe them for 8-bit data. Mac
# Mail and old Eudora label Mac Cyrillic text "macintosh" (Mac Roman), the system's default.
_WEAK = frozenset({"ascii", "cp1252", "latin_1", "iso8859_1", "iso8859_15", "mac_roman"})
# Russian single-byte encodings: between these, letter statistics decide, not the label.
_CYRILLIC = ("cp1251", "koi8_r", "cp866", "iso8859_5", "koi8_u", "mac_cyrillic")
_CANDIDATES = ("cp1251", "koi8_r", "cp866", "iso8859_5")
# Variants that read Russian as a candidate does and add letters of their own (Ukrainian і, ї,
# є, ґ; Mac Cyrillic shares cp1251's lower case): where statistics pick the family, the label
# (and, for the Mac, where its capitals stand) picks the variant.
_FAMILY = {"koi8_u": "koi8_r", "mac_cyrillic": "cp1251"}
def _family(codec: str | None) -> str | None:
    """The candidate codec whose letter statistics stand for ``codec``."""
    return _FAMILY.get(codec or "", codec)


# Mac Cyrillic and cp1251 read "а"–"ю" alike; they differ where the capitals are. Letter
# statistics cannot tell them apart (each reads the other's capitals as punctuation, and a
# letter full of dashes and quotes scores like one full of capitals), so the bytes' places
# decide: "я" after a letter (0xDF on the Mac, 0xFF in cp1251, where the other reads a capital
# or "€"); a capital opening a word, followed by a lower-case letter or alone ("В", "У"), or in
# a run of capitals; "ё" and closing quotes after letters. A byte either reads plausibly there
# ("я" or "Я" opening a word, a dash or "С" standing alone) is no sign, except in mid-sentence,
# where "Я" and "С" would be lower-case. Each pattern starts with the byte it is about, which
# the regex engine finds fast; a lookbehind then checks what precedes it.
_MAC_YA = re.compile(rb"\xdf(?<=[\xe0-\xfe]\xdf)")
_CP1251_YA = re.compile(rb"\xff(?<=[\xe0-\xfe]\xff)")
_LETTER = rb"[A-Za-z\x80-\xff]"
_MAC_SIGNS = tuple(re.compile(p) for p in (
    rb"[\x80-\x9f](?<!" + _LETTER + rb"[\x80-\x9f])"
    rb"(?:[\xe0-\xfe]|(?<![\x85\x96\x97])(?!" + _LETTER + rb"))",
    rb"[\x80-\x9f]{3,}",
    rb"[\xd5\xde](?<=[\xe0-\xfe][\xd5\xde])",
    rb"[\xc8\xd3](?<=[\xe0-\xfe?!.][\xc8\xd3])",
    rb"\xdf(?<=[\xe0-\xfe0-9,] \xdf)",
    rb"\xd1(?<=[\xe0-\xfe0-9,] \xd1)(?= )",
    rb"\xdc(?= ?[0-9])",
))
_CP1251_SIGNS = tuple(re.compile(p) for p in (
    rb"[\xc0-\xdd](?<!" + _LETTER + rb"[\xc0-\xdd])[\xe0-\xfe]",
    rb"[\xc0-\xc9\xcb-\xcf\xd2-\xdb\xdd\xde](?<!" + _LETTER + rb".)(?!" + _LETTER + rb")",
    rb"[\xc0-\xdf]{3,}",
    rb"[\x92\x94](?<=[\xe0-\xfe][\x92\x94])",
))


def _signs(patterns: tuple[re.Pattern[bytes], ...], data: bytes) -> int:
    return sum(len(pattern.findall(data)) for pattern in patterns)


def _mac_or_cp1251(data: bytes, labelled_mac: bool) -> str:
    """Mac Cyrillic (Mac Mail, old Eudora, often with no label or "macintosh") or cp1251, for
    text whose letters read as Russian in both: read as cp1251, unlabelled Mac mail lost every
    capital ("‡дравствуйте", "течЮт"). A Mac label is believed unless the signs clearly say
    otherwise; else a tie goes to cp1251, by far the commoner (a cp1251 label is the default
    of many Russian mail programs, and says little). "я", one letter in fifty, is counted
    first: in most letters it decides alone, sparing the scans for the other signs."""
    mac, cp1251 = len(_MAC_YA.findall(data)), len(_CP1251_YA.findall(data))
    if max(mac, cp1251) < 2 * min(mac, cp1251) + 2:
        mac += _signs(_MAC_SIGNS, data)
        cp1251 += _signs(_CP1251_SIGNS, data)
    if labelled_mac:
        return "cp1251" if cp1251 > 2 * mac else "mac_cyrillic"
    return "mac_cyrillic" if mac > cp1251 else "cp1251"


_SEVEN_BIT = frozenset({"utf_7", "iso2022_jp", "iso2022_jp_ext", "iso2022_kr", "hz"})

# Relative frequency (percent) of Russian letters in ordinary prose.
_FREQ = {
    "о": 10.97,
    "е": 8.45,
    "а": 8.01,
    "и": 7.35,
    "н": 6.70,
    "т": 6.26,
    "с": 5.47,
    "р": 4.73,
    "в": 4.54,
    "л": 4.40,
    "к": 3.49,
    "м": 3.21,
    "д": 2.98,
    "п": 2.81,
    "у": 2.62,
    "я": 2.01,
    "ы": 1.90,
    "ь": 1.74,
    "г": 1.70,
    "з": 1.65,
    "б": 1.59,
    "ч": 1.44,
    "й": 1.21,
    "х": 0.97,
    "ж": 0.94,
    "ш": 0.73,
    "ю": 0.64,
    "ц": 0.48,
    "щ": 0.36,
    "э": 0.32,
    "ф": 0.26,
    "ъ": 0.04,
    "ё": 0.2,
    "і": 1.0,
    "ї": 0.5,
    "є": 0.5,
    "ґ": 0.1,
    "ў": 0.3,
}
_HIGH_BYTES = bytes(range(128, 256))
_LOW_BYTES = bytes(range(128))
_HIGH_RUN = re.compile(rb"[\x80-\xff]{3,}")


@lru_cache(maxsize=256)
def normalize_charset(label: str | None) -> str | None:
    """Map a MIME charset label to a Python codec name, or None when it tells us nothing."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if "*" in name:  # RFC 2231 language suffix: utf-8*ru
        name = name.split("*", 1)[0]
    if name in _ALIASES:
        # through the lookup below too: the rest of the module compares Python's spelling
        # ("utf_7", "utf_8"), and "unicode-1-1-utf-7" left as "utf-7" was read as ASCII
        alias = _ALIASES[name]
        if alias is None:
            return None
        name = alias
    try:
        codec = codecs.lookup(name).name.replace("-", "_")
    except (LookupError, ValueError):
        return None
    # Python's "undefined" codec exists only to fail: a label that says nothing
    return None if codec == "undefined" else codec


@lru_cache(maxsize=32)
def _weights(codec: str, caps: bool = False) -> tuple[float, ...]:
    """Score of each high byte when read in ``codec``: frequent lower-case letters score high
    (``caps``: capitals as high as their lower-case letters, for text typed in capitals)."""
    out = []
    for b in range(128, 256):
        ch = bytes([b]).decode(codec, "replace")
        low = ch.lower()
        if low in _FREQ:
            w = _FREQ[low] if ch == low or caps else _FREQ[low] * 0.15
        elif ch.isalpha():
            w = 0.0
        else:
            w = -2.0
        out.append(w)
    return tuple(out)


def _cyrillic_guess(data: bytes, high: int, preferred: str | None) -> str | None:
    """Pick the Russian single-byte codec that makes ``data`` read like Russian, if any does.

    Russian text has its high bytes in runs (whole words), accented Latin text does not; the
    letter-frequency score then separates cp1251 from KOI8-R (each reads the other as mostly
    capitals) and from cp866.
    """
    in_runs = high - _isolated_high(data)
    if in_runs < 0.6 * high:
        return None
    hist = Counter(data.translate(None, _LOW_BYTES)).items()
    scores = {codec: sum([n * w[b - 128] for b, n in hist]) / high
              for codec in _CANDIDATES for w in [_weights(codec)]}
    if preferred in scores:
        # Capitals in cp1251 read as lower-case letters in KOI8-R and the other way round, so
        # a labelled letter typed in capitals ("ПРОТЕЧКА") scores better in the wrong codec.
        # Where the label reads as capitals that make better Russian, letter for letter, than
        # any other codec's reading, the label stands (a KOI8-R letter mislabelled cp1251 also
        # reads as capitals, but as capitals of letters Russian rarely uses).
        cases = _letter_cases(preferred)
        letters = sum([n for b, n in hist if cases[b - 128]])
        capitals = sum([n for b, n in hist if cases[b - 128] == _CAPITAL])
        if letters and capitals >= 0.8 * letters:
            w = _weights(preferred, caps=True)
            caps = sum([n * w[b - 128] for b, n in hist]) / high
            if caps >= 2.0 and all(caps > v for c, v in scores.items() if c != preferred):
                return preferred
        scores[preferred] += 0.5
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= 2.0 else None


_CAPITAL = 2
# Fewer high bytes than this are a header's word or two, too few for letter statistics.
_FEW = 24


@lru_cache(maxsize=8)
def _letter_cases(codec: str) -> tuple[int, ...]:
    """For each high byte: 0 if ``codec`` reads it as no letter of Cyrillic or later scripts,
    1 as a lower-case one, ``_CAPITAL`` as a capital. The candidates read low bytes as ASCII,
    so counting a message's high bytes counts its letters: looking at each decoded character
    in Python cost a labelled single-byte mail more than the rest of its parse."""
    out = []
    for b in range(128, 256):
        ch = bytes([b]).decode(codec, "replace")
        letter = ch.isalpha() and ch > "\u03ff"
        out.append(_CAPITAL if letter and ch.isupper() else int(letter))
    return tuple(out)


# Each low byte to a blank and each high byte to "h": the runs of high bytes become words.
_HIGH_AS_H = bytes.maketrans(bytes(range(256)), b" " * 128 + b"h" * 128)


def _isolated_high(data: bytes) -> int:
    """High bytes that are *not* part of a run of three or more (accented letters in Latin).
    Counted as the one- and two-letter words of ``data`` written in blanks and "h"s (C code
    throughout): removing the runs with ``_HIGH_RUN`` cost 2-3% of a parse."""
    runs = data.translate(_HIGH_AS_H).split()
    return runs.count(b"h") + 2 * runs.count(b"hh")


def _detector(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it is a declared dependency
        return None
    try:
        match = from_bytes(data[:65536]).best()
    except Exception:  # the detector must never break parsing
        return None
    return None if match is None else str(match.encoding)


def _mixed_lines(data: bytes, preferred: str | None) -> str | None:
    """A body whose lines are in two encodings (the resident's UTF-8 reply over a quoted
    cp1251 letter, or the other way round): UTF-8 lines as UTF-8, the others in the Russian
    single-byte codec their letters read best in. None when the lines are not so divided."""
    lines = data.split(b"\n")
    valid: list[bool | None] = []
    for line in lines:
        if line.isascii():
            valid.append(None)
            continue
        try:
            line.decode("utf-8")
            valid.append(True)
        except UnicodeDecodeError:
            valid.append(False)
    if True not in valid or False not in valid:
        return None
    rest = b"\n".join(line for line, ok in zip(lines, valid, strict=True) if ok is False)
    codec = _cyrillic_guess(rest, len(rest.translate(None, _LOW_BYTES)),
                            _family(preferred)) or "cp1252"
    if codec == "cp1251":
        codec = _mac_or_cp1251(rest, preferred == "mac_cyrillic")
    return "\n".join(line.decode("utf-8" if ok is not False else codec, "replace")
                     for line, ok in zip(lines, valid, strict=True))


def _oddly_cased(text: str) -> bool:
    """Whether a word has capitals after a lower-case start or mixed within it ("рЕФТПЧ"),
    as Russian in one single-byte codec read in another comes out."""
    return any(not (w.islower() or w.isupper() or w[1:].islower())
               for w in _CYR_WORD.findall(text))


_WIDE = frozenset({"utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"})
# The high byte of a UTF-16 letter in Latin (0x00) or Cyrillic (0x04) text.
_WIDE_HIGH = b"\x00\x04"
_WIDE_SAMPLE = 4096


def wide_codec(data: bytes, declared: str | None = None) -> str | None:
    """The UTF-16 or UTF-32 codec ``data`` is in, by its label, or by its bytes whatever the
    label says (a script's "utf-8" or none over .NET's Encoding.Unicode): its byte-order
    mark, or every other byte the high half of a Latin or Cyrillic letter. None for text in
    any byte-wide encoding, where NUL and 0x04 bytes do not come in every other place."""
    codec = normalize_charset(declared)
    labelled = codec if codec in _WIDE else None
    if labelled not in (None, "utf_16"):
        return labelled  # a byte order named, or UTF-32
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf_16"
    sample = data[:_WIDE_SAMPLE]
    if len(sample) >= 8 and not len(sample) % 2 and b"\x00" in sample:
        for order, high in (("utf_16_le", sample[1::2]), ("utf_16_be", sample[::2])):
            if 10 * len(high.translate(None, _WIDE_HIGH)) <= len(high):
                return order
    # "utf-16" with no byte-order mark: Windows writes it little-endian
    return labelled


def decode_bytes(data: bytes, declared: str | None = None, hint: str | None = None) -> str:
    """Decode ``data`` using ``declared`` as a hint only; never raises, never returns mojibake
    for Russian text in UTF-8, cp1251 or KOI8-R.

    ``hint`` is a second opinion (the body's charset, for 8-bit headers).
    """
    if not data:
        return ""
    codec = normalize_charset(declared)
    wide = wide_codec(data, declared)
    if wide is not None:
        # before the ASCII test: Cyrillic in UTF-16 without a byte-order mark is all bytes
        # below 0x80 ("З" is 17 04), and read as ASCII it would be control characters
        try:
            return data.decode(wide)
        except (UnicodeError, LookupError):
            pass
    if data.isascii():
        if codec is None and b"\x1b$" in data:
            codec = "iso2022_jp_ext"  # unlabelled ISO-2022-JP is still common from Japan
        if codec in _SEVEN_BIT:
            try:
                return data.decode(codec)
            except (UnicodeError, LookupError):
                pass
        return data.decode("ascii")
    if data.startswith(b"\xef\xbb\xbf"):
        # a byte-order mark (Notepad, 1C) is no character of the text: a case would start
        # with an invisible one
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    high = len(data.translate(None, _LOW_BYTES))
    if codec in (None, "utf_8", *_WEAK) or codec in _CYRILLIC:
        # Nearly UTF-8 (cut mid-character, a stray byte): keep it UTF-8.
        loose = data.decode("utf-8", "replace")
        # A stray byte or a character cut at the end costs one or two; a word in another
        # encoding (a cp1251 signature under a UTF-8 letter) costs a run of them.
        if loose.count("\ufffd") * 20 > high or "\ufffd\ufffd\ufffd" in loose:
            mixed = _mixed_lines(data, codec if codec in _CYRILLIC else normalize_charset(hint))
            if mixed is not None:
                return mixed
        if loose.count("\ufffd") * 20 <= high:
            return loose
    if codec is not None and codec not in _WEAK and codec not in _CYRILLIC and codec != "utf_8":
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError):
            pass
    hint_codec = normalize_charset(hint)
    if codec is None and hint_codec in _CYRILLIC and high <= _FEW and all(
            _letter_cases(hint_codec)[b - 128] for b in data if b >= 128):
        # A raw 8-bit subject of a word or two ("КРЫША", "ШУМ") is too short for letter
        # statistics, which read capitals as another codec's lower case; where the body's
        # Cyrillic label reads every byte as a letter, it is the sender's charset. Unless its
        # words come out cased as no one writes ("фЕЮЈФ ЛТБО", "йЧБО рЕФТПЧ": a KOI8-R subject
        # and name over a windows-1251 body, from The Bat! and old Outlook Express) and the
        # letter statistics' codec reads them as words (a brand's "МосЭнергоСбыт" reads oddly
        # in every codec, and keeps the label).
        decoded = data.decode(hint_codec)
        if not _oddly_cased(decoded):
            return decoded
        other = _cyrillic_guess(data, high, None)
        if other == "cp1251":
            other = _mac_or_cp1251(data, False)
        if other is None or other == hint_codec or _oddly_cased(data.decode(other, "replace")):
            return decoded
        return data.decode(other, "replace")
    preferred = codec if codec in _CYRILLIC else hint_codec if hint_codec in _CYRILLIC else None
    guess = _cyrillic_guess(data, high, _family(preferred))
    if guess is not None:
        if guess == "cp1251":
            guess = _mac_or_cp1251(data, preferred == "mac_cyrillic")
        elif preferred in _FAMILY and _FAMILY[preferred] == guess:
            guess = preferred
        return data.decode(guess, "replace")
    if codec in _CYRILLIC or (codec in _WEAK and codec != "ascii"):
        return data.decode(codec, "replace")
    if hint_codec and hint_codec not in ("ascii", "utf_8"):
        try:
            return data.decode(hint_codec)
        except (UnicodeError, LookupError):
            pass
    if _HIGH_RUN.search(data) is None or high - _isolated_high(data) < high // 2:
        # Accented letters scattered in Latin words: Western European, not worth a detector run.
        return data.decode("cp1252", "replace")
    detected = _detector(data) if len(data) >= 16 else None
    if detected:
        try:
            return data.decode(detected, "replace")
        except LookupError:
            pass
    return data.decode("cp1252", "replace")


# --- headers ---------------------------------------------------------------------------------

_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_EW = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def unfold(value: str) -> str:
    """RFC 5322 unfolding, tolerant of bare CR/LF left by broken mailers. A value with no line
    break (nearly every header the parser hands over) has nothing to unfold: it is returned
    without running the pattern, which cost a few percent of a parse over twenty headers."""
    if "\n" not in value and "\r" not in value:
        return value
    value = _FOLD.sub("", value)
    if "\n" in value or "\r" in value:
        value = value.replace("\r", "").replace("\n", " ")
    return value


def _raw(value: str) -> bytes:
    """Bytes of a header as parsed by the stdlib bytes parser (8-bit kept as surrogates)."""
    return value.encode("utf-8", "surrogateescape")


def _ew_bytes(enc: str, text: str) -> bytes:
    if enc in "bB":
        text = text.strip()
        text += "=" * (-len(text) % 4)
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return base64.b64decode(re.sub(r"[^A-Za-z0-9+/]", "", text) + "===", validate=False)
    raw = text.replace("_", " ").encode("utf-8", "surrogateescape")
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


# An encoded-word the header ends inside of, its "?=" never written
_CUT_EW = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]+)$")
_HALF_ESCAPE = re.compile(r"=[0-9A-Fa-f]?$")


def _close_cut_word(value: str) -> str:
    """``value`` with a last encoded-word that was cut off closed again: a gateway or form
    that cuts a long subject at its length limit cuts its last encoded-word too, and the
    whole of it showed as "=?UTF-8?B?0KLQtdGH…" code. What was cut inside (a base64 quartet,
    a "=D0" escape, a UTF-8 letter's bytes) is dropped: read, it made the whole word
    invalid, or guessed as another charset's mojibake."""
    m = _CUT_EW.search(value)
    if m is None:
        return value
    charset, enc, text = m.groups()
    text = text[: len(text) - len(text) % 4] if enc in "bB" else _HALF_ESCAPE.sub("", text)
    try:
        data = _ew_bytes(enc, text)
    except (binascii.Error, ValueError):
        return value
    if normalize_charset(charset) == "utf_8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.end == len(data):  # a letter whose last bytes were cut away
                data = data[: exc.start]
    return f"{value[: m.start()]}=?{charset}?B?{base64.b64encode(data).decode()}?="


def decode_header_value(value: str | None, hint: str | None = None) -> str:
    """Decode an RFC 2047 header, joining adjacent encoded-words of one charset at the byte level
    (so a UTF-8 character split across two words survives) and decoding raw 8-bit bytes through
    :func:`decode_bytes` with ``hint`` (the body charset) as the second opinion."""
    if not value:
        return ""
    value = _close_cut_word(unfold(value))
    if "=?" not in value:
        if value.isascii():
            return _strip_controls(value)
        return _strip_controls(decode_bytes(_raw(value), None, hint))
    pieces: list[tuple[str | None, bytes]] = []
    pos = 0
    for m in _EW.finditer(value):
        between = value[pos : m.start()]
        if between and not (pieces and pieces[-1][0] is not None and not between.strip()):
            pieces.append((None, _raw(between)))
        charset = m.group(1).split("*", 1)[0].lower()
        try:
            data = _ew_bytes(m.group(2), m.group(3))
        except Exception:  # garbage inside an encoded-word: keep it as it was written
            pieces.append((None, _raw(m.group(0))))
        else:
            if pieces and pieces[-1][0] == charset:
                pieces[-1] = (charset, pieces[-1][1] + data)
            else:
                pieces.append((charset, data))
        pos = m.end()
    if pos < len(value):
        pieces.append((None, _raw(value[pos:])))
    out = []
    for charset, data in pieces:
        if charset is None:
            out.append(data.decode("ascii") if data.isascii() else decode_bytes(data, None, hint))
        else:
            out.append(decode_bytes(data, charset, hint))
    return _strip_controls("".join(out))


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")
_NULS = re.compile(r"\x00+")


def blank_controls(text: str, controls: re.Pattern[str] = _NULS) -> str:
    """``text`` without the control characters ``controls`` finds (a run of them with the
    blanks around it), each run a single blank between two words and nothing at a line's
    start or end. A broken mailer or web form writes a NUL where the space was
    ("Течёт\\0кран"): deleting it glued the two words into one that no one, and no keyword,
    reads. Text where NULs are a third of the characters or more is UTF-16 read one byte at a
    time (Latin letters are half NULs so read): there every NUL is half of a letter, and goes.
    Split and joined, not one pattern with the blanks in it, which took minutes over a letter
    of a million spaces."""
    if controls is _NULS and "\x00" not in text:
        return text  # nearly every body: told by one C search, not by the pattern's split
    if 3 * text.count("\x00") >= len(text) > 0:
        text = text.replace("\x00", "")
    pieces = controls.split(text)
    if len(pieces) == 1:
        return text
    last = len(pieces) - 1
    kept = [piece.lstrip(" \t") if i else piece for i, piece in enumerate(pieces)]
    kept = [piece.rstrip(" \t") if i < last else piece for i, piece in enumerate(kept)]
    out: list[str] = []
    for piece in kept:
        if not piece:
            continue  # blanks between two runs, or the text's start or end: one run
        if out and not (out[-1].endswith("\n") or piece.startswith("\n")):
            out.append(" ")
        out.append(piece)
    return "".join(out)


# Characters that show as nothing: a soft hyphen (Word and Outlook hyphenate long words with
# it), a zero-width space, a word joiner, a byte order mark inside the text; and the bidi
# embeddings, overrides and isolates, which turn the rest of a line round when staff read it
# (left-to-right and right-to-left marks stay: they reorder nothing, only mark a direction).
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")


def drop_invisible(text: str) -> str:
    """``text`` without characters that show as nothing (see ``_INVISIBLE``). The resident
    wrote "те\u00adчёт" and saw "течёт"; staff's search and the classifier saw two halves of
    a word and missed the leak, and an override in a subject showed it backwards."""
    return text if text.isascii() else _INVISIBLE.sub("", text)


def _strip_controls(text: str) -> str:
    """Header text is shown in lists and logs: no NULs or terminal escapes (see
    :func:`blank_controls`: one that stood between two words leaves a blank there), nothing
    invisible (:func:`drop_invisible`)."""
    text = blank_controls(text.replace("\t", " ").replace("\n", " "), _CONTROLS)
    return drop_invisible(text).strip()


_ONLY_WORDS = re.compile(r"^\s*(=\?[^?\s]+\?[bBqQ]\?[^?]*\?=\s*)+$")


def unwrap_encoded_address(raw: str, hint: str | None = None) -> str:
    """Some generators (including Python's own compat32 folding) put the whole ``Name <addr>``
    inside one encoded-word. Decode it first, but only when *nothing* is outside the words: an
    address split across an encoded-word (``=?utf-8?Q?agent?=@example.com``) stays rejected."""
    if "=?" in raw and _ONLY_WORDS.match(raw):
        decoded = decode_header_value(raw, hint)
        if "@" in decoded:
            return decoded
    return raw


# --- mojibake --------------------------------------------------------------------------------

_CP1251_HIGH = bytes(range(0x80, 0xC0)).decode("cp1251", "replace").replace("\ufffd", "")
_CP1252_HIGH = bytes(range(0x80, 0xC0)).decode("cp1252", "replace").replace("\ufffd", "")
_MOJIBAKE = re.compile(
    "|".join(
        [
            # UTF-8 Cyrillic read as latin-1/cp1252: "Ð¿Ñ€Ð¸"
            "[ÐÑ][" + re.escape(_CP1252_HIGH) + "\u0080-\u009f]",
            # UTF-8 Cyrillic read as cp1251: "РїСЂРёРІРµС‚"
            "[РС][" + re.escape(_CP1251_HIGH.replace("№", "").replace("«", "")) + "]",
            # Double-encoded Latin / punctuation: "ÃÂ", "â€™"
            "Ã[\u0080-\u00bf]|Â[\u0080-\u00a0]|â€",
        ]
    )
)
_CYR_WORD = re.compile(r"[А-Яа-яЁё]{2,}")


def looks_like_mojibake(text: str) -> bool:
    """True when ``text`` shows the usual traces of Russian decoded with the wrong charset.

    Besides the byte-pattern traces above, KOI8-R read as cp1251 (and back) turns ordinary
    lower-case prose into mostly capitals inside words, which real text never is.
    """
    if not text or text.isascii():
        return False
    if _MOJIBAKE.search(text):
        return True
    inner_upper = letters = 0
    for word in _CYR_WORD.findall(text):
        letters += len(word) - 1
        inner_upper += sum(1 for ch in word[1:] if ch.isupper())
    # Whole words in capitals (shouting, abbreviations) are fine; flag mostly-capital prose only
    # when mixed-case words show that the capitals sit in odd places.
    if letters >= 40 and inner_upper > 0.5 * letters:
        words = _CYR_WORD.findall(text)
        mixed = sum(1 for w in words if not w.isupper() and any(c.isupper() for c in w[1:]))
        return mixed >= 3
    return False
