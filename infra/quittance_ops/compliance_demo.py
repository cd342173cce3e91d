"""The demo's compliance scene: find, verify, hold, hand over, and what the end of the
books would do; through the staff API as staff would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from quittance_ops.desk import Desk, connect
from quittance_ops.downloads import download
from quittance_ops.retire_cli import candidates


def compliance_scene(
    stack_json: Path, out_dir: Path, console: Console, receipt_number: str | None = None
) -> dict[str, Any]:
    """The demo's compliance scene: find the demo's receipt, verify it, put it on hold, save
    its evidence bundle under ``out_dir`` and show the audit trail of those acts."""
    desk = connect(stack_json)
    today = datetime.now(UTC).date()
    if receipt_number is None:
        found = desk.get(
            "/admin/receipts",
            {"from": f"{today.year}-01-01", "to": today.isoformat(), "limit": 200},
        )
        receipts = [h for h in found["items"] if h["kind"] == "receipt" and h["archived"]]
        if not receipts:
            raise typer.BadParameter("no archived receipt to show yet")
        receipt_number = str(receipts[-1]["receipt_number"])
    hit = desk.get("/admin/receipts", {"receipt": receipt_number})["items"][0]
    console.print(
        f"[bold]Compliance[/]: {receipt_number} found by number (invoice {hit['invoice_number']})"
    )
    report = desk.send("POST", f"/admin/receipts/{receipt_number}/verify")
    console.print(
        f"verify: {'ok' if report['ok'] else 'FAILED ' + ', '.join(report['failed'])} "
        f"({len(report['checks'])} checks)"
    )
    desk.send(
        "PUT",
        f"/admin/receipts/{receipt_number}/legal-hold",
        {"reason": "demo: customer dispute", "case": "DEMO-1"},
    )
    console.print("legal hold: ON")
    bundle = desk.send("POST", f"/admin/receipts/{receipt_number}/evidence")
    target = out_dir / f"{receipt_number}-evidence.zip"
    download(bundle["url"], target, bundle["sha256_hex"])
    console.print(f"evidence bundle: {target} ({len(bundle['files'])} files)")
    books_ok = _books_scene(desk, console, today.year, str(hit["invoice_number"]))
    trail = desk.get("/admin/audit", {"receipt": receipt_number, "limit": 10})
    for e in reversed(trail["items"]):
        console.print(f"  audit #{e['seq']} {e['at'][:19]} {e['action']} {e['outcome']}")
    chain = desk.get("/admin/audit/verify")
    console.print(
        f"audit trail: {'intact' if chain['ok'] else 'BROKEN'} ({chain['checked']} entries)"
    )
    return {
        "receipt_number": receipt_number,
        "verify_ok": report["ok"],
        "bundle": str(target),
        "audit_ok": chain["ok"],
        "books_ok": books_ok,
    }


def _books_scene(desk: Desk, console: Console, year: int, invoice: str) -> bool:
    """What ``ledger retire`` would do with this year's books now: nothing may go yet, and
    the demo invoice says why. Lists only; deletes nothing."""
    retirable, kept, closes_at = candidates(desk, year)
    reasons: list[str] = next((k["reasons"] for k in kept if k["invoice"] == invoice), [])
    console.print(
        f"end of the books {year}: {len(retirable)} invoice(s) retirable, {len(kept)} kept"
        f" (the year closes {closes_at[:10]}); {invoice}: {'; '.join(reasons) or 'no reason'}"
    )
    return not retirable and bool(reasons) and reasons[0].startswith("retained until")
