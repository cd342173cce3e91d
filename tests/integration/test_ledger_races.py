"""Two writers at once, against moto: another event is committed between this event's read and
its write. The loser's transaction is refused (the counter or the invoice version moved), it
reads again and applies on top: no lost update, no number given twice, no gap. A writer that
keeps losing gives up with WriteConflict and leaves nothing half-written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.model import InvoiceRecord
from quittance.ledger.service import MAX_ATTEMPTS, Commit, WriteConflict, apply_event
from quittance.ledger.state import AnomalyKind, InvoiceStatus
from quittance.models.events import (
    CustomerDetails,
    EventType,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.money import Money
from tests.fakes import NoProfiles

from .conftest import REGION, MotoStack

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def paid(invoice: str, payment: str, minute: int, cents: int = 5_000) -> PaymentEvent:
    return PaymentEvent(
        event_id=f"evt-{payment}",
        provider="stripe",
        type=EventType.PAYMENT_SUCCEEDED,
        occurred_at=T0 + timedelta(minutes=minute),
        payment_id=payment,
        invoice_number=invoice,
        amount=Money(amount_minor=cents, currency="EUR"),
        method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
        customer=CustomerDetails(reference="cus-race"),
    )


class Interleaved:
    """The ledger table, with another writer's work slipped in just before each of this
    writer's commits, for as long as ``rival`` has work to give."""

    def __init__(self, table: LedgerTable, rival: Callable[[], bool]) -> None:
        self.table = table
        self.rival = rival
        self.commits = 0

    def invoice_for_payment(self, payment_id: str) -> str | None:
        return self.table.invoice_for_payment(payment_id)

    def load(self, invoice_number: str) -> InvoiceRecord | None:
        return self.table.load(invoice_number)

    def counter(self, series: str, year: int) -> int:
        return self.table.counter(series, year)

    def commit(self, commit: Commit) -> None:
        self.rival()
        self.commits += 1
        self.table.commit(commit)


@pytest.fixture
def ledger(moto_stack: MotoStack) -> LedgerTable:
    return LedgerTable(
        moto_stack.resource("LedgerTable"), boto3.client("dynamodb", region_name=REGION)
    )


def once(work: Callable[[], object]) -> Callable[[], bool]:
    done: list[bool] = []

    def rival() -> bool:
        if not done:
            done.append(True)
            work()
        return bool(done)

    return rival


def test_two_invoices_racing_for_the_next_number_get_one_each_without_a_gap(
    ledger: LedgerTable,
) -> None:
    # Given payment A read the receipt counter, and payment B (another invoice) commits first
    rival = once(
        lambda: apply_event(paid("F-B", "pi-b", 2), store=ledger, profiles=NoProfiles(), now=NOW)
    )
    store = Interleaved(ledger, rival)

    # When A commits
    outcome = apply_event(paid("F-A", "pi-a", 1), store=store, profiles=NoProfiles(), now=NOW)

    # Then A's first transaction was refused and its retry took the next number
    assert store.commits == 2
    [a] = outcome.documents
    b = ledger.load("F-B").documents[0]  # type: ignore[union-attr]
    assert (b.receipt_number, a.receipt_number) == ("R-2026-000001", "R-2026-000002")
    assert ledger.counter("R", 2026) == 2


def test_two_payments_racing_on_one_invoice_lose_no_update(ledger: LedgerTable) -> None:
    # Given two full payments of the same 50.00 invoice, B committing while A is in flight
    rival = once(
        lambda: apply_event(paid("F-1", "pi-b", 2), store=ledger, profiles=NoProfiles(), now=NOW)
    )
    store = Interleaved(ledger, rival)

    # When A commits
    outcome = apply_event(paid("F-1", "pi-a", 1), store=store, profiles=NoProfiles(), now=NOW)

    # Then A applied on top of B: both payments are in the ledger, the invoice counts both, and
    # A (second to be receipted) is the possible double charge, not B whose receipt said paid
    assert store.commits == 2
    record = ledger.load("F-1")
    assert record is not None
    assert {e.payment_id for e in record.events} == {"pi-a", "pi-b"}
    assert record.version == 2
    receipts = {d.payment_id: d for d in record.documents}
    assert receipts["pi-b"].invoice_status is InvoiceStatus.PAID
    assert receipts["pi-a"].invoice_status is InvoiceStatus.OVERPAID
    assert [a.kind for a in outcome.anomalies] == [AnomalyKind.POSSIBLE_DOUBLE_CHARGE]
    assert outcome.status is InvoiceStatus.OVERPAID
    summary = ledger.get_invoice("F-1")
    assert summary is not None and summary.amount_paid.amount_minor == 10_000


def test_a_writer_that_keeps_losing_gives_up_and_leaves_nothing_half_written(
    ledger: LedgerTable,
) -> None:
    # Given a rival that commits another payment of the same invoice before every attempt
    rivals = iter(range(1, 100))

    def rival() -> bool:
        n = next(rivals)
        apply_event(paid("F-9", f"pi-rival-{n}", n), store=ledger, profiles=NoProfiles(), now=NOW)
        return True

    store = Interleaved(ledger, rival)

    # When payment A tries to commit
    with pytest.raises(WriteConflict, match="gave up after 8"):
        apply_event(paid("F-9", "pi-a", 0), store=store, profiles=NoProfiles(), now=NOW)

    # Then it tried MAX_ATTEMPTS times, and nothing of A is in the ledger: no event, no receipt,
    # no number used (the rivals' receipts run 1..8 without a gap)
    assert store.commits == MAX_ATTEMPTS
    record = ledger.load("F-9")
    assert record is not None
    assert "pi-a" not in {e.payment_id for e in record.events}
    assert sorted(d.receipt_number for d in record.documents) == [
        f"R-2026-{n:06d}" for n in range(1, MAX_ATTEMPTS + 1)
    ]
    assert ledger.invoice_for_payment("pi-a") is None
