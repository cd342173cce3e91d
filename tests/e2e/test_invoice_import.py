"""`quittance invoices import`: a CSV of invoice lines becomes registered invoices, through the
signed staff API; bad rows are reported with their line numbers and register nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from quittance.aws.ledger_table import LedgerTable

from .conftest import ROOT, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

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
