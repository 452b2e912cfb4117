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

__all__ = ["MAX_IMAGES", "InlineImage", "image_sources", "inline_image", "small_pictures"]

_IMG = re.compile(
    r"<img\b[^>]{0,4000}?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE
)
_DATA = re.compile(r"data:(image/[\w.+-]{1,60})((?:;[^,;]{0,100}){0,5}),(.*)", re.IGNORECASE | re.S)
# More pictures than a letter of photos has are a newsletter's layout: not worth reading.
MAX_IMAGES = 100
# Smaller than a real picture: spacers, tracking pixels and bullets of a signature.
_MIN_IMAGE_BYTES = 200
_IMG_TAG = re.compile(r"<img\b[^>]{0,4000}>", re.IGNORECASE)
_ATTR = re.compile(r"""\b(src|width|height|style)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                   re.IGNORECASE)
_STYLE_PX = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d{1,5})(?:\.\d+)?px", re.IGNORECASE)
# What a signature's logo or an icon is shown at (a 151x48 logo, 32x32 icons): nobody shows a
# photo of a leak this small.
_ICON_AREA = 200 * 200
_MAX_SCAN = 2_000_000


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


def _shown_size(attrs: dict[str, str]) -> tuple[int, int] | None:
    """The width and height an ``<img>`` is shown at in pixels, when it says both."""
    size = {k: v for k, v in attrs.items() if k in ("width", "height") and v.isdigit()}
    for m in _STYLE_PX.finditer(attrs.get("style", "")):
        size.setdefault(m.group(1).lower(), m.group(2))
    if "width" not in size or "height" not in size:
        return None
    return int(size["width"]), int(size["height"])


def small_pictures(html: str) -> frozenset[str]:
    """The Content-IDs (lower case, no brackets) of the pictures an HTML letter shows at a
    logo's or an icon's size: an Outlook signature's company logo and social icons travel as
    files of every letter ("image001.png"), and listed, a "Спасибо" from work counted as a
    letter with a photo."""
    out = set()
    for tag in _IMG_TAG.findall(html[:_MAX_SCAN]):
        attrs = {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None).strip()
                 for m in _ATTR.finditer(tag)}
        src = attrs.get("src", "")
        size = _shown_size(attrs)
        if src[:4].lower() == "cid:" and size is not None and size[0] * size[1] <= _ICON_AREA:
            out.add(src[4:].strip("<> ").lower())
    return frozenset(out)
