"""The payment-confirmation email: a transactional message, French or English, formal (B2B)
or warm (B2C), with a plain-text and an HTML alternative, built with the email kit
(:mod:`quittance.notifications.email_kit`, which also says how headers are kept safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from quittance.models.events import PaymentMethod
from quittance.models.money import Money
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    TEXTS,
    TONES,
    Attachment,
    Letterhead,
    Recipient,
    base_context,
    paid_at_text,
    prepare_envelope,
    render_message,
    single_line,
)
from quittance.notifications.extras import MarketingExtras
from quittance.notifications.proofs import method_rows


@dataclass(frozen=True)
class PaymentConfirmed:
    """The facts of a settled invoice, as the confirmation states them."""

    receipt_number: str
    invoice_number: str
    amount: Money
    paid_at: datetime
    receipt_url: str
    method: PaymentMethod | None = None
    """How it was paid: the message states its proof fields (``notifications.proofs``)."""


def compose_payment_confirmation(
    letterhead: Letterhead,
    recipient: Recipient,
    payment: PaymentConfirmed,
    *,
    attachment: Attachment | None = None,
    extras: MarketingExtras | None = None,
) -> EmailMessage:
    """The confirmation for one settled invoice, ready for SES ``SendEmail`` (raw content).

    ``attachment`` is the archived PDF when the customer asked for it; ``extras`` (only with
    marketing consent) adds the loyalty and offer block, an opt-out link and the
    List-Unsubscribe headers.

    Raises ``email_validator.EmailNotValidError`` (a ValueError) for an unusable recipient
    address and UnsafeHeaderValue (a ValueError) for an unsafe configuration value;
    both before anything is built.
    """
    # Validation first, so a refusal never leaves a half-built message behind.
    if extras is not None:
        extras.check()
    envelope = prepare_envelope(
        letterhead,
        recipient,
        own_values=(("receipt number", payment.receipt_number),),
        moments=(("paid_at", payment.paid_at),),
        urls=(("receipt_url", payment.receipt_url),),
    )
    lang = envelope.lang
    texts = TEXTS[lang]
    invoice = single_line(payment.invoice_number)
    context = base_context(envelope) | {
        "t": texts,
        "thanks": TONES[(lang, envelope.tone)]["thanks"],
        "invoice_number": invoice,
        "receipt_number": payment.receipt_number,
        "proofs": (
            method_rows(
                payment.method, lang, paid_on=payment.paid_at.astimezone(envelope.zone).date()
            )
            if payment.method
            else []
        ),
        "attached": attachment is not None,
        "amount": payment.amount.format(BABEL_LOCALES[lang]),
        "paid_at": paid_at_text(payment.paid_at, envelope.zone, lang),
        "receipt_url": payment.receipt_url,
    }
    return render_message(
        envelope,
        subject=texts["subject"].format(receipt=payment.receipt_number, invoice=invoice),
        template="payment_confirmation",
        context=context,
        extras=extras,
        attachment=attachment,
    )
