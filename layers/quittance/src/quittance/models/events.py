"""The canonical payment event every provider adapter produces."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
    iban_masked: Annotated[str, Field(pattern=r"^[A-Z]{2}\d{2}[*•\s]*[A-Z0-9]{0,4}$")] | None = None
    value_date: date | None = None
    mandate_reference: str | None = None
    cheque_number: str | None = None
    cashing_date: date | None = None
    received_by: str | None = None
    wallet_provider: str | None = None


class CustomerDetails(BaseModel):
    """What the event tells about the payer; personal data, kept only where needed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    locale: str | None = Field(default=None, max_length=16)


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
    customer: CustomerDetails
    failure_reason: str | None = None
    refund_id: str | None = None
    livemode: bool = True

    @property
    def dedupe_key(self) -> str:
        return f"{self.provider}#{self.event_id}"
