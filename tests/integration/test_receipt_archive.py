"""The legal archive in moto: a genuine payment travels intake → ledger → receipts in-process
(the local stack's own queue pump delivers each batch), and what lands in the Object Lock
bucket is locked, recorded, and written once."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pypdf import PdfReader

from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from tests.integration.conftest import MotoStack
from tests.integration.pipeline import deliver, post_webhook


def pay(stack: MotoStack, invoice: str, *, amount: int = 12_345, **payment: Any) -> str:
    """Pay ``invoice`` through the whole chain (``payment``: more of the Stripe event, such as
    ``locale``, ``next_steps`` or ``address``); answer the receipt job the ledger queued."""
    delivery = stripe_payment_intent_succeeded(
        secret=stack.provisioned.webhook_secrets["stripe"],
        invoice_number=invoice,
        amount_minor=amount,
        **payment,
    )
    status, _ = post_webhook(stack, "stripe", delivery.body, delivery.headers)
    assert status == 202
    assert deliver(stack, "PaymentEventsQueue", "LedgerFunction") == 1
    (queued,) = stack.queue_messages("ReceiptJobsQueue")  # a peek: it stays queued
    assert deliver(stack, "ReceiptJobsQueue", "ReceiptsFunction") == 1
    return str(queued["Body"])


def receipt_item(stack: MotoStack, invoice: str) -> dict[str, Any]:
    from quittance.aws.ledger_table import LedgerTable

    ledger = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
    record = ledger.load(invoice)
    assert record is not None
    (document,) = record.documents
    return ledger.receipt_item(document.receipt_number)


def archived(stack: MotoStack, record: dict[str, Any]) -> bytes:
    """The bytes of the archived version a ledger record names."""
    got = stack.client("s3").get_object(
        Bucket=bucket(stack), Key=record["key"], VersionId=record["version_id"]
    )
    return bytes(got["Body"].read())


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def bucket(stack: MotoStack) -> str:
    return str(stack.resource("ArchiveBucket"))


def versions(stack: MotoStack, key: str) -> list[dict[str, Any]]:
    listed = stack.client("s3").list_object_versions(Bucket=bucket(stack), Prefix=key)
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def test_the_recorded_hash_size_and_version_are_those_of_the_locked_object(
    moto_stack: MotoStack,
) -> None:
    pay(moto_stack, "F-ARCH-1")
    archive = receipt_item(moto_stack, "F-ARCH-1")["archive"]
    s3 = moto_stack.client("s3")
    got = s3.get_object(
        Bucket=bucket(moto_stack), Key=archive["key"], VersionId=archive["version_id"]
    )
    body = got["Body"].read()
    assert hashlib.sha256(body).hexdigest() == archive["sha256_hex"]
    assert len(body) == archive["size"]
    assert archive["key"].startswith("receipts/") and archive["key"].endswith(".pdf")
    assert got["ObjectLockMode"] == "COMPLIANCE"
    # Paid in 2026 → kept until the end of the fiscal year + 10 years at least.
    assert got["ObjectLockRetainUntilDate"] >= datetime(2036, 1, 1, tzinfo=UTC)
    assert got["ServerSideEncryption"] == "aws:kms"


def test_an_archived_receipt_cannot_be_deleted_or_overwritten(
    moto_stack: MotoStack,
) -> None:
    pay(moto_stack, "F-ARCH-2")
    archive = receipt_item(moto_stack, "F-ARCH-2")["archive"]
    s3 = moto_stack.client("s3")
    name, key, version = bucket(moto_stack), archive["key"], archive["version_id"]

    with pytest.raises(ClientError) as deleting:
        s3.delete_object(Bucket=name, Key=key, VersionId=version)
    assert deleting.value.response["Error"]["Code"] == "AccessDenied"

    with pytest.raises(ClientError) as governance_bypass:
        s3.delete_object(Bucket=name, Key=key, VersionId=version, BypassGovernanceRetention=True)
    assert governance_bypass.value.response["Error"]["Code"] == "AccessDenied"

    # The application's own writer refuses a second object under the same key.
    with pytest.raises(ClientError) as overwriting:
        s3.put_object(
            Bucket=name, Key=key, Body=b"%PDF-forged", IfNoneMatch="*", ChecksumAlgorithm="SHA256"
        )
    assert overwriting.value.response["Error"]["Code"] == "PreconditionFailed"

    assert [v["VersionId"] for v in versions(moto_stack, key)] == [version]
    assert hashlib.sha256(archived(moto_stack, archive)).hexdigest() == archive["sha256_hex"]


@pytest.mark.xfail(
    strict=True,
    reason=(
        "moto accepts PutObjectRetention that shortens a COMPLIANCE lock, which S3 refuses; "
        "no quittance role may call it at all (tests/template/test_template.py "
        "FORBIDDEN_S3_ACTIONS). Strict: the day moto enforces it, this test says so."
    ),
)
def test_shortening_the_retention_of_an_archived_receipt_is_refused(
    moto_stack: MotoStack,
) -> None:
    pay(moto_stack, "F-ARCH-6")
    archive = receipt_item(moto_stack, "F-ARCH-6")["archive"]
    with pytest.raises(ClientError) as shortening:
        moto_stack.client("s3").put_object_retention(
            Bucket=bucket(moto_stack),
            Key=archive["key"],
            VersionId=archive["version_id"],
            Retention={
                "Mode": "COMPLIANCE",
                "RetainUntilDate": datetime.now(UTC) + timedelta(days=1),
            },
        )
    assert shortening.value.response["Error"]["Code"] == "AccessDenied"


def test_a_receipt_job_processed_twice_leaves_one_version_and_the_same_record(
    moto_stack: MotoStack,
) -> None:
    job = pay(moto_stack, "F-ARCH-3")
    first = receipt_item(moto_stack, "F-ARCH-3")
    sqs, queue = moto_stack.client("sqs"), moto_stack.resource("ReceiptJobsQueue")
    # SQS delivers at least once: the same job twice in one batch, then again once the
    # idempotency records are gone (as after their window), must change nothing.
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=job)
    deliver(moto_stack, "ReceiptJobsQueue", "ReceiptsFunction")
    dynamodb = moto_stack.client("dynamodb")
    table = moto_stack.resource("IdempotencyTable")
    for item in dynamodb.scan(TableName=table)["Items"]:
        dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
    sqs.send_message(QueueUrl=queue, MessageBody=job)
    deliver(moto_stack, "ReceiptJobsQueue", "ReceiptsFunction")

    again = receipt_item(moto_stack, "F-ARCH-3")
    assert again["archive"] == first["archive"]
    assert len(versions(moto_stack, first["archive"]["key"])) == 1


def test_an_english_speaking_customer_gets_a_translation_archived_beside_the_original(
    moto_stack: MotoStack,
) -> None:
    pay(moto_stack, "F-ARCH-4", locale="en-GB")
    item = receipt_item(moto_stack, "F-ARCH-4")
    original, translation = item["archive"], item["translation"]
    assert translation["key"] == original["key"].removesuffix(".pdf") + ".en.pdf"
    s3 = moto_stack.client("s3")
    texts = {}
    for record in (original, translation):
        got = s3.get_object(
            Bucket=bucket(moto_stack), Key=record["key"], VersionId=record["version_id"]
        )
        body = got["Body"].read()
        assert hashlib.sha256(body).hexdigest() == record["sha256_hex"]
        assert got["ObjectLockMode"] == "COMPLIANCE"
        assert got["ObjectLockRetainUntilDate"].isoformat() == record["retain_until"]
        texts[record["key"]] = pdf_text(body)
    french, english = texts[original["key"]], texts[translation["key"]]
    number = item["data"]["receipt_number"]
    assert number in french and number in english
    assert "Reçu" in french and "Translation" not in french
    assert "Translation — the French original is the legal document." in english


def test_a_french_speaking_customer_gets_the_original_only(moto_stack: MotoStack) -> None:
    pay(moto_stack, "F-ARCH-5", locale="fr-FR")
    item = receipt_item(moto_stack, "F-ARCH-5")
    assert item["archive"]["key"].endswith(".pdf")
    assert "translation" not in item
    prefix = item["archive"]["key"].removesuffix(".pdf")
    listed = moto_stack.client("s3").list_objects_v2(Bucket=bucket(moto_stack), Prefix=prefix)
    assert [o["Key"] for o in listed["Contents"]] == [item["archive"]["key"]]


def test_the_archived_receipt_json_agrees_with_the_ledger(moto_stack: MotoStack) -> None:
    pay(moto_stack, "F-ARCH-7", amount=4_200)
    item = receipt_item(moto_stack, "F-ARCH-7")
    archive = item["archive"]
    body = archived(moto_stack, archive)
    (attached,) = PdfReader(io.BytesIO(body)).attachments["receipt.json"]
    embedded, ledger = json.loads(attached), item["data"]
    shared = (
        "receipt_number",
        "kind",
        "invoice_number",
        "original_receipt_number",
        "amount",
        "balance_due",
        "method",
        "paid_at",
        "issued_at",
    )
    assert {k: embedded[k] for k in shared} == {k: ledger[k] for k in shared}
    assert embedded["amount"] == {"amount_minor": 4_200, "currency": "EUR"}
    assert embedded["status"] == "paid" and ledger["invoice_status"] == "paid"


def test_a_registered_invoice_s_lines_and_vat_breakdown_are_on_its_receipt(
    moto_stack: MotoStack,
) -> None:
    from quittance.aws.ledger_table import LedgerTable
    from quittance.ledger.invoices import InvoiceLine, InvoiceRegistration, register_invoice

    registration = InvoiceRegistration(
        customer_reference="cus_NffrFeUfNV2Hib",
        currency="EUR",
        lines=(
            InvoiceLine(
                description="Reliure cuir", quantity=2, unit_price_minor=4_000, vat_rate=20
            ),
            InvoiceLine(
                description="Livre ancien", quantity=1, unit_price_minor=1_000, vat_rate="5.5"
            ),
        ),
        issue_date=datetime(2026, 11, 1, tzinfo=UTC).date(),
        due_date=datetime(2026, 12, 1, tzinfo=UTC).date(),
        nature="goods",
    )
    book = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    register_invoice("F-ARCH-8", registration, book=book, now=datetime.now(UTC))
    due = registration.amount_due.amount_minor
    assert due == 2 * 4_000 * 120 // 100 + 1_055
    pay(moto_stack, "F-ARCH-8", amount=due)
    archive = receipt_item(moto_stack, "F-ARCH-8")["archive"]
    body = archived(moto_stack, archive)
    reader = PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Reliure cuir" in text and "Livre ancien" in text
    assert "Base HT" in text and "Total TTC" in text
    assert "5,5" in text and "20" in text
    assert "Facture soldée" in text
    (attached,) = reader.attachments["receipt.json"]
    lines = json.loads(attached)["line_items"]
    assert [line["description"] for line in lines] == ["Reliure cuir", "Livre ancien"]


def test_next_steps_from_the_gateway_s_metadata_are_printed_on_the_receipt(
    moto_stack: MotoStack,
) -> None:
    pay(
        moto_stack,
        "F-ARCH-9",
        amount=2_500,
        next_steps="Votre colis part demain par Colissimo.",
    )
    archive = receipt_item(moto_stack, "F-ARCH-9")["archive"]
    body = archived(moto_stack, archive)
    text = " ".join(pdf_text(body).split())
    assert "ET MAINTENANT" in text.upper()
    assert "Votre colis part demain par Colissimo." in text


def test_the_billing_address_the_gateway_gives_is_printed_on_the_receipt(
    moto_stack: MotoStack,
) -> None:
    pay(
        moto_stack,
        "F-ARCH-10",
        amount=3_000,
        address={
            "line1": "8 rue des Lilas",
            "line2": None,
            "postal_code": "69003",
            "city": "Lyon",
            "country": "FR",
        },
    )
    archive = receipt_item(moto_stack, "F-ARCH-10")["archive"]
    body = archived(moto_stack, archive)
    text = pdf_text(body)
    assert "8 rue des Lilas" in text and "69003 Lyon" in text
    # In the customers table the address is sealed, never in clear.
    items = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("CustomersTable"))
    assert "rue des Lilas" not in json.dumps(items, default=str)
