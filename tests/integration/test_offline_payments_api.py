"""Staff record a cheque and a cash payment through POST /admin/payments (and the CLI):
each settles its invoice on the ledger's path with its proofs; cash above the L112-6
ceiling is refused citing the rule, audited, nothing queued."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.state import InvoiceStatus
from quittance_ops import payments_cli
from quittance_ops.cli import app
from quittance_ops.desk import Desk

from .conftest import MotoStack
from .pipeline import deliver
from .test_bank_api import FunctionCaller
from .test_bank_statement_import import register

# The handlers register their Lambda context with the publisher's idempotency: without it an
# event whose publication Lambda cut short would look in progress until the record expires.
pytestmark = pytest.mark.filterwarnings("error:Couldn't determine the remaining time left")


def test_cheque_and_cash_recorded_by_staff(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(moto_stack, "F-CHQ-1", 10000, "cus_chq", "Camille Martin")
    register(moto_stack, "F-CASH-1", 100000, "cus_cash", "Paul Girard")
    desk = Desk(api=FunctionCaller(moto_stack), bucket="", s3=None)
    monkeypatch.setattr(payments_cli, "connect", lambda stack, aws_stack: desk)
    runner = CliRunner()

    def record(*args: str) -> Any:
        result = runner.invoke(app, ["payments", "record", *args])
        result.said = " ".join(result.output.split())  # rich wraps to the terminal's width
        return result

    cheque = ["--invoice", "F-CHQ-1", "--method", "cheque", "--amount", "120.00",
              "--cheque-number", "0012345", "--bank", "Crédit Agricole",
              "--received-on", "2026-12-03"]  # fmt: skip
    result = record(*cheque)
    assert result.exit_code == 0, result.output
    assert "already recorded" not in result.said
    assert "already recorded" in record(*cheque).said  # the same cheque twice: one payment

    too_much = ["--invoice", "F-CASH-1", "--method", "cash", "--amount", "1200.00",
                "--received-by", "Ana", "--received-on", "2026-12-03"]  # fmt: skip
    refused = record(*too_much)
    assert refused.exit_code == 1
    assert "L112-6" in refused.said
    assert deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction") == 1

    allowed = record(*too_much, "--exception", "no_other_means")
    assert allowed.exit_code == 0, allowed.output
    assert deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction") == 1

    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    for number in ("F-CHQ-1", "F-CASH-1"):
        summary = ledger.get_invoice(number)
        assert summary is not None and summary.status is InvoiceStatus.PAID
    record_ = ledger.load("F-CHQ-1")
    assert record_ is not None
    (receipt,) = [d for d in record_.documents if d.kind == "receipt"]
    assert receipt.method is not None
    assert (receipt.method.cheque_number, receipt.method.cheque_bank) == (
        "0012345",
        "Crédit Agricole",
    )
    cash = ledger.load("F-CASH-1")
    assert cash is not None and cash.documents[0].method is not None
    assert cash.documents[0].method.received_by == "Ana"
