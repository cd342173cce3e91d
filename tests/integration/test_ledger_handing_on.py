"""The ledger commits, then hands the receipt job on. If the hand-on fails after the commit,
the event comes back from SQS and the retry sends what was missing: in the end exactly one
receipt job, one archived receipt and one email, under the number committed the first time."""

from __future__ import annotations

import sys

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from quittance.aws.ledger_table import LedgerTable
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import REGION, MotoStack
from .pipeline import deliver, drain, post_webhook


def emails_sent() -> int:
    return sum(
        1 for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages if hasattr(m, "raw_data")
    )


def waiting(stack: MotoStack, queue: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.resource(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_a_receipt_job_lost_after_the_commit_is_sent_on_retry_once(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a genuine payment accepted at the webhook, and SQS handing a failed message
    # straight back (visibility timeout 0, so the retry need not wait)
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    paid = stripe_payment_intent_succeeded(
        secret=secret, invoice_number="F-HAND-1", amount_minor=4_200
    )
    assert post_webhook(moto_stack, "stripe", paid.body, paid.headers)[0] == 202
    sqs = moto_stack.client("sqs")
    sqs.set_queue_attributes(
        QueueUrl=moto_stack.resource("PaymentEventsQueue"), Attributes={"VisibilityTimeout": "0"}
    )

    [message] = sqs.receive_message(
        QueueUrl=moto_stack.resource("PaymentEventsQueue"), MessageAttributeNames=["All"]
    )["Messages"]

    # When the ledger commits but its receipt-jobs queue is unreachable
    receipt_jobs = sys.modules["quittance_fn_LedgerFunction"].deps().receipt_jobs
    with monkeypatch.context() as broken:
        broken.setattr(receipt_jobs, "url", f"{receipt_jobs.url}-gone")
        assert deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction") == 0

    # Then the payment is in the ledger with its number, no job went out, the event waits
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    record = ledger.load("F-HAND-1")
    assert record is not None
    [receipt] = record.documents
    assert waiting(moto_stack, "ReceiptJobsQueue") == 0
    assert waiting(moto_stack, "PaymentEventsQueue") == 1

    # When the queue is back and SQS redelivers the event
    assert deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction") == 1

    # Then the missing job is sent, once, for the number committed the first time
    assert waiting(moto_stack, "ReceiptJobsQueue") == 1
    drain(moto_stack)
    after = ledger.load("F-HAND-1")
    assert after is not None and after.documents == record.documents
    archived = moto_stack.client("s3").list_objects_v2(
        Bucket=moto_stack.resource("ArchiveBucket"), Prefix="receipts/"
    )
    pdfs = [o["Key"] for o in archived.get("Contents", []) if o["Key"].endswith(".pdf")]
    assert [key.rsplit("/", 1)[1] for key in pdfs] == [f"{receipt.receipt_number}.pdf"]
    assert emails_sent() == 1

    # and the same event queued yet again (SQS delivers at least once), or posted again by
    # the gateway, changes nothing and sends nothing
    sqs.send_message(
        QueueUrl=moto_stack.resource("PaymentEventsQueue"),
        MessageBody=message["Body"],
        MessageAttributes=message.get("MessageAttributes", {}),
    )
    assert post_webhook(moto_stack, "stripe", paid.body, paid.headers)[0] == 200  # seen before
    drain(moto_stack)
    assert ledger.load("F-HAND-1") == after
    assert emails_sent() == 1
    assert waiting(moto_stack, "ReceiptJobsQueue") == waiting(moto_stack, "NotificationsQueue") == 0
