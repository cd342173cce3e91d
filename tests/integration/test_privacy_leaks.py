"""Traffic through the stack (payments with contact data, a failure, an erasure, a payment
after it, an export), then a search of every log line and metric written, every item of every
table, every archived object and every queue for the customers' names, emails, phone numbers
and IBANs: no hit outside the places the retention table allows (the archived receipt PDFs,
which print the payer's name)."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from boto3.dynamodb.types import Binary

from quittance.ledger.service import pseudonymous_customer_id
from quittance.privacy.retention import record_type
from quittance.providers import stripe
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.standard_webhooks import standard_payment, standard_payment_failed
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import MotoStack
from .pipeline import drain, post_webhook
from .test_privacy_rights import erase, export, objects, scan, zip_of

IBAN = "FR7630006000011234567890189"
ADA = {"customer": "cus_AdaLeak000001", "email": "ada.leak@example.net", "name": "Ada Quillon"}
ZOE = {
    "reference": "CLI-ZOE-0001",
    "name": "Zoé Marchetti",
    "email": "zoe.marchetti@example.org",
    "phone": "+33698765432",
    "locale": "fr",
}
SERVICES = ("intake", "ledger", "receipts", "notify", "privacy_api")
SECRETS = [
    ADA["email"],
    ADA["name"],
    ZOE["name"],
    ZOE["email"],
    ZOE["phone"],
    "06 98 76 54 32",
    IBAN,
]


def stripe_with_iban(secret: str, invoice: str) -> Delivery:
    """A Stripe delivery whose free-text description carries a full IBAN (a sender's note)."""
    plain = stripe_payment_intent_succeeded(
        secret=secret, invoice_number=invoice, amount_minor=4200, **ADA
    )
    event = json.loads(plain.body)
    event["data"]["object"]["description"] = f"Virement depuis {IBAN}"
    body = json.dumps(event, separators=(",", ":")).encode()
    timestamp = int(plain.headers["Stripe-Signature"].split(",")[0].removeprefix("t="))
    headers = {**plain.headers, "Stripe-Signature": stripe.sign(body, secret, timestamp)}
    return Delivery(provider="stripe", body=body, headers=headers, event_id=plain.event_id)


def hits(text: str) -> list[str]:
    """Secrets found in ``text``, written plainly or as JSON escapes them (Zo\\u00e9)."""
    return [s for s in SECRETS if s in text or json.dumps(s)[1:-1] in text]


def test_no_personal_data_outside_the_allowed_places(
    moto_stack: MotoStack, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # What each function's Powertools handler writes (CloudWatch's copy), through its own
    # formatter, at every level.
    written = io.StringIO()
    for service in SERVICES:
        logger = logging.getLogger(service)
        [powertools] = [h for h in logger.handlers if h.formatter is not None]
        copy = logging.StreamHandler(written)
        copy.setFormatter(powertools.formatter)
        logger.addHandler(copy)
        logger.setLevel(logging.DEBUG)
    stripe_secret = moto_stack.provisioned.webhook_secrets["stripe"]
    standard_secret = moto_stack.provisioned.webhook_secrets["standard"]
    for delivery in (
        stripe_with_iban(stripe_secret, "F-LEAK-1"),
        standard_payment(
            standard_secret, invoice_number="F-LEAK-2", amount_minor=990, customer=ZOE
        ),
        standard_payment_failed(
            standard_secret, invoice_number="F-LEAK-3", amount_minor=500, customer=ZOE
        ),
    ):
        assert post_webhook(moto_stack, delivery.provider, delivery.body, delivery.headers)[0] in (
            200,
            202,
        )
    drain(moto_stack)
    zoe_id = pseudonymous_customer_id("standard", ZOE["reference"])
    status, answer = export(moto_stack, zoe_id)
    assert status == 200
    assert hits(json.dumps(answer)) == []  # the API's answer: a link, a size and a hash
    document, _ = zip_of(moto_stack, answer)
    assert hits(json.dumps(document)) == [ZOE["name"], ZOE["email"], ZOE["phone"]]
    assert erase(moto_stack, pseudonymous_customer_id("stripe", ADA["customer"]))[0] == 200
    after = stripe_payment_intent_succeeded(
        secret=stripe_secret, invoice_number="F-LEAK-4", amount_minor=100, **ADA
    )
    assert post_webhook(moto_stack, "stripe", after.body, after.headers)[0] == 202
    drain(moto_stack)

    # Every log line and metric the functions wrote.
    out, err = capfd.readouterr()
    lines = [line for line in (written.getvalue() + out + err).splitlines() if line.strip()]
    assert len([line for line in lines if '"level"' in line]) >= 15
    assert [line for line in lines if hits(line)] == []
    metrics = [json.loads(line) for line in lines if '"_aws"' in line]
    dimensions = {
        name
        for line in metrics
        for metric in line["_aws"]["CloudWatchMetrics"]
        for group in metric["Dimensions"]
        for name in group
    }
    assert metrics and dimensions <= {"service", "provider"}

    # Every item of every table: sealed bytes only, never plaintext contact data.
    for table in ("LedgerTable", "CustomersTable", "IdempotencyTable", "AuditTable"):
        for item in scan(moto_stack, table):
            text = json.dumps(item, default=_text, ensure_ascii=False)
            assert hits(text) == [], (table, item.get("pk"))

    # Every archived object: only receipts (legal archive) may print the payer's name.
    for key, data in objects(moto_stack).items():
        found = hits(data.decode("latin-1"))
        if found:
            assert record_type("ArchiveBucket", key.split("@")[0]).name == "Archived receipt"

    # The exports bucket holds the export in clear, as the retention table says, and nothing
    # else.
    s3, bucket = moto_stack.client("s3"), moto_stack.resource("ExportsBucket")
    exports = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert exports == [answer["key"]]
    assert record_type("ExportsBucket", answer["key"]).name == "Customer export"

    # Queues (dead letters included) hold nothing personal.
    sqs = moto_stack.client("sqs")
    for url in sqs.list_queues()["QueueUrls"]:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            assert hits(message["Body"]) == []


def _text(value: Any) -> str:
    if isinstance(value, Binary):
        value = value.value
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
