"""Ledger records: what the ledger keeps for an invoice, and the documents it numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from quittance.ledger.state import InvoiceStatus, InvoiceTerms
from quittance.ledger.taxation import Taxation
from quittance.models.events import PaymentEvent, PaymentMethod, UtcDateTime
from quittance.models.money import Money

__all__ = [
    "ArchivedCopy",
    "DocumentKind",
    "DocumentStatus",
    "InvoiceRecord",
    "InvoiceStatus",
    "InvoiceSummary",
    "ReceiptRecord",
    "StoredReceipt",
    "document_status",
    "receipt_number",
]

DocumentKind = Literal["receipt", "credit_note"]

SERIES: dict[DocumentKind, str] = {"receipt": "R", "credit_note": "AV"}

DocumentStatus = Literal["paid", "partial", "overpaid", "refunded"]
_STATED: dict[str, DocumentStatus] = {
    "partially_paid": "partial",
    "overpaid": "overpaid",
    "refunded": "refunded",
}


def document_status(invoice_status: str) -> DocumentStatus:
    """What a document states about its invoice: a partial payment, an overpayment, a refund,
    else paid (the receipt PDF and the customer's page say the same)."""
    return _STATED.get(invoice_status, "paid")


class ReceiptRecord(BaseModel):
    """A numbered document: a receipt for a payment, or a credit note (avoir) for a refund."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receipt_number: str
    kind: DocumentKind = "receipt"
    invoice_number: str
    payment_id: str
    refund_id: str | None = None
    original_receipt_number: str | None = None
    customer_id: str
    amount: Money
    method: PaymentMethod | None = None
    balance_due: Money
    """Partial payment: what remains; overpayment: the excess to return; otherwise zero."""
    invoice_status: InvoiceStatus
    """What this document states: paid, partially_paid, overpaid, or refunded (credit note)."""
    paid_at: UtcDateTime
    issued_at: UtcDateTime
    next_steps: str | None = None
    taxation: Taxation | None = None
    """What this document declares for e-reporting, as registered when it was issued; None
    for a gateway-only invoice, or one registered only after the document was issued."""


class ArchivedCopy(BaseModel):
    """Where a document's PDF is locked in the archive, as recorded on its ledger item (the
    original under ``archive``, the customer's translated copy under ``translation``)."""

    # Unknown attributes an older writer recorded are kept, and given back by as_record().
    model_config = ConfigDict(frozen=True, extra="allow")

    key: str
    version_id: str
    sha256_hex: str | None = None
    size: int | None = None
    lock_mode: str | None = None
    retain_until: str | None = None
    seller_profile_version: int | None = None
    """The seller profile the document was issued under: its copies are issued under it too."""

    def as_record(self) -> dict[str, Any]:
        """The record as it was written (fields it was written without stay absent)."""
        return self.model_dump(exclude_unset=True)


class StoredReceipt(BaseModel):
    """A numbered document as the ledger stores it: the record, and where its archived
    original and translation are once issuance has locked them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record: ReceiptRecord
    archive: ArchivedCopy | None = None
    translation: ArchivedCopy | None = None
    stored: dict[str, Any] = {}
    """The item's other attributes as the table holds them (its keys, type, creation time):
    shown to staff and kept in an evidence bundle, never read by a rule."""

    def as_item(self) -> dict[str, Any]:
        """The stored item as staff see it: the attributes, the record as JSON, the copies."""
        item = {**self.stored, "data": self.record.model_dump(mode="json")}
        for name, copy in (("archive", self.archive), ("translation", self.translation)):
            if copy is not None:
                item[name] = copy.as_record()
        return item


class InvoiceSummary(BaseModel):
    """The invoice as last derived, kept on the invoice item for reads and exports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    status: InvoiceStatus
    amount_due: Money
    amount_paid: Money
    """Received and kept: refunds and lost chargebacks deducted."""
    refunded: Money
    balance_due: Money
    registered: bool
    customer_id: str | None


class InvoiceRecord(BaseModel):
    """Everything the ledger holds for one invoice, as read in one query."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    number: str
    version: int
    registered_terms: InvoiceTerms | None
    registered_taxation: Taxation | None = None
    """The registered invoice's nature and VAT per rate, as registered now."""
    customer_id: str | None
    events: tuple[PaymentEvent, ...]
    documents: tuple[ReceiptRecord, ...]
    reported_anomalies: frozenset[str]
    outcomes: dict[str, list[str]]
    """Per event id: the document numbers and anomaly keys that event produced."""
    activity_at: UtcDateTime | None = None
    """The newest activity recorded on the invoice (event, document or registration)."""

    def newest_activity(self, *times: datetime) -> datetime:
        """The latest of ``times`` and of everything already on the invoice."""
        known = [*times, *(e.occurred_at for e in self.events)]
        known += [d.issued_at for d in self.documents]
        if self.activity_at is not None:
            known.append(self.activity_at)
        return max(known)

    @property
    def receipted(self) -> tuple[str, ...]:
        """Payment ids with a receipt, in the order the receipts were issued."""
        receipts = sorted(
            (d for d in self.documents if d.kind == "receipt"),
            key=lambda d: (d.issued_at, d.receipt_number),
        )
        return tuple(d.payment_id for d in receipts)

    def receipt_for(self, payment_id: str) -> ReceiptRecord | None:
        return next(
            (d for d in self.documents if d.kind == "receipt" and d.payment_id == payment_id),
            None,
        )

    def credit_note_for(self, refund_id: str) -> ReceiptRecord | None:
        return next(
            (d for d in self.documents if d.kind == "credit_note" and d.refund_id == refund_id),
            None,
        )


def receipt_number(series: str, year: int, sequence: int) -> str:
    """``R-2026-000042``: one gap-free, chronological sequence per series and year."""
    return f"{series}-{year}-{sequence:06d}"
