"""POST /webhooks/{provider}: verify a gateway's delivery and queue its payment events.

The gateways wait on this answer, so its cold start is kept short (docs/performance.md): no
Tracer (Lambda's Active tracing still records the function's segment) and no Powertools
event handler for its single route (quittance.aws.webhook_call)."""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.aws.intake_wiring import IntakeDeps, wire
from quittance.aws.webhook_call import WebhookCall, json_answer
from quittance.clock import SystemClock
from quittance.errors import QuittanceError
from quittance.intake import answer, outcome_counts, receive_webhook, refusal
from quittance.observability import logs_and_metrics
from quittance.providers import provider_names

logger, metrics = logs_and_metrics("intake")
KNOWN = frozenset(provider_names())


@cache
def deps() -> IntakeDeps:
    return wire(SystemClock())


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    d = deps()
    d.register_lambda_context(context)
    call = WebhookCall.model_validate(event)
    # Only known provider names become a dimension: the path value is the sender's choice.
    metrics.add_dimension(
        name="provider", value=call.provider if call.provider in KNOWN else "unknown"
    )
    count("deliveries")
    if not call.is_webhook_route:  # API Gateway routes nothing else here
        count("rejected_unknown_route")
        return json_answer(
            404, {"error": "unknown_route", "detail": "POST /webhooks/{provider} only"}
        )
    try:
        result = receive_webhook(
            call.posted(d.clock.now()),
            max_body_bytes=d.settings.max_body_bytes,
            secrets=d.secrets,
            publisher=d.publisher,
            records=d.records,
            lookups=d.lookups,
        )
    except QuittanceError as exc:
        status, body = refusal(exc)
        count(f"rejected_{exc.code}")
        logger.warning("webhook refused", extra={"reason": exc.code, "status": status})
        return json_answer(status, body)
    counts = outcome_counts(result)
    for name, value in counts.items():
        count(name, value)
    logger.info(
        "delivery accepted",
        extra={
            "provider": call.provider,
            "delivery_id": result.delivery_id,
            "accepted": list(result.accepted),
            "duplicates": list(result.duplicates),
            # What became of the payer's details: counts only, never the details.
            "customer_records": dict(Counter(result.records)),
        },
    )
    if result.ignored:
        logger.info("event type not handled", extra={"event_types": list(result.ignored)})
    return json_answer(*answer(result))
