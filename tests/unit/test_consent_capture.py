"""Marketing consent given at checkout reaches the canonical event: Stripe passes it as
``metadata.marketing_consent`` ("true"/"false"); anything else means the payer was not asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from quittance.providers.base import WebhookRequest
from quittance.providers.stripe import StripeAdapter
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded


@pytest.mark.parametrize(
    ("value", "consent"),
    [("true", True), ("false", False), (" TRUE ", True), ("yes", None), (None, None)],
)
def test_checkout_consent_is_read_from_stripe_metadata(
    value: str | None, consent: bool | None
) -> None:
    delivery = stripe_payment_intent_succeeded(secret="s", invoice_number="F-1", amount_minor=100)
    payload = json.loads(delivery.body)
    if value is not None:
        payload["data"]["object"]["metadata"]["marketing_consent"] = value
    parsed = StripeAdapter().parse(
        WebhookRequest(headers={}, body=json.dumps(payload).encode(), received_at=datetime.now(UTC))
    )
    [event] = parsed.events
    assert event.customer is not None
    assert event.customer.marketing_consent is consent
