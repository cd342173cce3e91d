"""How long a receipt must be kept, and under which lock.

Code de commerce L123-22: accounting documents are kept ten years, counted from the end of
the fiscal year they belong to. The bucket's default retention is the floor for any object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quittance.settings import RetentionMode


@dataclass(frozen=True)
class RetentionPolicy:
    mode: RetentionMode
    minimum_days: int
    legal_years: int
    fiscal_year_end_month: int = 12


@dataclass(frozen=True)
class Lock:
    mode: RetentionMode
    retain_until: datetime


def fiscal_year_end(at: datetime, end_month: int) -> datetime:
    """First instant after the fiscal year that contains ``at`` (UTC)."""
    at = at.astimezone(UTC)
    year = at.year if at.month <= end_month else at.year + 1
    if end_month == 12:
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    return datetime(year, end_month + 1, 1, tzinfo=UTC)


def lock_for(paid_at: datetime, policy: RetentionPolicy, now: datetime) -> Lock:
    floor = now + timedelta(days=policy.minimum_days)
    if policy.legal_years == 0:
        return Lock(policy.mode, floor)
    end = fiscal_year_end(paid_at, policy.fiscal_year_end_month)
    legal = end.replace(year=end.year + policy.legal_years)
    return Lock(policy.mode, max(legal, floor))


def archive_key(receipt_number: str, issued_at: datetime, suffix: str = "") -> str:
    """``receipts/2026/11/R-2026-000042.pdf`` (``suffix`` e.g. ``.en`` for a translation)."""
    issued = issued_at.astimezone(UTC)
    return f"receipts/{issued:%Y}/{issued:%m}/{receipt_number}{suffix}.pdf"
