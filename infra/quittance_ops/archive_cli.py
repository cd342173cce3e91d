"""``quittance archive …`` and ``quittance audit …``: the compliance desk from a terminal.

Every command goes through the staff API with SigV4 (never the tables), so each access is
checked and audited like any other. Against the local stack the endpoint and credentials
come from ``out/local/stack.json``; against AWS (``--aws-stack NAME``) from the stack's
CloudFormation outputs and the caller's own AWS credentials."""

from __future__ import annotations

import csv
import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quittance_ops.admin_client import decode
from quittance_ops.downloads import download

archive_app = typer.Typer(
    no_args_is_help=True, help="Proofs in the archive: find, verify, hold, hand over."
)
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail of every staff access.")

StackOpt = Annotated[
    Path | None, typer.Option(help="stack.json of a local stack (default out/local)")
]
AwsOpt = Annotated[str | None, typer.Option("--aws-stack", help="CloudFormation stack name on AWS")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


class Caller(Protocol):
    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class Desk:
    """Where the staff API is, and how to reach the archive bucket (a disposal) and the
    ledger table (a retirement) with the caller's own credentials."""

    api: Caller
    bucket: str
    s3: Any
    ledger_table: str = ""
    dynamodb: Any = None

    def get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        return self._ok(*self.api.call("GET", _with_query(path, query)))

    def send(self, method: str, path: str, body: Any = None) -> Any:
        return self._ok(*self.api.call(method, path, body))

    @staticmethod
    def _ok(status: int, body: Any) -> Any:
        if status != 200:
            detail = body.get("detail") if isinstance(body, dict) else body
            Console(stderr=True).print(f"[red]refused ({status})[/]: {detail}")
            if isinstance(body, dict) and body.get("fields"):
                Console(stderr=True).print_json(json.dumps(body["fields"]))
            raise typer.Exit(code=2 if status == 403 else 1)
        return body


@dataclass(frozen=True)
class AwsAdminClient:
    """SigV4 with the caller's own AWS credentials (session token included)."""

    base_url: str
    region: str
    credentials: Any

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = f"{self.base_url.rstrip('/')}{path}"
        if not url.startswith("https://"):
            raise ValueError(f"refusing to send signed calls to {url}")
        data = json.dumps(body).encode() if body is not None else b""
        request = AWSRequest(
            method=method, url=url, data=data, headers={"Content-Type": "application/json"}
        )
        SigV4Auth(self.credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(
            request
        )
        prepared = urllib.request.Request(  # noqa: S310 - https checked above
            url, data=data or None, headers=dict(request.headers.items()), method=method
        )
        try:
            with urllib.request.urlopen(prepared, timeout=60) as response:  # noqa: S310
                return response.status, decode(response.read())
        except urllib.error.HTTPError as error:
            return error.code, decode(error.read())


def connect(stack: Path | None = None, aws_stack: str | None = None) -> Desk:
    import boto3

    if aws_stack:
        session = boto3.session.Session()
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in session.client("cloudformation").describe_stacks(StackName=aws_stack)[
                "Stacks"
            ][0]["Outputs"]
        }
        api = AwsAdminClient(outputs["ApiUrl"], session.region_name, session.get_credentials())
        return Desk(
            api,
            outputs["ArchiveBucketName"],
            session.client("s3"),
            outputs["LedgerTableName"],
            session.client("dynamodb"),
        )
    from quittance_ops.admin_client import AdminClient
    from quittance_ops.cli import project_root

    path = stack or project_root() / "out" / "local" / "stack.json"
    if not path.is_file():
        raise typer.BadParameter(f"{path} not found: start the local stack (quittance local up)")
    info = json.loads(path.read_text())
    session = boto3.session.Session(
        region_name=info["region"],
        aws_access_key_id=info["credentials"]["aws_access_key_id"],
        aws_secret_access_key=info["credentials"]["aws_secret_access_key"],
    )
    return Desk(
        AdminClient.for_local_stack(path),
        info["resources"]["ArchiveBucket"],
        session.client("s3", endpoint_url=info["moto_endpoint"]),
        info["resources"]["LedgerTable"],
        session.client("dynamodb", endpoint_url=info["moto_endpoint"]),
    )


def _with_query(path: str, query: dict[str, Any] | None) -> str:
    pairs = {k: str(v) for k, v in (query or {}).items() if v is not None}
    return f"{path}?{urllib.parse.urlencode(pairs)}" if pairs else path


def _emit(as_json: bool, value: Any) -> bool:
    if as_json:
        print(json.dumps(value, indent=2, ensure_ascii=False, default=str))
    return as_json


def _money(amount: dict[str, Any] | None) -> str:
    if not amount:
        return ""
    minor = int(amount["amount_minor"])
    return f"{minor // 100}.{minor % 100:02d} {amount['currency']}"


# ------------------------------------------------------------------------- archive
@archive_app.command("search")
def search(
    *,
    receipt: Annotated[str | None, typer.Option(help="Receipt or credit-note number")] = None,
    invoice: Annotated[str | None, typer.Option(help="Invoice number")] = None,
    payment: Annotated[str | None, typer.Option(help="Gateway payment id")] = None,
    customer: Annotated[str | None, typer.Option(help="Pseudonymous customer id C-…")] = None,
    provider: Annotated[str | None, typer.Option(help="Gateway of --reference")] = None,
    reference: Annotated[str | None, typer.Option(help="Customer reference at the gateway")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Paid on or after (YYYY-MM-DD)")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Paid on or before (YYYY-MM-DD)")
    ] = None,
    method: Annotated[str | None, typer.Option(help="card, sepa_transfer, sepa_debit, …")] = None,
    status: Annotated[
        str | None, typer.Option(help="paid, partially_paid, overpaid, refunded")
    ] = None,
    limit: Annotated[int, typer.Option(help="Per page")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Next page, as given by the last one")] = None,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find proofs; each filter is served by a key or an index (docs/compliance.md)."""
    query = {
        "receipt": receipt,
        "invoice": invoice,
        "payment": payment,
        "customer": customer,
        "provider": provider,
        "reference": reference,
        "from": date_from,
        "to": date_to,
        "method": method,
        "status": status,
        "limit": limit,
        "cursor": cursor,
    }
    found = connect(stack, aws_stack).get("/admin/receipts", query)
    if _emit(as_json, found):
        return
    table = Table(title=f"{len(found['items'])} proof(s) — via {found['served_by']}")
    for column in ("number", "invoice", "payment", "amount", "method", "status", "paid (UTC)"):
        table.add_column(column)
    for hit in found["items"]:
        table.add_row(
            hit["receipt_number"],
            hit["invoice_number"],
            hit["payment_id"],
            _money(hit["amount"]),
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
    if _emit(as_json, shown):
        return
    console = Console()
    receipt, archive = shown["receipt"], shown["archive"]
    console.print(
        f"[bold]{receipt['receipt_number']}[/] ({receipt.get('kind', 'receipt')}) — invoice "
        f"{receipt['invoice_number']}, {_money(receipt['amount'])}, {receipt['invoice_status']}"
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
    if not _emit(as_json, report):
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
    if not _emit(as_json, result):
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
    out: Annotated[Path, typer.Option(help="Folder for the bundle")] = Path("."),
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the evidence bundle and download it (the link is valid 5 minutes)."""
    result = connect(stack, aws_stack).send("POST", f"/admin/receipts/{number}/evidence")
    target = out / f"{number}-evidence.zip"
    download(result["url"], target, result["sha256_hex"])
    result["saved_to"] = str(target)
    if not _emit(as_json, result):
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
    if not _emit(as_json, result):
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
    if _emit(as_json, found):
        return
    table = Table(title=f"{len(found['items'])} proof version(s) past retention, no legal hold")
    for column in ("key", "version", "retain until", "sha256"):
        table.add_column(column)
    for v in found["items"]:
        table.add_row(v["key"], v["version_id"], v["retain_until"], v["sha256_hex"][:16] + "…")
    Console().print(table)


def dispose_versions(
    desk: Desk, items: list[dict[str, Any]], now: datetime
) -> tuple[list[dict[str, Any]], list[str]]:
    """Delete each version with the caller's own credentials, re-checked just before; S3's
    Object Lock refuses anything still held or retained whatever this code does."""
    from botocore.exceptions import ClientError

    done: list[dict[str, Any]] = []
    refused: list[str] = []
    for item in items:
        head = desk.s3.head_object(
            Bucket=desk.bucket, Key=item["key"], VersionId=item["version_id"]
        )
        retain = head.get("ObjectLockRetainUntilDate")
        if head.get("ObjectLockLegalHoldStatus") == "ON" or (retain and retain > now):
            refused.append(f"{item['key']}: held or retained since listed")
            continue
        try:
            desk.s3.delete_object(Bucket=desk.bucket, Key=item["key"], VersionId=item["version_id"])
        except ClientError as exc:
            refused.append(
                f"{item['key']}: S3 refused ({exc.response.get('Error', {}).get('Code')})"
            )
            continue
        done.append({k: item[k] for k in ("key", "version_id", "sha256_hex", "retain_until")})
    return done, refused


class DisposalNotRecorded(Exception):
    """Versions were removed but the staff API did not take the disposal record."""

    def __init__(self, saved: Path, why: str) -> None:
        super().__init__(f"{why}; the report is saved in {saved}")
        self.saved = saved
        self.why = why


def record_disposal(
    desk: Desk,
    report: dict[str, Any],
    *,
    save_to: Path,
    attempts: int = 3,
    pause: float = 1.0,
    path: str = "/admin/archive/disposals",
) -> dict[str, Any]:
    """POST the record of what was removed (to ``path``: proof versions, or with
    ``/admin/ledger/retirements`` ledger records), retrying; if the API never takes it, keep
    the report on disk (``save_to``) so that ``--record`` can record it later: what was
    removed is gone for good, the record of it must not be."""
    import time

    why = "no answer"
    for attempt in range(attempts):
        try:
            status, body = desk.api.call("POST", path, report)
        except OSError as exc:
            status, body = 0, str(exc)
        if status == 200 and isinstance(body, dict):
            return body
        why = f"HTTP {status}: {body.get('detail') if isinstance(body, dict) else body}"
        if 400 <= status < 500 and status not in {408, 429}:
            break  # refused as it is: retrying cannot help
        if attempt + 1 < attempts:
            time.sleep(pause * 2**attempt)
    save_to.write_text(json.dumps(report, indent=2) + "\n")
    raise DisposalNotRecorded(save_to, why)


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
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
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
        if not _emit(as_json, {"disposed": [], "refused": []}):
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
    if not _emit(as_json, result):
        Console().print(
            f"{len(done)} disposed of (audit entry {result['audit_seq']}), {len(refused)} refused"
        )
        for line in refused:
            Console().print(f"[yellow]{line}[/]")


INDEX_COLUMNS = (
    "receipt_number",
    "kind",
    "invoice_number",
    "payment_id",
    "customer_id",
    "amount_minor",
    "currency",
    "method",
    "status",
    "paid_at",
    "issued_at",
    "file",
    "sha256",
    "version_id",
)


def export_year(desk: Desk, year: int, out: Path, console: Console | None = None) -> dict[str, Any]:
    """Every proof of ``year`` under ``out``: proofs/…pdf, index.csv, SHA256SUMS. Streams page
    by page (memory bounded); ``state.json`` records the page cursor and what is done in the
    current page, so a rerun after an interruption resumes where it stopped."""
    out.mkdir(parents=True, exist_ok=True)
    state_file = out / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    if state and state.get("year") != year:
        raise typer.BadParameter(f"{out} holds an export of {state.get('year')}")
    state.setdefault("year", year)
    state.setdefault("cursor", None)
    state.setdefault("page_done", [])
    state.setdefault("count", 0)
    index_path, sums_path = out / "index.csv", out / "SHA256SUMS"
    new_index = not index_path.exists()
    with (
        index_path.open("a", newline="", encoding="utf-8") as index_file,
        sums_path.open("a", encoding="utf-8") as sums,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        ) as progress,
    ):
        index = csv.writer(index_file)
        if new_index:
            index.writerow(INDEX_COLUMNS)
        task = progress.add_task(f"proofs of {year}", total=None, completed=state["count"])
        while not state.get("finished"):
            page = desk.get("/admin/archive/export", {"year": year, "cursor": state["cursor"]})
            for item in page["items"]:
                number = item["receipt_number"]
                if number in state["page_done"]:
                    continue
                archive = item.get("archive") or {}
                relative = ""
                if archive:
                    relative = f"proofs/{archive['key'].removeprefix('receipts/')}"
                    download(item["url"], out / relative, archive["sha256_hex"])
                    sums.write(f"{archive['sha256_hex']}  {relative}\n")
                amount = item["amount"]
                index.writerow(
                    (
                        number,
                        item["kind"],
                        item["invoice_number"],
                        item["payment_id"],
                        item["customer_id"],
                        amount["amount_minor"],
                        amount["currency"],
                        item["method"] or "",
                        item["status"],
                        item["paid_at"],
                        item["issued_at"],
                        relative,
                        archive.get("sha256_hex", ""),
                        archive.get("version_id", ""),
                    )
                )
                index_file.flush()
                sums.flush()
                state["page_done"].append(number)
                state["count"] += 1
                state_file.write_text(json.dumps(state))
                progress.update(task, completed=state["count"])
            state.update(
                cursor=page["next_cursor"], page_done=[], finished=page["next_cursor"] is None
            )
            state_file.write_text(json.dumps(state))
    return {"year": year, "proofs": state["count"], "out": str(out)}


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
    if not _emit(as_json, result):
        Console().print(
            f"{result['proofs']} proofs of {year} in {out} "
            f"(check: cd {out} && sha256sum -c SHA256SUMS)"
        )


# ------------------------------------------------------------------------- audit
@audit_app.command("log")
def audit_log(
    *,
    actor: Annotated[str | None, typer.Option(help="IAM ARN")] = None,
    receipt: Annotated[str | None, typer.Option(help="Receipt number (or other target)")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. receipt.hold")] = None,
    since: Annotated[str | None, typer.Option(help="ISO date or time (UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date or time (UTC)")] = None,
    limit: Annotated[int, typer.Option()] = 50,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who did what to which proof, newest first."""
    query = {
        "actor": actor,
        "receipt": receipt,
        "action": action,
        "since": since,
        "until": until,
        "limit": limit,
    }
    found = connect(stack, aws_stack).get("/admin/audit", query)
    if _emit(as_json, found):
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
    if not _emit(as_json, report):
        if report["ok"]:
            Console().print(f"[green]audit trail intact[/]: {report['checked']} entries")
        else:
            Console().print(
                f"[red]audit trail broken at entry {report['first_bad_seq']}[/]: "
                f"{report['problem']}"
            )
    if not report["ok"]:
        raise typer.Exit(code=1)


# ------------------------------------------------------------------------- demo
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
    from quittance_ops.retire_cli import candidates

    retirable, kept, closes_at = candidates(desk, year)
    reasons: list[str] = next((k["reasons"] for k in kept if k["invoice"] == invoice), [])
    console.print(
        f"end of the books {year}: {len(retirable)} invoice(s) retirable, {len(kept)} kept"
        f" (the year closes {closes_at[:10]}); {invoice}: {'; '.join(reasons) or 'no reason'}"
    )
    return not retirable and bool(reasons) and reasons[0].startswith("retained until")
