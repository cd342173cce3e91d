"""payment-events → ledger: record each payment once, then hand a receipt job on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch import (
    EventType as BatchEventType,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.alerts import OpsAlerts
from quittance.aws.clients import make_client
from quittance.aws.customers_table import CustomersTable
from quittance.aws.idempotency import consumer_config, once_per_key
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.queue import SqsQueue
from quittance.clock import Clock, SystemClock
from quittance.ledger.customer_jobs import failure_notification
from quittance.ledger.model import ReceiptRecord
from quittance.ledger.service import apply_event
from quittance.ledger.state import Anomaly
from quittance.models.events import MethodKind, PaymentMethod
from quittance.models.messages import NotificationJob, PaymentEventMessage, ReceiptJob
from quittance.observability import instruments
from quittance.settings import LedgerSettings, load

logger, metrics, tracer = instruments("ledger")


class PaymentEventRecord(SqsRecordModel):
    body: Json[PaymentEventMessage]


processor = BatchProcessor(event_type=BatchEventType.SQS, model=PaymentEventRecord)
idempotency = consumer_config("[event.provider, event.event_id]")


@dataclass(frozen=True)
class Deps:
    settings: LedgerSettings
    ledger: LedgerTable
    customers: CustomersTable
    receipt_jobs: SqsQueue
    notifications: SqsQueue
    alerts: OpsAlerts
    dynamodb: Any
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    settings = load(LedgerSettings)
    dynamodb = make_client("dynamodb", settings.aws_region)
    sqs = make_client("sqs", settings.aws_region)
    return Deps(
        settings=settings,
        ledger=LedgerTable(settings.ledger_table, dynamodb),
        customers=CustomersTable(settings.customers_table, dynamodb),
        receipt_jobs=SqsQueue(settings.receipt_jobs_queue_url, sqs),
        notifications=SqsQueue(settings.notifications_queue_url, sqs),
        alerts=OpsAlerts(settings.ops_alerts_topic_arn, make_client("sns", settings.aws_region)),
        dynamodb=dynamodb,
        clock=clock,
    )


@cache
def apply_once() -> Callable[..., dict[str, Any]]:
    """Each event is applied once per (provider, event id), whatever the redeliveries."""
    d = deps()
    return once_per_key(
        _apply,
        data_keyword="message",
        config=idempotency,
        table=d.settings.idempotency_table,
        client=d.dynamodb,
    )


def _apply(*, message: PaymentEventMessage) -> dict[str, Any]:
    d = deps()
    outcome = apply_event(
        message.event,
        store=d.ledger,
        profiles=d.customers,
        now=d.clock.now(),
        calendar=d.settings.fiscal_timezone,
    )
    # Everything below is sent after every successful apply, a redelivery included: if an
    # earlier attempt committed and then failed to send, this is the send that was missing.
    # Receipts, notify and the alert subscribers are idempotent on the keys sent.
    anomaly_of = {a.payment_id: a for a in outcome.anomalies}
    for document in outcome.documents:
        d.receipt_jobs.send(
            receipt_job(
                document, message.correlation_id, anomaly_of.get(document.payment_id)
            ).model_dump_json(),
            correlation_id=message.correlation_id,
        )
    receipted = {doc.payment_id for doc in outcome.documents if doc.kind == "receipt"}
    for anomaly in outcome.anomalies:
        d.alerts.publish(
            f"quittance anomaly: {anomaly.kind.value} on {outcome.invoice_number}",
            {
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
        )
        metrics.add_metric(name=f"anomaly_{anomaly.kind.value}", unit=MetricUnit.Count, value=1)
        if anomaly.payment_id not in receipted and outcome.customer_id:
            # No receipt will carry this news to the customer: tell them directly.
            d.notifications.send(
                NotificationJob(
                    correlation_id=message.correlation_id,
                    kind="anomaly_notice",
                    change_id=f"{outcome.invoice_number}#{anomaly.key}",
                    customer_id=outcome.customer_id,
                    receipt_number=None,
                    invoice_number=outcome.invoice_number,
                    amount=anomaly.amount,
                    paid_at=message.event.occurred_at,
                    anomaly=anomaly.kind.value,
                    difference=anomaly.difference,
                    invoice_currency=outcome.view.terms.amount_due.currency
                    if outcome.view
                    else None,
                ).model_dump_json(),
                correlation_id=message.correlation_id,
            )
    failed = failure_notification(message, outcome)
    if failed is not None:
        d.notifications.send(failed.model_dump_json(), correlation_id=message.correlation_id)
    metrics.add_metric(
        name="events_duplicate" if outcome.duplicate else "events_applied",
        unit=MetricUnit.Count,
        value=1,
    )
    logger.info(
        "event applied",
        extra={
            "event_type": message.event.type.value,
            "invoice_status": outcome.status.value,
            "documents": [doc.receipt_number for doc in outcome.documents],
            "anomalies": [a.kind.value for a in outcome.anomalies],
            "duplicate": outcome.duplicate,
            "backwards": outcome.backwards,
        },
    )
    return {
        "invoice_number": outcome.invoice_number,
        "status": outcome.status.value,
        "documents": [doc.receipt_number for doc in outcome.documents],
    }


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


def record_handler(record: PaymentEventRecord) -> dict[str, Any]:
    message = record.body
    logger.set_correlation_id(message.correlation_id)
    return apply_once()(message=message)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
