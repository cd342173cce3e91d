"""payment-events → ledger: record each payment once, then hand a receipt job on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.alerts import OpsAlerts
from quittance.aws.clients import make_client
from quittance.aws.consumer import SqsConsumer
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.queue import SqsQueue
from quittance.clock import Clock, SystemClock
from quittance.ledger.follow_ups import follow_ups
from quittance.ledger.service import apply_event
from quittance.models.messages import PaymentEventMessage
from quittance.observability import instruments
from quittance.settings import LedgerSettings, load

logger, metrics, tracer = instruments("ledger")


class PaymentEventRecord(SqsRecordModel):
    body: Json[PaymentEventMessage]


consumer = SqsConsumer(PaymentEventRecord, key_jmespath="[event.provider, event.event_id]")


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
    return consumer.once(
        _apply,
        data_keyword="message",
        table=d.settings.idempotency_table,
        client=d.dynamodb,
        operation="ledger.event",
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
    # Sent after every successful apply, a redelivery included (see quittance.ledger.follow_ups).
    then = follow_ups(message, outcome)
    for job in then.receipt_jobs:
        d.receipt_jobs.send(job.model_dump_json(), correlation_id=message.correlation_id)
    for alert in then.alerts:
        d.alerts.publish(alert.subject, alert.details, dedupe_key=alert.dedupe_key)
        metrics.add_metric(name=f"anomaly_{alert.anomaly}", unit=MetricUnit.Count, value=1)
    for notification in then.notifications:
        d.notifications.send(notification.model_dump_json(), correlation_id=message.correlation_id)
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


def record_handler(record: PaymentEventRecord) -> dict[str, Any]:
    message = record.body
    logger.set_correlation_id(message.correlation_id)
    return apply_once()(message=message)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)
