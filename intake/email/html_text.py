"""HTML mail to plain text for the case and the classifier.

Phones and webmail send HTML only. We need readable text with the line structure kept (addresses
and flat numbers are often one per line), entities decoded and the invisible parts (style, script,
head, Word's XML islands) dropped. Quote containers (Gmail's ``gmail_quote``, Thunderbird's
``blockquote type=cite``, mail.ru/Yandex blockquotes, Outlook's ``divRplyFwdMsg``) are marked so
the reply can be separated from the history without guessing from text alone. The stdlib parser
is linear and non-recursive, so a nesting bomb costs time proportional to its size, not a crash.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from itertools import islice

from intake.email.quotes import trailing_attribution

__all__ = ["QUOTE_MARK", "html_to_text", "is_html_markup", "unescape_references"]

#: Inserted where the first quote container starts; callers split on it and then remove it.
QUOTE_MARK = "\x00"
# Where a later top-level quote container opens, and where each one closes: the text between
# them is an answer written between the quotes (Thunderbird's inline replies).
_QUOTE_START = "\x02"
_QUOTE_END = "\x01"
_MARKS = re.compile("[\x00\x01\x02]")

_BLOCK = frozenset(
    {
        "p",
        "div",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "address",
        "dl",
        "dt",
        "dd",
        "center",
        "form",
        "fieldset",
        "tbody",
        "thead",
        "tfoot",
        "caption",
        "figure",
        "figcaption",
        "main",
        "nav",
        "aside",
        "body",
        "html",
    }
)
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "xml", "svg"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "base", "col", "area", "wbr"})
_QUOTE_IDS = frozenset({"divrplyfwdmsg", "appendonsend", "olk_src_body_section"})
# Outlook's reply header: it holds the header alone, the history is its sibling.
_OUTLOOK_CLASS = "ms-outlook-reply"
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", _OUTLOOK_CLASS)
_WS = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
_BLANKS = re.compile(r"\n{3,}")
_MAX_HTML = 2_000_000
# A character reference with its closing ";": a named one HTML knows, or a number
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,30});")


def unescape_references(text: str) -> str:
    """Plain text (a subject, a text/plain body) with HTML character references read:
    a site's form escapes what the resident typed for a web page (PHP's htmlspecialchars)
    and mails it as plain text, and staff read "течёт &quot;на кухне&quot; &amp; в
    ванной". Only complete references ("&quot;", "&#171;") are read, never one without its
    ";" ("?a=1&copy=2" in a link), and an unknown name stays as written."""
    if "&" not in text:
        return text
    return _REFERENCE.sub(lambda m: unescape(m.group(0)), text)
# Elements whose end tag HTML lets a writer leave out: hidden and never closed, they would
# hide the rest of the letter from the reader here, which a browser does not.
_OPTIONAL_END = frozenset({"p", "li", "td", "th", "tr", "dt", "dd", "option", "tbody", "thead",
                           "tfoot", "colgroup", "caption", "rt", "rp", "optgroup"})
_DISPLAY_NONE = re.compile(r"(?:^|;)\s*display\s*:\s*none\b", re.IGNORECASE)


def _hides(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether an element is never shown ("display:none", the ``hidden`` attribute): a site's
    form or a portal puts a preview line for mail lists there, which nobody reads as the
    letter."""
    return any(name == "hidden" or (name == "style" and _DISPLAY_NONE.search(value or ""))
               for name, value in attrs)


# Word's and Outlook's conditional sections ("<![if !supportLists]>", "<![endif]>"): the stdlib
# parser gives up on their unknown keywords and everything after them would be lost.
_MARKED = re.compile(r"<!\[(?!CDATA\[)[^\]>]{0,200}\]>")
# A "<" that opens no complete tag before the next "<": the stdlib parser rescans the rest of
# the document for each, so thousands of them ("<p <p <p …") take seconds to minutes.
_STRAY_LT = re.compile(r"<(?![A-Za-z/!?][^<>]*>)")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.quote_marked = False
        self.quote_bare = False
        # The open top-level quote container's tag and nesting depth. Outlook's reply header
        # (divRplyFwdMsg and the like) holds only the header: the history is its sibling, so
        # after one nothing written below a quote can be told from history.
        self.quote_tag: str | None = None
        self.quote_depth = 0
        self.open_ended = False
        self.link_href: str | None = None
        self.link_start = 0
        # An element the letter hides (a form's or portal's preview line) and its nesting.
        self.hidden_tag: str | None = None
        self.hidden_depth = 0

    # The output is a list of pieces; "\n" pieces are line breaks, collapsed at the end.
    def _newline(self) -> None:
        if self.out and self.out[-1] != "\n":
            self.out.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            # <body> ends the head even where </head> (optional in HTML) was left out
            self.skip_depth = 0
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if self.hidden_depth:
            self.hidden_depth += tag == self.hidden_tag
            return
        if tag not in _VOID and tag not in _OPTIONAL_END and _hides(attrs):
            self.hidden_tag, self.hidden_depth = tag, 1
            return
        if tag == "br":
            self.out.append("\n")
            return
        if tag in _BLOCK:
            self._newline()
        if tag == "pre":
            self.pre_depth += 1
        elif tag == "li":
            self.out.append("- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            self.link_href = dict(attrs).get("href")
            self.link_start = len(self.out)
        if self.quote_depth and tag == self.quote_tag:
            self.quote_depth += 1
        elif not self.quote_depth and self._is_quote(tag, attrs):
            self.quote_tag, self.quote_depth = tag, 1
            self.open_ended = self.open_ended or self._is_outlook_header(attrs)
            self._mark_quote(tag, attrs)

    def _mark_quote(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.quote_marked:
            self.quote_marked = True
            # a bare <blockquote> is also how editors indent; only an attribution line before
            # it ("… пишет:", "wrote:") makes it history (checked in html_to_text)
            named = dict(attrs)
            self.quote_bare = tag == "blockquote" and "cite" not in (named.get("type") or "") \
                and not named.get("class") and not named.get("style")
            mark = QUOTE_MARK
        else:
            mark = _QUOTE_START
        self._newline()
        self.out.append(mark)
        self.out.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth or self.hidden_depth:
            return
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if self.skip_depth:
                self.skip_depth -= 1
            return
        if self.skip_depth:
            return
        if self.hidden_depth:
            self.hidden_depth -= tag == self.hidden_tag
            return
        if tag in _BLOCK:
            self._newline()
        if self.quote_depth and tag == self.quote_tag:
            self.quote_depth -= 1
            if not self.quote_depth and not self.open_ended:
                self.out.append(_QUOTE_END)
        if tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
        elif tag == "a" and self.link_href is not None:
            href = self.link_href.strip()
            self.link_href = None
            if href.lower().startswith(("http://", "https://")):
                label = "".join(self.out[self.link_start :]).strip()
                if label and href.rstrip("/") != label.rstrip("/") and href not in label:
                    self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth or self.hidden_depth or not data:
            return
        if self.pre_depth:
            self.out.append(data.replace("\r\n", "\n").replace("\u00a0", " "))
            return
        text = _WS.sub(" ", data)
        if text == " " and (not self.out or self.out[-1] in ("\n", " ")):
            return
        self.out.append(text)

    @staticmethod
    def _is_outlook_header(attrs: list[tuple[str, str | None]]) -> bool:
        return any((name == "id" and (value or "").lower() in _QUOTE_IDS)
                   or (name == "class" and _OUTLOOK_CLASS in (value or ""))
                   for name, value in attrs)

    @staticmethod
    def _is_quote(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag == "blockquote":
            style = (dict(attrs).get("style") or "").replace(" ", "").lower()
            return "border:none" not in style or "cite" in (dict(attrs).get("type") or "")
        if tag not in ("div", "span"):
            return False
        for name, value in attrs:
            if not value:
                continue
            if name == "id" and value.lower() in _QUOTE_IDS:
                return True
            if name == "class" and any(c in value for c in _QUOTE_CLASSES):
                return True
        return False


_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html\b)", re.IGNORECASE)
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|div|table|tr|td|h[1-6]|ul|ol|li|hr|blockquote)\b[^<>]{0,500}>", re.IGNORECASE
)
_TAG = re.compile(r"<[A-Za-z/!][^<>]{0,500}>")


def is_html_markup(text: str) -> bool:
    """Whether a text/plain body is really HTML source: site forms and PHP ``mail()`` send
    their HTML template as text/plain. A document start says so; otherwise several block tags
    with few lines outside any tag (a resident's "<br>" in a sentence is no page)."""
    if _HTML_START.match(text):
        return True
    if sum(1 for _ in islice(_BLOCK_TAG.finditer(text), 3)) < 3:
        return False
    lines = [line for line in text.split("\n") if line.strip()]
    untagged = sum(1 for line in lines if not _TAG.search(line))
    return untagged * 2 <= len(lines)


_CLOSED_HIDDEN = re.compile(r"(?is)<(script|style)\b[^>]*>.*?</\1\s*>")
_ANY_TAG = re.compile(r"(?s)<[^<>]*>")


def _crude_text(html: str) -> str:
    """Text with every tag dropped, for HTML the parser could make nothing of."""
    text = _ANY_TAG.sub(" ", _CLOSED_HIDDEN.sub(" ", html))
    return _WS.sub(" ", unescape(text)).strip()


def html_to_text(html: str) -> tuple[str, int | None]:
    """Return the text of ``html`` and the offset where quoted history starts (None if unseen)."""
    if len(html) > _MAX_HTML:
        html = html[:_MAX_HTML]
    html = _MARKED.sub("", html)
    if html.count("<") > html.count(">") + 50:
        html = _STRAY_LT.sub("&lt;", html)
    if html.count("<!--") > html.count("-->") + 50:
        # comments that never close: the parser rescans the rest for each one
        html = html.replace("<!--", "&lt;!--")
    parser = _Extractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; anything left is kept as-is below
        pass
    raw = "".join(parser.out)
    lines = [line.strip() for line in raw.split("\n")]
    text = _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")
    if not _MARKS.sub("", text).strip():
        # an unclosed <style> or <title> hides the rest from the parser (and from a browser);
        # the resident's words matter more than the page's looks
        return _crude_text(html), None
    at = text.find(QUOTE_MARK)
    if at < 0:
        return _MARKS.sub("", text), None
    outside = _outside_quotes(text)
    before, later = outside[0].rstrip(), [t.strip("\n") for t in outside[1:] if t.strip()]
    if parser.quote_bare and trailing_attribution(before) is None \
            and not (before.endswith(":") and not later):
        # the writer's own quotation (a contract clause, a law) inside their letter: only an
        # attribution, or a ":" line over a quote that ends the letter, makes it history
        return _BLANKS.sub("\n\n", _MARKS.sub("", text)).strip("\n"), None
    if later:
        # written under or between the quotes (Thunderbird's default, inline answers): the
        # writer's words are outside them, the quotes are the office's own letter, and a line
        # ending in ":" just above the first is what introduced it ("… wrote:")
        kept = [_without_intro(before, bare=parser.quote_bare)]
        kept += [_without_intro(t, bare=True) for t in later]
        return "\n\n".join(t for t in kept if t), None
    after = _MARKS.sub("", text[at + 1 :]).lstrip("\n")
    if not before:
        return after, None
    return f"{before}\n{after}", len(before) + 1


def _outside_quotes(text: str) -> list[str]:
    """The text before the first quote container, then after each one that closes."""
    outside = [""]
    inside = False
    for piece in re.split("([\x00\x01\x02])", text):
        if piece in (QUOTE_MARK, _QUOTE_START):
            inside = True
        elif piece == _QUOTE_END:
            inside = False
            outside.append("")
        elif not inside:
            outside[-1] += piece
    return outside


def _without_intro(text: str, *, bare: bool) -> str:
    """``text`` without the attribution that ends it. Above a quote container a mail client
    made, any line ending in ":" is taken for one; above a bare <blockquote>, only a reply
    attribution ("11.03.2025 12:15, УК пишет:") is."""
    text = text.rstrip()
    start = trailing_attribution(text)
    if start is None and not bare and text.endswith(":"):
        start = text.rfind("\n") + 1
    return text if start is None else text[:start].rstrip()
