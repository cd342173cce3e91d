"""gateway-lookups → lookup: complete each gateway event from the gateway's own API, then
hand its payment events to the ledger (quittance.gateways.stage)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch import EventType as BatchEventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance import errors
from quittance.archive.retention import RetentionPolicy
from quittance.aws.alerts import OpsAlerts
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.queue import SqsQueue
from quittance.aws.secrets import JsonSecret
from quittance.clock import Clock, SystemClock
from quittance.gateways.clients import GatewayApiClients
from quittance.gateways.stage import KeptReads, complete_lookup, retry_delay
from quittance.models.lookups import GatewayLookupMessage
from quittance.observability import instruments
from quittance.settings import LookupSettings, load

logger, metrics, tracer = instruments("lookup")


class GatewayLookupRecord(SqsRecordModel):
    body: Json[GatewayLookupMessage]


processor = BatchProcessor(event_type=BatchEventType.SQS, model=GatewayLookupRecord)


@dataclass(frozen=True)
class Deps:
    settings: LookupSettings
    apis: GatewayApiClients
    profiles: CustomersTable
    payment_events: SqsQueue
    lookups: SqsQueue
    alerts: OpsAlerts
    reads: KeptReads
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(LookupSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    sqs = make_client("sqs", s.aws_region)
    s3 = make_client("s3", s.aws_region)
    keyring = CustomerKeyring(
        s.customers_table,
        dynamodb,
        make_client("kms", s.aws_region),
        s.customer_keys_kms_key_id,
        clock=clock.now,
    )
    return Deps(
        settings=s,
        apis=GatewayApiClients(
            JsonSecret(
                s.gateway_api_keys_name,
                make_client("secretsmanager", s.aws_region),
                max_age=s.secrets_max_age_seconds,
            ),
            stripe_api_base=s.stripe_api_base,
            gocardless_environment=s.gocardless_environment,
            gocardless_api_base=s.gocardless_api_base,
            timeout=s.gateway_timeout_seconds,
        ),
        profiles=CustomersTable(s.customers_table, dynamodb, keyring),
        payment_events=SqsQueue(s.payment_events_queue_url, sqs),
        lookups=SqsQueue(s.gateway_lookups_queue_url, sqs),
        alerts=OpsAlerts(s.ops_alerts_topic_arn, make_client("sns", s.aws_region)),
        reads=KeptReads(
            evidence=EvidenceStore(
                ArchiveBucket(s.archive_bucket, s3, s.archive_kms_key_id), s3, keyring
            ),
            retention=RetentionPolicy(
                mode=s.retention_mode,
                minimum_days=s.retention_days,
                legal_years=s.legal_retention_years,
                fiscal_year_end_month=s.fiscal_year_end_month,
                fiscal_timezone=s.fiscal_timezone,
            ),
            clock=clock,
        ),
        clock=clock,
    )


def record_handler(record: GatewayLookupRecord) -> dict[str, Any]:
    d = deps()
    message = record.body
    lookup = message.event
    logger.set_correlation_id(message.correlation_id)
    attempt = int(record.attributes.ApproximateReceiveCount or 1)
    try:
        outcome = complete_lookup(
            message,
            apis=d.apis,
            profiles=d.profiles,
            payment_events=d.payment_events,
            reads=d.reads,
        )
    except (
        errors.GatewayUnavailable,
        errors.GatewayKeyRejected,
        errors.GatewayObjectMissing,
    ) as exc:
        delay = retry_delay(attempt, d.settings.retry_base_seconds, d.settings.retry_max_seconds)
        metrics.add_metric(name=f"lookup_{exc.code}", unit=MetricUnit.Count, value=1)
        logger.warning(
            "gateway lookup failed; retried later",
            extra={
                "provider": lookup.provider,
                "event_id": lookup.event_id,
                "reason": exc.code,
                "detail": exc.detail,
                "attempt": attempt,
                "retry_in_seconds": delay,
            },
        )
        if isinstance(exc, errors.GatewayKeyRejected):
            # Nothing will work until someone fixes the key: say so now, not at the DLQ.
            d.alerts.publish(
                f"quittance: the {lookup.provider} API key is missing or refused",
                {
                    "anomaly": "gateway_key_rejected",
                    "provider": lookup.provider,
                    "detail": exc.detail,
                },
                dedupe_key=f"gateway_key_rejected#{lookup.provider}#{lookup.event_id}",
            )
        d.lookups.retry_later(record.receiptHandle, delay)
        raise
    metrics.add_metric(name="lookups_completed", unit=MetricUnit.Count, value=1)
    if outcome.queued:
        metrics.add_metric(name="events_queued", unit=MetricUnit.Count, value=len(outcome.queued))
    if outcome.skipped:
        # No payment event (an unpaid session, a zero invoice, an invoice paid out of band):
        # logged below with its reason and counted, never silent.
        metrics.add_metric(name="lookups_without_payment", unit=MetricUnit.Count, value=1)
    logger.info(
        "gateway lookup completed",
        extra={
            "provider": lookup.provider,
            "event_type": lookup.event_type,
            "event_id": lookup.event_id,
            "queued": list(outcome.queued),
            "skipped": outcome.skipped,
            "customers_erased": outcome.erased,
            "evidence_kept": outcome.evidence_kept,
        },
    )
    return {"queued": list(outcome.queued), "skipped": outcome.skipped}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
