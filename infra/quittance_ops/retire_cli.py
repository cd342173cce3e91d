"""``quittance ledger retire``: the ledger records of invoices whose proofs are disposed of
and whose retention is over leave the books, deleted with the caller's own credentials and
recorded in the audit trail (docs/ledger.md, section 9)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quittance.aws.ledger_table import LedgerTable
from quittance_ops.desk import Desk, connect
from quittance_ops.disposal import DisposalNotRecorded, record_disposal
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, YesOpt, emit

RECORD_PATH = "/admin/ledger/retirements"
RECORD_BATCH = 100  # invoices per retirement record (the API's limit)


@dataclass
class Retirement:
    year: int
    retired: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    audit_seqs: list[int] = field(default_factory=list)
    year_closes_at: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "year_closes_at": self.year_closes_at,
            "retired": self.retired,
            "refused": self.refused,
            "kept": self.kept,
            "audit_seqs": self.audit_seqs,
        }


def candidates(desk: Desk, year: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Every invoice of ``year`` the staff API finds retirable, those it keeps (why), and
    when the year closes: the end of the retention of its last possible activity."""
    retirable: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = desk.get("/admin/ledger/retirable", {"year": year, "cursor": cursor})
        retirable.extend(page["retirable"])
        kept.extend(page["kept"])
        cursor = page["next_cursor"]
        if cursor is None:
            return _once(retirable), _once(kept), str(page["year_closes_at"])


def _once(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each invoice once (an invoice whose activity moved during the listing shows twice)."""
    return list({v["invoice"]: v for v in verdicts}.values())


def delete_invoice(desk: Desk, verdict: dict[str, Any]) -> str | None:
    """Delete exactly the items the API judged, in one transaction that fails if the invoice
    changed since (its version moved or an item came or went). None when done, else why not."""
    from botocore.exceptions import ClientError

    pk = f"INV#{verdict['invoice']}"
    listed = sorted(verdict["sort_keys"])
    now = _sort_keys(desk, verdict["invoice"])
    if now != listed:
        return f"{verdict['invoice']}: changed since it was listed ({len(now)} items now)"
    actions: list[dict[str, Any]] = []
    for sk in listed:
        delete: dict[str, Any] = {
            "TableName": desk.ledger_table,
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "ConditionExpression": "attribute_exists(pk)",
        }
        if sk == "#INVOICE" and verdict.get("version") is not None:
            delete["ConditionExpression"] = "version = :version"
            delete["ExpressionAttributeValues"] = {":version": {"N": str(verdict["version"])}}
        actions.append({"Delete": delete})
    try:
        desk.dynamodb.transact_write_items(TransactItems=actions)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        return f"{verdict['invoice']}: DynamoDB refused ({code}); nothing of it was deleted"
    return None


def _sort_keys(desk: Desk, invoice: str) -> list[str]:
    ledger = LedgerTable(desk.ledger_table, desk.dynamodb)
    return sorted(str(item["sk"]) for item in ledger.collection(invoice))


def retire_year(
    desk: Desk, year: int, reason: str, verdicts: list[dict[str, Any]], journal: Path
) -> Retirement:
    """Delete each retirable invoice, noting it in ``journal`` on disk as soon as it is gone,
    then record the journal with the staff API. Whatever stops the run (a refused record, an
    expired session, a crash), every invoice already deleted stays in the journal until it is
    recorded: ``DisposalNotRecorded`` names the file for ``--record``."""
    result = Retirement(year)
    report: dict[str, Any] = {"reason": reason, "year": year, "invoices": []}
    try:
        for verdict in verdicts:
            why = delete_invoice(desk, verdict)
            if why:
                result.refused.append(why)
                continue
            retired = {k: verdict[k] for k in ("invoice", "documents")} | {
                "items": verdict["items"]
            }
            result.retired.append(retired)
            report["invoices"].append(retired)
            _write(journal, report)
    finally:
        if report["invoices"]:
            result.audit_seqs = record_journal(desk, journal, keep=False)
    return result


def record_journal(desk: Desk, journal: Path, *, keep: bool) -> list[int]:
    """Record a journal of retired invoices, a hundred per record (the API's limit). After
    each record the journal keeps only what is still unrecorded; it is removed once all is
    recorded unless ``keep``."""
    report = json.loads(journal.read_text())
    pending: list[dict[str, Any]] = list(report["invoices"])
    seqs: list[int] = []
    while pending:
        batch = {**report, "invoices": pending[:RECORD_BATCH]}
        try:
            recorded = record_disposal(desk, batch, save_to=journal, path=RECORD_PATH)
        except DisposalNotRecorded as exc:
            _write(journal, {**report, "invoices": pending})  # the whole rest, not one batch
            raise DisposalNotRecorded(journal, exc.why) from exc
        seqs.append(int(recorded.get("audit_seq") or 0))
        pending = pending[RECORD_BATCH:]
        _write(journal, {**report, "invoices": pending})
    if not keep:
        journal.unlink(missing_ok=True)
    return seqs


def _write(journal: Path, report: dict[str, Any]) -> None:
    partial = journal.with_name(journal.name + ".partial")
    partial.write_text(json.dumps(report, indent=2) + "\n")
    partial.replace(journal)  # never a half-written journal


def retire(
    *,
    year: Annotated[
        int | None, typer.Option(help="The books of that year: invoices last active then")
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Kept in the retirement record")
    ] = "end of the legal retention period",
    record: Annotated[
        Path | None,
        typer.Option(help="Record the journal a run left when its record failed"),
    ] = None,
    yes: YesOpt = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would go and what stays; delete nothing")
    ] = False,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove from the ledger the invoices last active in a year whose proofs were all
    disposed of and whose retention is over; list the others with the reason they stay. Needs
    dynamodb:Query and dynamodb:DeleteItem on the ledger table in the caller's own role: no
    function of the stack may delete ledger records. Run it after quittance archive dispose."""
    if (year is None) == (record is None):
        raise typer.BadParameter("give --year YYYY to retire, or --record FILE")
    if record is None and as_json and not (yes or dry_run):
        # A script asking for JSON gets no prompt: it must say --yes, not delete by default.
        raise typer.BadParameter("--json deletes without asking: add --yes to confirm")
    desk = connect(stack, aws_stack)
    if record is not None:
        _record_again(desk, record, as_json)
        return
    assert year is not None
    verdicts, kept, closes_at = candidates(desk, year)
    if dry_run:
        listing = {"year": year, "year_closes_at": closes_at, "retirable": verdicts, "kept": kept}
        if not emit(as_json, listing):
            if verdicts:
                _show(verdicts, kept)
            else:
                Console().print(f"nothing of {year} may be retired now")
            _show_kept(kept)
            _closing(year, closes_at)
        return
    if verdicts and not yes:
        _show(verdicts, kept)
        if not typer.confirm(f"Remove {len(verdicts)} invoice(s) from the ledger for good?"):
            raise typer.Exit(code=1)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        result = retire_year(desk, year, reason, verdicts, Path(f"retirement-{stamp}.json"))
    except DisposalNotRecorded as exc:
        Console(stderr=True).print(
            f"[red]invoices removed, but the retirement is not recorded[/]: {exc}\n"
            f"record it with: quittance ledger retire --record {exc.saved}"
        )
        raise typer.Exit(code=1) from exc
    result.kept = kept
    result.year_closes_at = closes_at
    if not emit(as_json, result.as_json()):
        _summary(result)


def _record_again(desk: Desk, journal: Path, as_json: bool) -> None:
    try:
        seqs = record_journal(desk, journal, keep=True)
    except DisposalNotRecorded as exc:
        Console(stderr=True).print(f"[red]still not recorded[/]: {exc}")
        raise typer.Exit(code=1) from exc
    if not emit(as_json, {"audit_seqs": seqs}):
        Console().print(f"recorded (audit entries {seqs}); {journal} now lists nothing")


def _summary(result: Retirement) -> None:
    year, kept = result.year, result.kept
    Console().print(
        f"{len(result.retired)} invoice(s) retired (audit entries {result.audit_seqs}), "
        f"{len(result.refused)} refused, {len(kept)} kept"
    )
    for line in result.refused:
        Console().print(f"[yellow]{line}[/]")
    _show_kept(kept)
    _closing(year, result.year_closes_at)


def _closing(year: int, closes_at: str) -> None:
    closes = datetime.fromisoformat(closes_at)
    if closes > datetime.now(UTC):
        Console().print(
            f"[yellow]{year} closes on {closes:%Y-%m-%d %H:%M} UTC (the end of the retention "
            f"of its last instant): run again after that to retire the rest of {year}[/]"
        )


def _show(verdicts: list[dict[str, Any]], kept: list[dict[str, Any]]) -> None:
    table = Table(title=f"{len(verdicts)} invoice(s) to retire, {len(kept)} kept")
    for column in ("invoice", "documents", "items", "retention over"):
        table.add_column(column)
    for v in verdicts:
        table.add_row(
            v["invoice"], ", ".join(v["documents"]), str(v["items"]), str(v["retention_over_at"])
        )
    Console().print(table)


SHOWN_KEPT = 20


def _show_kept(kept: list[dict[str, Any]]) -> None:
    if not kept:
        return
    table = Table(title="kept, and why")
    table.add_column("invoice")
    table.add_column("reasons")
    for k in kept[:SHOWN_KEPT]:
        table.add_row(k["invoice"], "\n".join(k["reasons"]))
    Console().print(table)
    if len(kept) > SHOWN_KEPT:
        Console().print(f"… and {len(kept) - SHOWN_KEPT} more (--json lists them all)")
