"""docs/privacy.md is generated from the retention table and never drifts from it."""

from __future__ import annotations

from quittance.privacy.retention import RECORDS, record_type
from quittance_ops.privacy_doc import DOC, render


def test_privacy_doc_is_up_to_date() -> None:
    # Regenerate with: python -m quittance_ops.privacy_doc
    assert DOC.read_text() == render()


def test_every_record_states_purpose_basis_retention_location_and_readers() -> None:
    for record in RECORDS:
        assert record.purpose and record.legal_basis and record.retention, record.name
        assert record.location and record.readers, record.name
        assert record.legal_archive or record.ttl is not None or not record.store, record.name
        assert record.name in DOC.read_text()


def test_items_are_classified_by_key() -> None:
    assert record_type("LedgerTable", "INV#F-1", "MSG#R-1:payment_confirmed#email").ttl
    assert record_type("LedgerTable", "INV#F-1", "RCPT#R-2026-000001").legal_archive
    assert record_type("CustomersTable", "ERASED#C-1").name == "Erasure record"
    assert record_type("ArchiveBucket", "evidence/stripe/2026/11/evt_1.bin").legal_archive
