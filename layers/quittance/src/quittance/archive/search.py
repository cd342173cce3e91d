"""Finding proofs: a staff query, each filter served by a key or an index, paged by an
opaque cursor (docs/compliance.md says which index serves which filter)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quittance.archive.ports import ReceiptFinder
from quittance.errors import QuittanceError
from quittance.ledger.model import StoredReceipt
from quittance.ledger.service import pseudonymous_customer_id

MAX_PAGE = 200
DEFAULT_PAGE = 50


class SearchRefused(QuittanceError):
    code = "search_invalid"


# ---------------------------------------------------------------------------- search
class ReceiptQuery(BaseModel):
    """Filters staff search by. One of the keys (receipt, invoice, payment, customer) or a
    date range picks the index; the others narrow what it returns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str | None = Field(default=None, max_length=64)
    invoice: str | None = Field(default=None, max_length=64)
    payment: str | None = Field(default=None, max_length=255)
    customer: str | None = Field(default=None, pattern=r"^C-[0-9a-f]{20}$")
    provider: str | None = Field(default=None, max_length=32)
    reference: str | None = Field(default=None, max_length=255)
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")
    method: str | None = Field(default=None, max_length=32)
    status: str | None = Field(default=None, max_length=32)
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="after")
    def _usable(self) -> ReceiptQuery:
        if (self.provider is None) != (self.reference is None):
            raise ValueError("a customer reference needs its provider (provider and reference)")
        if (self.date_from is None) != (self.date_to is None):
            raise ValueError("a date range needs both from and to")
        if self.date_from and self.date_to:
            if self.date_to < self.date_from:
                raise ValueError("to is before from")
            if (self.date_to - self.date_from).days > 366:
                raise ValueError("a date range spans at most 366 days")
        keyed = (self.receipt, self.invoice, self.payment, self.customer, self.reference)
        if not any(keyed) and self.date_from is None:
            raise ValueError(
                "give a receipt, invoice, payment id, customer (or provider and reference), "
                "or a date range (from, to); method and status narrow one of those"
            )
        return self

    @property
    def customer_id(self) -> str | None:
        if self.customer:
            return self.customer
        if self.provider and self.reference:
            return pseudonymous_customer_id(self.provider, self.reference)
        return None

    def served_by(self) -> str:
        if self.receipt:
            return "gsi1 RCPT#<number>"
        if self.payment:
            return "gsi1 PAY#<payment id>, then table key INV#<invoice>"
        if self.invoice:
            return "table key INV#<invoice> / RCPT#"
        if self.customer_id:
            return "gsi3 CUST#<customer id>, then table key INV#<invoice>"
        return "gsi2 DAY#<date>"

    def keeps(self, doc: StoredReceipt) -> bool:
        record = doc.record
        paid = record.paid_at.astimezone(UTC).date()
        method = record.method.kind.value if record.method else None
        return (
            (self.invoice is None or record.invoice_number == self.invoice)
            and (self.payment is None or record.payment_id == self.payment)
            and (self.customer_id is None or record.customer_id == self.customer_id)
            and (self.date_from is None or self.date_from <= paid)
            and (self.date_to is None or paid <= self.date_to)
            and (self.method is None or method == self.method)
            and (self.status is None or record.invoice_status.value == self.status)
        )


def hit(doc: StoredReceipt) -> dict[str, Any]:
    record = doc.record
    data = record.model_dump(mode="json")
    archive = doc.archive.as_record() if doc.archive else None
    return {
        "receipt_number": record.receipt_number,
        "kind": record.kind,
        "invoice_number": record.invoice_number,
        "payment_id": record.payment_id,
        "customer_id": record.customer_id,
        "amount": data["amount"],
        "method": record.method.kind.value if record.method else None,
        "status": record.invoice_status.value,
        "paid_at": data["paid_at"],
        "issued_at": data["issued_at"],
        "archived": bool(archive),
        "archive": archive or None,
    }


def encode_cursor(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise SearchRefused("cursor is not one this API gave") from None
    if not isinstance(value, dict):
        raise SearchRefused("cursor is not one this API gave")
    return value


def search(index: ReceiptFinder, query: ReceiptQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of hits and the cursor of the next page (None at the end)."""
    cursor = decode_cursor(query.cursor)
    if any((query.receipt, query.payment, query.invoice, query.customer_id)):
        # Keyed searches return one invoice's or one customer's documents: a short list,
        # paged by position.
        if query.receipt:
            docs = [d for d in index.by_number(query.receipt) if query.keeps(d)]
        elif query.payment:
            docs = [d for d in index.by_payment(query.payment) if query.keeps(d)]
        elif query.invoice:
            docs = [d for d in index.by_invoice(query.invoice) if query.keeps(d)]
        else:
            docs = [d for d in index.by_customer(str(query.customer_id)) if query.keeps(d)]
        offset = int(cursor.get("offset", 0))
        page = docs[offset : offset + query.limit]
        more = offset + query.limit < len(docs)
        return [hit(d) for d in page], encode_cursor(
            {"offset": offset + query.limit}
        ) if more else None
    assert query.date_from and query.date_to
    day = date.fromisoformat(cursor["day"]) if "day" in cursor else query.date_from
    start: dict[str, Any] | None = cursor.get("start")
    found: list[dict[str, Any]] = []
    while day <= query.date_to:
        # Whole index pages only, so that the cursor (day, last key) resumes exactly.
        docs, start = index.day_page(day, query.limit - len(found), start)
        found.extend(hit(d) for d in docs if query.keeps(d))
        if not start:
            day += timedelta(days=1)
        if len(found) >= query.limit:
            break
    if day > query.date_to:
        return found, None
    return found, encode_cursor({"day": day.isoformat(), **({"start": start} if start else {})})
