"""email events (SES → SNS → queue) → feedback: delivery status on the message log, suppressed
addresses, and an SMS for a message that hard-bounced."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.aws.consumer import SqsConsumer
from quittance.aws.feedback_wiring import FeedbackDeps, feedback
from quittance.aws.sms_fallback import fallback_config
from quittance.clock import Clock, SystemClock
from quittance.notifications.feedback import (
    EmailEventInvalid,
    apply_email_event,
    parse_sns_delivery,
)
from quittance.observability import instruments
from quittance.settings import FeedbackSettings, load

logger, metrics, tracer = instruments("feedback")


class EmailEventRecord(SqsRecordModel):
    body: str
    """An SNS notification whose Message is the SES event; parsed by the domain, which can
    report a malformed one without quoting it (it holds addresses)."""


consumer = SqsConsumer(EmailEventRecord, idempotency=fallback_config())


@cache
def deps() -> FeedbackDeps:
    return wire(SystemClock())


def wire(clock: Clock) -> FeedbackDeps:
    return feedback(load(FeedbackSettings), clock, consumer.idempotency)


def record_handler(record: EmailEventRecord) -> dict[str, Any]:
    try:
        envelope, event = parse_sns_delivery(record.body)
    except EmailEventInvalid as exc:
        # Reported, then left to the queue: retried, and kept in the DLQ (alarmed) after that.
        logger.error(
            "email event rejected",
            extra={"sqs_message_id": record.messageId, "reason": exc.detail},
        )
        metrics.add_metric(name="email_events_rejected", unit=MetricUnit.Count, value=1)
        raise
    logger.set_correlation_id(envelope.MessageId)
    d = deps()
    outcome = apply_email_event(event, log=d.ledger, customers=d.customers, fallback=d.fallback)
    metrics.add_metric(name=f"email_{outcome.status}", unit=MetricUnit.Count, value=1)
    if outcome.suppressed:
        metrics.add_metric(name="email_addresses_suppressed", unit=MetricUnit.Count, value=1)
    if outcome.sms == "queued":
        metrics.add_metric(name="sms_fallbacks_queued", unit=MetricUnit.Count, value=1)
    logger.info(
        "email event applied",
        extra={
            "event_type": outcome.event_type,
            "status": outcome.status,
            "log": outcome.log,
            "suppressed": outcome.suppressed,
            "sms": outcome.sms,
        },
    )
    return {"status": outcome.status, "log": outcome.log, "sms": outcome.sms}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)
