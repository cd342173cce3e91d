"""Stripe deliveries in the real format (https://docs.stripe.com/api/events), signed with
Stripe's exact scheme."""

from __future__ import annotations

import json
import time
import uuid

from quittance.providers import stripe

from quittance_ops.deliveries import Delivery


def stripe_payment_intent_succeeded(
    *,
    secret: str,
    invoice_number: str,
    amount_minor: int,
    currency: str = "eur",
    customer: str = "cus_NffrFeUfNV2Hib",
    email: str = "camille.durand@example.com",
    name: str = "Camille Durand",
    locale: str = "fr",
    brand: str = "visa",
    last4: str = "4242",
    timestamp: int | None = None,
    event_id: str | None = None,
    payment_id: str | None = None,
) -> Delivery:
    """A ``payment_intent.succeeded`` event as Stripe sends it (API version with
    ``latest_charge`` expanded through the webhook endpoint's configuration)."""
    now = int(time.time()) if timestamp is None else timestamp
    event_id = event_id or f"evt_{uuid.uuid4().hex[:24]}"
    payment_id = payment_id or f"pi_{uuid.uuid4().hex[:24]}"
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
                    "billing_details": {"email": email, "name": name, "phone": None},
                    "payment_method_details": {
                        "type": "card",
                        "card": {
                            "brand": brand,
                            "last4": last4,
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
    body = json.dumps(event, separators=(",", ":")).encode()
    return Delivery(
        provider="stripe",
        body=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe.sign(body, secret, now),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        event_id=event_id,
    )
