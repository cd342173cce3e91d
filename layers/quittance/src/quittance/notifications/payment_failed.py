"""The "your payment did not go through" email: kind, free of jargon, sure to say that no
amount was charged, giving the reason in plain words and a direct link to fix the payment
method. Transactional: it carries no unsubscribe (and, from dispatch, no marketing extras).

It is built like the other notices (``refund.py``, ``anomaly.py``): same checks, same
layout, same headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from quittance.models.events import FailureCategory
from quittance.models.money import Money
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    NBSP,
    NNBSP,
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

_TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "subject": f"Facture {{invoice}}{NBSP}: votre paiement n’a pas abouti",
        "headline": "Paiement non abouti",
        "what": (
            "Votre paiement de {amount} pour la facture {invoice} n’a pas abouti, car {reason}."
        ),
        "nothing_charged": f"Rassurez-vous{NBSP}: aucun montant n’a été débité.",
        "retry": (
            "Pour régler la facture, il vous suffit de mettre à jour votre moyen de paiement "
            "ou d’en choisir un autre, puis de réessayer."
        ),
        "retry_without_link": (
            "Pour régler la facture, vous pouvez réessayer avec un autre moyen de paiement, "
            "en indiquant la référence {invoice}."
        ),
        "amount": f"Montant{NBSP}:",
        "attempted_at": f"Tentative du{NBSP}:",
        "link_intro": f"Mettre à jour votre moyen de paiement{NBSP}:",
        "link_button": "Mettre à jour mon moyen de paiement",
    },
    "en": {
        "subject": "Invoice {invoice}: your payment did not go through",
        "headline": "Payment not completed",
        "what": "Your payment of {amount} for invoice {invoice} did not go through, as {reason}.",
        "nothing_charged": "Rest assured: no amount was charged.",
        "retry": (
            "To pay the invoice, simply update your payment method or choose another one, "
            "then try again."
        ),
        "retry_without_link": (
            "To pay the invoice, you can try again with another payment method, quoting "
            "reference {invoice}."
        ),
        "amount": "Amount:",
        "attempted_at": "Attempted on:",
        "link_intro": "Update your payment method:",
        "link_button": "Update my payment method",
    },
}

_REASONS: dict[Language, dict[FailureCategory, str]] = {
    "fr": {
        FailureCategory.INSUFFICIENT_FUNDS: (
            "votre banque l’a refusé, le solde disponible sur le compte étant insuffisant"
        ),
        FailureCategory.EXPIRED_CARD: "la carte utilisée a expiré",
        FailureCategory.SUSPECTED_FRAUD: (
            "votre banque l’a bloqué par précaution, le trouvant inhabituel"
        ),
        FailureCategory.AUTHENTICATION_REQUIRED: (
            "la confirmation demandée par votre banque (code ou validation dans son "
            "application) n’a pas été faite"
        ),
        FailureCategory.DECLINED: "votre banque l’a refusé sans nous en donner la raison",
        FailureCategory.TECHNICAL: (
            "un incident technique l’a interrompu (vous n’y êtes pour rien)"
        ),
    },
    "en": {
        FailureCategory.INSUFFICIENT_FUNDS: (
            "your bank declined it because there were not enough funds available"
        ),
        FailureCategory.EXPIRED_CARD: "the card used has expired",
        FailureCategory.SUSPECTED_FRAUD: (
            "your bank blocked it as a precaution because it looked unusual"
        ),
        FailureCategory.AUTHENTICATION_REQUIRED: (
            "the check your bank asked for (a code or a confirmation in its app) was not completed"
        ),
        FailureCategory.DECLINED: "your bank declined it without telling us why",
        FailureCategory.TECHNICAL: "a technical problem interrupted it (nothing you did wrong)",
    },
}

_OPENERS: dict[tuple[Language, Tone], str] = {
    ("fr", "formal"): "Nous vous informons qu’un paiement n’a pas pu être effectué.",
    ("fr", "warm"): f"Petit contretemps avec votre paiement{NNBSP}: rien de grave.",
    ("en", "formal"): "We are writing to let you know that a payment could not be completed.",
    ("en", "warm"): "A small hiccup with your payment: nothing serious.",
}


def failure_reason(category: FailureCategory, lang: Language) -> str:
    """The reason in plain words, as the email (and the SMS) say it."""
    return _REASONS[lang][FailureCategory(category)]


@dataclass(frozen=True)
class FailedPayment:
    """One failed attempt, as its message states it. ``update_url`` is where the customer
    updates their payment method; without it the message says how to try again."""

    invoice_number: str
    amount: Money
    failed_at: datetime
    reason: FailureCategory
    update_url: str | None = None


def compose_payment_failed(
    letterhead: Letterhead, recipient: Recipient, failure: FailedPayment
) -> EmailMessage:
    """The message for one failed attempt.

    Raises ValueError (EmailNotValidError, UnsafeHeaderValue or a plain ValueError) before
    anything is built.
    """
    amount, update_url, failed_at = failure.amount, failure.update_url, failure.failed_at
    envelope = prepare_envelope(
        letterhead,
        recipient,
        moments=(("failed_at", failed_at),),
        urls=(("update_url", update_url),),
    )
    if amount.amount_minor <= 0:
        raise ValueError("amount must be a positive amount")
    lang = envelope.lang
    texts = _TEXTS[lang]
    labels = shared_labels(lang)
    invoice = single_line(failure.invoice_number)
    shown = amount.format(BABEL_LOCALES[lang])
    paragraphs = [
        texts["what"].format(
            amount=shown, invoice=invoice, reason=failure_reason(failure.reason, lang)
        ),
        texts["nothing_charged"],
        texts["retry"] if update_url else texts["retry_without_link"].format(invoice=invoice),
    ]
    context = base_context(envelope) | {
        "t": labels,
        "opener": _OPENERS[(lang, envelope.tone)],
        "headline": texts["headline"],
        "badge": "info",
        "invoice_number": invoice,
        "paragraphs": paragraphs,
        "details": [
            (labels["invoice"], invoice),
            (texts["amount"], shown),
            (texts["attempted_at"], paid_at_text(failed_at, envelope.zone, lang)),
        ],
        "links": (
            [{"intro": texts["link_intro"], "url": update_url, "button": texts["link_button"]}]
            if update_url
            else []
        ),
    }
    return render_message(
        envelope,
        subject=texts["subject"].format(invoice=invoice),
        template="payment_failed",
        context=context,
    )
