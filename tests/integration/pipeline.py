"""Drive the moto stack's queues to quiet, the way Lambda's event source mappings would."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.clock import FixedClock
from quittance.models.events import (
    CustomerDetails,
    EventType,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.messages import PaymentEventMessage
from quittance.models.money import Money
from quittance_ops.localstack.pumps import QueuePump

from .conftest import REGION, MotoStack, answer, http_event

STAGES = (
    ("PaymentEventsQueue", "LedgerFunction", 10),
    ("ReceiptJobsQueue", "ReceiptsFunction", 5),
    ("NotificationsQueue", "NotifyFunction", 10),
)


def pump(stack: MotoStack, queue: str, function: str, batch: int = 10) -> QueuePump:
    """The local stack's own pump on ``queue``, delivering to ``function`` without waiting."""
    return QueuePump(
        sqs=stack.client("sqs"),
        queue_url=stack.resource(queue),
        queue_arn=stack.resource(queue, "Arn"),
        function=stack.functions[function],
        batch_size=batch,
        report_failures=True,
        region=REGION,
        wait_seconds=0,
    )


def deliver(stack: MotoStack, queue: str, function: str) -> int:
    """Hand every waiting message of ``queue`` to ``function``; how many were delivered."""
    worker, delivered = pump(stack, queue, function), 0
    while count := worker.poll_once():
        delivered += count
    return delivered


def drain(stack: MotoStack, rounds: int = 20) -> None:
    pumps = [pump(stack, queue, function, batch) for queue, function, batch in STAGES]
    for _ in range(rounds):
        if sum(pump.poll_once() for pump in pumps) == 0:
            return
    raise AssertionError("queues did not go quiet")


def post_webhook(stack: MotoStack, provider: str, body: bytes, headers: dict[str, str]) -> Any:
    event = http_event(
        "POST",
        f"/webhooks/{provider}",
        "/webhooks/{provider}",
        {"provider": provider},
        body=body,
        headers=headers,
    )
    return answer(stack.functions["IntakeFunction"].invoke(event))


def customer_stores(stack: MotoStack) -> tuple[CustomersTable, EvidenceStore, CustomerKeyring]:
    """Profiles and evidence as the readers see them (a keyring that opens, never mints)."""
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    table = stack.resource("CustomersTable")
    keyring = CustomerKeyring(table, dynamodb, stack.client("kms"), None)
    bucket = ArchiveBucket(stack.resource("ArchiveBucket"), s3)
    return CustomersTable(table, dynamodb, keyring), EvidenceStore(bucket, s3, keyring), keyring


def sealed_customers(stack: MotoStack) -> CustomersTable:
    """The customers table as intake writes it: contact fields sealed with the customer's key."""
    dynamodb = stack.client("dynamodb")
    table = stack.resource("CustomersTable")
    keyring = CustomerKeyring(
        table, dynamodb, stack.client("kms"), stack.resource("DataKey", "Arn")
    )
    return CustomersTable(table, dynamodb, keyring)


def exported_books(stack: MotoStack, answer: dict[str, Any]) -> list[dict[str, str]]:
    """The CSV behind the accounting export's link, read with the S3 client (the link's host
    is not reachable in-process), checked against the size and SHA-256 the API announced."""
    link = urlparse(str(answer["download_url"]))
    assert parse_qs(link.query)["X-Amz-Expires"] == ["900"]
    bucket = stack.resource("ExportsBucket")
    key = unquote(link.path).lstrip("/").removeprefix(f"{bucket}/")  # virtual-hosted or path
    assert key.startswith("exports/books/") and key.endswith(".csv")
    body = stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert (len(body), hashlib.sha256(body).hexdigest()) == (answer["size"], answer["sha256"])
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == answer["rows"]
    return rows


def pay_by_card(stack: MotoStack, at: datetime, invoice: str, payment: str) -> FixedClock:
    """A 42,00 € card payment made at ``at`` is recorded by the ledger, every function's clock
    pinned there (a few seconds on); the clock is returned for the stages that follow."""
    clock = FixedClock(at)
    stack.use_clock(clock)
    event = PaymentEvent(
        event_id=f"evt-{payment}",
        provider="stripe",
        type=EventType.PAYMENT_SUCCEEDED,
        occurred_at=at,
        payment_id=payment,
        invoice_number=invoice,
        amount=Money(amount_minor=4200, currency="EUR"),
        method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
        customer=CustomerDetails(reference=f"cus-{invoice}", locale="fr-FR"),
    )
    stack.client("sqs").send_message(
        QueueUrl=stack.resource("PaymentEventsQueue"),
        MessageBody=PaymentEventMessage(
            correlation_id=f"c-{payment}", received_at=at, event=event
        ).model_dump_json(),
    )
    clock.advance(timedelta(seconds=2))
    assert deliver(stack, "PaymentEventsQueue", "LedgerFunction") == 1
    clock.advance(timedelta(seconds=2))
    return clock
