"""What a registered invoice is worth: VAT per rate, rounded as French invoices round it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from quittance.ledger.invoices import InvoiceRegistration, InvoiceRequest
from quittance.ledger.service import pseudonymous_customer_id
from quittance_ops.invoice_import import import_invoices


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


def test_contact_details_are_normalised_and_kept_apart_from_the_terms() -> None:
    request = InvoiceRequest.model_validate(
        {
            **invoice(("1", 100, "20")).model_dump(mode="json"),
            "customer": {
                "provider": "gocardless",
                "email": "Compta@Example.FR",
                "phone": "06 12 34 56 78",
                "channel": "both",
            },
        }
    )
    assert request.customer is not None
    assert (request.customer.email, request.customer.phone) == (
        "Compta@example.fr",
        "+33612345678",
    )
    assert "customer" not in request.terms().model_dump()
    assert "Compta" not in request.terms().model_dump_json()
    # The gateway's own customer: the same pseudonymous id a GoCardless event gives.
    assert request.customer.customer_id("CLI-1") == pseudonymous_customer_id("gocardless", "CLI-1")


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ({"provider": "stripe"}, "an email or a phone number is needed"),
        ({"provider": "stripe", "email": "a@example.com", "channel": "sms"}, "needs a phone"),
        ({"provider": "stripe", "phone": "+33612345678", "channel": "email"}, "needs an email"),
        ({"provider": "stripe", "phone": "+3361"}, "phone number"),
        ({"provider": "stripe", "email": "a@@example.com"}, "not an email address"),
        ({"provider": "cash", "email": "a@example.com"}, "unknown provider"),
        ({"provider": "stripe", "email": "a@example.com", "timezone": "Paris"}, "IANA"),
        ({"provider": "stripe", "email": "a@example.com", "segment": "vip"}, "b2b"),
    ],
)
def test_contact_details_nobody_could_reach_are_refused(
    customer: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        InvoiceRequest.model_validate(
            {**invoice(("1", 100, "20")).model_dump(mode="json"), "customer": customer}
        )


def test_csv_customer_columns_become_the_contact_and_must_agree_across_lines(
    tmp_path: Path,
) -> None:
    (tmp_path / "invoices.csv").write_text(
        "invoice_number,customer_reference,currency,issue_date,due_date,nature,description,"
        "quantity,unit_price,vat_rate,customer_provider,customer_email,customer_locale\n"
        "F-1,CLI-1,EUR,2026-11-01,2026-12-01,goods,Chaise,1,10.00,20,stripe,a@example.fr,fr\n"
        "F-1,CLI-1,EUR,2026-11-01,2026-12-01,goods,Table,1,90.00,20,stripe,a@example.fr,fr\n"
        "F-2,CLI-2,EUR,2026-11-01,2026-12-01,goods,Lampe,1,12.00,20,,,\n"
        "F-3,CLI-3,EUR,2026-11-01,2026-12-01,goods,Banc,1,5.00,20,stripe,b@example.fr,fr\n"
        "F-3,CLI-3,EUR,2026-11-01,2026-12-01,goods,Pied,1,5.00,20,stripe,c@example.fr,fr\n",
        encoding="utf-8",
    )
    sent: dict[str, dict[str, Any]] = {}

    def put(number: str, body: dict[str, Any]) -> tuple[int, Any]:
        sent[number] = body
        return 200, {}

    report = import_invoices(tmp_path / "invoices.csv", put)
    contact = {"provider": "stripe", "email": "a@example.fr", "locale": "fr"}
    assert sent["F-1"]["customer"] == contact
    assert "customer" not in sent["F-2"]
    assert report.registered == ["F-1", "F-2"]
    [(number, lines, problem)] = report.errors
    assert (number, lines) == ("F-3", [5, 6])
    assert "customer_email differs" in problem
