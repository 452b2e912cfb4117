"""Resident- and staff-facing text, rendered from ``templates/`` (Russian default, English).

Code never contains resident-facing wording: it picks a template and passes facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.runtime import Context

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("ru", "en")
# Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko ... and their presentation forms)
# and the invisible controls that set a text's direction.
_BIDI = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\u200e\u200f\u061c"
                   "\u202a-\u202e\u2066-\u2069]")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def isolate(value: object) -> str:
    """A name someone chose, kept from turning the words around it: a Telegram name in
    Arabic or Hebrew, or one with a right-to-left override in it, reordered the rest of its
    line, so staff read the resident's phone or flat number backwards ("кв. 21" for 12). A
    name with any such character is set in Unicode's first-strong isolate (U+2068 … U+2069),
    which confines its direction to itself; any other name is left as it is."""
    text = str(value)
    return f"\u2068{text}\u2069" if _BIDI.search(text) else text


class Renderer:
    def __init__(self, timezone: str = "Europe/Moscow", root: Path = TEMPLATES) -> None:
        self.tz = ZoneInfo(timezone)
        self.env = Environment(
            loader=FileSystemLoader(str(root)),
            autoescape=False,  # each html block opts in with {% autoescape true %}
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # Templates are read once: checking every file's mtime on each message cost more
            # than rendering a short acknowledgement. Edited templates take effect on restart.
            auto_reload=False,
        )
        self._prepared: dict[tuple[str, str], Prepared] = {}
        self.labels: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(
            (root / "labels.yaml").read_text(encoding="utf-8")
        )
        self.env.filters["isolate"] = isolate
        self.env.filters["when"] = pass_context(
            lambda ctx, value: self.when(value, ctx.get("lang")))

    def when(self, value: datetime | None, lang: str | None = None) -> str:
        """A moment in the office's time zone, as its reader writes dates: "15.01.2026 16:00"
        in Russian, "15 Jan 2026, 16:00" in English (where 01.03 reads as the third of
        January to an American)."""
        if value is None:
            return "—"
        local = value.astimezone(self.tz)  # an f-string: strftime costs several times more
        if lang == "en":
            return (f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, "
                    f"{local.hour:02d}:{local.minute:02d}")
        return f"{local.day:02d}.{local.month:02d}.{local.year} {local.hour:02d}:{local.minute:02d}"

    def language(self, lang: str | None) -> str:
        return lang if lang in LANGUAGES else "ru"

    def label(self, lang: str | None, axis: str, value: str | None) -> str:
        names = self.labels[self.language(lang)].get(axis, {})
        return names.get(value or "", value or "—")

    def render(self, name: str, lang: str | None, *, html: bool = True,
               **context: Any) -> Rendered:
        """Render ``templates/<lang>/<name>.j2``: its ``subject``, ``text`` and ``html`` blocks
        (``html=False``: not the last, for a channel that sends plain text only; it is the
        costliest of the three).

        One file per message keeps the three parts of a message side by side for translators;
        the ``html`` block autoescapes on its own.
        """
        return self.prepare(name, lang).render(html=html, **context)

    def prepare(self, name: str, lang: str | None) -> Prepared:
        """The template ready to render many times, kept per template and language: looking
        a template up and building its globals and helpers cost nearly as much as rendering
        it, and every acknowledgement, update and escalation ping would pay that again."""
        lang = self.language(lang)
        prepared = self._prepared.get((name, lang))
        if prepared is None:
            template = self.env.get_template(f"{lang}/{name}.j2")
            prepared = self._prepared[name, lang] = Prepared(template, {
                **template.globals,
                "label": lambda axis, value: self.label(lang, axis, value), "lang": lang})
        return prepared


class Prepared:
    """One template in one language, with the globals and helpers every rendering shares."""

    def __init__(self, template: Template, shared: dict[str, Any]) -> None:
        self._template = template
        self._shared = shared
        self._blocks = tuple(template.blocks.get(part) for part in ("subject", "text", "html"))

    def render(self, *, html: bool = True, **context: Any) -> Rendered:
        # shared=True hands the dict to Jinja as is: the globals are in it already, and a
        # caller's own values (even a ``label`` or ``lang``) win over them and the helpers.
        ctx = self._template.new_context({**self._shared, **context}, shared=True)

        def part(block: Callable[[Context], Iterator[str]] | None) -> str:
            return "".join(block(ctx)).strip() if block else ""

        subject, text, markup = self._blocks
        return Rendered(subject=" ".join(part(subject).split()), text=part(text),
                        html=(part(markup) if html else "") or None)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None
