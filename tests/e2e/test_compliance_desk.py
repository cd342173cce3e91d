"""The compliance desk on the local stack, over HTTP and SigV4 as staff use it: the CLI finds,
verifies, holds and exports proofs; unsigned or wrongly signed calls get 403 and change
nothing; `quittance audit verify` passes on the untouched trail and names a tampered entry."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from quittance.aws.items import to_item
from quittance.aws.ledger_table import LedgerTable
from quittance.errors import SignatureInvalid
from quittance.providers.base import WebhookRequest
from quittance.providers.stripe import StripeAdapter
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.localstack import sigv4

from .conftest import ROOT, RunningStack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-compliance_desk")]


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    out = tmp_path_factory.mktemp("compliance")
    process, running = start_stack(out, stage="dev")
    try:
        yield running
    finally:
        assert stop_stack(process, out) == 0


@pytest.fixture(scope="module")
def receipts(dev_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    numbers = []
    ledger = LedgerTable(dev_stack.resources["LedgerTable"], dev_stack.client("dynamodb"))
    for i in range(3):
        invoice = f"F-DESK-{i}"
        delivery = stripe_payment_intent_succeeded(
            secret=dev_stack.info["webhook_secrets"]["stripe"], invoice_number=invoice,
            amount_minor=10000 + i, customer=f"cus_desk_{i}",
        )  # fmt: skip
        request = urllib.request.Request(
            f"{dev_stack.api_url}/webhooks/stripe", data=delivery.body,
            headers=delivery.headers, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30):
            pass
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            record = ledger.load(invoice)
            if record and record.documents:
                item = ledger.receipt_item(record.documents[0].receipt_number)
                if item.get("archive"):
                    numbers.append(record.documents[0].receipt_number)
                    break
            time.sleep(0.2)
        else:
            raise AssertionError(f"{invoice} was not archived")
    (tmp_path_factory.getbasetemp() / "desk-stack.json").write_text(json.dumps(dev_stack.info))
    return numbers


def cli(dev_stack: RunningStack, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    stack_json = tmp_path / "stack.json"
    stack_json.write_text(json.dumps(dev_stack.info))
    return subprocess.run(
        [sys.executable, "-m", "quittance_ops", *args, "--stack", str(stack_json)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def _audit_count(stack: RunningStack) -> int:
    page = stack.client("dynamodb").query(
        TableName=stack.resources["AuditTable"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :entry)",
        ExpressionAttributeValues=to_item({":pk": "CHAIN#admin", ":entry": "E#"}),
        Select="COUNT",
    )
    return int(page["Count"])


def test_cli_finds_verifies_and_bundles_a_receipt(
    dev_stack: RunningStack, receipts: list[str], tmp_path: Path
) -> None:
    number = receipts[0]
    run = cli(dev_stack, tmp_path, "archive", "search", "--invoice", "F-DESK-0", "--json")
    assert run.returncode == 0, run.stderr
    assert [h["receipt_number"] for h in json.loads(run.stdout)["items"]] == [number]
    run = cli(dev_stack, tmp_path, "archive", "verify", number)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "embedded_receipt_json" in run.stdout and "GOVERNANCE" in run.stdout
    run = cli(dev_stack, tmp_path, "archive", "evidence", number, "--out", str(tmp_path), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["delivery"] == "kept"
    with zipfile.ZipFile(tmp_path / f"{number}-evidence.zip") as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        assert set(bundle.namelist()) - {"manifest.json"} == set(manifest["files"])
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(bundle.read(name)).hexdigest() == digest
        body = bundle.read("delivery/body.bin")
        headers = json.loads(bundle.read("delivery/headers.json"))
        kept = json.loads(bundle.read("delivery/delivery.json"))
        embedded = json.loads(bundle.read("receipt.json"))
    # A third party with the gateway's secret re-verifies the delivery from the bundle alone.
    request = WebhookRequest(headers, body, datetime.fromisoformat(kept["received_at"]))
    StripeAdapter().verify(request, [dev_stack.info["webhook_secrets"]["stripe"]])
    with pytest.raises(SignatureInvalid):
        StripeAdapter().verify(request, ["whsec_someone_else"])
    ledger = LedgerTable(dev_stack.resources["LedgerTable"], dev_stack.client("dynamodb"))
    record = ledger.receipt_item(number)["data"]
    assert (embedded["receipt_number"], embedded["amount"]) == (number, record["amount"])


def test_ledger_retire_keeps_invoices_whose_proofs_are_archived_and_says_why(
    dev_stack: RunningStack, receipts: list[str], tmp_path: Path
) -> None:
    year = str(datetime.now(UTC).year)
    run = cli(dev_stack, tmp_path, "ledger", "retire", "--year", year, "--json")
    assert run.returncode == 2 and "--yes" in run.stderr  # a script must confirm

    listed = cli(dev_stack, tmp_path, "ledger", "retire", "--year", year, "--dry-run", "--json")
    run = cli(dev_stack, tmp_path, "ledger", "retire", "--year", year, "--json", "--yes")

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["kept"] == json.loads(run.stdout)["kept"]
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["retired"] == [] and result["refused"] == []
    kept = {k["invoice"]: k for k in result["kept"]}
    desk = kept["F-DESK-0"]
    assert desk["documents"] == [receipts[0]]
    assert desk["reasons"][0].startswith("retained until")
    assert desk["reasons"][1] == f"{receipts[0]}: 1 archived version(s) still kept"
    ledger = LedgerTable(dev_stack.resources["LedgerTable"], dev_stack.client("dynamodb"))
    assert ledger.load("F-DESK-0") is not None


def _signed(stack: RunningStack, method: str, path: str, secret: str) -> int:
    url = f"{stack.api_url}{path}"
    body = json.dumps({"reason": "forged", "case": "X-1"}).encode() if method == "PUT" else b""
    headers = sigv4.sign(
        method, url, body, {"Host": url.split("/")[2], "Content-Type": "application/json"},
        key="testing", secret=secret, region=stack.info["region"],
    )  # fmt: skip
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_unsigned_and_wrongly_signed_calls_get_403_and_change_nothing(
    dev_stack: RunningStack, receipts: list[str]
) -> None:
    number = receipts[1]
    before = _audit_count(dev_stack)
    for method, path in (
        ("GET", "/admin/receipts?invoice=F-DESK-1"),
        ("PUT", f"/admin/receipts/{number}/legal-hold"),
        ("POST", f"/admin/receipts/{number}/evidence"),
        ("GET", "/admin/audit"),
    ):
        unsigned = urllib.request.Request(f"{dev_stack.api_url}{path}", method=method)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(unsigned, timeout=30)
        assert refused.value.code == 403
        assert _signed(dev_stack, method, path, secret="not-the-secret") == 403
    assert _audit_count(dev_stack) == before
    s3 = dev_stack.client("s3")
    ledger = LedgerTable(dev_stack.resources["LedgerTable"], dev_stack.client("dynamodb"))
    archive = ledger.receipt_item(number)["archive"]
    head = s3.head_object(
        Bucket=dev_stack.resources["ArchiveBucket"], Key=archive["key"],
        VersionId=archive["version_id"],
    )  # fmt: skip
    assert head.get("ObjectLockLegalHoldStatus") in {None, "OFF"}
    # The signed call with the stack's credentials does go through, and is audited.
    assert _signed(dev_stack, "GET", "/admin/receipts?invoice=F-DESK-1", secret="testing") == 200
    assert _audit_count(dev_stack) == before + 1


def test_export_is_resumable_and_its_manifest_checks(
    dev_stack: RunningStack, receipts: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "export"
    year = time.gmtime().tm_year
    # An interrupted run: state.json says the first proof of the first page is done.
    run = cli(dev_stack, tmp_path, "archive", "export", "--year", str(year), "--out", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    rows = list(csv.DictReader(io.StringIO((out / "index.csv").read_text())))
    assert {r["receipt_number"] for r in rows} >= set(receipts)
    state = json.loads((out / "state.json").read_text())
    assert state["finished"] is True
    # Resume from a state cut in the middle: nothing is written twice.
    first = rows[0]["receipt_number"]
    (out / "state.json").write_text(
        json.dumps({"year": year, "cursor": None, "page_done": [first], "count": 1})
    )
    (out / "index.csv").write_text(
        (out / "index.csv").read_text().splitlines()[0] + "\n" + _row_line(out, first)
    )
    (out / "SHA256SUMS").write_text(
        "".join(line + "\n" for line in (out / "SHA256SUMS").read_text().splitlines()[:1])
    )
    run = cli(dev_stack, tmp_path, "archive", "export", "--year", str(year), "--out", str(out))
    assert run.returncode == 0, run.stderr
    again = list(csv.DictReader(io.StringIO((out / "index.csv").read_text())))
    assert [r["receipt_number"] for r in again] == [r["receipt_number"] for r in rows]
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(rows)


def _row_line(out: Path, number: str) -> str:
    return (
        next(
            line for line in (out / "index.csv").read_text().splitlines() if line.startswith(number)
        )
        + "\n"
    )


def test_audit_verify_passes_then_names_the_altered_entry(
    dev_stack: RunningStack, receipts: list[str], tmp_path: Path
) -> None:
    run = cli(dev_stack, tmp_path, "audit", "verify", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["ok"] is True
    dynamodb = dev_stack.client("dynamodb")
    table = dev_stack.resources["AuditTable"]
    key = to_item({"pk": "CHAIN#admin", "sk": f"E#{2:012d}"})
    item: dict[str, Any] = dynamodb.get_item(TableName=table, Key=key)["Item"]
    original = dict(item)
    item["outcome"] = {"S": "refused_404"}
    dynamodb.put_item(TableName=table, Item=item)
    try:
        run = cli(dev_stack, tmp_path, "audit", "verify")
        assert run.returncode == 1
        assert "entry 2" in run.stdout
    finally:
        dynamodb.put_item(TableName=table, Item=original)


def test_demo_compliance_scene(
    dev_stack: RunningStack, receipts: list[str], tmp_path: Path
) -> None:
    from rich.console import Console

    from quittance_ops.compliance_demo import compliance_scene

    stack_json = tmp_path / "stack.json"
    stack_json.write_text(json.dumps(dev_stack.info))
    shown = io.StringIO()
    result = compliance_scene(stack_json, tmp_path / "demo", Console(file=shown, width=120))
    assert result["receipt_number"] in receipts
    assert result["verify_ok"] and result["audit_ok"], shown.getvalue()
    with zipfile.ZipFile(result["bundle"]) as bundle:
        assert "manifest.json" in bundle.namelist()
    text = shown.getvalue()
    assert "legal hold: ON" in text and "receipt.hold" in text and "receipt.evidence" in text
