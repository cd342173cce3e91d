"""The notify function against moto (template.yaml provisioned): the customer's channel
preference decides email, SMS or both; a job may override it; each (change, channel) is sent
once whatever the redeliveries; the message log says what happened and holds no contact data.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from quittance.archive.retention import Lock, archive_key
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.items import to_item
from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.service import apply_event
from quittance.models.events import (
    CustomerDetails,
    EventType,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.money import Money
from quittance.settings import RetentionMode

from .conftest import REGION, MotoStack
from .pipeline import sealed_customers

PHONE = "06 12 34 56 78"
E164 = "+33612345678"
EMAIL = "camille@example.com"


def sms_sent() -> list[tuple[str, str]]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def emails_sent() -> list[Any]:
    return [
        email.message_from_bytes(m.raw_data.encode(), policy=email.policy.default)
        for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        if hasattr(m, "raw_data")
    ]


def put_profile(stack: MotoStack, customer_id: str, **values: Any) -> None:
    profile = {"name": "Camille", "email": EMAIL, "phone": PHONE, "locale": "fr"} | values
    stack.client("dynamodb").put_item(
        TableName=stack.resource("CustomersTable"),
        Item=to_item({"pk": f"CUST#{customer_id}", **{k: v for k, v in profile.items() if v}}),
    )


def notify(stack: MotoStack, job: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(job)
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "rh",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795428000000",
            "SenderId": "A",
            "ApproximateFirstReceiveTimestamp": "1795428000000",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": stack.resource("NotificationsQueue", "Arn"),
        "awsRegion": REGION,
    }
    result: dict[str, Any] = stack.functions["NotifyFunction"].invoke({"Records": [record]})
    return result


def job(customer_id: str, **kw: Any) -> dict[str, Any]:
    """A failed-payment job unless ``kw`` names another kind (its moment under its name)."""
    kind = kw.get("kind", "payment_failed")
    fields = {
        "correlation_id": "c-1",
        "kind": kind,
        "change_id": f"F-9#failed#{customer_id}",
        "customer_id": customer_id,
        "invoice_number": "F-9",
        "amount": {"amount_minor": 4200, "currency": "EUR"},
        "failed_at" if kind == "payment_failed" else "paid_at": datetime(
            2026, 11, 23, 9, 0, tzinfo=UTC
        ).isoformat(),
        "failure": "expired_card" if kind == "payment_failed" else None,
    } | kw
    return {name: value for name, value in fields.items() if value is not None}


def log_of(stack: MotoStack) -> list[dict[str, Any]]:
    table = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
    return table.messages("F-9")


@pytest.mark.parametrize(
    ("preference", "override", "emails", "texts"),
    [
        ("email", None, 1, 0),
        ("sms", None, 0, 1),
        ("both", None, 1, 1),
        ("email", ["sms"], 0, 1),
    ],
    ids=["email", "sms", "both", "job-overrides-preference"],
)
def test_the_preference_or_the_job_decides_the_channels(
    moto_stack: MotoStack,
    preference: str,
    override: list[str] | None,
    emails: int,
    texts: int,
) -> None:
    put_profile(moto_stack, "C-ch", channel=preference)
    result = notify(moto_stack, job("C-ch", channels=override))
    assert result == {"batchItemFailures": []}

    sent_mail = emails_sent()
    assert len(sent_mail) == emails
    for message in sent_mail:
        assert message["To"].addresses[0].addr_spec == EMAIL
        assert "aucun montant n’a été débité" in message.get_body(("plain",)).get_content()
    sms = sms_sent()
    assert len(sms) == texts
    for number, text in sms:
        assert number == E164  # national form normalised to E.164
        assert "carte expirée" in text and "Aucun montant" in text
        assert len(text) <= 160

    entries = log_of(moto_stack)
    assert sorted(e["sk"].rsplit("#", 1)[1] for e in entries) == sorted(
        (["email"] if emails else []) + (["sms"] if texts else [])
    )
    assert all(e["status"] == "sent" and e["provider_message_id"] for e in entries)
    stored = json.dumps(entries, default=str)
    for contact in (EMAIL, E164, PHONE, "Camille"):
        assert contact not in stored  # the log holds no contact data


def test_a_redelivered_job_sends_nothing_new(moto_stack: MotoStack) -> None:
    put_profile(moto_stack, "C-re", channel="both")
    first = job("C-re")
    notify(moto_stack, first)
    # The same job again, also past the idempotency record (a new function instance, or
    # after its expiry): the message log still stops a second send on either channel.
    notify(moto_stack, first)
    table = moto_stack.resource("IdempotencyTable")
    client = moto_stack.client("dynamodb")
    records = client.scan(TableName=table)["Items"]
    assert records  # the idempotency layer did record the job; drop it
    for item in records:
        client.delete_item(TableName=table, Key={"id": item["id"]})
    notify(moto_stack, first)
    assert len(emails_sent()) == 1
    assert len(sms_sent()) == 1


def test_an_invalid_number_is_recorded_as_failed_and_not_retried(moto_stack: MotoStack) -> None:
    put_profile(moto_stack, "C-bad", channel="sms", phone="12")
    result = notify(moto_stack, job("C-bad"))
    assert result == {"batchItemFailures": []}  # not handed back to the queue
    assert sms_sent() == []
    [entry] = log_of(moto_stack)
    assert (entry["status"], entry["reason"]) == ("failed", "invalid_phone")


def test_a_suppressed_address_falls_back_to_sms(moto_stack: MotoStack) -> None:
    put_profile(
        moto_stack,
        "C-sup",
        channel="email",
        email_suppressed={"reason": "bounce", "at": "2026-11-20T10:00:00+00:00"},
    )
    notify(moto_stack, job("C-sup"))
    assert emails_sent() == []
    [(number, _)] = sms_sent()
    assert number == E164


def test_the_confirmation_attaches_the_archived_original_when_the_customer_asks(
    moto_stack: MotoStack,
) -> None:
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    customers = sealed_customers(moto_stack)
    paid_at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    outcome = apply_event(
        PaymentEvent(
            event_id="evt_pdf",
            provider="stripe",
            type=EventType.PAYMENT_SUCCEEDED,
            occurred_at=paid_at,
            payment_id="pi_pdf",
            invoice_number="F-9",
            amount=Money(amount_minor=4200, currency="EUR"),
            method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
            customer=CustomerDetails(reference="cus_pdf"),
        ),
        store=ledger,
        profiles=customers,
        now=paid_at,
    )
    [receipt] = outcome.documents
    assert outcome.customer_id is not None
    original = b"%PDF-1.7\n% the archived original, never rendered again\n%%EOF\n"
    bucket = ArchiveBucket(moto_stack.resource("ArchiveBucket"), moto_stack.client("s3"))
    archived = bucket.put_once(
        archive_key(receipt.receipt_number, paid_at),
        original,
        Lock(RetentionMode.GOVERNANCE, paid_at + timedelta(days=1)),
        content_type="application/pdf",
        metadata={},
    )
    ledger.record_archive("F-9", receipt.receipt_number, archived.as_record())
    put_profile(moto_stack, outcome.customer_id, channel="email", attach_pdf=True)

    notify(
        moto_stack,
        job(
            outcome.customer_id,
            kind="payment_confirmed",
            change_id=f"{receipt.receipt_number}:payment_confirmed",
            receipt_number=receipt.receipt_number,
            method=receipt.method.model_dump(mode="json"),
        ),
    )
    [message] = emails_sent()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{receipt.receipt_number}.pdf"
    assert attachment.get_content() == original
    text = message.get_body(("plain",)).get_content()
    assert "Visa •••• 4242" in text  # the method the job carries, as the ledger recorded it
