"""Every proof of a year for an auditor, streamed page by page to a folder, resumable."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from quittance_ops.desk import Desk
from quittance_ops.downloads import download

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
