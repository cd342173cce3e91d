"""Stripe deliveries in the real format (https://docs.stripe.com/api/events), signed with
Stripe's exact scheme."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, TypedDict, Unpack

from quittance.providers import stripe
from quittance_ops.deliveries import Delivery


# Each builder names what every event of its kind needs and takes the rest as one parameter
# object (a TypedDict, so that callers' keywords stay checked): Stripe's optional fields and
# the envelope (signing time, event id).
class Envelope(TypedDict, total=False):
    timestamp: int | None  # the signature's time, now by default
    event_id: str | None


class CardPayment(Envelope, total=False):
    currency: str
    customer: str
    email: str
    name: str
    locale: str
    brand: str
    last4: str
    payment_id: str | None
    next_steps: str | None
    address: dict[str, str | None] | None


class FailedPayment(Envelope, total=False):
    decline_code: str
    currency: str
    customer: str
    payment_id: str | None


class Refund(Envelope, total=False):
    invoice_number: str | None
    currency: str
    with_refund_list: bool


def _now(options: Envelope) -> int:
    timestamp = options.get("timestamp")
    return int(time.time()) if timestamp is None else timestamp


def stripe_payment_intent_succeeded(
    *, secret: str, invoice_number: str, amount_minor: int, **options: Unpack[CardPayment]
) -> Delivery:
    """A ``payment_intent.succeeded`` event as Stripe sends it (API version with
    ``latest_charge`` expanded through the webhook endpoint's configuration). By default
    Camille Durand pays in euros with a Visa card ending 4242."""
    now = _now(options)
    currency = options.get("currency", "eur")
    customer = options.get("customer", "cus_NffrFeUfNV2Hib")
    email = options.get("email", "camille.durand@example.com")
    name = options.get("name", "Camille Durand")
    locale = options.get("locale", "fr")
    next_steps = options.get("next_steps")
    address = options.get("address")
    event_id = options.get("event_id") or f"evt_{uuid.uuid4().hex[:24]}"
    payment_id = options.get("payment_id") or f"pi_{uuid.uuid4().hex[:24]}"
    charge_id = f"ch_{uuid.uuid4().hex[:24]}"
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{uuid.uuid4().hex[:14]}", "idempotency_key": str(uuid.uuid4())},
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": payment_id,
                "object": "payment_intent",
                "amount": amount_minor,
                "amount_received": amount_minor,
                "currency": currency,
                "customer": customer,
                "description": f"Invoice {invoice_number}",
                "metadata": {
                    "invoice_number": invoice_number,
                    "customer_name": name,
                    "locale": locale,
                    **({"next_steps": next_steps} if next_steps else {}),
                },
                "payment_method": f"pm_{uuid.uuid4().hex[:24]}",
                "payment_method_types": ["card"],
                "receipt_email": email,
                "status": "succeeded",
                "created": now - 3,
                "latest_charge": {
                    "id": charge_id,
                    "object": "charge",
                    "amount": amount_minor,
                    "currency": currency,
                    "paid": True,
                    "status": "succeeded",
                    "billing_details": {
                        "email": email,
                        "name": name,
                        "phone": None,
                        "address": address,
                    },
                    "payment_method_details": {
                        "type": "card",
                        "card": {
                            "brand": options.get("brand", "visa"),
                            "last4": options.get("last4", "4242"),
                            "exp_month": 12,
                            "exp_year": 2030,
                            "country": "FR",
                            "funding": "credit",
                        },
                    },
                },
            }
        },
    }
    return _signed(secret, event, now)


def _signed(secret: str, event: dict[str, Any], timestamp: int) -> Delivery:
    body = json.dumps(event, separators=(",", ":")).encode()
    return Delivery(
        provider="stripe",
        body=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe.sign(body, secret, timestamp),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        event_id=str(event["id"]),
    )


def _event(event_type: str, obj: dict[str, Any], now: int, event_id: str | None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{uuid.uuid4().hex[:14]}", "idempotency_key": str(uuid.uuid4())},
        "type": event_type,
        "data": {"object": obj},
    }


def stripe_payment_failed(
    *, secret: str, invoice_number: str, amount_minor: int, **options: Unpack[FailedPayment]
) -> Delivery:
    """``payment_intent.payment_failed``: the failed attempt is in ``last_payment_error``
    (``insufficient_funds`` by default)."""
    now = _now(options)
    intent = {
        "id": options.get("payment_id") or f"pi_{uuid.uuid4().hex[:24]}",
        "object": "payment_intent",
        "amount": amount_minor,
        "amount_received": 0,
        "currency": options.get("currency", "eur"),
        "customer": options.get("customer", "cus_NffrFeUfNV2Hib"),
        "metadata": {"invoice_number": invoice_number},
        "status": "requires_payment_method",
        "latest_charge": f"ch_{uuid.uuid4().hex[:24]}",
        "payment_method_types": ["card"],
        "last_payment_error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": options.get("decline_code", "insufficient_funds"),
            "message": "Your card has insufficient funds.",
            "charge": f"ch_{uuid.uuid4().hex[:24]}",
            "payment_method": {
                "id": f"pm_{uuid.uuid4().hex[:24]}",
                "object": "payment_method",
                "type": "card",
                "card": {"brand": "mastercard", "last4": "0341", "exp_month": 1, "exp_year": 2027},
            },
        },
    }
    event = _event("payment_intent.payment_failed", intent, now, options.get("event_id"))
    return _signed(secret, event, now)


def stripe_charge_refunded(
    *,
    secret: str,
    payment_id: str,
    charged_minor: int,
    refunded_minor: int,
    **options: Unpack[Refund],
) -> Delivery:
    """``charge.refunded``; older API versions embed the refund list (``with_refund_list``,
    the default), newer ones do not."""
    now = _now(options)
    currency = options.get("currency", "eur")
    invoice_number = options.get("invoice_number")
    charge_id = f"ch_{uuid.uuid4().hex[:24]}"
    charge: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": charged_minor,
        "amount_refunded": refunded_minor,
        "currency": currency,
        "customer": "cus_NffrFeUfNV2Hib",
        "payment_intent": payment_id,
        "metadata": {"invoice_number": invoice_number} if invoice_number else {},
        "refunded": refunded_minor == charged_minor,
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
    }
    if options.get("with_refund_list", True):
        charge["refunds"] = {
            "object": "list",
            "data": [
                {
                    "id": f"re_{uuid.uuid4().hex[:24]}",
                    "object": "refund",
                    "amount": refunded_minor,
                    "currency": currency,
                    "charge": charge_id,
                    "reason": "requested_by_customer",
                    "status": "succeeded",
                }
            ],
        }
    return _signed(secret, _event("charge.refunded", charge, now, options.get("event_id")), now)


def stripe_dispute(
    *,
    secret: str,
    payment_id: str,
    amount_minor: int,
    closed_status: str | None = None,
    currency: str = "eur",
    reason: str = "fraudulent",
    timestamp: int | None = None,
    event_id: str | None = None,
) -> Delivery:
    """``charge.dispute.created``, or ``charge.dispute.closed`` when ``closed_status`` is set
    (``won``, ``lost`` or ``warning_closed``)."""
    now = int(time.time()) if timestamp is None else timestamp
    dispute = {
        "id": f"dp_{uuid.uuid4().hex[:24]}",
        "object": "dispute",
        "amount": amount_minor,
        "currency": currency,
        "charge": f"ch_{uuid.uuid4().hex[:24]}",
        "payment_intent": payment_id,
        "reason": reason,
        "status": closed_status or "needs_response",
        "metadata": {},
    }
    event_type = "charge.dispute.closed" if closed_status else "charge.dispute.created"
    return _signed(secret, _event(event_type, dispute, now, event_id), now)
