"""GoCardless events with empty metadata (subscriptions, instalments, dashboard payments)
become receipts and messages: the lookup stage reads payment → mandate → customer from the
API (issue 16). Batches are signed here and checked with gocardless-pro's own
``webhooks.parse``, so that our signing is GoCardless's."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from gocardless_pro import webhooks as gocardless_webhooks

from quittance.gateways.gocardless_lookup import complete_gocardless
from quittance.gateways.stripe_lookup import Completion
from quittance.models.events import EventType, FailureCategory, MethodKind
from quittance.providers.base import ParsedDelivery, WebhookRequest
from quittance.providers.gocardless import GoCardlessAdapter
from tests import gateway_objects as go
from tests.unit.gateway_fakes import FakeGoCardlessApi

SECRET = "gc_webhook_secret_lookup_tests"
ADAPTER = GoCardlessAdapter()


def gc_event(action: str, resource: str, links: dict[str, str], **extra: Any) -> dict[str, Any]:
    """An event as GoCardless's API reference documents it; a subscription's payment carries
    no metadata of the merchant's, so ``resource_metadata`` is empty."""
    return {
        "id": f"EV00{action.upper()[:6]}{len(links)}LK",
        "created_at": "2026-06-05T09:12:44.123Z",
        "resource_type": resource,
        "action": action,
        "links": links,
        "details": extra.pop(
            "details",
            {
                "origin": "gocardless",
                "cause": "payment_confirmed",
                "description": "Enough time has passed since the payment was submitted for "
                "the banks to return an error, so this payment is now confirmed.",
            },
        ),
        "metadata": {},
        "resource_metadata": extra.pop("resource_metadata", {}),
    }


def deliver(*events: dict[str, Any]) -> ParsedDelivery:
    body = json.dumps({"events": list(events), "meta": {"webhook_id": "WB00LOOKUP0001"}})
    signature = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    # GoCardless's own library accepts our signing as its own
    parsed_by_gocardless = gocardless_webhooks.parse(body, SECRET, signature)
    assert [e.id for e in parsed_by_gocardless] == [e["id"] for e in events]
    request = WebhookRequest(
        headers={"webhook-signature": signature, "origin": "https://api.gocardless.com"},
        body=body.encode(),
        received_at=datetime(2026, 6, 5, 9, 12, 45, tzinfo=UTC),
    )
    ADAPTER.verify(request, [SECRET])
    return ADAPTER.parse(request)


def api() -> FakeGoCardlessApi:
    return FakeGoCardlessApi().add(
        go.gc_payment(
            "PM00SUBS000001", 3990, mandate="MD00SUBS000001", subscription="SB00WINEBOX001"
        ),
        go.gc_mandate("MD00SUBS000001", "CU00SUBS000001", reference="QUITT-7DF9W4"),
        go.gc_customer("CU00SUBS000001", "jeanne.roux@example.fr", "Jeanne", "Roux", "fr"),
        go.gc_refund("RF00SUBS000001", "PM00SUBS000001", "MD00SUBS000001", 1000),
    )


def completed(parsed: ParsedDelivery, gateway: FakeGoCardlessApi) -> Completion:
    assert parsed.events == () and parsed.ignored == ()
    (lookup,) = parsed.lookups
    return complete_gocardless(lookup, gateway)


def test_a_subscription_payment_with_empty_metadata_is_receipted_to_its_customer() -> None:
    # Given payments.confirmed for a subscription payment: no metadata at all
    parsed = deliver(gc_event("confirmed", "payments", {"payment": "PM00SUBS000001"}))
    # When the lookup stage completes it
    (payment,) = completed(parsed, api()).events
    # Then it is a receipt of 39.90 EUR by SEPA direct debit under the mandate's reference
    assert payment.type is EventType.PAYMENT_SUCCEEDED
    assert payment.payment_id == "PM00SUBS000001"
    assert (payment.amount.amount_minor, payment.amount.currency) == (3990, "EUR")
    assert (payment.method.kind, payment.method.mandate_reference) == (
        MethodKind.SEPA_DEBIT,
        "QUITT-7DF9W4",
    )
    # to the customer GoCardless knows, in their language, at their address
    assert payment.customer is not None
    assert payment.customer.reference == "CU00SUBS000001"
    assert (payment.customer.email, payment.customer.name, payment.customer.locale) == (
        "jeanne.roux@example.fr",
        "Jeanne Roux",
        "fr",
    )
    assert payment.customer.address == "8 allée des Tilleuls\n33000 Bordeaux\nFR"
    assert payment.invoice_number is None  # filed under GW-PM00SUBS000001


def test_metadata_keys_override_what_the_api_says() -> None:
    parsed = deliver(
        gc_event(
            "confirmed",
            "payments",
            {"payment": "PM00SUBS000001"},
            resource_metadata={"invoice_number": "F-2026-0500", "customer_reference": "CLI-9"},
        )
    )
    (payment,) = completed(parsed, api()).events
    assert payment.invoice_number == "F-2026-0500"
    assert payment.customer is not None and payment.customer.reference == "CLI-9"
    assert payment.amount.amount_minor == 3990  # no amount key: the API's


def test_a_failed_subscription_payment_says_why_and_reaches_the_payer() -> None:
    details = {
        "origin": "bank",
        "cause": "insufficient_funds",
        "scheme": "sepa_core",
        "reason_code": "AM04",
        "description": "The customer's account had insufficient funds to make this payment.",
    }
    parsed = deliver(gc_event("failed", "payments", {"payment": "PM00SUBS000001"}, details=details))
    (failed,) = completed(parsed, api()).events
    assert failed.type is EventType.PAYMENT_FAILED
    assert failed.failure is not None
    assert (failed.failure.category, failed.failure.provider_code) == (
        FailureCategory.INSUFFICIENT_FUNDS,
        "insufficient_funds:AM04",
    )
    assert failed.customer is not None and failed.customer.email == "jeanne.roux@example.fr"


def test_a_refund_without_metadata_is_credited_at_the_refunds_amount() -> None:
    parsed = deliver(
        gc_event(
            "created",
            "refunds",
            {"refund": "RF00SUBS000001", "payment": "PM00SUBS000001"},
            details={"origin": "api", "cause": "refund_created", "description": "Created."},
        )
    )
    (refund,) = completed(parsed, api()).events
    assert refund.type is EventType.REFUND_ISSUED
    assert refund.refund is not None
    assert (refund.refund.refund_id, refund.refund.amount.amount_minor) == (
        "RF00SUBS000001",
        1000,
    )
    assert refund.payment_id == "PM00SUBS000001"
