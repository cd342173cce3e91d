"""What 1,000 emailed proofs cost on AWS in eu-west-3, from what the local stack measured.

    python bench/cost.py [--payments 40] [--prices bench/prices_eu_west_3.toml] [--out out/bench]

One run: ``--payments`` payments (Stripe and Standard Webhooks in turn, each with its own
payer and a mail) sent one at a time through the local stack, under the meter. Counted per
payment: every AWS call the functions made, by service and operation (DynamoDB with its
request units, estimated from the items' sizes), the invocations of each function and their
measured durations, the SQS requests Lambda's pollers make for each message (one receive and
one delete per batch: sent one at a time, each message is its own batch, the dearest case),
the bytes the functions logged, and what stays stored: the archive's objects (receipt PDF,
English copy, evidence) by their size, storage class and the lifecycle the template sets, and
the DynamoDB items the run left, each kept as long as its table keeps it (an item with a TTL,
such as the message log's, until its TTL), with the copies its indexes keep as they project.

Prices: one dated table, bench/prices_eu_west_3.toml (with its sources). Lambda: measured
duration (rounded up to the millisecond, as billed) × MemorySize from template.yaml ×
the arm64 price (the template's architecture). Prints the cost per 1,000 proofs itemised by
service, and writes out/bench/cost.json. Goal (issue 20): ≤ 0.15 $ per 1,000, SES 0.10 $ of it.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _pipeline import Traffic, loadavg, metered_stack, quiet  # noqa: E402

MONTH_DAYS = 365.25 / 12
# How long each table keeps an item written for a payment (template.yaml, prod stage): the
# ledger as long as the archive it indexes; a customer's profile and key three years after
# their last payment (quittance.privacy.periods); idempotency records for their redelivery
# window (days: priced as one month).
TABLE_KEEPS_MONTHS = {
    "LedgerTable": None,  # None: the archive's own retention, read from the template
    "CustomersTable": 36.0,
    "IdempotencyTable": 1.0,
}
PIPELINE_QUEUES = ("PaymentEventsQueue", "ReceiptJobsQueue", "NotificationsQueue")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=40)
    parser.add_argument("--prices", type=Path, default=ROOT / "bench" / "prices_eu_west_3.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = parser.parse_args()
    quiet()
    prices = tomllib.loads(args.prices.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    log_path = args.out / "cost-function-logs.jsonl"
    real_stdout = sys.stdout
    template = stack_template(ROOT)
    with log_path.open("w") as logs:
        sys.stdout = logs
        try:
            with metered_stack(args.out / "cost-stack") as (stack, meter):
                traffic = Traffic(stack, meter)
                traffic.one_by_one(2)  # cold starts out of the way
                stack.wait_until_drained(timeout=30)
                before = _stored(stack, template["indexes"])
                meter.clear()
                logs.flush()
                logged_before = log_path.stat().st_size
                sent = traffic.one_by_one(args.payments)
                stack.wait_until_drained(timeout=60)
                logs.flush()
                logged = log_path.stat().st_size - logged_before
                after = _stored(stack, template["indexes"])
                measured = _measure(stack, meter, sent, logged, before, after)
                every_index_all = _measure(
                    stack, meter, sent, logged, before, after, copies="copies_all"
                )
        finally:
            sys.stdout = real_stdout
    measured["load"] = loadavg()
    bill = price(measured, prices, template)
    # The same measurement priced as before issue 20's change: every table in the Standard
    # class. What the Standard-IA ledger saves, in this run.
    standard = price(
        measured,
        prices,
        {**template, "table_classes": dict.fromkeys(template["table_classes"], "STANDARD")},
    )
    # And as before the ledger's indexes projected only what their queries read: ALL.
    every_index_all["load"] = measured["load"]
    projected_all = price(every_index_all, prices, template)
    report = {
        "measured": measured,
        "per_1000_usd": bill,
        "per_1000_usd_all_tables_standard": standard["total"],
        "per_1000_usd_every_index_all": projected_all["total"],
        "prices": prices["meta"],
    }
    (args.out / "cost.json").write_text(json.dumps(report, indent=2) + "\n")
    _print(measured, bill, prices)
    print(
        f"  with every table in the Standard class it would be {standard['total']:.4f} $: "
        f"the template's table classes save {standard['total'] - bill['total']:.4f} $ per 1,000"
    )
    print(
        f"  with every index projecting ALL it would be {projected_all['total']:.4f} $: the "
        f"template's projections save {projected_all['total'] - bill['total']:.4f} $ per 1,000"
    )
    return 0


def stack_template(root: Path) -> dict[str, Any]:
    from quittance_ops.localstack.template import load_template

    template = load_template(root / "template.yaml")
    prod = template["Mappings"]["StageSettings"]["prod"]
    bucket = template["Resources"]["ArchiveBucket"]["Properties"]
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules", [])
    tables = {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }
    classes = {name: props.get("TableClass", "STANDARD") for name, props in tables.items()}
    return {
        "prod": prod,
        "archive_rules": rules,
        "table_classes": classes,
        "indexes": {name: index_projections(props) for name, props in tables.items()},
    }


def index_projections(table: dict[str, Any]) -> dict[str, frozenset[str] | None]:
    """Each index's key attribute (its partition key) → the attributes it copies, None for
    ALL. A KEYS_ONLY index copies the table's keys and its own; INCLUDE adds the names."""
    table_keys = {k["AttributeName"] for k in table["KeySchema"]}
    found: dict[str, frozenset[str] | None] = {}
    for index in table.get("GlobalSecondaryIndexes", []):
        keys = {k["AttributeName"] for k in index["KeySchema"]}
        hash_key = next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH")
        projection = index["Projection"]
        kind = projection.get("ProjectionType", "ALL")
        found[hash_key] = (
            None
            if kind == "ALL"
            else frozenset(table_keys | keys | set(projection.get("NonKeyAttributes", [])))
        )
    return found


# ---------------------------------------------------------------- measuring


def _stored(stack: Any, indexes: dict[str, dict[str, frozenset[str] | None]]) -> dict[str, Any]:
    """What the archive bucket and the tables hold now: objects by kind, items by table (each
    with the copies its table's indexes keep of it, as projected)."""
    from quittance_ops.localstack.meter import item_bytes

    s3, dynamodb = stack.client("s3"), stack.client("dynamodb")
    objects: dict[str, dict[str, Any]] = {}
    bucket = stack.resource("ArchiveBucket")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            key = version["Key"]
            objects[f"{key}#{version['VersionId']}"] = {
                "kind": _object_kind(key),
                "bytes": int(version["Size"]),
                "class": version.get("StorageClass", "STANDARD"),
            }
    items: dict[str, dict[str, int]] = {}
    for table in TABLE_KEEPS_MONTHS:
        name = stack.resource(table)
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                key = json.dumps({k: item[k] for k in sorted(item) if k in {"pk", "sk", "id"}})
                # Every index whose key the item carries holds a copy of what it projects:
                # stored, and written, once more per index.
                # ("copies_all": the same were every index to project ALL, as before.)
                carried = [kept for h, kept in indexes.get(table, {}).items() if h in item]
                items[f"{table}|{key}"] = {
                    "bytes": item_bytes(item),
                    "copies": [
                        item_bytes(item if kept is None else {k: item[k] for k in kept & set(item)})
                        for kept in carried
                    ],
                    "copies_all": [item_bytes(item)] * len(carried),
                    # An item with a TTL (the message and reminder logs: 13 months) is kept
                    # that long, not as long as its table keeps the rest.
                    "expires": int(item["expires_at"]["N"]) if "expires_at" in item else None,
                }
    return {"objects": objects, "items": items, "at": time.time()}


def _object_kind(key: str) -> str:
    if key.startswith("evidence/"):
        return "evidence"
    if key.endswith(".pdf"):
        return "receipt copy (.en.pdf)" if key.endswith(".en.pdf") else "receipt PDF"
    return key.split("/", 1)[0]


def _measure(
    stack: Any,
    meter: Any,
    sent: list[Any],
    logged: int,
    before: dict[str, Any],
    after: dict[str, Any],
    copies: str = "copies",
) -> dict[str, Any]:
    n = len(sent)
    proofs = sum(1 for s in sent if s.proved is not None)
    calls: Counter[str] = Counter()
    units = {"read": 0.0, "write": 0.0}
    payload: Counter[str] = Counter()
    by_table: dict[str, dict[str, float]] = {}
    names = {stack.resource(t): t for t in TABLE_KEEPS_MONTHS}
    for c in meter.calls:
        calls[f"{c.service}.{c.operation}"] += 1
        units["read"] += c.read_units
        units["write"] += c.write_units
        for name, (reads, writes) in c.units_by_table.items():
            row = by_table.setdefault(names.get(name, name), {"read": 0.0, "write": 0.0})
            row["read"] += reads / n
            row["write"] += writes / n
        payload[f"{c.service}.{c.operation}"] += c.payload_bytes
    durations: dict[str, list[float]] = defaultdict(list)
    records: Counter[str] = Counter()
    for i in meter.invocations:
        durations[i.function].append(i.seconds)
        if i.queue_waits:
            records[i.function] += i.records
    functions = {}
    for name, samples in durations.items():
        spec = stack.functions[name].spec
        functions[name] = {
            "invocations_per_payment": len(samples) / n,
            "billed_ms_per_payment": sum(math.ceil(s * 1000) for s in samples) / n,
            "median_ms": statistics.median(samples) * 1000,
            "memory_mb": spec.memory,
        }
    # Lambda's pollers: per message batch one ReceiveMessage and one DeleteMessageBatch (sent
    # one at a time, every batch is one message); idle long polls are a fixed monthly cost.
    batches = sum(1 for i in meter.invocations if i.queue_waits)
    new_objects = {k: v for k, v in after["objects"].items() if k not in before["objects"]}
    by_kind: dict[str, dict[str, Any]] = {}
    for obj in new_objects.values():
        row = by_kind.setdefault(obj["kind"], {"objects": 0, "bytes": 0, "class": obj["class"]})
        row["objects"] += 1
        row["bytes"] += obj["bytes"]
    tables: dict[str, dict[str, float]] = {}
    for key, item in after["items"].items():
        table = key.split("|", 1)[0]
        old = before["items"].get(key)
        grown = item["bytes"] - (old["bytes"] if old else 0)
        row = tables.setdefault(
            table,
            {"items": 0, "bytes": 0, "index_copies": 0, "index_bytes": 0, "index_writes": 0,
             "expiring_byte_months": 0.0},
        )  # fmt: skip
        if item["expires"] is not None and not old:
            # Stored until its TTL: bytes × months, overheads and index copies included.
            kept = max(item["expires"] - after["at"], 0) / 86400 / MONTH_DAYS
            stored = item["bytes"] + sum(item[copies]) + 100 * (1 + len(item[copies]))
            row["expiring_byte_months"] += stored * kept
            row["index_writes"] += sum(max(1, -(-size // 1024)) for size in item[copies])
            continue
        row["items"] += 0 if old else 1
        row["bytes"] += max(grown, 0)
        if old != item:
            row["index_copies"] += len(item[copies]) - (len(old[copies]) if old else 0)
            row["index_bytes"] += sum(item[copies]) - (sum(old[copies]) if old else 0)
            # At least one index write per index per item the run created or changed.
            row["index_writes"] += sum(max(1, -(-size // 1024)) for size in item[copies])
    return {
        "payments": n,
        "proofs": proofs,
        "per_payment": {
            "aws_calls": {op: count / n for op, count in sorted(calls.items())},
            "aws_payload_bytes": {op: b / n for op, b in payload.items() if b},
            "dynamodb_read_units": units["read"] / n,
            "dynamodb_write_units": units["write"] / n,
            "dynamodb_units_by_table": by_table,
            "poller_sqs_requests": 2 * batches / n,
            "functions": functions,
            "log_bytes": logged / n,
            "archive": {
                kind: {
                    "objects": row["objects"] / n,
                    "bytes": row["bytes"] / n,
                    "class": row["class"],
                }
                for kind, row in by_kind.items()
            },
            "tables": {t: {k: v / n for k, v in row.items()} for t, row in tables.items()},
        },
        "seconds": time.time(),
    }


# ---------------------------------------------------------------- pricing


def price(
    measured: dict[str, Any], prices: dict[str, Any], template: dict[str, Any]
) -> dict[str, Any]:
    """Dollars per 1,000 proofs, by service (each with its items)."""
    p = measured["per_payment"]
    per_proof = measured["payments"] / max(measured["proofs"], 1)  # failures cost too
    k = 1000 * per_proof
    calls = p["aws_calls"]
    lines: dict[str, dict[str, float]] = defaultdict(dict)

    lam = prices["lambda"]
    for name, f in p["functions"].items():
        gb_s = f["billed_ms_per_payment"] / 1000 * f["memory_mb"] / 1024
        lines["Lambda"][f"{name} duration ({f['memory_mb']} MB, arm64)"] = (
            k * gb_s * lam["gb_second_arm64"]
        )
        lines["Lambda"][f"{name} requests"] = (
            k * f["invocations_per_payment"] * lam["request_per_million"] / 1e6
        )
    lines["API Gateway"]["HTTP API requests"] = (
        k * prices["apigateway"]["http_api_request_per_million"] / 1e6
    )
    sqs_sent = sum(v for op, v in calls.items() if op.startswith("sqs."))
    sqs = prices["sqs"]["standard_request_per_million"] / 1e6
    lines["SQS"]["sends by the functions"] = k * sqs_sent * sqs
    lines["SQS"]["Lambda pollers (receive + delete per batch)"] = k * p["poller_sqs_requests"] * sqs
    ddb = prices["dynamodb"]
    archive_months = template["prod"]["ArchiveExpirationDays"] / MONTH_DAYS
    units = p["dynamodb_units_by_table"]
    for table in sorted(set(units) | set(p["tables"])):
        ia = template["table_classes"].get(table) == "STANDARD_INFREQUENT_ACCESS"
        pre = "ia_" if ia else ""
        label = f"{table}{' (Standard-IA)' if ia else ''}"
        row = p["tables"].get(table, {})
        used = units.get(table, {"read": 0.0, "write": 0.0})
        writes = used["write"] + row.get("index_writes", 0)
        lines["DynamoDB"][f"{label} writes (indexes included)"] = (
            k * writes * ddb[f"{pre}write_request_unit_per_million"] / 1e6
        )
        lines["DynamoDB"][f"{label} reads"] = (
            k * used["read"] * ddb[f"{pre}read_request_unit_per_million"] / 1e6
        )
        if row:
            months = TABLE_KEEPS_MONTHS.get(table) or archive_months
            # DynamoDB bills 100 bytes of overhead per item and per index copy.
            gb = (
                row["bytes"] + row["index_bytes"] + 100 * (row["items"] + row["index_copies"])
            ) / 1e9
            lines["DynamoDB"][f"{label} storage, {months:.0f} months"] = (
                k * gb * months * ddb[f"{pre}storage_gb_month"]
            )
            if row.get("expiring_byte_months"):
                lines["DynamoDB"][f"{label} storage of items with a TTL, until it"] = (
                    k * row["expiring_byte_months"] / 1e9 * ddb[f"{pre}storage_gb_month"]
                )
    s3 = prices["s3"]
    puts = sum(v for op, v in calls.items() if op in {"s3.PutObject", "s3.CopyObject"})
    gets = sum(
        v
        for op, v in calls.items()
        if op.startswith("s3.") and op not in {"s3.PutObject", "s3.CopyObject"}
    )
    lines["S3"]["PUT requests"] = k * puts * s3["put_per_thousand"] / 1000
    lines["S3"]["GET/HEAD requests"] = k * gets * s3["get_per_thousand"] / 1000
    for kind, row in p["archive"].items():
        cost = _archive_storage(row, archive_months, template["archive_rules"], s3)
        lines["S3"][f"{kind} storage, {archive_months:.0f} months"] = k * cost
    kms_calls = sum(v for op, v in calls.items() if op.startswith("kms."))
    lines["KMS"]["requests"] = k * kms_calls * prices["kms"]["request_per_ten_thousand"] / 1e4
    ses = prices["ses"]
    mails = calls.get("sesv2.SendEmail", 0.0)
    lines["SES"]["outbound emails"] = k * mails * ses["outbound_email_per_thousand"] / 1000
    mail_bytes = p["aws_payload_bytes"].get("sesv2.SendEmail", 0.0)
    lines["SES"]["attachment data (the mail's bytes, upper bound)"] = (
        k * mail_bytes / 1e9 * ses["attachment_gb"]
    )
    secrets = sum(v for op, v in calls.items() if op.startswith("secretsmanager."))
    lines["Secrets Manager"]["API calls"] = (
        k * secrets * prices["secretsmanager"]["api_call_per_ten_thousand"] / 1e4
    )
    logs = prices["logs"]
    log_gb = p["log_bytes"] / 1e9
    retention = template["prod"]["LogRetentionDays"] / MONTH_DAYS
    lines["CloudWatch Logs"]["ingestion"] = k * log_gb * logs["ingestion_gb"]
    lines["CloudWatch Logs"][f"storage, {retention:.0f} months"] = (
        k * log_gb * retention * logs["storage_gb_month"]
    )
    xray = prices["xray"]
    invocations = sum(f["invocations_per_payment"] for f in p["functions"].values())
    lines["X-Ray"]["traces recorded (default sampling)"] = (
        k * invocations * xray["default_sampling_rate"] * xray["trace_recorded_per_million"] / 1e6
    )
    services = {name: round(sum(items.values()), 5) for name, items in lines.items()}
    return {
        "total": round(sum(services.values()), 4),
        "services": dict(sorted(services.items(), key=lambda kv: -kv[1])),
        "lines": {
            name: {i: round(v, 6) for i, v in items.items()} for name, items in lines.items()
        },
    }


def _archive_storage(
    row: dict[str, Any], months: float, rules: list[dict[str, Any]], s3: dict[str, Any]
) -> float:
    """One payment's objects of one kind, over their life, in the classes the lifecycle gives."""
    size = row["bytes"] / max(row["objects"], 1)
    objects = row["objects"]
    transition = next(
        (t for r in rules if r.get("Status") == "Enabled" for t in r.get("Transitions", [])), None
    )
    if transition is None:
        return objects * size / 1e9 * months * s3["standard_gb_month"]
    first = min(transition["TransitionInDays"] / MONTH_DAYS, months)
    cls = transition["StorageClass"]
    price_key, minimum, overhead, request_key = {
        "GLACIER_IR": (
            "glacier_instant_retrieval_gb_month",
            128 * 1024,
            0,
            "transition_glacier_instant_per_thousand",
        ),
        "GLACIER": (
            "glacier_flexible_retrieval_gb_month",
            0,
            40 * 1024,
            "transition_glacier_flexible_per_thousand",
        ),
        "DEEP_ARCHIVE": (
            "deep_archive_gb_month",
            0,
            40 * 1024,
            "transition_deep_archive_per_thousand",
        ),
    }[cls]
    billed = max(size, minimum) + overhead
    return objects * (
        size / 1e9 * first * s3["standard_gb_month"]
        + billed / 1e9 * (months - first) * s3[price_key]
        + s3[request_key] / 1000
    )


def _print(measured: dict[str, Any], bill: dict[str, Any], prices: dict[str, Any]) -> None:
    p = measured["per_payment"]
    meta = prices["meta"]
    print(
        f"cost of 1,000 emailed proofs, {meta['region']}, prices of {meta['date']} "
        f"(bench/prices_eu_west_3.toml); measured on {measured['payments']} payments, "
        f"load {measured['load']}"
    )
    for service, total in bill["services"].items():
        print(f"  {service:<18} {total:9.4f} $")
        for item, value in sorted(bill["lines"][service].items(), key=lambda kv: -kv[1]):
            if value >= 0.00005:
                print(f"      {item:<58} {value:9.4f}")
    print(f"  {'total':<18} {bill['total']:9.4f} $ per 1,000 proofs (goal ≤ 0.15)")
    print("per payment:")
    print(
        f"  AWS calls {sum(p['aws_calls'].values()):.1f}, DynamoDB "
        f"{p['dynamodb_write_units']:.1f} WRU + {p['dynamodb_read_units']:.1f} RRU, "
        f"logs {p['log_bytes'] / 1024:.1f} KiB"
    )
    for kind, row in p["archive"].items():
        print(
            f"  archive {kind:<24} {row['objects']:.2f} objects, "
            f"{row['bytes'] / 1024:.1f} KiB ({row['class']})"
        )
    for name, f in p["functions"].items():
        print(
            f"  {name:<18} {f['invocations_per_payment']:.2f} invocations, "
            f"{f['billed_ms_per_payment']:.0f} ms billed at {f['memory_mb']} MB"
        )


if __name__ == "__main__":
    raise SystemExit(main())
