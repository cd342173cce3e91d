"""What a registered invoice is worth: VAT per rate, rounded as French invoices round it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from quittance.ledger.invoices import InvoiceRegistration


def invoice(*lines: tuple[str, int, str], **kw: Any) -> InvoiceRegistration:
    return InvoiceRegistration.model_validate(
        {
            "customer_reference": "CLI-1",
            "currency": "EUR",
            "lines": [
                {"description": "x", "quantity": q, "unit_price_minor": p, "vat_rate": r}
                for q, p, r in lines
            ],
            "issue_date": "2026-11-01",
            "due_date": "2026-12-01",
            "nature": "mixed",
            **kw,
        }
    )


def test_amount_due_is_the_bases_plus_vat_per_rate() -> None:
    registered = invoice(("1", 10000, "20"), ("2", 2500, "5.5"))
    assert registered.vat_breakdown() == {Decimal(20): (10000, 2000), Decimal("5.5"): (5000, 275)}
    assert registered.amount_due.amount_minor == 17275


def test_vat_is_rounded_half_up_once_per_rate_not_per_line() -> None:
    # Three lines of 0.05 € at 10 %: per line VAT would be 0.005 → 0.01 each (0.03);
    # per rate it is 0.015 → 0.02, which is what the invoice states.
    registered = invoice(("1", 5, "10"), ("1", 5, "10"), ("1", 5, "10"))
    assert registered.vat_breakdown() == {Decimal(10): (15, 2)}
    assert registered.amount_due.amount_minor == 17


def test_fractional_quantities_are_priced_exactly() -> None:
    registered = invoice(("1.5", 3333, "0"))
    assert registered.amount_due.amount_minor == 5000  # 49.995 rounds half up to 50.00


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_date": "2026-10-01"}, "due_date"),
        ({"lines": []}, "lines"),
        ({"currency": "EURO"}, "currency"),
        ({"nature": "software"}, "nature"),
        ({"discount": 5}, "discount"),
    ],
)
def test_registrations_that_make_no_sense_are_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        invoice(("1", 100, "20"), **changes)
    assert field in str(refused.value)


def test_negative_prices_and_vat_over_100_percent_are_refused() -> None:
    for line in (("1", -1, "20"), ("1", 100, "120"), ("0", 100, "20")):
        with pytest.raises(ValidationError):
            invoice(line)
