"""Staff register an invoice with the customer's contact details, before any payment: the
details are sealed into the customer's profile (never onto the invoice), the reminder
reaches that address in the customer's language and tone, and a later payment through the
gateway lands on the same customer."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from quittance.ledger.service import pseudonymous_customer_id
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import REGION, MotoStack, answer, http_event
from .pipeline import customer_stores, deliver, drain, post_webhook

EMAIL = "finance@lumen-studio.example"
NAME = "Lumen Studio Ltd"
REFERENCE = "cus_LumenStudio01"


def put_invoice(stack: MotoStack, number: str, body: dict[str, Any]) -> tuple[int, Any]:
    event = http_event(
        "PUT",
        f"/admin/invoices/{number}",
        "/admin/invoices/{number}",
        {"number": number},
        json.dumps(body).encode(),
        {"content-type": "application/json"},
    )
    return answer(stack.functions["ArchiveApiFunction"].invoke(event))


def invoice(due: str, **customer: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_reference": REFERENCE,
        "currency": "EUR",
        "lines": [
            {"description": "Studio hire", "quantity": "1", "unit_price_minor": 50000,
             "vat_rate": "20"},
        ],
        "issue_date": "2026-11-01",
        "due_date": due,
        "nature": "services",
    }  # fmt: skip
    if customer:
        body["customer"] = customer
    return body


def emails_to(address: str) -> list[email.message.EmailMessage]:
    sent = [
        email.message_from_bytes(m.raw_data.encode(), policy=email.policy.default)
        for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        if hasattr(m, "raw_data")
    ]
    return [m for m in sent if address in str(m["To"])]  # type: ignore[misc]


def test_a_customer_registered_with_the_invoice_gets_its_reminder_before_ever_paying(
    moto_stack: MotoStack,
) -> None:
    today = datetime.now(UTC).date()
    due = (today + timedelta(days=3)).isoformat()
    status, body = put_invoice(
        moto_stack,
        "F-LUMEN-1",
        invoice(
            due,
            provider="stripe",
            name=NAME,
            email=EMAIL,
            phone="020 7946 0958",
            phone_region="GB",
            locale="en",
            segment="b2b",
            timezone="Europe/London",
        ),
    )
    assert status == 200, body
    customer = pseudonymous_customer_id("stripe", REFERENCE)
    assert (body["contact"], body["customer_id"]) == ("kept", customer)

    # Sealed in the profile, with the preferences given; nothing on the invoice.
    customers, _, _ = customer_stores(moto_stack)
    profile = customers.held(customer)
    assert profile is not None
    assert (profile["email"], profile["phone"], profile["name"]) == (EMAIL, "+442079460958", NAME)
    assert (profile["segment"], profile["timezone"], profile["locale"]) == (
        "b2b",
        "Europe/London",
        "en",
    )
    stored = repr(customers.stored_profile(customer))
    assert EMAIL not in stored and NAME not in stored
    ledger = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("LedgerTable"))
    assert EMAIL not in json.dumps(ledger["Items"]) and NAME not in json.dumps(ledger["Items"])

    # The daily run three days before the due date reminds that address, in English, formally.
    run = moto_stack.functions["RemindersFunction"].invoke({"today": today.isoformat()})
    assert run["queued"] == ["F-LUMEN-1#d-3"]
    assert deliver(moto_stack, "NotificationsQueue", "NotifyFunction") == 1
    [reminder] = emails_to(EMAIL)
    text = reminder.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "F-LUMEN-1" in text and "€600.00" in text
    assert reminder["Subject"] and "F-LUMEN-1" in reminder["Subject"]

    # The customer then pays through Stripe under the same reference: one customer.
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    paid = stripe_payment_intent_succeeded(
        secret=secret,
        invoice_number="F-LUMEN-1",
        amount_minor=60000,
        customer=REFERENCE,
        email=EMAIL,
        name=NAME,
        locale="en",
    )
    assert post_webhook(moto_stack, "stripe", paid.body, paid.headers)[0] == 202
    drain(moto_stack)
    confirmations = emails_to(EMAIL)
    assert len(confirmations) == 2
    # No further reminder once paid.
    later = moto_stack.functions["RemindersFunction"].invoke(
        {"today": (today + timedelta(days=4)).isoformat()}
    )
    assert later["queued"] == []


def test_bad_contact_details_are_refused_with_each_field_named_and_nothing_registered(
    moto_stack: MotoStack,
) -> None:
    status, body = put_invoice(
        moto_stack,
        "F-LUMEN-2",
        invoice(
            "2026-12-31",
            provider="paypal",
            email="not-an-address",
            phone="123",
            channel="sms",
            timezone="Mars/Olympus",
        ),
    )
    assert status == 422
    named = {".".join(map(str, f["loc"])) for f in body["fields"]}
    assert {"customer.provider", "customer.email", "customer.phone", "customer.timezone"} <= named
    assert "not-an-address" not in json.dumps(body)  # the answer does not echo the input
    ledger = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("LedgerTable"))
    assert not [i for i in ledger["Items"] if "F-LUMEN-2" in json.dumps(i)]
    customers = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("CustomersTable"))
    assert customers["Items"] == []


def test_an_erased_customer_is_not_profiled_again_by_an_invoice(moto_stack: MotoStack) -> None:
    customer = pseudonymous_customer_id("stripe", REFERENCE)
    _, _, keyring = customer_stores(moto_stack)
    keyring.erase(customer)
    status, body = put_invoice(
        moto_stack, "F-LUMEN-3", invoice("2026-12-31", provider="stripe", email=EMAIL)
    )
    assert (status, body["contact"]) == (200, "erased")
    customers = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("CustomersTable"))
    assert [i["pk"]["S"] for i in customers["Items"]] == [f"ERASED#{customer}"]
