"""Retention: how long and under which lock an archived receipt is kept (Code de commerce
L123-22: ten years from the end of the fiscal year the document belongs to)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quittance.archive.retention import (
    Lock,
    RetentionPolicy,
    archive_key,
    fiscal_year_end,
    lock_for,
)
from quittance.settings import RetentionMode

PARIS = ZoneInfo("Europe/Paris")
PROD = RetentionPolicy(
    mode=RetentionMode.COMPLIANCE, minimum_days=3650, legal_years=10, fiscal_year_end_month=12
)
DEV = RetentionPolicy(mode=RetentionMode.GOVERNANCE, minimum_days=1, legal_years=0)


def _prod(fiscal_year_end_month: int) -> RetentionPolicy:
    return RetentionPolicy(
        mode=RetentionMode.COMPLIANCE,
        minimum_days=3650,
        legal_years=10,
        fiscal_year_end_month=fiscal_year_end_month,
    )


def test_prod_payment_is_locked_ten_years_after_its_fiscal_year() -> None:
    # Given production's policy and a payment on 15 March 2026, archived seconds later
    paid_at = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
    # When its lock is computed
    lock = lock_for(paid_at, PROD, now=paid_at + timedelta(seconds=5))
    # Then it is COMPLIANCE-locked until the end of fiscal 2026 + 10 years
    assert lock == Lock(RetentionMode.COMPLIANCE, datetime(2037, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("paid_at", "until"),
    [
        (datetime(2026, 7, 1, 0, 0, tzinfo=UTC), datetime(2037, 7, 1, tzinfo=UTC)),
        (datetime(2026, 6, 30, 23, 59, 59, tzinfo=PARIS), datetime(2036, 7, 1, tzinfo=UTC)),
        (datetime(2026, 1, 10, tzinfo=UTC), datetime(2036, 7, 1, tzinfo=UTC)),
    ],
    ids=["first-day-of-fy2027", "last-second-of-fy2026", "mid-fy2026"],
)
def test_fiscal_year_ending_in_june(paid_at: datetime, until: datetime) -> None:
    # Given a company whose fiscal year ends on 30 June
    # When a payment's lock is computed
    lock = lock_for(paid_at, _prod(6), now=paid_at + timedelta(seconds=5))
    # Then it runs ten years from the end of the fiscal year the payment belongs to
    assert lock.retain_until == until
    assert lock.mode is RetentionMode.COMPLIANCE


def test_minimum_days_floor_wins_when_later() -> None:
    # Given a policy whose floor (5000 days) outlasts the legal period
    policy = RetentionPolicy(mode=RetentionMode.COMPLIANCE, minimum_days=5000, legal_years=10)
    now = datetime(2026, 3, 15, 10, 0, 5, tzinfo=UTC)
    # When a lock is computed / Then the floor is what holds
    lock = lock_for(datetime(2026, 3, 15, 10, 0, tzinfo=UTC), policy, now=now)
    assert lock.retain_until == now + timedelta(days=5000)


def test_late_archiving_still_gets_the_bucket_floor_from_now() -> None:
    # Given a 2026 receipt (re-)archived in 2036, when its legal period has nearly run out
    now = datetime(2036, 12, 1, tzinfo=UTC)
    lock = lock_for(datetime(2026, 3, 15, tzinfo=UTC), PROD, now=now)
    # Then the bucket's default retention from now is the floor
    assert lock.retain_until == now + timedelta(days=3650)


def test_dev_policy_locks_for_one_day_under_governance() -> None:
    # Given a dev stage (GOVERNANCE, 1 day, no legal period)
    now = datetime(2026, 3, 15, 10, 0, 5, tzinfo=UTC)
    # When a lock is computed / Then a dev account can be cleaned a day later
    lock = lock_for(datetime(2026, 3, 15, 10, 0, tzinfo=UTC), DEV, now=now)
    assert lock == Lock(RetentionMode.GOVERNANCE, now + timedelta(days=1))


def test_archive_key() -> None:
    issued = datetime(2026, 11, 5, 14, 30, tzinfo=UTC)
    assert archive_key("R-2026-000042", issued) == "receipts/2026/11/R-2026-000042.pdf"
    assert archive_key("R-2026-000042", issued, ".en") == "receipts/2026/11/R-2026-000042.en.pdf"


def test_late_evening_in_paris_on_new_years_eve_belongs_to_the_ending_year() -> None:
    # Given a payment at 23:30 on 31 December 2026 in Paris (22:30 UTC)
    paid_at = datetime(2026, 12, 31, 23, 30, tzinfo=PARIS)
    assert paid_at.astimezone(UTC) == datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    # When its lock is computed / Then it belongs to fiscal 2026
    assert fiscal_year_end(paid_at, 12) == datetime(2027, 1, 1, tzinfo=UTC)
    lock = lock_for(paid_at, PROD, now=paid_at + timedelta(seconds=5))
    assert lock.retain_until == datetime(2037, 1, 1, tzinfo=UTC)


def test_first_hour_of_the_new_year_in_paris_belongs_to_the_new_year() -> None:
    # Given a payment at 00:30 on 1 January 2027 in Paris (23:30 UTC on 31 December 2026)
    paid_at = datetime(2027, 1, 1, 0, 30, tzinfo=PARIS)
    # When its lock is computed
    lock = lock_for(paid_at, PROD, now=paid_at + timedelta(seconds=5))
    # Then it is kept ten years from the end of fiscal 2027 (a French company's year)
    assert lock.retain_until >= datetime(2038, 1, 1, tzinfo=PARIS)


def _same_instant_years_later(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:  # 29 February
        return at.replace(year=at.year + years, month=3, day=1)


@settings(max_examples=200, deadline=None)
@given(
    paid_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2080, 12, 31), timezones=st.just(UTC)
    ),
    end_month=st.integers(1, 12),
)
def test_lock_always_covers_ten_years_after_the_payment(paid_at: datetime, end_month: int) -> None:
    # Given any payment and any fiscal year end
    lock = lock_for(paid_at, _prod(end_month), now=paid_at)
    # Then the lock outlasts ten full years after the payment, by at most one fiscal year,
    # and ends at midnight on the first day of a month
    assert lock.retain_until > _same_instant_years_later(paid_at, 10)
    assert lock.retain_until <= paid_at + timedelta(days=366 * 11)
    assert (lock.retain_until.day, lock.retain_until.hour, lock.retain_until.minute) == (1, 0, 0)
    assert lock.retain_until.month == end_month % 12 + 1
