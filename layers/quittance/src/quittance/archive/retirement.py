"""When an invoice's ledger records may leave the books for good.

The ledger is the accounting record behind every proof (Code de commerce L123-22): it stays
as long as its proofs do. An invoice is *retired* — its whole item collection deleted, by
staff with their own credentials — only when both hold:

- every proof it produced (each receipt and credit note, original and translations) is gone
  from the Object Lock archive: disposed of at the end of its retention, which S3 allowed
  only once the retain-until date passed and no legal hold was set;
- the retention of its newest activity is over: ten years after the end of the fiscal year
  of its latest event or document (the same rule as the archive's lock), and never sooner
  than the archive's minimum retention after it. An invoice that only ever saw failed
  payments, or was registered and never paid, has no proof to wait for, but waits the same
  time.

Invoices are found by the UTC day of their newest activity (``ACT#<day>`` on ``gsi2``, moved
forward by every event and registration), so the books of a year are the invoices last
touched that year.

Series counters (``SERIES#…``) are not part of any invoice and are kept: they show that the
numbering continued."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from quittance.archive.retention import RetentionPolicy, fiscal_year_end

# One DynamoDB transaction deletes an invoice's items all at once, or none of them.
MAX_ITEMS = 100


def retention_over_at(last_activity: datetime, policy: RetentionPolicy) -> datetime:
    """The moment the records of an activity at ``last_activity`` may go."""
    floor = last_activity + timedelta(days=policy.minimum_days)
    if policy.legal_years == 0:
        return floor
    end = fiscal_year_end(last_activity, policy.fiscal_year_end_month, policy.fiscal_timezone)
    return max(end.replace(year=end.year + policy.legal_years), floor)


def year_closes_at(year: int, policy: RetentionPolicy) -> datetime:
    """When the retention of the last activity a UTC year can hold is over: from then on, a
    run for that year finds every invoice last active in it retirable (proofs permitting)."""
    last_instant = datetime(year + 1, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
    return retention_over_at(last_instant, policy)


# The legal record of an invoice; its message log and reminder steps expire by TTL.
LEGAL_RECORDS = ("#INVOICE", "EVT#", "RCPT#", "ANOM#", "PAY#")


@dataclass(frozen=True)
class LedgerCollection:
    """An invoice's items as stored, and which of its proofs the archive still holds."""

    invoice: str
    items: tuple[Mapping[str, Any], ...]
    archived: Mapping[str, int]
    """Per document number, how many archived versions (original, translations) remain."""

    @property
    def documents(self) -> tuple[str, ...]:
        return tuple(
            sorted(
                str(i["sk"]).removeprefix("RCPT#")
                for i in self.items
                if str(i["sk"]).startswith("RCPT#")
            )
        )

    @property
    def version(self) -> int | None:
        invoice = next((i for i in self.items if i["sk"] == "#INVOICE"), None)
        return int(invoice["version"]) if invoice else None

    def last_activity(self) -> datetime | None:
        """The newest time any event happened or any document was issued on the invoice."""
        times: list[datetime] = []
        for item in self.items:
            kind = item.get("type")
            if kind == "event":
                times.append(_utc(str(item["sk"]).split("#")[1]))
                if item.get("recorded_at"):
                    times.append(_utc(str(item["recorded_at"])))
            elif kind in {"receipt", "credit_note"}:
                times.append(_utc(str(item["created_at"])))
            elif item["sk"] == "#INVOICE":
                times += [
                    _utc(str(item[k])) for k in ("activity_at", "registered_at") if item.get(k)
                ]
        return max(times, default=None)


@dataclass(frozen=True)
class Verdict:
    invoice: str
    retirable: bool
    reasons: tuple[str, ...]
    documents: tuple[str, ...]
    sort_keys: tuple[str, ...]
    version: int | None
    last_activity: datetime | None
    retention_over_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "invoice": self.invoice,
            "retirable": self.retirable,
            "reasons": list(self.reasons),
            "documents": list(self.documents),
            "items": len(self.sort_keys),
            "sort_keys": list(self.sort_keys),
            "version": self.version,
            "last_activity": self.last_activity.isoformat() if self.last_activity else None,
            "retention_over_at": (
                self.retention_over_at.isoformat() if self.retention_over_at else None
            ),
        }


def judge(collection: LedgerCollection, policy: RetentionPolicy, now: datetime) -> Verdict:
    """Whether the invoice may be retired at ``now``, and if not, every reason why."""
    reasons: list[str] = []
    last = collection.last_activity()
    over_at = retention_over_at(last, policy) if last else None
    if over_at is not None and over_at > now:
        reasons.append(f"retained until {_minute(over_at)} (last activity {_minute(last)})")
    for number, versions in sorted(collection.archived.items()):
        if versions:
            reasons.append(f"{number}: {versions} archived version(s) still kept")
    sort_keys = tuple(sorted(str(i["sk"]) for i in collection.items))
    if len(sort_keys) > MAX_ITEMS:
        reasons.append(f"{len(sort_keys)} items: more than one transaction can delete")
    if not sort_keys:
        reasons.append("nothing left in the ledger (already retired)")
    return Verdict(
        invoice=collection.invoice,
        retirable=not reasons,
        reasons=tuple(reasons),
        documents=collection.documents,
        sort_keys=sort_keys,
        version=collection.version,
        last_activity=last,
        retention_over_at=over_at,
    )


def invoices_in(numbers: Iterable[str]) -> list[str]:
    """Invoice numbers in first-seen order, each once."""
    return list(dict.fromkeys(numbers))


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"naive time in the ledger: {value}")
    return parsed


def _minute(at: datetime | None) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else "unknown"
