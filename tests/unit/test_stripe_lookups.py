"""Stripe as real integrations send it (issue 16): events signed with stripe-python's own
helper, parsed by intake, completed by the lookup stage from documented API objects, at the
current API version and at 2022-08-01."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe as stripe_python

from quittance.gateways.stripe_lookup import Completion, complete_stripe
from quittance.models.events import EventType, FailureCategory, MethodKind, PaymentEvent
from quittance.providers.base import ParsedDelivery, WebhookRequest
from quittance.providers.stripe import StripeAdapter
from tests import gateway_objects as so
from tests.unit.gateway_fakes import FakeStripeApi

SECRET = "whsec_lookup_tests_0123456789abcdef"
ADAPTER = StripeAdapter()
GUEST = "camille.martin@example.fr"


def deliver(event: dict[str, Any]) -> ParsedDelivery:
    """Sign with Stripe's own library, verify and parse as intake does."""
    body = json.dumps(event)
    header = stripe_python.WebhookSignature.generate_signature_header(
        body, SECRET, timestamp=event["created"]
    )
    request = WebhookRequest(
        headers={"stripe-signature": header, "content-type": "application/json"},
        body=body.encode(),
        received_at=datetime.fromtimestamp(event["created"] + 1, UTC),
    )
    ADAPTER.verify(request, [SECRET])
    return ADAPTER.parse(request)


def through_lookup(event: dict[str, Any], api: FakeStripeApi) -> Completion:
    parsed = deliver(event)
    assert parsed.events == () and parsed.ignored == ()
    (lookup,) = parsed.lookups
    return complete_stripe(lookup, api)


def only(completion: Completion) -> PaymentEvent:
    assert completion.skipped is None
    (event,) = completion.events
    return event


# ------------------------------------------------------------------ a Checkout guest card


def checkout_guest(version: so.Version = "current") -> tuple[FakeStripeApi, dict[str, Any]]:
    charge = so.charge(
        "ch_3QgCheckoutGuest01",
        "pi_3QgCheckoutGuest01",
        2500,
        method=so.card_details("mastercard", "4444"),
        billing=so.billing_details(GUEST, "Camille Martin", city=None),
        version=version,
    )
    intent = so.payment_intent(
        "pi_3QgCheckoutGuest01",
        2500,
        latest_charge="ch_3QgCheckoutGuest01" if version == "current" else charge,
        version=version,
    )
    session = so.checkout_session(
        "cs_test_a1CheckoutGuest01", intent["id"], 2500, email=GUEST, name="Camille Martin"
    )
    api = FakeStripeApi().add(charge, intent, session)
    return api, session


@pytest.mark.parametrize("version", ["current", "2022-08-01"])
def test_a_checkout_guest_card_payment_has_its_card_amount_and_payer(
    version: so.Version,
) -> None:
    # Given a Checkout payment by a guest (no Stripe Customer), as Stripe sends it
    api, session = checkout_guest(version)
    event = so.event("checkout.session.completed", session, event_id="evt_1QgCsCompleted01")
    # When intake and the lookup stage have handled checkout.session.completed
    payment = only(through_lookup(event, api))
    # Then it is one payment of 25.00 EUR by card, Mastercard ending 4444
    assert payment.type is EventType.PAYMENT_SUCCEEDED
    assert payment.payment_id == "pi_3QgCheckoutGuest01"
    assert (payment.amount.amount_minor, payment.amount.currency) == (2500, "EUR")
    assert (payment.method.kind, payment.method.card_brand, payment.method.card_last4) == (
        MethodKind.CARD,
        "mastercard",
        "4444",
    )
    assert payment.method.transaction_id == "ch_3QgCheckoutGuest01"
    # and the payer is the guest who filled in Checkout, with the address they gave there
    assert payment.customer is not None
    assert (payment.customer.email, payment.customer.name) == (GUEST, "Camille Martin")
    assert payment.customer.address == "3 quai de la Fosse\n44000 Nantes\nFR"
    assert payment.customer.reference.startswith("guest:")


def test_every_event_of_one_checkout_payment_is_the_same_payment() -> None:
    # Given a merchant who enabled every event Stripe sends for a Checkout payment
    api, session = checkout_guest()
    intent = api.objects["pi_3QgCheckoutGuest01"]
    charge = api.objects["ch_3QgCheckoutGuest01"]
    events = [
        so.event("payment_intent.succeeded", intent, event_id="evt_1QgPiSucceeded001"),
        so.event("charge.succeeded", charge, event_id="evt_1QgChSucceeded001"),
        so.event("checkout.session.completed", session, event_id="evt_1QgCsCompleted01"),
    ]
    # When each is handled
    payments = [only(through_lookup(e, api)) for e in events]
    # Then they describe one payment, under one invoice, to one payer: the ledger issues
    # one receipt whichever arrives first
    same = {(p.payment_id, p.invoice_number, p.amount, p.method, p.customer) for p in payments}
    assert len(same) == 1
    assert payments[0].customer is not None and payments[0].customer.email == GUEST


def test_a_payment_element_payment_without_a_customer_is_written_to_its_billing_email() -> None:
    # Given a PaymentIntent confirmed by the Payment Element, no Customer, no receipt_email:
    # the email is on the charge's billing details
    charge = so.charge(
        "ch_3QgElement0000001",
        "pi_3QgElement0000001",
        4990,
        method=so.card_details("visa", "4242", wallet="apple_pay"),
        billing=so.billing_details("leo.bernard@example.fr", "Léo Bernard"),
    )
    intent = so.payment_intent(
        "pi_3QgElement0000001",
        4990,
        latest_charge=charge["id"],
        metadata={"invoice_number": "F-2026-0311", "locale": "fr"},
    )
    api = FakeStripeApi().add(charge, intent)
    event = so.event("payment_intent.succeeded", intent, event_id="evt_1QgElementPi0001")
    # When handled
    payment = only(through_lookup(event, api))
    # Then the receipt is the invoice's, paid with Apple Pay, and the payer gets the message
    assert payment.invoice_number == "F-2026-0311"
    assert (payment.method.kind, payment.method.wallet_provider) == (
        MethodKind.WALLET,
        "apple_pay",
    )
    assert payment.customer is not None
    assert payment.customer.email == "leo.bernard@example.fr"
    assert payment.customer.address == "12 rue de la République\n69002 Lyon\nFR"
    # and nothing was read from payment_method_types (it lists four methods here)
    assert len(intent["payment_method_types"]) == 4


def test_a_guest_payment_with_no_email_anywhere_is_keyed_by_its_payment_intent() -> None:
    charge = so.charge(
        "ch_3QgNoEmail0000001",
        "pi_3QgNoEmail0000001",
        1000,
        method=so.card_details(),
        billing=so.billing_details(None, None, city=None),
    )
    intent = so.payment_intent("pi_3QgNoEmail0000001", 1000, latest_charge=charge["id"])
    api = FakeStripeApi().add(charge, intent)
    payment = only(
        through_lookup(so.event("payment_intent.succeeded", intent, event_id="evt_1QgNoMail"), api)
    )
    assert payment.customer is not None
    assert payment.customer.reference == "pi_3QgNoEmail0000001"
    assert payment.customer.email is None


# ------------------------------------------------------------------ delayed SEPA debit


def test_a_delayed_sepa_debit_through_checkout_is_receipted_when_it_succeeds() -> None:
    # Given a Checkout SEPA debit: completed while unpaid, then async_payment_succeeded
    charge = so.charge(
        "py_3QgSepa000000001",
        "pi_3QgSepa000000001",
        12000,
        method=so.sepa_debit_details("mandate_1QgSepaMandate01"),
        billing=so.billing_details("ines.petit@example.fr", "Inès Petit", city=None),
    )
    intent = so.payment_intent("pi_3QgSepa000000001", 12000, latest_charge=charge["id"])
    unpaid = so.checkout_session(
        "cs_test_a1Sepa000000001",
        intent["id"],
        12000,
        email="ines.petit@example.fr",
        name="Inès Petit",
        payment_status="unpaid",
    )
    paid = {**unpaid, "payment_status": "paid"}
    api = FakeStripeApi().add(charge, intent, paid)
    # When the completed (unpaid) session arrives, nothing is issued yet, and says why
    early = deliver(so.event("checkout.session.completed", unpaid, event_id="evt_1QgSepaDone01"))
    assert (early.events, early.lookups) == ((), ())
    assert early.ignored == ("checkout.session.completed:not_paid_yet",)
    # and when the debit succeeds, the receipt is a SEPA debit under its mandate
    later = so.event("checkout.session.async_payment_succeeded", paid, event_id="evt_1QgSepaPaid01")
    payment = only(through_lookup(later, api))
    assert payment.amount.amount_minor == 12000
    assert (payment.method.kind, payment.method.mandate_reference) == (
        MethodKind.SEPA_DEBIT,
        "mandate_1QgSepaMandate01",
    )
    assert payment.customer is not None and payment.customer.email == "ines.petit@example.fr"


# ------------------------------------------------------------------ Stripe Billing


def billing(version: so.Version) -> FakeStripeApi:
    charge = so.charge(
        "ch_3QgBilling000001",
        "pi_3QgBilling000001",
        1900,
        method=so.card_details("visa", "1881"),
        billing=so.billing_details(None, None, city=None),
        customer="cus_QgBilling00001",
        version=version,
    )
    intent = so.payment_intent(
        "pi_3QgBilling000001",
        1900,
        latest_charge=charge["id"] if version == "current" else charge,
        customer="cus_QgBilling00001",
        version=version,
        invoice="in_1QgBilling000001" if version != "current" else None,
    )
    invoice = so.invoice(
        "in_1QgBilling000001",
        "8F3A1C2B-0007",
        1900,
        customer="cus_QgBilling00001",
        email="nour.haddad@example.fr",
        name="Nour Haddad",
        version=version,
        intent_id=intent["id"],
        charge_id=charge["id"],
    )
    customer = so.customer("cus_QgBilling00001", "nour.haddad@example.fr", "Nour Haddad", "en")
    api = FakeStripeApi().add(charge, intent, invoice, customer)
    if version == "current":
        api.invoice_payments.append(so.invoice_payment(invoice["id"], intent["id"], 1900))
    return api


@pytest.mark.parametrize("version", ["current", "2022-08-01"])
@pytest.mark.parametrize("event_type", ["invoice.paid", "payment_intent.succeeded"])
def test_a_billing_invoice_payment_keeps_the_stripe_invoice_number(
    version: so.Version, event_type: str
) -> None:
    # Given a subscription invoice paid by card
    api = billing(version)
    obj = api.objects[
        "in_1QgBilling000001" if event_type == "invoice.paid" else "pi_3QgBilling000001"
    ]
    event = so.event(event_type, obj, event_id=f"evt_1Qg{event_type.replace('.', '')}")
    # When invoice.paid (or the intent's own event) is handled
    payment = only(through_lookup(event, api))
    # Then the receipt is filed under Stripe's invoice number, not GW-<payment intent>
    assert payment.invoice_number == "8F3A1C2B-0007"
    assert payment.payment_id == "pi_3QgBilling000001"
    assert (payment.method.card_brand, payment.method.card_last4) == ("visa", "1881")
    # and goes to the invoice's customer, in the language the Customer prefers
    assert payment.customer is not None
    assert payment.customer.reference == "cus_QgBilling00001"
    assert (payment.customer.email, payment.customer.name) == (
        "nour.haddad@example.fr",
        "Nour Haddad",
    )
    assert payment.customer.locale == "en"


def test_a_subscription_checkout_leaves_the_receipt_to_invoice_paid() -> None:
    session = so.checkout_session(
        "cs_test_a1Subscription1",
        None,
        1900,
        email="nour.haddad@example.fr",
        name="Nour Haddad",
        mode="subscription",
        subscription="sub_1QfZq2F7Jp0subs",
        invoice="in_1QgBilling000001",
    )
    parsed = deliver(so.event("checkout.session.completed", session, event_id="evt_1QgSubCs"))
    assert (parsed.events, parsed.lookups) == ((), ())
    assert parsed.ignored == ("checkout.session.completed:not_payment_mode",)


def test_a_zero_invoice_is_paid_without_any_money_moving() -> None:
    free = so.invoice(
        "in_1QgTrial00000001", "8F3A1C2B-0001", 0, customer="cus_Q", email="a@b.fr", name="A"
    )
    parsed = deliver(so.event("invoice.paid", free, event_id="evt_1QgTrialPaid"))
    assert parsed.ignored == ("invoice.paid:nothing_paid",)


# ------------------------------------------------------------------ failed attempts

HOSTED = "https://invoice.stripe.com/i/acct_1Qf/test_1QgBillingFailed1"


def billing_failed(version: so.Version) -> FakeStripeApi:
    """A subscription invoice whose automatic card attempt was declined."""
    charge = so.charge(
        "ch_3QgBillingFail001",
        "pi_3QgBillingFail001",
        1900,
        method=so.card_details("visa", "0341"),
        billing=so.billing_details(None, None, city=None),
        customer="cus_QgBilling00001",
        version=version,
        status="failed",
    )
    intent = so.payment_intent(
        "pi_3QgBillingFail001",
        1900,
        latest_charge=charge["id"] if version == "current" else charge,
        customer="cus_QgBilling00001",
        version=version,
        invoice="in_1QgBillingFailed1" if version != "current" else None,
        status="requires_payment_method",
        last_payment_error=so.card_declined(charge["id"]),
    )
    invoice = so.invoice(
        "in_1QgBillingFailed1",
        "8F3A1C2B-0008",
        1900,
        customer="cus_QgBilling00001",
        email="nour.haddad@example.fr",
        name="Nour Haddad",
        version=version,
        intent_id=intent["id"],
        charge_id=charge["id"],
        attempt_failed=True,
    )
    customer = so.customer("cus_QgBilling00001", "nour.haddad@example.fr", "Nour Haddad", "en")
    api = FakeStripeApi().add(charge, intent, invoice, customer)
    if version == "current":
        api.invoice_payments.append(
            so.invoice_payment(invoice["id"], intent["id"], 1900, status="open")
        )
    return api


@pytest.mark.parametrize("version", ["current", "2022-08-01"])
@pytest.mark.parametrize("event_type", ["invoice.payment_failed", "payment_intent.payment_failed"])
def test_a_failed_billing_attempt_sends_the_payer_to_the_hosted_invoice_page(
    version: so.Version, event_type: str
) -> None:
    # Given a subscription invoice whose card was declined, as Stripe reports it
    api = billing_failed(version)
    obj = api.objects[
        "in_1QgBillingFailed1" if event_type == "invoice.payment_failed" else "pi_3QgBillingFail001"
    ]
    event = so.event(event_type, obj, event_id=f"evt_1Qg{event_type.replace('.', '')}")
    # When intake and the lookup stage have handled it
    failed = only(through_lookup(event, api))
    # Then it is the failed attempt, under the Stripe invoice's number, for insufficient funds
    assert failed.type is EventType.PAYMENT_FAILED
    assert (failed.invoice_number, failed.payment_id) == ("8F3A1C2B-0008", "pi_3QgBillingFail001")
    assert failed.amount.amount_minor == 1900
    assert failed.failure is not None
    assert failed.failure.category is FailureCategory.INSUFFICIENT_FUNDS
    # and the payer is sent to Stripe's hosted page for this invoice to pay again
    assert failed.failure.payment_update_url == HOSTED
    # to the invoice's customer, the attempt named by its charge
    assert failed.customer is not None
    assert failed.customer.email == "nour.haddad@example.fr"
    assert failed.failure.attempt_id == "ch_3QgBillingFail001"


def test_both_events_of_one_failed_billing_attempt_are_the_same_attempt() -> None:
    # Given a merchant who enabled both failure events Stripe sends for one Billing attempt
    api = billing_failed("current")
    events = [
        so.event(
            "payment_intent.payment_failed", api.objects["pi_3QgBillingFail001"], event_id="evt_1"
        ),
        so.event("invoice.payment_failed", api.objects["in_1QgBillingFailed1"], event_id="evt_2"),
    ]
    # When each is handled
    failures = [only(through_lookup(e, api)) for e in events]
    # Then both name the same invoice, payment and attempt: the payer is told once
    same = {(f.invoice_number, f.payment_id, f.failure) for f in failures}
    assert len(same) == 1


def test_an_invoice_attempt_that_has_since_succeeded_tells_no_failure() -> None:
    api = billing_failed("current")
    api.objects["pi_3QgBillingFail001"]["status"] = "succeeded"
    event = so.event(
        "invoice.payment_failed", api.objects["in_1QgBillingFailed1"], event_id="evt_1QgLate"
    )
    completion = through_lookup(event, api)
    assert (completion.events, completion.skipped) == ((), "intent_succeeded")


@pytest.mark.parametrize(
    ("status", "session_fields", "expected"),
    [
        (
            "open",
            {
                "url": "https://checkout.stripe.com/c/pay/cs_test_a1Retry0001#fidkdWxOYHwnPyd1blpxYHZxWjA0"
            },
            "https://checkout.stripe.com/c/pay/cs_test_a1Retry0001#fidkdWxOYHwnPyd1blpxYHZxWjA0",
        ),
        (
            "expired",
            {
                "after_expiration": {
                    "recovery": {
                        "allow_promotion_codes": False,
                        "enabled": True,
                        "expires_at": so.CREATED + 30 * 86400,
                        "url": "https://buy.stripe.com/r/live_YWNjdF8xUWY",
                    }
                }
            },
            "https://buy.stripe.com/r/live_YWNjdF8xUWY",
        ),
        ("expired", {"after_expiration": None}, None),
    ],
)
def test_a_failed_checkout_attempt_links_to_the_session_while_it_can_be_paid(
    status: str, session_fields: dict[str, Any], expected: str | None
) -> None:
    # Given a guest's card declined inside Checkout (the session open, or since expired with
    # or without recovery enabled)
    charge = so.charge(
        "ch_3QgCheckoutFail01",
        "pi_3QgCheckoutFail01",
        2500,
        method=so.card_details("mastercard", "4444"),
        billing=so.billing_details(GUEST, "Camille Martin", city=None),
        status="failed",
    )
    intent = so.payment_intent(
        "pi_3QgCheckoutFail01",
        2500,
        latest_charge=charge["id"],
        status="requires_payment_method",
        last_payment_error=so.card_declined(charge["id"], "mastercard", "4444"),
    )
    session = {
        **so.checkout_session(
            "cs_test_a1Retry0001",
            intent["id"],
            2500,
            email=GUEST,
            name="Camille Martin",
            payment_status="unpaid",
        ),
        "status": status,
        **session_fields,
    }
    api = FakeStripeApi().add(charge, intent, session)
    event = so.event("payment_intent.payment_failed", intent, event_id="evt_1QgCsFailed01")
    # When it is handled
    failed = only(through_lookup(event, api))
    # Then the payer is written to, with Checkout's page to pay again when Stripe gives one
    assert failed.customer is not None and failed.customer.email == GUEST
    assert failed.failure is not None
    assert failed.failure.payment_update_url == expected
    assert (failed.method.card_brand, failed.method.card_last4) == ("mastercard", "4444")


def test_a_failed_attempt_the_merchant_numbered_is_mapped_at_intake() -> None:
    # Given a payment_intent.payment_failed on a current API version whose intent carries the
    # merchant's own invoice number (no Billing invoice to read)
    intent = so.payment_intent(
        "pi_3QgNumberedFail01",
        4200,
        latest_charge="ch_3QgNumberedFail01",
        customer="cus_QgNumbered0001",
        metadata={"invoice_number": "F-2026-0420"},
        status="requires_payment_method",
        last_payment_error=so.card_declined("ch_3QgNumberedFail01"),
    )
    parsed = deliver(so.event("payment_intent.payment_failed", intent, event_id="evt_1QgNf"))
    # Then intake maps it without the API, the attempt named by its charge, no gateway link
    assert parsed.lookups == ()
    (failed,) = parsed.events
    assert failed.failure is not None
    assert failed.failure.attempt_id == "ch_3QgNumberedFail01"
    assert failed.failure.payment_update_url is None
