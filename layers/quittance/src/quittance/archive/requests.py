"""What staff send the compliance desk, validated before the desk acts: the bodies of a hold,
a resend, a disposal and a retirement report, and the query strings of the audit search, the
expiring list, the retirable list and the year export."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quittance.archive.search import (
    SearchRefused,
    decode_cursor,
)


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=3, max_length=500)
    case: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/#-]+$")


class ResendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    email: str | None = Field(default=None, max_length=254)


class DisposalRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^receipts/\d{4}/\d{2}/[A-Za-z0-9-]+(\.[a-z]{2})?\.pdf$")
    version_id: str = Field(min_length=1, max_length=1024)
    sha256_hex: str = Field(pattern=r"^[0-9a-f]{64}$")
    retain_until: str


class DisposalReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=3, max_length=500)
    items: tuple[DisposalRecord, ...] = Field(min_length=1, max_length=100)


class RetiredInvoice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    invoice: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:-]*$")
    documents: tuple[Annotated[str, Field(pattern=r"^(R|AV)-\d{4}-\d{6}$")], ...] = Field(
        max_length=100
    )
    items: int = Field(ge=1, le=100)


class RetirementReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=3, max_length=500)
    year: int = Field(ge=2000, le=2200)
    invoices: tuple[RetiredInvoice, ...] = Field(min_length=1, max_length=100)

    @field_validator("invoices")
    @classmethod
    def _each_once(cls, invoices: tuple[RetiredInvoice, ...]) -> tuple[RetiredInvoice, ...]:
        numbers = [i.invoice for i in invoices]
        if len(set(numbers)) != len(numbers):
            raise ValueError("each invoice once")
        return invoices


# -------------------------------------------------------------------- query strings


def _when(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise SearchRefused(f"{name}: not an ISO date or date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SearchRefused(f"{name}: not a whole number") from None
    if not low <= number <= high:
        raise SearchRefused(f"{name}: between {low} and {high}")
    return number


def audit_query(params: dict[str, str]) -> dict[str, Any]:
    """``actor``, ``receipt`` (any target), ``action``, ``since``, ``until``, ``limit``,
    ``cursor`` → keyword arguments of ``AuditTrail.search``."""
    unknown = set(params) - {"actor", "receipt", "action", "since", "until", "limit", "cursor"}
    if unknown:
        raise SearchRefused(f"unknown filters: {', '.join(sorted(unknown))}")
    return {
        "actor": params.get("actor"),
        "target": params.get("receipt"),
        "action": params.get("action"),
        "since": _when(params["since"], "since") if params.get("since") else None,
        "until": _when(params["until"], "until") if params.get("until") else None,
        "limit": _int(params.get("limit", "100"), "limit", 1, 1000),
        "cursor": decode_cursor(params.get("cursor")) or None,
    }


def expiring_query(params: dict[str, str]) -> dict[str, Any]:
    if not params.get("before"):
        raise SearchRefused("before: required (YYYY-MM-DD)")
    year = params.get("year")
    return {
        "before": _when(params["before"], "before"),
        "prefix": f"receipts/{_int(year, 'year', 2000, 2200)}/" if year else "receipts/",
        "limit": _int(params.get("limit", "200"), "limit", 1, 1000),
    }


def retirable_query(params: dict[str, str]) -> dict[str, Any]:
    unknown = set(params) - {"year", "cursor", "limit"}
    if unknown:
        raise SearchRefused(f"unknown filters: {', '.join(sorted(unknown))}")
    year = _int(params.get("year", ""), "year", 2000, 2200)
    cursor = decode_cursor(params.get("cursor"))
    day = _when(str(cursor["day"]), "cursor").date() if cursor.get("day") else None
    after = cursor.get("after")
    if cursor and (day is None or day.year != year or not _activity_key(after, day)):
        raise SearchRefused(f"cursor is not one this API gave for {year}")
    return {
        "year": year,
        "day": day,
        "after": after,
        "limit": _int(params.get("limit", "100"), "limit", 1, 100),
    }


def _activity_key(after: Any, day: date) -> bool:
    """None, or an index key of the activity day ``day`` as DynamoDB returned it."""
    if after is None:
        return True
    if not isinstance(after, dict) or set(after) != {"pk", "sk", "gsi2pk", "gsi2sk"}:
        return False
    if not all(isinstance(v, dict) and set(v) == {"S"} for v in after.values()):
        return False
    return bool(after["gsi2pk"]["S"] == f"ACT#{day.isoformat()}" and after["sk"]["S"] == "#INVOICE")


def export_query(params: dict[str, str]) -> dict[str, Any]:
    return {
        "year": _int(params.get("year", ""), "year", 2000, 2200),
        "cursor": params.get("cursor") or None,
        "limit": _int(params.get("limit", "100"), "limit", 1, 200),
    }
