"""/admin/* — the staff API, IAM-authorised by API Gateway (SigV4): register invoices, export
the books, and the compliance desk (find, verify, hold, hand over, resend a proof; read and
verify the audit trail). Every call leaves exactly one audit entry, reads included."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.aws.archive_routes import DeskRoutes
from quittance.aws.archive_wiring import StaffApiDeps, resend_idempotency, staff_api
from quittance.aws.books_routes import BooksRoutes
from quittance.clock import Clock, SystemClock
from quittance.observability import instruments

logger, metrics, tracer = instruments("archive_api")
RESEND_IDEMPOTENCY = resend_idempotency()
app = APIGatewayHttpResolver()


@cache
def deps() -> StaffApiDeps:
    return wire(SystemClock())


def wire(clock: Clock) -> StaffApiDeps:
    return staff_api(clock, RESEND_IDEMPOTENCY)


def services() -> StaffApiDeps:
    """``deps`` looked up on each request: the local stack's ``use_clock`` replaces it."""
    return deps()


app.include_router(DeskRoutes(services).router)
app.include_router(BooksRoutes(services, logger, metrics).router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    RESEND_IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
