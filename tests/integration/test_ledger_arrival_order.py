"""``apply_event`` end to end against moto, for any arrival order with any duplicates.

Hypothesis generates one invoice's history (payments that fail, succeed, are refunded,
disputed, won or lost), delivers it once in the order things happened, and again shuffled with
duplicates, each to its own fresh ledger table. Both deliveries must end in the same status and
totals, with the same receipts and credit notes, numbered without gap or double, each issued
once. What each receipt states (paid in full, still due, overpaid) and which anomalies are
reported are held to ``arrival_oracle``: the truth as it stood when the receipt was issued.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.invoices import InvoiceRegistration, register_invoice
from quittance.ledger.model import InvoiceRecord, InvoiceSummary, ReceiptRecord
from quittance.ledger.service import apply_event
from quittance.ledger.state import InvoiceStatus
from quittance.models.events import PaymentEvent
from tests.fakes import NoProfiles
from tests.unit.test_ledger_state import History, Step, histories, terms

from .arrival_oracle import Invoice, Standing, replay
from .conftest import REGION, MotoStack

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
_tables = itertools.count()


def fresh_ledger(model: str) -> LedgerTable:
    """A new, empty table shaped like the stack's ledger (keys, indexes), so each example
    starts its receipt series at 1."""
    client = boto3.client("dynamodb", region_name=REGION)
    shape = client.describe_table(TableName=model)["Table"]
    name = f"ledger-example-{next(_tables)}"
    client.create_table(
        TableName=name,
        KeySchema=shape["KeySchema"],
        AttributeDefinitions=shape["AttributeDefinitions"],
        GlobalSecondaryIndexes=[
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in shape.get("GlobalSecondaryIndexes", [])
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return LedgerTable(name, client)


def registration(history: History) -> InvoiceRegistration:
    due = history.terms.amount_due
    return InvoiceRegistration.model_validate(
        {
            "customer_reference": "cus-arrival",
            "currency": due.currency,
            "issue_date": "2026-11-01",
            "due_date": "2026-11-30",
            "nature": "services",
            "lines": [
                {"description": "Service", "quantity": "1", "unit_price_minor": due.amount_minor,
                 "vat_rate": "0"}
            ],
        }
    )  # fmt: skip


@dataclass
class Delivered:
    record: InvoiceRecord
    summary: InvoiceSummary
    handed_on: list[ReceiptRecord]


def deliver(history: History, deliveries: list[PaymentEvent], ledger: LedgerTable) -> Delivered:
    number = history.terms.number
    if history.terms.registered:
        register_invoice(number, registration(history), book=ledger, now=NOW)
    handed_on: list[ReceiptRecord] = []
    seen: set[str] = set()
    for event in deliveries:
        outcome = apply_event(event, store=ledger, profiles=NoProfiles(), now=NOW)
        assert outcome.duplicate is (event.event_id in seen)
        seen.add(event.event_id)
        if outcome.duplicate:
            continue
        handed_on.extend(outcome.documents)
        # An anomaly never comes with a receipt that says "paid in full"
        flagged = {a.payment_id for a in outcome.anomalies}
        for document in outcome.documents:
            if document.kind == "receipt" and document.payment_id in flagged:
                assert document.invoice_status is not InvoiceStatus.PAID
    record = ledger.load(number)
    summary = ledger.get_invoice(number)
    assert record is not None and summary is not None
    return Delivered(record, summary, handed_on)


def receipts(record: InvoiceRecord) -> set[tuple[Any, ...]]:
    """What a receipt or credit note is about, leaving out its number and standing."""
    return {
        (d.kind, d.payment_id, d.refund_id, d.amount, d.method, d.paid_at) for d in record.documents
    }


def standings(record: InvoiceRecord) -> dict[str, Standing]:
    return {
        d.payment_id: Standing(d.invoice_status, d.balance_due.amount_minor)
        for d in record.documents
        if d.kind == "receipt"
    }


def assert_numbered_once_without_gaps(
    record: InvoiceRecord, handed_on: list[ReceiptRecord]
) -> None:
    # Every document was handed on exactly once, by the delivery that produced it
    assert sorted(d.receipt_number for d in handed_on) == sorted(
        d.receipt_number for d in record.documents
    )
    for series in ("R", "AV"):
        numbers = Counter(
            int(d.receipt_number.rsplit("-", 1)[1])
            for d in record.documents
            if d.receipt_number.startswith(f"{series}-2026-")
        )
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"gap in {series}"
        assert set(numbers.values()) <= {1}, f"a {series} number given twice"
    # and each credit note names the receipt it corrects
    by_payment = {d.payment_id: d.receipt_number for d in record.documents if d.kind == "receipt"}
    for note in (d for d in record.documents if d.kind == "credit_note"):
        assert note.original_receipt_number == by_payment[note.payment_id]


def same_currency_if_gateway_only(history: History) -> History:
    """A gateway-only invoice has no currency of its own: its first payment to ARRIVE sets it,
    so with payments in two currencies, which one is returned depends on arrival order (see
    the test below). Elsewhere keep gateway-only invoices in one currency."""
    if history.terms.registered:
        return history
    steps = tuple(Step(s.kind, s.payment_id, s.amount, "EUR", s.refund_id) for s in history.steps)
    return History(history.terms, steps)


_DOUBLE_CHARGE_IN_REVERSE = History(
    terms(10_000),
    (Step("succeeded", "pi_0", 10_000), Step("succeeded", "pi_1", 10_000)),
)
_PARTIALS_IN_REVERSE = History(
    terms(10_000),
    (Step("succeeded", "pi_0", 3_000), Step("succeeded", "pi_1", 7_000)),
)


@pytest.mark.xdist_group("ledger-arrival")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(history=_DOUBLE_CHARGE_IN_REVERSE, data=None).via("the reviewer's double charge")
@example(history=_PARTIALS_IN_REVERSE, data=None).via("partials in reverse")
@example(history=History(terms(10_000, registered=False), ()), data=None).via(
    "nothing known of an unregistered invoice"
)
@given(history=histories(), data=st.data())
def test_any_arrival_order_with_duplicates_issues_what_in_order_delivery_issues(
    moto_stack: MotoStack, history: History, data: st.DataObject | None
) -> None:
    # Given one invoice's history, registered or gateway-only
    history = same_currency_if_gateway_only(history)
    events = history.events
    model = moto_stack.resource("LedgerTable")
    if not events and not history.terms.registered:
        # Nothing known of an invoice nobody registered (every payment "not known yet", with
        # no refund or dispute either): there is nothing to deliver, and the ledger must not
        # invent the invoice.
        assert fresh_ledger(model).load(history.terms.number) is None
        return

    # When it is delivered once in order, and (to another ledger) shuffled, each event 1–3 times
    if data is None:  # the explicit examples: every event once, newest first
        shuffled = list(reversed(events))
    else:
        copies = [e for e in events for _ in range(data.draw(st.integers(1, 3), label="copies"))]
        shuffled = data.draw(st.permutations(copies), label="arrival order")
    in_order = deliver(history, events, fresh_ledger(model))
    arrived = deliver(history, shuffled, fresh_ledger(model))

    # Then both end in the same status, with the same money kept and refunded
    def totals(d: Delivered) -> tuple[Any, ...]:
        s = d.summary
        registered = history.terms.registered  # a gateway-only invoice's due is its first payment
        return (s.status, s.amount_paid, s.refunded, s.balance_due if registered else None)

    assert totals(arrived) == totals(in_order)

    # and with the same receipts and credit notes, each numbered once, without gaps
    assert receipts(arrived.record) == receipts(in_order.record)
    assert_numbered_once_without_gaps(in_order.record, in_order.handed_on)
    assert_numbered_once_without_gaps(arrived.record, arrived.handed_on)

    # and each receipt states where the invoice stood when it was issued, and the anomalies
    # reported are those that were true at some point, on the payment whose receipt said so
    invoice = Invoice(due=history.terms.amount_due if history.terms.registered else None)
    for delivered, deliveries in ((in_order, events), (arrived, shuffled)):
        expected = replay(invoice, deliveries)
        assert standings(delivered.record) == expected.standings
        assert set(delivered.record.reported_anomalies) == expected.anomalies
        notes = {
            d.refund_id: d.payment_id for d in delivered.record.documents if d.kind == "credit_note"
        }
        assert notes == expected.credit_notes
