"""Issue one numbered receipt: render it once, lock it in the archive, record where it is;
then say which notice the customer gets about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from quittance.archive.retention import Lock, RetentionPolicy, archive_key, lock_for
from quittance.errors import AlreadyExists
from quittance.ledger.invoices import InvoiceRegistration
from quittance.models.customer import CustomerProfile
from quittance.models.messages import (
    AnomalyNoticeJob,
    NotificationJob,
    PartialPaymentJob,
    PaymentConfirmedJob,
    ReceiptJob,
    RefundIssuedJob,
)
from quittance.models.money import Money
from quittance.receipts.document import LineItem, ReceiptDocument, Seller
from quittance.receipts.render import ReceiptRenderer


class ArchivedLike(Protocol):
    def as_record(self) -> dict[str, Any]: ...


class Archive(Protocol):
    def put_once(
        self, key: str, body: bytes, lock: Lock, *, content_type: str, metadata: dict[str, str]
    ) -> ArchivedLike: ...

    def head(self, key: str, version_id: str | None = None) -> ArchivedLike: ...


class ReceiptLedger(Protocol):
    def receipt_item(self, number: str, invoice_number: str | None = None) -> dict[str, Any]: ...

    def registration(self, number: str) -> InvoiceRegistration | None: ...

    def record_archive(self, invoice_number: str, number: str, archive: dict[str, Any]) -> None: ...

    def record_translation(
        self, invoice_number: str, number: str, archive: dict[str, Any]
    ) -> None: ...


class Profiles(Protocol):
    def profile(self, customer_id: str) -> CustomerProfile | None: ...


class Sellers(Protocol):
    """The seller documents are issued in the name of (quittance.receipts.sellers)."""

    def current(self) -> Seller:
        """The stage's current seller; raises SellerProfileRefused when none may issue."""
        ...

    def at_version(self, version: int) -> Seller:
        """The seller as of a profile version an earlier document was issued under."""
        ...


@dataclass(frozen=True)
class IssuancePorts:
    """Where a receipt's inputs come from and where it goes: the ledger's receipt record,
    the customer's profile (their language), the seller it is issued under, the archive."""

    ledger: ReceiptLedger
    profiles: Profiles
    sellers: Sellers
    archive: Archive


@dataclass(frozen=True)
class IssuedReceipt:
    receipt_number: str
    archive: dict[str, Any]
    rendered_now: bool
    translation: dict[str, Any] | None = None


def _status(invoice_status: str) -> str:
    return {"partially_paid": "partial", "overpaid": "overpaid", "refunded": "refunded"}.get(
        invoice_status, "paid"
    )


def copy_language(profile_locale: object) -> str | None:
    """The language of the customer's copy beside the French original, if they need one.

    French speakers read the original; every other locale gets the English translation
    (English is the fallback for languages we do not render)."""
    if not isinstance(profile_locale, str) or not profile_locale.strip():
        return None
    return None if profile_locale.strip().lower()[:2] == "fr" else "en"


def issue_receipt(
    job: ReceiptJob,
    ports: IssuancePorts,
    *,
    renderer: ReceiptRenderer,
    policy: RetentionPolicy,
    link_for: Callable[[str, datetime], str],
    now: datetime,
) -> IssuedReceipt:
    """Archive the French original once and, for a customer who reads another language, an
    English copy marked as a translation, with the same number, beside it.

    ``link_for(receipt_number, expires_at)`` builds the customer-page link of the QR code;
    it stays valid as long as the receipt is kept. A job that comes back finds what an
    earlier attempt archived and never renders over it."""
    ledger, archive, sellers = ports.ledger, ports.archive, ports.sellers
    profiles = ports.profiles
    item = ledger.receipt_item(job.receipt_number, job.invoice_number)
    profile = profiles.profile(job.customer_id) or CustomerProfile()
    language = copy_language(profile.locale)
    original = dict(item["archive"]) if item.get("archive") else None
    translation = dict(item["translation"]) if item.get("translation") else None
    if original and (language is None or translation):
        # Re-issue is the archived original, byte for byte: never a new rendering.
        return IssuedReceipt(job.receipt_number, original, False, translation)
    lock = lock_for(job.paid_at, policy, now)
    # A copy of a receipt archived earlier is issued under the profile the original was
    # (recorded with it), never under the one set since.
    pinned = original.get("seller_profile_version") if original else None
    seller = sellers.at_version(int(pinned)) if pinned else sellers.current()
    document = ReceiptDocument(
        receipt_number=job.receipt_number,
        kind=job.kind,
        original_receipt_number=job.original_receipt_number,
        invoice_number=job.invoice_number,
        issued_at=job.issued_at,
        paid_at=job.paid_at,
        locale="fr",  # the French document is the legal original that is archived
        tone=profile.tone,
        seller=seller,
        customer_name=profile.name,
        customer_address=profile.address,
        amount=job.amount,
        status=_status(job.invoice_status),
        balance_due=job.balance_due,
        method=job.method,
        next_steps=job.next_steps,
        line_items=_line_items(job, ledger.registration(job.invoice_number)),
        verify_url=link_for(job.receipt_number, lock.retain_until),
    )
    if original is None:
        original = _archive_once(
            document,
            "",
            archive=archive,
            renderer=renderer,
            lock=lock,
            calendar=policy.fiscal_timezone,
        )
        try:
            ledger.record_archive(job.invoice_number, job.receipt_number, original)
        except AlreadyExists:
            original = dict(ledger.receipt_item(job.receipt_number, job.invoice_number)["archive"])
    if language is not None and translation is None:
        copy = ReceiptDocument.model_validate(
            {**document.model_dump(), "locale": language, "is_translation": True}
        )
        translation = _archive_once(
            copy,
            f".{language}",
            archive=archive,
            renderer=renderer,
            lock=lock,
            calendar=policy.fiscal_timezone,
        )
        try:
            ledger.record_translation(job.invoice_number, job.receipt_number, translation)
        except AlreadyExists:
            translation = dict(
                ledger.receipt_item(job.receipt_number, job.invoice_number)["translation"]
            )
    return IssuedReceipt(job.receipt_number, original, True, translation)


def notification_for(job: ReceiptJob) -> NotificationJob:
    """What the customer hears once the document is archived: a refund, a confirmation, or,
    when the payment raised an anomaly, a notice that never reads "paid in full"."""
    same: dict[str, Any] = {
        "correlation_id": job.correlation_id,
        "customer_id": job.customer_id,
        "receipt_number": job.receipt_number,
        "invoice_number": job.invoice_number,
        "amount": job.amount,
        "method": job.method,
    }
    if job.kind == "credit_note":
        return RefundIssuedJob(
            **same,
            kind="refund_issued",
            change_id=f"{job.receipt_number}:refund_issued",
            original_receipt_number=job.original_receipt_number,
            refunded_at=job.paid_at,
        )
    if job.anomaly == "partial_payment":
        # One clear message with the balance and how to pay it, not a generic notice.
        return PartialPaymentJob(
            **same,
            kind="partial_payment",
            change_id=f"{job.receipt_number}:partial_payment",
            paid_at=job.paid_at,
            balance_due=job.balance_due,
        )
    if job.anomaly:
        return AnomalyNoticeJob(
            **same,
            kind="anomaly_notice",
            change_id=f"{job.receipt_number}:anomaly_notice",
            paid_at=job.paid_at,
            anomaly=job.anomaly,
            difference=job.balance_due,
        )
    return PaymentConfirmedJob(
        **same,
        kind="payment_confirmed",
        change_id=f"{job.receipt_number}:payment_confirmed",
        paid_at=job.paid_at,
    )


def _line_items(job: ReceiptJob, registration: InvoiceRegistration | None) -> tuple[LineItem, ...]:
    """The registered invoice's lines, for the VAT breakdown of a receipt. A credit note, a
    gateway-only invoice, or a payment in another currency than the invoice's has none."""
    if (
        job.kind != "receipt"
        or registration is None
        or registration.currency != job.amount.currency
    ):
        return ()
    return tuple(
        LineItem(
            description=line.description,
            quantity=line.quantity,
            unit_price=Money(amount_minor=line.unit_price_minor, currency=registration.currency),
            vat_rate=line.vat_rate,
        )
        for line in registration.lines
    )


def _archive_once(
    document: ReceiptDocument,
    suffix: str,
    *,
    archive: Archive,
    renderer: ReceiptRenderer,
    lock: Lock,
    calendar: str,
) -> dict[str, Any]:
    rendered = renderer.render(document)
    key = archive_key(document.receipt_number, document.issued_at, suffix, calendar)
    metadata = {"receipt-number": document.receipt_number, "sha256": rendered.sha256_hex}
    if document.is_translation:
        metadata["translation-of"] = archive_key(
            document.receipt_number, document.issued_at, calendar=calendar
        )
    try:
        archived = archive.put_once(
            key, rendered.pdf, lock, content_type="application/pdf", metadata=metadata
        )
    except AlreadyExists:
        # An earlier attempt stored it and stopped before recording: keep that copy.
        archived = archive.head(key)
    record = archived.as_record()
    if document.seller.profile_version is not None:
        record["seller_profile_version"] = document.seller.profile_version
    return record
