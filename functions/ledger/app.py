"""payment-events → ledger: record each payment once, then hand a receipt job on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.clients import make_client
from quittance.aws.customers_table import CustomersTable
from quittance.aws.idempotency import persistence_layer
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.queue import SqsQueue
from quittance.ledger.service import note_event, record_payment
from quittance.models.events import EventType
from quittance.models.messages import PaymentEventMessage, ReceiptJob
from quittance.observability import instruments
from quittance.settings import LedgerSettings, load

logger, metrics, tracer = instruments("ledger")


class PaymentEventRecord(SqsRecordModel):
    body: Json[PaymentEventMessage]


processor = BatchProcessor(event_type=BatchEventType.SQS, model=PaymentEventRecord)
idempotency = IdempotencyConfig(event_key_jmespath="[event.provider, event.event_id]")


@dataclass(frozen=True)
class Deps:
    settings: LedgerSettings
    ledger: LedgerTable
    customers: CustomersTable
    receipt_jobs: SqsQueue
    dynamodb: Any


@cache
def deps() -> Deps:
    settings = load(LedgerSettings)
    dynamodb = make_client("dynamodb", settings.aws_region)
    return Deps(
        settings=settings,
        ledger=LedgerTable(settings.ledger_table, dynamodb),
        customers=CustomersTable(settings.customers_table, dynamodb),
        receipt_jobs=SqsQueue(
            settings.receipt_jobs_queue_url, make_client("sqs", settings.aws_region)
        ),
        dynamodb=dynamodb,
    )


@cache
def apply_once() -> Callable[..., dict[str, Any]]:
    """Each event is applied once per (provider, event id), whatever the redeliveries."""
    d = deps()
    return idempotent_function(  # type: ignore[no-any-return]
        data_keyword_argument="message",
        persistence_store=persistence_layer(d.settings.idempotency_table, d.dynamodb),
        config=idempotency,
    )(_apply)


def _apply(*, message: PaymentEventMessage) -> dict[str, Any]:
    d = deps()
    if message.event.type is not EventType.PAYMENT_SUCCEEDED:
        # Failures, refunds and disputes are kept in the invoice history; settling them is
        # the ledger state machine's job (issue 4), so they change no state yet.
        number = note_event(message.event, history=d.ledger, now=datetime.now(UTC))
        logger.info("event kept in history", extra={"event_type": message.event.type.value})
        return {"invoice_number": number, "applied": False}
    outcome = record_payment(
        message.event,
        store=d.ledger,
        profiles=d.customers,
        series=d.settings.receipt_series,
        now=datetime.now(UTC),
    )
    receipt = outcome.receipt
    job = ReceiptJob(
        correlation_id=message.correlation_id,
        receipt_number=receipt.receipt_number,
        invoice_number=receipt.invoice_number,
        payment_id=receipt.payment_id,
        customer_id=receipt.customer_id,
        paid_at=receipt.paid_at,
        issued_at=receipt.issued_at,
        amount=receipt.amount,
        method=message.event.method,
        invoice_status=receipt.invoice_status.value,
        balance_due=receipt.balance_due,
    )
    # Sent after every successful apply, a duplicate included: if an earlier attempt
    # committed and then failed to send, this is the send that was missing. Receipts is
    # idempotent on the receipt number, so a second job has no second effect.
    d.receipt_jobs.send(job.model_dump_json(), correlation_id=message.correlation_id)
    metrics.add_metric(
        name="payments_duplicate" if outcome.duplicate else "payments_recorded",
        unit=MetricUnit.Count,
        value=1,
    )
    logger.info(
        "payment recorded",
        extra={
            "receipt_number": receipt.receipt_number,
            "invoice_status": receipt.invoice_status.value,
            "duplicate": outcome.duplicate,
        },
    )
    return {"receipt_number": receipt.receipt_number, "duplicate": outcome.duplicate}


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
