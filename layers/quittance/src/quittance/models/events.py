"""The canonical payment event every provider adapter produces."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from quittance.models.money import Money


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_aware_utc)]


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    REFUND_ISSUED = "refund.issued"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_CLOSED = "dispute.closed"


class MethodKind(StrEnum):
    CARD = "card"
    SEPA_TRANSFER = "sepa_transfer"
    SEPA_DEBIT = "sepa_debit"
    CHEQUE = "cheque"
    CASH = "cash"
    WALLET = "wallet"
    OTHER = "other"


class PaymentMethod(BaseModel):
    """How the money moved, with the proof fields a receipt shows. Never a full PAN or IBAN."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MethodKind
    transaction_id: str | None = None
    card_brand: str | None = None
    card_last4: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    transfer_reference: str | None = None
    # Country, check digits, masked middle, at most four shown characters, in any grouping
    # ("FR76 **** **** **** **** ***0 189").
    iban_masked: (
        Annotated[str, Field(pattern=r"^[A-Z]{2}\d{2}[*•\s]*[*•](\s*[A-Z0-9]){0,4}\s*$")] | None
    ) = None
    value_date: date | None = None
    mandate_reference: str | None = None
    cheque_number: str | None = None
    cheque_bank: str | None = None
    """The bank a cheque is drawn on."""
    cashing_date: date | None = None
    received_by: str | None = None
    wallet_provider: str | None = None


class FailureCategory(StrEnum):
    """Why a payment failed, in words a customer understands (the provider's code is kept)."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    SUSPECTED_FRAUD = "suspected_fraud"
    AUTHENTICATION_REQUIRED = "authentication_required"
    DECLINED = "declined"
    TECHNICAL = "technical"


class Failure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: FailureCategory
    provider_code: str | None = Field(default=None, max_length=128)
    message: str | None = Field(default=None, max_length=500)
    attempt_id: str | None = Field(default=None, max_length=255)
    """The gateway's own id of the failed attempt (Stripe's Charge), when several events
    report the same attempt (``payment_intent.payment_failed`` and ``invoice.payment_failed``):
    the payer is told once per attempt, not once per event."""
    payment_update_url: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=2048)
    """Where the gateway lets the payer pay again or change the card (Stripe's hosted invoice
    page, a Checkout Session still open or its recovery link); the failed-payment message
    prefers it to the seller's static ``PaymentUpdateUrlTemplate``."""


class Refund(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    refund_id: str = Field(min_length=1, max_length=255)
    amount: Money
    reason: str | None = Field(default=None, max_length=200)


class DisputeOutcome(StrEnum):
    WON = "won"
    LOST = "lost"


class Dispute(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dispute_id: str = Field(min_length=1, max_length=255)
    amount: Money
    reason: str | None = Field(default=None, max_length=200)
    outcome: DisputeOutcome | None = None
    """Set when the dispute is closed."""


class CustomerDetails(BaseModel):
    """What the event tells about the payer; personal data, kept only where needed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    locale: str | None = Field(default=None, max_length=16)
    address: str | None = Field(default=None, max_length=500)
    """Postal address on one or more lines, as printed on the receipt."""
    marketing_consent: bool | None = None
    """What the payer chose at checkout, when the gateway passes it on (None: not asked)."""


class PaymentEvent(BaseModel):
    """One thing that happened to one payment, in quittance's own words."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1, max_length=255)
    provider: str
    type: EventType
    occurred_at: UtcDateTime
    payment_id: str = Field(min_length=1, max_length=255)
    invoice_number: str | None = Field(default=None, max_length=64)
    amount: Money
    method: PaymentMethod
    customer: CustomerDetails | None = None
    """Who paid; required for a successful payment, often unknown on refunds and disputes."""
    failure: Failure | None = None
    refund: Refund | None = None
    dispute: Dispute | None = None
    livemode: bool = True
    next_steps: str | None = Field(default=None, max_length=500)
    """What the business tells the customer happens now (shipping, access, an appointment),
    printed on the receipt when the gateway's metadata carries it."""

    @model_validator(mode="after")
    def _details_match_type(self) -> PaymentEvent:
        required = {
            EventType.PAYMENT_FAILED: ("failure", self.failure),
            EventType.REFUND_ISSUED: ("refund", self.refund),
            EventType.DISPUTE_OPENED: ("dispute", self.dispute),
            EventType.DISPUTE_CLOSED: ("dispute", self.dispute),
        }.get(self.type)
        if self.type is EventType.PAYMENT_SUCCEEDED and self.customer is None:
            raise ValueError("a payment.succeeded event needs its customer")
        if required is not None and required[1] is None:
            raise ValueError(f"a {self.type.value} event needs its {required[0]} details")
        if self.type is EventType.DISPUTE_CLOSED and self.dispute and not self.dispute.outcome:
            raise ValueError("a closed dispute needs its outcome")
        return self

    @property
    def dedupe_key(self) -> str:
        return f"{self.provider}#{self.event_id}"
