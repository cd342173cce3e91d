"""Which open invoice a bank credit pays, and what waits for staff instead."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from quittance.bank.matching import (
    InvoiceIndex,
    Matched,
    NeedsReview,
    NotACredit,
    OpenInvoice,
    ReviewReason,
    decide,
    payment_events,
    reference_key,
)
from quittance.bank.statement import BankEntry
from quittance.models.events import EventType, MethodKind
from quittance.models.money import Money


def eur(cents: int) -> Money:
    return Money(amount_minor=cents, currency="EUR")


INVOICES = [
    OpenInvoice("F-2026-0042", eur(12000), "cus-martin", "Camille Martin"),
    OpenInvoice("F-2026-0043", eur(8000), "cus-durand", "SARL Durand & Fils"),
    OpenInvoice("F-2026-0044", eur(5000), "cus-durand", "SARL Durand & Fils"),
    OpenInvoice("F-2026-0045", eur(5000), "cus-petit", "Léa Petit"),
    OpenInvoice("F-2026-0046", eur(5000), "cus-petit", "Léa Petit"),
]


def entry(cents: int, *remittance: str, payer: str | None = None, **extra: object) -> BankEntry:
    fields: dict[str, object] = {
        "reference": "BQ-1",
        "direction": "credit",
        "amount": eur(cents),
        "status": "BOOK",
        "booking_date": date(2026, 12, 3),
        "value_date": date(2026, 12, 3),
        "payer_name": payer,
        "payer_iban_masked": "FR76 **** 0129",
        "remittance": remittance,
    }
    return BankEntry.model_validate(fields | extra)


@pytest.mark.parametrize(
    "written",
    [
        "F-2026-0042",
        "f 2026 0042",
        "FACT F-2026-0042",
        "FACTF20260042",
        "Facture n° F.2026.0042 merci",
        "virement f2026-0042",
        "FACTURE/F/2026/0042",
    ],
)
def test_the_invoice_number_is_found_however_it_was_typed(written: str) -> None:
    decision = decide(entry(12000, written), InvoiceIndex(INVOICES))
    assert isinstance(decision, Matched)
    assert decision.by == "reference"
    assert [a.invoice.number for a in decision.allocations] == ["F-2026-0042"]


def test_a_number_inside_a_longer_number_is_not_a_match() -> None:
    decision = decide(entry(12000, "F-2026-00421"), InvoiceIndex(INVOICES))
    assert isinstance(decision, NeedsReview)
    assert decision.reason is ReviewReason.UNKNOWN


def test_partial_and_excess_amounts_go_to_the_named_invoice_whole() -> None:
    partial = decide(entry(5000, "F-2026-0042"), InvoiceIndex(INVOICES))
    excess = decide(entry(15000, "F-2026-0042"), InvoiceIndex(INVOICES))
    assert isinstance(partial, Matched) and isinstance(excess, Matched)
    assert partial.allocations[0].amount == eur(5000)
    assert excess.allocations[0].amount == eur(15000)


def test_one_transfer_for_two_invoices_is_split_when_it_pays_both_exactly() -> None:
    decision = decide(entry(13000, "F-2026-0043 + F-2026-0044"), InvoiceIndex(INVOICES))
    assert isinstance(decision, Matched)
    assert [(a.invoice.number, a.amount) for a in decision.allocations] == [
        ("F-2026-0043", eur(8000)),
        ("F-2026-0044", eur(5000)),
    ]
    events = payment_events(decision)
    assert [e.payment_id for e in events] == ["BQ-1#F-2026-0043", "BQ-1#F-2026-0044"]
    assert len({e.event_id for e in events}) == 2


def test_two_invoices_that_do_not_add_up_wait_for_review() -> None:
    decision = decide(entry(12000, "F-2026-0043 F-2026-0044"), InvoiceIndex(INVOICES))
    assert isinstance(decision, NeedsReview)
    assert decision.reason is ReviewReason.SPLIT_MISMATCH
    assert decision.candidates == ("F-2026-0043", "F-2026-0044")


def test_without_a_number_the_exact_amount_and_payer_name_match() -> None:
    decision = decide(entry(8000, "merci", payer="DURAND & FILS SARL"), InvoiceIndex(INVOICES))
    assert isinstance(decision, Matched)
    assert decision.by == "amount_and_name"
    assert decision.allocations[0].invoice.number == "F-2026-0043"


def test_two_invoices_of_that_amount_for_that_payer_are_ambiguous() -> None:
    decision = decide(entry(5000, payer="LEA PETIT"), InvoiceIndex(INVOICES))
    assert isinstance(decision, NeedsReview)
    assert decision.reason is ReviewReason.AMBIGUOUS
    assert set(decision.candidates) == {"F-2026-0045", "F-2026-0046"}


def test_an_invoice_settled_in_this_import_no_longer_fits_by_amount() -> None:
    index = InvoiceIndex(INVOICES)
    index.settled(INVOICES[1])
    decision = decide(entry(8000, payer="SARL Durand & Fils"), index)
    assert isinstance(decision, NeedsReview)
    assert decision.reason is ReviewReason.UNKNOWN


def test_an_unknown_payer_waits_and_debits_or_pending_credits_are_not_payments() -> None:
    assert isinstance(decide(entry(999, payer="Inconnu"), InvoiceIndex(INVOICES)), NeedsReview)
    debit = entry(12000, "F-2026-0042", direction="debit")
    pending = entry(12000, "F-2026-0042", status="PDNG")
    assert isinstance(decide(debit, InvoiceIndex(INVOICES)), NotACredit)
    assert isinstance(decide(pending, InvoiceIndex(INVOICES)), NotACredit)


def test_another_currency_is_never_settled_automatically() -> None:
    foreign = entry(12000, "F-2026-0042", amount=Money(amount_minor=12000, currency="CHF"))
    decision = decide(foreign, InvoiceIndex(INVOICES))
    assert isinstance(decision, NeedsReview)
    assert decision.reason is ReviewReason.CURRENCY


def test_a_match_is_a_canonical_payment_with_the_transfer_proofs() -> None:
    decision = decide(entry(12000, "F-2026-0042"), InvoiceIndex(INVOICES))
    assert isinstance(decision, Matched)
    (event,) = payment_events(decision)
    assert event.provider == "bank"
    assert event.type is EventType.PAYMENT_SUCCEEDED
    assert event.invoice_number == "F-2026-0042"
    assert event.event_id == "BQ-1:succeeded"
    assert event.occurred_at == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # noon in Paris
    assert event.method.kind is MethodKind.SEPA_TRANSFER
    assert event.method.transfer_reference == "BQ-1"
    assert event.method.iban_masked == "FR76 **** 0129"
    assert event.method.value_date == date(2026, 12, 3)
    assert event.customer is not None and event.customer.reference == "cus-martin"
    assert event.customer.name is None  # the payer's name is not copied into the ledger


def test_reference_keys_ignore_case_separators_and_accents() -> None:
    assert reference_key(" f-2026/0042 ") == reference_key("F.2026.0042") == "F20260042"
    assert reference_key("FACTÉ-1") == "FACTE1"


def test_a_customer_name_is_opened_only_for_invoices_of_an_unnamed_credits_amount() -> None:
    """Opening a name is a sealed-profile read and a KMS call: a credit that names its invoice
    opens none; one that does not opens those of the invoices of its amount, each once."""
    sealed = [OpenInvoice(i.number, i.outstanding, i.customer_reference) for i in INVOICES]
    names = {i.number: i.customer_name for i in INVOICES}
    opened: list[str] = []

    def open_name(invoice: OpenInvoice) -> str | None:
        opened.append(invoice.number)
        return names[invoice.number]

    index = InvoiceIndex(sealed, names=open_name)
    assert isinstance(decide(entry(12000, "F-2026-0042", payer="Camille Martin"), index), Matched)
    assert opened == []
    decision = decide(entry(5000, payer="LEA PETIT"), index)
    assert isinstance(decision, NeedsReview) and decision.reason is ReviewReason.AMBIGUOUS
    assert sorted(opened) == ["F-2026-0044", "F-2026-0045", "F-2026-0046"]
    decide(entry(5000, payer="Durand & Fils SARL"), index)
    decide(entry(999, payer="Inconnu"), index)
    assert len(opened) == 3
