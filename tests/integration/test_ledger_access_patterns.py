"""Every ledger question is answered by a key or an index, never a Scan (docs/ledger.md)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import boto3

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.invoices import InvoiceRegistration, register_invoice
from quittance.ledger.service import apply_event, pseudonymous_customer_id
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


def registered(due: str, cents: int) -> InvoiceRegistration:
    return InvoiceRegistration.model_validate(
        {
            "customer_reference": "CLI-7",
            "currency": "EUR",
            "lines": [{"description": "x", "quantity": "1", "unit_price_minor": cents,
                       "vat_rate": "0"}],
            "issue_date": "2026-11-01",
            "due_date": due,
            "nature": "services",
        }
    )  # fmt: skip


def payment(invoice: str, cents: int, n: int) -> PaymentEvent:
    return PaymentEvent(
        event_id=f"evt-{invoice}-{n}",
        provider="stripe",
        type=EventType.PAYMENT_SUCCEEDED,
        occurred_at=datetime(2026, 11, 20, 10, n, tzinfo=UTC),
        payment_id=f"pi-{invoice}-{n}",
        invoice_number=invoice,
        amount=Money(amount_minor=cents, currency="EUR"),
        method=PaymentMethod(kind=MethodKind.CARD),
        customer=CustomerDetails(reference="cus_7"),
    )


def test_questions_are_served_by_keys_and_indexes_never_a_scan(moto_stack: MotoStack) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    operations: Counter[str] = Counter()
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: operations.update([model.name])
    )
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), client)

    for number, due, cents in (
        ("F-A", "2026-12-05", 1000), ("F-B", "2026-12-20", 2000), ("F-C", "2027-01-10", 3000),
        ("F-D", "2027-03-01", 4000),
    ):  # fmt: skip
        register_invoice(number, registered(due, cents), book=ledger, now=NOW)
    apply_event(payment("F-A", 1000, 1), store=ledger, profiles=NoProfiles(), now=NOW)  # paid
    apply_event(payment("F-B", 500, 2), store=ledger, profiles=NoProfiles(), now=NOW)  # partial
    apply_event(payment("GW-only", 700, 3), store=ledger, profiles=NoProfiles(), now=NOW)

    # Open registered invoices due by the end of January: the paid one has left the index.
    due = ledger.open_invoices_due(date(2026, 12, 1), date(2027, 1, 31))
    assert due == [(date(2026, 12, 20), "F-B"), (date(2027, 1, 10), "F-C")]

    # Everything of one customer.
    customer = pseudonymous_customer_id("stripe", "cus_7")
    assert {s.number for s in ledger.invoices_of_customer(customer)} == {"F-A", "F-B", "GW-only"}

    # By payment id, by receipt number, by day.
    assert ledger.invoice_for_payment("pi-F-B-2") == "F-B"
    receipt = ledger.receipt_for_payment("F-A", "pi-F-A-1")
    assert receipt is not None
    assert ledger.receipt_item(receipt.receipt_number)["data"]["invoice_number"] == "F-A"
    assert {d.invoice_number for d in ledger.documents_on(date(2026, 11, 20))} == {
        "F-A", "F-B", "GW-only",
    }  # fmt: skip

    assert operations["Scan"] == 0
    assert operations["Query"] > 0


def test_a_receipt_whose_invoice_is_known_is_read_by_its_key(moto_stack: MotoStack) -> None:
    """Receipts and notify know the invoice from their job: one GetItem, no index query; a
    wrong invoice still finds the receipt through the index."""
    client = boto3.client("dynamodb", region_name=REGION)
    operations: Counter[str] = Counter()
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: operations.update([model.name])
    )
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), client)
    apply_event(payment("F-K", 1200, 1), store=ledger, profiles=NoProfiles(), now=NOW)
    receipt = ledger.receipt_for_payment("F-K", "pi-F-K-1")
    assert receipt is not None
    operations.clear()

    item = ledger.receipt_item(receipt.receipt_number, "F-K")

    assert item["data"]["invoice_number"] == "F-K"
    assert item == ledger.receipt_item(receipt.receipt_number)
    assert operations == {"GetItem": 2, "Query": 1}  # the second read went through the index
    operations.clear()
    assert ledger.receipt_item(receipt.receipt_number, "F-OTHER")["sk"] == item["sk"]
    assert operations == {"GetItem": 2, "Query": 1}
