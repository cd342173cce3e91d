"""The dates that break naive code, through the real handlers with their clock pinned: the
new year in Paris while UTC is still in the old one, a leap day, both changes of summer time.
Nothing here depends on the day the suite runs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.clock import FixedClock

from .conftest import MotoStack
from .pipeline import deliver, pay_by_card


def _pay_at(stack: MotoStack, at: datetime, invoice: str, payment: str) -> dict[str, Any]:
    """A card payment that happened at ``at``, recorded and archived with the clock at ``at``
    (a few seconds on): what the ledger and the archive then hold for its receipt."""
    pay_by_card(stack, at, invoice, payment)
    assert deliver(stack, "ReceiptJobsQueue", "ReceiptsFunction") == 1
    ledger = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
    record = ledger.load(invoice)
    assert record is not None
    (document,) = record.documents
    return dict(ledger.receipt_item(document.receipt_number))


def _lock(stack: MotoStack, key: str) -> datetime:
    head = stack.client("s3").head_object(Bucket=stack.resource("ArchiveBucket"), Key=key)
    return head["ObjectLockRetainUntilDate"].astimezone(UTC)


def test_half_past_midnight_on_new_years_day_in_paris_is_the_new_years_receipt(
    moto_stack: MotoStack,
) -> None:
    # Given a payment at 00:30 on 1 January 2027 in Paris: still 31 December 2026 in UTC
    new_year = _pay_at(moto_stack, datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "F-NY-1", "pi_ny")
    # Then it opens 2027's series, is filed under January 2027, and is kept ten years from
    # the end of fiscal 2027 (the company's calendar year), not fiscal 2026
    assert new_year["data"]["receipt_number"] == "R-2027-000001"
    key = new_year["archive"]["key"]
    assert key == "receipts/2027/01/R-2027-000001.pdf"
    assert _lock(moto_stack, key) == datetime(2038, 1, 1, tzinfo=UTC)

    # Given a payment an hour earlier: 23:30 on 31 December in Paris
    old_year = _pay_at(moto_stack, datetime(2026, 12, 31, 22, 30, tzinfo=UTC), "F-NY-0", "pi_oy")
    # Then it is the first of 2026's series in this account, filed and kept with fiscal 2026
    assert old_year["data"]["receipt_number"] == "R-2026-000001"
    assert old_year["archive"]["key"] == "receipts/2026/12/R-2026-000001.pdf"
    assert _lock(moto_stack, old_year["archive"]["key"]) == datetime(2037, 1, 1, tzinfo=UTC)


def test_a_leap_day_receipt_is_filed_under_february(moto_stack: MotoStack) -> None:
    # Given a payment at noon on 29 February 2028
    leap = _pay_at(moto_stack, datetime(2028, 2, 29, 11, 0, tzinfo=UTC), "F-LEAP", "pi_leap")
    # Then it is 2028's first receipt, under February, kept to the end of fiscal 2038
    assert leap["data"]["receipt_number"] == "R-2028-000001"
    assert leap["archive"]["key"] == "receipts/2028/02/R-2028-000001.pdf"
    assert _lock(moto_stack, leap["archive"]["key"]) == datetime(2039, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("utc", "paris_day"),
    [
        # 00:30 in Paris on the night summer time starts (clocks go 02:00 → 03:00)
        (datetime(2027, 3, 27, 23, 30, tzinfo=UTC), date(2027, 3, 28)),
        # 00:30 in Paris on the night summer time ends (UTC+2 until 03:00 local)
        (datetime(2027, 10, 30, 22, 30, tzinfo=UTC), date(2027, 10, 31)),
        # 23:30 in Paris the evening before, in winter and in summer time
        (datetime(2027, 3, 27, 22, 30, tzinfo=UTC), date(2027, 3, 27)),
        (datetime(2027, 10, 30, 21, 30, tzinfo=UTC), date(2027, 10, 30)),
    ],
    ids=["spring-forward", "fall-back", "eve-of-spring-forward", "eve-of-fall-back"],
)
def test_the_daily_reminder_run_takes_the_day_in_paris_across_summer_time_changes(
    moto_stack: MotoStack, utc: datetime, paris_day: date
) -> None:
    # When the daily schedule fires at that UTC moment with the clock pinned there
    moto_stack.use_clock(FixedClock(utc))
    result = moto_stack.functions["RemindersFunction"].invoke({})
    # Then the run is for that day on the business's calendar
    assert result["today"] == paris_day.isoformat()
