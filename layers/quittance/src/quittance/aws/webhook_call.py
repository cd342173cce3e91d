"""The webhook endpoint's API Gateway HTTP API (payload 2.0) request and its JSON answer.

Intake reads its one route itself rather than through Powertools' event handler, whose
package imports every resolver it has (AppSync, Bedrock, VPC Lattice, OpenAPI…): about a
sixth of intake's cold import, for a route API Gateway has already matched. The answer has
the shape the event handler gave it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quittance.intake import PostedWebhook

WEBHOOK_ROUTE = "POST /webhooks/{provider}"


class _RequestContext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    request_id: str = Field(default="", alias="requestId")


class WebhookCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    route_key: str = Field(default="", alias="routeKey")
    headers: dict[str, str] | None = None
    body: str | None = None
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")
    path_parameters: dict[str, str] | None = Field(default=None, alias="pathParameters")
    request_context: _RequestContext = Field(
        default_factory=_RequestContext, alias="requestContext"
    )

    @property
    def is_webhook_route(self) -> bool:
        return self.route_key == WEBHOOK_ROUTE

    @property
    def provider(self) -> str:
        """The path's gateway name: the sender's choice, not yet a known one."""
        return (self.path_parameters or {}).get("provider", "")

    def posted(self, received_at: datetime) -> PostedWebhook:
        return PostedWebhook(
            provider=self.provider,
            headers={k.lower(): v for k, v in (self.headers or {}).items()},
            body=self.body,
            base64_encoded=self.is_base64_encoded,
            correlation_id=self.request_context.request_id,
            received_at=received_at,
        )


def json_answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "body": json.dumps(body),
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "cookies": [],
    }
