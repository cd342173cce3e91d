"""Intake seals what it keeps about the payer with the payer's own key: the profile's contact
fields, and the raw delivery as evidence (Object Lock, written once); the queue carries no
contact data; notify and receipts still read the plain profile."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from quittance.ledger.service import pseudonymous_customer_id
from quittance.providers.base import WebhookRequest
from quittance.providers.stripe import StripeAdapter
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import MotoStack
from .pipeline import customer_stores, drain, post_webhook

EMAIL = "ines.moreau@example.org"
NAME = "Inès Moreau"


def test_intake_seals_profile_and_evidence_and_queues_no_contact_data(
    moto_stack: MotoStack,
) -> None:
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    delivery = stripe_payment_intent_succeeded(
        secret=secret, invoice_number="F-P-1", amount_minor=4200, email=EMAIL, name=NAME
    )
    status, _ = post_webhook(moto_stack, "stripe", delivery.body, delivery.headers)
    assert status == 202
    customer = pseudonymous_customer_id("stripe", "cus_NffrFeUfNV2Hib")

    [message] = moto_stack.queue_messages("PaymentEventsQueue")
    assert EMAIL not in message["Body"] and NAME not in message["Body"]
    queued = json.loads(message["Body"])["event"]["customer"]
    assert {k: v for k, v in queued.items() if v is not None} == {
        "reference": "cus_NffrFeUfNV2Hib",
        "locale": "fr",
    }

    customers, evidence, _ = customer_stores(moto_stack)
    stored = customers.stored_profile(customer)
    assert stored is not None
    assert EMAIL.encode() not in bytes(stored["email"].value)
    profile = customers.held(customer)
    assert profile is not None
    assert (profile["email"], profile["name"], profile["locale"]) == (EMAIL, NAME, "fr")

    s3 = moto_stack.client("s3")
    bucket = moto_stack.resource("ArchiveBucket")
    [obj] = s3.list_objects_v2(Bucket=bucket, Prefix="evidence/")["Contents"]
    now = datetime.now(UTC)
    assert obj["Key"] == f"evidence/stripe/{now:%Y}/{now:%m}/{delivery.event_id}.bin"
    raw = s3.get_object(Bucket=bucket, Key=obj["Key"])
    assert raw["ObjectLockMode"] == "COMPLIANCE"
    assert raw["ObjectLockRetainUntilDate"].year >= now.year + 10
    assert EMAIL.encode() not in raw["Body"].read()

    kept = evidence.fetch("stripe", delivery.event_id, customer)
    assert kept.body == delivery.body
    assert kept.received_at.tzinfo is not None
    # A third party with the secret re-verifies the kept delivery as the gateway signed it.
    StripeAdapter().verify(
        WebhookRequest(headers=kept.headers, body=kept.body, received_at=kept.received_at),
        [secret],
    )
    assert kept == evidence.fetch(
        "stripe", delivery.event_id, customer, received_at=kept.received_at
    )

    # A redelivery keeps the first copy and is still acknowledged.
    assert post_webhook(moto_stack, "stripe", delivery.body, delivery.headers)[0] == 200
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="evidence/")["Versions"]) == 1

    # Downstream, receipts and notify still read the plain profile.
    drain(moto_stack)
    ledger = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("LedgerTable"))
    messages = [i for i in ledger["Items"] if i.get("sk", {}).get("S", "").startswith("MSG#")]
    assert [m["status"]["S"] for m in messages] == ["sent"]


def test_a_late_event_never_restores_contact_details_the_customer_has_since_changed(
    moto_stack: MotoStack,
) -> None:
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    now = int(datetime.now(UTC).timestamp())
    newer = stripe_payment_intent_succeeded(
        secret=secret, invoice_number="F-P-2", amount_minor=100, email="new@example.org"
    )
    # Created two minutes earlier, delivered after (a gateway retry, or a slow queue).
    older = stripe_payment_intent_succeeded(
        secret=secret,
        invoice_number="F-P-1",
        amount_minor=100,
        email="old@example.org",
        timestamp=now - 120,
    )
    customer = pseudonymous_customer_id("stripe", "cus_NffrFeUfNV2Hib")
    customers, _, _ = customer_stores(moto_stack)

    assert post_webhook(moto_stack, "stripe", newer.body, newer.headers)[0] == 202
    first = customers.stored_profile(customer)
    assert first is not None
    assert post_webhook(moto_stack, "stripe", older.body, older.headers)[0] == 202
    drain(moto_stack)

    profile = customers.held(customer)
    assert profile is not None
    assert profile["email"] == "new@example.org"
    # The late event still counts as activity: the inactivity clock did not go back.
    assert int(profile["expires_at"]) >= int(first["expires_at"])
    # Both payments are in the ledger; only the contact details stayed as they were.
    ledger = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("LedgerTable"))
    numbers = {i["pk"]["S"] for i in ledger["Items"] if i["pk"]["S"].startswith("INV#")}
    assert {"INV#F-P-1", "INV#F-P-2"} <= numbers
