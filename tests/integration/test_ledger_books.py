"""The ledger against moto: whatever the order and the duplicates, every settled payment gets
exactly one receipt, every refund one credit note, the series have no gaps, each receipt
states where the invoice stood when it was issued, and no anomaly is reported that was not
true (``arrival_oracle``)."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.invoices import InvoiceRegistration, register_invoice
from quittance.ledger.service import apply_event
from quittance.ledger.state import AnomalyKind, InvoiceStatus, InvoiceTerms, derive
from quittance.models.events import (
    CustomerDetails,
    Dispute,
    DisputeOutcome,
    EventType,
    Failure,
    FailureCategory,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
    Refund,
)
from quittance.models.money import Money
from tests.fakes import NoProfiles

from .arrival_oracle import Invoice, Standing, replay
from .conftest import REGION, MotoStack

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _eur(cents: int) -> Money:
    return Money(amount_minor=cents, currency="EUR")


def _event(
    n: int, invoice: str, kind: EventType, payment: str, cents: int, **kw: Any
) -> PaymentEvent:
    return PaymentEvent(
        event_id=f"evt-{invoice}-{n}",
        provider="stripe",
        type=kind,
        occurred_at=T0 + timedelta(minutes=n),
        payment_id=payment,
        invoice_number=invoice,
        amount=_eur(cents),
        method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
        customer=CustomerDetails(reference=f"cus-{invoice}"),
        **kw,
    )


def invoice_history(i: int) -> list[PaymentEvent]:
    """Five events per invoice, in the order they happened, mixing every kind of event."""
    invoice, due = f"F-{i:04d}", 1000 + 7 * i
    events = [
        _event(1, invoice, EventType.PAYMENT_FAILED, f"pi-{i}-a", due,
               failure=Failure(category=FailureCategory.INSUFFICIENT_FUNDS)),
        _event(2, invoice, EventType.PAYMENT_SUCCEEDED, f"pi-{i}-b", due),
    ]  # fmt: skip
    if i % 5 == 0:  # a second charge of a settled invoice
        events.append(_event(3, invoice, EventType.PAYMENT_SUCCEEDED, f"pi-{i}-c", due))
    elif i % 5 == 1:  # the first attempt's failure reported again, after the success
        events.append(
            _event(3, invoice, EventType.PAYMENT_FAILED, f"pi-{i}-b", due,
                   failure=Failure(category=FailureCategory.TECHNICAL))
        )  # fmt: skip
    else:
        events.append(
            _event(3, invoice, EventType.DISPUTE_OPENED, f"pi-{i}-b", due,
                   dispute=Dispute(dispute_id=f"dp-{i}", amount=_eur(due)))
        )  # fmt: skip
    events.append(
        _event(4, invoice, EventType.REFUND_ISSUED, f"pi-{i}-b", due,
               refund=Refund(refund_id=f"re-{i}-1", amount=_eur(due // 4)))
    )  # fmt: skip
    outcome = DisputeOutcome.WON if i % 2 else DisputeOutcome.LOST
    events.append(
        _event(5, invoice, EventType.DISPUTE_CLOSED, f"pi-{i}-b", due,
               dispute=Dispute(dispute_id=f"dp-{i}", amount=_eur(due), outcome=outcome))
        if i % 5 not in {0, 1}
        else _event(5, invoice, EventType.REFUND_ISSUED, f"pi-{i}-b", due,
                    refund=Refund(refund_id=f"re-{i}-2", amount=_eur(due // 4)))
    )  # fmt: skip
    return events


@pytest.fixture
def ledger(moto_stack: MotoStack) -> LedgerTable:
    # The stack's DynamoDB snapshots only the items a transaction touches (moto_fidelity), so
    # 1,000 transactions on a growing table stay cheap.
    return LedgerTable(
        moto_stack.resource("LedgerTable"), boto3.client("dynamodb", region_name=REGION)
    )


def registered(i: int) -> Money | None:
    """Every other invoice is registered; for one in five of those, the two charges are two
    halves of what is due (a partial payment, then the rest), not a double charge."""
    if i % 2:
        return None
    due = 1000 + 7 * i
    return _eur(2 * due if i % 5 == 0 else due)


def registration(due: Money) -> InvoiceRegistration:
    return InvoiceRegistration.model_validate(
        {
            "customer_reference": "cus-books", "currency": "EUR", "nature": "services",
            "issue_date": "2026-11-01", "due_date": "2026-11-30",
            "lines": [{"description": "Service", "quantity": "1",
                       "unit_price_minor": due.amount_minor, "vat_rate": "0"}],
        }
    )  # fmt: skip


def test_1000_shuffled_events_with_duplicates_settle_like_in_order_delivery(
    ledger: LedgerTable,
) -> None:
    histories = {f"F-{i:04d}": invoice_history(i) for i in range(200)}
    dues = {f"F-{i:04d}": registered(i) for i in range(200)}
    for number, due in dues.items():
        if due is not None:
            register_invoice(number, registration(due), book=ledger, now=NOW)
    everything = [e for h in histories.values() for e in h]
    assert len(everything) == 1000
    rng = random.Random(2026)
    deliveries = everything + rng.sample(everything, 300)  # 30 % delivered twice
    rng.shuffle(deliveries)

    duplicates = 0
    handed_on: Counter[str] = Counter()
    for event in deliveries:
        outcome = apply_event(event, store=ledger, profiles=NoProfiles(), now=NOW)
        duplicates += outcome.duplicate
        if not outcome.duplicate:
            handed_on.update(d.receipt_number for d in outcome.documents)
    assert duplicates == 300

    numbers: Counter[str] = Counter()
    anomaly_kinds: dict[str, list[str]] = {}
    for number, history in histories.items():
        due = dues[number]
        in_order = derive(
            InvoiceTerms(
                number=number, amount_due=due or history[1].amount, registered=due is not None
            ),
            history,
        )
        arrived = replay(Invoice(due=due), (e for e in deliveries if e.invoice_number == number))
        record = ledger.load(number)
        assert record is not None
        receipts = {d.payment_id: d for d in record.documents if d.kind == "receipt"}
        notes = {d.refund_id: d for d in record.documents if d.kind == "credit_note"}
        # The same receipts and credit notes as in-order delivery
        assert set(receipts) == set(in_order.receipts_due), number
        assert set(notes) == set(in_order.credit_notes_due), number
        # each stating where the invoice stood when it was issued
        assert {
            p: Standing(d.invoice_status, d.balance_due.amount_minor) for p, d in receipts.items()
        } == arrived.standings, number
        assert all(d.amount == history[1].amount for d in receipts.values()), number
        # and only the anomalies that were true when they were reported
        assert record.reported_anomalies == arrived.anomalies, number
        anomaly_kinds[number] = sorted(k.split("#")[0] for k in record.reported_anomalies)
        summary = ledger.get_invoice(number)
        assert summary is not None and summary.status is in_order.status, number
        assert summary.amount_paid == in_order.paid, number
        numbers.update(d.receipt_number for d in record.documents)
        for note in notes.values():
            assert note.original_receipt_number == receipts[note.payment_id].receipt_number

    assert set(numbers.values()) == {1}  # no number given twice
    assert handed_on == numbers  # each document handed on once, by the delivery that made it
    for series in ("R", "AV"):
        sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers if n.startswith(f"{series}-"))
        assert sequence == list(range(1, len(sequence) + 1)), f"gap in the {series} series"
        assert all(
            re.fullmatch(rf"{series}-2026-\d{{6}}", n)
            for n in numbers
            if n.startswith(f"{series}-")
        )
    # Only the invoices charged twice raise an anomaly: a possible double charge when both
    # charges were for the whole amount, one partial payment when each was half of it.
    expected_kinds = {
        f"F-{i:04d}": ["partial_payment"] if registered(i) else ["possible_double_charge"]
        for i in range(0, 200, 5)
    }
    assert {n: k for n, k in anomaly_kinds.items() if k} == expected_kinds


def test_a_refund_before_its_payment_waits_for_it_then_gets_its_credit_note(
    ledger: LedgerTable,
) -> None:
    history = invoice_history(3)  # failed, succeeded, dispute opened, refund, dispute won
    refund, paid = history[3], history[1]
    first = apply_event(refund, store=ledger, profiles=NoProfiles(), now=NOW)
    assert first.documents == ()
    assert first.status is InvoiceStatus.OPEN
    second = apply_event(paid, store=ledger, profiles=NoProfiles(), now=NOW)
    kinds = sorted(d.kind for d in second.documents)
    assert kinds == ["credit_note", "receipt"]
    assert second.status is InvoiceStatus.PARTIALLY_REFUNDED


def test_a_failure_after_the_success_is_kept_but_changes_nothing(ledger: LedgerTable) -> None:
    history = invoice_history(1)
    apply_event(history[1], store=ledger, profiles=NoProfiles(), now=NOW)
    late_failure = history[2]
    outcome = apply_event(late_failure, store=ledger, profiles=NoProfiles(), now=NOW)
    assert outcome.backwards and outcome.documents == ()
    assert outcome.status is InvoiceStatus.PAID
    record = ledger.load("F-0001")
    assert record is not None and late_failure.event_id in {e.event_id for e in record.events}


def test_a_second_charge_of_a_paid_invoice_is_flagged_and_its_receipt_never_says_paid_in_full(
    ledger: LedgerTable,
) -> None:
    history = invoice_history(0)
    apply_event(history[1], store=ledger, profiles=NoProfiles(), now=NOW)
    outcome = apply_event(history[2], store=ledger, profiles=NoProfiles(), now=NOW)
    [anomaly] = outcome.anomalies
    assert anomaly.kind is AnomalyKind.POSSIBLE_DOUBLE_CHARGE
    [receipt] = outcome.documents
    assert receipt.invoice_status is InvoiceStatus.OVERPAID
    assert receipt.balance_due == history[2].amount
    assert outcome.status is InvoiceStatus.OVERPAID
