"""``quittance privacy erase|export|consent``: data subjects' rights, through the staff API
(SigV4), never the tables directly, so every act goes through the same checks and audit."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quittance_ops.admin_client import AdminClient

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


class DownloadRefused(Exception):
    """The downloaded export is not the one the API described; nothing was written."""


def download_export(answer: dict[str, Any], out: Path, timeout: float = 60) -> int:
    """Fetch the zip from the answer's ``download_url`` (that URL only) into ``out``, after
    checking its size and SHA-256 against the answer; the bytes go to ``<out>.part`` first and
    replace ``out`` only once they check. Returns the size."""
    url = str(answer["download_url"])
    if not url.startswith(("https://", "http://")):
        raise DownloadRefused(f"not an http(s) download link: {url[:40]}…")
    expected_size, expected_sha = int(answer["size"]), str(answer["sha256"]).lower()
    tmp = out.with_suffix(out.suffix + ".part")
    digest, size = hashlib.sha256(), 0
    # The scheme is checked above: http(s) only, the presigned link the API gave.
    opened = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310
    try:
        with opened as response, tmp.open("wb") as file:
            while chunk := response.read(1 << 16):
                size += len(chunk)
                if size > expected_size:
                    break  # more than announced: stop reading, it cannot be the export
                digest.update(chunk)
                file.write(chunk)
        if size != expected_size:
            raise DownloadRefused(
                f"downloaded {'more than ' if size > expected_size else ''}{size} bytes, "
                f"the API announced {expected_size}"
            )
        if digest.hexdigest() != expected_sha:
            raise DownloadRefused(
                f"sha256 {digest.hexdigest()} does not match the API's {expected_sha}"
            )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
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
