"""The bot's own wording, rendered from ``templates/<lang>/bot_*.j2``.

The bot has many short messages and button labels; one file per audience keeps a translator's
view of a dialogue in one place, so each message is a named block rather than a file of its own.
Workflow messages (acks, stage updates) still come rendered through the outbox.
"""

from __future__ import annotations

from typing import Any

from workflow.render import Renderer

RESIDENT = "bot_resident"
STAFF = "bot_staff"
BUTTONS = "bot_buttons"


class BotTexts:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def language(self, lang: str | None) -> str:
        return self.renderer.language(lang)

    def render(self, lang: str | None, file: str, block: str, **context: Any) -> str:
        """Render one named block; a missing block is a bug, so it raises instead of
        sending an empty message."""
        language = self.language(lang)
        context.setdefault("label", lambda axis, value: self.renderer.label(language, axis, value))
        context.setdefault("lang", language)
        template = self.renderer.env.get_template(f"{language}/{file}.j2")
        fn = template.blocks.get(block)
        if fn is None:
            raise KeyError(f"{language}/{file}.j2 has no block {block!r}")
        ctx = template.new_context(context)
        return "".join(fn(ctx)).strip()

    def resident(self, lang: str | None, block: str, **context: Any) -> str:
        return self.render(lang, RESIDENT, block, **context)

    def staff(self, lang: str | None, block: str, **context: Any) -> str:
        return self.render(lang, STAFF, block, **context)

    def button(self, lang: str | None, block: str, **context: Any) -> str:
        return self.render(lang, BUTTONS, block, **context)

    def label(self, lang: str | None, axis: str, value: str | None) -> str:
        return self.renderer.label(lang, axis, value)
