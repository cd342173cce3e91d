"""The evidence bundle's README tells a third party how to check what it holds: a signed
webhook by its signature, an API read by what it is (there is no signature to look for)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest

from quittance.archive.bundle import Evidence, write_bundle
from quittance.ledger.model import StoredReceipt
from quittance.privacy.evidence import RawDelivery
from tests.unit.test_seller_pinning import AT, RECORD

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SIGNED = RawDelivery(
    provider="stripe",
    event_id="evt_1",
    received_at=AT,
    headers={"stripe-signature": "t=1,v1=abc", "content-type": "application/json"},
    body=b'{"id": "evt_1"}',
    verification="Stripe-Signature checked with the endpoint's signing secret",
)
API_READ = RawDelivery(
    provider="stripe",
    event_id="evt_2",
    received_at=AT,
    headers={"content-type": "application/json"},
    body=b'{"reads": []}',
    verification="read from the stripe API by quittance's lookup stage (not a signed delivery)",
)


def readme(delivery: tuple[str, RawDelivery | None]) -> str:
    out = io.BytesIO()
    evidence = Evidence(
        receipt=StoredReceipt(record=RECORD),
        pdfs=[],
        history={},
        messages=[],
        audit=[],
        delivery=delivery,
    )
    write_bundle(out, evidence, actor="arn:aws:iam::123456789012:user/staff", now=NOW)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as bundle:
        return bundle.read("README.txt").decode()


def test_a_signed_delivery_is_checked_by_its_signature() -> None:
    text = readme(("kept", SIGNED))
    assert "recompute it over delivery/body.bin" in text
    assert "recalculez-la sur delivery/body.bin" in text


def test_an_api_read_says_there_is_no_signature_to_recompute() -> None:
    text = readme(("kept", API_READ))
    assert "no signature to recompute" in text and "aucune signature à recalculer" in text
    assert "recompute it over" not in text and "recalculez-la" not in text


@pytest.mark.parametrize("state", ["erased", "not_kept"])
def test_without_a_kept_delivery_the_readme_names_no_signature(state: str) -> None:
    text = readme((state, None))
    assert "recompute" not in text and "recalcul" not in text
