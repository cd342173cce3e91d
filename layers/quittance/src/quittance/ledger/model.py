"""Ledger domain objects (frozen) and the settlement rule."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from quittance.models.events import PaymentMethod, UtcDateTime
from quittance.models.money import Money


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERPAID = "overpaid"


class Invoice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    customer_id: str
    amount_due: Money
    amount_paid: Money
    status: InvoiceStatus
    registered: bool
    """False when nobody registered the invoice and the gateway's event is all we know."""
    version: int = 0

    @property
    def balance_due(self) -> Money:
        remaining = max(self.amount_due.amount_minor - self.amount_paid.amount_minor, 0)
        return Money(amount_minor=remaining, currency=self.amount_due.currency)

    @property
    def excess(self) -> Money:
        extra = max(self.amount_paid.amount_minor - self.amount_due.amount_minor, 0)
        return Money(amount_minor=extra, currency=self.amount_due.currency)

    @property
    def receipt_balance(self) -> Money:
        """What a receipt states beside the amount: the remainder, or the excess to return."""
        return self.excess if self.status is InvoiceStatus.OVERPAID else self.balance_due


class Payment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    payment_id: str
    invoice_number: str
    event_id: str
    provider: str
    amount: Money
    method: PaymentMethod
    paid_at: UtcDateTime
    receipt_number: str


class ReceiptRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    receipt_number: str
    invoice_number: str
    payment_id: str
    customer_id: str
    amount: Money
    balance_due: Money
    invoice_status: InvoiceStatus
    paid_at: UtcDateTime
    issued_at: UtcDateTime


def settle(invoice: Invoice, amount: Money) -> Invoice:
    """The invoice after ``amount`` is received. Currency must already match."""
    paid = invoice.amount_paid.amount_minor + amount.amount_minor
    due = invoice.amount_due.amount_minor
    if paid == due:
        status = InvoiceStatus.PAID
    elif paid > due:
        status = InvoiceStatus.OVERPAID
    else:
        status = InvoiceStatus.PARTIALLY_PAID
    return invoice.model_copy(
        update={
            "amount_paid": Money(amount_minor=paid, currency=invoice.amount_due.currency),
            "status": status,
            "version": invoice.version + 1,
        }
    )


def receipt_number(series: str, year: int, sequence: int) -> str:
    """``R-2026-000042``: one gap-free, chronological sequence per series and year."""
    return f"{series}-{year}-{sequence:06d}"


def issue_year(at: datetime) -> int:
    return at.year
