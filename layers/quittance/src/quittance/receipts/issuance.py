"""Issue one numbered receipt: render it once, lock it in the archive, record where it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from quittance.archive.retention import Lock, RetentionPolicy, archive_key, lock_for
from quittance.errors import AlreadyExists
from quittance.models.messages import ReceiptJob
from quittance.receipts.document import ReceiptDocument, Seller
from quittance.receipts.render import ReceiptRenderer


class ArchivedLike(Protocol):
    def as_record(self) -> dict[str, Any]: ...


class Archive(Protocol):
    def put_once(
        self, key: str, body: bytes, lock: Lock, *, content_type: str, metadata: dict[str, str]
    ) -> ArchivedLike: ...

    def head(self, key: str, version_id: str | None = None) -> ArchivedLike: ...


class ReceiptLedger(Protocol):
    def receipt_item(self, number: str) -> dict[str, Any]: ...

    def record_archive(self, invoice_number: str, number: str, archive: dict[str, Any]) -> None: ...


class Profiles(Protocol):
    def profile(self, customer_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class IssuedReceipt:
    receipt_number: str
    archive: dict[str, Any]
    rendered_now: bool


def _status(invoice_status: str) -> str:
    return {"partially_paid": "partial", "overpaid": "overpaid", "refunded": "refunded"}.get(
        invoice_status, "paid"
    )


def issue_receipt(
    job: ReceiptJob,
    *,
    ledger: ReceiptLedger,
    profiles: Profiles,
    archive: Archive,
    renderer: ReceiptRenderer,
    policy: RetentionPolicy,
    seller: Seller,
    link_for: Callable[[str, datetime], str],
    now: datetime,
) -> IssuedReceipt:
    """``link_for(receipt_number, expires_at)`` builds the customer-page link of the QR code;
    it stays valid as long as the receipt is kept."""
    item = ledger.receipt_item(job.receipt_number)
    if item.get("archive"):
        # Re-issue is the archived original, byte for byte: never a new rendering.
        return IssuedReceipt(job.receipt_number, dict(item["archive"]), rendered_now=False)
    profile = profiles.profile(job.customer_id) or {}
    lock = lock_for(job.paid_at, policy, now)
    document = ReceiptDocument(
        receipt_number=job.receipt_number,
        kind=job.kind,
        original_receipt_number=job.original_receipt_number,
        invoice_number=job.invoice_number,
        issued_at=job.issued_at,
        paid_at=job.paid_at,
        locale="fr",  # the French document is the legal original that is archived
        tone="formal" if profile.get("segment") == "b2b" else "warm",
        seller=seller,
        customer_name=profile.get("name"),
        customer_address=profile.get("address"),
        amount=job.amount,
        status=_status(job.invoice_status),
        balance_due=job.balance_due,
        method=job.method,
        verify_url=link_for(job.receipt_number, lock.retain_until),
    )
    rendered = renderer.render(document)
    key = archive_key(job.receipt_number, document.issued_at)
    try:
        archived = archive.put_once(
            key,
            rendered.pdf,
            lock,
            content_type="application/pdf",
            metadata={"receipt-number": job.receipt_number, "sha256": rendered.sha256_hex},
        )
    except AlreadyExists:
        # An earlier attempt stored it and stopped before recording: keep that original.
        archived = archive.head(key)
    record = archived.as_record()
    try:
        ledger.record_archive(job.invoice_number, job.receipt_number, record)
    except AlreadyExists:
        record = dict(ledger.receipt_item(job.receipt_number)["archive"])
    return IssuedReceipt(job.receipt_number, record, rendered_now=True)
