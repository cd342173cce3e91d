"""Apply one gateway event to the ledger, exactly once, whatever order events arrive in.

The event joins its invoice's history; the invoice is derived again from the whole history
and the receipts already issued (:mod:`quittance.ledger.state`); what the new derivation owes
that the old one did not — a receipt, a credit note, an anomaly report — is numbered and
written in the same transaction as the event, so no crash or retry can leave a gap, a double,
or an event without its effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

# Re-exported: its home is a module of its own, which intake imports without these rules.
from quittance.ledger.customer_ids import (
    pseudonymous_customer_id as pseudonymous_customer_id,  # noqa: PLC0414
)
from quittance.ledger.model import (
    SERIES,
    DocumentKind,
    InvoiceRecord,
    ReceiptRecord,
    receipt_number,
)
from quittance.ledger.state import (
    Anomaly,
    AnomalyKind,
    InvoiceStatus,
    InvoiceTerms,
    InvoiceView,
    derive,
)
from quittance.ledger.taxation import Taxation, part_of
from quittance.models.events import CustomerDetails, EventType, PaymentEvent
from quittance.models.money import Money

MAX_ATTEMPTS = 8


class WriteConflict(Exception):
    """Another writer changed the invoice or a counter first; read again and retry."""


class EventAlreadyApplied(Exception):
    """The event is in the ledger already (a redelivered or replayed event)."""


@dataclass(frozen=True)
class Commit:
    """One atomic write: the event, the invoice as now derived, and what it produced."""

    invoice_number: str
    version_before: int | None
    event: PaymentEvent
    view: InvoiceView
    customer_id: str | None
    documents: tuple[ReceiptRecord, ...]
    anomalies: tuple[Anomaly, ...]
    counters: dict[tuple[str, int], tuple[int, int]]
    """(series, year) → (value read, value written)."""
    produced: list[str]
    new_payment_ids: tuple[str, ...]
    activity_at: datetime
    """The invoice's newest activity once this is written (the retirement index's day)."""


class LedgerStore(Protocol):
    def invoice_for_payment(self, payment_id: str) -> str | None: ...

    def load(self, invoice_number: str) -> InvoiceRecord | None: ...

    def counter(self, series: str, year: int) -> int: ...

    def commit(self, commit: Commit) -> None:
        """One transaction; raises WriteConflict or EventAlreadyApplied."""


class CustomerProfiles(Protocol):
    def remember(
        self,
        customer_id: str,
        details: CustomerDetails,
        now: datetime,
        *,
        as_of: datetime | None = None,
    ) -> object:
        """Whatever it reports, the ledger goes on: it writes no contact data itself."""

    def record_marketing_consent(
        self, customer_id: str, granted: bool, at: datetime, source: str, *, only_if_newer: bool
    ) -> bool: ...


@dataclass(frozen=True)
class LedgerOutcome:
    invoice_number: str
    status: InvoiceStatus
    documents: tuple[ReceiptRecord, ...]
    """Documents this event produced (on a redelivery: the ones it produced the first time)."""
    anomalies: tuple[Anomaly, ...]
    duplicate: bool
    backwards: bool = False
    customer_id: str | None = None
    view: InvoiceView | None = field(default=None, compare=False)


def terms_for(
    record: InvoiceRecord | None, number: str, events: list[PaymentEvent]
) -> InvoiceTerms:
    """Registered terms, or for a gateway-only invoice what its first payment says it was:
    the first one receipted, whose receipt already called the invoice paid, else the first
    that happened."""
    if record is not None and record.registered_terms is not None:
        return record.registered_terms
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    successes = [e for e in ordered if e.type is EventType.PAYMENT_SUCCEEDED]
    receipted = record.receipted if record is not None else ()
    first = next(
        (e for e in successes if receipted and e.payment_id == receipted[0]),
        successes[0] if successes else ordered[0],
    )
    return InvoiceTerms(number=number, amount_due=first.amount, registered=False)


def apply_event(
    event: PaymentEvent,
    *,
    store: LedgerStore,
    profiles: CustomerProfiles,
    now: datetime,
    calendar: str = "Europe/Paris",
) -> LedgerOutcome:
    """``calendar`` is the business's time zone: a receipt is numbered in the series of the
    year it is issued in there (00:30 on 1 January in Paris is 2027's series, though UTC
    still says 31 December 2026)."""
    if event.failure is not None and event.failure.payment_update_url:
        # The gateway's page for paying again opens the payer's invoice and expires: it goes
        # on to the message (follow_ups reads it from the queued event), not into the ledger.
        failure = event.failure.model_copy(update={"payment_update_url": None})
        event = event.model_copy(update={"failure": failure})
    number = (
        event.invoice_number
        or store.invoice_for_payment(event.payment_id)
        or f"GW-{event.payment_id}"
    )
    event_customer = (
        pseudonymous_customer_id(event.provider, event.customer.reference)
        if event.customer
        else None
    )
    if event.customer is not None and event_customer is not None:
        profiles.remember(event_customer, event.customer, now, as_of=event.occurred_at)
        if event.customer.marketing_consent is not None:
            # As of the moment the payer chose, so that a replayed or late event never
            # overrides a later choice (an unsubscribe in between stays).
            profiles.record_marketing_consent(
                event_customer,
                event.customer.marketing_consent,
                event.occurred_at,
                f"{event.provider}_checkout",
                only_if_newer=True,
            )
    for _ in range(MAX_ATTEMPTS):
        record = store.load(number)
        if record is not None and any(e.event_id == event.event_id for e in record.events):
            return _redelivered(record, event)
        history = [*(record.events if record else ()), event]
        terms = terms_for(record, number, history)
        after = derive(terms, history, receipted=record.receipted if record else ())
        customer_id = (record.customer_id if record else None) or event_customer
        commit = _commit(
            record=record,
            number=number,
            event=event,
            view=after,
            customer_id=customer_id,
            store=store,
            now=now,
            series_year=now.astimezone(ZoneInfo(calendar)).year,
        )
        try:
            store.commit(commit)
        except (WriteConflict, EventAlreadyApplied):
            continue  # read again: the next pass applies on top, or finds it applied
        # What was just written is what this event produced: no need to read it back.
        return LedgerOutcome(
            invoice_number=number,
            status=after.status,
            documents=commit.documents,
            anomalies=commit.anomalies,
            duplicate=False,
            backwards=event.event_id in after.backwards,
            customer_id=customer_id,
            view=after,
        )
    raise WriteConflict(f"invoice {number}: gave up after {MAX_ATTEMPTS} conflicting writes")


def _commit(
    *,
    record: InvoiceRecord | None,
    number: str,
    event: PaymentEvent,
    view: InvoiceView,
    customer_id: str | None,
    store: LedgerStore,
    now: datetime,
    series_year: int,
) -> Commit:
    documents: list[ReceiptRecord] = []
    counters: dict[tuple[str, int], tuple[int, int]] = {}

    def next_number(kind: DocumentKind) -> str:
        key = (SERIES[kind], series_year)
        read, written = counters.get(key) or (store.counter(*key),) * 2
        counters[key] = (read, written + 1)
        return receipt_number(key[0], key[1], written + 1)

    by_payment = {e.payment_id: e for e in _successes(record, event)}
    issued_receipts = {
        d.payment_id: d for d in (record.documents if record else ()) if d.kind == "receipt"
    }
    issued_notes = {
        d.refund_id for d in (record.documents if record else ()) if d.kind == "credit_note"
    }
    anomalies_of = {a.payment_id: a for a in view.anomalies}
    # Receipts first, in the order payments happened, so numbers follow the payments.
    for payment_id in sorted(
        view.receipts_due - issued_receipts.keys(), key=lambda p: _when(by_payment, p)
    ):
        paid = by_payment[payment_id]
        status, balance = _receipt_statement(anomalies_of.get(payment_id), paid.amount)
        receipt = ReceiptRecord(
            receipt_number=next_number("receipt"),
            invoice_number=number,
            payment_id=payment_id,
            customer_id=customer_id or "unknown",
            amount=paid.amount,
            method=paid.method,
            balance_due=balance,
            invoice_status=status,
            paid_at=paid.occurred_at,
            issued_at=now,
            next_steps=paid.next_steps,
            taxation=_declared(record, view, paid.amount),
        )
        documents.append(receipt)
        issued_receipts[payment_id] = receipt
    for refund in sorted(_refunds(record, event), key=lambda e: (e.occurred_at, e.event_id)):
        assert refund.refund is not None
        refund_id = refund.refund.refund_id
        if refund_id not in view.credit_notes_due or refund_id in issued_notes:
            continue
        original = issued_receipts.get(refund.payment_id)
        documents.append(
            ReceiptRecord(
                receipt_number=next_number("credit_note"),
                kind="credit_note",
                invoice_number=number,
                payment_id=refund.payment_id,
                refund_id=refund_id,
                original_receipt_number=original.receipt_number if original else None,
                customer_id=customer_id or "unknown",
                amount=refund.refund.amount,
                method=original.method if original else refund.method,
                balance_due=Money(amount_minor=0, currency=refund.refund.amount.currency),
                invoice_status=InvoiceStatus.REFUNDED,
                paid_at=refund.occurred_at,
                issued_at=now,
                taxation=part_of(original.taxation, refund.refund.amount, original.amount)
                if original is not None and original.taxation is not None
                else None,
            )
        )
        issued_notes.add(refund_id)
    reported = record.reported_anomalies if record else frozenset()
    anomalies = tuple(
        sorted((a for a in view.anomalies if a.key not in reported), key=lambda a: a.key)
    )
    known_payments = {e.payment_id for e in (record.events if record else ())}
    times = (event.occurred_at, *(d.issued_at for d in documents))
    return Commit(
        invoice_number=number,
        version_before=record.version if record else None,
        event=event,
        view=view,
        customer_id=customer_id,
        documents=tuple(documents),
        anomalies=anomalies,
        counters=counters,
        produced=[d.receipt_number for d in documents] + [a.key for a in anomalies],
        new_payment_ids=(event.payment_id,) if event.payment_id not in known_payments else (),
        activity_at=record.newest_activity(*times) if record else max(times),
    )


def _declared(record: InvoiceRecord | None, view: InvoiceView, amount: Money) -> Taxation | None:
    """The invoice's VAT as registered now, in proportion to ``amount``."""
    whole = record.registered_taxation if record is not None else None
    if whole is None or not view.terms.registered:
        return None
    return part_of(whole, amount, view.terms.amount_due)


def _successes(record: InvoiceRecord | None, event: PaymentEvent) -> list[PaymentEvent]:
    events = [*(record.events if record else ()), event]
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    first: dict[str, PaymentEvent] = {}
    for e in ordered:
        if e.type is EventType.PAYMENT_SUCCEEDED:
            first.setdefault(e.payment_id, e)
    return list(first.values())


def _refunds(record: InvoiceRecord | None, event: PaymentEvent) -> list[PaymentEvent]:
    events = [*(record.events if record else ()), event]
    return [e for e in events if e.type is EventType.REFUND_ISSUED and e.refund is not None]


def _when(by_payment: dict[str, PaymentEvent], payment_id: str) -> tuple[datetime, str]:
    paid = by_payment[payment_id]
    return paid.occurred_at, paid.event_id


def _receipt_statement(anomaly: Anomaly | None, amount: Money) -> tuple[InvoiceStatus, Money]:
    """What a receipt says beside the amount; an anomaly never reads "paid in full"."""
    zero = Money(amount_minor=0, currency=amount.currency)
    if anomaly is None:
        return InvoiceStatus.PAID, zero
    if anomaly.kind is AnomalyKind.PARTIAL_PAYMENT:
        return InvoiceStatus.PARTIALLY_PAID, anomaly.difference or zero
    if anomaly.kind in {AnomalyKind.OVERPAYMENT, AnomalyKind.POSSIBLE_DOUBLE_CHARGE}:
        return InvoiceStatus.OVERPAID, anomaly.difference or amount
    return InvoiceStatus.PAID, zero


def _redelivered(record: InvoiceRecord, event: PaymentEvent) -> LedgerOutcome:
    produced = set(record.outcomes.get(event.event_id, []))
    terms = terms_for(record, record.number, list(record.events))
    view = derive(terms, record.events, receipted=record.receipted)
    return LedgerOutcome(
        invoice_number=record.number,
        status=view.status,
        documents=tuple(d for d in record.documents if d.receipt_number in produced),
        anomalies=tuple(a for a in view.anomalies if a.key in produced),
        duplicate=True,
        backwards=event.event_id in view.backwards,
        customer_id=record.customer_id,
        view=view,
    )
