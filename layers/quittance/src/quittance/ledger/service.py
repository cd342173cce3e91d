"""Record a payment event: settle its invoice and number its receipt, exactly once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from quittance.ledger.model import (
    Invoice,
    InvoiceStatus,
    Payment,
    ReceiptRecord,
    issue_year,
    receipt_number,
    settle,
)
from quittance.models.events import CustomerDetails, PaymentEvent
from quittance.models.money import Money

MAX_ATTEMPTS = 8


class WriteConflict(Exception):
    """Another writer changed the invoice or the counter first; read again and retry."""


class PaymentAlreadyRecorded(Exception):
    """The payment is in the ledger already (a redelivered or replayed event)."""


class LedgerStore(Protocol):
    def get_invoice(self, number: str) -> Invoice | None: ...

    def get_payment(self, invoice_number: str, payment_id: str) -> Payment | None: ...

    def get_receipt(self, invoice_number: str, number: str) -> ReceiptRecord | None: ...

    def counter(self, series: str, year: int) -> int: ...

    def commit_payment(
        self,
        *,
        before: Invoice | None,
        after: Invoice,
        payment: Payment,
        receipt: ReceiptRecord,
        series: str,
        year: int,
        counter_before: int,
        event: PaymentEvent,
    ) -> None:
        """One transaction; raises WriteConflict or PaymentAlreadyRecorded."""


class EventHistory(Protocol):
    def record_event(self, invoice_number: str, event: PaymentEvent, now: datetime) -> None:
        """Append to the invoice's history; no state changes."""


class CustomerProfiles(Protocol):
    def remember(self, customer_id: str, details: CustomerDetails, now: datetime) -> None: ...


@dataclass(frozen=True)
class LedgerOutcome:
    receipt: ReceiptRecord
    invoice: Invoice
    duplicate: bool


def pseudonymous_customer_id(provider: str, reference: str) -> str:
    """A stable id that carries no contact data into the ledger."""
    digest = hashlib.sha256(f"{provider}:{reference}".encode()).hexdigest()
    return f"C-{digest[:20]}"


def invoice_number_for(event: PaymentEvent) -> str:
    # A gateway payment that names no invoice still gets a ledger entry of its own.
    return event.invoice_number or f"GW-{event.payment_id}"


def record_payment(
    event: PaymentEvent,
    *,
    store: LedgerStore,
    profiles: CustomerProfiles,
    series: str,
    now: datetime,
) -> LedgerOutcome:
    number = invoice_number_for(event)
    if event.customer is None:  # the event model refuses this for a successful payment
        raise ValueError(f"payment {event.payment_id} names no customer")
    customer_id = pseudonymous_customer_id(event.provider, event.customer.reference)
    profiles.remember(customer_id, event.customer, now)
    for _ in range(MAX_ATTEMPTS):
        existing = store.get_payment(number, event.payment_id)
        if existing is not None:
            return _already_recorded(store, number, existing)
        before = store.get_invoice(number)
        current = before or Invoice(
            number=number,
            customer_id=customer_id,
            amount_due=event.amount,
            amount_paid=Money(amount_minor=0, currency=event.amount.currency),
            status=InvoiceStatus.OPEN,
            registered=False,
        )
        after = settle(current, event.amount)
        year = issue_year(now)
        sequence = store.counter(series, year)
        receipt = ReceiptRecord(
            receipt_number=receipt_number(series, year, sequence + 1),
            invoice_number=number,
            payment_id=event.payment_id,
            customer_id=customer_id,
            amount=event.amount,
            balance_due=after.receipt_balance,
            invoice_status=after.status,
            paid_at=event.occurred_at,
            issued_at=now,
        )
        payment = Payment(
            payment_id=event.payment_id,
            invoice_number=number,
            event_id=event.event_id,
            provider=event.provider,
            amount=event.amount,
            method=event.method,
            paid_at=event.occurred_at,
            receipt_number=receipt.receipt_number,
        )
        try:
            store.commit_payment(
                before=before,
                after=after,
                payment=payment,
                receipt=receipt,
                series=series,
                year=year,
                counter_before=sequence,
                event=event,
            )
        except WriteConflict:
            continue
        except PaymentAlreadyRecorded:
            continue  # the next pass finds the payment and answers as a duplicate
        return LedgerOutcome(receipt=receipt, invoice=after, duplicate=False)
    raise WriteConflict(f"invoice {number}: gave up after {MAX_ATTEMPTS} conflicting writes")


def _already_recorded(store: LedgerStore, number: str, payment: Payment) -> LedgerOutcome:
    receipt = store.get_receipt(number, payment.receipt_number)
    invoice = store.get_invoice(number)
    if receipt is None or invoice is None:
        raise WriteConflict(f"payment {payment.payment_id} recorded without its receipt")
    return LedgerOutcome(receipt=receipt, invoice=invoice, duplicate=True)


def note_event(event: PaymentEvent, *, history: EventHistory, now: datetime) -> str:
    """Keep an event the ledger does not settle (yet) in its invoice's history, so that
    nothing a gateway told us is lost. Returns the invoice number it was filed under."""
    number = invoice_number_for(event)
    history.record_event(number, event, now)
    return number
