"""Issue 16's acceptance on the local stack, over HTTP: real-format Stripe and GoCardless
events signed with the gateways' own libraries, posted to the stack's webhook endpoint; the
lookup stage reads the gateways' API (recorded documented responses on 127.0.0.1, the stack's
``gateway_api_url``). Each payment is one receipt with the right method, amount and payer,
and one message to the payer's email; three partial refunds are three credit notes."""

from __future__ import annotations

import email
import email.message
import email.policy
import hashlib
import hmac
import json
import urllib.request
from typing import Any

import pytest
import stripe as stripe_python
from gocardless_pro import webhooks as gocardless_webhooks

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.model import ReceiptRecord
from quittance.models.events import MethodKind
from quittance_ops.outbox import sent_emails
from tests import gateway_objects as so
from tests.unit.test_stripe_lookups import GUEST, HOSTED, billing, billing_failed, checkout_guest

from .conftest import RunningStack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-gateway_traffic")]


def record(stack: RunningStack, **objects: Any) -> None:
    request = urllib.request.Request(
        f"{stack.info['gateway_api_url']}/_recorded",
        data=json.dumps(objects).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def post(stack: RunningStack, provider: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"{stack.api_url}/webhooks/{provider}", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def post_stripe(stack: RunningStack, event: dict[str, Any]) -> int:
    body = json.dumps(event)
    signature = stripe_python.WebhookSignature.generate_signature_header(
        body, stack.info["webhook_secrets"]["stripe"]
    )
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    return post(stack, "stripe", body.encode(), headers)


def receipts(stack: RunningStack, invoice_number: str) -> tuple[ReceiptRecord, ...]:
    ledger = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))

    def issued() -> tuple[ReceiptRecord, ...] | None:
        found = ledger.load(invoice_number)
        return found.documents if found and found.documents else None

    documents: tuple[ReceiptRecord, ...] = wait_for(issued)
    return documents


def messages_to(stack: RunningStack, address: str) -> int:
    """Emails SES took for ``address`` (its To header: moto keeps v2 sends as raw)."""
    return sum(
        1
        for e in sent_emails(stack.endpoint)
        if address in str(email.message_from_bytes(e.raw, policy=email.policy.default)["To"])
    )


def one_receipt_and_one_message(
    stack: RunningStack, invoice_number: str, address: str
) -> ReceiptRecord:
    stack.wait_drained()
    (receipt,) = receipts(stack, invoice_number)
    assert wait_for(lambda: messages_to(stack, address) >= 1)
    stack.wait_drained()
    assert messages_to(stack, address) == 1
    return receipt


def test_a_checkout_guest_card_payment(stack: RunningStack) -> None:
    fake, session = checkout_guest()
    record(stack, stripe=list(fake.objects.values()))
    event = so.event("checkout.session.completed", session, event_id="evt_1QgE2eCs000001")
    assert post_stripe(stack, event) == 202
    receipt = one_receipt_and_one_message(stack, "GW-pi_3QgCheckoutGuest01", GUEST)
    assert (receipt.amount.amount_minor, receipt.amount.currency) == (2500, "EUR")
    assert receipt.method is not None
    assert (receipt.method.kind, receipt.method.card_last4) == (MethodKind.CARD, "4444")


def test_a_payment_element_payment_with_no_customer(stack: RunningStack) -> None:
    charge = so.charge(
        "ch_3QgE2eElement001",
        "pi_3QgE2eElement001",
        4990,
        method=so.card_details("visa", "4242"),
        billing=so.billing_details("leo.bernard@example.fr", "Léo Bernard"),
    )
    intent = so.payment_intent(
        "pi_3QgE2eElement001",
        4990,
        latest_charge=charge["id"],
        metadata={"invoice_number": "F-2026-E2E-01"},
    )
    record(stack, stripe=[charge, intent])
    assert (
        post_stripe(stack, so.event("payment_intent.succeeded", intent, event_id="evt_1QgE2ePe"))
        == 202
    )
    receipt = one_receipt_and_one_message(stack, "F-2026-E2E-01", "leo.bernard@example.fr")
    assert receipt.amount.amount_minor == 4990
    assert receipt.method is not None and receipt.method.card_brand == "visa"


def test_a_delayed_sepa_debit_through_checkout(stack: RunningStack) -> None:
    charge = so.charge(
        "py_3QgE2eSepa00001",
        "pi_3QgE2eSepa00001",
        12000,
        method=so.sepa_debit_details("mandate_1QgE2eSepa001"),
        billing=so.billing_details("ines.petit@example.fr", "Inès Petit", city=None),
    )
    intent = so.payment_intent("pi_3QgE2eSepa00001", 12000, latest_charge=charge["id"])
    unpaid = so.checkout_session(
        "cs_test_a1E2eSepa0001",
        intent["id"],
        12000,
        email="ines.petit@example.fr",
        name="Inès Petit",
        payment_status="unpaid",
    )
    paid = {**unpaid, "payment_status": "paid"}
    record(stack, stripe=[charge, intent, paid])
    assert (
        post_stripe(stack, so.event("checkout.session.completed", unpaid, event_id="evt_1QgE2eSd"))
        == 200
    )
    later = so.event("checkout.session.async_payment_succeeded", paid, event_id="evt_1QgE2eSp")
    assert post_stripe(stack, later) == 202
    receipt = one_receipt_and_one_message(stack, "GW-pi_3QgE2eSepa00001", "ines.petit@example.fr")
    assert receipt.amount.amount_minor == 12000
    assert receipt.method is not None
    assert (receipt.method.kind, receipt.method.mandate_reference) == (
        MethodKind.SEPA_DEBIT,
        "mandate_1QgE2eSepa001",
    )


def test_a_billing_subscription_invoice_under_the_stripe_invoice_number(
    stack: RunningStack,
) -> None:
    fake = billing("current")
    record(stack, stripe=[*fake.objects.values(), *fake.invoice_payments])
    invoice = fake.objects["in_1QgBilling000001"]
    assert post_stripe(stack, so.event("invoice.paid", invoice, event_id="evt_1QgE2eInv")) == 202
    receipt = one_receipt_and_one_message(stack, "8F3A1C2B-0007", "nour.haddad@example.fr")
    assert receipt.amount.amount_minor == 1900
    assert receipt.method is not None and receipt.method.card_last4 == "1881"


def test_a_gocardless_subscription_payment_with_empty_metadata(stack: RunningStack) -> None:
    record(
        stack,
        gocardless=[
            so.gc_payment("PM00E2ESUBS001", 3990, mandate="MD00E2ESUBS001", subscription="SB1"),
            so.gc_mandate("MD00E2ESUBS001", "CU00E2ESUBS001"),
            so.gc_customer("CU00E2ESUBS001", "jeanne.roux@example.fr", "Jeanne", "Roux"),
        ],
    )
    body = json.dumps(
        {
            "events": [
                {
                    "id": "EV00E2ESUBS001",
                    "created_at": "2026-06-05T09:12:44.123Z",
                    "resource_type": "payments",
                    "action": "confirmed",
                    "links": {"payment": "PM00E2ESUBS001"},
                    "details": {"origin": "gocardless", "cause": "payment_confirmed"},
                    "metadata": {},
                    "resource_metadata": {},
                }
            ],
            "meta": {"webhook_id": "WB00E2ESUBS001"},
        }
    )
    secret = stack.info["webhook_secrets"]["gocardless"]
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    assert len(gocardless_webhooks.parse(body, secret, signature)) == 1
    headers = {"Content-Type": "application/json", "Webhook-Signature": signature}
    assert post(stack, "gocardless", body.encode(), headers) == 202
    receipt = one_receipt_and_one_message(stack, "GW-PM00E2ESUBS001", "jeanne.roux@example.fr")
    assert receipt.amount.amount_minor == 3990
    assert receipt.method is not None and receipt.method.kind is MethodKind.SEPA_DEBIT


def test_three_partial_refunds_out_of_order_and_twice(stack: RunningStack) -> None:
    charge = so.charge(
        "ch_3QgE2eRefunds01",
        "pi_3QgE2eRefunds01",
        10000,
        method=so.card_details(),
        billing=so.billing_details("paul.henry@example.fr", "Paul Henry"),
    )
    intent = so.payment_intent("pi_3QgE2eRefunds01", 10000, latest_charge=charge["id"])
    refunds = [
        so.refund(f"re_3QgE2eRefund{n:05d}", charge["id"], intent["id"], a, created=so.CREATED + n)
        for n, a in enumerate((1000, 500, 250), start=1)
    ]
    record(stack, stripe=[charge, intent, *refunds])
    assert (
        post_stripe(stack, so.event("payment_intent.succeeded", intent, event_id="evt_1QgE2eRp"))
        == 202
    )
    one_receipt_and_one_message(stack, "GW-pi_3QgE2eRefunds01", "paul.henry@example.fr")
    deliveries = [
        so.event("refund.created", refunds[2], event_id="evt_1QgE2eRe3"),
        so.event("charge.refunded", {**charge, "amount_refunded": 1750}, event_id="evt_1QgE2eCr3"),
        so.event("refund.created", refunds[0], event_id="evt_1QgE2eRe1"),
        so.event("refund.created", refunds[1], event_id="evt_1QgE2eRe2"),
    ]
    for event in [*deliveries, deliveries[0], deliveries[1]]:
        assert post_stripe(stack, event) in (200, 202)
    stack.wait_drained()

    def credit_notes() -> list[tuple[str | None, int]] | None:
        found = sorted(
            (d.refund_id, d.amount.amount_minor)
            for d in receipts(stack, "GW-pi_3QgE2eRefunds01")
            if d.kind == "credit_note"
        )
        return found if len(found) >= 3 else None

    assert wait_for(credit_notes) == [
        ("re_3QgE2eRefund00001", 1000),
        ("re_3QgE2eRefund00002", 500),
        ("re_3QgE2eRefund00003", 250),
    ]


def test_a_failed_billing_attempt_sends_the_payer_to_stripes_hosted_invoice_page(
    stack: RunningStack,
) -> None:
    # Given a subscription invoice whose card was declined, its objects at Stripe
    fake = billing_failed("current")
    record(stack, stripe=[*fake.objects.values(), *fake.invoice_payments])
    invoice = fake.objects["in_1QgBillingFailed1"]
    # When Stripe sends invoice.payment_failed, signed with stripe-python's helper
    event = so.event("invoice.payment_failed", invoice, event_id="evt_1QgE2eInvFailed")
    assert post_stripe(stack, event) == 202
    stack.wait_drained()

    # Then the payer gets one email about this invoice (another test of this module pays
    # their earlier one), sending them to the invoice's hosted page to pay again
    def about_this_invoice() -> list[str] | None:
        found = []
        for sent in sent_emails(stack.endpoint):
            message = email.message_from_bytes(sent.raw, policy=email.policy.default)
            assert isinstance(message, email.message.EmailMessage)
            text = message.get_body(preferencelist=("plain",))
            content = text.get_content() if text is not None else ""
            if "nour.haddad@example.fr" in str(message["To"]) and "8F3A1C2B-0008" in content:
                found.append(content)
        return found or None

    assert wait_for(about_this_invoice)
    stack.wait_drained()
    (content,) = about_this_invoice() or []
    assert HOSTED in content
