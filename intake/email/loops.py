"""Recognising mail that must never be answered: bounces, auto-replies, lists and our own mail.

Answering any of these starts a mail loop or spams a list, so the signals are generous, but each
needs more than a resident could plausibly produce by accident (an ordinary subject starting with
"В отпуске …" is not an out-of-office notice unless it looks like one).

Precedence when several signals meet: BOUNCE > OWN > AUTOREPLY > LIST. A bounce carries a
delivery failure the workflow must act on even if it is also auto-submitted; our own mail coming
back must never open a case; an auto-reply sent through a list is still an auto-reply.

ARF feedback reports (``multipart/report; report-type=feedback-report``, abuse complaints from
mailbox providers) are classified as BOUNCE: like a hard bounce they are produced by a mail system
about a message *we* sent, they return that message (so the case can be found), and the right
reaction is the same - stop mailing that address and let staff reach the resident another way.
Read receipts (``disposition-notification``) and other reports are AUTOREPLY: nothing to act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from intake.message import Automated

__all__ = ["DEFAULT_AUTHORITY_DOMAINS", "LoopSignals", "authority_notice", "detect_automated",
           "is_authority", "is_own", "no_auto_reply",
           "office_scan", "own_list", "own_site_form", "relayed_for"]

_BOUNCE_LOCALS = frozenset(
    {"mailer-daemon", "postmaster", "post_master", "mail-daemon", "maildaemon"}
)
# Senders no person writes from: a provider's notices come from these.
_ROBOT_LOCAL = re.compile(r"(no|do[-_.]?not)[-_.]?reply|mailer|mail[-_.]?daemon|postmaster|"
                          r"bounces?\b|notif", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(ed|able)\b|delivery status notification|delivery (has )?failed|"
    r"delivery failure|mail delivery (failed|failure|system)|failure notice|returned mail\b|"
    r"mail system error|non[- ]?deliver|delivery notification|message (not delivered|delivery "
    r"failed|could not be delivered)|could not send message|warning: could not send|"
    r"mail could not be delivered|returned to sender|недоставленное сообщение|"
    r"ваше сообщение не доставлено|сообщение не доставлено|не удалось доставить|"
    r"недоставляемое|не доставлено\s*:|"
    r"уведомление о (не)?доставке|unzustellbar|nicht zustellbar|"
    # Hotmail/Outlook.com JMRP complaint: a feedback report without the ARF structure.
    r"complaint about message from)",
    re.IGNORECASE,
)
# The notice's own words as a label ("Автоответ: …", "Out of Office - back Monday"), not a
# resident's sentence that starts with them ("Автоответчик диспетчерской не работает",
# "Out of office hours the lift stops").
# A bare "Auto" is a label only as "AUTO:" or "[Auto]": "Auto-payment charged twice" and
# "Auto (car) on the lawn" are residents' subjects.
_OOF_SUBJECT = re.compile(
    r"^\s*\[?\s*((out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|"
    r"auto[- ]?response|autoresponder|автоответ|автоматический ответ|"
    r"abwesenheitsnotiz|réponse automatique|respuesta automática)"
    r"\s*(:|\]|\)|$|[-–—(]|(auto[- ]?)?reply\b|message\b|notice\b|notification\b|until\b|till\b|"
    r"back\b|returning\b|re\b)"
    r"|auto\s*(:|\]|$)"
    # Rambler's and many a Russian helpdesk's label; "Автоответчик диспетчерской не работает"
    # is a resident's sentence, so only as a label
    r"|автоответчик\s*(:|\]|\)))",
    re.IGNORECASE,
)
# Phrases a resident could also start a subject with ("В отпуске до 20 января, проверьте
# квартиру"): only as the whole subject or "…: …", and only beside a body that says when the
# writer is back or whom to ask meanwhile (_OOF_BODY).
_OOF_WEAK = re.compile(
    r"^\s*(нет на месте|в отпуске|отсутствую|вне офиса|я в отпуске|away|on vacation|"
    r"on leave|отпуск|в командировке|командировка|на больничном|vacation|holiday|"
    r"on holiday|"
    # as a person says it of themselves, and as a notice names itself
    r"(?:я\s+)?нахожусь\s+(?:в\s+отпуске|в\s+командировке|на\s+больничном|вне\s+офиса)|"
    r"я\s+(?:в\s+командировке|на\s+больничном|вне\s+офиса)|меня\s+нет\s+на\s+месте|"
    r"(?:отсутствие|отсутствую)\s+(?:на\s+рабочем\s+месте|в\s+офисе)|"
    r"уведомление\s+об\s+отсутствии|"
    r"(?:i\s+am|i'm|i\s+will\s+be)\s+(?:currently\s+)?(?:out\s+of\s+(?:the\s+)?office|"
    r"on\s+(?:vacation|leave|holiday)|away))"
    r"(\s*(:|$|\(|-\s|до\s+\d|по\s+\d|с\s+\d|until\b|till\b|from\s+\d))",
    re.IGNORECASE,
)
# A notice tells when its writer is back; a resident away from home who writes "В отпуске до
# 20 января, вернусь …" names the flat to check.
_FLAT = re.compile(r"(\bкв\.?\s*\d|\bквартир|\bflat\s+\d|\bapartment\s+\d|\bapt\.?\s*\d)",
                   re.IGNORECASE)
_OOF_BODY = re.compile(
    r"(вернусь|выйду на работу|буду на месте|буду в офисе|по (всем )?срочным вопросам|"
    r"в мо[её] отсутствие|ограниченн\w* доступ|i will be back|i'll be back|i will return|"
    r"back in the office|back in office|return(ing)? on|in my absence|for urgent matters|"
    r"limited access|away from (the|my) (office|desk))",
    re.IGNORECASE,
)
# "Я в отпуске до 20 декабря", "Out of the office until 12/20": away, and till when. Beside a
# notice's label of a subject ("Отпуск") this is the whole of many a notice.
_AWAY_UNTIL = re.compile(
    r"(?:в\s+отпуске|в\s+командировке|на\s+больничном|отсутствую|вне\s+офиса|"
    r"out\s+of\s+(?:the\s+)?office|on\s+(?:vacation|leave|holiday)|away)"
    r"[^.!?\n]{0,20}?\s(?:до|по|until|till|through)\s+\d",
    re.IGNORECASE,
)
# An answer to our mail whose own words are a notice, from a mailbox that marks it with no
# header (an Outlook rule "reply using a template", a home-made responder): the notice says it
# is automatic, or says its writer is away and what becomes of their mail meanwhile. "Я в
# отпуске до 25.01, вернусь — позвоню" answering our question is the resident's, and stays.
_SAYS_AUTOMATIC = re.compile(
    # "Это автоматический ответ." (a person asks: "Это автоматический ответ? Где мастер?")
    r"\bэто\s+автоматическ\w+\s+(?:ответ|сообщение|уведомление|письмо)\b(?![^.!\n]*\?)"
    r"|\b(?:письмо|сообщение)\s+является\s+автоматическ\w+"
    r"|\b(?:письмо|сообщение|ответ)\s+(?:было\s+)?(?:создан|сформирован|отправлен|сгенерирован)"
    r"\w*\s+автоматически\b"
    r"|\bотвечать\s+на\s+(?:него|это|данное)(?:\s+(?:письмо|сообщение))?\s+не\s+"
    r"(?:нужно|требуется|надо|следует)\b"
    r"|\bне\s+отвечайте\s+на\s+(?:это|данное)\s+(?:письмо|сообщение)\b"
    r"|\bthis\s+is\s+an?\s+(?:automatic|automated|auto-generated)\s+"
    r"(?:reply|response|message|notification)\b(?![^.!\n]*\?)"
    # a challenge-response filter holding our letter until a person proves to be one
    r"|\b(?:your|the)\s+(?:original\s+)?(?:message|e-?mail)\s+(?:is|has\s+been|was)\s+held\b"
    r"|\bcomplete\s+the\s+verification\s+process\b"
    r"|\bваше\s+(?:письмо|сообщение)\s+(?:задержано|будет\s+доставлено\s+после)"
    r"|\bподтвердите,?\s+что\s+вы\s+(?:не\s+робот|человек)\b",
    re.IGNORECASE)
_AWAY = re.compile(
    r"\b(?:я\s+)?(?:нахожусь\s+)?(?:в\s+отпуске|в\s+командировке|на\s+больничном|вне\s+офиса|"
    r"отсутствую)\b|\bout\s+of\s+(?:the\s+)?office\b|\bon\s+(?:vacation|leave|holiday)\b"
    r"|\b(?:меня\s+)?не\s+будет\s+(?:в\s+офисе|на\s+рабочем\s+месте)\b",
    re.IGNORECASE)
# What only a notice says about the writer's mailbox ("с ограниченным доступом к почте", "ваше
# письмо будет прочитано после возвращения", "письма не читаю") or whom to write to instead
# ("по срочным вопросам обращайтесь к Петрову"); a person's "в моё отсутствие дома жена" or
# "выйду на работу 25-го, тогда и приходите" answers our question.
_OFFICE_NOTICE = re.compile(
    r"доступ\w*\s+к\s+(?:электронной\s+)?почте"
    r"|(?:письмо|сообщение)\s+(?:будет\s+)?(?:прочитано|рассмотрено|обработано)\s+"
    r"(?:после|по)\s+(?:моего\s+)?(?:возвращени|выход)"
    r"|отвечу\s+(?:на\s+(?:ваше\s+)?письмо\s+)?(?:после|по)\s+(?:моего\s+)?"
    r"(?:возвращени|выход)"
    # the mail goes on to colleagues meanwhile ("Ваше письмо будет передано коллегам")
    r"|(?:письмо|сообщение)\s+(?:будет\s+)?(?:передано|перенаправлено|переадресовано|"
    r"переслано)\s+(?:моим\s+)?(?:коллег|сотрудник|заместител|ответственн|помощник)"
    # away from a workplace: no resident tells the office about one ("отсутствую на рабочем
    # месте", "меня не будет в офисе", "вне офиса" with whom to ask meanwhile)
    r"|\bна\s+рабочем\s+месте\b"
    r"|(?:в\s+офисе|вне\s+офиса)\b[^!?\n]{0,80}?\b(?:обращайтесь|обратитесь|пишите)\b"
    r"|(?:письма|почту)\s+не\s+(?:читаю|проверяю|просматриваю)"
    # sends the writer elsewhere meanwhile: a resident away gives their own number
    r"|по\s+(?:всем\s+)?срочным\s+вопросам\s+(?:обращайтесь|просьба\s+обращаться|"
    r"прошу\s+обращаться|можно\s+обратиться)\s+к\b"
    r"|for\s+(?:any\s+)?urgent\s+(?:matters|issues|questions|requests|enquiries|inquiries),?"
    r"\s+(?:please\s+)?contact\b"
    r"|access\s+to\s+(?:my\s+)?e-?mail"
    r"|(?:respond|reply|get\s+back\s+to\s+you)\s+(?:to\s+your\s+(?:e-?mail|message)\s+)?"
    r"(?:upon|after|when\s+I)\s+(?:my\s+)?return",
    re.IGNORECASE)
# A helpdesk's receipt for a letter, as only an organisation words it ("Ваше письмо получено и
# будет рассмотрено в ближайшее время"): a resident's mail program answering our letter with
# it (their employer's mailbox) is a program's.
_RECEIVED_NOTICE = re.compile(
    r"\b(?:ваше\s+)?(?:письмо|обращение|сообщение)\s+(?:было\s+)?(?:получено|принято|"
    r"зарегистрировано)\s+(?:и\s+)?(?:будет\s+)?(?:рассмотрено|обработано|передано)\b"
    r"|\b(?:we\s+have\s+)?received\s+your\s+(?:e-?mail|message|request)\s+and\s+will\s+"
    r"(?:respond|reply|get\s+back)", re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?(re|aw|sv|отв|ответ)\s*(?:\[\d+\]\s*)?:",
                            re.IGNORECASE)
# A notice is short; a letter that goes on is a person's.
_NOTICE_CHARS = 600
# A read receipt sent as an ordinary letter (Lotus Notes, webmail; others send a
# multipart/report): its label over our subject, and a receipt's words in the body.
_RECEIPT_SUBJECT = re.compile(
    r"^\s*(прочитано|прочтено|не прочитано|read|not read|return receipt|read receipt|"
    r"уведомление о прочтении|уведомление о получении|lu|gelesen|ungelesen)\s*(:|$)",
    re.IGNORECASE,
)
# A read receipt's machine-readable part (RFC 8098; RFC 6533's for SMTPUTF8 mail).
_RECEIPT_TYPES = frozenset({"message/disposition-notification",
                            "message/global-disposition-notification"})
_RECEIPT_BODY = re.compile(
    r"(было прочитано|был[оа]? просмотрено|прочитано получателем|было удалено без прочтения|"
    r"was read|has been read|was displayed|was deleted without being read|was received by)",
    re.IGNORECASE,
)
# What a mail system's failure notice says besides its subject: a resident who writes
# "Сообщение не доставлено" about a letter of their own says none of it.
_TECH_WORDS = (
    r"final-recipient|diagnostic-code|reporting-mta|remote-mta|status: [45]\.|"
    r"\b[45]\.\d{1,3}\.\d{1,3}\b|\b(421|450|451|452|550|551|552|553|554)\b|smtp|"
    r"mailer-daemon|postmaster|original message|исходное сообщение|mail delivery|"
    r"could not deliver|error delivering|headers follow|undeliver|giving up|"
    # the system mailbox Exchange sends its reports from
    r"microsoftexchange[0-9a-f]{32}@"
)
_BOUNCE_TECH = re.compile(rf"({_TECH_WORDS}|recipient|mailbox|получател)", re.IGNORECASE)
# Without the words a resident uses too ("получатель не найден"): what a delivery-failure
# subject needs beside it when no mail system signed the From.
_BOUNCE_TECH_STRONG = re.compile(rf"({_TECH_WORDS})", re.IGNORECASE)
_BOUNCE_BODY = re.compile(
    r"(delivery|undeliver|not (be )?delivered|returned mail|delivery failed|mailbox (is )?full|"
    r"user unknown|final-recipient|diagnostic-code|permanent(ly)? fail|rejected|"
    r"не доставлен|недоставлен|не может быть доставлено|не удалось доставить)",
    re.IGNORECASE,
)
# Amazon SES notifications delivered through SNS: the bounce is a JSON document.
_SES_JSON = re.compile(r'notificationType\\?"\s*:\s*\\?"(Bounce|Complaint)')
# Phrases that, next to a returned message, only a delivery failure notice uses.
_FAILED_PHRASE = re.compile(
    r"(could not be delivered|couldn't be delivered|was not delivered|wasn't delivered|"
    r"undeliverable|delivery (has )?failed|permanent(ly)? fail|message could not be sent|"
    r"не (может быть |был[оа]? )?доставлен|недоставлен|не удалось доставить)",
    re.IGNORECASE,
)
_LIST_HEADERS = (
    "list-id",
    "list-post",
    # RFC 8058's one-click unsubscribe, which Gmail, Yahoo and Mail.ru require of bulk senders
    # and no person's mail carries (a bare List-Unsubscribe may be a webmail's addition)
    "list-unsubscribe-post",
    "mailing-list",
    "x-mailing-list",
    "x-ml-name",
    "x-mlserver",
)
_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated")
# What a calendar program sends back by itself about an invitation (RFC 5546): an attendee's
# "Accepted" / "Declined" (REPLY), or a request for the invitation's latest version (REFRESH).
# An invitation, a cancellation or a proposed new time is a person's matter for staff.
_CALENDAR_ANSWERS = frozenset({"REPLY", "REFRESH"})
# Outlook's and Exchange's labels over a meeting response, English and Russian (Outlook,
# OWA, Exchange), and Google Calendar's Russian ones
_MEETING_RESPONSE_SUBJECT = re.compile(
    r"^\s*(?:accepted|tentative|tentatively accepted|declined|принято|под вопросом|"
    r"предварительно принято|предварительно|отклонено|приглашение принято|"
    r"приглашение отклонено|приглашение принято под вопросом|updated invitation with note)\s*:",
    re.IGNORECASE)


@dataclass(frozen=True)
class LoopSignals:
    """What detection looks at, gathered by the parser (header values already unfolded)."""

    header: Callable[[str], str | None]
    sender: str | None
    sender_local: str | None
    subject: str
    content_type: str
    report_type: str | None
    body_text: str
    own_addresses: frozenset[str]
    has_delivery_status: bool = False
    has_returned_message: bool = False
    reply_to: str | None = None
    # the writer's own words, quotes and signature removed (None: not known)
    new_text: str | None = None
    # To and Cc addresses, and the attachments' content types
    recipients: tuple[str, ...] = ()
    attachment_types: tuple[str, ...] = ()
    # the domains state bodies' systems mail from (see authority_notice)
    authority_domains: tuple[str, ...] = ()
    # the list that delivered the letter is our own inbox (see own_list)
    own_list: bool = False
    # the METHOD of each calendar in the letter ("REQUEST", "REPLY", …)
    calendar_methods: tuple[str, ...] = ()
    # the address a site form's fields give beside its author's name ("Автор: Ольга" /
    # "E-mail автора: olga@…"), read only from a robot's, our own or a self-described form's
    # letter (None: no such form)
    form_author: str | None = None


def is_own(address: str | None, own: frozenset[str]) -> bool:
    if not address or not own:
        return False
    address = address.lower()
    domain = "@" + address.rsplit("@", 1)[-1]
    return address in own or domain in own


# Where anyone may have a mailbox: never taken for the office's own domain.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yandex.ru", "ya.ru", "yandex.com", "yandex.by",
    "yandex.kz", "yandex.ua", "narod.ru", "mail.ru", "bk.ru", "inbox.ru", "list.ru",
    "internet.ru", "rambler.ru", "lenta.ru", "outlook.com", "hotmail.com", "live.com",
    "msn.com", "icloud.com", "me.com", "yahoo.com", "proton.me", "protonmail.com",
    "gmx.com", "gmx.de", "aol.com", "ukr.net", "tut.by",
})


def is_colleague(address: str | None, own: frozenset[str]) -> bool:
    """A mailbox on the office's own domain other than ours (``*@domain`` in ``own``): a
    colleague's letter (an answer copied to the inbox, a forwarded complaint) opens or joins a
    case for staff and is never answered as a resident's."""
    if not address or not own or is_own(address, own):
        return False
    return "*@" + address.lower().rsplit("@", 1)[-1] in own


def detect_automated(s: LoopSignals) -> tuple[Automated | None, str | None]:
    """Classify the mail; the second value is a short reason for the notes."""
    bounce = _bounce_reason(s)
    if bounce:
        return Automated.BOUNCE, bounce
    if is_own(s.sender, s.own_addresses) and not relayed_for(s) and not office_scan(s) \
            and not own_site_form(s):
        return Automated.OWN, "sent from our own address"
    x_loop = (s.header("x-loop") or "").strip().lower()
    if x_loop and is_own(x_loop.strip("<>"), s.own_addresses):
        return Automated.OWN, "carries our own X-Loop header"
    auto = _autoreply_reason(s, x_loop)
    list_reason = _list_reason(s)
    if auto:
        return Automated.AUTOREPLY, auto
    if list_reason:
        return Automated.LIST, list_reason
    return None, None


def no_auto_reply(header: Callable[[str], str | None]) -> bool:
    """Whether the sender asked for no automatic answers (Exchange's X-Auto-Response-Suppress).
    Outlook puts it on ordinary letters too, so it does not make a letter automatic: the case
    opens, only our acknowledgement is held back."""
    suppress = (header("x-auto-response-suppress") or "").lower()
    return any(v in suppress for v in ("oof", "autoreply", "all"))


def relayed_for(s: LoopSignals) -> bool:
    """Whether mail from our own address is a site form's, relayed through our mailbox.

    Hosts let a form send only as the mailbox it logs in to, so a small office's contact form
    writes From: the office, Reply-To: the resident. Our own mail never carries a Reply-To, and
    our automatic mail says Auto-Submitted."""
    return bool(s.reply_to) and not is_own(s.reply_to, s.own_addresses) \
        and not (s.header("auto-submitted") or "").strip()


# The Message-ID our SMTP sender gives every letter (``smtp.message_id_for``: an optional
# "a-1042." and 32 hex digits), and the case tag our subjects carry.
_OUR_MESSAGE_ID = re.compile(r"^\s*<?(?:[\w-]+\.)?[0-9a-f]{32}@", re.IGNORECASE)
_CASE_TAG = re.compile(r"\[[^\W\d_]{1,5}-\d+\]")
# A scanner's covering words ("Отсканировано на KM_C250i", "Please open the attached
# document") are short; a letter that goes on is a person's.
_SCAN_NOTE_CHARS = 400


def office_scan(s: LoopSignals) -> bool:
    """Whether mail from our own address is a scan the office's copier mailed to the office.

    An MFP sends as the mailbox it was set up with, often the office's own, to that same
    mailbox. Loop safety first: such a letter opens a case for staff with nobody to answer
    (the parser drops the sender), so even a wrong guess sends nothing. And it must be
    nothing we send: our mail has no files (staff files never leave the staff chat), answers
    a letter or carries a case tag and our Message-ID, and is addressed to a resident; a
    staff member's copy to themselves from Outlook is addressed to the resident too. So:
    addressed to us alone, answering nothing, no automatic marks, only PDFs or images, and at
    most a scanner's covering line. The office's phone system mails a voicemail the same way
    (Asterisk's "you were just left a 0:35 long message", its recording attached): a
    resident's call, ignored as our own mail; recordings count as a scan's files."""
    if not s.attachment_types or not _new_letter_to_us(s):
        return False
    return all(t == "application/pdf" or t.startswith(("image/", "audio/"))
               for t in s.attachment_types) \
        and len((s.new_text or "").strip()) <= _SCAN_NOTE_CHARS


def own_site_form(s: LoopSignals) -> bool:
    """Whether mail from our own address is the site's form, sent as the office's mailbox to
    the office with the resident only in its fields: a host lets the site send only as the
    mailbox it logs in to, and the form (Bitrix's feedback form, a WordPress SMTP plugin) sets
    no Reply-To. Taken for our own, the resident's letter was ignored. Ours never gives
    someone's e-mail beside their name in a form's fields, and is told apart as for a scan:
    see :func:`_new_letter_to_us`."""
    return s.form_author is not None and not is_own(s.form_author, s.own_addresses) \
        and _new_letter_to_us(s)


def _new_letter_to_us(s: LoopSignals) -> bool:
    """Whether mail from our own address is none we send: addressed to us alone, answering
    nothing, with no automatic marks or Reply-To, and neither our Message-ID nor a case tag
    (ours go to residents, answer their letters and carry both)."""
    if not is_own(s.sender, s.own_addresses) or not s.recipients:
        return False
    if any(s.header(name) for name in ("in-reply-to", "references", "auto-submitted",
                                       "x-auto-response-suppress", "reply-to")):
        return False
    if _OUR_MESSAGE_ID.match(s.header("message-id") or "") or _CASE_TAG.search(s.subject):
        return False
    return all(is_own(r, s.own_addresses) for r in s.recipients)


# Where state bodies and their portals mail from, unless the operator's configuration
# (``imap.authority_domains``) says otherwise: Госуслуги and ГИС ЖКХ (dom.gosuslugi.ru), the
# "Решаем вместе" feedback platform (pos.gosuslugi.ru), federal and regional government domains
# (gov.ru, gov.spb.ru), Moscow's and the Moscow region's (mos.ru, mosreg.ru). A domain matches
# itself and its subdomains; "*" stands for one label.
DEFAULT_AUTHORITY_DOMAINS = ("gosuslugi.ru", "gov.ru", "gov.*.ru", "mos.ru", "mosreg.ru")


def is_authority(domain: str, patterns: tuple[str, ...]) -> bool:
    """Whether a sender's domain is one of ``patterns`` or under one ("*" is one label)."""
    labels = domain.lower().rstrip(".").split(".")
    for pattern in patterns:
        wanted = pattern.lower().split(".")
        if len(labels) >= len(wanted) and all(
                w in ("*", got) for w, got in zip(wanted, labels[-len(wanted):], strict=True)):
            return True
    return False
# What a notice that hands the office a resident's matter says ("поступило обращение",
# "направляем жалобу", "предписание", "запрос информации", "сообщение гражданина", "срок
# ответа: 20.01").
_AUTHORITY_REQUEST = re.compile(
    r"\b(?:обращени|жалоб|заявлени|запрос|предписани|поручени)\w*"
    r"|\bсообщени\w*\s+(?:от\s+)?(?:гражданин|жител|заявител)"
    r"|\bсрок\w*\s+(?:ответа|рассмотрения|исполнения)", re.IGNORECASE)
_AUTHORITY_MIN_CHARS = 80


def authority_notice(s: LoopSignals) -> str | None:
    """Why a machine-generated letter is still a matter for staff, or None.

    A housing inspectorate's system or a state portal (ГИС ЖКХ, Госуслуги "Решаем вместе")
    forwards a resident's complaint as ``Auto-Submitted: auto-generated`` mail. Answering it
    would write to a robot (loop risk), but dropping it loses a complaint the office must
    answer by law through the portal. So it opens a case for staff and nothing is sent.

    Narrow on purpose, so that auto-replies, out-of-office notices, receipts and bounces stay
    ignored as before: the header must say ``auto-generated`` (a notice of its own; an
    auto-reply says ``auto-replied``), the sender's domain must be a state body's, the letter
    must answer nothing (no In-Reply-To, References or "Re:"), carry no list or bulk marks and
    no out-of-office label, and its text must name a complaint, request or order."""
    auto_submitted = (s.header("auto-submitted") or "").strip().lower()
    if auto_submitted.split(";")[0].strip() != "auto-generated" or not s.sender:
        return None
    domain = s.sender.rpartition("@")[2].lower()
    if not is_authority(domain, s.authority_domains):
        return None
    if s.header("in-reply-to") or s.header("references") or _REPLY_SUBJECT.match(s.subject):
        return None
    if _list_reason(s) or (s.header("precedence") or "").strip().lower() in ("bulk", "junk") \
            or _OOF_SUBJECT.match(s.subject) or _RECEIPT_SUBJECT.match(s.subject):
        return None
    text = s.body_text[:4000]
    if len(text.strip()) < _AUTHORITY_MIN_CHARS \
            or not _AUTHORITY_REQUEST.search(f"{s.subject}\n{text}"):
        return None
    return f"a notice from {domain}, a state body's system: answer it through its portal"


def _mail_system_says(s: LoopSignals, words: re.Pattern[str]) -> bool:
    """Whether a mail system wrote this: its words in the body, or its name in From."""
    return bool(words.search(s.body_text[:4000]) or _BOUNCE_TECH.search(s.header("from") or ""))


def _bounce_reason(s: LoopSignals) -> str | None:
    if s.content_type == "multipart/report":
        if s.report_type in ("delivery-status", "feedback-report"):
            return f"multipart/report ({s.report_type})"
        if s.report_type is None and _BOUNCE_BODY.search(s.body_text[:4000]):
            return "multipart/report without a report type"
    if s.content_type in ("message/delivery-status", "message/global-delivery-status") \
            or s.has_delivery_status:
        return "carries a message/delivery-status part"
    if (s.sender or "").endswith("amazonaws.com") and _SES_JSON.search(s.body_text[:5000]):
        return "Amazon SES bounce/complaint notification"
    # A resident forwards a letter as an attachment saying it "не было доставлено
    # получателю", or forwards a bounce they got under a new complaint: a person's letter is
    # a bounce only by its subject; a robot's (no-reply@ at a mailbox provider) by its words.
    if s.has_returned_message and _FAILED_PHRASE.search(s.body_text[:3000]) and (
            _BOUNCE_SUBJECT.match(s.subject)
            or (_ROBOT_LOCAL.match(s.sender_local or "") and _mail_system_says(s, _BOUNCE_TECH))):
        return "a returned message with a delivery-failure text"
    if s.sender_local in _BOUNCE_LOCALS:
        return f"sent by {s.sender_local}"
    if s.header("x-failed-recipients"):
        return "X-Failed-Recipients header"
    if _BOUNCE_SUBJECT.match(s.subject) and (
            s.has_returned_message or _mail_system_says(s, _BOUNCE_TECH_STRONG)):
        return "delivery-failure subject"
    return_path = (s.header("return-path") or "").strip()
    if return_path.replace(" ", "") == "<>" and _BOUNCE_BODY.search(s.body_text[:4000]):
        return "empty Return-Path and a delivery-status text"
    if s.header("x-ms-exchange-message-is-ndr") is not None:
        return "Exchange non-delivery report"
    return None


def _autoreply_reason(s: LoopSignals, x_loop: str) -> str | None:
    auto_submitted = (s.header("auto-submitted") or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted.split()[0].rstrip(';')}"
    for name in _AUTO_HEADERS:
        value = s.header(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return f"{name} header"
    calendar = _calendar_answer(s)
    if calendar:
        return calendar
    precedence = (s.header("precedence") or "").strip().lower()
    if precedence in ("auto_reply", "auto-reply"):
        return "Precedence: auto_reply"
    if precedence in ("bulk", "junk") and not _has_list_headers(s):
        return f"Precedence: {precedence}"
    if s.content_type == "multipart/report":
        return f"multipart/report ({s.report_type or 'unknown'})"
    receipt = next((t for t in s.attachment_types if t in _RECEIPT_TYPES), None)
    if receipt:
        # a read receipt a gateway re-wrapped as multipart/mixed, or sent as its report part
        # alone: its machine part says what it is whatever the subject (a resident forwarding
        # one encloses it in the forwarded letter, where it is no part of this mail's)
        return f"carries a {receipt} part"
    if (s.sender or "").endswith("amazonaws.com") and "notificationType" in s.body_text[:5000]:
        return "Amazon SES notification"
    # A ticket system marks its own answers "X-Loop: yes"; an address there is only the trace
    # of a forwarding rule (procmail's) that a resident's letter passed through.
    if x_loop and "@" not in x_loop:
        return "X-Loop header"
    if _RECEIPT_SUBJECT.match(s.subject) and _RECEIPT_BODY.search(s.body_text[:2000]):
        return "read receipt"
    if _OOF_SUBJECT.match(s.subject) or (
            _OOF_WEAK.match(s.subject) and _weak_oof_body(s.body_text[:3000])):
        return "out-of-office subject"
    return_path = (s.header("return-path") or "").strip()
    if return_path.replace(" ", "") == "<>":
        return "empty Return-Path"
    if _notice_answering(s):
        return "an automatic or out-of-office notice answering a letter"
    return None


def _calendar_answer(s: LoopSignals) -> str | None:
    """Why the letter is a calendar program's answer to an invitation ("Принято: Осмотр
    подвала"), or None. Pressing "Accept" writes it, not the person: it tells nothing to act on
    and an acknowledgement would answer a program. Told by its calendar's METHOD, or, where a
    gateway dropped the calendar, by Exchange's mark of a meeting message under a response's
    label."""
    answers = [m for m in s.calendar_methods if m in _CALENDAR_ANSWERS]
    if answers:
        return f"calendar {answers[0]} (an answer to an invitation)"
    content_class = (s.header("content-class") or "").strip().lower()
    if content_class == "urn:content-classes:calendarmessage" \
            and _MEETING_RESPONSE_SUBJECT.match(s.subject):
        return "a meeting response (Content-Class: calendarmessage)"
    return None


def _weak_oof_body(body: str) -> bool:
    """Whether the body under a subject a resident could also write ("Отпуск", "В отпуске до
    24.03") is a notice: it says when its writer is back or whom to ask meanwhile, or, short,
    that its writer is away until a date; and it names no flat ("В отпуске до 20 января,
    присмотрите за кв. 45" is a resident's)."""
    if _FLAT.search(body):
        return False
    return bool(_OOF_BODY.search(body)) or (
        len(body.strip()) <= _NOTICE_CHARS and bool(_AWAY_UNTIL.search(body)))


def _short_notice_text(s: LoopSignals) -> str | None:
    """The letter's own words, when they are short enough to be a notice and name no flat."""
    text = (s.new_text or "").strip()
    if not text or len(text) > _NOTICE_CHARS or _FLAT.search(text):
        return None
    return text


def _notice_answering(s: LoopSignals) -> bool:
    """A letter that answers another and whose own words are only an automatic notice."""
    text = _short_notice_text(s)
    if text is None or not (s.header("in-reply-to") or s.header("references")
                            or _REPLY_SUBJECT.match(s.subject)):
        return False
    return bool(_SAYS_AUTOMATIC.search(text) or _RECEIVED_NOTICE.search(text)
                or (_AWAY.search(text) and _OFFICE_NOTICE.search(text)))


def says_automatic(s: LoopSignals) -> bool:
    """A new letter (answering nothing) whose own words say it is automatic: a utility's
    ticket system confirming "Обращение №458812 зарегистрировано… Письмо сформировано
    автоматически". It opens a case for staff and is never answered: an acknowledgement would
    come back as a new ticket, for ever. (A resident quoting such a notice reads the same, so
    the letter is not ignored.) A site form's letter says it too ("Сообщение сгенерировано
    автоматически" under Bitrix's feedback form), and names its author in its fields: that
    person wrote it, and is answered."""
    text = _short_notice_text(s)
    return text is not None and s.form_author is None and bool(_SAYS_AUTOMATIC.search(text))


def _has_list_headers(s: LoopSignals) -> bool:
    return s.header("list-id") is not None or s.header("list-unsubscribe") is not None


_MAILTO = re.compile(r"mailto:([^>,\s?]+)", re.IGNORECASE)
_LIST_ID = re.compile(r"<([^<>\s]+)>")


def own_list(header: Callable[[str], str | None], own: frozenset[str]) -> bool:
    """Whether the list that delivered a letter is the office's own inbox: the office's
    address is a Google Group, a Yandex 360 or Microsoft 365 group or a Mailman list that hands
    every resident's letter on to staff, marked as list mail (List-Id, List-Post, Precedence:
    list). Its posting address, its "Mailing-list: list …" or its List-Id ("office.uk.ru" for
    office@uk.ru) is ours. Read as mail from any list, every resident's letter was dropped."""
    if not own or not any(header(n) is not None for n in ("list-id", "list-post",
                                                           "mailing-list")):
        return False
    posts = _MAILTO.findall(header("list-post") or "")
    mailing = (header("mailing-list") or "").strip()
    if mailing.lower().startswith("list "):
        posts.append(mailing[5:].split(";", 1)[0])
    if any(is_own(p.strip(), own) for p in posts):
        return True
    list_id = _LIST_ID.search(header("list-id") or "")
    if list_id is None:
        return False
    ids = {a.replace("@", ".", 1) for a in own if not a.startswith(("@", "*"))}
    return list_id.group(1).lower() in ids


def _list_reason(s: LoopSignals) -> str | None:
    if s.own_list:
        return None
    for name in _LIST_HEADERS:
        if s.header(name) is not None:
            return f"{name} header"
    precedence = (s.header("precedence") or "").strip().lower()
    if precedence == "list":
        return "Precedence: list"
    if precedence in ("bulk", "junk") and _has_list_headers(s):
        return f"List-Unsubscribe with Precedence: {precedence}"
    return None
