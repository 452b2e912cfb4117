"""Text normalisation and word-family reduction for the rule classifier.

Residents write fast and on phones: mixed case, ``ё`` or ``е`` interchangeably, Latin look-alike
letters inside Cyrillic words (``пoдъезд`` with a Latin ``o``), emoji, Russian and English in one
message. Rules must not have to spell every variant, so both the message and the rule words go
through the same :class:`Normaliser`, and words are compared by *family key*: a Snowball stem
(PyStemmer, default) or a pymorphy3 lemma (kept as a measured alternative, see
``docs_classifier.md``).

A message becomes a list of words, each with a clause number, because negation ("газом не
пахнет") must only reach words of its own clause ("не знаю, пахнет газом" is still a gas smell).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Literal

from intake.classifier.translit import is_transliterated, to_cyrillic

Backend = Literal["snowball", "pymorphy3"]

# Latin letters that look like Cyrillic ones once lower-cased. Only applied to tokens that already
# contain Cyrillic, so English words are never touched.
_LOOKALIKES = str.maketrans("aceopxykmthb", "асеорхукмтнв")
_CYR = re.compile(r"[а-я]")
_LAT = re.compile(r"[a-z]")
# The characters of a word (a character class). Words are maximal runs of them, so any string
# of them in normalised text lies inside one word: the classifier screens regexes by that.
WORD_CHARS = "0-9a-zа-я"
# One pass finds both clause marks (sentence punctuation, commas, brackets, dashes with spaces,
# line breaks) and words. A mark never contains a letter or digit, so no word straddles one.
_SCAN = re.compile(rf"([{WORD_CHARS}]+)|([.;,:()\[\]\n«»\"…]|\s[-–—]+\s|[?!]+)")
_NT = re.compile(r"n['’]t\b")
# A soft sign typed for the hard one after a prefix: "подьезд", "обьявление", "сьехал". The
# prefixes are look-behinds so that the pattern starts with "ь": ``re`` then jumps from one "ь" to
# the next instead of trying every position of a long post (ten times faster).
_HARD_SIGN_AFTER = ("под", "об", "от", "раз", "из", "пред", "с", "в")
_HARD_SIGN = re.compile(
    "ь(?:" + "|".join(rf"(?<=\b{prefix}ь)" for prefix in _HARD_SIGN_AFTER) + ")(?=[еёяю])"
)
_APOS = re.compile(r"['’]")
# Chat spellings of English words the rules name in full ("water coming thru the ceiling"), and
# the misspellings of the words an alarm is told with that panic and phone keyboards produce
# most ("watr comming thru the cieling"). Whole words only.
_CHAT_SPELLINGS = {
    "thru": "through", "pls": "please", "plz": "please", "tho": "though",
    "comming": "coming", "ceilng": "ceiling", "cieling": "ceiling", "celing": "ceiling",
    "ceilling": "ceiling", "watr": "water", "watter": "water", "elavator": "elevator",
    "elevater": "elevator", "elevetor": "elevator", "flodding": "flooding", "floding": "flooding",
    "alot": "a lot", "smokey": "smoky",
}
# Neither pattern opens with \b: re then skips to each possible first letter in C, and the
# start of the word is checked in Python on the few matches (``_respell``).
_CHAT_SPELLING = re.compile(r"(?:" + "|".join(_CHAT_SPELLINGS) + r")\b")
# Russian written as heard: an unstressed "о" typed "а", "е" typed "и" ("пажар в падвале",
# "с патолка тичет вада"), in the stems of the words alarms are told with.
_HEARD = re.compile(r"(?:пажар|падвал|патол(?=о?к)|тичет|тичот|вад(?=[ауы]\b|ой\b)|праводк)")
_HEARD_AS = {"пажар": "пожар", "падвал": "подвал", "патол": "потол", "тичет": "течет",
             "тичот": "течет", "вад": "вод", "праводк": "проводк"}

# Markup pasted from a web form ("<p>Здравствуйте!&nbsp;Прошу...</p>"): a block tag ends a line,
# any other tag goes, and entities become their characters. A tag starts with a letter, so
# "температура <18" stays as typed.
_BLOCK_TAG = re.compile(r"<(?:br|/?(?:p|div|li|ul|ol|tr|h[1-6]|blockquote))\b[^<>]*>",
                        re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);")


def plain(text: str) -> str:
    """Text as the resident meant it when a portal or a web form sent its HTML: "не&nbsp;чистили"
    must read as "не чистили" for negation and phrases to work. Plain text is returned as is."""
    if "<" in text and _TAG.search(text):
        text = _TAG.sub("", _BLOCK_TAG.sub("\n", text))
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    return text.replace("\xa0", " ") if "\xa0" in text else text


# Cap the work on pathological input (a pasted contract): the first part of a message carries
# what the resident wants; scanning megabytes would only break the throughput promise.
MAX_CHARS = 20_000


def _respell(m: re.Match[str], spellings: dict[str, str]) -> str:
    """A misspelling's fix where it starts a word (not "пажар" inside another word)."""
    start = m.start()
    if start and (m.string[start - 1].isalnum() or m.string[start - 1] == "_"):
        return m.group()
    return spellings[m.group()]


def normalise(text: str) -> str:
    """Lower-case, read Russian typed in Latin letters as Cyrillic, fold ё→е, spell out chat
    English ("thru", "pls") and expand "n't" so negation is one shared word "not"."""
    text = text[:MAX_CHARS].lower()
    if is_transliterated(text):
        text = to_cyrillic(text)
    text = text.replace("ё", "е")
    text = _CHAT_SPELLING.sub(lambda m: _respell(m, _CHAT_SPELLINGS), text)
    text = _HEARD.sub(lambda m: _respell(m, _HEARD_AS), text)
    text = _NT.sub(" not", text)
    text = _HARD_SIGN.sub("ъ", text)
    return _APOS.sub("", text)


_SENTENCE_END = re.compile(r"[.!?…]+(?=\s)|\n")
_LAST_WORD = re.compile(r"(\w+)$")
# Words a full stop follows without ending the sentence: "кв. 5", "ул. Ленина", "St. John".
_ABBREVIATIONS = frozenset({"кв", "ул", "д", "г", "пр", "пер", "просп", "эт", "тел", "стр",
                            "корп", "им", "т", "св", "st", "apt", "no", "mr", "mrs", "ms", "dr"})


def sentences(text: str) -> list[str]:
    """The sentences of a message as typed (for exceptions that hold only where they are said):
    split at a full stop, question or exclamation mark before a space, and at line ends, but
    not after an abbreviation of an address or a title."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.group() == ".":
            word = _LAST_WORD.search(text, start, m.start())
            if word is not None and word.group(1).lower() in _ABBREVIATIONS:
                continue
        if text[start:m.start()].strip():
            out.append(text[start:m.start()])
        start = m.end()
    if text[start:].strip():
        out.append(text[start:])
    return out


def split(norm: str) -> tuple[list[str], list[int]]:
    """The words of normalised text and the clause number of each.

    Words are as typed (look-alike letters not yet fixed: that is done once per word form by
    the caller's cache). "?" and "!" are kept as words at the end of their clause: a question
    mark is the strongest single cue that a resident asks rather than reports.
    """
    words: list[str] = []
    clauses: list[int] = []
    clause_no = 0
    for word, mark in _SCAN.findall(norm):
        if word:
            words.append(word)
            clauses.append(clause_no)
            continue
        if "?" in mark:
            words.append("?")
            clauses.append(clause_no)
        elif "!" in mark:
            words.append("!")
            clauses.append(clause_no)
        clause_no += 1
    return words, clauses


def fix_lookalikes(word: str) -> str:
    """Turn Latin look-alikes into Cyrillic inside a word that is mostly Cyrillic."""
    if _LAT.search(word) and _CYR.search(word):
        fixed = word.translate(_LOOKALIKES)
        if not _LAT.search(fixed):
            return fixed
    return word


class Normaliser:
    """Maps words to family keys with one backend, with a per-word cache.

    The cache matters for throughput: housing messages reuse a small vocabulary, so after warm-up
    nearly every word is a dictionary hit instead of a stemmer call.
    """

    def __init__(self, backend: Backend = "snowball") -> None:
        self.backend: Backend = backend
        self._cache: dict[str, str] = {}
        self._ru: Callable[[str], str]
        self._en: Callable[[str], str]
        # PyStemmer's own cache (on by default) is redundant with ours, and keeping it costs
        # more than stemming: a new word takes ~2 µs with it and ~0.4 µs without.
        if backend == "snowball":
            import Stemmer

            self._ru = Stemmer.Stemmer("russian", 0).stemWord
            self._en = Stemmer.Stemmer("english", 0).stemWord
        elif backend == "pymorphy3":
            import pymorphy3
            import Stemmer

            morph = pymorphy3.MorphAnalyzer()

            def lemma(word: str) -> str:
                return str(morph.parse(word)[0].normal_form).replace("ё", "е")

            self._ru = lemma
            # pymorphy3 is Russian-only; English keeps the Snowball stemmer.
            self._en = Stemmer.Stemmer("english", 0).stemWord
        else:  # pragma: no cover - guarded by the Literal type
            raise ValueError(f"unknown backend {backend!r}")

    def key(self, word: str) -> str:
        """Family key of one already-normalised word ("воды" → "вод", "leaking" → "leak")."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if _CYR.search(word):
            k = self._ru(word)
        elif _LAT.search(word):
            k = self._en(word)
        else:
            k = word
        if len(self._cache) < 200_000:
            self._cache[word] = k
        return k
