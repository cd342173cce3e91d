"""The gap-free receipt counter under concurrent ledgers: how often commits conflict.

    python bench/counter.py [--events 240] [--concurrency 1,2,4,8]

Every receipt of a series (``R``, per fiscal year) takes the next number from one DynamoDB
item, ``SERIES#R#<year>`` / ``#COUNTER``, inside the transaction that records the payment
(docs/ledger.md). Concurrent ledgers (Lambda runs several at once) read the counter, then
write on the condition that it has not moved; the loser of a race gets a cancelled
transaction and starts again (``quittance.ledger.service.apply_event``, up to MAX_ATTEMPTS).

Here: the ledger domain against an in-process moto DynamoDB (the LedgerTable as the template
defines it, DynamoDB calls made atomic as in the local stack), ``--events`` payments for
distinct invoices applied from C threads at once, for each C. Counted: commits per second,
and conflicts per committed payment (cancelled transactions that were retried). On AWS a
round trip is ~5-10 ms instead of moto's ~1 ms, so the conflict window, and the rate at a given
concurrency, is larger there: docs/performance.md turns this into a ceiling.
Writes out/bench/counter.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _pipeline import loadavg, quiet  # noqa: E402

REGION = "eu-west-3"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=240)
    parser.add_argument("--concurrency", default="1,2,4,8")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = parser.parse_args()
    quiet()
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    import boto3
    from moto import mock_aws

    from quittance_ops.localstack.moto_fidelity import serialise_dynamodb
    from quittance_ops.localstack.template import load_template

    serialise_dynamodb()
    definition = load_template(ROOT / "template.yaml")["Resources"]["LedgerTable"]["Properties"]
    results: list[dict[str, Any]] = []
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(
                TableName="ledger",
                **{
                    key: definition[key]
                    for key in (
                        "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"
                    )
                },
            )  # fmt: skip
            results.append(_run(client, concurrency, args.events))
        row = results[-1]
        print(
            f"  {concurrency} ledgers at once: {row['commits_per_second']:7.1f} commits/s, "
            f"{row['conflicts_per_commit']:.3f} conflicts per commit, "
            f"{row['gave_up']} gave up after 8 attempts, "
            f"numbers {row['first']}..{row['last']} gap-free: {row['gap_free']}",
            flush=True,
        )
    report = {"load": loadavg(), "events": args.events, "runs": results}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "counter.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"load average {report['load']}")
    return 0 if all(r["gap_free"] for r in results) else 1


def _run(client: Any, concurrency: int, events: int) -> dict[str, Any]:
    from quittance.aws.ledger_table import LedgerTable
    from quittance.ledger.service import WriteConflict, apply_event
    from quittance.models.events import (
        CustomerDetails,
        EventType,
        MethodKind,
        PaymentEvent,
        PaymentMethod,
    )
    from quittance.models.money import Money
    from tests.fakes import NoProfiles

    ledger = LedgerTable("ledger", client)
    conflicts = 0
    lock = threading.Lock()
    commit = ledger.commit

    def counted(plan: Any) -> Any:
        nonlocal conflicts
        try:
            return commit(plan)
        except WriteConflict:
            with lock:
                conflicts += 1
            raise

    ledger.commit = counted  # type: ignore[method-assign]
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

    gave_up = 0

    def apply(n: int) -> str | None:
        nonlocal gave_up
        event = PaymentEvent(
            event_id=f"evt-counter-{n}",
            provider="stripe",
            type=EventType.PAYMENT_SUCCEEDED,
            occurred_at=now,
            payment_id=f"pi-counter-{n}",
            invoice_number=f"F-COUNTER-{n:05d}",
            amount=Money(amount_minor=1000 + n, currency="EUR"),
            method=PaymentMethod(kind=MethodKind.CARD),
            customer=CustomerDetails(reference=f"cus_{n}"),
        )
        try:
            outcome = apply_event(event, store=ledger, profiles=NoProfiles(), now=now)
        except WriteConflict:
            # The ledger gave up after MAX_ATTEMPTS: on AWS the message returns to its queue
            # and is tried again after its visibility timeout (minutes later).
            with lock:
                gave_up += 1
            return None
        return outcome.documents[0].receipt_number

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        numbers = list(pool.map(apply, range(events)))
    seconds = time.perf_counter() - started
    ranks = sorted(int(number.rsplit("-", 1)[1]) for number in numbers if number)
    return {
        "concurrency": concurrency,
        "commits_per_second": round(len(ranks) / seconds, 1),
        "conflicts": conflicts,
        "conflicts_per_commit": round(conflicts / max(len(ranks), 1), 3),
        "gave_up": gave_up,
        "first": ranks[0],
        "last": ranks[-1],
        "gap_free": ranks == list(range(ranks[0], ranks[0] + len(ranks))),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
