"""An invoice's state as a pure function of the SET of events known about it, and of the
receipts already issued.

Gateways deliver late, twice and out of order. Rather than mutate state event by event (where
a refund arriving before its payment, or a failure after a success, would depend on arrival
order), the ledger keeps every event and derives the invoice from all of them, read in the
order they happened (occurred_at, then event id). Any arrival order of the same events, with
any duplicates, derives the same status, paid and refunded totals, receipts and credit notes
owed: that is what makes redelivery and reordering safe.

One thing cannot wait for the full story: a receipt is issued when its payment arrives and
says where the invoice stood then (paid in full, 30.00 still due, a possible double charge).
So payments settle against the invoice in the order their receipts were issued (``receipted``),
and only payments not yet receipted in the order they happened. A payment that happened
earlier but arrived later can then never turn an issued "paid in full" into a double charge,
nor raise a second partial-payment notice: each anomaly lands on the payment whose receipt
stated it.

Per payment, an attempt moves only along ``ATTEMPT_TRANSITIONS``; an event that would move it
elsewhere (a failure after the success, a second success) is kept in the history as
``backwards`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from quittance.models.events import DisputeOutcome, EventType, PaymentEvent
from quittance.models.money import Money


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERPAID = "overpaid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    DISPUTE_LOST = "dispute_lost"
    CANCELLED = "cancelled"


class AttemptStatus(StrEnum):
    PENDING = "pending"
    """Only refunds or disputes are known so far: the payment's own event has not arrived."""
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    DISPUTED = "disputed"
    CHARGED_BACK = "charged_back"


# Where each payment attempt may go next. Refunds do not move an attempt: they are counted.
ATTEMPT_TRANSITIONS: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    AttemptStatus.PENDING: frozenset(
        {AttemptStatus.FAILED, AttemptStatus.SUCCEEDED, AttemptStatus.DISPUTED}
    ),
    AttemptStatus.FAILED: frozenset({AttemptStatus.FAILED, AttemptStatus.SUCCEEDED}),
    AttemptStatus.SUCCEEDED: frozenset({AttemptStatus.DISPUTED}),
    AttemptStatus.DISPUTED: frozenset({AttemptStatus.SUCCEEDED, AttemptStatus.CHARGED_BACK}),
    AttemptStatus.CHARGED_BACK: frozenset(),
}

# Invoice statuses a user sees, and where each may lead, by a payment event or by the business
# registering the invoice again (another amount, or cancelled). Derivation never leaves this
# graph; tests/unit/test_invoice_transitions.py produces every edge and none of the others.
INVOICE_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    InvoiceStatus.OPEN: frozenset(
        {
            InvoiceStatus.DISPUTE_LOST,
            InvoiceStatus.PARTIALLY_PAID,
            InvoiceStatus.PAID,
            InvoiceStatus.OVERPAID,
            InvoiceStatus.PARTIALLY_REFUNDED,
            InvoiceStatus.REFUNDED,
            InvoiceStatus.DISPUTED,
            InvoiceStatus.CANCELLED,
        }
    ),
    InvoiceStatus.PARTIALLY_PAID: frozenset(
        {
            InvoiceStatus.DISPUTE_LOST,
            InvoiceStatus.PAID,
            InvoiceStatus.OVERPAID,
            InvoiceStatus.PARTIALLY_REFUNDED,
            InvoiceStatus.REFUNDED,
            InvoiceStatus.DISPUTED,
            InvoiceStatus.CANCELLED,
        }
    ),
    InvoiceStatus.PAID: frozenset(
        {
            InvoiceStatus.DISPUTE_LOST,
            InvoiceStatus.PARTIALLY_PAID,  # registered again for more
            InvoiceStatus.OVERPAID,
            InvoiceStatus.PARTIALLY_REFUNDED,
            InvoiceStatus.REFUNDED,
            InvoiceStatus.DISPUTED,
            InvoiceStatus.CANCELLED,
        }
    ),
    InvoiceStatus.OVERPAID: frozenset(
        {
            InvoiceStatus.DISPUTE_LOST,
            InvoiceStatus.PARTIALLY_PAID,  # registered again for more
            InvoiceStatus.PAID,
            InvoiceStatus.PARTIALLY_REFUNDED,
            InvoiceStatus.REFUNDED,
            InvoiceStatus.DISPUTED,
            InvoiceStatus.CANCELLED,
        }
    ),
    InvoiceStatus.PARTIALLY_REFUNDED: frozenset(
        {
            InvoiceStatus.REFUNDED,
            InvoiceStatus.DISPUTED,
            InvoiceStatus.DISPUTE_LOST,
            InvoiceStatus.CANCELLED,
        }
    ),
    InvoiceStatus.REFUNDED: frozenset(
        {
            InvoiceStatus.PARTIALLY_REFUNDED,
            InvoiceStatus.DISPUTED,
            InvoiceStatus.DISPUTE_LOST,
            InvoiceStatus.CANCELLED,
        }
    ),
    InvoiceStatus.DISPUTED: frozenset(
        {
            InvoiceStatus.OPEN,
            InvoiceStatus.REFUNDED,
            InvoiceStatus.PAID,
            InvoiceStatus.OVERPAID,
            InvoiceStatus.PARTIALLY_PAID,
            InvoiceStatus.PARTIALLY_REFUNDED,
            InvoiceStatus.DISPUTE_LOST,
            InvoiceStatus.CANCELLED,
        }
    ),
    # No payment event leaves a lost dispute; the business may still cancel the invoice.
    InvoiceStatus.DISPUTE_LOST: frozenset({InvoiceStatus.CANCELLED}),
    # A cancelled invoice stays cancelled: registering it again as not cancelled is refused.
    InvoiceStatus.CANCELLED: frozenset(),
}


OPEN_STATUSES = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID})
"""Statuses in which a registered invoice still waits for money (and may be reminded)."""


class AnomalyKind(StrEnum):
    PARTIAL_PAYMENT = "partial_payment"
    OVERPAYMENT = "overpayment"
    CURRENCY_MISMATCH = "currency_mismatch"
    POSSIBLE_DOUBLE_CHARGE = "possible_double_charge"
    PAYMENT_ON_CANCELLED_INVOICE = "payment_on_cancelled_invoice"


# Which anomalies the customer hears about (the ops topic hears of all of them).
CUSTOMER_FACING = frozenset(
    {
        AnomalyKind.PARTIAL_PAYMENT,
        AnomalyKind.OVERPAYMENT,
        AnomalyKind.CURRENCY_MISMATCH,
        AnomalyKind.POSSIBLE_DOUBLE_CHARGE,
        AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE,
    }
)


@dataclass(frozen=True)
class Anomaly:
    kind: AnomalyKind
    payment_id: str
    amount: Money
    """The payment's amount; ``difference`` says what is missing or in excess."""
    difference: Money | None = None

    @property
    def key(self) -> str:
        """Stable identity: the same anomaly derived twice is one anomaly."""
        return f"{self.kind.value}#{self.payment_id}"


@dataclass(frozen=True)
class InvoiceTerms:
    """What the business registered (or, for a gateway-only invoice, the first payment)."""

    number: str
    amount_due: Money
    registered: bool
    cancelled: bool = False
    due_date: date | None = None


@dataclass(frozen=True)
class AttemptView:
    payment_id: str
    status: AttemptStatus
    amount: Money | None
    refunded: int = 0
    settles: bool = False
    """Counts toward the invoice (same currency, invoice not cancelled)."""


@dataclass(frozen=True)
class InvoiceView:
    terms: InvoiceTerms
    status: InvoiceStatus
    paid: Money
    """Received and kept (refunds and lost chargebacks deducted), in the invoice currency."""
    refunded: Money
    attempts: dict[str, AttemptView]
    receipts_due: frozenset[str]
    """Payment ids that earn a receipt: every attempt that succeeded, whatever came after,
    except money that is returned (wrong currency, cancelled invoice)."""
    credit_notes_due: frozenset[str]
    """Refund ids that earn a credit note: refunds of receipted payments."""
    anomalies: frozenset[Anomaly]
    backwards: frozenset[str] = field(default_factory=frozenset)
    """Event ids kept in the history that changed nothing."""

    @property
    def balance_due(self) -> Money:
        rest = max(self.terms.amount_due.amount_minor - self.paid.amount_minor, 0)
        return Money(amount_minor=rest, currency=self.terms.amount_due.currency)

    @property
    def excess(self) -> Money:
        extra = max(self.paid.amount_minor - self.terms.amount_due.amount_minor, 0)
        return Money(amount_minor=extra, currency=self.terms.amount_due.currency)


def _chronological(events: Iterable[PaymentEvent]) -> list[PaymentEvent]:
    unique = {event.event_id: event for event in events}
    return sorted(unique.values(), key=lambda e: (e.occurred_at, e.event_id))


@dataclass
class _Replay:
    """The attempts as the history leaves them (events in time order, each applied once)."""

    status: dict[str, AttemptStatus] = field(default_factory=dict)
    amounts: dict[str, Money] = field(default_factory=dict)
    refunds: dict[str, dict[str, int]] = field(default_factory=dict)
    """payment id → refund id → amount."""
    backwards: set[str] = field(default_factory=set)
    succeeded_order: list[str] = field(default_factory=list)

    def move(self, payment_id: str, target: AttemptStatus, event_id: str) -> bool:
        current = self.status.get(payment_id, AttemptStatus.PENDING)
        if target not in ATTEMPT_TRANSITIONS[current]:
            self.backwards.add(event_id)
            return False
        self.status[payment_id] = target
        return True

    def apply(self, event: PaymentEvent) -> None:
        pid = event.payment_id
        if event.type is EventType.PAYMENT_SUCCEEDED:
            if self.move(pid, AttemptStatus.SUCCEEDED, event.event_id):
                self.amounts[pid] = event.amount
                self.succeeded_order.append(pid)
        elif event.type is EventType.PAYMENT_FAILED:
            self.amounts.setdefault(pid, event.amount)
            self.move(pid, AttemptStatus.FAILED, event.event_id)
        elif event.type is EventType.REFUND_ISSUED and event.refund is not None:
            self.refunds.setdefault(pid, {})[event.refund.refund_id] = (
                event.refund.amount.amount_minor
            )
        elif event.type is EventType.DISPUTE_OPENED:
            self.amounts.setdefault(pid, event.amount)
            self.move(pid, AttemptStatus.DISPUTED, event.event_id)
        elif event.type is EventType.DISPUTE_CLOSED and event.dispute is not None:
            self.amounts.setdefault(pid, event.amount)
            # A close without its opening implies the opening; if even that is refused, the
            # whole event is kept as backwards.
            if self.status.get(pid) is not AttemptStatus.DISPUTED and not self.move(
                pid, AttemptStatus.DISPUTED, event.event_id
            ):
                return
            won = event.dispute.outcome is DisputeOutcome.WON
            self.move(
                pid,
                AttemptStatus.SUCCEEDED if won else AttemptStatus.CHARGED_BACK,
                event.event_id,
            )


def _anomaly(terms: InvoiceTerms, pid: str, amount: Money, paid: int) -> Anomaly | None:
    """What is wrong with a payment that succeeded, given what was already paid before it
    in the settlement order."""
    currency = terms.amount_due.currency
    due = terms.amount_due.amount_minor
    if terms.cancelled:
        return Anomaly(AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE, pid, amount)
    if amount.currency != currency:
        return Anomaly(AnomalyKind.CURRENCY_MISMATCH, pid, amount)
    if not (terms.registered or paid > 0):
        return None
    if paid >= due:
        return Anomaly(AnomalyKind.POSSIBLE_DOUBLE_CHARGE, pid, amount, amount)
    after = paid + amount.amount_minor
    if after == due:
        return None
    kind = AnomalyKind.PARTIAL_PAYMENT if after < due else AnomalyKind.OVERPAYMENT
    # The difference: what is still missing, or what was paid beyond the amount due.
    return Anomaly(kind, pid, amount, _money(abs(due - after), currency))


def derive(
    terms: InvoiceTerms,
    events: Iterable[PaymentEvent],
    *,
    receipted: Sequence[str] = (),
) -> InvoiceView:
    """``receipted``: payment ids already receipted, in the order their receipts were issued."""
    currency = terms.amount_due.currency
    replay = _Replay()
    for event in _chronological(events):
        replay.apply(event)
    status, amounts, refunds = replay.status, replay.amounts, replay.refunds
    anomalies: set[Anomaly] = set()

    # A payment that succeeded earns its receipt even if it was disputed afterwards.
    succeeded_ever = set(replay.succeeded_order)

    # Settlement: walk successful payments in the order customers were told of them (issued
    # receipts), then the rest in the order they happened.
    settlement = [p for p in receipted if p in succeeded_ever]
    settlement += [p for p in replay.succeeded_order if p not in settlement]
    paid = 0
    attempts: dict[str, AttemptView] = {}
    for pid in sorted(status, key=lambda p: (_position(settlement, p), p)):
        amount = amounts.get(pid)
        settles = (
            amount is not None
            and amount.currency == currency
            and not terms.cancelled
            and status[pid] in {AttemptStatus.SUCCEEDED, AttemptStatus.DISPUTED}
        )
        refunded = sum(refunds.get(pid, {}).values()) if pid in succeeded_ever else 0
        if pid in succeeded_ever and amount is not None:
            anomaly = _anomaly(terms, pid, amount, paid)
            if anomaly is not None:
                anomalies.add(anomaly)
        if settles and amount is not None:
            paid += amount.amount_minor
        attempts[pid] = AttemptView(pid, status[pid], amount, refunded, settles)

    refunded_total = sum(a.refunded for a in attempts.values() if a.settles)
    lost = sum(
        a.amount.amount_minor
        for a in attempts.values()
        if a.status is AttemptStatus.CHARGED_BACK and a.amount and a.amount.currency == currency
    )
    kept = max(paid - refunded_total, 0)
    view_status = _status(terms, attempts, paid=paid, refunded=refunded_total, lost=lost, kept=kept)
    # Money in the wrong currency or for a cancelled invoice is returned, not receipted.
    unreceipted = {
        a.payment_id
        for a in anomalies
        if a.kind in {AnomalyKind.CURRENCY_MISMATCH, AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE}
    }
    return InvoiceView(
        terms=terms,
        status=view_status,
        paid=_money(kept, currency),
        refunded=_money(refunded_total, currency),
        attempts=attempts,
        receipts_due=frozenset(succeeded_ever - unreceipted),
        credit_notes_due=frozenset(
            refund_id for pid in succeeded_ever - unreceipted for refund_id in refunds.get(pid, {})
        ),
        anomalies=frozenset(anomalies),
        backwards=frozenset(replay.backwards),
    )


def _position(order: list[str], payment_id: str) -> int:
    return order.index(payment_id) if payment_id in order else len(order)


def _money(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor=amount_minor, currency=currency)


def _status(
    terms: InvoiceTerms,
    attempts: dict[str, AttemptView],
    *,
    paid: int,
    refunded: int,
    lost: int,
    kept: int,
) -> InvoiceStatus:
    due = terms.amount_due.amount_minor
    disputed = any(a.status is AttemptStatus.DISPUTED for a in attempts.values())
    first_true = (
        (terms.cancelled, InvoiceStatus.CANCELLED),
        (lost > 0, InvoiceStatus.DISPUTE_LOST),
        (disputed, InvoiceStatus.DISPUTED),
        (refunded > 0 and kept == 0, InvoiceStatus.REFUNDED),
        (refunded > 0, InvoiceStatus.PARTIALLY_REFUNDED),
        (paid == 0, InvoiceStatus.OPEN),
        (paid < due, InvoiceStatus.PARTIALLY_PAID),
        (paid == due, InvoiceStatus.PAID),
    )
    return next((status for holds, status in first_true if holds), InvoiceStatus.OVERPAID)
