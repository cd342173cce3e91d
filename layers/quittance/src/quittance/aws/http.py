"""What every API Gateway HTTP API handler repeats: JSON answers, the JSON object a request
carries, the IAM caller and the request id of an ``/admin`` call, and pydantic's validation
errors as fields an operator can read (never the rejected input, which may be personal);
and the staff API's rule that every call, reads included, leaves exactly one audit entry."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import ValidationError

from quittance.audit.trail import AuditLog
from quittance.errors import NotFound, PayloadInvalid, QuittanceError


def json_response(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


def json_object(raw: str | None) -> dict[str, Any]:
    """The request's body as a JSON object ({} when empty); PayloadInvalid otherwise."""
    text = raw or ""
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        raise PayloadInvalid("the body is not JSON") from None
    if not isinstance(value, dict):
        raise PayloadInvalid("the body must be a JSON object")
    return value


def routed_event(router: Router) -> APIGatewayProxyEventV2:
    """The HTTP API request a router is serving. Powertools types ``current_event`` as the
    base proxy event; an ``APIGatewayHttpResolver`` always hands a payload 2.0 event."""
    current: APIGatewayProxyEventV2 = router.current_event  # type: ignore[assignment]
    return current


def iam_actor(event: APIGatewayProxyEventV2) -> str:
    """The SigV4 caller's ARN, as API Gateway's IAM authoriser saw it."""
    iam = (event.request_context.raw_event.get("authorizer") or {}).get("iam") or {}
    return str(iam.get("userArn") or "unknown")


def request_id(event: APIGatewayProxyEventV2) -> str:
    return str(event.request_context.request_id or "")


def invalid_fields(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e["loc"]), "msg": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


Outcome = tuple[int, dict[str, Any], dict[str, Any]]
"""HTTP status, body, and the audit entry's details (never personal data)."""


def audited(
    event: APIGatewayProxyEventV2,
    trail: AuditLog,
    call: tuple[str, str],
    work: Callable[[], Outcome],
    *,
    refused: tuple[type[Exception], ...] = (),
) -> Response[str]:
    """Run one staff call, ``call`` being (action, target), and leave exactly one audit entry
    for it whatever its outcome: the answer carries the entry's sequence number. A domain
    refusal is a 4xx with its code (404 for something that does not exist); ``refused`` names
    further exceptions that are the caller's mistake (422 with their message); anything else
    is recorded as an error and raised, for Lambda to log and API Gateway to answer 500."""
    action, target = call
    actor, request = iam_actor(event), request_id(event)
    try:
        status, body, details = work()
    except NotFound as exc:
        status, body, details = 404, {"error": exc.code, "detail": exc.detail}, {}
    except QuittanceError as exc:
        status, body, details = 422, {"error": exc.code, "detail": exc.detail}, {}
    except ValidationError as exc:
        fields = invalid_fields(exc)
        status, body, details = (
            422,
            {"error": "invalid", "detail": "see fields", "fields": fields},
            {},
        )
    except refused as exc:
        code = getattr(exc, "code", None) or _snake(type(exc).__name__)
        status, body, details = 422, {"error": code, "detail": str(exc)}, {}
    except Exception:
        trail.record(actor, action, target, "error", request, {})
        raise
    outcome = "ok" if status < 400 else f"refused_{status}"
    entry = trail.record(actor, action, target, outcome, request, details)
    return json_response(status, {**body, "audit_seq": entry.seq})


def _snake(name: str) -> str:
    """``StatementRefused`` → ``statement_refused``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
