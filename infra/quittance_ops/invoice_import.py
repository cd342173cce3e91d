"""``quittance invoices import FILE.csv``: register invoices in bulk through the staff API.

One row per invoice line; rows sharing an invoice number make one invoice. Columns:
invoice_number, customer_reference, currency, issue_date, due_date, nature, description,
quantity, unit_price (decimal, e.g. 12.50), vat_rate (percent), cancelled (optional).

Optional customer columns, for reminders before the customer ever paid (sealed into the
customer's profile, never kept on the invoice): customer_provider (the gateway that knows
customer_reference: stripe, gocardless, standard), customer_name, customer_email,
customer_phone, customer_phone_region, customer_address, customer_locale, customer_timezone,
customer_segment (b2b, b2c), customer_channel (email, sms, both)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from babel.numbers import get_currency_precision

REQUIRED = (
    "invoice_number", "customer_reference", "currency", "issue_date", "due_date", "nature",
    "description", "quantity", "unit_price", "vat_rate",
)  # fmt: skip


HEADER = ("customer_reference", "currency", "issue_date", "due_date", "nature")
CUSTOMER_COLUMNS = (
    "provider", "name", "email", "phone", "phone_region", "address", "locale", "timezone",
    "segment", "channel",
)  # fmt: skip


def customer_contact(row: dict[str, str]) -> dict[str, str] | None:
    """The ``customer`` object of the staff API from a row's customer_* columns, if any."""
    given = {
        column: value.strip()
        for column in CUSTOMER_COLUMNS
        if (value := row.get(f"customer_{column}") or "").strip()
    }
    return given or None


@dataclass
class ImportReport:
    registered: list[str] = field(default_factory=list)
    errors: list[tuple[str, list[int], str]] = field(default_factory=list)
    """(invoice number, CSV line numbers, what was wrong)."""


@dataclass
class _Invoice:
    rows: list[int]
    header: dict[str, str]
    lines: list[dict[str, Any]]
    problems: list[str]


def read_invoices(path: Path) -> Iterator[tuple[str, _Invoice]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        invoices: dict[str, _Invoice] = {}
        for row in reader:
            line_no = reader.line_num
            number = (row["invoice_number"] or "").strip()
            invoice = invoices.setdefault(number, _Invoice([], row, [], []))
            invoice.rows.append(line_no)
            for key in (*HEADER, *(f"customer_{c}" for c in CUSTOMER_COLUMNS)):
                if row.get(key) != invoice.header.get(key):
                    invoice.problems.append(
                        f"line {line_no}: {key} differs from line {invoice.rows[0]}"
                    )
            try:
                precision = get_currency_precision(row["currency"].upper())
                price = Decimal(row["unit_price"]).scaleb(precision)
                if price != price.to_integral_value():
                    raise InvalidOperation
                invoice.lines.append(
                    {
                        "description": row["description"],
                        "quantity": row["quantity"],
                        "unit_price_minor": int(price),
                        "vat_rate": row["vat_rate"],
                    }
                )
            except (InvalidOperation, ValueError, KeyError):
                invoice.problems.append(
                    f"line {line_no}: unit_price {row['unit_price']!r} is not an amount"
                )
        yield from invoices.items()


def import_invoices(
    path: Path,
    put: Callable[[str, dict[str, Any]], tuple[int, Any]],
    progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    report = ImportReport()
    for number, invoice in read_invoices(path):
        if invoice.problems:
            report.errors.append((number, invoice.rows, "; ".join(invoice.problems)))
        else:
            header = invoice.header
            body: dict[str, Any] = {
                "customer_reference": header["customer_reference"],
                "currency": header["currency"],
                "lines": invoice.lines,
                "issue_date": header["issue_date"],
                "due_date": header["due_date"],
                "nature": header["nature"],
                "cancelled": (header.get("cancelled") or "").strip().lower()
                in {"1", "true", "yes"},
            }
            if contact := customer_contact(header):
                body["customer"] = contact
            status, answer = put(number, body)
            if status == 200:
                report.registered.append(number)
            else:
                report.errors.append((number, invoice.rows, _explain(status, answer)))
        progress(len(invoice.rows))
    return report


def _explain(status: int, answer: Any) -> str:
    if isinstance(answer, dict) and answer.get("fields"):
        return "; ".join(f"{'.'.join(map(str, f['loc']))}: {f['msg']}" for f in answer["fields"])
    if isinstance(answer, dict):
        return f"HTTP {status}: {answer.get('error') or answer.get('message')}"
    return f"HTTP {status}"
