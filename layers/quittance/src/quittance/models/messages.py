"""Messages between functions (one queue each). Versioned so that producers and consumers can
be deployed one after the other; contract tests pin their shape."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from quittance.models.events import FailureCategory, PaymentEvent, PaymentMethod, UtcDateTime
from quittance.models.money import Money


class PaymentEventMessage(BaseModel):
    """intake → ledger, on the payment-events queue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    correlation_id: str
    received_at: UtcDateTime
    event: PaymentEvent


class ReceiptJob(BaseModel):
    """ledger → receipts, on the receipt-jobs queue: render and archive one numbered document
    (a receipt, or a credit note for a refund)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    correlation_id: str
    kind: Literal["receipt", "credit_note"] = "receipt"
    receipt_number: str
    original_receipt_number: str | None = None
    refund_id: str | None = None
    anomaly: str | None = None
    """The anomaly this payment raised (partial_payment, overpayment, …), if any."""
    invoice_number: str
    payment_id: str
    customer_id: str
    paid_at: UtcDateTime
    issued_at: UtcDateTime
    amount: Money
    method: PaymentMethod
    invoice_status: str
    balance_due: Money
    next_steps: str | None = None


class NotificationJob(BaseModel):
    """receipts (or ledger) → notify, on the notifications queue: tell the customer once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    correlation_id: str
    kind: Literal[
        "payment_confirmed",
        "refund_issued",
        "anomaly_notice",
        "payment_failed",
        "partial_payment",
        "invoice_reminder",
    ]
    # Overrides the profile's preference (e.g. SMS fallback after a hard bounce).
    channels: tuple[Literal["email", "sms"], ...] | None = None
    change_id: str = Field(description="The ledger change this message is about; unique per send")
    customer_id: str
    receipt_number: str | None
    """The document the message links to; None for an anomaly with no receipt."""
    original_receipt_number: str | None = None
    invoice_number: str
    amount: Money
    paid_at: UtcDateTime
    anomaly: str | None = None
    difference: Money | None = None
    invoice_currency: str | None = None
    """The invoice's currency, which a currency-mismatch notice names."""
    failure: FailureCategory | None = None
    """Why the attempt failed (payment_failed), in the canonical categories."""
    payment_update_url: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=2048)
    """Where the gateway lets the customer pay again or change the card (Stripe's hosted
    invoice page, a Checkout recovery link). A failed-payment message prefers it to the
    seller's static ``PaymentUpdateUrlTemplate``, which cannot know the gateway's page."""
    due_date: date | None = None
    """An invoice reminder's due date (its ``amount`` is the balance due and its ``paid_at``
    the moment the reminder was queued)."""
