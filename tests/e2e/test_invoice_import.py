"""`quittance invoices import`: a CSV of invoice lines becomes registered invoices, through the
signed staff API; bad rows are reported with their line numbers and register nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from quittance.aws.ledger_table import LedgerTable

from .conftest import ROOT, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-invoice_import")]

HEADER = (
    "invoice_number,customer_reference,currency,issue_date,due_date,nature,"
    "description,quantity,unit_price,vat_rate"
)
CSV = (
    HEADER
    + """
F-CSV-1,CLI-1,EUR,2026-11-01,2026-12-01,services,Conseil,2,150.00,20
F-CSV-1,CLI-1,EUR,2026-11-01,2026-12-01,services,Livre,1,20.00,5.5
F-CSV-2,CLI-2,EUR,2026-11-02,2026-12-02,goods,Chaise,4,49.90,20
F-CSV-3,CLI-3,EUR,2026-11-03,2026-10-01,goods,Table,1,300.00,20
F-CSV-4,CLI-4,EUR,2026-11-03,2026-12-01,goods,Lampe,1,12.345,20
"""
)


def test_a_csv_registers_its_invoices_and_reports_each_bad_one(
    stack: RunningStack, tmp_path: Path
) -> None:
    (tmp_path / "invoices.csv").write_text(CSV)
    (tmp_path / "stack.json").write_text(json.dumps(stack.info))
    run = subprocess.run(
        [sys.executable, "-m", "quittance_ops", "invoices", "import",
         str(tmp_path / "invoices.csv"), "--stack", str(tmp_path / "stack.json")],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr  # some rows were refused
    assert "2 invoices registered" in run.stdout
    assert "F-CSV-3" in run.stdout and "due_date" in run.stdout  # due before issue
    assert "F-CSV-4" in run.stdout and "line 6" in run.stdout  # 12.345 € is not an amount

    table = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))
    first = table.get_invoice("F-CSV-1")
    assert first is not None and first.registered
    # 2 × 150.00 + 20 % and 20.00 + 5.5 %: 360.00 + 21.10
    assert first.amount_due.amount_minor == 38110
    assert table.get_invoice("F-CSV-2").amount_due.amount_minor == 23952  # type: ignore[union-attr]
    assert table.get_invoice("F-CSV-3") is None and table.get_invoice("F-CSV-4") is None


def test_the_accounting_export_lists_payments_and_refunds_with_their_vat(
    stack: RunningStack, tmp_path: Path
) -> None:
    import csv
    import time
    from datetime import UTC, datetime

    from quittance_ops.admin_client import AdminClient
    from quittance_ops.deliveries.stripe import (
        stripe_charge_refunded,
        stripe_payment_intent_succeeded,
    )

    from .test_webhook_to_receipt import post

    client = AdminClient.with_keys(stack.api_url, "testing", "testing", stack.info["region"])
    registered = {
        "customer_reference": "CLI-X", "currency": "EUR", "issue_date": "2026-11-01",
        "due_date": "2026-12-01", "nature": "mixed",
        "lines": [
            {"description": "Service", "quantity": "1", "unit_price_minor": 10000,
             "vat_rate": "20"},
            {"description": "Livre", "quantity": "1", "unit_price_minor": 10000,
             "vat_rate": "5.5"},
        ],
    }  # fmt: skip
    assert client.call("PUT", "/admin/invoices/F-EXP-1", registered)[0] == 200
    secret = stack.info["webhook_secrets"]["stripe"]
    paid = stripe_payment_intent_succeeded(
        secret=secret, invoice_number="F-EXP-1", amount_minor=22550
    )
    payment_id = json.loads(paid.body)["data"]["object"]["id"]
    refund = stripe_charge_refunded(
        secret=secret, payment_id=payment_id, charged_minor=22550, refunded_minor=2000,
        invoice_number="F-EXP-1",
    )  # fmt: skip
    assert post(stack, paid)[0] == 202
    time.sleep(1.2)
    stack.wait_drained()
    assert post(stack, refund)[0] == 202
    time.sleep(1.2)
    stack.wait_drained()

    today = datetime.now(UTC).date().isoformat()
    (tmp_path / "stack.json").write_text(json.dumps(stack.info))
    run = subprocess.run(
        [sys.executable, "-m", "quittance_ops", "ledger", "export", "--from", today, "--to", today,
         "--out", str(tmp_path / "books.csv"), "--stack", str(tmp_path / "stack.json")],
        cwd=ROOT, env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [
        r
        for r in csv.DictReader((tmp_path / "books.csv").open())
        if r["invoice_number"] == "F-EXP-1"
    ]
    payment = next(r for r in rows if r["kind"] == "receipt")
    credit = next(r for r in rows if r["kind"] == "credit_note")
    # 100.00 at 20 % and 100.00 at 5.5 %: the payment covers the whole invoice.
    assert (payment["amount"], payment["taxable_base"], payment["vat_amount"]) == (
        "225.50", "200.00", "25.50",
    )  # fmt: skip
    assert payment["vat_breakdown"] == "5.5%:100.00:5.50|20%:100.00:20.00"
    assert (payment["nature"], payment["collection_date"], payment["status"]) == (
        "mixed", today, "paid",
    )  # fmt: skip
    assert credit["amount"] == "-20.00" and credit["original_receipt"] == payment["document"]
    # The rows of the export balance against the money kept.
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("205.50")


def test_an_export_period_that_makes_no_sense_is_refused(stack: RunningStack) -> None:
    from quittance_ops.admin_client import AdminClient

    client = AdminClient.with_keys(stack.api_url, "testing", "testing", stack.info["region"])
    status, body = client.call("GET", "/admin/exports?from=2026-12-01&to=2026-11-01")
    assert status == 422 and body["error"] == "invalid_period"
    unsigned = AdminClient.with_keys(stack.api_url, "testing", "wrong", stack.info["region"])
    assert unsigned.call("GET", "/admin/exports?from=2026-11-01&to=2026-11-02")[0] == 403
