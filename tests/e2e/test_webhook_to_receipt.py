"""A genuine Stripe webhook travels the whole chain on the local stack, over HTTP; forged
and redelivered ones change nothing."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import io
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pypdf import PdfReader

from quittance.aws.ledger_table import LedgerTable
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.outbox import SentEmail, sent_emails

from .conftest import RunningStack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-webhook_to_receipt")]


def post(stack: RunningStack, delivery: Delivery) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{stack.api_url}/webhooks/{delivery.provider}",
        data=delivery.body,
        headers=delivery.headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def get(url: str, follow: bool = True) -> tuple[int, Message, bytes]:
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def emails_for(stack: RunningStack, receipt_number: str) -> list[SentEmail]:
    return [e for e in sent_emails(stack.endpoint) if receipt_number.encode() in e.raw]


def ledger(stack: RunningStack) -> LedgerTable:
    return LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))


def every_item(stack: RunningStack) -> list[str]:
    """Every item of every table, as text, to search for a trace."""
    ddb = stack.client("dynamodb")
    found = []
    for logical in ("LedgerTable", "CustomersTable", "AuditTable", "IdempotencyTable"):
        for page in ddb.get_paginator("scan").paginate(TableName=stack.resources[logical]):
            found.extend(json.dumps(item) for item in page["Items"])
    return found


@pytest.fixture(scope="module")
def paid(stack: RunningStack) -> dict[str, Any]:
    """Given a Stripe-signed payment_intent.succeeded for invoice F-E2E-1 of 1 234,56 €."""
    delivery = stripe_payment_intent_succeeded(
        secret=stack.info["webhook_secrets"]["stripe"],
        invoice_number="F-E2E-1",
        amount_minor=123456,
        email="e2e.customer@example.com",
    )
    payment_id = json.loads(delivery.body)["data"]["object"]["id"]
    status, answer = post(stack, delivery)
    payment = wait_for(lambda: ledger(stack).receipt_for_payment("F-E2E-1", payment_id))
    wait_for(lambda: emails_for(stack, payment.receipt_number))
    stack.wait_drained()
    return {
        "delivery": delivery,
        "status": status,
        "answer": answer,
        "payment": payment,
        "receipt": ledger(stack).receipt_item(payment.receipt_number),
    }


def test_a_forged_webhook_gets_401_and_leaves_no_trace(stack: RunningStack) -> None:
    genuine = stripe_payment_intent_succeeded(
        secret=stack.info["webhook_secrets"]["stripe"],
        invoice_number="F-FORGED",
        amount_minor=999,
        event_id=f"evt_forged_{uuid.uuid4().hex[:8]}",
    )
    forged = Delivery("stripe", genuine.body.replace(b'"amount":999', b'"amount":1'),
                      genuine.headers, genuine.event_id)  # fmt: skip
    wrong_secret = stripe_payment_intent_succeeded(
        secret="whsec_not_ours", invoice_number="F-FORGED", amount_minor=999
    )
    for delivery in (forged, wrong_secret):
        status, answer = post(stack, delivery)
        assert status == 401
        assert answer["error"] == "signature_invalid"
        assert "whsec" not in json.dumps(answer)
    time.sleep(1.5)  # a pump long-polls each second: give it the chance to act, if wrongly
    assert not any("F-FORGED" in item for item in every_item(stack))
    assert not any(genuine.event_id in item for item in every_item(stack))
    assert not any(b"F-FORGED" in e.raw for e in sent_emails(stack.endpoint))


def test_the_webhook_is_acknowledged_with_202_and_its_event_id(paid: dict[str, Any]) -> None:
    assert paid["status"] == 202
    assert paid["answer"]["accepted"] == [paid["delivery"].event_id]


def test_the_ledger_records_the_payment_and_numbers_the_receipt(
    stack: RunningStack, paid: dict[str, Any]
) -> None:
    invoice = ledger(stack).get_invoice("F-E2E-1")
    assert invoice is not None and invoice.status.value == "paid"
    assert invoice.amount_paid.amount_minor == 123456
    assert re.fullmatch(r"R-\d{4}-\d{6}", paid["payment"].receipt_number)
    assert paid["receipt"]["data"]["amount"] == {"amount_minor": 123456, "currency": "EUR"}


def test_the_archived_receipt_is_locked_with_its_checksum(
    stack: RunningStack, paid: dict[str, Any]
) -> None:
    archive = paid["receipt"]["archive"]
    s3 = stack.client("s3")
    bucket = stack.resources["ArchiveBucket"]
    head = s3.head_object(
        Bucket=bucket, Key=archive["key"], VersionId=archive["version_id"], ChecksumMode="ENABLED"
    )
    body = s3.get_object(Bucket=bucket, Key=archive["key"], VersionId=archive["version_id"])[
        "Body"
    ].read()
    digest = hashlib.sha256(body).digest()
    assert head["ObjectLockMode"] == "COMPLIANCE"
    # Kept to the end of the payment's fiscal (calendar) year plus ten years.
    paid_year = paid["payment"].paid_at.year
    assert head["ObjectLockRetainUntilDate"] >= datetime(paid_year + 11, 1, 1, tzinfo=UTC)
    assert base64.b64decode(head["ChecksumSHA256"]) == digest
    assert archive["sha256_hex"] == digest.hex()
    assert head["ServerSideEncryption"] == "aws:kms"
    text = " ".join(PdfReader(io.BytesIO(body)).pages[0].extract_text().split())
    assert paid["payment"].receipt_number in text
    assert "1 234,56 €" in text.replace("\u202f", " ").replace("\xa0", " ")


def test_deleting_the_archived_version_is_refused(
    stack: RunningStack, paid: dict[str, Any]
) -> None:
    archive = paid["receipt"]["archive"]
    s3 = stack.client("s3")
    with pytest.raises(ClientError) as refused:
        s3.delete_object(
            Bucket=stack.resources["ArchiveBucket"],
            Key=archive["key"],
            VersionId=archive["version_id"],
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    versions = s3.list_object_versions(
        Bucket=stack.resources["ArchiveBucket"], Prefix=archive["key"]
    )
    assert [v["VersionId"] for v in versions.get("Versions", [])] == [archive["version_id"]]


def test_the_customer_gets_one_email_with_a_working_receipt_link(
    stack: RunningStack, paid: dict[str, Any]
) -> None:
    [sent] = emails_for(stack, paid["payment"].receipt_number)
    assert [d.rpartition("<")[2].rstrip(">") for d in sent.destinations] == [
        "e2e.customer@example.com"
    ]
    message = email.message_from_bytes(sent.raw, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    link = re.search(re.escape(stack.api_url) + r"/r/[A-Za-z0-9_.\-]+", text)
    assert link, text
    status, headers, page = get(link.group(0))
    assert status == 200
    assert paid["payment"].receipt_number in page.decode()
    status, headers, _ = get(link.group(0) + "/pdf", follow=False)
    assert status == 302
    location = headers["Location"]
    assert location.startswith(stack.endpoint)
    assert "X-Amz-Expires=300" in location
    assert "response-content-disposition=inline" in location
    status, _, pdf = get(location)
    assert status == 200 and pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == paid["receipt"]["archive"]["sha256_hex"]


def test_a_redelivered_webhook_yields_no_second_receipt_nor_email(
    stack: RunningStack, paid: dict[str, Any]
) -> None:
    number = paid["payment"].receipt_number
    archive = paid["receipt"]["archive"]
    for _ in range(3):
        status, answer = post(stack, paid["delivery"])
        assert status == 200
        assert answer["duplicates"] == [paid["delivery"].event_id]
    time.sleep(1.5)
    stack.wait_drained()
    assert len(emails_for(stack, number)) == 1
    versions = stack.client("s3").list_object_versions(
        Bucket=stack.resources["ArchiveBucket"], Prefix=archive["key"]
    )
    assert len(versions.get("Versions", [])) == 1
    assert ledger(stack).receipt_item(number)["archive"] == archive
    assert stack.queue_depths() == dict.fromkeys(stack.queue_depths(), 0)
