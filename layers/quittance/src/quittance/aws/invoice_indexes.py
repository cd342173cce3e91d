"""The sparse index keys the ``#INVOICE`` item carries, set by every write that changes it
(a committed event, a registration): its customer (gsi3), its newest activity (gsi2) and,
while it waits for money, its due month (gsi4)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from quittance.ledger.service import Commit
from quittance.ledger.state import OPEN_STATUSES, InvoiceStatus


def view_due(commit: Commit) -> date | None:
    return commit.view.terms.due_date if commit.view.terms.registered else None


def open_index(number: str, status: InvoiceStatus, due: date | None, values: dict[str, Any]) -> str:
    """SET the sparse open-invoice keys while the invoice waits for money, else REMOVE them."""
    if due is not None and status in OPEN_STATUSES:
        values[":open_pk"] = f"OPEN#{due:%Y-%m}"
        values[":open_sk"] = f"{due.isoformat()}#{number}"
        return ", gsi4pk = :open_pk, gsi4sk = :open_sk"
    return " REMOVE gsi4pk, gsi4sk"


def customer_index(number: str, customer_id: str | None, values: dict[str, Any]) -> str:
    """SET the invoice's customer and its gsi3 keys unless it already has one."""
    if customer_id is None:
        return ""
    values[":customer"] = customer_id
    values[":customer_key"] = f"CUST#{customer_id}"
    values[":number"] = number
    return (
        ", customer_id = if_not_exists(customer_id, :customer),"
        " gsi3pk = if_not_exists(gsi3pk, :customer_key), gsi3sk = :number"
    )


def activity_index(number: str, at: datetime, values: dict[str, Any]) -> str:
    """The invoice under the UTC day of its newest activity (gsi2, ``ACT#<day>``): the books of
    a year are found by the day they were last touched, for their retirement."""
    values[":activity_at"] = at.isoformat()
    values[":activity_pk"] = f"ACT#{at.astimezone(UTC).date().isoformat()}"
    values[":activity_sk"] = number
    return ", activity_at = :activity_at, gsi2pk = :activity_pk, gsi2sk = :activity_sk"
