"""Notification jobs the ledger itself owes the customer, beside the receipts' own: a failed
payment attempt produces no document, so no receipt job will carry the news."""

from __future__ import annotations

from quittance.ledger.service import LedgerOutcome
from quittance.ledger.state import OPEN_STATUSES
from quittance.models.events import EventType
from quittance.models.messages import NotificationJob, PaymentEventMessage


def failure_notification(
    message: PaymentEventMessage, outcome: LedgerOutcome
) -> NotificationJob | None:
    """A failed attempt the customer should hear about: one that changed the attempt (not a
    late failure after the success), on an invoice that still waits for money."""
    event = message.event
    if (
        event.type is not EventType.PAYMENT_FAILED
        or event.failure is None
        or outcome.backwards
        or outcome.customer_id is None
        or outcome.status not in OPEN_STATUSES
    ):
        return None
    return NotificationJob(
        correlation_id=message.correlation_id,
        kind="payment_failed",
        change_id=f"{outcome.invoice_number}#failed#{event.event_id}",
        customer_id=outcome.customer_id,
        receipt_number=None,
        invoice_number=outcome.invoice_number,
        amount=event.amount,
        paid_at=event.occurred_at,
        failure=event.failure.category,
    )
