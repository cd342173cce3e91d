"""In-memory fakes of the domain's ports, faithful to the semantics of the real adapters.

- :class:`FakeSecrets` — ``quittance.intake.SigningSecrets``
- :class:`RecordingPublisher` — ``quittance.intake.EventPublisher`` (at most once per
  ``(provider, event_id)``, like ``quittance.aws.publisher.DedupedPublisher``)
- :class:`FakeLedgerStore` — ``quittance.ledger.service.LedgerStore`` (the conditions of
  ``quittance.aws.ledger_table.LedgerTable.commit_payment``: one all-or-nothing transaction)
- :class:`FakeProfiles` — ``quittance.ledger.service.CustomerProfiles``
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from quittance.ledger.model import Invoice, Payment, ReceiptRecord
from quittance.ledger.service import PaymentAlreadyRecorded, WriteConflict
from quittance.models.events import CustomerDetails, PaymentEvent
from quittance.models.messages import PaymentEventMessage


class FakeSecrets:
    """Active signing secrets per provider; remembers which providers were asked for."""

    def __init__(self, secrets: Mapping[str, Sequence[str]]) -> None:
        self._secrets = {name: tuple(values) for name, values in secrets.items()}
        self.asked: list[str] = []

    def for_provider(self, provider: str) -> Sequence[str]:
        self.asked.append(provider)
        return self._secrets.get(provider, ())


class RecordingPublisher:
    """Queues a message once per ``(provider, event_id)``; a repeat answers False."""

    def __init__(self) -> None:
        self.published: list[PaymentEventMessage] = []
        self.keys: set[tuple[str, str]] = set()
        self.calls = 0

    def publish_once(self, message: PaymentEventMessage) -> bool:
        self.calls += 1
        key = (message.event.provider, message.event.event_id)
        if key in self.keys:
            return False
        self.keys.add(key)
        self.published.append(message)
        return True


@dataclass
class FakeProfiles:
    remembered: list[tuple[str, CustomerDetails, datetime]] = field(default_factory=list)

    def remember(self, customer_id: str, details: CustomerDetails, now: datetime) -> None:
        self.remembered.append((customer_id, details, now))


class FakeLedgerStore:
    """The ledger table in memory.

    ``commit_payment`` checks what the DynamoDB transaction's conditions check, in the same
    order, and writes nothing unless every check passes:

    - the payment item must not exist → else :class:`PaymentAlreadyRecorded`;
    - the invoice must not exist (``before is None``) or still have ``before.version``;
    - the counter must still be ``counter_before`` (absent when 0);
    - the receipt item must not exist → else :class:`WriteConflict`.

    ``before_commit`` (run once, then cleared) lets a test play a concurrent writer that
    commits between this writer's reads and its commit.
    """

    def __init__(self) -> None:
        self.invoices: dict[str, Invoice] = {}
        self.payments: dict[tuple[str, str], Payment] = {}
        self.receipts: dict[tuple[str, str], ReceiptRecord] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.events: list[PaymentEvent] = []
        self.commit_attempts = 0
        self.conflicts = 0
        self.before_commit: Callable[[FakeLedgerStore], None] | None = None

    # -------------------------------------------------------------- test set-up
    def seed_invoice(self, invoice: Invoice) -> None:
        self.invoices[invoice.number] = invoice

    def all_receipt_numbers(self) -> list[str]:
        return sorted(number for _, number in self.receipts)

    # -------------------------------------------------------------- reads
    def get_invoice(self, number: str) -> Invoice | None:
        return self.invoices.get(number)

    def get_payment(self, invoice_number: str, payment_id: str) -> Payment | None:
        return self.payments.get((invoice_number, payment_id))

    def get_receipt(self, invoice_number: str, number: str) -> ReceiptRecord | None:
        return self.receipts.get((invoice_number, number))

    def counter(self, series: str, year: int) -> int:
        return self.counters.get((series, year), 0)

    # -------------------------------------------------------------- writes
    def commit_payment(
        self,
        *,
        before: Invoice | None,
        after: Invoice,
        payment: Payment,
        receipt: ReceiptRecord,
        series: str,
        year: int,
        counter_before: int,
        event: PaymentEvent,
    ) -> None:
        self.commit_attempts += 1
        if self.before_commit is not None:
            concurrent, self.before_commit = self.before_commit, None
            concurrent(self)
        number = after.number
        if (number, payment.payment_id) in self.payments:
            raise PaymentAlreadyRecorded(payment.payment_id)
        stored = self.invoices.get(number)
        if before is None:
            invoice_ok = stored is None
        else:
            invoice_ok = stored is not None and stored.version == before.version
        counter_ok = self.counters.get((series, year), 0) == counter_before
        receipt_ok = (number, receipt.receipt_number) not in self.receipts
        if not (invoice_ok and counter_ok and receipt_ok):
            self.conflicts += 1
            raise WriteConflict(
                f"invoice_ok={invoice_ok} counter_ok={counter_ok} receipt_ok={receipt_ok}"
            )
        self.payments[(number, payment.payment_id)] = payment
        self.invoices[number] = after
        self.counters[(series, year)] = counter_before + 1
        self.receipts[(number, receipt.receipt_number)] = receipt
        self.events.append(event)
