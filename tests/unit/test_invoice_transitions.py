"""Every invoice transition, allowed and forbidden, against ``INVOICE_TRANSITIONS``.

From each invoice status (reached by several different histories) every kind of next change
is tried: a payment of the rest, of part of it, of more, of the whole amount again; a failure;
a partial or full refund; a dispute opened, won or lost; the invoice cancelled, or registered
again for another amount. Each (from, to) pair the table allows must be produced by at least
one of them; each pair it forbids by none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pytest

from quittance.ledger.state import (
    INVOICE_TRANSITIONS,
    AttemptStatus,
    InvoiceStatus,
    InvoiceTerms,
    InvoiceView,
    derive,
)
from quittance.models.events import DisputeOutcome, PaymentEvent
from tests.unit.test_ledger_state import (
    OTHER,
    PAY,
    dispute_closed,
    dispute_opened,
    eur,
    failed,
    refunded,
    succeeded,
    terms,
    usd,
)

Status = InvoiceStatus
DUE = 10_000
LATER = "pi_0003"


@dataclass(frozen=True)
class Start:
    name: str
    terms: InvoiceTerms
    events: tuple[PaymentEvent, ...]


def _start(name: str, *events: PaymentEvent, cancelled: bool = False) -> Start:
    return Start(name, terms(DUE, cancelled=cancelled), events)


DISPUTED_PAID = (succeeded(PAY, eur(DUE), at=1), dispute_opened(PAY, eur(DUE), at=2))

STARTS = (
    _start("nothing yet"),
    _start("a failed attempt", failed(PAY, eur(DUE), at=1)),
    _start("40 % paid", succeeded(PAY, eur(4_000), at=1)),
    _start("paid", succeeded(PAY, eur(DUE), at=1)),
    _start("paid in two", succeeded(PAY, eur(4_000), at=1), succeeded(OTHER, eur(6_000), at=2)),
    _start("paid 120 %", succeeded(PAY, eur(12_000), at=1)),
    _start("paid twice", succeeded(PAY, eur(DUE), at=1), succeeded(OTHER, eur(DUE), at=2)),
    _start("30 % refunded", succeeded(PAY, eur(DUE), at=1),
           refunded(PAY, "re_a", eur(3_000), at=2)),
    _start("refunded", succeeded(PAY, eur(DUE), at=1), refunded(PAY, "re_a", eur(DUE), at=2)),
    _start("paid, disputed", *DISPUTED_PAID),
    _start("40 % paid, disputed", succeeded(PAY, eur(4_000), at=1),
           dispute_opened(PAY, eur(4_000), at=2)),
    _start("paid twice, one disputed", *DISPUTED_PAID, succeeded(OTHER, eur(DUE), at=3)),
    _start("refunded, then disputed", succeeded(PAY, eur(DUE), at=1),
           refunded(PAY, "re_a", eur(DUE), at=2), dispute_opened(PAY, eur(DUE), at=3)),
    _start("30 % refunded, then disputed", succeeded(PAY, eur(DUE), at=1),
           refunded(PAY, "re_a", eur(3_000), at=2), dispute_opened(PAY, eur(DUE), at=3)),
    _start("dispute lost", *DISPUTED_PAID,
           dispute_closed(PAY, eur(DUE), DisputeOutcome.LOST, at=3)),
    _start("a refund before its payment", refunded(PAY, "re_a", eur(3_000), at=2)),
    _start("a full refund before its payment", refunded(PAY, "re_a", eur(DUE), at=2)),
    _start("a dollar payment disputed before it was seen", dispute_opened(PAY, usd(DUE), at=1)),
    _start("cancelled", cancelled=True),
    _start("cancelled after a payment", succeeded(PAY, eur(DUE), at=1), cancelled=True),
)  # fmt: skip


@dataclass(frozen=True)
class Change:
    """The next thing that happens to an invoice in a given state, or None if it cannot."""

    name: str
    apply: Callable[[Start, InvoiceView], Start | None]


def _event(
    make: Callable[[Start, InvoiceView], PaymentEvent | None],
) -> Callable[..., Start | None]:
    def apply(start: Start, view: InvoiceView) -> Start | None:
        event = make(start, view)
        return None if event is None else replace(start, events=(*start.events, event))

    return apply


def _terms(**changes: object) -> Callable[[Start, InvoiceView], Start | None]:
    def apply(start: Start, _: InvoiceView) -> Start | None:
        return replace(start, terms=replace(start.terms, **changes))

    return apply


def _pay(
    amount: Callable[[InvoiceView], int],
) -> Callable[[Start, InvoiceView], PaymentEvent | None]:
    def make(_: Start, view: InvoiceView) -> PaymentEvent | None:
        cents = amount(view)
        return succeeded(LATER, eur(cents), at=10) if cents > 0 else None

    return make


def _refund(part: Callable[[int], int]) -> Callable[[Start, InvoiceView], PaymentEvent | None]:
    def make(_: Start, view: InvoiceView) -> PaymentEvent | None:
        attempt = view.attempts.get(PAY)
        if attempt is None or attempt.amount is None or attempt.status is AttemptStatus.FAILED:
            return None
        left = attempt.amount.amount_minor - attempt.refunded
        cents = part(left)
        return refunded(PAY, f"re_{cents}", eur(cents), at=10) if 0 < cents <= left else None

    return make


def _close(outcome: DisputeOutcome) -> Callable[[Start, InvoiceView], PaymentEvent | None]:
    """The payment's dispute closed; a close with no opening seen carries its opening."""
    return lambda _, view: (
        dispute_closed(PAY, eur(DUE), outcome, at=10)
        if view.attempts.get(PAY) and view.attempts[PAY].status is not AttemptStatus.FAILED
        else None
    )


def _arrives(_: Start, view: InvoiceView) -> PaymentEvent | None:
    """The payment's own success, late: only refunds or disputes of it were known."""
    known = view.attempts.get(PAY)
    return succeeded(PAY, eur(DUE), at=1) if known is None else None


CHANGES = (
    Change("a payment of the rest", _event(_pay(lambda v: v.balance_due.amount_minor))),
    Change("a payment of part of the rest",
           _event(_pay(lambda v: v.balance_due.amount_minor // 2))),
    Change("a payment of more than the rest",
           _event(_pay(lambda v: v.balance_due.amount_minor + 1_000))),
    Change("the whole amount paid again", _event(_pay(lambda _: DUE))),
    Change("a failed attempt", _event(lambda _s, _v: failed(LATER, eur(DUE), at=10))),
    Change("part of the payment refunded", _event(_refund(lambda left: min(1_000, left - 1)))),
    Change("the rest of the payment refunded", _event(_refund(lambda left: left))),
    Change("the payment disputed", _event(lambda _s, _v: dispute_opened(PAY, eur(DUE), at=10))),
    Change("the dispute won", _event(_close(DisputeOutcome.WON))),
    Change("the dispute lost", _event(_close(DisputeOutcome.LOST))),
    Change("a chargeback of a payment never seen",
           _event(lambda _s, _v: dispute_closed(LATER, eur(DUE), DisputeOutcome.LOST, at=10))),
    Change("the refunded payment arrives late", _event(_arrives)),
    Change("the invoice cancelled", _terms(cancelled=True)),
    Change("registered again for 40.00", _terms(amount_due=eur(4_000))),
    Change("registered again for 200.00", _terms(amount_due=eur(20_000))),
)  # fmt: skip


@cache
def observed() -> dict[tuple[Status, Status], list[str]]:
    """Every status change produced by one change from one start, with how it came about."""
    seen: dict[tuple[Status, Status], list[str]] = {}
    for start in STARTS:
        before = derive(start.terms, start.events)
        for change in CHANGES:
            after = change.apply(start, before)
            if after is None:
                continue
            status = derive(after.terms, after.events).status
            if status is not before.status:
                seen.setdefault((before.status, status), []).append(f"{start.name} + {change.name}")
    return seen


ALLOWED = sorted((a, b) for a, targets in INVOICE_TRANSITIONS.items() for b in targets)
FORBIDDEN = sorted(
    (a, b) for a in Status for b in Status if a is not b and b not in INVOICE_TRANSITIONS[a]
)


def test_the_starting_histories_reach_every_status() -> None:
    reached = {derive(s.terms, s.events).status for s in STARTS}
    assert reached == set(Status)


@pytest.mark.parametrize(("before", "after"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_every_allowed_transition_happens(before: Status, after: Status) -> None:
    # Given every starting history and every next change
    # When each change is applied to each history
    # Then this allowed transition is one of the status changes produced
    assert (before, after) in observed(), f"nothing takes an invoice from {before} to {after}"


@pytest.mark.parametrize(("before", "after"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_no_change_makes_a_forbidden_transition(before: Status, after: Status) -> None:
    # Given every starting history and every next change
    # When each change is applied to each history
    # Then none takes the invoice along this forbidden pair
    assert (before, after) not in observed(), observed()[(before, after)]


def test_the_table_counts_its_edges() -> None:
    # 9 statuses, 72 ordered pairs: 46 allowed, 26 forbidden; only a cancelled invoice is
    # final, and the business can cancel an invoice in any other status
    assert (len(ALLOWED), len(FORBIDDEN)) == (46, 26)
    assert INVOICE_TRANSITIONS[Status.CANCELLED] == set()
    assert all(
        Status.CANCELLED in targets
        for status, targets in INVOICE_TRANSITIONS.items()
        if status is not Status.CANCELLED
    )


def test_the_diagram_in_docs_is_the_table() -> None:
    text = (Path(__file__).parents[2] / "docs" / "ledger.md").read_text()
    diagram = text.split("stateDiagram-v2", 1)[1].split("```", 1)[0]
    edges = {
        tuple(line.strip().split(" --> "))
        for line in diagram.splitlines()
        if "-->" in line and "[*]" not in line
    }
    assert edges == {(a.value, b.value) for a, b in ALLOWED}
