"""payment-events → ledger: record each payment once, then hand a receipt job on."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.consumer import SqsConsumer
from quittance.aws.ledger_wiring import LedgerDeps, ledger
from quittance.clock import Clock, SystemClock
from quittance.models.messages import PaymentEventMessage
from quittance.observability import instruments
from quittance.settings import LedgerSettings, load

logger, metrics, tracer = instruments("ledger")


class PaymentEventRecord(SqsRecordModel):
    body: Json[PaymentEventMessage]


consumer = SqsConsumer(PaymentEventRecord, key_jmespath="[event.provider, event.event_id]")


@cache
def deps() -> LedgerDeps:
    return wire(SystemClock())


def wire(clock: Clock) -> LedgerDeps:
    return ledger(load(LedgerSettings), clock)


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
    recorded = d.stage.record(message, d.clock.now())
    outcome = recorded.outcome
    for alert in recorded.handed_on.alerts:
        metrics.add_metric(name=f"anomaly_{alert.anomaly}", unit=MetricUnit.Count, value=1)
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
    return recorded.as_result()


def record_handler(record: PaymentEventRecord) -> dict[str, Any]:
    message = record.body
    logger.set_correlation_id(message.correlation_id)
    return apply_once()(message=message)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)
