"""``quittance privacy erase|export|consent``: data subjects' rights, through the staff API
(SigV4), never the tables directly, so every act goes through the same checks and audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quittance_ops.admin_client import AdminClient
from quittance_ops.downloads import DownloadRefused, download
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, YesOpt, confirm_or_stop, out_file
from quittance_ops.target import open_target

privacy_app = typer.Typer(no_args_is_help=True, help="Personal data: erasure, export, consent.")


def _client(stack: Path | None, aws_stack: str | None) -> AdminClient:
    return AdminClient.for_target(open_target(stack, aws_stack))


def _refused(what: str, status: int, body: Any) -> typer.Exit:
    Console(stderr=True).print(f"[red]{what} refused ({status})[/]: {body}")
    return typer.Exit(code=1)


def erasure_tables(report: dict[str, Any]) -> list[Table]:
    erased = Table(title=f"erased — {report['customer_id']}")
    erased.add_column("record")
    erased.add_column("effect")
    for row in report["erased"]:
        erased.add_row(row["record"], row["effect"])
    if not report["erased"]:
        erased.add_row("(nothing)", "erased before" if report["already_erased"] else "")
    kept = Table(title="kept")
    for column in ("record", "what", "legal basis"):
        kept.add_column(column)
    for row in report["kept"]:
        kept.add_row(row["record"], row["what"], row["basis"])
    return [erased, kept]


ERASURE_EFFECTS = (
    "destroys the customer's data key at once (crypto-shredding: their sealed contact"
    " details and raw gateway deliveries become unreadable for good), deletes their profile"
    " and consents and stops every message; the ledger and the locked proofs stay"
)


def _erasure_question(client: AdminClient, customer_id: str) -> str:
    """What the erasure will do, with how many proofs the archive holds for that id, so that
    a mistyped id (no proof at all) shows before anything is destroyed."""
    status, found = client.call("GET", f"/admin/receipts?customer={customer_id}&limit=50")
    if status == 200 and isinstance(found, dict):
        count = len(found.get("items", []))
        more = "+" if found.get("next_cursor") else ""
        known = f"{count}{more} proof(s) in the archive" if count else "NO proof in the archive"
    else:
        known = f"the archive could not be searched ({status})"
    return f"Erase {customer_id} ({known})? This {ERASURE_EFFECTS}. It cannot be undone."


@privacy_app.command("erase")
def erase(
    customer_id: Annotated[str, typer.Argument(help="Pseudonymous id, C-<20 hex>")],
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
) -> None:
    """Erase a customer (GDPR art. 17): destroy their key, delete their profile; say what
    was erased and what the law makes us keep. Irreversible: asks first, unless --yes."""
    client = _client(stack, aws_stack)
    confirm_or_stop(what=lambda: _erasure_question(client, customer_id), yes=yes, as_json=as_json)
    status, body = client.call("DELETE", f"/admin/customers/{customer_id}")
    if status != 200:
        raise _refused("erasure", status, body)
    if as_json:
        typer.echo(json.dumps(body))
        return
    console = Console()
    for table in erasure_tables(body):
        console.print(table)


def download_export(answer: dict[str, Any], out: Path, timeout: float = 60) -> int:
    """Fetch the zip from the answer's ``download_url`` (that URL only) into ``out``, after
    checking its size and SHA-256 against the answer; ``out`` is replaced only once they
    check. Returns the size."""
    size = int(answer["size"])
    download(
        str(answer["download_url"]),
        out,
        str(answer["sha256"]),
        expected_size=size,
        timeout=timeout,
    )
    return size


@privacy_app.command("export")
def export(
    customer_id: Annotated[str, typer.Argument(help="Pseudonymous id, C-<20 hex>")],
    out: Annotated[
        Path | None, typer.Option(help="The zip to write (a folder: <id>.zip inside it)")
    ] = None,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
) -> None:
    """Everything held about a customer (GDPR art. 15/20): customer.json plus receipt PDFs.
    The API leaves the zip behind a 15-minute link; it is downloaded and checked here."""
    out = out_file(out, f"{customer_id}.zip")
    status, body = _client(stack, aws_stack).call("GET", f"/admin/customers/{customer_id}/export")
    if status != 200:
        raise _refused("export", status, body)
    try:
        size = download_export(body, out)
    except (DownloadRefused, OSError) as exc:
        Console(stderr=True).print(f"[red]export download refused[/]: {exc}")
        raise typer.Exit(code=1) from None
    summary = {
        "out": str(out),
        "invoices": body["invoices"],
        "files": body["files"],
        "size": size,
        "sha256": body["sha256"],
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        Console().print(
            f"{summary['invoices']} invoices, {summary['files']} receipt PDFs written to {out}"
        )


@privacy_app.command("consent")
def consent(
    customer_id: Annotated[str, typer.Argument(help="Pseudonymous id, C-<20 hex>")],
    grant: Annotated[bool, typer.Option("--grant/--withdraw", help="Marketing consent")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
) -> None:
    """Record marketing consent granted or withdrawn by staff (source "admin")."""
    status, body = _client(stack, aws_stack).call(
        "PUT", f"/admin/customers/{customer_id}/consents/marketing", {"granted": grant}
    )
    if status != 200:
        raise _refused("consent", status, body)
    typer.echo(
        json.dumps(body) if as_json else f"marketing consent {'granted' if grant else 'withdrawn'}"
    )
