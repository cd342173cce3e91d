"""A cheque or cash payment staff record: the proof each method needs, the legal cash
ceiling, and the canonical payment event it becomes.

Cash (Code monétaire et financier, art. L112-6 and D112-3): a debt may not be paid in cash
above 1,000 € when the payer is domiciled in France for tax purposes or acts for business,
15,000 € when the payer is domiciled abroad and acts as a private person. The ceiling does
not apply (L112-6, III) to a payer who cannot use a cheque or another means of payment or
has no deposit account, to payments between private persons not acting for business, or to
public expenditure; staff state which exception applies, or the payment is refused.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quittance.errors import NotFound, PayloadInvalid
from quittance.models.events import (
    CustomerDetails,
    EventType,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.messages import PaymentEventMessage
from quittance.models.money import Money

PROVIDER = "staff"
RESIDENT_CEILING = Decimal(1000)
NON_RESIDENT_CEILING = Decimal(15000)
RULE = "Code monétaire et financier, art. L112-6 and D112-3"


class CashException(StrEnum):
    """L112-6, III: when the cash ceiling does not apply."""

    NO_OTHER_MEANS = "no_other_means"
    """The payer cannot pay by cheque or another means, or has no deposit account."""
    PRIVATE_PERSONS = "private_persons"
    """Between private persons, neither acting for business."""
    PUBLIC_EXPENDITURE = "public_expenditure"


class OfflinePayment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
    method: Literal["cheque", "cash"]
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    """In euros (cheques and cash in France are in euros)."""
    received_on: date
    cheque_number: str | None = Field(default=None, min_length=1, max_length=32)
    bank: str | None = Field(default=None, min_length=1, max_length=100)
    """The bank the cheque is drawn on."""
    cashed_on: date | None = None
    """When the cheque was paid in, once it is."""
    received_by: str | None = Field(default=None, min_length=1, max_length=100)
    """Who took the cash (a name or a staff code, as the cash book says)."""
    payer_domiciled_in_france: bool = True
    payer_acting_for_business: bool = False
    exception: CashException | None = None

    @model_validator(mode="after")
    def _proofs(self) -> OfflinePayment:
        if self.method == "cheque":
            if not (self.cheque_number and self.bank):
                raise ValueError("a cheque needs its number and the bank it is drawn on")
            if self.received_by or self.exception:
                raise ValueError("received_by and exception are for cash")
            if self.cashed_on is not None and self.cashed_on < self.received_on:
                raise ValueError("cashed_on is before received_on")
        else:
            if not self.received_by:
                raise ValueError("cash needs who received it (received_by)")
            if self.cheque_number or self.bank or self.cashed_on:
                raise ValueError("cheque_number, bank and cashed_on are for cheques")
        return self

    @property
    def cash_ceiling(self) -> Decimal:
        if self.payer_domiciled_in_france or self.payer_acting_for_business:
            return RESIDENT_CEILING
        return NON_RESIDENT_CEILING


def check_cash_ceiling(payment: OfflinePayment) -> None:
    """Refuse cash above the legal ceiling unless staff stated the exception that applies."""
    if payment.method != "cash" or payment.amount <= payment.cash_ceiling:
        return
    if payment.exception is not None:
        return
    who = (
        "a payer domiciled in France or acting for business"
        if payment.cash_ceiling == RESIDENT_CEILING
        else "a private payer domiciled abroad"
    )
    raise PayloadInvalid(
        f"cash payment of {payment.amount} € refused: above {payment.cash_ceiling:,.0f} € for "
        f"{who} ({RULE}); pay by another means, or state the exception that applies "
        f"({', '.join(e.value for e in CashException)})"
    )


def payment_event(
    payment: OfflinePayment,
    *,
    customer_reference: str,
    recorded_at: datetime,
    calendar: str = "Europe/Paris",
) -> PaymentEvent:
    """The canonical event; its id is the payment's own identity (the cheque, or the cash
    handed over that day to that person for that amount), so a repeated call is one payment."""
    check_cash_ceiling(payment)
    minor = int(payment.amount * 100)
    if payment.method == "cheque":
        identity = f"cheque:{payment.bank}:{payment.cheque_number}"
        method = PaymentMethod(
            kind=MethodKind.CHEQUE,
            cheque_number=payment.cheque_number,
            cheque_bank=payment.bank,
            cashing_date=payment.cashed_on,
        )
    else:
        identity = f"cash:{payment.invoice}:{payment.received_on}:{minor}:{payment.received_by}"
        method = PaymentMethod(kind=MethodKind.CASH, received_by=payment.received_by)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    payment_id = f"{payment.method}-{digest}"
    noon = datetime.combine(payment.received_on, time(12), tzinfo=ZoneInfo(calendar))
    return PaymentEvent(
        event_id=f"{payment_id}:succeeded",
        provider=PROVIDER,
        type=EventType.PAYMENT_SUCCEEDED,
        occurred_at=min(noon.astimezone(UTC), recorded_at.astimezone(UTC)),
        payment_id=payment_id,
        invoice_number=payment.invoice,
        amount=Money(amount_minor=minor, currency="EUR"),
        method=method,
        customer=CustomerDetails(reference=customer_reference),
    )


class RegisteredInvoices(Protocol):
    def customer_reference(self, number: str) -> str | None:
        """The registered invoice's customer reference, if it is registered and open."""


class PaymentEvents(Protocol):
    def publish_once(self, message: PaymentEventMessage) -> bool: ...


def record(
    payment: OfflinePayment,
    *,
    invoices: RegisteredInvoices,
    events: PaymentEvents,
    now: datetime,
    correlation_id: str,
    calendar: str = "Europe/Paris",
) -> tuple[PaymentEvent, bool]:
    """Publish the payment onto the payment-events queue, like a gateway's; (event, whether
    it was new)."""
    reference = invoices.customer_reference(payment.invoice)
    if reference is None:
        raise NotFound(f"no open registered invoice {payment.invoice}")
    event = payment_event(payment, customer_reference=reference, recorded_at=now, calendar=calendar)
    message = PaymentEventMessage(correlation_id=correlation_id, received_at=now, event=event)
    return event, events.publish_once(message)
