"""`quittance bank import --upload` against the local stack, over HTTP on 127.0.0.1: the CLI
gets a presigned POST from the staff API, uploads the statement to moto's S3, S3 tells the
queue, the stack's pump runs bank_import, and the CLI follows the status record until it
prints the summary; the invoice the transfer names is paid. The entry left for review,
whose bank reference holds "/" and " ", is then ignored through the gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.state import InvoiceStatus
from quittance_ops.admin_client import AdminClient
from quittance_ops.camt_samples import Transfer, statement_xml

from .conftest import ROOT, RunningStack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-bank_upload")]


def test_a_statement_uploaded_through_the_drop_prefix_is_imported_and_followed(
    stack: RunningStack, tmp_path: Path
) -> None:
    (tmp_path / "stack.json").write_text(json.dumps(stack.info))
    admin = AdminClient.for_local_stack(tmp_path / "stack.json")
    today = datetime.now(UTC).date()
    status, answer = admin.call(
        "PUT",
        "/admin/invoices/F-UPL-1",
        {
            "customer_reference": "cus_upl_1",
            "currency": "EUR",
            "lines": [{"description": "Conseil", "quantity": "1",
                       "unit_price_minor": 10000, "vat_rate": "20"}],
            "issue_date": (today - timedelta(days=5)).isoformat(),
            "due_date": (today + timedelta(days=10)).isoformat(),
            "nature": "services",
            "customer": {"provider": "stripe", "name": "Camille Martin",
                         "email": "camille@example.fr"},
        },
    )  # fmt: skip
    assert status == 200, answer
    statement = tmp_path / "releve.xml"
    statement.write_bytes(
        statement_xml(
            [
                Transfer(reference="UPL/2026 01", amount=Decimal("120.00"), structured="F-UPL-1"),
                Transfer(reference="UPL/2026 02", amount=Decimal("5.00"), payer="Inconnu"),
            ]
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "quittance_ops", "bank", "import", str(statement), "--upload",
         "--wait", "120", "--stack", str(tmp_path / "stack.json")],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    said = " ".join(run.stdout.split())
    assert "2 entries, 1 matched (1 by reference" in said and "1 to review" in said

    # The entry left for review has a "/" and a space in its reference: the signed call
    # through the local gateway reaches it by its URL-safe id.
    run = subprocess.run(
        [sys.executable, "-m", "quittance_ops", "bank", "ignore", "UPL/2026 02",
         "--reason", "frais", "--stack", str(tmp_path / "stack.json")],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "UPL/2026 02 ignored: frais" in " ".join(run.stdout.split())

    ledger = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))

    def paid() -> bool:
        summary = ledger.get_invoice("F-UPL-1")
        return summary is not None and summary.status is InvoiceStatus.PAID

    assert wait_for(paid)
