"""A cancelled invoice stays cancelled: staff cannot revive it by registering it again, and a
refused registration changes nothing (terms, status, the customer's profile)."""

from __future__ import annotations

from quittance.aws.ledger_table import LedgerTable

from .conftest import MotoStack
from .test_accounting_export import invoice, put_invoice


def test_registering_a_cancelled_invoice_again_is_refused_and_changes_nothing(
    moto_stack: MotoStack,
) -> None:
    # Given an invoice registered, then cancelled
    body = invoice("services", (10_000, "20"))
    assert put_invoice(moto_stack, "F-CXL-1", body) == 200
    assert put_invoice(moto_stack, "F-CXL-1", {**body, "cancelled": True}) == 200
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    before = ledger.get_invoice("F-CXL-1")
    assert before is not None and before.status.value == "cancelled"

    # When staff register it again, not cancelled, with a customer contact
    revived = {
        **body,
        "cancelled": False,
        "customer": {"provider": "stripe", "email": "revived@example.com"},
    }
    status = put_invoice(moto_stack, "F-CXL-1", revived)

    # Then it is refused with 409, and the invoice and its registration are as they were
    assert status == 409
    assert ledger.get_invoice("F-CXL-1") == before
    registration = ledger.registration("F-CXL-1")
    assert registration is not None and registration.cancelled
    # and no profile was made for the contact the refused request carried
    profiles = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("CustomersTable"))
    assert profiles["Count"] == 0

    # while registering it again as cancelled (say, with a corrected line) is still accepted
    assert put_invoice(moto_stack, "F-CXL-1", {**body, "cancelled": True}) == 200
