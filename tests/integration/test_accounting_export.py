"""The accounting export (``GET /admin/exports``) declares what each payment and refund carried
when its document was issued: registering the invoice again afterwards (other lines, other
rates, another nature) changes nothing already collected, and a refund takes back the rates of
the payment it returns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from quittance_ops.deliveries.stripe import (
    stripe_charge_refunded,
    stripe_payment_intent_succeeded,
)

from .conftest import MotoStack, answer, http_event
from .conftest import answer as answer_of
from .pipeline import drain, exported_books, post_webhook


def put_invoice(stack: MotoStack, number: str, body: dict[str, Any]) -> int:
    event = http_event(
        "PUT", f"/admin/invoices/{number}", "/admin/invoices/{number}", {"number": number},
        json.dumps(body).encode(), {"content-type": "application/json"},
    )  # fmt: skip
    return answer(stack.functions["ArchiveApiFunction"].invoke(event))[0]


def invoice(nature: str, *lines: tuple[int, str]) -> dict[str, Any]:
    return {
        "customer_reference": "cus_books", "currency": "EUR", "nature": nature,
        "issue_date": "2026-11-01", "due_date": "2026-12-01",
        "lines": [
            {"description": f"Line {n}", "quantity": "1", "unit_price_minor": price,
             "vat_rate": rate}
            for n, (price, rate) in enumerate(lines)
        ],
    }  # fmt: skip


def export(stack: MotoStack) -> dict[str, dict[str, str]]:
    today = datetime.now(UTC).date().isoformat()
    event = http_event("GET", "/admin/exports", "/admin/exports", {})
    event["rawQueryString"] = f"from={today}&to={today}"
    event["queryStringParameters"] = {"from": today, "to": today}
    status, answer = answer_of(stack.functions["ArchiveApiFunction"].invoke(event))
    assert status == 200, answer
    return {row["document"]: row for row in exported_books(stack, answer)}


def pay(stack: MotoStack, number: str, cents: int) -> str:
    secret = stack.provisioned.webhook_secrets["stripe"]
    paid = stripe_payment_intent_succeeded(secret=secret, invoice_number=number, amount_minor=cents)
    assert post_webhook(stack, "stripe", paid.body, paid.headers)[0] == 202
    drain(stack)
    return str(json.loads(paid.body)["data"]["object"]["id"])


def refund(stack: MotoStack, number: str, payment_id: str, charged: int, refunded: int) -> None:
    secret = stack.provisioned.webhook_secrets["stripe"]
    returned = stripe_charge_refunded(
        secret=secret, payment_id=payment_id, charged_minor=charged, refunded_minor=refunded,
        invoice_number=number,
    )  # fmt: skip
    assert post_webhook(stack, "stripe", returned.body, returned.headers)[0] == 202
    drain(stack)


def test_a_payment_keeps_the_vat_it_was_collected_with_when_the_invoice_is_registered_again(
    moto_stack: MotoStack,
) -> None:
    # Given an invoice of 100.00 + 20 % VAT (services), paid in full
    assert put_invoice(moto_stack, "F-VAT-1", invoice("services", (10_000, "20"))) == 200
    payment_id = pay(moto_stack, "F-VAT-1", 12_000)

    # When staff register it again as goods at 5.5 %, and a quarter of the payment is refunded
    assert put_invoice(moto_stack, "F-VAT-1", invoice("goods", (10_000, "5.5"))) == 200
    refund(moto_stack, "F-VAT-1", payment_id, 12_000, 3_000)

    # Then the payment's row still declares what was collected: services, 100.00 + 20.00
    rows = [r for r in export(moto_stack).values() if r["invoice_number"] == "F-VAT-1"]
    [paid] = [r for r in rows if r["kind"] == "receipt"]
    assert (paid["nature"], paid["taxable_base"], paid["vat_amount"], paid["vat_breakdown"]) == (
        "services", "100.00", "20.00", "20%:100.00:20.00",
    )  # fmt: skip
    assert paid["vat_source"] == "document"
    # and the refund takes back a quarter of it, at the payment's rate
    [credit] = [r for r in rows if r["kind"] == "credit_note"]
    assert (credit["amount"], credit["taxable_base"], credit["vat_amount"]) == (
        "-30.00", "-25.00", "-5.00",
    )  # fmt: skip
    assert (credit["nature"], credit["vat_breakdown"], credit["vat_source"]) == (
        "services", "20%:-25.00:-5.00", "document",
    )  # fmt: skip


def test_a_payment_that_came_before_its_invoice_was_registered_says_where_its_vat_comes_from(
    moto_stack: MotoStack,
) -> None:
    # Given a payment of 210.99 for an invoice nobody had registered yet
    pay(moto_stack, "F-VAT-2", 21_099)

    # When the invoice is registered afterwards: 100.00 + 20 % and 86.25 + 5.5 % (4.74)
    assert (
        put_invoice(moto_stack, "F-VAT-2", invoice("mixed", (10_000, "20"), (8_625, "5.5"))) == 200
    )

    # Then its row takes the VAT from the registration, and says so
    [row] = [r for r in export(moto_stack).values() if r["invoice_number"] == "F-VAT-2"]
    assert row["vat_source"] == "registration" and row["invoice_registered"] == "yes"
    assert row["nature"] == "mixed"
    assert (row["taxable_base"], row["vat_amount"]) == ("186.25", "24.74")
    assert row["vat_breakdown"] == "5.5%:86.25:4.74|20%:100.00:20.00"
