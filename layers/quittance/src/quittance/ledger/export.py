"""The accounting export: one row per payment (receipt) and refund (credit note), the file an
accountant reconciles against the bank statement, with what France's B2C e-reporting asks of
each payment (VAT rate, taxable base, VAT amount, nature, collection date), as declared when
each document was issued (``vat_source``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta

from quittance.exports import BOOKS_PREFIX, export_key
from quittance.ledger.invoices import InvoiceRegistration
from quittance.ledger.model import ReceiptRecord
from quittance.ledger.taxation import Taxation, part_of
from quittance.models.money import Money

COLUMNS = (
    "collection_date", "document", "kind", "invoice_number", "invoice_registered",
    "original_receipt", "payment_id", "method", "amount", "currency", "status", "nature",
    "taxable_base", "vat_amount", "vat_breakdown", "vat_source", "anomalies",
)  # fmt: skip
MAX_DAYS = 366
BOOKS_EXPORT_PREFIX = BOOKS_PREFIX


def books_key(start: date, end: date, request_id: str, now: datetime) -> str:
    """``exports/books/<from>_<to>/<UTC time>-<request id>.csv``."""
    return export_key(
        f"{BOOKS_PREFIX}{start.isoformat()}_{end.isoformat()}", request_id, now, "csv"
    )


def days(start: date, end: date) -> Iterator[date]:
    if end < start:
        raise ValueError("the export ends before it starts")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"an export covers at most {MAX_DAYS} days")
    current = start
    while current <= end:
        yield current
        current += timedelta(days=1)


def _decimal(money: Money, sign: int = 1) -> str:
    return str(money.decimal * sign)


def _minor(amount_minor: int, currency: str, sign: int) -> str:
    return _decimal(Money(amount_minor=amount_minor, currency=currency), sign)


def declared(
    doc: ReceiptRecord, registration: InvoiceRegistration | None
) -> tuple[Taxation | None, str]:
    """What the document declares, and where that comes from: the document itself (fixed
    when it was issued), else the invoice's registration now (a document issued before its
    invoice was registered)."""
    if doc.taxation is not None:
        return doc.taxation, "document"
    if registration is None:
        return None, ""
    return part_of(registration.taxation(), doc.amount, registration.amount_due), "registration"


def export_rows(
    documents: Iterable[ReceiptRecord],
    *,
    registration_of: Callable[[str], InvoiceRegistration | None],
    anomalies_of: Callable[[str], frozenset[str]],
) -> Iterator[dict[str, str]]:
    for doc in documents:
        sign = -1 if doc.kind == "credit_note" else 1
        registration = registration_of(doc.invoice_number)
        taxation, source = declared(doc, registration)
        currency = doc.amount.currency
        breakdown = [
            f"{share.rate}%:{_minor(share.taxable_base_minor, currency, sign)}"
            f":{_minor(share.vat_minor, currency, sign)}"
            for share in (taxation.shares if taxation else ())
        ]
        flags = sorted(
            key.split("#", 1)[0]
            for key in anomalies_of(doc.invoice_number)
            if key.endswith(f"#{doc.payment_id}")
        )
        yield {
            "collection_date": doc.paid_at.date().isoformat(),
            "document": doc.receipt_number,
            "kind": doc.kind,
            "invoice_number": doc.invoice_number,
            "invoice_registered": "yes" if registration else "no",
            "original_receipt": doc.original_receipt_number or "",
            "payment_id": doc.payment_id,
            "method": doc.method.kind.value if doc.method else "",
            "amount": _decimal(doc.amount, sign),
            "currency": currency,
            "status": doc.invoice_status.value,
            "nature": taxation.nature if taxation else "",
            "taxable_base": _decimal(taxation.taxable_base, sign) if taxation else "",
            "vat_amount": _decimal(taxation.vat, sign) if taxation else "",
            "vat_breakdown": "|".join(breakdown),
            "vat_source": source,
            "anomalies": "|".join(flags),
        }


def to_csv(rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
