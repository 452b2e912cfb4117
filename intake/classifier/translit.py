"""Russian typed in Latin letters ("lift zastryal mezhdu 8 i 9 etazhom"), read as Russian.

Residents without a Cyrillic keyboard (a phone bought abroad, a work laptop) write Russian this
way, and an emergency told so ("s potolka techet") must not be filed as `other` because the
rules and the model know Russian words in Cyrillic only. A text counts as transliterated when it
has no Cyrillic at all and its common Russian words clearly outnumber common English ones; an
English message is never touched.
"""

from __future__ import annotations

import re

# Frequent Russian words as they are usually typed in Latin letters. Words that are also
# English ("i", "a", "on", "my", "no", "u") are left out of both lists.
_RUSSIAN = frozenset({
    "batarei", "batareya", "chto", "den", "dobriy", "dobryi", "dobryj", "doma", "esche",
    "eshe", "est", "etazh", "etazha", "etazhe", "etazhom", "eto", "gaz", "gde", "holodno",
    "ih", "ili", "k", "kak", "kogda", "kv", "kvartira", "kvartire", "kvartiru", "kvartiry",
    "lifte", "mne", "na", "nam", "nas", "ne", "net", "nichego", "ochen", "ona", "oni",
    "pahnet", "pochemu", "podezd", "podezda", "podezde", "podjezd", "pomogite", "pozhaluista",
    "pozhalujsta", "pozhalusta", "pozhaluysta", "prishlite", "s", "sdelaite", "sdelajte",
    "segodnya", "seichas", "sejchas", "seychas", "snizu", "soseda", "sosedej", "sosedi",
    "spasibo", "srochno", "sverhu", "svet", "tam", "teche", "techet", "tozhe", "tut", "uzhe",
    "v", "vchera", "vecher", "voda", "vodoi", "vody", "vse", "vsyo", "vy", "ya", "zdrastvuite",
    "zdrastvuyte", "zdravstvuite", "zdravstvujte", "zdravstvuyte", "zhivu",
    # short function words and the housing words a short report is made of ("iz rozetki iskry
    # i dym" has none of the words above)
    "iz", "po", "za", "ot", "dlya", "bez", "pri", "cherez", "mozhno", "nuzhno", "nado",
    "rabotaet", "pochinite", "mastera", "santehnik", "santehnika", "elektrik", "elektrika",
    "rozetka", "rozetki", "rozetke", "iskrit", "iskry", "dym", "zapah", "potolka", "potolok",
    "truba", "truby", "trubu", "kran", "vodu", "goryachei", "goryachey", "goryachuyu",
    "goryachaya", "holodnoi", "holodnoy", "holodnaya", "otoplenie", "otopleniya",
    "musor", "dvore", "plita", "plitu", "gazovaya", "zalivaet", "zatopilo", "kapaet",
    "slomalsya", "slomalas", "otklyuchat", "otklyuchili", "vklyuchat", "letom", "zimoy",
    "zastryal", "zastryala", "zastryali", "stoyak", "kanalizaciya", "zasor",
    "dver", "dveri", "deti", "rebenok", "vniz", "vverh", "edet", "stoit", "strashno",
    "opyat", "snova", "zdes", "sovsem", "skoree", "bystree",
})
_ENGLISH = frozenset({
    "am", "an", "and", "are", "at", "be", "been", "building", "by", "can", "ceiling", "could",
    "flat", "floor", "for", "from", "has", "have", "how", "in", "is", "it", "not", "of", "or",
    "our", "please", "should", "that", "the", "there", "this", "to", "was", "water", "we",
    "were", "what", "when", "where", "why", "will", "with", "would", "you", "your",
})
_WORD = re.compile(r"[a-z']+")
_CYRILLIC = re.compile(r"[а-яё]")

# Longest first: "tsya" before "ts", "shch" before "sh" before "s"/"h".
_PAIRS = [
    ("tsya", "тся"), ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"),
    ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("yo", "ё"),
    ("jo", "ё"), ("yj", "ый"), ("yi", "ый"), ("x", "кс"),
]
_LETTERS = dict(zip("abvgdezijklmnoprstufhcywq'", "абвгдезийклмнопрстуфхцыввь", strict=True))
_PAIR = re.compile("|".join(re.escape(a) for a, _ in _PAIRS) + "|[a-z']")
_PAIR_MAP = dict(_PAIRS)
_VOWELS = frozenset("аеёиоуыэюя")
# Word beginnings that the letter rules get wrong: "э" and "ъ" are rarely typed as such.
_PREFIXES = [("podezd", "подъезд"), ("podjezd", "подъезд"), ("pod'ezd", "подъезд"),
             ("obyavl", "объявл"), ("eto", "это"), ("etazh", "этаж"), ("elektr", "электр"),
             ("etot", "этот"), ("eti", "эти")]


def is_transliterated(text: str) -> bool:
    """Lower-cased ``text`` is Russian written in Latin letters."""
    if _CYRILLIC.search(text):
        return False
    russian = english = 0
    for word in _WORD.findall(text):
        # a reflexive verb's ending ("zakryvayutsya") is Russian whatever the word
        if word in _RUSSIAN or word.endswith("tsya"):
            russian += 1
        elif word in _ENGLISH:
            english += 1
    return russian >= 2 and russian > 2 * english


def _word(match: re.Match[str]) -> str:
    word = match.group()
    for latin, cyrillic in _PREFIXES:
        if word.startswith(latin):
            return cyrillic + _letters(word[len(latin):])
    return _letters(word)


def _letters(word: str) -> str:
    out: list[str] = []
    for piece in _PAIR.findall(word):
        if piece == "y" and out and out[-1][-1] in _VOWELS:
            out.append("й")  # "zdravstvuyte", "moy": after a vowel, y is й
        else:
            out.append(_PAIR_MAP.get(piece) or _LETTERS[piece])
    return "".join(out)


def to_cyrillic(text: str) -> str:
    """Lower-cased transliterated ``text`` in Cyrillic letters (digits and punctuation kept)."""
    return _WORD.sub(_word, text)
