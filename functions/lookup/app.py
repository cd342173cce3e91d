"""gateway-lookups → lookup: complete each gateway event from the gateway's own API, then
hand its payment events to the ledger (quittance.gateways.stage)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch import EventType as BatchEventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.lookup_wiring import gateway_api_keys, lookup_stage
from quittance.clock import Clock, SystemClock
from quittance.gateways.clients import GatewayApiClients
from quittance.gateways.stage import LookupRetried, LookupStage
from quittance.models.lookups import GatewayLookupMessage
from quittance.observability import instruments
from quittance.settings import LookupSettings, load

logger, metrics, tracer = instruments("lookup")


class GatewayLookupRecord(SqsRecordModel):
    body: Json[GatewayLookupMessage]


processor = BatchProcessor(event_type=BatchEventType.SQS, model=GatewayLookupRecord)


@cache
def deps() -> LookupStage:
    return wire(SystemClock())


def wire(clock: Clock) -> LookupStage:
    s = load(LookupSettings)
    # The gateways' SDKs ship with this function only: their clients are built here.
    apis = GatewayApiClients(
        gateway_api_keys(s),
        stripe_api_base=s.stripe_api_base,
        gocardless_environment=s.gocardless_environment,
        gocardless_api_base=s.gocardless_api_base,
        timeout=s.gateway_timeout_seconds,
    )
    return lookup_stage(s, clock, apis)


def record_handler(record: GatewayLookupRecord) -> dict[str, Any]:
    message = record.body
    logger.set_correlation_id(message.correlation_id)
    try:
        outcome = deps().run(
            message,
            attempt=int(record.attributes.ApproximateReceiveCount or 1),
            receipt_handle=record.receiptHandle,
        )
    except LookupRetried as retried:
        metrics.add_metric(name=f"lookup_{retried.reason}", unit=MetricUnit.Count, value=1)
        logger.warning("gateway lookup failed; retried later", extra=retried.log_fields)
        raise
    for name, value in outcome.counts().items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("gateway lookup completed", extra=outcome.log_fields(message.event))
    return {"queued": list(outcome.queued), "skipped": outcome.skipped}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
