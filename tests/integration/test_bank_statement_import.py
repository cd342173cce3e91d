"""Issue 19's acceptance: a camt.053 statement of 60 entries, imported as two overlapping
statements against invoices registered through the staff API, settles exactly what it
pays on the ledger's own path (numbered receipts, invoices no longer open for reminders),
keeps the rest for review, and changes nothing when imported again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from quittance.aws.bank_entries import BankEntries
from quittance.aws.customers_table import CustomersTable
from quittance.aws.idempotency import persistence_layer
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.open_invoices import OpenInvoiceIndex
from quittance.aws.publisher import DedupedPublisher
from quittance.aws.queue import SqsQueue
from quittance.bank.review import ImportReport, import_statement
from quittance.bank.statement import parse_statement
from quittance.ledger.state import InvoiceStatus
from quittance_ops.camt_samples import Transfer, statement_xml

from .conftest import MotoStack, answer, http_event
from .pipeline import deliver, sealed_customers


def register(stack: MotoStack, number: str, unit_minor: int, reference: str, name: str) -> None:
    due = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
    body = {
        "customer_reference": reference,
        "currency": "EUR",
        "lines": [{"description": "Prestation", "quantity": "1",
                   "unit_price_minor": unit_minor, "vat_rate": "20"}],
        "issue_date": "2026-11-01",
        "due_date": due,
        "nature": "services",
        "customer": {"provider": "stripe", "name": name, "email": f"{reference}@example.com"},
    }  # fmt: skip
    event = http_event(
        "PUT",
        f"/admin/invoices/{number}",
        "/admin/invoices/{number}",
        {"number": number},
        json.dumps(body).encode(),
        {"content-type": "application/json"},
    )
    status, answered = answer(stack.functions["ArchiveApiFunction"].invoke(event))
    assert status == 200, answered


@dataclass
class Bank:
    stack: MotoStack
    ledger: LedgerTable
    book: BankEntries
    invoices: OpenInvoiceIndex
    publisher: DedupedPublisher

    def import_(self, transfers: list[Transfer], message_id: str) -> ImportReport:
        report = import_statement(
            parse_statement(statement_xml(transfers, message_id=message_id)),
            invoices=self.invoices,
            book=self.book,
            events=self.publisher,
            now=datetime.now(UTC),
            correlation_id=message_id,
        )
        deliver(self.stack, "PaymentEventsQueue", "LedgerFunction")
        return report


def bank(stack: MotoStack) -> Bank:
    dynamodb = stack.client("dynamodb")
    table = stack.resource("LedgerTable")
    customers: CustomersTable = sealed_customers(stack)
    return Bank(
        stack=stack,
        ledger=LedgerTable(table, dynamodb),
        book=BankEntries(table, dynamodb),
        invoices=OpenInvoiceIndex(table, dynamodb, customers),
        publisher=DedupedPublisher(
            SqsQueue(stack.resource("PaymentEventsQueue"), stack.client("sqs")),
            persistence_layer(stack.resource("IdempotencyTable"), dynamodb),
            window_seconds=86400,
        ),
    )


def euros(unit_minor: int) -> Decimal:
    """What a registered invoice of ``unit_minor`` excluding 20 % VAT asks, in euros."""
    return Decimal(unit_minor * 12 // 10) / 100


def sixty_entries() -> tuple[list[Transfer], dict[str, Any]]:
    """60 entries and what each should do; invoice F-BQ-<n> is registered with unit price
    10000 + 100 n cents for customer "Client <n>"."""

    def unit(n: int) -> int:
        return 10000 + 100 * n

    exact = [
        Transfer(reference=f"E{n:02d}", amount=euros(unit(n)), payer=f"Payeur {n}",
                 structured=f"F-BQ-{n:03d}")
        for n in range(1, 21)
    ]  # fmt: skip
    mangles = ["f-bq-{n:03d}", "FACT F BQ {n:03d}", "FACTF-BQ{n:03d}", "facture f.bq.{n:03d}",
               "Fbq {n:03d} merci"]  # fmt: skip
    mangled = [
        Transfer(reference=f"E{n:02d}", amount=euros(unit(n)), payer=f"Payeur {n}",
                 unstructured=(mangles[n % len(mangles)].format(n=n),))
        for n in range(21, 31)
    ]  # fmt: skip
    by_name = [
        Transfer(reference=f"E{n:02d}", amount=euros(unit(n)), payer=f"CLIENT {n}",
                 unstructured=("VIREMENT",))
        for n in range(31, 39)
    ]  # fmt: skip
    two = Transfer(reference="E39", amount=euros(unit(39)) + euros(unit(40)),
                   unstructured=("F-BQ-039 et F-BQ-040",))  # fmt: skip
    partial = Transfer(reference="E41", amount=Decimal("50.00"), unstructured=("F-BQ-041",))
    excess = Transfer(
        reference="E42", amount=euros(unit(42)) + Decimal(10), unstructured=("F-BQ-042",)
    )
    ambiguous = Transfer(reference="E43", amount=euros(unit(43)), payer="Client 43")
    unknown = [
        Transfer(reference=f"U{n}", amount=Decimal(f"{n}.99"), payer="Inconnu SAS",
                 unstructured=("cadeau",))
        for n in range(1, 6)
    ]  # fmt: skip
    debits = [
        Transfer(reference=f"D{n:02d}", amount=Decimal("19.90"), credit=False, payer="EDF")
        for n in range(1, 14)
    ]
    transfers = [*exact, *mangled, *by_name, two, partial, excess, ambiguous, *unknown, *debits]
    assert len(transfers) == 60
    return transfers, {"unit": unit}


def test_sixty_entries_in_two_overlapping_statements(moto_stack: MotoStack) -> None:
    transfers, _ = sixty_entries()
    for n in range(1, 45):
        # 43 and 44: one customer, two invoices of one amount (an amount-and-name tie).
        customer = 43 if n == 44 else n
        unit = 10000 + 100 * (43 if n == 44 else n)
        register(moto_stack, f"F-BQ-{n:03d}", unit, f"cus_bq_{customer}", f"Client {customer}")
    world = bank(moto_stack)
    assert len(world.invoices.open_invoices(datetime.now(UTC).date())) == 44

    # Two statements that overlap on five entries (E31..E35 are in both).
    first = world.import_(transfers[:35], "STMT-A")
    second = world.import_(transfers[30:], "STMT-B")
    assert (first.matched, first.to_review, first.already_known) == (35, 0, 0)
    assert first.by == {"reference": 30, "amount_and_name": 5}
    assert (second.matched, second.to_review, second.already_known) == (6, 6, 5)
    assert second.not_credits == 13
    assert second.by == {"reference": 3, "amount_and_name": 3}

    def summary(n: int) -> Any:
        found = world.ledger.get_invoice(f"F-BQ-{n:03d}")
        assert found is not None
        return found

    paid = [n for n in range(1, 41) if summary(n).status is InvoiceStatus.PAID]
    assert paid == list(range(1, 41))
    assert summary(41).status is InvoiceStatus.PARTIALLY_PAID
    assert summary(41).amount_paid.amount_minor == 5000
    assert summary(42).status is InvoiceStatus.OVERPAID
    assert {summary(n).status for n in (43, 44)} == {InvoiceStatus.OPEN}

    # Every payment has its numbered receipt, with the transfer's proofs.
    receipts = []
    for n in range(1, 43):
        record = world.ledger.load(f"F-BQ-{n:03d}")
        assert record is not None
        receipts += [d for d in record.documents if d.kind == "receipt"]
    assert len(receipts) == 42
    assert len({r.receipt_number for r in receipts}) == 42
    e05 = next(r for r in receipts if r.invoice_number == "F-BQ-005")
    assert e05.method is not None and e05.method.transfer_reference == "E05"
    assert e05.method.iban_masked == "FR76 **** 0129"
    split = sorted(r.payment_id for r in receipts if r.invoice_number in {"F-BQ-039", "F-BQ-040"})
    assert split == ["E39#F-BQ-039", "E39#F-BQ-040"]

    # Reminders stop: only the partly paid and the two untouched invoices are still open.
    still_open = {i.number for i in world.invoices.open_invoices(datetime.now(UTC).date())}
    assert still_open == {"F-BQ-041", "F-BQ-043", "F-BQ-044"}

    waiting = {r.entry.reference: (r.reason, r.candidates) for r in world.book.waiting()}
    assert waiting == {
        "E43": ("ambiguous", ("F-BQ-043", "F-BQ-044")),
        **{f"U{n}": ("unknown", ()) for n in range(1, 6)},
    }

    # The same statements again: nothing new anywhere.
    before = [world.ledger.load(f"F-BQ-{n:03d}") for n in range(1, 45)]
    again = [world.import_(transfers[:35], "STMT-A"), world.import_(transfers[30:], "STMT-B")]
    assert [(r.matched, r.to_review, r.events_published) for r in again] == [(0, 0, 0)] * 2
    assert [r.already_known for r in again] == [35, 17]
    assert [world.ledger.load(f"F-BQ-{n:03d}") for n in range(1, 45)] == before
    assert len(world.book.waiting()) == 6
