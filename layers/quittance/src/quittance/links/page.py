"""The customer's receipt status page behind ``GET /r/{token}``, and its two error pages.

Pages are self-contained (inline CSS, no script, no external resource) so the handler can
serve them under ``default-src 'none'; style-src 'unsafe-inline'; img-src data:``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_timezone_name
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from quittance.ledger.model import DocumentStatus
from quittance.models.events import UtcDateTime
from quittance.models.money import Money
from quittance.models.timezone import TimeZoneName

Language = Literal["fr", "en"]
# Every answer of the customer pages (and their redirect to a download): nothing but inline
# styles and data: images, never cached, no referrer, never framed.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
ReceiptStatus = DocumentStatus

_BABEL_LOCALES: dict[Language, str] = {"fr": "fr_FR", "en": "en_GB"}
_TEMPLATES = Path(__file__).with_name("templates")

# French typography wants a no-break space before ":" "?" "!", so a line never starts
# with the punctuation on a narrow phone screen.
_NBSP = "\u00a0"

_TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "receipt_title": "Reçu de paiement",
        "status_paid": "Payée",
        "status_partial": f"Paiement partiel — reste à payer{_NBSP}: {{balance}}",
        "status_overpaid": "Payée — trop-perçu",
        "status_refunded": "Remboursée",
        "note_partial": "Ce paiement a bien été reçu, mais il ne couvre pas toute la facture.",
        "note_overpaid": (
            "Le montant reçu dépasse le montant dû. Pour la différence, contactez {seller}."
        ),
        "note_refunded": "Ce paiement vous a été remboursé.",
        "amount": "Montant payé",
        "balance_due": "Reste à payer",
        "paid_at": "Date du paiement",
        "paid_at_value": "{date} à {time} ({zone})",
        "receipt_number": "Numéro de reçu",
        "invoice_number": "Numéro de facture",
        "download": "Télécharger le reçu (PDF)",
        "contact_title": f"Une question{_NBSP}?",
        "contact_intro": f"Contactez {{seller}}{_NBSP}:",
        "email": f"E-mail{_NBSP}:",
        "phone": f"Téléphone{_NBSP}:",
        "keep": "Ce reçu vaut justificatif de paiement. Conservez le PDF avec vos documents.",
        "siren": f"SIREN{_NBSP}{{siren}}",
        "vat": f"TVA{_NBSP}{{vat}}",
        "expired_title": "Ce lien a expiré",
        "expired_why": (
            "Pour votre sécurité, les liens vers les reçus ont une durée limitée. "
            "Votre reçu, lui, reste conservé."
        ),
        "expired_how": (
            "Pour obtenir un nouveau lien, répondez simplement à l’e-mail de confirmation "
            f"de paiement, ou écrivez à {{seller}}{_NBSP}: {{email}}."
        ),
        "not_found_title": "Lien introuvable",
        "not_found_body": "Ce lien ne correspond à aucun reçu.",
        "not_found_help": (
            "Vérifiez que l’adresse a été copiée en entier depuis votre e-mail ou votre SMS. "
            "Si le problème persiste, contactez le vendeur qui vous a envoyé ce lien."
        ),
    },
    "en": {
        "receipt_title": "Payment receipt",
        "status_paid": "Paid",
        "status_partial": "Partially paid — balance due: {balance}",
        "status_overpaid": "Paid — overpayment received",
        "status_refunded": "Refunded",
        "note_partial": "This payment was received, but it does not cover the whole invoice.",
        "note_overpaid": (
            "The amount received is more than the amount due. "
            "Please contact {seller} about the difference."
        ),
        "note_refunded": "This payment has been refunded to you.",
        "amount": "Amount paid",
        "balance_due": "Balance due",
        "paid_at": "Payment date",
        "paid_at_value": "{date} at {time} ({zone})",
        "receipt_number": "Receipt number",
        "invoice_number": "Invoice number",
        "download": "Download the receipt (PDF)",
        "contact_title": "Any questions?",
        "contact_intro": "Contact {seller}:",
        "email": "Email:",
        "phone": "Phone:",
        "keep": "This receipt is your proof of payment. Keep the PDF with your records.",
        "siren": f"SIREN{_NBSP}{{siren}}",
        "vat": f"VAT{_NBSP}{{vat}}",
        "expired_title": "This link has expired",
        "expired_why": (
            "For your security, receipt links only last for a limited time. "
            "Your receipt itself is still kept safe."
        ),
        "expired_how": (
            "To get a new link, simply reply to the payment confirmation email, "
            "or write to {seller} at {email}."
        ),
        "not_found_title": "Link not found",
        "not_found_body": "This link does not match any receipt.",
        "not_found_help": (
            "Check that the whole address was copied from your email or text message. "
            "If it still does not work, contact the seller who sent you this link."
        ),
    },
}


def resolve_language(locale: str) -> Language:
    """``fr``, ``fr_FR``, ``fr-BE`` → ``fr``; anything else (``en-GB``, ``de``, ``""``) → ``en``."""
    primary = re.split(r"[-_]", locale.strip(), maxsplit=1)[0].lower()
    return "fr" if primary == "fr" else "en"


_LANGUAGE_NAMES: dict[Language, str] = {"fr": "Français", "en": "English"}


def page_language(requested: str | None, accept_language: str) -> Language:
    """The page's language: an explicit ``?lang=`` (the link in a message names the
    customer's language, and the page offers a switch), else the browser's preference among
    French and English by quality (RFC 9110 ``Accept-Language``), else English."""
    if requested:
        return resolve_language(requested)
    ranked: list[tuple[float, int, Language]] = []
    for position, entry in enumerate(accept_language.split(",")[:20]):
        tag, _, params = entry.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-", 1)[0].lower()
        if quality > 0 and primary in _LANGUAGE_NAMES:
            ranked.append((-quality, position, resolve_language(primary)))
    return min(ranked)[2] if ranked else "en"


class ReceiptView(BaseModel):
    """What the status page shows about one receipt; built by the handler from the ledger."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receipt_number: str = Field(min_length=1, max_length=64)
    invoice_number: str = Field(min_length=1, max_length=64)
    status: ReceiptStatus
    amount: Money
    balance_due: Money
    paid_at: UtcDateTime
    timezone: TimeZoneName = "Europe/Paris"
    locale: str = Field(max_length=35)
    seller_name: str = Field(min_length=1, max_length=200)
    seller_email: str = Field(min_length=3, max_length=254)
    seller_phone: str = Field(min_length=1, max_length=32)
    seller_address: str = Field(default="", max_length=300)
    seller_siren: str = Field(default="", max_length=20)
    seller_vat: str = Field(default="", max_length=20)
    seller_legal: tuple[str, ...] = ()
    """The seller profile's legal mentions (quittance.seller); replace SIREN and VAT."""
    brand_colour: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")
    """Goes into the page's CSS: the pattern is what keeps it from carrying anything else."""


def render_receipt_page(view: ReceiptView, pdf_href: str) -> str:
    lang = resolve_language(view.locale)
    texts = _TEXTS[lang]
    babel_locale = _BABEL_LOCALES[lang]
    balance_due = view.balance_due.format(babel_locale)
    paid_at_text, paid_at_iso = _paid_at(view, lang)
    status_text = texts[f"status_{view.status}"].format(balance=balance_due)
    note = texts.get(f"note_{view.status}", "").format(seller=view.seller_name)
    return _render(
        "receipt.html.j2",
        lang=lang,
        t=texts,
        view=view,
        status_text=status_text,
        status_note=note,
        amount=view.amount.format(babel_locale),
        balance_due=balance_due,
        paid_at_text=paid_at_text,
        paid_at_iso=paid_at_iso,
        pdf_href=_safe_href(pdf_href),
        seller_phone_href=re.sub(r"[^\d+]", "", view.seller_phone),
        seller_name=view.seller_name,
        brand_colour=view.brand_colour,
        legal=" · ".join(
            view.seller_legal
            or [
                texts[field].format(**{field: value})
                for field, value in (("siren", view.seller_siren), ("vat", view.seller_vat))
                if value
            ]
        ),
    )


def render_expired_page(locale: str, seller_name: str, seller_email: str) -> str:
    """Shown only for a genuine but expired token, so naming the seller reveals nothing."""
    lang = resolve_language(locale)
    return _render(
        "expired.html.j2",
        lang=lang,
        t=_TEXTS[lang],
        seller_name=seller_name,
        seller_email=seller_email,
    )


def render_not_found_page(locale: str) -> str:
    """The answer for an unknown receipt and for a forged or damaged token alike."""
    lang = resolve_language(locale)
    return _render("not_found.html.j2", lang=lang, t=_TEXTS[lang])


def _paid_at(view: ReceiptView, lang: Language) -> tuple[str, str]:
    zone = ZoneInfo(view.timezone)
    local = view.paid_at.astimezone(zone)
    babel_locale = _BABEL_LOCALES[lang]
    text = _TEXTS[lang]["paid_at_value"].format(
        date=format_date(local.date(), "long", locale=babel_locale),
        time=format_time(local, "HH:mm", tzinfo=zone, locale=babel_locale),
        zone=get_timezone_name(local, width="long", locale=babel_locale),
    )
    return text, local.isoformat(timespec="seconds")


def _safe_href(href: str) -> str:
    # The handler builds this link, but a "javascript:" or protocol-relative value slipping
    # through would turn the one button on the page into someone else's link.
    parts = urlsplit(href)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return href
    if not parts.scheme and not parts.netloc and href.startswith("/") and "\\" not in href:
        return href
    raise ValueError("pdf_href must be an absolute http(s) URL or a path starting with '/'")


def _interpolate(template: str, **values: Any) -> Markup:
    """Fills ``{name}`` placeholders of a trusted string, escaping every non-Markup value."""
    return escape(template).format(**values)


def _render(name: str, **context: Any) -> str:
    other: Language = "en" if context["lang"] == "fr" else "fr"
    return (
        _environment()
        .get_template(name)
        .render(other_lang=other, other_lang_name=_LANGUAGE_NAMES[other], **context)
    )


@cache
def _environment() -> Environment:
    # Built on first use rather than at import, and once per container: template parsing
    # is the costly part and a Lambda container serves many requests.
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["interpolate"] = _interpolate
    return env
