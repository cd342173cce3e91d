"""One fault at a time, where it hurts most, through the real handlers against moto: what the
function does, what the retry does, and that nothing is lost or done twice (or, for the one
documented window, that a second email is all that can happen)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.ses.models import ses_backends

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.service import pseudonymous_customer_id
from quittance.models.messages import parse_notification_job
from quittance_ops.localstack.faults import FaultPlan, Injector

from .conftest import ACCOUNT, REGION, MotoStack
from .pipeline import customer_stores, deliver, post_webhook
from .test_intake_handler import genuine

Faults = Callable[[FaultPlan], Injector]


def _customer_id(delivery_body: bytes) -> str:
    customer = json.loads(delivery_body)["data"]["object"]["customer"]
    return pseudonymous_customer_id("stripe", customer)


def _comes_back_at_once(stack: MotoStack, queue: str) -> None:
    """A failed batch is visible again at once (the template waits six function timeouts)."""
    stack.client("sqs").set_queue_attributes(
        QueueUrl=stack.resource(queue), Attributes={"VisibilityTimeout": "0"}
    )


def test_a_contact_that_cannot_be_stored_fails_the_delivery_and_its_redelivery_keeps_it(
    moto_stack: MotoStack, faults: Faults
) -> None:
    # Given DynamoDB failing every attempt of the profile's transaction (AWS answers 500)
    delivery = genuine(moto_stack, email="lea@example.com", name="Léa Martin")
    injector = faults(
        FaultPlan(rules={"dynamodb.TransactWriteItems": 1.0}, kinds=("server_error",))
    )
    # When the gateway delivers the payment
    with pytest.raises(ClientError):  # API Gateway answers 500: the gateway will retry
        post_webhook(moto_stack, "stripe", delivery.body, delivery.headers)
    # Then nothing was queued: no payment goes on without its payer's contact
    assert moto_stack.queue_messages("PaymentEventsQueue") == []
    injector.uninstall()

    # When the gateway sends it again, AWS healthy
    status, body = post_webhook(moto_stack, "stripe", delivery.body, delivery.headers)
    # Then it is accepted and the payer's details are in their profile, sealed
    assert (status, body["accepted"]) == (202, [delivery.event_id])
    profiles, _, _ = customer_stores(moto_stack)
    profile = profiles.held(_customer_id(delivery.body))
    assert profile is not None
    assert (profile["email"], profile["name"]) == ("lea@example.com", "Léa Martin")


def test_a_crash_between_the_archive_put_and_the_ledger_record_leaves_one_locked_version(
    moto_stack: MotoStack, faults: Faults
) -> None:
    # Given a paid invoice whose receipt job waits
    delivery = genuine(moto_stack, invoice_number="F-CRASH-1")
    post_webhook(moto_stack, "stripe", delivery.body, delivery.headers)
    assert deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction") == 1
    # When the receipts function crashes right after S3 took the PDF
    _comes_back_at_once(moto_stack, "ReceiptJobsQueue")
    injector = faults(FaultPlan(crash_rate=1.0, crash_only=("s3.PutObject",)))
    assert deliver(moto_stack, "ReceiptJobsQueue", "ReceiptsFunction") == 0
    assert injector.stats.crashes == {("ReceiptsFunction", "s3.PutObject"): 1}
    injector.uninstall()
    # and the job comes back (its visibility timeout over)
    assert deliver(moto_stack, "ReceiptJobsQueue", "ReceiptsFunction") == 1
    # Then the archive holds one version, the one the ledger recorded
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    record = ledger.load("F-CRASH-1")
    assert record is not None
    (document,) = record.documents
    archive = ledger.receipt_item(document.receipt_number)["archive"]
    versions = moto_stack.client("s3").list_object_versions(
        Bucket=moto_stack.resource("ArchiveBucket"), Prefix=archive["key"]
    )["Versions"]
    assert [v["VersionId"] for v in versions] == [archive["version_id"]]


def _confirmation(stack: MotoStack) -> dict[str, Any]:
    delivery = genuine(stack, invoice_number="F-SES-1", email="noe@example.com")
    post_webhook(stack, "stripe", delivery.body, delivery.headers)
    assert deliver(stack, "PaymentEventsQueue", "LedgerFunction") == 1
    assert deliver(stack, "ReceiptJobsQueue", "ReceiptsFunction") == 1
    (message,) = stack.queue_messages("NotificationsQueue")
    return parse_notification_job(message["Body"]).model_dump(mode="json")


def test_a_crash_right_after_ses_took_the_email_sends_it_again_the_documented_window(
    moto_stack: MotoStack, faults: Faults
) -> None:
    # Given a confirmation to send
    job = _confirmation(moto_stack)
    _comes_back_at_once(moto_stack, "NotificationsQueue")
    sent = ses_backends[ACCOUNT][REGION].sent_messages
    before = len(sent)
    # When notify crashes right after SES accepted the message, before the message log
    injector = faults(FaultPlan(crash_rate=1.0, crash_only=("sesv2.SendEmail",)))
    assert deliver(moto_stack, "NotificationsQueue", "NotifyFunction") == 0
    injector.uninstall()
    # and the job comes back
    assert deliver(moto_stack, "NotificationsQueue", "NotifyFunction") == 1
    # Then the customer got it twice (docs/reliability.md, guarantee 8), the log says sent once
    assert len(sent) - before == 2
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    assert ledger.message_sent(job["invoice_number"], job["change_id"], "email")


def test_a_crash_after_the_message_log_sends_nothing_again(
    moto_stack: MotoStack, faults: Faults
) -> None:
    # Given a confirmation whose send and log both happened, then notify crashed as
    # Powertools recorded its success
    _confirmation(moto_stack)
    _comes_back_at_once(moto_stack, "NotificationsQueue")
    sent = ses_backends[ACCOUNT][REGION].sent_messages
    before = len(sent)
    injector = faults(FaultPlan(crash_rate=1.0, crash_only=("dynamodb.UpdateItem",)))
    assert deliver(moto_stack, "NotificationsQueue", "NotifyFunction") == 0
    assert injector.stats.crashes == {("NotifyFunction", "dynamodb.UpdateItem"): 1}
    assert len(sent) - before == 1
    injector.uninstall()
    # When the job comes back
    assert deliver(moto_stack, "NotificationsQueue", "NotifyFunction") == 1
    # Then no second email goes out
    assert len(sent) - before == 1
