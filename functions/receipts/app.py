"""receipt-jobs → receipts: render the PDF/A receipt once, lock it in the archive, hand on."""

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
from quittance.aws.receipts_wiring import ReceiptsDeps, receipts
from quittance.clock import Clock, SystemClock
from quittance.models.messages import ReceiptJob
from quittance.observability import instruments
from quittance.seller import SellerProfileRefused
from quittance.settings import ReceiptsSettings, load

logger, metrics, tracer = instruments("receipts")


class ReceiptJobRecord(SqsRecordModel):
    body: Json[ReceiptJob]


consumer = SqsConsumer(ReceiptJobRecord, key_jmespath="receipt_number")


@cache
def deps() -> ReceiptsDeps:
    return wire(SystemClock())


def wire(clock: Clock) -> ReceiptsDeps:
    return receipts(load(ReceiptsSettings), clock)


@cache
def issue_once() -> Callable[..., dict[str, Any]]:
    """One archived receipt per receipt number, whatever the redeliveries."""
    d = deps()
    return consumer.once(
        _issue,
        data_keyword="job",
        table=d.settings.idempotency_table,
        client=d.dynamodb,
        operation="receipts.job",
    )


def _issue(*, job: ReceiptJob) -> dict[str, Any]:
    d = deps()
    try:
        issued = d.issuer.issue(job, d.clock.now())
    except SellerProfileRefused as refused:
        # The job fails: SQS retries it, then keeps it in the DLQ until redriven once a
        # profile is set. The alarm SellerProfileRefusedAlarm watches this metric.
        logger.error(
            "no document issued: seller profile refused",
            extra={"receipt_number": job.receipt_number, "reason": refused.reason},
        )
        metrics.add_metric(name="seller_profile_refused", unit=MetricUnit.Count, value=1)
        raise
    if issued.rendered_now:
        metrics.add_metric(name="receipts_archived", unit=MetricUnit.Count, value=1)
    logger.info(
        "receipt archived",
        extra={"receipt_number": job.receipt_number, "rendered_now": issued.rendered_now},
    )
    return issued.as_result()


def record_handler(record: ReceiptJobRecord) -> dict[str, Any]:
    job = record.body
    logger.set_correlation_id(job.correlation_id)
    return issue_once()(job=job)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)
