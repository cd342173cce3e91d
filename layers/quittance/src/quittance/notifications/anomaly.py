"""Payment-anomaly notices (partial payment, overpayment, a second payment, another
currency, a payment on a cancelled invoice): transactional emails, French or English, formal
(B2B) or warm (B2C), with a plain-text and an HTML alternative, built with the email kit
(:mod:`quittance.notifications.email_kit`) on the shared notice layout.

An anomaly notice never says the invoice is settled ("facture soldée", "paid in full"): it
says what arrived, what it means for the customer and what happens next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from babel.numbers import get_currency_name, is_currency

from quittance.ledger.state import AnomalyKind
from quittance.models.events import PaymentMethod
from quittance.models.money import Money
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    NBSP,
    Language,
    Letterhead,
    Recipient,
    Tone,
    base_context,
    paid_at_text,
    prepare_envelope,
    render_message,
    shared_labels,
    single_line,
)
from quittance.notifications.extras import MarketingExtras
from quittance.notifications.proofs import method_rows

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
class PaymentAnomaly:
    """A payment that did not simply settle its invoice, as its notice states it.

    ``amount`` is the payment received and ``difference`` what is missing
    (PARTIAL_PAYMENT) or in excess (OVERPAYMENT); both kinds require it, in the payment's
    currency, and the others ignore it. CURRENCY_MISMATCH requires ``invoice_currency``
    (ISO 4217), different from the payment's. ``payment_url`` (PARTIAL_PAYMENT only) links
    to where the rest can be paid; without it the notice says to pay the same way as before.
    ``refund_within_days`` is the promise made for OVERPAYMENT and
    PAYMENT_ON_CANCELLED_INVOICE. ``receipt_url``, when given, links to the payment's receipt;
    CURRENCY_MISMATCH and PAYMENT_ON_CANCELLED_INVOICE payments are refunded, not receipted,
    so they refuse one."""

    kind: AnomalyKind
    invoice_number: str
    amount: Money
    paid_at: datetime
    difference: Money | None = None
    receipt_url: str | None = None
    invoice_currency: str | None = None
    payment_url: str | None = None
    refund_within_days: int = 10
    method: PaymentMethod | None = None
    """How the payment arrived: the notice states its proof fields (``notifications.proofs``)."""


def compose_anomaly_notice(
    letterhead: Letterhead,
    recipient: Recipient,
    anomaly: PaymentAnomaly,
    *,
    extras: MarketingExtras | None = None,
) -> EmailMessage:
    """A kind, jargon-free note about a payment that did not simply settle its invoice
    (PaymentAnomaly says what each kind needs).

    Never says the invoice is settled. Raises ValueError (EmailNotValidError,
    UnsafeHeaderValue or a plain ValueError) before anything is built.
    """
    kind = AnomalyKind(anomaly.kind)
    amount, difference = anomaly.amount, anomaly.difference
    invoice_currency, receipt_url = anomaly.invoice_currency, anomaly.receipt_url
    payment_url = anomaly.payment_url
    paid_at = anomaly.paid_at
    envelope = prepare_envelope(
        letterhead,
        recipient,
        moments=(("paid_at", paid_at),),
        urls=(("receipt_url", receipt_url), ("payment_url", payment_url)),
    )
    _refuse_incomplete(anomaly, kind)

    lang = envelope.lang
    babel_locale = BABEL_LOCALES[lang]
    texts = _ANOMALY_TEXTS[lang]
    labels = shared_labels(lang)
    wording = _ANOMALY_WORDING[(lang, kind)]
    invoice = single_line(anomaly.invoice_number)
    received = amount.format(babel_locale)
    gap = difference.format(babel_locale) if difference is not None else ""
    values = {
        "amount": received,
        "difference": gap,
        "invoice": invoice,
        "days": _days(lang, anomaly.refund_within_days),
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
    if anomaly.method:
        paid_on = paid_at.astimezone(envelope.zone).date()
        details.extend(method_rows(anomaly.method, lang, paid_on=paid_on))
    if receipt_url:
        links.append(
            {
                "intro": texts["receipt_intro"],
                "url": receipt_url,
                "button": texts["receipt_button"],
            }
        )

    context = base_context(envelope) | {
        "t": labels,
        "opener": _ANOMALY_OPENERS[(lang, envelope.tone)],
        "headline": wording.headline,
        "badge": "info",
        "invoice_number": invoice,
        "paragraphs": paragraphs,
        "details": details,
        "links": links,
    }
    return render_message(
        envelope,
        subject=texts["subject"].format(invoice=invoice, topic=wording.topic),
        template="anomaly_notice",
        context=context,
        extras=extras,
    )


def _refuse_incomplete(anomaly: PaymentAnomaly, kind: AnomalyKind) -> None:
    """ValueError for a notice its kind cannot state (see PaymentAnomaly)."""
    amount, difference, invoice_currency = (
        anomaly.amount,
        anomaly.difference,
        anomaly.invoice_currency,
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
    if anomaly.refund_within_days < 1:
        raise ValueError("refund_within_days must be at least 1")
    if anomaly.receipt_url is not None and kind in _REFUNDED_WITHOUT_RECEIPT:
        raise ValueError(f"a {kind.value} payment is refunded, not receipted: no receipt_url")


def _days(lang: Language, days: int) -> str:
    if lang == "fr":
        return f"{days} jour" if days == 1 else f"{days} jours"
    return f"{days} day" if days == 1 else f"{days} days"


def _currency_name(code: str, babel_locale: str) -> str:
    # The plural form reads naturally after "in"/"en": "in US dollars", "en euros".
    return str(get_currency_name(code, count=2, locale=babel_locale))
