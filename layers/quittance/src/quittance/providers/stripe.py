"""Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]``, HMAC-SHA256 over ``"{t}.{body}"``.

https://docs.stripe.com/webhooks#verify-manually — several v1 entries appear while a secret
is being rolled; any one matching any of our active secrets is enough."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from quittance.errors import (
    PayloadInvalid,
    SignatureInvalid,
    SignatureMissing,
    TimestampOutOfTolerance,
)
from quittance.models.events import (
    CustomerDetails,
    EventType,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.money import Money
from quittance.providers.base import ParsedDelivery, WebhookRequest

TOLERANCE_SECONDS = 300

_HANDLED = {"payment_intent.succeeded": EventType.PAYMENT_SUCCEEDED}


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send; used by the demo and tests to sign real deliveries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class StripeAdapter:
    name = "stripe"

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.headers.get("stripe-signature")
        if not header:
            raise SignatureMissing("Stripe-Signature header is missing")
        timestamp: int | None = None
        candidates: list[str] = []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isdigit():
                timestamp = int(value)
            elif key == "v1" and value:
                candidates.append(value)
        if timestamp is None or not candidates:
            raise SignatureInvalid("Stripe-Signature needs t= and at least one v1=")
        signed = f"{timestamp}.".encode() + request.body
        expected = [
            hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets
        ]
        # Check every pair without stopping early, so timing says nothing about which matched.
        matched = False
        for candidate in candidates:
            for digest in expected:
                matched |= hmac.compare_digest(candidate.encode(), digest.encode())
        if not matched:
            raise SignatureInvalid("no v1 signature matches an active signing secret")
        age = request.received_at.timestamp() - timestamp
        if abs(age) > TOLERANCE_SECONDS:
            raise TimestampOutOfTolerance(
                f"signature timestamp is {int(age)} s from now; tolerance is {TOLERANCE_SECONDS} s"
            )

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        try:
            payload = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadInvalid(f"body is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise PayloadInvalid("body must be a JSON object")
        event_id, event_type = payload.get("id"), payload.get("type")
        if not isinstance(event_id, str) or not isinstance(event_type, str):
            required: list[dict[str, object]] = [
                {"loc": ["id"], "msg": "required"},
                {"loc": ["type"], "msg": "required"},
            ]
            raise PayloadInvalid("Stripe event needs string 'id' and 'type'", required)
        kind = _HANDLED.get(event_type)
        if kind is None:
            return ParsedDelivery(delivery_id=event_id, ignored=(event_type,))
        obj = (payload.get("data") or {}).get("object")
        if not isinstance(obj, dict):
            raise PayloadInvalid("data.object is missing", [{"loc": ["data", "object"]}])
        try:
            event = _payment_intent_event(event_id, kind, payload, obj)
        except ValidationError as exc:
            errors: list[dict[str, object]] = [
                {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False, include_input=False)
            ]
            raise PayloadInvalid("payment_intent does not map to a payment event", errors) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadInvalid(f"payment_intent is malformed: {exc}") from None
        return ParsedDelivery(delivery_id=event_id, events=(event,))


def _latest_charge(intent: dict[str, Any]) -> dict[str, Any]:
    latest = intent.get("latest_charge")
    if isinstance(latest, dict):
        return latest
    charges = (intent.get("charges") or {}).get("data") or []
    return charges[0] if charges and isinstance(charges[0], dict) else {}


def _payment_intent_event(
    event_id: str, kind: EventType, payload: dict[str, Any], intent: dict[str, Any]
) -> PaymentEvent:
    metadata = intent.get("metadata") or {}
    charge = _latest_charge(intent)
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    billing = charge.get("billing_details") or {}
    amount = intent.get("amount_received") or intent.get("amount")
    customer_ref = intent.get("customer") or metadata.get("customer_reference")
    if not customer_ref:
        raise ValueError("payment_intent has no customer nor metadata.customer_reference")
    return PaymentEvent.model_validate(
        {
            "event_id": event_id,
            "provider": "stripe",
            "type": kind,
            "occurred_at": datetime.fromtimestamp(int(payload["created"]), UTC),
            "payment_id": intent["id"],
            "invoice_number": metadata.get("invoice_number"),
            "amount": Money(amount_minor=amount, currency=intent["currency"]),
            "method": PaymentMethod(
                kind=MethodKind.CARD if card or charge == {} else MethodKind.OTHER,
                transaction_id=charge.get("id") or intent["id"],
                card_brand=card.get("brand"),
                card_last4=card.get("last4"),
            ),
            "customer": CustomerDetails(
                reference=customer_ref,
                name=billing.get("name") or metadata.get("customer_name"),
                email=intent.get("receipt_email") or billing.get("email"),
                phone=billing.get("phone"),
                locale=metadata.get("locale"),
            ),
            "livemode": bool(payload.get("livemode", False)),
        }
    )
