"""Intake: a delivery is verified, mapped and queued once per event, or refused with nothing
queued."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from quittance.errors import SignatureInvalid, TimestampOutOfTolerance, UnknownProvider
from quittance.intake import IntakeResult, accept_delivery
from quittance.models.messages import PaymentEventMessage
from quittance.providers import stripe
from quittance.providers.base import WebhookRequest
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from tests.fakes import FakeSecrets, RecordingPublisher

SECRET = "whsec_intake_tests_0123456789abcdef"
TS = 1_781_000_000
RECEIVED = datetime.fromtimestamp(TS + 2, UTC)
CORRELATION = "req-7f3c2a9e-5b1d-4e8f-a6c0-123456789abc"


def _delivery(secret: str = SECRET, timestamp: int = TS) -> Delivery:
    return stripe_payment_intent_succeeded(
        secret=secret,
        invoice_number="F-2026-0042",
        amount_minor=4200,
        timestamp=timestamp,
        event_id="evt_intake_0000000000000001",
        payment_id="pi_intake_0000000000000001",
    )


def _request(delivery: Delivery, received_at: datetime = RECEIVED) -> WebhookRequest:
    headers = {name.lower(): value for name, value in delivery.headers.items()}
    return WebhookRequest(headers=headers, body=delivery.body, received_at=received_at)


def _accept(
    request: WebhookRequest,
    publisher: RecordingPublisher,
    provider: str = "stripe",
    secrets: FakeSecrets | None = None,
) -> IntakeResult:
    return accept_delivery(
        provider,
        request,
        secrets=secrets or FakeSecrets({"stripe": [SECRET]}),
        publisher=publisher,
        correlation_id=CORRELATION,
    )


def test_unknown_provider_is_refused_and_nothing_is_published() -> None:
    # Given a genuine Stripe delivery posted to /webhooks/paypal
    publisher = RecordingPublisher()
    secrets = FakeSecrets({"stripe": [SECRET]})
    # When intake accepts it
    with pytest.raises(UnknownProvider):
        _accept(_request(_delivery()), publisher, provider="paypal", secrets=secrets)
    # Then nothing is queued, and no secret was even looked up
    assert publisher.calls == 0
    assert secrets.asked == []


def test_bad_signature_publishes_nothing() -> None:
    publisher = RecordingPublisher()
    with pytest.raises(SignatureInvalid):
        _accept(_request(_delivery(secret="whsec_forger")), publisher)
    assert publisher.calls == 0


def test_stale_delivery_publishes_nothing() -> None:
    publisher = RecordingPublisher()
    with pytest.raises(TimestampOutOfTolerance):
        _accept(_request(_delivery(timestamp=TS - 3600)), publisher)
    assert publisher.calls == 0


def test_genuine_event_is_published_once_with_correlation_and_receive_time() -> None:
    # Given a genuine payment_intent.succeeded
    publisher = RecordingPublisher()
    delivery = _delivery()
    # When intake accepts it
    result = _accept(_request(delivery), publisher)
    # Then exactly one message reaches the payment-events queue
    assert result == IntakeResult(
        provider="stripe",
        delivery_id="evt_intake_0000000000000001",
        accepted=("evt_intake_0000000000000001",),
        duplicates=(),
        ignored=(),
    )
    (message,) = publisher.published
    assert isinstance(message, PaymentEventMessage)
    assert message.correlation_id == CORRELATION
    assert message.received_at == RECEIVED
    assert message.event.event_id == delivery.event_id
    assert message.event.payment_id == "pi_intake_0000000000000001"
    assert message.event.invoice_number == "F-2026-0042"
    assert message.event.amount.amount_minor == 4200
    # And the message survives the queue as JSON unchanged (what the ledger will read)
    assert PaymentEventMessage.model_validate_json(message.model_dump_json()) == message


def test_secrets_are_looked_up_for_the_provider_in_the_path() -> None:
    secrets = FakeSecrets({"stripe": [SECRET], "other": ["whsec_other"]})
    _accept(_request(_delivery()), RecordingPublisher(), secrets=secrets)
    assert secrets.asked == ["stripe"]


def test_same_delivery_twice_is_accepted_once_then_reported_duplicate() -> None:
    # Given a delivery that Stripe sends again (it retries until it sees a 2xx)
    publisher = RecordingPublisher()
    request = _request(_delivery())
    # When intake receives it twice
    first = _accept(request, publisher)
    second = _accept(request, publisher)
    # Then it is queued once and the second answer says so
    assert first.accepted == ("evt_intake_0000000000000001",)
    assert first.duplicates == ()
    assert second.accepted == ()
    assert second.duplicates == ("evt_intake_0000000000000001",)
    assert len(publisher.published) == 1


def test_ignored_event_type_publishes_nothing() -> None:
    # Given a genuine customer.created delivery
    body = json.dumps(
        {
            "id": "evt_intake_customer_created",
            "object": "event",
            "type": "customer.created",
            "created": TS,
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    ).encode()
    request = WebhookRequest(
        headers={"stripe-signature": stripe.sign(body, SECRET, TS)},
        body=body,
        received_at=RECEIVED,
    )
    publisher = RecordingPublisher()
    # When intake accepts it
    result = _accept(request, publisher)
    # Then nothing is queued, and the answer names the ignored type
    assert result.ignored == ("customer.created",)
    assert result.accepted == ()
    assert result.duplicates == ()
    assert result.delivery_id == "evt_intake_customer_created"
    assert publisher.calls == 0
