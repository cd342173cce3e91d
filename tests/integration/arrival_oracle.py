"""What each receipt and anomaly report must say, given the order events ARRIVED in.

Worked out here by a plain replay, independently of ``quittance.ledger.state``: a receipt is
issued when its payment first arrives, and states where the invoice stood at that moment.
Payments settle in the order they arrived; a payment whose dispute was lost no longer counts;
money in another currency, or for a cancelled invoice, is returned and gets no receipt. An
anomaly is reported the first time the ledger sees it, and stays reported.

The in-order delivery is the special case where arrival order is the order things happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from quittance.ledger.state import AnomalyKind, InvoiceStatus
from quittance.models.events import DisputeOutcome, EventType, PaymentEvent
from quittance.models.money import Money


@dataclass(frozen=True)
class Standing:
    """What one receipt states beside its amount."""

    status: InvoiceStatus
    balance_minor: int


@dataclass(frozen=True)
class Invoice:
    """Registered terms (``due`` set), or a gateway-only invoice (``due`` None)."""

    due: Money | None
    cancelled: bool = False


@dataclass
class Expected:
    standings: dict[str, Standing] = field(default_factory=dict)
    """Payment id → what its receipt states, for every payment that earns one."""
    anomalies: set[str] = field(default_factory=set)
    """Anomaly keys (``kind#payment``) reported at some point."""
    credit_notes: dict[str, str] = field(default_factory=dict)
    """Refund id → refunded payment id, for refunds of receipted payments."""


def _standing(paid_before: int, amount: int, due: int) -> tuple[Standing, AnomalyKind | None]:
    if paid_before >= due:
        return Standing(InvoiceStatus.OVERPAID, amount), AnomalyKind.POSSIBLE_DOUBLE_CHARGE
    if paid_before + amount < due:
        missing = due - paid_before - amount
        return Standing(InvoiceStatus.PARTIALLY_PAID, missing), AnomalyKind.PARTIAL_PAYMENT
    if paid_before + amount > due:
        excess = paid_before + amount - due
        return Standing(InvoiceStatus.OVERPAID, excess), AnomalyKind.OVERPAYMENT
    return Standing(InvoiceStatus.PAID, 0), None


def replay(invoice: Invoice, deliveries: Iterable[PaymentEvent]) -> Expected:
    expected = Expected()
    seen: set[str] = set()
    arrived: list[str] = []  # payments whose success has arrived, in arrival order
    amounts: dict[str, Money] = {}
    lost: set[str] = set()
    refunds: dict[str, str] = {}
    for event in deliveries:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        pid = event.payment_id
        if event.type is EventType.PAYMENT_SUCCEEDED and pid not in amounts:
            arrived.append(pid)
            amounts[pid] = event.amount
        elif event.type is EventType.REFUND_ISSUED and event.refund is not None:
            refunds[event.refund.refund_id] = pid
        elif (
            event.type is EventType.DISPUTE_CLOSED
            and event.dispute is not None
            and event.dispute.outcome is DisputeOutcome.LOST
        ):
            lost.add(pid)
        if not arrived:
            continue
        # Where every arrived payment stands now (a lost dispute can change later ones).
        due = invoice.due or amounts[arrived[0]]
        paid = 0
        for payment in arrived:
            amount = amounts[payment]
            if invoice.cancelled:
                expected.anomalies.add(f"{AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE}#{payment}")
                continue
            if amount.currency != due.currency:
                expected.anomalies.add(f"{AnomalyKind.CURRENCY_MISMATCH}#{payment}")
                continue
            if invoice.due is None and paid == 0:
                standing, anomaly = Standing(InvoiceStatus.PAID, 0), None
            else:
                standing, anomaly = _standing(paid, amount.amount_minor, due.amount_minor)
            expected.standings.setdefault(payment, standing)  # fixed when first issued
            if anomaly is not None:
                expected.anomalies.add(f"{anomaly}#{payment}")
            if payment not in lost:
                paid += amount.amount_minor
    expected.credit_notes = {
        refund: pid for refund, pid in refunds.items() if pid in expected.standings
    }
    return expected
