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

privacy_app = typer.Typer(no_args_is_help=True, help="Personal data: erasure, export, consent.")

StackOption = Annotated[
    Path | None, typer.Option(help="stack.json of a local stack (default out/local)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's answer as JSON")]


def _client(stack: Path | None) -> AdminClient:
    from quittance_ops.cli import project_root

    return AdminClient.for_local_stack(stack or project_root() / "out" / "local" / "stack.json")


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


@privacy_app.command("erase")
def erase(
    customer_id: Annotated[str, typer.Argument(help="Pseudonymous id, C-<20 hex>")],
    as_json: JsonOption = False,
    stack: StackOption = None,
) -> None:
    """Erase a customer (GDPR art. 17): destroy their key, delete their profile; say what
    was erased and what the law makes us keep."""
    status, body = _client(stack).call("DELETE", f"/admin/customers/{customer_id}")
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
    out: Annotated[Path, typer.Option(help="Where to write the zip")] = Path("customer.zip"),
    as_json: JsonOption = False,
    stack: StackOption = None,
) -> None:
    """Everything held about a customer (GDPR art. 15/20): customer.json plus receipt PDFs.
    The API leaves the zip behind a 15-minute link; it is downloaded and checked here."""
    status, body = _client(stack).call("GET", f"/admin/customers/{customer_id}/export")
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
    as_json: JsonOption = False,
    stack: StackOption = None,
) -> None:
    """Record marketing consent granted or withdrawn by staff (source "admin")."""
    status, body = _client(stack).call(
        "PUT", f"/admin/customers/{customer_id}/consents/marketing", {"granted": grant}
    )
    if status != 200:
        raise _refused("consent", status, body)
    typer.echo(
        json.dumps(body) if as_json else f"marketing consent {'granted' if grant else 'withdrawn'}"
    )
