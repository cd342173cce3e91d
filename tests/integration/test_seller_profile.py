"""The seller profile through the real receipts handler on the template's prod stage: no
receipt in the demo company's name, a profile change applies without a restart, and an
earlier receipt's archived PDF is untouched by it."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from quittance.aws.items import to_item
from quittance.aws.ledger_table import LedgerTable
from quittance.clock import FixedClock
from quittance.settings import load
from quittance_ops.seller_file import ProfileFile, read_profile_file
from quittance_ops.seller_publish import publish

from .conftest import MotoStack
from .pipeline import deliver, pay_by_card

PROFILES = Path(__file__).resolve().parents[2] / "infra" / "profiles"
AT = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)


def _pay(stack: MotoStack, invoice: str) -> str:
    pay_by_card(stack, AT, invoice, f"pi-{invoice}")
    deliver(stack, "ReceiptJobsQueue", "ReceiptsFunction")
    record = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb")).load(invoice)
    assert record is not None
    (document,) = record.documents
    return document.receipt_number


def _receipt(stack: MotoStack, number: str) -> dict[str, Any]:
    ledger = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
    return dict(ledger.receipt_item(number))


def _pdf(stack: MotoStack, archive: dict[str, Any]) -> bytes:
    body = stack.client("s3").get_object(
        Bucket=stack.resource("ArchiveBucket"), Key=archive["key"], VersionId=archive["version_id"]
    )["Body"]
    return bytes(body.read())


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _set(stack: MotoStack, name: str) -> int:
    return publish(
        read_profile_file(PROFILES / name),
        ssm=stack.client("ssm"),
        s3=stack.client("s3"),
        stage="prod",
        archive_bucket=stack.resource("ArchiveBucket"),
    )


@pytest.fixture
def fresh_profile(moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch) -> MotoStack:
    """Profile changes seen at once (the deployed functions wait up to 5 minutes)."""
    monkeypatch.setenv("SELLER_PROFILE_MAX_AGE_SECONDS", "0")
    load.cache_clear()
    return moto_stack


def test_a_profile_change_applies_without_restart_and_spares_earlier_receipts(
    fresh_profile: MotoStack,
) -> None:
    stack = fresh_profile
    # Given a receipt issued under the demo company's profile (version 1, set by the stack)
    first = _pay(stack, "F-SELLER-1")
    before = _receipt(stack, first)["archive"]
    assert before["seller_profile_version"] == 1
    first_pdf = _pdf(stack, before)
    assert "TVA intracommunautaire FR44732829320" in _text(first_pdf)

    # When the business sets its own profile on the running stack
    assert _set(stack, "micro-entrepreneur.yaml") == 2

    # Then the next receipt carries it, with the mentions of a micro-entrepreneur
    second = _receipt(stack, _pay(stack, "F-SELLER-2"))["archive"]
    assert second["seller_profile_version"] == 2
    text = _text(_pdf(stack, second))
    assert "TVA non applicable, art. 293 B du CGI" in text
    assert "Camille Martin EI" in text
    assert "FR44732829320" not in text and "Atelier Quittance" not in text

    # And the first receipt's archived PDF is byte for byte what it was
    again = _receipt(stack, first)["archive"]
    assert again == before
    assert hashlib.sha256(_pdf(stack, again)).hexdigest() == hashlib.sha256(first_pdf).hexdigest()


def test_prod_refuses_the_demo_company_until_a_real_profile_is_set(
    fresh_profile: MotoStack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    stack = fresh_profile
    # Given a deployed prod stage (not the local stack) still on the demo company's profile
    monkeypatch.delenv("SELLER_DEMO_ALLOWED")
    load.cache_clear()
    sys.modules["quittance_fn_ReceiptsFunction"].metrics.clear_metrics()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    caplog.set_level(logging.INFO)
    capsys.readouterr()

    # When a payment's receipt job runs (each retry visible at once, not after 6 minutes)
    sqs = stack.client("sqs")
    queue = stack.resource("ReceiptJobsQueue")
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "0"})
    number = _pay(stack, "F-SELLER-3")
    for _retry in range(5):
        deliver(stack, "ReceiptJobsQueue", "ReceiptsFunction")
    # Then no receipt is archived, and after its five attempts the job waits in the DLQ
    assert "archive" not in _receipt(stack, number)
    dlq = stack.resource("ReceiptJobsDLQ")
    (waiting,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    # with an error in the log that says why, and the metric the alarm watches
    refused = next(
        r for r in caplog.records if r.getMessage() == "no document issued: seller profile refused"
    )
    assert refused.levelname == "ERROR"
    assert "demo company" in str(refused.__dict__["reason"])
    metrics = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    assert sum(1 for m in metrics if m.get("seller_profile_refused") == [1.0]) == 5

    # Once the business sets its own profile, the job redriven issues the receipt
    assert _set(stack, "micro-entrepreneur.yaml") == 2
    sqs.send_message(QueueUrl=queue, MessageBody=waiting["Body"])
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=waiting["ReceiptHandle"])
    assert deliver(stack, "ReceiptJobsQueue", "ReceiptsFunction") == 1
    archive = _receipt(stack, number)["archive"]
    assert archive["seller_profile_version"] == 2
    assert "293 B" in _text(_pdf(stack, archive))


def test_customer_texts_go_out_under_the_sellers_sms_sender_id(
    fresh_profile: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = fresh_profile
    # Given notify's SNS calls watched as SNS receives them (moto keeps no sender id)
    sender_ids: list[str] = []
    module = sys.modules["quittance_fn_NotifyFunction"]
    make = module.make_client

    def watched(service: str, region: str) -> Any:
        client = make(service, region)
        if service == "sns":

            def publish(params: dict[str, Any], **_: Any) -> None:
                attributes = params.get("MessageAttributes") or {}
                sender_ids.append(attributes["AWS.SNS.SMS.SenderID"]["StringValue"])

            client.meta.events.register("provide-client-params.sns.Publish", publish)
        return client

    monkeypatch.setattr(module, "make_client", watched)
    stack.use_clock(FixedClock(AT))  # rewired: the watched client is the one notify uses
    # And a seller whose profile names its own sender id
    read = read_profile_file(PROFILES / "demo-seller.yaml")
    publish(
        ProfileFile(read.profile.model_copy(update={"sms_sender": "ATELIERQ"}), read.logo),
        ssm=stack.client("ssm"),
        s3=stack.client("s3"),
        stage="prod",
        archive_bucket=stack.resource("ArchiveBucket"),
    )
    stack.client("dynamodb").put_item(
        TableName=stack.resource("CustomersTable"),
        Item=to_item({"pk": "CUST#C-sms", "name": "Camille", "phone": "06 12 34 56 78",
                      "locale": "fr", "channel": "sms"}),
    )  # fmt: skip
    job = {
        "correlation_id": "c-sms",
        "kind": "payment_failed",
        "change_id": "F-SMS#failed#C-sms",
        "customer_id": "C-sms",
        "invoice_number": "F-SMS",
        "amount": {"amount_minor": 4200, "currency": "EUR"},
        "failed_at": AT.isoformat(),
        "failure": "expired_card",
    }
    stack.client("sqs").send_message(
        QueueUrl=stack.resource("NotificationsQueue"), MessageBody=json.dumps(job)
    )
    # When notify texts the customer (delivered by the local stack's own pump)
    assert deliver(stack, "NotificationsQueue", "NotifyFunction") == 1
    # Then the text goes out under the seller's sender id, not the stage's default
    assert sender_ids == ["ATELIERQ"]
