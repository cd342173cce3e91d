"""The README's first command: `quittance demo` leaves receipts and emails a person can open."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeDeserializer
from pypdf import PdfReader

from quittance.privacy.retention import record_type, stored_as_stated

from .conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-demo")]


def test_the_demo_exits_0_and_leaves_receipts_and_emails(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(
        [sys.executable, "-m", "quittance_ops", "demo", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "card payment (Stripe)" in run.stdout

    pdfs = sorted((tmp_path / "receipts").glob("R-*.pdf"))
    emls = sorted((tmp_path / "emails").glob("*.eml"))
    assert len(pdfs) >= 3 and len(emls) >= 2
    card = pdfs[0]
    text = " ".join(PdfReader(io.BytesIO(card.read_bytes())).pages[0].extract_text().split())
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    assert card.stem in text  # the receipt number
    assert "1 234,56 €" in text  # amount and currency, as a French reader reads them

    message = email.message_from_bytes(
        (tmp_path / "emails" / f"{card.stem}-payment_confirmed.eml").read_bytes(),
        policy=email.policy.default,
    )
    body = message.get_body(("plain",)).get_content()
    assert re.search(r"http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_.\-]+", body)
    assert card.stem in str(message["Subject"])
    # Every function log line and metric of the run is kept for a person to read, and one
    # correlation id follows a payment from the gateway's request to the customer's email.
    services_by_id: dict[str, set[str]] = {}
    for line in (tmp_path / "function-logs.jsonl").read_text().splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        if record.get("correlation_id"):
            services_by_id.setdefault(record["correlation_id"], set()).add(record["service"])
    assert {"intake", "ledger", "receipts", "notify"} in services_by_id.values()

    # Every kind of customer message is left for a person to open.
    emails = tmp_path / "emails"
    failed = email.message_from_bytes(
        (emails / "F-2026-0148-payment_failed.eml").read_bytes(), policy=email.policy.default
    )
    failed_text = failed.get_body(("plain",)).get_content()
    assert "F-2026-0148" in failed_text and "débité" in failed_text
    reminder = email.message_from_bytes(
        (emails / "F-DEMO-RAPPEL-reminder.eml").read_bytes(), policy=email.policy.default
    )
    assert "Rappel" in str(reminder["Subject"])
    assert list(emails.glob("*-partial_payment.eml")) and list(
        emails.glob("AV-*-refund_issued.eml")
    )
    (sms,) = emails.glob("*.sms.txt")
    assert len(sms.read_text(encoding="utf-8").strip()) <= 160
    # An English reader's receipt has its translated copy archived beside the original.
    (translation,) = (tmp_path / "receipts").glob("R-*.en.pdf")
    copy = " ".join(PdfReader(io.BytesIO(translation.read_bytes())).pages[0].extract_text().split())
    assert "Translation — the French original is the legal document." in copy
    assert "hard-bounces → delivery bounced, address suppressed: True" in run.stdout
    # The compliance scene leaves the card receipt's evidence bundle, and the erasure its report.
    (bundle,) = tmp_path.glob("R-*-evidence.zip")
    with zipfile.ZipFile(bundle) as opened:
        names = set(opened.namelist())
        manifest = json.loads(opened.read("manifest.json"))
    assert {"receipt.json", "manifest.json", "delivery/body.bin"} <= names
    assert manifest
    erasure = json.loads((tmp_path / "privacy-erasure.json").read_text())
    assert erasure
    assert "verify: ok" in run.stdout and "audit trail: intact" in run.stdout
    assert "payment after erasure" in run.stdout and "messages sent: 0" in run.stdout
    # No personal data of the demo's customers in any function log line or metric of the run
    # (failures, a bounce and an erasure included).
    logs = (tmp_path / "function-logs.jsonl").read_text(encoding="utf-8")
    for personal in PERSONAL:
        assert personal not in logs, f"{personal!r} appears in the function logs"
    assert_state_keeps_the_retention_table(tmp_path / "state")


PERSONAL = (
    "Camille Durand",
    "camille.durand@example.com",
    "+33612345678",
    "612345678",
    "Oliver Bennett",
    "oliver.bennett@example.co.uk",
    "rue des Lilas",  # the card customer's billing address
)


def assert_state_keeps_the_retention_table(state: Path) -> None:
    """Everything the stack held at the end of the demo: each table item carries the TTL that
    docs/privacy.md states for its type, or is legal archive; personal data appears in clear
    only where the retention table allows it (archived receipts)."""
    deserialize = TypeDeserializer().deserialize
    now = time.time()
    checked = 0
    for path in sorted((state / "tables").glob("*.jsonl")):
        table = path.stem
        for line in path.read_text().splitlines():
            raw = json.loads(line)
            item = {k: deserialize(v) for k, v in raw.items() if "B" not in v}
            pk, sk = str(item.get("pk") or item.get("id")), str(item.get("sk", ""))
            assert stored_as_stated(table, item, now), (table, pk, sk)
            found = [p for p in PERSONAL if p in line or json.dumps(p)[1:-1] in line]
            assert not found, (table, pk, sk, found)
            checked += 1
    assert checked > 50
    archived = [p for p in (state / "archive").rglob("*") if p.is_file()]
    assert any("/evidence/" in str(p) for p in archived)
    for path in archived:
        key = str(path.relative_to(state / "archive"))
        record = record_type("ArchiveBucket", key)
        assert record.legal_archive, key
        found = [p for p in PERSONAL if p.encode() in path.read_bytes()]
        if found:  # only where docs/privacy.md says personal data is kept in clear
            assert record.name in {"Archived receipt", "Evidence bundle"}, (key, found)


# The demo, with one scene expecting an answer the stack will not give: a check that fails.
_ONE_SCENE_WRONG = """
import sys
import quittance_ops.demo as demo
real = demo._scenes
def one_wrong(secrets):
    scenes = real(secrets)
    scenes[0].expected_status = 418
    return scenes
demo._scenes = one_wrong
from quittance_ops.cli import app
app(["demo", "--out", sys.argv[1]])
"""


def test_the_demo_exits_1_and_says_what_failed_when_a_check_fails(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(
        [sys.executable, "-c", _ONE_SCENE_WRONG, str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failed card payment (Stripe): HTTP 202, expected 418" in run.stdout.splitlines()
