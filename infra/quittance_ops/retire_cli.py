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

from quittance_ops.archive_cli import (
    AwsOpt,
    Desk,
    DisposalNotRecorded,
    JsonOpt,
    StackOpt,
    _emit,
    connect,
    record_disposal,
)

RECORD_PATH = "/admin/ledger/retirements"
RECORD_BATCH = 100  # invoices per retirement record (the API's limit)


@dataclass
class Retirement:
    year: int
    retired: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    audit_seqs: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "retired": self.retired,
            "refused": self.refused,
            "kept": self.kept,
            "audit_seqs": self.audit_seqs,
        }


def candidates(desk: Desk, year: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every invoice of ``year`` the staff API finds retirable, and those it keeps (why)."""
    retirable: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = desk.get("/admin/ledger/retirable", {"year": year, "cursor": cursor})
        retirable.extend(page["retirable"])
        kept.extend(page["kept"])
        cursor = page["next_cursor"]
        if cursor is None:
            seen: dict[str, dict[str, Any]] = {v["invoice"]: v for v in retirable}
            return list(seen.values()), _once(kept)


def _once(kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({k["invoice"]: k for k in kept}.values())


def delete_invoice(desk: Desk, verdict: dict[str, Any]) -> str | None:
    """Delete exactly the items the API judged, in one transaction that fails if the invoice
    changed since (its version moved or an item came or went). None when done, else why not."""
    from botocore.exceptions import ClientError

    pk = f"INV#{verdict['invoice']}"
    listed = sorted(verdict["sort_keys"])
    now = _sort_keys(desk, pk)
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


def _sort_keys(desk: Desk, pk: str) -> list[str]:
    keys: list[str] = []
    kwargs: dict[str, Any] = {
        "TableName": desk.ledger_table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ProjectionExpression": "sk",
        "ConsistentRead": True,
    }
    while True:
        page = desk.dynamodb.query(**kwargs)
        keys.extend(item["sk"]["S"] for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return sorted(keys)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def retire_year(
    desk: Desk, year: int, reason: str, verdicts: list[dict[str, Any]], save_to: Path
) -> Retirement:
    """Delete each retirable invoice, then record what left the books, a hundred invoices per
    record. A record the API does not take is saved to ``save_to`` (DisposalNotRecorded)."""
    result = Retirement(year)
    for verdict in verdicts:
        why = delete_invoice(desk, verdict)
        if why:
            result.refused.append(why)
        else:
            result.retired.append(
                {k: verdict[k] for k in ("invoice", "documents")} | {"items": verdict["items"]}
            )
    for start in range(0, len(result.retired), RECORD_BATCH):
        batch = result.retired[start : start + RECORD_BATCH]
        report = {"reason": reason, "year": year, "invoices": batch}
        target = save_to.with_name(f"{save_to.stem}-{start // RECORD_BATCH + 1}{save_to.suffix}")
        recorded = record_disposal(desk, report, save_to=target, path=RECORD_PATH)
        result.audit_seqs.append(int(recorded.get("audit_seq") or 0))
    return result


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
        typer.Option(help="Record a retirement whose record failed (the saved report)"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove from the ledger the invoices last active in a year whose proofs were all
    disposed of and whose retention is over; list the others with the reason they stay. Needs
    dynamodb:Query and dynamodb:DeleteItem on the ledger table in the caller's own role: no
    function of the stack may delete ledger records. Run it after ``archive dispose``."""
    if (year is None) == (record is None):
        raise typer.BadParameter("give --year YYYY to retire, or --record FILE")
    if record is None and as_json and not yes:
        # A script asking for JSON gets no prompt: it must say --yes, not delete by default.
        raise typer.BadParameter("--json deletes without asking: add --yes to confirm")
    desk = connect(stack, aws_stack)
    if record is not None:
        report = json.loads(record.read_text())
        try:
            recorded = record_disposal(
                desk, report, save_to=record.with_name(record.name + ".retry"), path=RECORD_PATH
            )
        except DisposalNotRecorded as exc:
            Console(stderr=True).print(f"[red]still not recorded[/]: {exc}")
            raise typer.Exit(code=1) from exc
        if not _emit(as_json, recorded):
            Console().print(f"recorded (audit entry {recorded.get('audit_seq')})")
        return
    assert year is not None
    verdicts, kept = candidates(desk, year)
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
    if _emit(as_json, result.as_json()):
        return
    Console().print(
        f"{len(result.retired)} invoice(s) retired (audit entries {result.audit_seqs}), "
        f"{len(result.refused)} refused, {len(kept)} kept"
    )
    for line in result.refused:
        Console().print(f"[yellow]{line}[/]")


def _show(verdicts: list[dict[str, Any]], kept: list[dict[str, Any]]) -> None:
    table = Table(title=f"{len(verdicts)} invoice(s) to retire, {len(kept)} kept")
    for column in ("invoice", "documents", "items", "retention over"):
        table.add_column(column)
    for v in verdicts:
        table.add_row(
            v["invoice"], ", ".join(v["documents"]), str(v["items"]), str(v["retention_over_at"])
        )
    Console().print(table)
