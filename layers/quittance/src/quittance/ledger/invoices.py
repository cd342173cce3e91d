"""Invoices the business registers: what is due, by when, for what, at which VAT rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quittance.ledger.model import InvoiceRecord, InvoiceSummary
from quittance.ledger.service import WriteConflict
from quittance.ledger.state import InvoiceTerms, derive
from quittance.models.money import Currency, Money

INVOICE_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
MAX_ATTEMPTS = 8


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = Field(min_length=1, max_length=200)
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)]
    unit_price_minor: int = Field(ge=0, description="Excluding VAT, in minor units")
    vat_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
    """Percent: 20, 10, 5.5, 2.1 in France."""


class InvoiceRegistration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_reference: str = Field(min_length=1, max_length=128)
    currency: Currency
    lines: tuple[InvoiceLine, ...] = Field(min_length=1, max_length=500)
    issue_date: date
    due_date: date
    nature: Literal["goods", "services", "mixed"]
    """What France's e-reporting asks of each operation."""
    cancelled: bool = False

    @model_validator(mode="after")
    def _due_after_issue(self) -> InvoiceRegistration:
        if self.due_date < self.issue_date:
            raise ValueError("due_date is before issue_date")
        return self

    def vat_breakdown(self) -> dict[Decimal, tuple[int, int]]:
        """Per VAT rate: (taxable base, VAT), in minor units, VAT rounded half up per rate."""
        bases: dict[Decimal, Decimal] = {}
        for line in self.lines:
            bases[line.vat_rate] = bases.get(line.vat_rate, Decimal(0)) + (
                line.quantity * line.unit_price_minor
            )
        breakdown = {}
        for rate, base in bases.items():
            whole = base.quantize(Decimal(1), rounding=ROUND_HALF_UP)
            vat = (whole * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            breakdown[rate] = (int(whole), int(vat))
        return breakdown

    @property
    def amount_due(self) -> Money:
        total = sum(base + vat for base, vat in self.vat_breakdown().values())
        return Money(amount_minor=total, currency=self.currency)


class InvoiceBook(Protocol):
    def load(self, invoice_number: str) -> InvoiceRecord | None: ...

    def save_registration(
        self,
        number: str,
        *,
        version_before: int | None,
        registration: InvoiceRegistration,
        summary: InvoiceSummary,
        now: datetime,
    ) -> None:
        """Raises WriteConflict when the invoice changed since it was read."""


def register_invoice(
    number: str, registration: InvoiceRegistration, *, book: InvoiceBook, now: datetime
) -> InvoiceSummary:
    """Create or replace the invoice's terms. Payments already received are settled against
    the new terms at once in the summary; documents they now owe come with the next event."""
    for _ in range(MAX_ATTEMPTS):
        record = book.load(number)
        terms = InvoiceTerms(
            number=number,
            amount_due=registration.amount_due,
            registered=True,
            cancelled=registration.cancelled,
            due_date=registration.due_date,
        )
        view = derive(terms, record.events if record else ())
        summary = InvoiceSummary(
            number=number,
            status=view.status,
            amount_due=terms.amount_due,
            amount_paid=view.paid,
            refunded=view.refunded,
            balance_due=view.balance_due,
            registered=True,
            customer_id=record.customer_id if record else None,
        )
        try:
            book.save_registration(
                number,
                version_before=record.version if record else None,
                registration=registration,
                summary=summary,
                now=now,
            )
        except WriteConflict:
            continue
        return summary
    raise WriteConflict(f"invoice {number}: gave up after {MAX_ATTEMPTS} conflicting writes")
