"""How long a receipt must be kept, and under which lock.

Code de commerce L123-22: accounting documents are kept ten years, counted from the end of
the fiscal year they belong to. The bucket's default retention is the floor for any object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from quittance.settings import RetentionMode


@dataclass(frozen=True)
class RetentionPolicy:
    mode: RetentionMode
    minimum_days: int
    legal_years: int
    fiscal_year_end_month: int = 12
    fiscal_timezone: str = "Europe/Paris"


@dataclass(frozen=True)
class Lock:
    mode: RetentionMode
    retain_until: datetime


def fiscal_year_end(at: datetime, end_month: int, timezone: str = "Europe/Paris") -> datetime:
    """Midnight UTC after the fiscal year that contains ``at``.

    The year is read on the company's own calendar (00:30 on 1 January in Paris belongs to
    the new year); the boundary is given at UTC midnight, an hour or two after local midnight,
    which only ever keeps a receipt slightly longer."""
    at = at.astimezone(ZoneInfo(timezone))
    year = at.year if at.month <= end_month else at.year + 1
    if end_month == 12:
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    return datetime(year, end_month + 1, 1, tzinfo=UTC)


def lock_for(paid_at: datetime, policy: RetentionPolicy, now: datetime) -> Lock:
    floor = now + timedelta(days=policy.minimum_days)
    if policy.legal_years == 0:
        return Lock(policy.mode, floor)
    end = fiscal_year_end(paid_at, policy.fiscal_year_end_month, policy.fiscal_timezone)
    legal = end.replace(year=end.year + policy.legal_years)
    return Lock(policy.mode, max(legal, floor))


def archive_key(
    receipt_number: str, issued_at: datetime, suffix: str = "", calendar: str = "Europe/Paris"
) -> str:
    """``receipts/2026/11/R-2026-000042.pdf`` (``suffix`` e.g. ``.en`` for a translation).

    Year and month are read on the business's calendar, as the receipt's series year is, so
    R-2027-000001 issued at 00:30 on 1 January in Paris sits under ``receipts/2027/01/``."""
    issued = issued_at.astimezone(ZoneInfo(calendar))
    return f"receipts/{issued:%Y}/{issued:%m}/{receipt_number}{suffix}.pdf"
