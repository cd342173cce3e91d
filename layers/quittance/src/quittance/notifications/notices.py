"""Refund and payment-anomaly notices: transactional emails, French or English, formal (B2B)
or warm (B2C), with a plain-text and an HTML alternative.

They follow the payment confirmation (``confirmation.py``) in everything but their wording,
and reuse its helpers rather than copying them: the same header safety (customer strings
such as the name, invoice number or payment-method label are neutralised; our own
configuration values are refused with UnsafeHeaderValue), the same address validation, the
same Jinja2 environment (autoescaped HTML, plain text left as typed) and the same Babel
formatting of amounts and dates.

An anomaly notice never says the invoice is settled ("facture soldée", "paid in full"): it
says what arrived, what it means for the customer and what happens next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_name, is_currency
from email_validator import validate_email

from quittance.ledger.state import AnomalyKind
from quittance.models.money import Money

# Private helpers of the confirmation, imported on purpose so that every customer message
# validates, neutralises and formats in exactly one way.
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    DOMAIN_RE,
    NBSP,
    NNBSP,
    TEXTS,
    TONES,
    Language,
    Sender,
    Tone,
    UnsafeHeaderValue,
    build_message,
    checked_extra_headers,
    language_of,
    paid_at_text,
    require_single_line,
    require_web_url,
    single_line,
    template_environment,
    zone_info,
)
from quittance.notifications.extras import MarketingExtras, extras_context

__all__ = [
    "CARD_REFUND_DELAY_DAYS",
    "SEPA_REFUND_DELAY_DAYS",
    "AnomalyKind",
    "Sender",
    "UnsafeHeaderValue",
    "compose_anomaly_notice",
    "compose_refund_issued",
]

CARD_REFUND_DELAY_DAYS: tuple[int, int] = (5, 10)
"""Business days a card refund usually takes to reach the customer's account."""
SEPA_REFUND_DELAY_DAYS: tuple[int, int] = (1, 3)
"""Business days a SEPA transfer refund usually takes."""

# Labels shared with the payment confirmation, so the same fact reads the same everywhere.
_SHARED_LABELS = ("invoice", "paid_at", "contact", "email", "phone")

_REFUND_TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "subject": "Votre remboursement de {amount} est en route",
        "headline": "Remboursement en route",
        "sent_to_method": "Nous vous avons remboursé {amount} sur {method}.",
        "sent": (
            "Nous vous avons remboursé {amount} sur le moyen de paiement que vous aviez utilisé."
        ),
        "delay": (
            "Selon votre banque, la somme apparaît généralement sur votre compte sous {delay}."
        ),
        "credit_note": f"Avoir n°{NBSP}:",
        "original_receipt": f"Reçu d’origine n°{NBSP}:",
        "refunded": f"Montant remboursé{NBSP}:",
        "method": f"Moyen de paiement{NBSP}:",
        "refunded_at": f"Date du remboursement{NBSP}:",
        "link_intro": (
            f"Votre avoir {{credit_note}}, le document qui atteste ce remboursement, "
            f"est disponible à tout moment à cette adresse{NBSP}:"
        ),
        "link_button": "Voir et télécharger mon avoir",
        "survey_intro": (
            f"Une seule question, quelques secondes{NBSP}: "
            f"comment s’est passé ce remboursement pour vous{NNBSP}?"
        ),
        "survey_button": "Donner mon avis",
    },
    "en": {
        "subject": "Your refund of {amount} is on its way",
        "headline": "Refund on its way",
        "sent_to_method": "We have refunded {amount} to {method}.",
        "sent": "We have refunded {amount} to the payment method you used.",
        "delay": "Depending on your bank, it usually shows on your account within {delay}.",
        "credit_note": "Credit note no.:",
        "original_receipt": "Original receipt no.:",
        "refunded": "Amount refunded:",
        "method": "Payment method:",
        "refunded_at": "Refund date:",
        "link_intro": (
            "Your credit note {credit_note}, the document that records this refund, "
            "is available at any time at this address:"
        ),
        "link_button": "View and download my credit note",
        "survey_intro": "Just one question, a few seconds: how did this refund go for you?",
        "survey_button": "Give my feedback",
    },
}

_REFUND_OPENERS: dict[tuple[Language, Tone], str] = {
    ("fr", "formal"): "Nous vous informons que votre remboursement a été effectué.",
    ("fr", "warm"): f"Bonne nouvelle{NNBSP}: votre remboursement est parti{NNBSP}!",
    ("en", "formal"): "We are writing to confirm that your refund has been issued.",
    ("en", "warm"): "Good news: your refund is on its way!",
}

_ANOMALY_TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "subject": f"Facture {{invoice}}{NBSP}: {{topic}}",
        "received": f"Montant reçu{NBSP}:",
        "remaining": f"Reste à régler{NBSP}:",
        "to_refund": f"À rembourser{NBSP}:",
        "pay_intro": f"Vous pouvez régler le reste en ligne{NBSP}:",
        "pay_button": "Régler le reste",
        "receipt_intro": f"Le reçu de ce paiement est disponible à cette adresse{NBSP}:",
        "receipt_button": "Voir mon reçu",
    },
    "en": {
        "subject": "Invoice {invoice}: {topic}",
        "received": "Amount received:",
        "remaining": "Remaining balance:",
        "to_refund": "To be refunded:",
        "pay_intro": "You can pay the remaining balance online:",
        "pay_button": "Pay the remaining balance",
        "receipt_intro": "The receipt for this payment is available at this address:",
        "receipt_button": "View my receipt",
    },
}

_ANOMALY_OPENERS: dict[tuple[Language, Tone], str] = {
    ("fr", "formal"): "Nous souhaitons vous informer au sujet d’un paiement que nous avons reçu.",
    ("fr", "warm"): "Un petit mot au sujet d’un paiement que nous avons reçu de votre part.",
    ("en", "formal"): "We are writing to you about a payment we have received.",
    ("en", "warm"): "Just a quick note about a payment we've received from you.",
}


@dataclass(frozen=True)
class _Wording:
    topic: str
    """Subject line tail, lower case."""
    headline: str
    paragraphs: tuple[str, ...]


_ANOMALY_WORDING: dict[tuple[Language, AnomalyKind], _Wording] = {
    ("fr", AnomalyKind.PARTIAL_PAYMENT): _Wording(
        "paiement partiel reçu",
        "Paiement partiel reçu",
        (
            "Nous avons bien reçu {amount} pour la facture {invoice}. "
            "Il reste {difference} à régler.",
        ),
    ),
    ("en", AnomalyKind.PARTIAL_PAYMENT): _Wording(
        "partial payment received",
        "Partial payment received",
        (
            "We have received {amount} for invoice {invoice}. "
            "The remaining balance is {difference}.",
        ),
    ),
    ("fr", AnomalyKind.OVERPAYMENT): _Wording(
        "paiement supérieur au montant dû",
        "Paiement supérieur au montant dû",
        (
            "Vous avez payé {amount} pour la facture {invoice}, "
            "soit {difference} de plus que son montant.",
            "Nous vous rembourserons ces {difference} sur le même moyen de paiement, "
            "dans un délai de {days}. Vous n’avez rien à faire.",
        ),
    ),
    ("en", AnomalyKind.OVERPAYMENT): _Wording(
        "payment above the amount due",
        "Payment above the amount due",
        (
            "You paid {amount} for invoice {invoice}, "
            "which is {difference} more than the invoice amount.",
            "We will refund the {difference} to the same payment method within {days}. "
            "You don't need to do anything.",
        ),
    ),
    ("fr", AnomalyKind.POSSIBLE_DOUBLE_CHARGE): _Wording(
        "deuxième paiement reçu",
        "Deuxième paiement reçu",
        (
            "Nous avons reçu un deuxième paiement de {amount} pour la facture {invoice}, "
            "qui était déjà réglée.",
            "S’il s’agit d’une erreur, nous vous le rembourserons. "
            f"Vous n’avez rien à faire{NBSP}: nous vérifions et vous écrirons de nouveau.",
        ),
    ),
    ("en", AnomalyKind.POSSIBLE_DOUBLE_CHARGE): _Wording(
        "second payment received",
        "Second payment received",
        (
            "We have received a second payment of {amount} for invoice {invoice}, "
            "which had already been paid.",
            "If this is a mistake, we will refund it. "
            "No action is needed on your part: we are checking and will write to you again.",
        ),
    ),
    ("fr", AnomalyKind.CURRENCY_MISMATCH): _Wording(
        "paiement reçu dans une autre devise",
        "Paiement reçu dans une autre devise",
        (
            "Nous avons reçu {amount} en {paid_currency} pour la facture {invoice}, "
            "qui est établie en {invoice_currency}.",
            "Ce paiement ne pouvant pas servir à régler cette facture, nous vous le "
            "rembourserons sur le même moyen de paiement, et nous vous contacterons "
            "rapidement pour convenir de la suite.",
        ),
    ),
    ("en", AnomalyKind.CURRENCY_MISMATCH): _Wording(
        "payment received in a different currency",
        "Payment received in a different currency",
        (
            "We have received {amount} in {paid_currency} for invoice {invoice}, "
            "which is in {invoice_currency}.",
            "As this payment cannot be used to pay the invoice, we will refund it to the "
            "same payment method, and we will contact you shortly about the next steps.",
        ),
    ),
    ("fr", AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE): _Wording(
        "paiement reçu pour une facture annulée",
        "Paiement reçu pour une facture annulée",
        (
            "Nous avons bien reçu votre paiement de {amount} pour la facture {invoice}, "
            f"mais cette facture a été annulée{NBSP}: vous n’avez rien à payer à ce titre.",
            "Nous vous rembourserons ces {amount} sur le même moyen de paiement, "
            "dans un délai de {days}. Vous n’avez rien à faire.",
        ),
    ),
    ("en", AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE): _Wording(
        "payment received for a cancelled invoice",
        "Payment received for a cancelled invoice",
        (
            "We have received your payment of {amount} for invoice {invoice}, "
            "but this invoice was cancelled, so there is nothing to pay on it.",
            "We will refund the {amount} to the same payment method within {days}. "
            "You don't need to do anything.",
        ),
    ),
}

# Money the ledger returns rather than receipts (see ledger.state.derive).
_REFUNDED_WITHOUT_RECEIPT = frozenset(
    {AnomalyKind.CURRENCY_MISMATCH, AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE}
)

# Without a payment link, a partial payment still says how to pay the rest.
_PAY_THE_REST: dict[Language, str] = {
    "fr": (
        "Pour régler le reste, il vous suffit de payer {difference} de la même façon "
        "que la première fois, en indiquant la référence {invoice}."
    ),
    "en": (
        "To pay it, simply pay {difference} the same way as last time, quoting reference {invoice}."
    ),
}


@dataclass(frozen=True)
class _Envelope:
    """Everything validated before a message is built."""

    recipient: str
    name: str
    lang: Language
    tone: Tone
    zone: ZoneInfo
    extra_headers: dict[str, str]


def compose_refund_issued(
    *,
    sender: Sender,
    to_email: str,
    to_name: str | None,
    locale: str,
    tone: Tone,
    credit_note_number: str,
    receipt_number: str | None,
    invoice_number: str,
    refunded: Money,
    refunded_at: datetime,
    timezone: str,
    method_label: str | None,
    credit_note_url: str,
    survey_url: str | None,
    seller_name: str,
    seller_email: str,
    seller_phone: str,
    message_id_domain: str,
    delay_days: tuple[int, int] = CARD_REFUND_DELAY_DAYS,
    configuration_set_headers: Mapping[str, str] | None = None,
    extras: MarketingExtras | None = None,
) -> EmailMessage:
    """The "your refund is on its way" email: the amount, where it goes, how long it usually
    takes, the credit note (avoir) and, optionally, a one-question satisfaction survey.

    ``receipt_number`` is the receipt of the refunded payment, when there was one;
    ``method_label`` is a customer-facing description such as ``"Visa •••• 4242"`` (None:
    "the payment method you used"); ``delay_days`` is the usual range in business days
    (CARD_REFUND_DELAY_DAYS by default, SEPA_REFUND_DELAY_DAYS for a transfer).

    Transactional: no List-Unsubscribe. Raises ValueError (EmailNotValidError,
    UnsafeHeaderValue or a plain ValueError) before anything is built.
    """
    envelope = prepare_notice(
        sender=sender,
        to_email=to_email,
        to_name=to_name,
        locale=locale,
        tone=tone,
        timezone=timezone,
        seller_name=seller_name,
        seller_email=seller_email,
        seller_phone=seller_phone,
        message_id_domain=message_id_domain,
        configuration_set_headers=configuration_set_headers,
        own_values=(
            ("credit note number", credit_note_number),
            *((("receipt number", receipt_number),) if receipt_number is not None else ()),
        ),
        moments=(("refunded_at", refunded_at),),
        urls=(("credit_note_url", credit_note_url), ("survey_url", survey_url)),
    )
    low, high = delay_days
    if not 1 <= low <= high:
        raise ValueError("delay_days must be (low, high) with 1 <= low <= high")
    if refunded.amount_minor <= 0:
        raise ValueError("refunded must be a positive amount")

    lang = envelope.lang
    texts = _REFUND_TEXTS[lang]
    labels = notice_labels(lang)
    amount = refunded.format(BABEL_LOCALES[lang])
    method = single_line(method_label) if method_label else ""
    invoice = single_line(invoice_number)
    refunded_when = paid_at_text(refunded_at, envelope.zone, lang)

    details = [
        (texts["credit_note"], credit_note_number),
        (labels["invoice"], invoice),
        *([(texts["original_receipt"], receipt_number)] if receipt_number else []),
        (texts["refunded"], amount),
        *([(texts["method"], method)] if method else []),
        (texts["refunded_at"], refunded_when),
    ]
    context = notice_context(envelope, seller_name, seller_email, seller_phone) | {
        "t": labels,
        "opener": _REFUND_OPENERS[(lang, envelope.tone)],
        "headline": texts["headline"],
        "badge": "success",
        "invoice_number": invoice,
        "paragraphs": [
            (texts["sent_to_method"] if method else texts["sent"]).format(
                amount=amount, method=method
            ),
            texts["delay"].format(delay=business_days_text(lang, low, high)),
        ],
        "details": details,
        "links": [
            {
                "intro": texts["link_intro"].format(credit_note=credit_note_number),
                "url": credit_note_url,
                "button": texts["link_button"],
            }
        ],
        "survey": (
            {"intro": texts["survey_intro"], "url": survey_url, "button": texts["survey_button"]}
            if survey_url
            else None
        ),
    }
    return assemble_notice(
        envelope,
        sender=sender,
        seller_name=seller_name,
        seller_email=seller_email,
        message_id_domain=message_id_domain,
        subject=texts["subject"].format(amount=amount),
        template="refund_issued",
        context=context,
        extras=extras,
    )


def compose_anomaly_notice(
    *,
    sender: Sender,
    to_email: str,
    to_name: str | None,
    locale: str,
    tone: Tone,
    kind: AnomalyKind,
    invoice_number: str,
    amount: Money,
    difference: Money | None,
    paid_at: datetime,
    timezone: str,
    receipt_url: str | None,
    seller_name: str,
    seller_email: str,
    seller_phone: str,
    message_id_domain: str,
    invoice_currency: str | None = None,
    payment_url: str | None = None,
    refund_within_days: int = 10,
    configuration_set_headers: Mapping[str, str] | None = None,
    extras: MarketingExtras | None = None,
) -> EmailMessage:
    """A kind, jargon-free note about a payment that did not simply settle its invoice.

    ``amount`` is the payment received and ``difference`` what is missing
    (PARTIAL_PAYMENT) or in excess (OVERPAYMENT); both kinds require it, in the payment's
    currency, and the others ignore it. CURRENCY_MISMATCH requires ``invoice_currency``
    (ISO 4217), different from the payment's. ``payment_url`` (PARTIAL_PAYMENT only) links
    to where the rest can be paid; without it the notice says to pay the same way as before.
    ``refund_within_days`` is the promise made for OVERPAYMENT and
    PAYMENT_ON_CANCELLED_INVOICE. ``receipt_url``, when given, links to the payment's receipt;
    CURRENCY_MISMATCH and PAYMENT_ON_CANCELLED_INVOICE payments are refunded, not receipted,
    so they refuse one.

    Never says the invoice is settled. Raises ValueError (EmailNotValidError,
    UnsafeHeaderValue or a plain ValueError) before anything is built.
    """
    kind = AnomalyKind(kind)
    envelope = prepare_notice(
        sender=sender,
        to_email=to_email,
        to_name=to_name,
        locale=locale,
        tone=tone,
        timezone=timezone,
        seller_name=seller_name,
        seller_email=seller_email,
        seller_phone=seller_phone,
        message_id_domain=message_id_domain,
        configuration_set_headers=configuration_set_headers,
        own_values=(),
        moments=(("paid_at", paid_at),),
        urls=(("receipt_url", receipt_url), ("payment_url", payment_url)),
    )
    if kind in (AnomalyKind.PARTIAL_PAYMENT, AnomalyKind.OVERPAYMENT):
        if difference is None or difference.amount_minor <= 0:
            raise ValueError(f"{kind.value} needs a positive difference")
        if difference.currency != amount.currency:
            raise ValueError("difference must be in the payment's currency")
    if kind is AnomalyKind.CURRENCY_MISMATCH and (
        invoice_currency is None
        or not is_currency(invoice_currency)
        or invoice_currency == amount.currency
    ):
        raise ValueError("currency_mismatch needs the invoice's other ISO 4217 currency")
    if refund_within_days < 1:
        raise ValueError("refund_within_days must be at least 1")
    if receipt_url is not None and kind in _REFUNDED_WITHOUT_RECEIPT:
        raise ValueError(f"a {kind.value} payment is refunded, not receipted: no receipt_url")

    lang = envelope.lang
    babel_locale = BABEL_LOCALES[lang]
    texts = _ANOMALY_TEXTS[lang]
    labels = notice_labels(lang)
    wording = _ANOMALY_WORDING[(lang, kind)]
    invoice = single_line(invoice_number)
    received = amount.format(babel_locale)
    gap = difference.format(babel_locale) if difference is not None else ""
    values = {
        "amount": received,
        "difference": gap,
        "invoice": invoice,
        "days": _days(lang, refund_within_days),
        "paid_currency": _currency_name(amount.currency, babel_locale),
        "invoice_currency": (
            _currency_name(invoice_currency, babel_locale) if invoice_currency else ""
        ),
    }
    paragraphs = [paragraph.format(**values) for paragraph in wording.paragraphs]
    details = [
        (labels["invoice"], invoice),
        (labels["paid_at"], paid_at_text(paid_at, envelope.zone, lang)),
        (texts["received"], received),
    ]
    links: list[dict[str, str]] = []
    if kind is AnomalyKind.PARTIAL_PAYMENT:
        details.append((texts["remaining"], gap))
        if payment_url:
            links.append(
                {"intro": texts["pay_intro"], "url": payment_url, "button": texts["pay_button"]}
            )
        else:
            paragraphs.append(_PAY_THE_REST[lang].format(**values))
    elif kind is AnomalyKind.OVERPAYMENT:
        details.append((texts["to_refund"], gap))
    elif kind in (AnomalyKind.CURRENCY_MISMATCH, AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE):
        details.append((texts["to_refund"], received))
    if receipt_url:
        links.append(
            {
                "intro": texts["receipt_intro"],
                "url": receipt_url,
                "button": texts["receipt_button"],
            }
        )

    context = notice_context(envelope, seller_name, seller_email, seller_phone) | {
        "t": labels,
        "opener": _ANOMALY_OPENERS[(lang, envelope.tone)],
        "headline": wording.headline,
        "badge": "info",
        "invoice_number": invoice,
        "paragraphs": paragraphs,
        "details": details,
        "links": links,
    }
    return assemble_notice(
        envelope,
        sender=sender,
        seller_name=seller_name,
        seller_email=seller_email,
        message_id_domain=message_id_domain,
        subject=texts["subject"].format(invoice=invoice, topic=wording.topic),
        template="anomaly_notice",
        context=context,
        extras=extras,
    )


def prepare_notice(
    *,
    sender: Sender,
    to_email: str,
    to_name: str | None,
    locale: str,
    tone: Tone,
    timezone: str,
    seller_name: str,
    seller_email: str,
    seller_phone: str,
    message_id_domain: str,
    configuration_set_headers: Mapping[str, str] | None,
    own_values: Iterable[tuple[str, str]],
    moments: Iterable[tuple[str, datetime]],
    urls: Iterable[tuple[str, str | None]],
) -> _Envelope:
    """The confirmation's checks, in its order: configuration, then arguments, then address."""
    for label, value in (
        ("sender name", sender.name),
        ("sender email", sender.email),
        ("seller name", seller_name),
        ("seller email", seller_email),
        ("seller phone", seller_phone),
        *own_values,
    ):
        require_single_line(label, value)
    if not DOMAIN_RE.fullmatch(message_id_domain):
        raise UnsafeHeaderValue("message_id_domain must be a plain host name")
    extra_headers = checked_extra_headers(configuration_set_headers or {})
    if tone not in ("formal", "warm"):
        raise ValueError(f"unknown tone {tone!r}")
    for label, moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{label} must carry a timezone")
    zone = zone_info(timezone)
    for label, url in urls:
        if url is not None:
            try:
                require_web_url(url)
            except ValueError:
                raise ValueError(f"{label} must be an absolute http(s) URL") from None
    recipient = validate_email(to_email, check_deliverability=False, allow_smtputf8=False)
    return _Envelope(
        recipient=recipient.ascii_email or recipient.normalized,
        name=single_line(to_name) if to_name else "",
        lang=language_of(locale),
        tone=tone,
        zone=zone,
        extra_headers=extra_headers,
    )


def notice_labels(lang: Language) -> dict[str, str]:
    return {key: TEXTS[lang][key] for key in _SHARED_LABELS}


def notice_context(
    envelope: _Envelope, seller_name: str, seller_email: str, seller_phone: str
) -> dict[str, Any]:
    tone_texts = TONES[(envelope.lang, envelope.tone)]
    name = envelope.name
    return {
        "lang": envelope.lang,
        "greeting": (
            tone_texts["greeting_named"].format(name=name) if name else tone_texts["greeting"]
        ),
        "closing": tone_texts["closing"],
        "contact": TEXTS[envelope.lang]["contact"].format(seller=seller_name),
        "seller_name": seller_name,
        "seller_email": seller_email,
        "seller_phone": seller_phone,
        "seller_phone_href": re.sub(r"[^\d+]", "", seller_phone),
    }


def assemble_notice(
    envelope: _Envelope,
    *,
    sender: Sender,
    seller_name: str,
    seller_email: str,
    message_id_domain: str,
    subject: str,
    template: str,
    context: Mapping[str, Any],
    extras: MarketingExtras | None = None,
) -> EmailMessage:
    """Render both parts; headers and parts are the confirmation's own (build_message)."""
    if extras is not None:
        extras.check()
    full = {**context, "extras": extras_context(extras, envelope.lang)}
    env = template_environment()
    text_body = env.get_template(f"{template}.txt.j2").render(**full)
    html_body = env.get_template(f"{template}.html.j2").render(**full)

    return build_message(
        sender=sender,
        to_name=envelope.name,
        to_address=envelope.recipient,
        seller_name=seller_name,
        seller_email=seller_email,
        subject=subject,
        message_id_domain=message_id_domain,
        extra_headers=envelope.extra_headers,
        text_body=text_body,
        html_body=html_body,
        list_unsubscribe=extras.unsubscribe_url if extras else None,
    )


def business_days_text(lang: Language, low: int, high: int) -> str:
    if lang == "fr":
        if low == high:
            return f"{low} jour ouvré" if low == 1 else f"{low} jours ouvrés"
        return f"{low} à {high} jours ouvrés"
    if low == high:
        return f"{low} business day" if low == 1 else f"{low} business days"
    return f"{low} to {high} business days"


def _days(lang: Language, days: int) -> str:
    if lang == "fr":
        return f"{days} jour" if days == 1 else f"{days} jours"
    return f"{days} day" if days == 1 else f"{days} days"


def _currency_name(code: str, babel_locale: str) -> str:
    # The plural form reads naturally after "in"/"en": "in US dollars", "en euros".
    return str(get_currency_name(code, count=2, locale=babel_locale))
