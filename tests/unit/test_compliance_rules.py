"""Rules of the compliance desk that need no AWS: what a search must name, what the audit
trail refuses to keep, and that an entry's hash covers everything it states."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from quittance.archive.search import ReceiptQuery, SearchRefused, decode_cursor, encode_cursor
from quittance.audit.trail import PersonalDataRefused, entry_hash, refuse_personal_data
from quittance.ledger.service import pseudonymous_customer_id


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"method": "card"}, "date range"),
        ({"status": "paid"}, "date range"),
        ({"reference": "cus_1"}, "provider"),
        ({"from": "2026-01-01"}, "both from and to"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "before"),
        ({"from": "2025-01-01", "to": "2026-06-01"}, "366"),
        ({"customer": "jane@example.com"}, "pattern"),
    ],
)
def test_a_search_that_no_index_serves_is_refused(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ReceiptQuery.model_validate(query)


def test_customer_reference_is_searched_by_its_pseudonymous_id() -> None:
    query = ReceiptQuery.model_validate({"provider": "stripe", "reference": "cus_1"})
    assert query.customer_id == pseudonymous_customer_id("stripe", "cus_1")
    assert query.served_by().startswith("gsi3")
    assert ReceiptQuery.model_validate({"receipt": "R-2026-000001"}).served_by().startswith("gsi1")


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    cursor = {"day": "2026-11-02", "start": {"pk": {"S": "INV#F-1"}}}
    assert decode_cursor(encode_cursor(cursor)) == cursor
    with pytest.raises(SearchRefused):
        decode_cursor("not-a-cursor!")


@pytest.mark.parametrize(
    "details",
    [
        {"email": "x"},
        {"note": "write to jane.doe@example.com"},
        {"callback": "+33 6 12 34 56 78"},
        {"callback": "06 12 34 56 78"},
        {"account": "FR7630006000011234567890189"},
        {"nested": [{"Name": "Jane"}]},
    ],
)
def test_contact_data_never_enters_the_trail(details: dict[str, object]) -> None:
    with pytest.raises(PersonalDataRefused):
        refuse_personal_data(details)


def test_dates_amounts_and_ids_are_kept() -> None:
    refuse_personal_data(
        {"from": "2026-11-01", "to": "2026-11-30", "hits": 3, "case": "CB-2026-017",
         "customer": "C-0123456789abcdef0123", "sha256_hex": "ab" * 32}
    )  # fmt: skip


def test_the_hash_covers_every_field() -> None:
    fields = {
        "seq": 2, "at": "2026-11-23T10:00:00+00:00", "actor": "arn:aws:iam::1:user/a",
        "action": "receipt.hold", "target": "R-2026-000001", "outcome": "ok",
        "request_id": "r", "details": {"case": "A"}, "prev_hash": "0" * 64,
    }  # fmt: skip
    original = entry_hash(fields)
    for name, value in (("seq", 3), ("outcome", "refused_404"), ("details", {"case": "B"}),
                        ("prev_hash", "1" * 64), ("actor", "arn:aws:iam::1:user/b")):  # fmt: skip
        assert entry_hash({**fields, name: value}) != original, name
    assert entry_hash({**fields, "hash": "ignored"}) == original
