"""/admin/customers/* — data subjects' rights for staff, IAM-authorised (SigV4): erasure,
export, marketing consent. Every call, reads included, leaves one audit entry."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.aws.http import iam_actor, json_response, request_id
from quittance.aws.privacy_wiring import PrivacyDeps, privacy
from quittance.clock import Clock, SystemClock
from quittance.errors import NotFound, PayloadInvalid
from quittance.observability import instruments
from quittance.privacy.rights import Audit, CustomerIdInvalid
from quittance.settings import PrivacyApiSettings, load

logger, metrics, tracer = instruments("privacy_api")
app = APIGatewayHttpResolver()


@cache
def deps() -> PrivacyDeps:
    return wire(SystemClock())


def wire(clock: Clock) -> PrivacyDeps:
    return privacy(load(PrivacyApiSettings), clock)


def _audit() -> Audit:
    return deps().audit(iam_actor(app.current_event), request_id(app.current_event))


@app.delete("/admin/customers/<customer_id>")
def erase(customer_id: str) -> Response[str]:
    d = deps()
    report = d.rights.erase(customer_id, _audit(), d.clock.now())
    outcome = "already_erased" if report.already_erased else "erased"
    metrics.add_metric(name=f"customers_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info("customer erasure", extra={"customer_id": customer_id, "outcome": outcome})
    return json_response(200, report.as_json())


@app.get("/admin/customers/<customer_id>/export")
def export(customer_id: str) -> Response[str]:
    d = deps()
    request = request_id(app.current_event)
    handed = d.rights.export(customer_id, _audit(), request_id=request, now=d.clock.now())
    metrics.add_metric(name="customers_exported", unit=MetricUnit.Count, value=1)
    logger.info("customer export", extra={"customer_id": customer_id, "size": handed.size})
    return json_response(200, handed.as_json())


@app.put("/admin/customers/<customer_id>/consents/marketing")
def marketing_consent(customer_id: str) -> Response[str]:
    d = deps()
    body = app.current_event.body
    changed = d.rights.marketing_consent(customer_id, body, _audit(), d.clock.now())
    return json_response(200, changed.as_json())


@app.exception_handler(CustomerIdInvalid)  # type: ignore[untyped-decorator]
@app.exception_handler(NotFound)  # type: ignore[untyped-decorator]
def refused(exc: CustomerIdInvalid | NotFound) -> Response[str]:
    status = 404 if isinstance(exc, NotFound) else 422
    return json_response(status, {"error": exc.code, "detail": exc.detail})


@app.exception_handler(PayloadInvalid)  # type: ignore[untyped-decorator]
def payload_invalid(exc: PayloadInvalid) -> Response[str]:
    return json_response(422, {"error": exc.code, "detail": exc.detail, "fields": exc.errors})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
