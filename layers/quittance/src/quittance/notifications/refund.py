"""The "your refund is on its way" email: a transactional message, French or English, formal
(B2B) or warm (B2C), with a plain-text and an HTML alternative, built with the email kit
(:mod:`quittance.notifications.email_kit`: the same header safety, address validation,
Jinja2 environment and Babel formatting as every customer message) on the shared notice
layout (``notice_layout.*.j2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from quittance.models.events import PaymentMethod
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
    business_days_text,
    paid_at_text,
    prepare_envelope,
    render_message,
    shared_labels,
    single_line,
)
from quittance.notifications.extras import MarketingExtras
from quittance.notifications.proofs import method_rows

CARD_REFUND_DELAY_DAYS: tuple[int, int] = (5, 10)
"""Business days a card refund usually takes to reach the customer's account."""
SEPA_REFUND_DELAY_DAYS: tuple[int, int] = (1, 3)
"""Business days a SEPA transfer refund usually takes."""

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


@dataclass(frozen=True)
class RefundIssued:
    """The facts of one refund, as its message states them."""

    credit_note_number: str
    invoice_number: str
    refunded: Money
    refunded_at: datetime
    credit_note_url: str
    receipt_number: str | None = None
    """The receipt of the refunded payment, when there was one."""
    method: PaymentMethod | None = None
    """Where the money goes back (None: "the payment method you used")."""
    survey_url: str | None = None
    delay_days: tuple[int, int] = CARD_REFUND_DELAY_DAYS
    """The usual range in business days (SEPA_REFUND_DELAY_DAYS for a transfer)."""


def compose_refund_issued(
    letterhead: Letterhead,
    recipient: Recipient,
    refund: RefundIssued,
    *,
    extras: MarketingExtras | None = None,
) -> EmailMessage:
    """The "your refund is on its way" email: the amount, where it goes, how long it usually
    takes, the credit note (avoir) and, optionally, a one-question satisfaction survey.

    Transactional: no List-Unsubscribe. Raises ValueError (EmailNotValidError,
    UnsafeHeaderValue or a plain ValueError) before anything is built.
    """
    receipt_number = refund.receipt_number
    envelope = prepare_envelope(
        letterhead,
        recipient,
        own_values=(
            ("credit note number", refund.credit_note_number),
            *((("receipt number", receipt_number),) if receipt_number is not None else ()),
        ),
        moments=(("refunded_at", refund.refunded_at),),
        urls=(("credit_note_url", refund.credit_note_url), ("survey_url", refund.survey_url)),
    )
    low, high = refund.delay_days
    if not 1 <= low <= high:
        raise ValueError("delay_days must be (low, high) with 1 <= low <= high")
    if refund.refunded.amount_minor <= 0:
        raise ValueError("refunded must be a positive amount")

    lang = envelope.lang
    texts = _REFUND_TEXTS[lang]
    labels = shared_labels(lang)
    amount = refund.refunded.format(BABEL_LOCALES[lang])
    # Where the money goes back, by name: the credit note, not the payment's proofs, is
    # what records a refund.
    proofs = method_rows(refund.method, lang)[:1] if refund.method else []
    method = proofs[0][1] if proofs else ""
    invoice = single_line(refund.invoice_number)
    refunded_when = paid_at_text(refund.refunded_at, envelope.zone, lang)

    details = [
        (texts["credit_note"], refund.credit_note_number),
        (labels["invoice"], invoice),
        *([(texts["original_receipt"], receipt_number)] if receipt_number else []),
        (texts["refunded"], amount),
        *proofs,
        (texts["refunded_at"], refunded_when),
    ]
    survey_url = refund.survey_url
    context = base_context(envelope) | {
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
                "intro": texts["link_intro"].format(credit_note=refund.credit_note_number),
                "url": refund.credit_note_url,
                "button": texts["link_button"],
            }
        ],
        "survey": (
            {"intro": texts["survey_intro"], "url": survey_url, "button": texts["survey_button"]}
            if survey_url
            else None
        ),
    }
    return render_message(
        envelope,
        subject=texts["subject"].format(amount=amount),
        template="refund_issued",
        context=context,
        extras=extras,
    )
