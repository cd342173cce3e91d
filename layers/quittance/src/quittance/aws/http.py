"""What every API Gateway HTTP API handler repeats: JSON answers, the JSON object a request
carries, the IAM caller and the request id of an ``/admin`` call, and pydantic's validation
errors as fields an operator can read (never the rejected input, which may be personal)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import ValidationError

from quittance.errors import PayloadInvalid


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
