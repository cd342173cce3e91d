"""The accounting export: one row per payment (receipt) and refund (credit note), the file an
accountant reconciles against the bank statement, with what France's B2C e-reporting asks of
each payment (VAT rate, taxable base, VAT amount, nature, collection date)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from quittance.ledger.invoices import InvoiceRegistration
from quittance.ledger.model import ReceiptRecord
from quittance.models.money import Money

COLUMNS = (
    "collection_date", "document", "kind", "invoice_number", "invoice_registered",
    "original_receipt", "payment_id", "method", "amount", "currency", "status", "nature",
    "taxable_base", "vat_amount", "vat_breakdown", "anomalies",
)  # fmt: skip
MAX_DAYS = 366


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


def _share(part: int, whole: int, value: int) -> int:
    if whole == 0:
        return 0
    return int((Decimal(value) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def export_rows(
    documents: Iterable[ReceiptRecord],
    *,
    registration_of: Callable[[str], InvoiceRegistration | None],
    anomalies_of: Callable[[str], frozenset[str]],
) -> Iterator[dict[str, str]]:
    for doc in documents:
        sign = -1 if doc.kind == "credit_note" else 1
        registration = registration_of(doc.invoice_number)
        base_total = vat_total = 0
        breakdown: list[str] = []
        if registration is not None and registration.currency == doc.amount.currency:
            due = registration.amount_due.amount_minor
            for rate, (base, vat) in sorted(registration.vat_breakdown().items()):
                base_part = _share(doc.amount.amount_minor, due, base)
                vat_part = _share(doc.amount.amount_minor, due, vat)
                base_total += base_part
                vat_total += vat_part
                money = Money(amount_minor=base_part, currency=doc.amount.currency)
                tax = Money(amount_minor=vat_part, currency=doc.amount.currency)
                breakdown.append(f"{rate}%:{_decimal(money, sign)}:{_decimal(tax, sign)}")
        currency = doc.amount.currency
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
            "nature": registration.nature if registration else "",
            "taxable_base": _decimal(Money(amount_minor=base_total, currency=currency), sign)
            if breakdown
            else "",
            "vat_amount": _decimal(Money(amount_minor=vat_total, currency=currency), sign)
            if breakdown
            else "",
            "vat_breakdown": "|".join(breakdown),
            "anomalies": "|".join(flags),
        }


def to_csv(rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
