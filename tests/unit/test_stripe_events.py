"""Stripe's failure, refund and dispute events map to canonical events a customer message
and the ledger can use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quittance.errors import PayloadInvalid
from quittance.models.events import DisputeOutcome, EventType, FailureCategory, MethodKind
from quittance.providers.base import WebhookRequest
from quittance.providers.stripe import StripeAdapter
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import (
    stripe_charge_refunded,
    stripe_dispute,
    stripe_payment_failed,
)

SECRET = "whsec_test_events"
ADAPTER = StripeAdapter()


def parse(delivery: Delivery):  # type: ignore[no-untyped-def]
    request = WebhookRequest(
        headers={k.lower(): v for k, v in delivery.headers.items()},
        body=delivery.body,
        received_at=datetime.now(UTC),
    )
    ADAPTER.verify(request, [SECRET])
    (event,) = ADAPTER.parse(request).events
    return event


@pytest.mark.parametrize(
    ("decline_code", "category"),
    [
        ("insufficient_funds", FailureCategory.INSUFFICIENT_FUNDS),
        ("expired_card", FailureCategory.EXPIRED_CARD),
        ("fraudulent", FailureCategory.SUSPECTED_FRAUD),
        ("authentication_required", FailureCategory.AUTHENTICATION_REQUIRED),
        ("processing_error", FailureCategory.TECHNICAL),
        ("do_not_honor", FailureCategory.DECLINED),
    ],
)
def test_a_failed_payment_says_why_in_customer_terms(
    decline_code: str, category: FailureCategory
) -> None:
    # Given a signed payment_intent.payment_failed with a decline code
    delivery = stripe_payment_failed(
        secret=SECRET, invoice_number="F-9", amount_minor=4200, decline_code=decline_code
    )
    # When parsed
    event = parse(delivery)
    # Then the failure is named in plain categories, the provider's code kept
    assert event.type is EventType.PAYMENT_FAILED
    assert event.failure is not None
    assert (event.failure.category, event.failure.provider_code) == (category, decline_code)
    assert event.amount.amount_minor == 4200
    assert event.invoice_number == "F-9"
    # and the card of the failed attempt is known, for the "update your card" message
    assert (event.method.kind, event.method.card_last4) == (MethodKind.CARD, "0341")


def test_a_refund_names_its_own_amount_not_the_cumulative_total() -> None:
    # Given a second partial refund: 30.00 € now, on a 100.00 € charge
    delivery = stripe_charge_refunded(
        secret=SECRET, payment_id="pi_123", charged_minor=10000, refunded_minor=3000
    )
    event = parse(delivery)
    assert event.type is EventType.REFUND_ISSUED
    assert event.payment_id == "pi_123"
    assert event.refund is not None and event.refund.refund_id.startswith("re_")
    assert event.refund.amount.amount_minor == 3000
    assert event.amount.amount_minor == 10000


def test_a_refund_without_its_list_is_looked_up_never_credited_at_the_cumulative_total() -> None:
    # Given charge.refunded as current API versions send it: no refund list, and
    # amount_refunded the running total of every refund so far (issue 16)
    delivery = stripe_charge_refunded(
        secret=SECRET,
        payment_id="pi_1",
        charged_minor=10000,
        refunded_minor=10000,
        with_refund_list=False,
    )
    request = WebhookRequest(
        headers={k.lower(): v for k, v in delivery.headers.items()},
        body=delivery.body,
        received_at=datetime.now(UTC),
    )
    ADAPTER.verify(request, [SECRET])
    parsed = ADAPTER.parse(request)
    # Then nothing is credited from the payload: the lookup stage lists the charge's refunds
    assert parsed.events == ()
    (lookup,) = parsed.lookups
    assert lookup.event_type == "charge.refunded"
    assert lookup.object_id.startswith("ch_")
    assert lookup.links["payment_intent"] == "pi_1"


def test_a_dispute_opened_then_closed_carries_its_outcome() -> None:
    opened = parse(stripe_dispute(secret=SECRET, payment_id="pi_7", amount_minor=5000))
    assert opened.type is EventType.DISPUTE_OPENED
    assert opened.dispute is not None and opened.dispute.outcome is None
    assert opened.customer is None  # disputes do not name the customer; the ledger knows
    for status, outcome in (
        ("won", DisputeOutcome.WON),
        ("warning_closed", DisputeOutcome.WON),
        ("lost", DisputeOutcome.LOST),
    ):
        closed = parse(
            stripe_dispute(
                secret=SECRET, payment_id="pi_7", amount_minor=5000, closed_status=status
            )
        )
        assert closed.type is EventType.DISPUTE_CLOSED
        assert closed.dispute is not None and closed.dispute.outcome is outcome


def test_a_refund_whose_amount_is_not_an_integer_is_refused_with_the_field() -> None:
    delivery = stripe_charge_refunded(
        secret=SECRET, payment_id="pi_1", charged_minor=100, refunded_minor=50
    )
    tampered_body = delivery.body.replace(b'"amount":50,', b'"amount":"50",', 1)
    from quittance.providers.stripe import sign

    headers = {**delivery.headers, "Stripe-Signature": sign(tampered_body, SECRET, 1_800_000_000)}
    request = WebhookRequest(
        headers={k.lower(): v for k, v in headers.items()},
        body=tampered_body,
        received_at=datetime.fromtimestamp(1_800_000_000, UTC),
    )
    ADAPTER.verify(request, [SECRET])
    with pytest.raises(PayloadInvalid) as refused:
        ADAPTER.parse(request)
    assert ["amount"] in [error["loc"] for error in refused.value.errors]
