"""Russian typed in Latin letters is read as Russian; English is never touched."""

from __future__ import annotations

import pytest

from intake.classifier.translit import is_transliterated, to_cyrillic


@pytest.mark.parametrize(("latin", "cyrillic"), [
    ("lift zastryal mezhdu 8 i 9 etazhom", "лифт застрял между 8 и 9 этажом"),
    ("zdravstvuyte, u nas batarei holodnye", "здравствуйте, у нас батареи холодные"),
    ("v 4 podezde pahnet gazom", "в 4 подъезде пахнет газом"),
    ("shchitok v koridore shipit", "щиток в коридоре шипит"),
    ("dveri ne zakryvayutsya", "двери не закрываются"),
])
def test_conversion(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize("text", [
    "zdravstvuite, v kv 23 s utra net holodnoi vody",
    "lift zastryal mezhdu 8 i 9 etazhom, v nem babushka, dveri ne otkryvayutsya",
    "skazhite pozhaluista, do kakogo chasa mozhno sverlit v subbotu?",
    # short reports made of housing words alone
    "iz rozetki iskry i dym",
    "kogda otklyuchat goryachuyu vodu letom?",
    # a reflexive verb's ending is Russian, whatever the word
    "lift edet vniz a dveri ne zakryvayutsya",
])
def test_russian_in_latin_letters_is_recognised(text: str) -> None:
    assert is_transliterated(text)


@pytest.mark.parametrize("text", [
    "the lift is stuck between floors and my mum is inside",
    "water is coming through the ceiling in flat 5, please send someone",
    "lift broken again",
    "в лифте застрял ребёнок, lift stuck",
    "kv 5",
    "Do you have a plumber free? The kran in my kitchen drips",
    "what do I do if I smell gas",
])
def test_english_mixed_and_too_short_texts_stay_as_they_are(text: str) -> None:
    assert not is_transliterated(text)
