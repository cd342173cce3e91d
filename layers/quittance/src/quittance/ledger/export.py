"""The accounting export: one row per payment (receipt) and refund (credit note), the file an
accountant reconciles against the bank statement, with what France's B2C e-reporting asks of
each payment (VAT rate, taxable base, VAT amount, nature, collection date), as declared when
each document was issued (``vat_source``). :func:`export_books` is the whole staff request:
the period read, the rows written as CSV, the file put with its SHA-256 and handed over by a
short-lived link (a year of payments is more than Lambda's 6 MB response)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from quittance.errors import QuittanceError
from quittance.exports import BOOKS_PREFIX, export_key
from quittance.ledger.invoices import InvoiceRegistration
from quittance.ledger.model import InvoiceRecord, ReceiptRecord
from quittance.ledger.taxation import Taxation, part_of
from quittance.models.money import Money

COLUMNS = (
    "collection_date", "document", "kind", "invoice_number", "invoice_registered",
    "original_receipt", "payment_id", "method", "amount", "currency", "status", "nature",
    "taxable_base", "vat_amount", "vat_breakdown", "vat_source", "anomalies",
)  # fmt: skip
MAX_DAYS = 366
BOOKS_EXPORT_PREFIX = BOOKS_PREFIX
CSV_TYPE = "text/csv; charset=utf-8"
BOOKS_LINK_SECONDS = 15 * 60


class PeriodInvalid(QuittanceError):
    code = "invalid_period"


class FormatInvalid(QuittanceError):
    code = "invalid_format"


class BooksLedger(Protocol):
    def documents_on(self, day: date) -> list[ReceiptRecord]: ...

    def load(self, number: str) -> InvoiceRecord | None: ...

    def registration(self, number: str) -> InvoiceRegistration | None: ...


class BooksStore(Protocol):
    def put(self, key: str, body: bytes, sha256_hex: str, content_type: str) -> None: ...

    def presign_download(
        self, key: str, filename: str, seconds: int, content_type: str = ...
    ) -> str: ...


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


def export_books(
    query: Mapping[str, str],
    *,
    ledger: BooksLedger,
    store: BooksStore,
    request_id: str,
    now: datetime,
) -> dict[str, Any]:
    """``from``, ``to`` (ISO dates, at most MAX_DAYS) and ``format`` (csv) → the answer: the
    period, the row count, the file's size and SHA-256, and where to download it. Raises
    PeriodInvalid or FormatInvalid, having written nothing."""
    try:
        start = date.fromisoformat(query.get("from", ""))
        end = date.fromisoformat(query.get("to", ""))
        day_list = list(days(start, end))
    except ValueError as exc:
        raise PeriodInvalid(str(exc)) from None
    if query.get("format", "csv") != "csv":
        raise FormatInvalid("csv only")
    records: dict[str, InvoiceRecord | None] = {}

    def record(number: str) -> InvoiceRecord | None:
        if number not in records:
            records[number] = ledger.load(number)
        return records[number]

    def anomalies_of(number: str) -> frozenset[str]:
        found = record(number)
        return found.reported_anomalies if found else frozenset()

    documents = [doc for day in day_list for doc in ledger.documents_on(day)]
    body = to_csv(
        export_rows(documents, registration_of=ledger.registration, anomalies_of=anomalies_of)
    ).encode()
    digest = hashlib.sha256(body).hexdigest()
    key = books_key(start, end, request_id, now)
    store.put(key, body, digest, CSV_TYPE)
    url = store.presign_download(key, f"quittance-{start}-{end}.csv", BOOKS_LINK_SECONDS, CSV_TYPE)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "rows": len(documents),
        "size": len(body),
        "sha256": digest,
        "download_url": url,
        "expires_in": BOOKS_LINK_SECONDS,
    }
