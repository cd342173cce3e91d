"""``quittance bank``: import a camt.053/054 statement and work through the entries no invoice
claimed, all through the audited staff API (/admin/bank)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quittance_ops.desk import connect, money
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, emit

bank_app = typer.Typer(
    no_args_is_help=True,
    help="Bank statements (camt.053/054): import, the review list, match or ignore an entry.",
)
# API Gateway takes 10 MB at most; base64 adds a third. Larger files: the S3 drop prefix.
MAX_UPLOAD = 7 * 1024 * 1024


@bank_app.command("import")
def bank_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import one statement: matched credits settle their invoices, the rest wait."""
    data = file.read_bytes()
    if len(data) > MAX_UPLOAD:
        Console(stderr=True).print(
            f"[red]{file.name} is {len(data):,} bytes[/]: the staff API takes {MAX_UPLOAD:,}; "
            "drop it in the bank statements bucket instead."
        )
        raise typer.Exit(code=1)
    body = {"statement_base64": base64.b64encode(data).decode()}
    report = connect(stack, aws_stack).send("POST", "/admin/bank/statements", body)
    if emit(as_json, report):
        return
    Console().print(
        f"{report['statement']}: {report['entries']} entries, [green]{report['matched']} "
        f"matched[/] ({report['by']['reference']} by reference, "
        f"{report['by']['amount_and_name']} by amount and name), "
        f"[yellow]{report['to_review']} to review[/], {report['not_credits']} debits or not "
        f"booked, {report['already_known']} already imported (audit #{report['audit_seq']})"
    )


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
    entry: str,
    invoices: Annotated[list[str], typer.Argument(help="One or more invoice numbers, in order")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Say which invoice(s) an entry pays; several are paid in the order given."""
    path = f"/admin/bank/entries/{entry}/match"
    answer = connect(stack, aws_stack).send("POST", path, {"invoices": invoices})
    if not emit(as_json, answer):
        Console().print(f"{entry} → {', '.join(answer['invoices'])} (audit #{answer['audit_seq']})")


@bank_app.command("ignore")
def ignore(
    entry: str,
    reason: Annotated[str, typer.Option(help="Why no invoice is settled (kept in the record)")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take an entry off the review list without settling anything."""
    path = f"/admin/bank/entries/{entry}/ignore"
    answer = connect(stack, aws_stack).send("POST", path, {"reason": reason})
    if not emit(as_json, answer):
        Console().print(f"{entry} ignored: {answer['reason']} (audit #{answer['audit_seq']})")
