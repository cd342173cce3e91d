"""When an invoice's ledger records may go: ten years after the end of the fiscal year of its
newest activity, once every proof it produced has left the archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quittance.archive.retention import RetentionPolicy
from quittance.archive.retirement import (
    MAX_ITEMS,
    LedgerCollection,
    judge,
    retention_over_at,
    year_closes_at,
)
from quittance.settings import RetentionMode

PROD = RetentionPolicy(RetentionMode.COMPLIANCE, 3650, 10)
DEV = RetentionPolicy(RetentionMode.GOVERNANCE, 1, 0)


@pytest.mark.parametrize(
    ("activity", "policy", "over_at"),
    [
        # calendar fiscal year: the books of 2015 may go on 1 January 2026
        (datetime(2015, 6, 1, tzinfo=UTC), PROD, datetime(2026, 1, 1, tzinfo=UTC)),
        # 23:30 UTC on 31 December is already the new year in Paris
        (datetime(2015, 12, 31, 23, 30, tzinfo=UTC), PROD, datetime(2027, 1, 1, tzinfo=UTC)),
        # a fiscal year ending in March
        (
            datetime(2015, 6, 1, tzinfo=UTC),
            RetentionPolicy(RetentionMode.COMPLIANCE, 3650, 10, fiscal_year_end_month=3),
            datetime(2026, 4, 1, tzinfo=UTC),
        ),
        # the archive's minimum retention is a floor even when it outlasts the legal years
        (
            datetime(2015, 12, 30, tzinfo=UTC),
            RetentionPolicy(RetentionMode.COMPLIANCE, 4000, 10),
            datetime(2015, 12, 30, tzinfo=UTC) + timedelta(days=4000),
        ),
        # dev: no legal years, one day
        (datetime(2026, 11, 23, 10, tzinfo=UTC), DEV, datetime(2026, 11, 24, 10, tzinfo=UTC)),
    ],
)
def test_retention_ends_as_the_archive_lock_of_the_same_activity(
    activity: datetime, policy: RetentionPolicy, over_at: datetime
) -> None:
    assert retention_over_at(activity, policy) == over_at


def _items(*, receipt_issued: datetime, event_at: datetime) -> tuple[dict[str, Any], ...]:
    return (
        {"sk": "#INVOICE", "type": "invoice", "version": 3},
        {
            "sk": f"EVT#{event_at.isoformat()}#evt_1",
            "type": "event",
            "recorded_at": receipt_issued.isoformat(),
        },
        {"sk": "PAY#pi_1", "type": "payment_index"},
        {"sk": "RCPT#R-2015-000007", "type": "receipt", "created_at": receipt_issued.isoformat()},
    )


PAID = datetime(2015, 3, 2, 9, tzinfo=UTC)


def test_an_invoice_of_2015_with_its_proof_disposed_may_go_in_2026() -> None:
    collection = LedgerCollection(
        "F-1", _items(receipt_issued=PAID, event_at=PAID), {"R-2015-000007": 0}
    )

    verdict = judge(collection, PROD, datetime(2026, 1, 2, tzinfo=UTC))

    assert verdict.retirable and verdict.reasons == ()
    assert verdict.documents == ("R-2015-000007",) and verdict.version == 3
    assert verdict.sort_keys == (
        "#INVOICE",
        f"EVT#{PAID.isoformat()}#evt_1",
        "PAY#pi_1",
        "RCPT#R-2015-000007",
    )


def test_every_reason_to_keep_an_invoice_is_named() -> None:
    # a receipt issued in January 2016 for a December payment belongs to 2016's books
    issued = datetime(2016, 1, 4, tzinfo=UTC)
    collection = LedgerCollection(
        "F-1", _items(receipt_issued=issued, event_at=PAID), {"R-2015-000007": 2}
    )

    verdict = judge(collection, PROD, datetime(2026, 6, 1, tzinfo=UTC))

    assert not verdict.retirable
    assert verdict.retention_over_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert verdict.reasons[0] == (
        "retained until 2027-01-01 00:00 UTC (last activity 2016-01-04 00:00 UTC)"
    )
    assert verdict.reasons[1] == "R-2015-000007: 2 archived version(s) still kept"


def test_an_invoice_too_large_for_one_transaction_is_kept() -> None:
    events = tuple(
        {"sk": f"EVT#{PAID.isoformat()}#evt_{n}", "type": "event"} for n in range(MAX_ITEMS)
    )
    collection = LedgerCollection("F-1", ({"sk": "#INVOICE", "version": 1}, *events), {})

    verdict = judge(collection, PROD, datetime(2030, 1, 1, tzinfo=UTC))

    assert not verdict.retirable and "more than one transaction" in verdict.reasons[0]


def test_an_invoice_with_nothing_left_is_not_retired_again() -> None:
    verdict = judge(LedgerCollection("F-1", (), {}), PROD, datetime(2030, 1, 1, tzinfo=UTC))

    assert not verdict.retirable and verdict.reasons == (
        "nothing left in the ledger (already retired)",
    )


def test_a_utc_year_closes_with_the_retention_of_its_last_instant() -> None:
    # 31 December 2015, 23:59 UTC is already 2016 in Paris: those books close a year later
    assert year_closes_at(2015, PROD) == datetime(2027, 1, 1, tzinfo=UTC)
    assert year_closes_at(2015, DEV) == datetime(2016, 1, 2, tzinfo=UTC) - timedelta(microseconds=1)
