"""Shared bits for the benchmarks: run from the repo root with the project's venv."""

from __future__ import annotations

import random

PROBLEMS = [
    "течёт кран на кухне, прошу прислать сантехника",
    "опять не работает лифт во втором подъезде, третий раз за неделю",
    "когда дадут горячую воду? весь дом без воды",
    "в подъезде пахнет газом!",
    "соседи сверху шумят по ночам, музыка до трёх утра",
    "не горит свет на лестничной площадке пятого этажа",
    "холодные батареи в квартире, на улице минус двадцать",
    "прошу пересчитать плату за отопление за октябрь",
    "во дворе не убирают снег, невозможно пройти",
    "the radiator in my flat is leaking again, nobody came last time",
]


def synthetic_texts(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    return [f"{rnd.choice(PROBLEMS)}. Кв. {rnd.randint(1, 300)}, дом {rnd.randint(1, 40)}."
            for _ in range(n)]


def ratio_line(name: str, ours: float, base: float, unit: str = "msg/s") -> str:
    return f"{name}: {ours:,.0f} {unit} vs baseline {base:,.0f} {unit} = {ours / base:.0%}"
