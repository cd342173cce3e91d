"""Each partial refund is credited at its own amount, exactly once, by its refund id, on the
current API version (``charge.refunded`` without a ``refunds`` list, ``amount_refunded``
cumulative; ``refund.*`` events) and on 2022-08-01 (the list embedded) — issue 16."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from quittance.gateways.stripe_lookup import complete_stripe
from quittance.models.events import EventType, PaymentEvent
from tests import gateway_objects as so
from tests.unit.gateway_fakes import FakeStripeApi
from tests.unit.test_stripe_lookups import deliver

CHARGE = "ch_3QgRefunds000001"
INTENT = "pi_3QgRefunds000001"
AMOUNTS = (1000, 500, 250)  # 10.00, 5.00, 2.50 of a 100.00 charge


def refunds() -> list[dict[str, Any]]:
    return [
        so.refund(f"re_3QgRefund{n:08d}", CHARGE, INTENT, amount, created=so.CREATED + 3600 * n)
        for n, amount in enumerate(AMOUNTS, start=1)
    ]


def charge_after(count: int, version: so.Version) -> dict[str, Any]:
    """The charge as the n-th charge.refunded event carries it."""
    return so.charge(
        CHARGE,
        INTENT,
        10000,
        method=so.card_details(),
        billing=so.billing_details("a@example.fr", "A", city=None),
        version=version,
        refunds=refunds()[:count],
    )


def events_of(event: dict[str, Any], api: FakeStripeApi) -> tuple[PaymentEvent, ...]:
    parsed = deliver(event)
    looked_up = tuple(e for lk in parsed.lookups for e in complete_stripe(lk, api).events)
    return parsed.events + looked_up


def credited(events: list[PaymentEvent]) -> dict[str, int]:
    """What the ledger credits: one amount per refund id (quittance.ledger.state)."""
    by_refund: dict[str, int] = {}
    for event in events:
        assert event.type is EventType.REFUND_ISSUED and event.refund is not None
        assert event.payment_id == INTENT
        by_refund[event.refund.refund_id] = event.refund.amount.amount_minor
    return by_refund


EXPECTED = {f"re_3QgRefund{n:08d}": a for n, a in enumerate(AMOUNTS, start=1)}


@pytest.mark.parametrize("version", ["current", "2022-08-01"])
def test_three_partial_refunds_by_charge_refunded_are_credited_at_their_own_amounts(
    version: so.Version,
) -> None:
    # Given the API as it stands after the three refunds
    api = FakeStripeApi().add(charge_after(3, version), *refunds())
    deliveries = [
        so.event("charge.refunded", charge_after(n, version), event_id=f"evt_1QgChRef{n}")
        for n in (1, 2, 3)
    ]
    # When the three charge.refunded events arrive in every order, some twice
    for order in itertools.permutations(deliveries):
        redelivered = [*order, order[0], order[-1]]
        events = [e for d in redelivered for e in events_of(d, api)]
        # Then exactly three credits: 10.00, 5.00 and 2.50, never a running total
        assert credited(events) == EXPECTED
        assert sorted(e.refund.amount.amount_minor for e in events if e.refund) != [
            1000,
            1500,
            1750,
        ]


def test_the_current_charge_refunded_carries_only_the_running_total() -> None:
    # The fixture is what Stripe documents: no list, amount_refunded cumulative
    second = charge_after(2, "current")
    assert "refunds" not in second
    assert second["amount_refunded"] == 1500


def test_refund_events_credit_each_refund_once_in_any_order_and_redelivered() -> None:
    api = FakeStripeApi()
    deliveries = []
    for n, refund in enumerate(refunds(), start=1):
        pending = {**refund, "status": "pending"}
        deliveries.append(so.event("refund.created", pending, event_id=f"evt_1QgReCreated{n}"))
        deliveries.append(so.event("refund.updated", refund, event_id=f"evt_1QgReUpdated{n}"))
        deliveries.append(
            so.event("charge.refund.updated", refund, event_id=f"evt_1QgChReUpdated{n}")
        )
    random.Random(16).shuffle(deliveries)
    events = [e for d in [*deliveries, *deliveries[:4]] for e in events_of(d, api)]
    assert credited(events) == EXPECTED
    # and a refund still pending credits nothing yet (a SEPA refund can still fail)
    pending = deliver(
        so.event("refund.created", {**refunds()[0], "status": "pending"}, event_id="evt_1QgPending")
    )
    assert (pending.events, pending.lookups) == ((), ())
    assert pending.ignored == ("refund.created:not_succeeded",)
    assert api.calls == []  # refund events carry the Refund itself: no API call


def test_a_charge_refunded_with_no_succeeded_refund_says_so() -> None:
    waiting = so.refund("re_3QgPending000001", CHARGE, INTENT, 700, status="pending")
    api = FakeStripeApi().add(charge_after(0, "current"), waiting)
    (lookup,) = deliver(
        so.event("charge.refunded", charge_after(0, "current"), event_id="evt_1")
    ).lookups
    completion = complete_stripe(lookup, api)
    assert (completion.events, completion.skipped) == ((), "no_succeeded_refund")
