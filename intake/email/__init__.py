"""The email channel's parsing half: raw mail bytes to :class:`~intake.message.InboundMessage`.

Pure functions only (no I/O, no clock): IMAP polling and SMTP sending live in their own modules.
"""

from intake.email.charsets import decode_bytes, decode_header_value, looks_like_mojibake
from intake.email.html_text import html_to_text
from intake.email.parse import MailLimits, ParsedMail, parse_mail, synthetic_message_id
from intake.email.quotes import strip_quotes, strip_signature

__all__ = [
    "MailLimits",
    "ParsedMail",
    "decode_bytes",
    "decode_header_value",
    "html_to_text",
    "looks_like_mojibake",
    "parse_mail",
    "strip_quotes",
    "strip_signature",
    "synthetic_message_id",
]
