"""The intake handler against moto: every refusal has its status and changes nothing; a genuine
event is queued once; a failed send is never acknowledged."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from quittance.providers.stripe import sign
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import MotoStack, answer, http_event


def webhook(stack: MotoStack, delivery: Delivery, provider: str = "stripe", **kw: Any) -> Any:
    event = http_event(
        "POST",
        f"/webhooks/{provider}",
        "/webhooks/{provider}",
        {"provider": provider},
        body=delivery.body,
        headers=kw.pop("headers", delivery.headers),
        **kw,
    )
    return answer(stack.functions["IntakeFunction"].invoke(event))


def genuine(stack: MotoStack, **kw: Any) -> Delivery:
    return stripe_payment_intent_succeeded(
        secret=stack.provisioned.webhook_secrets["stripe"],
        invoice_number=kw.pop("invoice_number", "F-1"),
        amount_minor=kw.pop("amount_minor", 5000),
        **kw,
    )


def nothing_queued(stack: MotoStack) -> bool:
    return stack.queue_messages("PaymentEventsQueue") == []


def test_genuine_event_is_queued_once_with_202(moto_stack: MotoStack) -> None:
    delivery = genuine(moto_stack)
    status, body = webhook(moto_stack, delivery)
    assert (status, body["accepted"]) == (202, [delivery.event_id])
    [message] = moto_stack.queue_messages("PaymentEventsQueue")
    queued = json.loads(message["Body"])
    assert queued["event"]["event_id"] == delivery.event_id
    assert queued["event"]["amount"] == {"amount_minor": 5000, "currency": "EUR"}


def test_base64_encoded_body_is_verified_byte_for_byte(moto_stack: MotoStack) -> None:
    delivery = genuine(moto_stack)
    status, _ = webhook(moto_stack, delivery, base64_body=True)
    assert status == 202


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda d: ("paypal", d.headers, d.body), 404, "unknown_provider"),
        (
            lambda d: ("paypal", {"Content-Type": "text/plain"}, b"x" * 1_100_000),
            404,
            "unknown_provider",
        ),
        (
            lambda d: ("stripe", {"Content-Type": "text/plain"}, d.body),
            415,
            "unsupported_media_type",
        ),
        (
            lambda d: ("stripe", {"Content-Type": "application/json"}, d.body),
            401,
            "signature_missing",
        ),
        (lambda d: ("stripe", d.headers, d.body + b" "), 401, "signature_invalid"),
        (lambda d: ("stripe", d.headers, d.body + b" " * 1_100_000), 413, "body_too_large"),
    ],
    ids=[
        "unknown-provider",
        "unknown-provider-anything-sent",
        "content-type",
        "no-signature",
        "tampered",
        "too-large",
    ],
)
def test_refusals_say_why_and_queue_nothing(
    moto_stack: MotoStack, mutate: Any, status: int, code: str
) -> None:
    provider, headers, body = mutate(genuine(moto_stack))
    got, answer_body = webhook(
        moto_stack, Delivery(provider, body, headers, "x"), provider=provider, headers=headers
    )
    assert (got, answer_body["error"]) == (status, code)
    assert nothing_queued(moto_stack)


def test_another_route_is_404_and_queues_nothing(moto_stack: MotoStack) -> None:
    # API Gateway routes only POST /webhooks/{provider} here; anything else is refused whole.
    delivery = genuine(moto_stack)
    event = http_event(
        "PUT", "/webhooks/stripe", "/webhooks/{provider}", {"provider": "stripe"},
        body=delivery.body, headers=delivery.headers,
    )  # fmt: skip
    status, body = answer(moto_stack.functions["IntakeFunction"].invoke(event))
    assert (status, body["error"]) == (404, "unknown_route")
    assert nothing_queued(moto_stack)


def test_stale_signature_is_refused_with_its_reason(moto_stack: MotoStack) -> None:
    delivery = genuine(moto_stack, timestamp=int(time.time()) - 301)
    status, body = webhook(moto_stack, delivery)
    assert (status, body["error"]) == (401, "timestamp_out_of_tolerance")
    assert "300" in body["detail"]
    assert nothing_queued(moto_stack)


def test_valid_signature_but_unusable_payload_is_422_with_fields(moto_stack: MotoStack) -> None:
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    now = int(time.time())
    body = json.dumps(
        {
            "id": "evt_bad",
            "type": "payment_intent.succeeded",
            "created": now,
            "data": {"object": {"id": "pi_1", "amount": -5, "currency": "eur", "customer": "c"}},
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, secret, now)}
    status, answer_body = webhook(moto_stack, Delivery("stripe", body, headers, "evt_bad"))
    assert (status, answer_body["error"]) == (422, "payload_invalid")
    assert answer_body["fields"]
    assert nothing_queued(moto_stack)


def test_unknown_event_types_are_acknowledged_and_ignored(moto_stack: MotoStack) -> None:
    now = int(time.time())
    body = json.dumps({"id": "evt_c", "type": "customer.created", "created": now}).encode()
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, secret, now)}
    status, answer_body = webhook(moto_stack, Delivery("stripe", body, headers, "evt_c"))
    assert (status, answer_body["ignored"]) == (200, ["customer.created"])
    assert nothing_queued(moto_stack)


def test_a_failed_send_is_a_5xx_and_the_redelivery_is_accepted(moto_stack: MotoStack) -> None:
    delivery = genuine(moto_stack)
    intake = moto_stack.functions["IntakeFunction"]
    module = sys.modules["quittance_fn_IntakeFunction"]
    sqs_client = module.deps().publisher._queue._client

    def throttled(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendMessage"
        )

    sqs_client.meta.events.register("before-call.sqs.SendMessage", throttled)
    status, body = webhook(moto_stack, delivery)
    assert (status, body["error"]) == (503, "queue_unavailable")
    assert nothing_queued(moto_stack)
    sqs_client.meta.events.unregister("before-call.sqs.SendMessage", throttled)

    status, body = webhook(moto_stack, delivery)
    assert (status, body["accepted"]) == (202, [delivery.event_id])
    assert len(moto_stack.queue_messages("PaymentEventsQueue")) == 1
    assert intake.invocations == 2


def test_a_redelivery_is_acknowledged_but_queued_once(moto_stack: MotoStack) -> None:
    delivery = genuine(moto_stack)
    first = webhook(moto_stack, delivery)
    second = webhook(moto_stack, delivery)
    assert first[0] == 202
    assert (second[0], second[1]["duplicates"]) == (200, [delivery.event_id])
    assert len(moto_stack.queue_messages("PaymentEventsQueue")) == 1
