"""The pictures an HTML letter shows: ``<img>`` sources and images written into the HTML.

A phone or webmail letter can be nothing but pictures: inline ``cid:`` images (the photos are
the related parts), pictures on the web, or pictures pasted into the editor and sent as
``data:`` addresses inside the HTML itself. Its converted text is empty, so the parser needs to
know that the letter showed pictures (to say so in the case) and to list the pasted ones as the
files they are: left inside the HTML, a resident's photo of a leak was lost to staff.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

__all__ = ["MAX_IMAGES", "InlineImage", "image_sources", "inline_image"]

_IMG = re.compile(
    r"<img\b[^>]{0,4000}?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE
)
_DATA = re.compile(r"data:(image/[\w.+-]{1,60})((?:;[^,;]{0,100}){0,5}),(.*)", re.IGNORECASE | re.S)
# More pictures than a letter of photos has are a newsletter's layout: not worth reading.
MAX_IMAGES = 100
# Smaller than a real picture: spacers, tracking pixels and bullets of a signature.
_MIN_IMAGE_BYTES = 200


@dataclass(frozen=True)
class InlineImage:
    content_type: str
    data: bytes


def image_sources(html: str) -> list[str]:
    """The ``src`` of each ``<img>`` (at most a hundred), in order."""
    out = []
    for m in _IMG.finditer(html):
        out.append(next(g for g in m.groups() if g is not None).strip())
        if len(out) >= MAX_IMAGES:
            break
    return out


def inline_image(src: str) -> InlineImage | None:
    """The picture a ``data:`` address holds, or None (another address, damaged code, a
    picture too small to be anyone's photo)."""
    m = _DATA.match(src)
    if m is None:
        return None
    ctype, params, payload = m.group(1).lower(), m.group(2).lower(), m.group(3)
    try:
        if ";base64" in params:
            code = re.sub(r"[^A-Za-z0-9+/]", "", payload)
            code = code[: len(code) - 1] if len(code) % 4 == 1 else code
            data = binascii.a2b_base64(code + "=" * (-len(code) % 4))
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None
    return InlineImage(ctype, data) if len(data) >= _MIN_IMAGE_BYTES else None
