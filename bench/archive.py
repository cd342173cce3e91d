"""The compliance desk at scale, on the local stack (moto server, dev stage).

    python bench/archive.py [--receipts 20000] [--small 2000] [--samples 40]

1. Seeds N receipts straight into the ledger table (batch writes of the items the ledger
   writes: invoice, payment index, receipt with its archive record) and one archived PDF per
   receipt (the same rendered PDF/A bytes, so the ledger hash matches the object).
2. Search latency (median, p95) per key through the signed staff API: receipt number,
   invoice, payment id, customer reference, one-day range, a 31-day range with method and
   status (first page of 50).
3. Verify throughput: POST /admin/receipts/{n}/verify on a sample (each one reads the whole
   PDF back by version id, hashes it and parses it).
4. Export peak memory: `quittance archive export --year` run as a child process for the whole
   year, its peak RSS read from wait4(), at --small receipts and again at N receipts.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _stats import line  # noqa: E402

YEAR = 2026
T0 = datetime(YEAR, 1, 1, 8, 0, tzinfo=UTC)


def _pdf() -> bytes:
    from quittance.receipts.render import ReceiptRenderer
    from quittance_ops.samples import SAMPLES

    return ReceiptRenderer().render(next(iter(SAMPLES.values()))()).pdf


def seed(stack: Any, start: int, count: int, pdf: bytes) -> None:
    """Receipts ``start`` … ``start + count - 1``, spread over the year, 3 per customer."""
    from quittance.aws.items import to_item

    dynamodb = stack.client("dynamodb")
    s3 = stack.client("s3")
    table = stack.info.resources["LedgerTable"]
    bucket = stack.info.resources["ArchiveBucket"]
    digest = hashlib.sha256(pdf).hexdigest()
    batch: list[dict[str, Any]] = []
    retain = datetime.now(UTC) + timedelta(days=1)

    def flush() -> None:
        while batch:
            chunk, batch[:] = batch[:25], batch[25:]
            request = {table: [{"PutRequest": {"Item": to_item(i)}} for i in chunk]}
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")

    for i in range(start, start + count):
        number = f"R-{YEAR}-{i + 1:06d}"
        invoice = f"B-{i:06d}"
        paid = T0 + timedelta(minutes=int(i * 525600 / 21000))
        key = f"receipts/{paid:%Y}/{paid:%m}/{number}.pdf"
        version = s3.put_object(
            Bucket=bucket, Key=key, Body=pdf, ChecksumAlgorithm="SHA256",
            ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=retain,
        )["VersionId"]  # fmt: skip
        customer = f"C-{hashlib.sha256(str(i // 3).encode()).hexdigest()[:20]}"
        data = {
            "receipt_number": number, "kind": "receipt", "invoice_number": invoice,
            "payment_id": f"pi_{i:08d}", "refund_id": None, "original_receipt_number": None,
            "customer_id": customer, "amount": {"amount_minor": 1000 + i, "currency": "EUR"},
            "method": {"kind": random.choice(["card", "sepa_transfer", "sepa_debit"])},
            "balance_due": {"amount_minor": 0, "currency": "EUR"},
            "invoice_status": "paid", "paid_at": paid.isoformat(), "issued_at": paid.isoformat(),
        }  # fmt: skip
        pk = f"INV#{invoice}"
        batch += [
            {"pk": pk, "sk": "#INVOICE", "type": "invoice", "version": 1, "status": "paid",
             "customer_id": customer, "gsi3pk": f"CUST#{customer}", "gsi3sk": invoice},
            {"pk": pk, "sk": f"PAY#pi_{i:08d}", "type": "payment_index",
             "gsi1pk": f"PAY#pi_{i:08d}", "gsi1sk": pk},
            {"pk": pk, "sk": f"RCPT#{number}", "type": "receipt", "data": json.dumps(data),
             "created_at": paid.isoformat(), "gsi1pk": f"RCPT#{number}", "gsi1sk": pk,
             "gsi2pk": f"DAY#{paid:%Y-%m-%d}", "gsi2sk": f"{paid.isoformat()}#{number}",
             "archive": {"key": key, "version_id": version, "sha256_hex": digest,
                         "size": len(pdf), "lock_mode": "GOVERNANCE",
                         "retain_until": retain.isoformat()}},
        ]  # fmt: skip
        if len(batch) >= 75:
            flush()
    flush()


def timed(call: Any, *args: Any) -> float:
    started = time.perf_counter()
    status, body = call(*args)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise AssertionError(f"{args}: {status} {body}")
    return elapsed


_CHILD = """
import sys
from quittance_ops.cli import app
try:
    app(sys.argv[1:])
except SystemExit as done:
    code = done.code or 0
else:
    code = 0
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(hwm.split()[1], file=sys.stderr)
sys.exit(code)
"""


def export_peak(stack_json: Path, out: Path) -> tuple[float, int, float]:
    """(peak RSS MiB, proofs, seconds) of a child `quittance archive export`. The peak is the
    child's own VmHWM, read at its end: a new address space starts at exec, so the parent's
    memory (the moto server holding every object) is not counted, as ru_maxrss would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, "archive", "export", "--year", str(YEAR),
         "--out", str(out), "--stack", str(stack_json), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise AssertionError(f"export failed: {child.stdout!r} {child.stderr[-2000:]!r}")
    peak_kib = int(child.stderr.strip().splitlines()[-1])
    return peak_kib / 1024, int(json.loads(child.stdout)["proofs"]), elapsed


def main() -> None:
    # The moto server logs every request to stderr; the figures are what matters here.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--receipts", type=int, default=20000)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--export-only", action="store_true", help="skip searches and verify")
    args = parser.parse_args()

    from quittance_ops.admin_client import AdminClient
    from quittance_ops.localstack.stack import LocalStack

    random.seed(7)
    out = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    pdf = _pdf()
    results: dict[str, Any] = {"receipts": args.receipts, "pdf_bytes": len(pdf)}
    sink = (out / "function-logs.jsonl").open("w")
    with contextlib.redirect_stdout(sink), LocalStack(ROOT, out_dir=out, stage="dev") as stack:
        assert stack.info is not None
        stack_json = out / "stack.json"
        client = AdminClient.for_local_stack(stack_json)
        started = time.perf_counter()
        seed(stack, 0, args.small, pdf)
        peak_small, proofs_small, secs_small = export_peak(stack_json, out / "export-small")
        seed(stack, args.small, args.receipts - args.small, pdf)
        results["seed_seconds"] = round(time.perf_counter() - started, 1)

        picks = [] if args.export_only else random.sample(range(args.receipts), args.samples)
        keys: dict[str, list[str]] = {
            "receipt number": [f"receipt=R-{YEAR}-{i + 1:06d}" for i in picks],
            "invoice": [f"invoice=B-{i:06d}" for i in picks],
            "payment id": [f"payment=pi_{i:08d}" for i in picks],
            "customer id": [
                "customer=C-" + hashlib.sha256(str(i // 3).encode()).hexdigest()[:20] for i in picks
            ],
            "one day": [f"from={(T0 + timedelta(days=i % 360)):%Y-%m-%d}&to="
                        f"{(T0 + timedelta(days=i % 360)):%Y-%m-%d}" for i in picks],
            "31 days + method + status": [
                f"from={(T0 + timedelta(days=i % 300)):%Y-%m-%d}&to="
                f"{(T0 + timedelta(days=i % 300 + 30)):%Y-%m-%d}&method=card&status=paid"
                for i in picks
            ],
        }  # fmt: skip
        lines = []
        for name, queries in keys.items():
            if not queries:
                continue
            samples = [timed(client.call, "GET", f"/admin/receipts?{q}") for q in queries]
            lines.append(line(f"search by {name}", samples))
        verify = [f"R-{YEAR}-{i + 1:06d}" for i in picks]
        started = time.perf_counter()
        durations = [timed(client.call, "POST", f"/admin/receipts/{n}/verify") for n in verify]
        if durations:
            lines.append(line("verify (one proof)", durations))
        if verify:
            elapsed = time.perf_counter() - started
            results["verify_per_second"] = round(len(verify) / elapsed, 1)

        peak_big, proofs_big, secs_big = export_peak(stack_json, out / "export-big")
    results.update(
        export_small={"proofs": proofs_small, "peak_rss_mib": round(peak_small, 1),
                      "seconds": round(secs_small, 1)},
        export_big={"proofs": proofs_big, "peak_rss_mib": round(peak_big, 1),
                    "seconds": round(secs_big, 1)},
    )  # fmt: skip
    for text in lines:
        print(text)
    print(json.dumps(results, indent=2))
    (ROOT / "out" / "bench").mkdir(parents=True, exist_ok=True)
    (ROOT / "out" / "bench" / "archive.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
