"""POST /webhooks/{provider}: verify a gateway's delivery and queue its payment events."""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance import errors
from quittance.archive.retention import RetentionPolicy
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.idempotency import persistence_layer
from quittance.aws.publisher import DedupedPublisher
from quittance.aws.queue import SqsQueue
from quittance.aws.secrets import JsonSecret
from quittance.aws.webhook_secrets import WebhookSecrets
from quittance.clock import Clock, SystemClock
from quittance.intake import CustomerRecords, accept_delivery
from quittance.observability import instruments
from quittance.providers import provider_names
from quittance.providers.base import WebhookRequest
from quittance.settings import IntakeRecordsSettings, IntakeSettings, load

logger, metrics, tracer = instruments("intake")
KNOWN = frozenset(provider_names())
app = APIGatewayHttpResolver()

STATUS = {
    errors.UnknownProvider: 404,
    errors.SignatureMissing: 401,
    errors.SignatureInvalid: 401,
    errors.TimestampOutOfTolerance: 401,
    errors.PayloadInvalid: 422,
    errors.BodyTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.DeliveryInProgress: 409,
    errors.QueueUnavailable: 503,
}


@dataclass(frozen=True)
class Deps:
    settings: IntakeSettings
    secrets: WebhookSecrets
    publisher: DedupedPublisher
    lookups: DedupedPublisher | None
    records: CustomerRecords
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    settings = load(IntakeSettings)
    region = settings.aws_region
    kept = load(IntakeRecordsSettings)
    dynamodb = make_client("dynamodb", region)
    sqs = make_client("sqs", region)
    # One dedupe record per (provider, event id) for both queues: an event goes to one.
    dedupe = persistence_layer(settings.idempotency_table, dynamodb)
    window = settings.dedupe_days * 86400
    s3 = make_client("s3", region)
    keyring = CustomerKeyring(
        kept.customers_table,
        dynamodb,
        make_client("kms", region),
        kept.customer_keys_kms_key_id,
        clock=clock.now,
    )
    return Deps(
        settings=settings,
        secrets=WebhookSecrets(
            JsonSecret(
                settings.webhook_secrets_name,
                make_client("secretsmanager", region),
                max_age=settings.secrets_max_age_seconds,
            )
        ),
        publisher=DedupedPublisher(
            SqsQueue(settings.payment_events_queue_url, sqs), dedupe, window_seconds=window
        ),
        lookups=DedupedPublisher(
            SqsQueue(settings.gateway_lookups_queue_url, sqs), dedupe, window_seconds=window
        )
        if settings.gateway_lookups_queue_url
        else None,
        records=CustomerRecords(
            profiles=CustomersTable(kept.customers_table, dynamodb, keyring),
            evidence=EvidenceStore(
                ArchiveBucket(kept.archive_bucket, s3, kept.archive_kms_key_id), s3, keyring
            ),
            retention=RetentionPolicy(
                mode=kept.retention_mode,
                minimum_days=kept.retention_days,
                legal_years=kept.legal_retention_years,
                fiscal_year_end_month=kept.fiscal_year_end_month,
                fiscal_timezone=kept.fiscal_timezone,
            ),
        ),
        clock=clock,
    )


def _raw_body(body: str | None, base64_encoded: bool) -> bytes:
    """The delivery byte for byte, as the gateway signed it."""
    if body is None:
        return b""
    if base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            raise errors.PayloadInvalid("body is not valid base64") from None
    return body.encode()


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


@app.post("/webhooks/<provider>")
def receive(provider: str) -> Response[str]:
    d = deps()
    if provider not in KNOWN:
        # The address is wrong whatever was sent to it: say so before judging the body.
        raise errors.UnknownProvider(f"no gateway named {provider!r}")
    event = app.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise errors.UnsupportedMediaType(f"expected application/json, got {media_type or 'none'}")
    body = _raw_body(event.body, bool(event.is_base64_encoded))
    if len(body) > d.settings.max_body_bytes:
        raise errors.BodyTooLarge(f"body exceeds {d.settings.max_body_bytes} bytes")
    result = accept_delivery(
        provider,
        WebhookRequest(headers=headers, body=body, received_at=d.clock.now()),
        secrets=d.secrets,
        publisher=d.publisher,
        correlation_id=event.request_context.request_id,
        records=d.records,
        lookups=d.lookups,
    )
    for outcome, ids in (("accepted", result.accepted), ("duplicate", result.duplicates)):
        if ids:
            metrics.add_metric(name=f"events_{outcome}", unit=MetricUnit.Count, value=len(ids))
    records = Counter(result.records)
    for outcome, count in records.items():
        metrics.add_metric(name=f"customer_records_{outcome}", unit=MetricUnit.Count, value=count)
    logger.info(
        "delivery accepted",
        extra={
            "provider": provider,
            "delivery_id": result.delivery_id,
            "accepted": list(result.accepted),
            "duplicates": list(result.duplicates),
            # What became of the payer's details: counts only, never the details.
            "customer_records": dict(records),
        },
    )
    if result.ignored:
        logger.info("event type not handled", extra={"event_types": list(result.ignored)})
        metrics.add_metric(name="events_ignored", unit=MetricUnit.Count, value=1)
    status = 202 if result.accepted else 200
    return _json(
        status,
        {
            "delivery_id": result.delivery_id,
            "accepted": list(result.accepted),
            "duplicates": list(result.duplicates),
            "ignored": list(result.ignored),
        },
    )


@app.not_found
def no_route(_: Exception) -> Response[str]:
    metrics.add_metric(name="rejected_unknown_route", unit=MetricUnit.Count, value=1)
    return _json(404, {"error": "unknown_route", "detail": "POST /webhooks/{provider} only"})


@app.exception_handler(errors.QuittanceError)  # type: ignore[untyped-decorator]
def refuse(exc: errors.QuittanceError) -> Response[str]:
    status = STATUS.get(type(exc), 400)
    metrics.add_metric(name=f"rejected_{exc.code}", unit=MetricUnit.Count, value=1)
    logger.warning("webhook refused", extra={"reason": exc.code, "status": status})
    body: dict[str, Any] = {"error": exc.code, "detail": exc.detail}
    if isinstance(exc, errors.PayloadInvalid) and exc.errors:
        body["fields"] = exc.errors
    return _json(status, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps().publisher.config.register_lambda_context(context)
    lookups = deps().lookups
    if lookups is not None:
        lookups.config.register_lambda_context(context)
    # Only known provider names become a dimension: the path value is the sender's choice.
    provider = (event.get("pathParameters") or {}).get("provider", "")
    metrics.add_dimension(name="provider", value=provider if provider in KNOWN else "unknown")
    metrics.add_metric(name="deliveries", unit=MetricUnit.Count, value=1)
    return app.resolve(event, context)
