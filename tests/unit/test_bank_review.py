"""Importing a statement decides each entry once; staff resolve what waits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quittance.bank.matching import OpenInvoice
from quittance.bank.review import (
    BankDesk,
    ImportReport,
    entry_id,
    ignore,
    import_statement,
    reference_of,
)
from quittance.bank.statement import parse_statement
from quittance.errors import NotFound, PayloadInvalid
from quittance.models.money import Money
from quittance_ops.camt_samples import Transfer, statement_xml
from tests.fakes import MemoryBankEntries, RecordingPublisher

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


class Invoices:
    def __init__(self, *invoices: OpenInvoice) -> None:
        self.by_number = {i.number: i for i in invoices}

    def open_invoices(self, today: date) -> Sequence[OpenInvoice]:
        return list(self.by_number.values())

    def open_invoice(self, number: str) -> OpenInvoice | None:
        return self.by_number.get(number)

    def customer_name(self, invoice: OpenInvoice) -> str | None:
        return invoice.customer_name


def eur(cents: int) -> Money:
    return Money(amount_minor=cents, currency="EUR")


def world() -> tuple[Invoices, MemoryBankEntries, RecordingPublisher]:
    return (
        Invoices(
            OpenInvoice("F-1", eur(10000), "c1", "Camille Martin"),
            OpenInvoice("F-2", eur(4000), "c2", "Paul Girard"),
        ),
        MemoryBankEntries(),
        RecordingPublisher(),
    )


STATEMENT = [
    Transfer(reference="E1", amount=Decimal("100.00"), unstructured=("fact f1",)),
    Transfer(reference="E2", amount=Decimal("40.00"), payer="Inconnu", unstructured=("?",)),
    Transfer(reference="E3", amount=Decimal("12.00"), credit=False),
]


def run(
    invoices: Invoices,
    book: MemoryBankEntries,
    publisher: RecordingPublisher,
    transfers: list[Transfer],
) -> ImportReport:
    return import_statement(
        parse_statement(statement_xml(transfers)),
        invoices=invoices,
        book=book,
        events=publisher,
        now=NOW,
        correlation_id="import-1",
    )


def test_an_import_publishes_matches_and_keeps_the_rest_for_review() -> None:
    invoices, book, publisher = world()
    report = run(invoices, book, publisher, STATEMENT)
    assert (report.entries, report.matched, report.to_review, report.not_credits) == (3, 1, 1, 1)
    assert [m.event.invoice_number for m in publisher.published] == ["F-1"]
    assert [(r.entry.reference, r.reason) for r in book.waiting()] == [("E2", "unknown")]


def test_importing_again_after_the_invoice_was_paid_changes_nothing() -> None:
    invoices, book, publisher = world()
    run(invoices, book, publisher, STATEMENT)
    del invoices.by_number["F-1"]  # the ledger settled it: no longer open
    again = run(invoices, book, publisher, STATEMENT)
    assert (again.matched, again.to_review, again.already_known) == (0, 0, 2)
    assert again.events_published == 0  # republished, and refused as duplicates
    assert len(publisher.published) == 1
    assert [r.entry.reference for r in book.waiting()] == ["E2"]


def test_staff_match_a_waiting_entry_and_its_payment_is_published() -> None:
    invoices, book, publisher = world()
    run(invoices, book, publisher, STATEMENT)
    record = BankDesk(invoices, book, publisher).match(
        "E2",
        ["F-2"],
        actor="arn:aws:iam::1:user/ana",
        now=NOW,
        correlation_id="staff-1",
    )
    assert record.state == "matched" and record.decided_by == "arn:aws:iam::1:user/ana"
    assert publisher.published[-1].event.invoice_number == "F-2"
    assert publisher.published[-1].event.amount == eur(4000)
    assert book.waiting() == []
    with pytest.raises(PayloadInvalid, match="already matched"):
        ignore("E2", "oops", book=book, actor="x", now=NOW)


def test_staff_ignore_an_entry_with_a_reason_and_unknown_ones_are_refused() -> None:
    invoices, book, publisher = world()
    run(invoices, book, publisher, STATEMENT)
    with pytest.raises(NotFound, match="F-404"):
        BankDesk(invoices, book, publisher).match(
            "E2",
            ["F-404"],
            actor="ana",
            now=NOW,
            correlation_id="c",
        )
    with pytest.raises(PayloadInvalid, match="say why"):
        ignore("E2", "  ", book=book, actor="ana", now=NOW)
    record = ignore("E2", "virement interne", book=book, actor="ana", now=NOW)
    assert (record.state, record.reason) == ("ignored", "virement interne")
    assert book.waiting() == []
    with pytest.raises(NotFound):
        ignore("NOPE", "x", book=book, actor="ana", now=NOW)


# Any text a statement can carry (lone surrogates have no UTF-8, so no XML holds them).
@given(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200))
def test_an_entry_id_is_one_url_safe_path_segment_naming_its_reference(reference: str) -> None:
    identifier = entry_id(reference)
    assert set(identifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert reference_of(identifier) == reference


@pytest.mark.parametrize("bogus", ["", "a", "!!", "Zm9v=", "Zm9vx", "_w", "a/b", "x" * 301])
def test_an_id_this_service_never_issued_names_no_entry(bogus: str) -> None:
    with pytest.raises(NotFound):
        reference_of(bogus)
