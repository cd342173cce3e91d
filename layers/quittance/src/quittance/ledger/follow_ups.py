"""What the ledger hands on after recording an event: a receipt job per document it
produced, an ops alert per anomaly, and the messages no receipt will carry to the customer
(an anomaly on a payment that got no receipt, a failed attempt, which produces no document).

The ledger function sends all of them after every successful apply, a redelivery included:
if an earlier attempt committed and then failed to send, this is the send that was missing.
Receipts, notify and the alert subscribers are idempotent on the keys these carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quittance.ledger.model import ReceiptRecord
from quittance.ledger.service import LedgerOutcome
from quittance.ledger.state import OPEN_STATUSES, Anomaly
from quittance.models.events import EventType, MethodKind, PaymentMethod
from quittance.models.messages import (
    AnomalyNoticeJob,
    NotificationJob,
    PaymentEventMessage,
    PaymentFailedJob,
    ReceiptJob,
)


@dataclass(frozen=True)
class OpsAlert:
    """One anomaly for the people who fix them; no personal data."""

    subject: str
    details: dict[str, Any]
    dedupe_key: str
    anomaly: str


@dataclass(frozen=True)
class FollowUps:
    receipt_jobs: tuple[ReceiptJob, ...]
    alerts: tuple[OpsAlert, ...]
    notifications: tuple[NotificationJob, ...]


def follow_ups(message: PaymentEventMessage, outcome: LedgerOutcome) -> FollowUps:
    anomaly_of = {a.payment_id: a for a in outcome.anomalies}
    receipted = {doc.payment_id for doc in outcome.documents if doc.kind == "receipt"}
    customer_id = outcome.customer_id
    notices = [
        anomaly_notice(message, outcome, anomaly, customer_id)
        for anomaly in outcome.anomalies
        # No receipt will carry this news to the customer: tell them directly.
        if anomaly.payment_id not in receipted and customer_id
    ]
    failed = failure_notification(message, outcome)
    return FollowUps(
        receipt_jobs=tuple(
            receipt_job(document, message.correlation_id, anomaly_of.get(document.payment_id))
            for document in outcome.documents
        ),
        alerts=tuple(ops_alert(message, outcome, anomaly) for anomaly in outcome.anomalies),
        notifications=(*notices, *([failed] if failed is not None else [])),
    )


def receipt_job(
    document: ReceiptRecord, correlation_id: str, anomaly: Anomaly | None
) -> ReceiptJob:
    return ReceiptJob(
        correlation_id=correlation_id,
        kind=document.kind,
        receipt_number=document.receipt_number,
        original_receipt_number=document.original_receipt_number,
        refund_id=document.refund_id,
        anomaly=anomaly.kind.value if anomaly and document.kind == "receipt" else None,
        invoice_number=document.invoice_number,
        payment_id=document.payment_id,
        customer_id=document.customer_id,
        paid_at=document.paid_at,
        issued_at=document.issued_at,
        amount=document.amount,
        method=document.method or PaymentMethod(kind=MethodKind.OTHER),
        invoice_status=document.invoice_status.value,
        balance_due=document.balance_due,
        next_steps=document.next_steps,
    )


def ops_alert(message: PaymentEventMessage, outcome: LedgerOutcome, anomaly: Anomaly) -> OpsAlert:
    return OpsAlert(
        subject=f"quittance anomaly: {anomaly.kind.value} on {outcome.invoice_number}",
        details={
            "anomaly": anomaly.kind.value,
            "invoice_number": outcome.invoice_number,
            "payment_id": anomaly.payment_id,
            "amount": anomaly.amount.model_dump(mode="json"),
            "difference": anomaly.difference.model_dump(mode="json")
            if anomaly.difference
            else None,
            "correlation_id": message.correlation_id,
        },
        dedupe_key=f"{outcome.invoice_number}#{anomaly.key}",
        anomaly=anomaly.kind.value,
    )


def anomaly_notice(
    message: PaymentEventMessage, outcome: LedgerOutcome, anomaly: Anomaly, customer_id: str
) -> AnomalyNoticeJob:
    return AnomalyNoticeJob(
        correlation_id=message.correlation_id,
        kind="anomaly_notice",
        change_id=f"{outcome.invoice_number}#{anomaly.key}",
        customer_id=customer_id,
        invoice_number=outcome.invoice_number,
        amount=anomaly.amount,
        paid_at=message.event.occurred_at,
        anomaly=anomaly.kind.value,
        difference=anomaly.difference,
        invoice_currency=outcome.view.terms.amount_due.currency if outcome.view else None,
        method=message.event.method,
    )


def failure_notification(
    message: PaymentEventMessage, outcome: LedgerOutcome
) -> PaymentFailedJob | None:
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
    # One message per failed attempt: Stripe reports a Billing attempt twice (its
    # PaymentIntent's and its invoice's event), each naming the attempt's Charge.
    attempt = event.failure.attempt_id or event.event_id
    return PaymentFailedJob(
        correlation_id=message.correlation_id,
        kind="payment_failed",
        change_id=f"{outcome.invoice_number}#failed#{attempt}",
        customer_id=outcome.customer_id,
        invoice_number=outcome.invoice_number,
        amount=event.amount,
        failed_at=event.occurred_at,
        failure=event.failure.category,
        method=event.method,
        payment_update_url=event.failure.payment_update_url,
    )
