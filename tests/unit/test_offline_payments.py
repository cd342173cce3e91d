"""Cheque and cash payments staff record: the proofs each needs, the L112-6 cash ceiling."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from quittance.errors import PayloadInvalid
from quittance.models.events import MethodKind
from quittance.payments.offline import OfflinePayment, payment_event

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def cheque(**extra: Any) -> OfflinePayment:
    fields = {"invoice": "F-1", "method": "cheque", "amount": "120.00",
              "received_on": "2026-12-03", "cheque_number": "0012345",
              "bank": "Crédit Agricole"}  # fmt: skip
    return OfflinePayment.model_validate(fields | extra)


def cash(amount: str, **extra: Any) -> OfflinePayment:
    fields = {"invoice": "F-1", "method": "cash", "amount": amount,
              "received_on": "2026-12-03", "received_by": "Ana (accueil)"}  # fmt: skip
    return OfflinePayment.model_validate(fields | extra)


def test_a_cheque_becomes_a_payment_with_its_number_bank_and_date_paid_in() -> None:
    event = payment_event(
        cheque(cashed_on="2026-12-05"), customer_reference="cus_1", recorded_at=NOW
    )
    assert (event.provider, event.invoice_number, event.amount.amount_minor) == (
        "staff",
        "F-1",
        12000,
    )
    assert event.method.kind is MethodKind.CHEQUE
    assert (event.method.cheque_number, event.method.cheque_bank) == ("0012345", "Crédit Agricole")
    assert event.method.cashing_date == date(2026, 12, 5)
    assert event.occurred_at == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # noon in Paris
    again = payment_event(cheque(), customer_reference="cus_1", recorded_at=NOW)
    assert again.event_id == event.event_id  # the same cheque recorded twice is one payment


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cheque_number": None}, "number and the bank"),
        ({"bank": None}, "number and the bank"),
        ({"cashed_on": "2026-12-01"}, "cashed_on is before received_on"),
        ({"received_by": "Ana"}, "are for cash"),
        ({"amount": "0"}, "greater than 0"),
        ({"amount": "1.001"}, "decimal places"),
    ],
)
def test_a_cheque_without_its_proofs_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        cheque(**fields)


def test_cash_needs_who_received_it() -> None:
    with pytest.raises(ValidationError, match="received_by"):
        cash("10.00", received_by=None)


def test_cash_up_to_the_ceiling_is_recorded_with_who_received_it() -> None:
    event = payment_event(cash("1000.00"), customer_reference="c", recorded_at=NOW)
    assert event.method.kind is MethodKind.CASH
    assert event.method.received_by == "Ana (accueil)"
    assert event.amount.amount_minor == 100000


def test_cash_above_1000_euros_is_refused_citing_l112_6() -> None:
    with pytest.raises(PayloadInvalid, match=r"above 1,000 € .*L112-6.*state the exception"):
        payment_event(cash("1000.01"), customer_reference="c", recorded_at=NOW)
    business_abroad = cash(
        "5000.00", payer_domiciled_in_france=False, payer_acting_for_business=True
    )
    with pytest.raises(PayloadInvalid, match="1,000 €"):
        payment_event(business_abroad, customer_reference="c", recorded_at=NOW)


def test_a_private_payer_from_abroad_may_pay_up_to_15000_euros() -> None:
    tourist = cash("15000.00", payer_domiciled_in_france=False)
    assert (
        payment_event(tourist, customer_reference="c", recorded_at=NOW).amount.amount_minor
        == 1500000
    )
    with pytest.raises(PayloadInvalid, match="above 15,000 €"):
        payment_event(
            cash("15000.01", payer_domiciled_in_france=False),
            customer_reference="c",
            recorded_at=NOW,
        )


def test_a_stated_exception_lifts_the_ceiling() -> None:
    stated = cash("2500.00", exception="no_other_means")
    assert payment_event(stated, customer_reference="c", recorded_at=NOW).amount.decimal == Decimal(
        "2500.00"
    )
    with pytest.raises(ValidationError):
        cash("2500.00", exception="because")
