"""The few words the mail parser adds to a case's text, from ``templates/<lang>/_email_text.j2``.

A letter with nothing to read (only pictures, only a calendar invitation, one fragment of a
split message) would otherwise open a case with an empty text, and staff would not know
why. What stands in for the text is wording, and wording lives in the templates (Russian by
default, English too), not in code. The templates are read once, on first use, and kept like
any other constant: parsing stays free of I/O after that.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment

from workflow.render import LANGUAGES, Renderer

__all__ = ["email_text"]

_FILE = "_email_text.j2"
_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The renderer's own template environment (the same loader and settings every message
    uses), built once on first use."""
    return Renderer().env


def email_text(block: str, lang: str | None, **context: Any) -> str:
    """Render one named block in ``lang`` (Russian for anything else); a missing block is a
    bug and raises, rather than leaving a case without its text."""
    language = lang if lang in LANGUAGES else LANGUAGES[0]
    template = _environment().get_template(f"{language}/{_FILE}")
    render = template.blocks.get(block)
    if render is None:
        raise KeyError(f"{language}/{_FILE} has no block {block!r}")
    text = "".join(render(template.new_context(context)))
    return _BLANKS.sub("\n\n", text).strip()
