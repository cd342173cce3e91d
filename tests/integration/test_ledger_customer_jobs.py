"""The ledger tells the customer about a failed attempt (a "payment_failed" job), once per
failure, and never about a failure that arrives after the payment succeeded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.follow_ups import failure_notification
from quittance.ledger.service import apply_event
from quittance.models.events import (
    CustomerDetails,
    EventType,
    Failure,
    FailureCategory,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.messages import PaymentEventMessage
from quittance.models.money import Money

from .conftest import MotoStack

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def event(n: int, kind: EventType, **kw: Any) -> PaymentEventMessage:
    return PaymentEventMessage(
        correlation_id=f"c-{n}",
        received_at=T0 + timedelta(minutes=n),
        event=PaymentEvent(
            event_id=f"evt-{n}",
            provider="stripe",
            type=kind,
            occurred_at=T0 + timedelta(minutes=n),
            payment_id="pi_1",
            invoice_number="F-77",
            amount=Money(amount_minor=4200, currency="EUR"),
            method=PaymentMethod(kind=MethodKind.CARD, card_last4="4242"),
            **({"customer": CustomerDetails(reference="cus_77")} | kw),
        ),
    )


def failed(n: int, category: FailureCategory) -> PaymentEventMessage:
    return event(n, EventType.PAYMENT_FAILED, failure=Failure(category=category))


def test_a_failed_attempt_makes_one_customer_job_and_a_late_failure_none(
    moto_stack: MotoStack,
) -> None:
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    customers = CustomersTable(moto_stack.resource("CustomersTable"), moto_stack.client("dynamodb"))

    def apply(message: PaymentEventMessage) -> Any:
        outcome = apply_event(
            message.event, store=ledger, profiles=customers, now=message.received_at
        )
        return failure_notification(message, outcome)

    first = apply(failed(1, FailureCategory.INSUFFICIENT_FUNDS))
    assert first is not None
    assert (first.kind, first.failure, first.invoice_number) == (
        "payment_failed",
        FailureCategory.INSUFFICIENT_FUNDS,
        "F-77",
    )
    assert first.amount == Money(amount_minor=4200, currency="EUR")
    assert first.customer_id.startswith("C-")
    # Redelivered: the same job again (same change id), which notify sends only once.
    again = apply(failed(1, FailureCategory.INSUFFICIENT_FUNDS))
    assert again is not None and again.change_id == first.change_id
    # A second attempt that fails differently is news of its own.
    second = apply(failed(2, FailureCategory.EXPIRED_CARD))
    assert second is not None and second.change_id != first.change_id

    assert apply(event(3, EventType.PAYMENT_SUCCEEDED)) is None
    # A failure reported after the success (out of order, or a stale retry) changes nothing
    # and must not tell a paying customer that their payment failed.
    assert apply(failed(4, FailureCategory.TECHNICAL)) is None


def test_the_gateways_payment_page_reaches_the_job_and_one_attempt_is_told_once(
    moto_stack: MotoStack,
) -> None:
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    customers = CustomersTable(moto_stack.resource("CustomersTable"), moto_stack.client("dynamodb"))
    hosted = "https://invoice.stripe.com/i/acct_1Qf/test_1QgBillingFailed1"

    def apply(n: int) -> Any:
        # Stripe reports one Billing attempt twice: payment_intent.payment_failed and
        # invoice.payment_failed, both naming the attempt's charge and the hosted page.
        failure = Failure(
            category=FailureCategory.INSUFFICIENT_FUNDS,
            attempt_id="ch_3QgBillingFail001",
            payment_update_url=hosted,
        )
        message = event(n, EventType.PAYMENT_FAILED, failure=failure)
        outcome = apply_event(
            message.event, store=ledger, profiles=customers, now=message.received_at
        )
        return failure_notification(message, outcome)

    first, second = apply(1), apply(2)
    assert first is not None and second is not None
    # The failed-payment message will send the payer to the gateway's own page
    assert first.payment_update_url == hosted
    # and both events are one change, which notify sends once
    assert first.change_id == second.change_id
    # The link (it opens the payer's invoice) is not kept in the ten-year ledger
    record = ledger.load("F-77")
    assert record is not None and len(record.events) == 2
    assert all(e.failure and e.failure.payment_update_url is None for e in record.events)


def test_checkout_consent_is_recorded_and_never_overrides_a_later_unsubscribe(
    moto_stack: MotoStack,
) -> None:
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    customers = CustomersTable(moto_stack.resource("CustomersTable"), moto_stack.client("dynamodb"))

    def paid(n: int, consent: bool) -> str:
        message = event(
            n,
            EventType.PAYMENT_SUCCEEDED,
            customer=CustomerDetails(reference="cus_77", marketing_consent=consent),
        )
        outcome = apply_event(
            message.event, store=ledger, profiles=customers, now=message.received_at
        )
        assert outcome.customer_id is not None
        return outcome.customer_id

    def consent(customer_id: str) -> dict[str, Any]:
        profile = customers.held(customer_id) or {}
        return dict(profile["marketing_consent"])

    customer_id = paid(10, consent=True)
    recorded = consent(customer_id)
    assert (recorded["granted"], recorded["source"]) == (True, "stripe_checkout")
    assert datetime.fromisoformat(recorded["at"]) == T0 + timedelta(minutes=10)

    # The customer unsubscribes; then the same checkout event is replayed (or a late one
    # arrives): the choice made afterwards stands.
    customers.record_marketing_consent(customer_id, False, T0 + timedelta(minutes=20), "one_click")
    paid(10, consent=True)
    assert consent(customer_id)["granted"] is False
    # A new checkout after that, where the customer opts in again, is a new choice.
    paid(30, consent=True)
    assert consent(customer_id)["granted"] is True
