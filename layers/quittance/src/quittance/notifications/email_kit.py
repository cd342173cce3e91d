"""The email kit every customer message is built with: languages and tones, the shared
texts, safe headers, the Jinja environment and the MIME assembly (plain text and HTML).

Header safety: values that come from customers or gateways (the recipient's name, the
invoice number) are *neutralised*: every control or line-break character becomes a space,
so a name like ``"Eve\\r\\nBcc: x@example.com"`` is shown as ``Eve Bcc: x@example.com``
and can never start a header line. Refusing them instead would cost an honest customer
with a badly imported name their message. Values that come from our own configuration
(sender, seller, receipt number, Message-ID domain, extra headers) are *refused* with
UnsafeHeaderValue, because there they mean a misconfiguration to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_timezone_name
from email_validator import validate_email
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from quittance.notifications.extras import MarketingExtras, extras_context

Language = Literal["fr", "en"]
Tone = Literal["formal", "warm"]

BABEL_LOCALES: dict[Language, str] = {"fr": "fr_FR", "en": "en_GB"}
_TEMPLATES = Path(__file__).with_name("templates")
NBSP = "\u00a0"
NNBSP = "\u202f"

# C0/C1 controls, DEL and the Unicode line/paragraph separators: anything a mail header or
# a plain-text body could take for a line break.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidirectional overrides let a display name read differently from what it contains.
_BIDI_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
DOMAIN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_EXTRA_HEADER_RE = re.compile(r"X-[A-Za-z0-9-]{1,70}", re.IGNORECASE)
# Headers this module owns; an extra header must not replace or add to them.
_RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "sender"}
)


class UnsafeHeaderValue(ValueError):
    """A configuration value would put a control character or a foreign header in the mail."""


@dataclass(frozen=True)
class Attachment:
    """A document attached as it was archived (never rendered again for the mail)."""

    filename: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class Sender:
    """The verified SES identity the mail is sent from."""

    email: str
    name: str


@dataclass(frozen=True)
class SellerContact:
    """Who the customer answers: the seller's name, address and phone, as every message
    ends with them (Reply-To is the address)."""

    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class Letterhead:
    """Our side of every customer email, the same whatever its kind: who sends it (a
    verified SES identity), the seller it speaks for, the Message-ID domain and the SES
    configuration-set headers. Our own configuration: an unsafe value is refused."""

    sender: Sender
    seller: SellerContact
    message_id_domain: str
    configuration_set_headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, sender: Sender, seller: SellerContact) -> Letterhead:
        """The usual letterhead: Message-IDs in the sender's own domain."""
        return cls(sender=sender, seller=seller, message_id_domain=sender.email.rpartition("@")[2])


@dataclass(frozen=True)
class Recipient:
    """The customer's side: their address and name (neutralised, never refused, when they
    would break a header), language, tone (formal for B2B, warm for B2C) and time zone."""

    email: str
    name: str | None
    locale: str
    tone: Tone
    timezone: str = "Europe/Paris"


@dataclass(frozen=True)
class Envelope:
    """A letterhead and a recipient once checked: what a message is built around."""

    letterhead: Letterhead
    recipient: str
    """The address, ASCII form (an internationalised domain as punycode)."""
    name: str
    """The recipient's name made single-line, or empty."""
    lang: Language
    tone: Tone
    zone: ZoneInfo
    extra_headers: dict[str, str]


TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "subject": "Votre reçu {receipt} — facture {invoice} soldée",
        "settled": "Facture soldée",
        "invoice": f"Facture{NBSP}:",
        "paid_at": f"Date du paiement{NBSP}:",
        "paid_at_value": "{date} à {time} ({zone})",
        "amount": f"Montant{NBSP}:",
        "receipt": f"Reçu n°{NBSP}:",
        "method": f"Moyen de paiement{NBSP}:",
        "next": (
            f"Et maintenant{NNBSP}? Rien d’autre à faire de votre côté{NBSP}: cette facture "
            "est close et votre reçu fait foi du paiement."
        ),
        "attached": f"Votre reçu (PDF) est joint à cet e-mail{NBSP}; c’est l’original archivé.",
        "link_intro": f"Votre reçu est disponible à tout moment à cette adresse{NBSP}:",
        "link_button": "Voir et télécharger mon reçu",
        "keep": (
            f"Conservez cet e-mail{NBSP}: il vous donne accès à votre reçu. "
            "Si le lien a expiré, répondez simplement à ce message pour en recevoir un nouveau."
        ),
        "contact": f"Une question{NBSP}? Contactez {{seller}}{NBSP}:",
        "email": f"E-mail{NBSP}:",
        "phone": f"Téléphone{NBSP}:",
    },
    "en": {
        "subject": "Your receipt {receipt} — invoice {invoice} paid in full",
        "settled": "Invoice paid in full",
        "invoice": "Invoice:",
        "paid_at": "Payment date:",
        "paid_at_value": "{date} at {time} ({zone})",
        "amount": "Amount:",
        "receipt": "Receipt no.:",
        "method": "Payment method:",
        "next": (
            "What happens next? Nothing else to do on your side: this invoice is closed and "
            "your receipt is your proof of payment."
        ),
        "attached": "Your receipt (PDF) is attached to this email; it is the archived original.",
        "link_intro": "Your receipt is available at any time at this address:",
        "link_button": "View and download my receipt",
        "keep": (
            "Keep this email: it gives you access to your receipt. "
            "If the link has expired, just reply to this message to get a new one."
        ),
        "contact": "Any questions? Contact {seller}:",
        "email": "Email:",
        "phone": "Phone:",
    },
}

TONES: dict[tuple[Language, Tone], dict[str, str]] = {
    ("fr", "formal"): {
        "greeting_named": "Bonjour {name},",
        "greeting": "Madame, Monsieur,",
        "thanks": "Nous avons bien reçu votre paiement et vous en remercions.",
        "closing": "Nous vous prions d’agréer nos salutations distinguées.",
    },
    ("fr", "warm"): {
        "greeting_named": f"Bonjour {{name}}{NNBSP}!",
        "greeting": f"Bonjour{NNBSP}!",
        "thanks": f"Merci pour votre paiement{NNBSP}! Tout est en ordre de notre côté.",
        "closing": "À très bientôt,",
    },
    ("en", "formal"): {
        "greeting_named": "Dear {name},",
        "greeting": "Dear Customer,",
        "thanks": "We confirm that we have received your payment, and thank you for it.",
        "closing": "Kind regards,",
    },
    ("en", "warm"): {
        "greeting_named": "Hi {name},",
        "greeting": "Hello,",
        "thanks": "Thanks so much for your payment — you're all set!",
        "closing": "Best wishes,",
    },
}


def build_message(
    envelope: Envelope,
    *,
    subject: str,
    text_body: str,
    html_body: str,
    list_unsubscribe: str | None = None,
    attachment: Attachment | None = None,
) -> EmailMessage:
    """Headers and parts of every customer message, from an already validated envelope.

    ``list_unsubscribe`` is given only for a message that carries marketing extras: then the
    RFC 8058 one-click pair of headers lets the mail client unsubscribe with one POST.
    Transactional messages have none."""
    letterhead = envelope.letterhead
    sender, seller = letterhead.sender, letterhead.seller
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(display_name=sender.name, addr_spec=sender.email)
    msg["To"] = Address(display_name=envelope.name, addr_spec=envelope.recipient)
    # Replies go to the seller: the expired-link page tells customers to reply for a new link.
    msg["Reply-To"] = Address(display_name=seller.name, addr_spec=seller.email)
    msg["Subject"] = subject
    # No Date here: the mailer dates the message when it hands it to SES (one clock).
    msg["Message-ID"] = make_msgid(domain=letterhead.message_id_domain)
    # RFC 3834: keeps out-of-office robots from answering a machine-sent message.
    msg["Auto-Submitted"] = "auto-generated"
    for header, value in envelope.extra_headers.items():
        msg[header] = value
    if list_unsubscribe is not None:
        msg["List-Unsubscribe"] = f"<{list_unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text_body, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", charset="utf-8", cte="quoted-printable")
    # add_alternative gives the new part its own MIME-Version; it belongs on the top only.
    if attachment is not None:
        msg.add_attachment(
            attachment.content,
            maintype="application",
            subtype="pdf",
            filename=attachment.filename,
        )
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]
    return msg


def single_line(value: str) -> str:
    """Customer text made header- and line-safe: controls to spaces, runs collapsed.

    Done here rather than trusting the email package: CPython before 3.11.10 / 3.12.5
    could emit a raw newline when folding an encoded header (CVE-2024-6923).
    """
    return " ".join(_CONTROL_RE.sub(" ", _BIDI_RE.sub("", value)).split())


def require_single_line(label: str, value: str) -> None:
    if not value or _CONTROL_RE.search(value) or _BIDI_RE.search(value):
        raise UnsafeHeaderValue(f"{label} must be a non-empty single line of text")


def checked_extra_headers(headers: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not _EXTRA_HEADER_RE.fullmatch(name) or name.lower() in _RESERVED_HEADERS:
            raise UnsafeHeaderValue(f"extra header name {name!r} is not an X- header")
        require_single_line(f"header {name}", value)
        checked[name] = value
    return checked


def require_web_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or _CONTROL_RE.search(url):
        raise ValueError("receipt_url must be an absolute http(s) URL")


def zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def language_of(locale: str) -> Language:
    # Same rule as the receipt page: the primary subtag decides, anything but French is English.
    primary = re.split(r"[-_]", locale.strip(), maxsplit=1)[0].lower()
    return "fr" if primary == "fr" else "en"


def paid_at_text(paid_at: datetime, zone: ZoneInfo, lang: Language) -> str:
    local = paid_at.astimezone(zone)
    babel_locale = BABEL_LOCALES[lang]
    return TEXTS[lang]["paid_at_value"].format(
        date=format_date(local.date(), "long", locale=babel_locale),
        time=format_time(local, "HH:mm", tzinfo=zone, locale=babel_locale),
        zone=get_timezone_name(local, width="long", locale=babel_locale),
    )


@cache
def template_environment() -> Environment:
    # Built on first use, once per container: parsing templates is the costly part.
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        # Plain-text parts must not get "&amp;"; anything else, HTML included, is escaped.
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",),
            disabled_extensions=("txt.j2",),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# Labels every notice shares with the payment confirmation: the same fact reads the same.
_SHARED_LABELS = ("invoice", "paid_at", "contact", "email", "phone")


def prepare_envelope(
    letterhead: Letterhead,
    recipient: Recipient,
    *,
    own_values: Iterable[tuple[str, str]] = (),
    moments: Iterable[tuple[str, datetime]] = (),
    urls: Iterable[tuple[str, str | None]] = (),
) -> Envelope:
    """Every check a message needs before anything is built, in one order: our own
    configuration (and ``own_values``, our own numbers), then the message's arguments
    (tz-aware ``moments``, absolute http(s) ``urls``), then the address.

    Raises UnsafeHeaderValue, ``email_validator.EmailNotValidError`` or a plain ValueError
    (all ValueErrors)."""
    sender, seller = letterhead.sender, letterhead.seller
    for label, value in (
        ("sender name", sender.name),
        ("sender email", sender.email),
        ("seller name", seller.name),
        ("seller email", seller.email),
        ("seller phone", seller.phone),
        *own_values,
    ):
        require_single_line(label, value)
    if not DOMAIN_RE.fullmatch(letterhead.message_id_domain):
        raise UnsafeHeaderValue("message_id_domain must be a plain host name")
    extra_headers = checked_extra_headers(letterhead.configuration_set_headers)
    if recipient.tone not in ("formal", "warm"):
        raise ValueError(f"unknown tone {recipient.tone!r}")
    for label, moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{label} must carry a timezone")
    zone = zone_info(recipient.timezone)
    for label, url in urls:
        if url is not None:
            try:
                require_web_url(url)
            except ValueError:
                raise ValueError(f"{label} must be an absolute http(s) URL") from None
    # SES does not take SMTPUTF8 mailboxes, so refuse them here rather than at send time;
    # the ASCII form carries an internationalised domain as punycode.
    address = validate_email(recipient.email, check_deliverability=False, allow_smtputf8=False)
    return Envelope(
        letterhead=letterhead,
        recipient=address.ascii_email or address.normalized,
        name=single_line(recipient.name) if recipient.name else "",
        lang=language_of(recipient.locale),
        tone=recipient.tone,
        zone=zone,
        extra_headers=extra_headers,
    )


def shared_labels(lang: Language) -> dict[str, str]:
    """The labels of the facts every message states (invoice, date, contact)."""
    return {key: TEXTS[lang][key] for key in _SHARED_LABELS}


def base_context(envelope: Envelope) -> dict[str, Any]:
    """The template values every message has: greeting, closing and the seller's contact."""
    tone_texts = TONES[(envelope.lang, envelope.tone)]
    seller = envelope.letterhead.seller
    name = envelope.name
    return {
        "lang": envelope.lang,
        "greeting": (
            tone_texts["greeting_named"].format(name=name) if name else tone_texts["greeting"]
        ),
        "closing": tone_texts["closing"],
        "contact": TEXTS[envelope.lang]["contact"].format(seller=seller.name),
        "seller_name": seller.name,
        "seller_email": seller.email,
        "seller_phone": seller.phone,
        "seller_phone_href": re.sub(r"[^\d+]", "", seller.phone),
    }


def render_message(
    envelope: Envelope,
    *,
    subject: str,
    template: str,
    context: Mapping[str, Any],
    extras: MarketingExtras | None = None,
    attachment: Attachment | None = None,
) -> EmailMessage:
    """Render ``template``'s plain-text and HTML parts (``<template>.txt.j2``/``.html.j2``)
    and build the message around them (build_message)."""
    if extras is not None:
        extras.check()
    full = {**context, "extras": extras_context(extras, envelope.lang)}
    env = template_environment()
    return build_message(
        envelope,
        subject=subject,
        text_body=env.get_template(f"{template}.txt.j2").render(**full),
        html_body=env.get_template(f"{template}.html.j2").render(**full),
        list_unsubscribe=extras.unsubscribe_url if extras else None,
        attachment=attachment,
    )


def business_days_text(lang: Language, low: int, high: int) -> str:
    """A delay in business days as a sentence says it ("5 à 10 jours ouvrés")."""
    if lang == "fr":
        if low == high:
            return f"{low} jour ouvré" if low == 1 else f"{low} jours ouvrés"
        return f"{low} à {high} jours ouvrés"
    if low == high:
        return f"{low} business day" if low == 1 else f"{low} business days"
    return f"{low} to {high} business days"
