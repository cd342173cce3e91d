"""A paid, receipted, archived invoice in the moto stack, made as production makes it: the
payment event goes through the ledger function and the receipt job through the receipts
function (real PDF/A rendering); then admin calls as API Gateway hands them to archive_api."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from quittance.models.events import (
    CustomerDetails,
    EventType,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.messages import PaymentEventMessage
from quittance.models.money import Money

from .conftest import ACCOUNT, REGION, MotoStack
from .pipeline import deliver

STAFF = f"arn:aws:iam::{ACCOUNT}:user/compliance-officer"


def pay(moto_stack: MotoStack, invoice: str, payment: str, cents: int = 12000, **kw: Any) -> None:
    event = PaymentEvent(
        event_id=f"evt-{payment}",
        provider="stripe",
        type=EventType.PAYMENT_SUCCEEDED,
        occurred_at=kw.pop("occurred_at", datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
        payment_id=payment,
        invoice_number=invoice,
        amount=Money(amount_minor=cents, currency="EUR"),
        method=kw.pop(
            "method", PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242")
        ),
        customer=CustomerDetails(
            reference=kw.pop("reference", f"cus-{invoice}"), email="payer@example.com", name="Payer"
        ),
    )
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(
        QueueUrl=moto_stack.resource("PaymentEventsQueue"),
        MessageBody=PaymentEventMessage(
            correlation_id=f"c-{payment}", received_at=event.occurred_at, event=event
        ).model_dump_json(),
    )
    pump(moto_stack, "PaymentEventsQueue", "LedgerFunction")
    pump(moto_stack, "ReceiptJobsQueue", "ReceiptsFunction")


def pump(moto_stack: MotoStack, queue: str, function: str) -> None:
    deliver(moto_stack, queue, function)


def admin(
    moto_stack: MotoStack,
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    actor: str = STAFF,
) -> tuple[int, dict[str, Any]]:
    """One signed admin call, as API Gateway passes it on after checking SigV4."""
    route, params = _route(method, path)
    event = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query or None,
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "api",
            "authorizer": {"iam": {"userArn": actor, "accountId": ACCOUNT, "accessKey": "AKIA"}},
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "test"},
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "23/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795428000000,
        },
        "pathParameters": params,
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }  # fmt: skip
    result = moto_stack.functions["ArchiveApiFunction"].invoke(event)
    return int(result["statusCode"]), json.loads(result["body"] or "{}")


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    parts = path.strip("/").split("/")
    if parts[:2] == ["admin", "receipts"] and len(parts) >= 3:
        tail = "/".join(parts[3:])
        return "/admin/receipts/{number}" + (f"/{tail}" if tail else ""), {"number": parts[2]}
    return path, {}


class InProcessApi:
    """The CLI's view of the staff API (``Caller``), answered by archive_api in process."""

    def __init__(self, moto_stack: MotoStack, actor: str = STAFF) -> None:
        self.moto_stack = moto_stack
        self.actor = actor

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        from urllib.parse import parse_qsl, urlsplit

        split = urlsplit(path)
        query = dict(parse_qsl(split.query)) or None
        return admin(self.moto_stack, method, split.path, query=query, body=body, actor=self.actor)
