"""``quittance audit log|verify``: the hash-chained audit trail of every staff access,
through the staff API (SigV4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from quittance_ops.desk import connect
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, emit, takes

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail of every staff access.")


@dataclass(frozen=True)
class LogOptions:
    """``audit log``'s filters and target: one parameter object."""

    actor: Annotated[str | None, typer.Option(help="IAM ARN")] = None
    receipt: Annotated[str | None, typer.Option(help="Receipt number (or other target)")] = None
    action: Annotated[str | None, typer.Option(help="e.g. receipt.hold")] = None
    since: Annotated[str | None, typer.Option(help="ISO date or time (UTC)")] = None
    until: Annotated[str | None, typer.Option(help="ISO date or time (UTC)")] = None
    limit: Annotated[int, typer.Option()] = 50
    stack: StackOpt = None
    aws_stack: AwsOpt = None
    as_json: JsonOpt = False


@audit_app.command("log")
@takes(LogOptions)
def audit_log(options: LogOptions) -> None:
    """Who did what to which proof, newest first."""
    query = {
        "actor": options.actor,
        "receipt": options.receipt,
        "action": options.action,
        "since": options.since,
        "until": options.until,
        "limit": options.limit,
    }
    found = connect(options.stack, options.aws_stack).get("/admin/audit", query)
    if emit(options.as_json, found):
        return
    table = Table(title="audit trail")
    for column in ("#", "at (UTC)", "actor", "action", "target", "outcome"):
        table.add_column(column)
    for e in found["items"]:
        table.add_row(
            str(e["seq"]),
            e["at"][:19],
            e["actor"].rsplit("/", 1)[-1],
            e["action"],
            e["target"],
            e["outcome"],
        )
    Console().print(table)


@audit_app.command("verify")
def audit_verify(
    stack: StackOpt = None, aws_stack: AwsOpt = None, as_json: JsonOpt = False
) -> None:
    """Walk the hash chain; exit 1 and name the first altered or missing entry."""
    report = connect(stack, aws_stack).get("/admin/audit/verify")
    if not emit(as_json, report):
        if report["ok"]:
            Console().print(f"[green]audit trail intact[/]: {report['checked']} entries")
        else:
            Console().print(
                f"[red]audit trail broken at entry {report['first_bad_seq']}[/]: "
                f"{report['problem']}"
            )
    if not report["ok"]:
        raise typer.Exit(code=1)
