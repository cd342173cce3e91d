"""``quittance archive …``: the compliance desk from a terminal.

Every command goes through the staff API with SigV4 (never the tables), so each access is
checked and audited like any other; only ``dispose`` deletes, with the caller's own
credentials (quittance_ops.disposal)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quittance_ops.desk import Desk, connect, money
from quittance_ops.disposal import DisposalNotRecorded, dispose_versions, record_disposal
from quittance_ops.downloads import download
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, YesOpt, emit, out_file, takes
from quittance_ops.year_export import export_year

archive_app = typer.Typer(
    no_args_is_help=True, help="Proofs in the archive: find, verify, hold, hand over."
)


# ------------------------------------------------------------------------- archive
@dataclass(frozen=True)
class SearchOptions:
    """``archive search``'s filters, page and target: one parameter object."""

    receipt: Annotated[str | None, typer.Option(help="Receipt or credit-note number")] = None
    invoice: Annotated[str | None, typer.Option(help="Invoice number")] = None
    payment: Annotated[str | None, typer.Option(help="Gateway payment id")] = None
    customer: Annotated[str | None, typer.Option(help="Pseudonymous customer id C-…")] = None
    provider: Annotated[str | None, typer.Option(help="Gateway of --reference")] = None
    reference: Annotated[str | None, typer.Option(help="Customer reference at the gateway")] = None
    date_from: Annotated[
        str | None, typer.Option("--from", help="Paid on or after (YYYY-MM-DD)")
    ] = None
    date_to: Annotated[str | None, typer.Option("--to", help="Paid on or before (YYYY-MM-DD)")] = (
        None
    )
    method: Annotated[str | None, typer.Option(help="card, sepa_transfer, sepa_debit, …")] = None
    status: Annotated[str | None, typer.Option(help="paid, partially_paid, overpaid, refunded")] = (
        None
    )
    limit: Annotated[int, typer.Option(help="Per page")] = 50
    cursor: Annotated[str | None, typer.Option(help="Next page, as given by the last one")] = None
    stack: StackOpt = None
    aws_stack: AwsOpt = None
    as_json: JsonOpt = False

    def query(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt,
            "invoice": self.invoice,
            "payment": self.payment,
            "customer": self.customer,
            "provider": self.provider,
            "reference": self.reference,
            "from": self.date_from,
            "to": self.date_to,
            "method": self.method,
            "status": self.status,
            "limit": self.limit,
            "cursor": self.cursor,
        }


@archive_app.command("search")
@takes(SearchOptions)
def search(options: SearchOptions) -> None:
    """Find proofs; each filter is served by a key or an index (docs/compliance.md)."""
    found = connect(options.stack, options.aws_stack).get("/admin/receipts", options.query())
    if emit(options.as_json, found):
        return
    table = Table(title=f"{len(found['items'])} proof(s) — via {found['served_by']}")
    for column in ("number", "invoice", "payment", "amount", "method", "status", "paid (UTC)"):
        table.add_column(column)
    for hit in found["items"]:
        table.add_row(
            hit["receipt_number"],
            hit["invoice_number"],
            hit["payment_id"],
            money(hit["amount"]),
            hit["method"] or "",
            hit["status"],
            hit["paid_at"][:19],
        )
    console = Console()
    console.print(table)
    if found["next_cursor"]:
        console.print(f"more: --cursor {found['next_cursor']}")


@archive_app.command("show")
def show(
    number: str, stack: StackOpt = None, aws_stack: AwsOpt = None, as_json: JsonOpt = False
) -> None:
    """Everything known about one proof."""
    shown = connect(stack, aws_stack).get(f"/admin/receipts/{number}")
    if emit(as_json, shown):
        return
    console = Console()
    receipt, archive = shown["receipt"], shown["archive"]
    console.print(
        f"[bold]{receipt['receipt_number']}[/] ({receipt.get('kind', 'receipt')}) — invoice "
        f"{receipt['invoice_number']}, {money(receipt['amount'])}, {receipt['invoice_status']}"
    )
    console.print(
        f"archive: {archive.get('key')} version {archive.get('version_id')}, "
        f"{archive.get('size')} bytes, sha256 {archive.get('sha256_hex')}"
    )
    table = Table(title="archived versions")
    for column in ("key", "version", "lock", "retain until", "legal hold"):
        table.add_column(column)
    for v in shown["versions"]:
        table.add_row(
            v["key"],
            v["version_id"],
            v["lock_mode"],
            v["retain_until"],
            "ON" if v["legal_hold"] else "off",
        )
    console.print(table)
    events = shown["invoice"].get("events", [])
    console.print(
        f"invoice history: {len(events)} event(s); status "
        f"{(shown['invoice'].get('summary') or {}).get('status')}"
    )
    for m in shown["messages"]:
        console.print(f"message {m.get('kind')} {m.get('status')} at {m.get('at')}")


@archive_app.command("verify")
def verify(
    number: str, stack: StackOpt = None, aws_stack: AwsOpt = None, as_json: JsonOpt = False
) -> None:
    """Re-read the archived version and run every check; exit 1 if one fails."""
    report = connect(stack, aws_stack).send("POST", f"/admin/receipts/{number}/verify")
    if not emit(as_json, report):
        console = Console()
        for check in report["checks"]:
            mark = "[green]ok[/]" if check["ok"] else "[red]FAILED[/]"
            console.print(f"{mark} {check['name']}: {check['detail']}")
        console.print(
            "[bold green]ok[/]"
            if report["ok"]
            else f"[bold red]failed: {', '.join(report['failed'])}[/]"
        )
    if not report["ok"]:
        raise typer.Exit(code=1)


def _hold(
    number: str,
    *,
    on: bool,
    reason: str,
    case: str,
    stack: Path | None,
    aws_stack: str | None,
    as_json: bool,
) -> None:
    result = connect(stack, aws_stack).send(
        "PUT" if on else "DELETE",
        f"/admin/receipts/{number}/legal-hold",
        {"reason": reason, "case": case},
    )
    if not emit(as_json, result):
        state = "ON" if on else "off"
        Console().print(
            f"legal hold {state} on {len(result['versions'])} version(s) of {number} (case {case})"
        )


@archive_app.command("hold")
def hold(
    number: str,
    *,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail)")],
    case: Annotated[str, typer.Option(help="Case reference, e.g. CB-2026-017")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a legal hold on every archived version of a proof."""
    _hold(
        number, on=True, reason=reason, case=case, stack=stack, aws_stack=aws_stack, as_json=as_json
    )


@archive_app.command("release")
def release(
    number: str,
    *,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail)")],
    case: Annotated[str, typer.Option(help="Case reference")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lift the legal hold."""
    _hold(
        number,
        on=False,
        reason=reason,
        case=case,
        stack=stack,
        aws_stack=aws_stack,
        as_json=as_json,
    )


@archive_app.command("evidence")
def evidence(
    number: str,
    *,
    out: Annotated[
        Path | None,
        typer.Option(help="The zip to write (a folder: NUMBER-evidence.zip inside it)"),
    ] = None,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the evidence bundle and download it (the link is valid 5 minutes)."""
    result = connect(stack, aws_stack).send("POST", f"/admin/receipts/{number}/evidence")
    target = out_file(out, f"{number}-evidence.zip")
    download(result["url"], target, result["sha256_hex"])
    result["saved_to"] = str(target)
    if not emit(as_json, result):
        Console().print(
            f"{target} ({len(result['files'])} files, sha256 {result['sha256_hex']}; "
            f"gateway delivery: {result['delivery']})"
        )


@archive_app.command("resend")
def resend(
    number: str,
    *,
    request_id: Annotated[str, typer.Option(help="Same id again = same send, never a second one")],
    email: Annotated[
        str | None, typer.Option(help="Corrected address (default: the one on file)")
    ] = None,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the archived original, byte for byte, to the customer."""
    body = {"request_id": request_id, **({"email": email} if email else {})}
    result = connect(stack, aws_stack).send("POST", f"/admin/receipts/{number}/resend", body)
    if not emit(as_json, result):
        Console().print(f"{number} sent (message {result['message_id']})")


@archive_app.command("expiring")
def expiring(
    *,
    before: Annotated[str, typer.Option(help="Retention ended before this date (YYYY-MM-DD)")],
    year: Annotated[int | None, typer.Option(help="Only proofs archived under this year")] = None,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Proofs whose retention has ended and that carry no legal hold."""
    found = connect(stack, aws_stack).get(
        "/admin/archive/expiring", {"before": before, "year": year}
    )
    if emit(as_json, found):
        return
    table = Table(title=f"{len(found['items'])} proof version(s) past retention, no legal hold")
    for column in ("key", "version", "retain until", "sha256"):
        table.add_column(column)
    for v in found["items"]:
        table.add_row(v["key"], v["version_id"], v["retain_until"], v["sha256_hex"][:16] + "…")
    Console().print(table)


@archive_app.command("dispose")
def dispose(
    *,
    before: Annotated[
        str | None, typer.Option(help="Retention ended before this date (YYYY-MM-DD)")
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Kept in the disposal record")
    ] = "end of the legal retention period",
    record: Annotated[
        Path | None,
        typer.Option(help="Record a disposal whose record failed (the saved report)"),
    ] = None,
    yes: YesOpt = False,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove proofs past retention with no legal hold, and record the disposal (what,
    hashes, when, who) in the audit trail. Needs s3:DeleteObjectVersion on receipts/* in
    the caller's own role: no function of the stack may delete a version. If the record
    cannot be written, the report is saved to a file: record it with ``--record FILE``."""
    if (before is None) == (record is None):
        raise typer.BadParameter("give --before DATE to dispose, or --record FILE")
    if record is not None:
        report = json.loads(record.read_text())
        saved = record.with_name(record.name + ".retry")
        _finish(connect(stack, aws_stack), report, [], saved, as_json)
        return
    assert before is not None
    if as_json and not yes:
        # A script asking for JSON gets no prompt: it must say --yes, not delete by default.
        raise typer.BadParameter("--json deletes without asking: add --yes to confirm")
    desk = connect(stack, aws_stack)
    cutoff = min(datetime.fromisoformat(before).replace(tzinfo=UTC), datetime.now(UTC))
    found = desk.get("/admin/archive/expiring", {"before": cutoff.isoformat()})
    items = found["items"]
    if not items:
        if not emit(as_json, {"disposed": [], "refused": []}):
            Console().print("nothing to dispose of")
        return
    if not yes and not typer.confirm(f"Remove {len(items)} proof version(s) for good?"):
        raise typer.Exit(code=1)
    done, refused = dispose_versions(desk, items, datetime.now(UTC))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    _finish(
        desk, {"reason": reason, "items": done}, refused, Path(f"disposal-{stamp}.json"), as_json
    )


def _finish(
    desk: Desk, report: dict[str, Any], refused: list[str], save_to: Path, as_json: bool
) -> None:
    done = report["items"]
    try:
        recorded = record_disposal(desk, report, save_to=save_to) if done else None
    except DisposalNotRecorded as exc:
        Console(stderr=True).print(
            f"[red]{len(done)} version(s) removed, but the disposal is not recorded[/]: {exc}\n"
            f"record it with: quittance archive dispose --record {exc.saved}"
        )
        raise typer.Exit(code=1) from exc
    result = {"disposed": done, "refused": refused, "audit_seq": (recorded or {}).get("audit_seq")}
    if not emit(as_json, result):
        Console().print(
            f"{len(done)} disposed of (audit entry {result['audit_seq']}), {len(refused)} refused"
        )
        for line in refused:
            Console().print(f"[yellow]{line}[/]")


@archive_app.command("export")
def export(
    *,
    year: Annotated[int, typer.Option(help="Fiscal year (UTC collection dates)")],
    out: Annotated[Path, typer.Option(help="Folder; rerun with the same folder to resume")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every proof of a year for an auditor: PDFs, index.csv and SHA256SUMS (sha256sum -c)."""
    result = export_year(connect(stack, aws_stack), year, out)
    if not emit(as_json, result):
        Console().print(
            f"{result['proofs']} proofs of {year} in {out} "
            f"(check: cd {out} && sha256sum -c SHA256SUMS)"
        )
