"""The demo's bank scenes: a camt.053 statement imported through the staff API (a transfer
naming its invoice, one matched by amount and payer name, one unknown left for review) and
a cheque recorded at the counter; their archived receipts land in ``out/demo/receipts``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from quittance.aws.ledger_table import LedgerTable
from quittance_ops.admin_client import AdminClient
from quittance_ops.camt_samples import Transfer, statement_xml
from quittance_ops.localstack.stack import LocalStack

INVOICES = {
    # number: (unit price excl. VAT in cents, customer reference, name)
    "F-2026-0201": (25000, "cus_bank_lefevre", "Atelier Lefèvre SARL"),
    "F-2026-0202": (8000, "cus_bank_morel", "Julie Morel"),
    "F-2026-0203": (12500, "cus_bank_roux", "Cabinet Roux"),
}


def _invoice(unit: int, reference: str, name: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "customer_reference": reference,
        "currency": "EUR",
        "lines": [{"description": "Prestation de conseil", "quantity": "1",
                   "unit_price_minor": unit, "vat_rate": "20"}],
        "issue_date": (today - timedelta(days=20)).isoformat(),
        "due_date": (today + timedelta(days=10)).isoformat(),
        "nature": "services",
        "customer": {"provider": "stripe", "name": name,
                     "email": f"{reference.removeprefix('cus_bank_')}@example.fr"},
    }  # fmt: skip


def bank_scene(stack: LocalStack, console: Console, out: Path) -> list[str]:
    admin = AdminClient.for_local_stack(stack.out_dir / "stack.json")
    problems: list[str] = []
    for number, (unit, reference, name) in INVOICES.items():
        status, answer = admin.call(
            "PUT", f"/admin/invoices/{number}", _invoice(unit, reference, name)
        )
        if status != 200:
            return [f"bank scene: registering {number} answered {status}: {answer}"]
    statement = statement_xml(
        [
            Transfer(reference="BQ-DEMO-001", amount=Decimal("300.00"),
                     payer="ATELIER LEFEVRE", unstructured=("VIR FACT F 2026 0201",)),
            Transfer(reference="BQ-DEMO-002", amount=Decimal("96.00"), payer="MOREL JULIE",
                     unstructured=("merci",)),
            Transfer(reference="BQ-DEMO-003", amount=Decimal("42.00"), payer="M. INCONNU"),
            Transfer(reference="BQ-DEMO-004", amount=Decimal("18.90"), credit=False,
                     payer="ORANGE"),
        ],
        message_id="DEMO-CAMT053-2026-12",
    )  # fmt: skip
    (out / "bank-statement.camt053.xml").write_bytes(statement)
    body = {"statement_base64": base64.b64encode(statement).decode()}
    status, report = admin.call("POST", "/admin/bank/statements", body)
    if status != 200:
        return [f"bank statement import answered {status}: {report}"]
    (out / "bank-import.json").write_text(json.dumps(report, indent=2) + "\n")
    if (report["matched"], report["to_review"]) != (2, 1):
        problems.append(
            f"bank statement: {report['matched']} matched, {report['to_review']} to review"
        )
    cheque = {"invoice": "F-2026-0203", "method": "cheque", "amount": "150.00",
              "received_on": datetime.now(UTC).date().isoformat(),
              "cheque_number": "8801234", "bank": "Banque Populaire"}  # fmt: skip
    status, recorded = admin.call("POST", "/admin/payments", cheque)
    if status != 200:
        return [*problems, f"cheque answered {status}: {recorded}"]
    if not stack.wait_until_drained(timeout=90):
        return [*problems, "queues did not drain after the bank scenes"]
    ledger = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
    s3 = stack.client("s3")
    console.rule("[bold]bank statement and cheque[/]")
    for number in INVOICES:
        record = ledger.load(number)
        receipts = [d for d in (record.documents if record else ()) if d.kind == "receipt"]
        if not receipts:
            problems.append(f"{number}: no receipt")
            continue
        item = ledger.receipt_item(receipts[0].receipt_number)
        archive = item.get("archive")
        if not archive:
            problems.append(f"{number}: receipt not archived")
            continue
        body_ = s3.get_object(
            Bucket=_archive_bucket(s3),
            Key=archive["key"],
            VersionId=archive["version_id"],
        )["Body"].read()
        (out / "receipts" / archive["key"].rsplit("/", 1)[1]).write_bytes(body_)
        method = receipts[0].method
        console.print(
            f"{number}: receipt [bold]{receipts[0].receipt_number}[/] "
            f"({method.kind.value if method else '?'})"
        )
    status, waiting = admin.call("GET", "/admin/bank/unmatched")
    console.print(f"review list: {[e['reference'] for e in waiting.get('entries', [])]}")
    return problems


def _archive_bucket(s3: Any) -> str:
    buckets = s3.list_buckets()["Buckets"]
    return str(next(b["Name"] for b in buckets if "archivebucket" in b["Name"]))
