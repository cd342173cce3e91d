"""``quittance bank``: import a camt.053/054 statement and work through the entries no invoice
claimed, all through the audited staff API (/admin/bank)."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.table import Table

from quittance.bank.review import entry_id
from quittance_ops.admin_client import ALLOWED_PREFIXES
from quittance_ops.desk import Desk, connect, money
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, emit

bank_app = typer.Typer(
    no_args_is_help=True,
    help="Bank statements (camt.053/054): import, the review list, match or ignore an entry.",
)
# What one staff API call imports: API Gateway answers within 29 s, and each credit costs a
# few storage calls (a conditional write, an idempotency record, a queue send: ~20 ms), so
# about 250 entries (~530 bytes each) stay well within. Larger files go through a presigned
# upload to the drop prefix (bank_import, 15 minutes).
DIRECT_MAX = 128 * 1024
UPLOAD_WAIT_SECONDS = 900


@bank_app.command("import")
def bank_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    *,
    upload: Annotated[
        bool | None,
        typer.Option(
            "--upload/--direct",
            help=f"Through the drop prefix, or in the call (default: above {DIRECT_MAX:,} bytes)",
        ),
    ] = None,
    wait: Annotated[int, typer.Option(help="Seconds to follow an upload's import")] = (
        UPLOAD_WAIT_SECONDS
    ),
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import one statement: matched credits settle their invoices, the rest wait."""
    data = file.read_bytes()
    desk = connect(stack, aws_stack)
    if upload or (upload is None and len(data) > DIRECT_MAX):
        report = uploaded(desk, file.name, data, wait)
    else:
        body = {"statement_base64": base64.b64encode(data).decode()}
        report = desk.send("POST", "/admin/bank/statements", body)
    if emit(as_json, report):
        return
    Console().print(
        f"{report['statement']}: {report['entries']} entries, [green]{report['matched']} "
        f"matched[/] ({report['by']['reference']} by reference, "
        f"{report['by']['amount_and_name']} by amount and name), "
        f"[yellow]{report['to_review']} to review[/], {report['not_credits']} debits or not "
        f"booked, {report['already_known']} already imported (audit #{report['audit_seq']})"
    )


def uploaded(desk: Desk, filename: str, data: bytes, wait: int) -> dict[str, Any]:
    """Announce the file (audited), upload it with the presigned POST, and follow its import
    until done; the import's report, as a direct import answers it."""
    digest = hashlib.sha256(data).hexdigest()
    ticket = desk.send(
        "POST", "/admin/bank/uploads", {"filename": filename, "size": len(data), "sha256": digest}
    )
    post_file(ticket["post"]["url"], ticket["post"]["fields"], filename, data)
    err = Console(stderr=True)
    err.print(f"uploaded {filename} ({len(data):,} bytes) as {ticket['upload_id']}; importing…")
    deadline, delay = time.monotonic() + wait, 1.0
    while True:
        status = desk.get(f"/admin/bank/uploads/{ticket['upload_id']}")
        if status["done"]:
            break
        if time.monotonic() + delay > deadline:
            err.print(
                f"[yellow]still {status['state']}[/] after {wait} s: follow it with "
                f"GET /admin/bank/uploads/{ticket['upload_id']}"
            )
            raise typer.Exit(code=1)
        pause(delay)
        delay = min(delay * 2, 15.0)
    outcome = status["outcome"]
    if outcome["state"] == "refused":
        err.print(f"[red]refused[/]: {outcome['reason']}")
        raise typer.Exit(code=1)
    if outcome["sha256"] != digest:
        err.print(f"[red]the file imported is not {filename}[/] (SHA-256 {outcome['sha256']})")
        raise typer.Exit(code=1)
    return {**outcome["report"], "upload_id": ticket["upload_id"], "audit_seq": ticket["audit_seq"]}


def pause(seconds: float) -> None:
    """Between two looks at an upload's status (tests run the import here instead)."""
    time.sleep(seconds)


def post_file(url: str, fields: dict[str, str], filename: str, data: bytes) -> None:
    """The presigned POST: its fields, then the file (S3 reads the fields before ``file``)."""
    if not url.startswith(ALLOWED_PREFIXES):
        raise typer.BadParameter(f"refusing to upload a statement to {url}")
    response = requests.post(
        url, data=fields, files={"file": (filename, data, "application/xml")}, timeout=300
    )
    if response.status_code >= 300:
        Console(stderr=True).print(
            f"[red]upload refused ({response.status_code})[/]: {response.text[:500]}"
        )
        raise typer.Exit(code=1)


@bank_app.command("unmatched")
def unmatched(stack: StackOpt = None, aws_stack: AwsOpt = None, as_json: JsonOpt = False) -> None:
    """The entries waiting for staff: no invoice found, or several."""
    answer = connect(stack, aws_stack).get("/admin/bank/unmatched")
    if emit(as_json, answer):
        return
    table = Table("entry", "booked", "amount", "payer", "remittance", "why", "candidates")
    for entry in answer["entries"]:
        table.add_row(*_row(entry))
    Console().print(table)


def _row(entry: dict[str, Any]) -> list[str]:
    return [
        entry["reference"],
        str(entry.get("booking_date") or ""),
        money(entry["amount"]),
        entry.get("payer_name") or "",
        " / ".join(entry.get("remittance") or ()),
        entry.get("reason") or "",
        ", ".join(entry.get("candidates") or ()),
    ]


@bank_app.command("match")
def match(
    entry: Annotated[str, typer.Argument(help="The bank reference, as `bank unmatched` shows it")],
    invoices: Annotated[list[str], typer.Argument(help="One or more invoice numbers, in order")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Say which invoice(s) an entry pays; several are paid in the order given."""
    path = f"/admin/bank/entries/{entry_id(entry)}/match"
    answer = connect(stack, aws_stack).send("POST", path, {"invoices": invoices})
    if not emit(as_json, answer):
        Console().print(f"{entry} → {', '.join(answer['invoices'])} (audit #{answer['audit_seq']})")


@bank_app.command("ignore")
def ignore(
    entry: Annotated[str, typer.Argument(help="The bank reference, as `bank unmatched` shows it")],
    reason: Annotated[str, typer.Option(help="Why no invoice is settled (kept in the record)")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take an entry off the review list without settling anything."""
    path = f"/admin/bank/entries/{entry_id(entry)}/ignore"
    answer = connect(stack, aws_stack).send("POST", path, {"reason": reason})
    if not emit(as_json, answer):
        Console().print(f"{entry} ignored: {answer['reason']} (audit #{answer['audit_seq']})")
