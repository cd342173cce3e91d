"""Ledger throughput on the local stack, and DynamoDB calls per applied event.

    python bench/ledger.py [--events 300]

1. Throughput: N signed Stripe webhooks are POSTed to the local stack's gateway; the clock
   runs from the first POST until the ledger's pump has applied all N (receipts and notify
   run at the same time in the same process, as they do on the local stack).
   On the local stack one process runs intake, ledger, receipts (weasyprint) and notify on
   two cores, so this figure is the whole pipeline's, not the ledger's alone.
2. Calls per event: the ledger domain (apply_event) run against the same moto server with a
   botocore hook counting DynamoDB calls, for first-time events, redeliveries and refunds
   that arrive before their payment; and the ledger function's own count over the whole
   run (domain + Powertools idempotency), divided by the events it applied.
3. The ledger alone: apply_event's wall time per event against the same moto server, with
   a baseline measured in the same run: one TransactWriteItems of a single conditional Put,
   the least any ledger write costs there. The ratio of medians says how many such round
   trips an event costs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
import urllib.request
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _stats import line, percentile, summary  # noqa: E402


class CallCounter:
    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def total(self) -> int:
        return sum(self.calls.values())


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def main() -> None:
    # The moto server logs every request to stderr; the figures are what matters here.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()

    from quittance.aws.ledger_table import LedgerTable
    from quittance.ledger.service import apply_event
    from quittance_ops.deliveries.stripe import (
        stripe_charge_refunded,
        stripe_payment_intent_succeeded,
    )
    from quittance_ops.localstack.stack import LocalStack
    from tests.fakes import NoProfiles
    from tests.integration.test_ledger_books import invoice_history

    out = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    sink = (out / "function-logs.jsonl").open("w")
    with contextlib.redirect_stdout(sink), LocalStack(ROOT, out_dir=out) as stack:
        assert stack.info is not None
        secret = stack.info.webhook_secrets["stripe"]
        ledger_module = sys.modules["quittance_fn_LedgerFunction"]
        function_calls = CallCounter(ledger_module.deps().dynamodb)
        ledger_pump = next(p for p in stack.pumps if p.function.name == "LedgerFunction")

        deliveries = [
            stripe_payment_intent_succeeded(
                secret=secret, invoice_number=f"B-{i:05d}", amount_minor=1000 + i
            )
            for i in range(args.events)
        ]
        url = f"{stack.info.api_url}/webhooks/stripe"
        start = time.perf_counter()
        for delivery in deliveries:
            assert post(url, delivery.body, delivery.headers) == 202
        posted = time.perf_counter() - start
        while ledger_pump.delivered < args.events:
            time.sleep(0.01)
        applied = time.perf_counter() - start
        stack.wait_until_drained(timeout=300)
        function_total = function_calls.total()
        function_breakdown = dict(function_calls.calls)

        # The domain alone, against the same moto server.
        client = stack.client("dynamodb")
        table = LedgerTable(stack.resource("LedgerTable"), client)
        counter = CallCounter(client)
        first: list[int] = []
        again: list[int] = []
        first_seconds: list[float] = []
        again_seconds: list[float] = []
        events = [e for i in range(60) for e in invoice_history(10_000 + i)]
        now = datetime.now(UTC)
        for event in events:
            before = counter.total()
            tick = time.perf_counter()
            apply_event(event, store=table, profiles=NoProfiles(), now=now)
            first_seconds.append(time.perf_counter() - tick)
            first.append(counter.total() - before)
        for event in events[:100]:
            before = counter.total()
            tick = time.perf_counter()
            apply_event(event, store=table, profiles=NoProfiles(), now=now)
            again_seconds.append(time.perf_counter() - tick)
            again.append(counter.total() - before)
        baseline: list[float] = []
        for i in range(len(events)):
            tick = time.perf_counter()
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table.name,
                            "Item": {"pk": {"S": f"BENCH#{i}"}, "sk": {"S": "#BASELINE"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )
            baseline.append(time.perf_counter() - tick)
        # A refund before its payment (the ledger keeps it waiting), then the payment.
        early: list[int] = []
        for i in range(30):
            paid = stripe_payment_intent_succeeded(
                secret=secret, invoice_number=f"E-{i}", amount_minor=5000
            )
            payment_id = json.loads(paid.body)["data"]["object"]["id"]
            refund = stripe_charge_refunded(
                secret=secret, payment_id=payment_id, charged_minor=5000, refunded_minor=1000,
                invoice_number=f"E-{i}",
            )  # fmt: skip
            for delivery in (refund, paid):
                from quittance.providers.base import WebhookRequest
                from quittance.providers.stripe import StripeAdapter

                request = WebhookRequest(
                    headers={k.lower(): v for k, v in delivery.headers.items()},
                    body=delivery.body,
                    received_at=now,
                )
                (event,) = StripeAdapter().parse(request).events
                before = counter.total()
                apply_event(event, store=table, profiles=NoProfiles(), now=now)
                early.append(counter.total() - before)

    rate = args.events / applied
    print(
        f"ledger benchmark, {args.events} webhooks on the local stack, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(f"{'POSTs accepted (202), sequential':<52} {posted:7.2f} s")
    print(f"{'first POST → ledger applied all':<52} {applied:7.2f} s  = {rate:6.1f} events/s")
    print(
        f"{'ledger function DynamoDB calls per event (all)':<52} "
        f"{function_total / args.events:7.2f}  {function_breakdown}"
    )
    for name, sample in (
        ("domain: first delivery of an event", first),
        ("domain: redelivery of an applied event", again),
        ("domain: refund before payment, then payment", early),
    ):
        print(
            f"{name:<52} median {statistics.median(sample):4.0f} calls"
            f"  p95 {percentile([float(x) for x in sample], 95):4.0f}  n={len(sample)}"
        )
    floor = statistics.median(baseline)
    for name, sample in (
        ("ledger alone: apply_event, first delivery", first_seconds),
        ("ledger alone: apply_event, redelivery", again_seconds),
        ("baseline: one conditional Put in a transaction", baseline),
    ):
        print(f"{line(name, sample)}  = {statistics.median(sample) / floor:5.1f}x baseline")
    report = {
        "events": args.events,
        "seconds_to_apply_all": applied,
        "events_per_second": rate,
        "function_calls_per_event": function_total / args.events,
        "function_calls": function_breakdown,
        "apply_event": {
            "first": summary(first_seconds),
            "redelivery": summary(again_seconds),
            "baseline_transaction": summary(baseline),
            "first_over_baseline": statistics.median(first_seconds) / floor,
        },
        "domain_calls_median": {
            "first": statistics.median(first),
            "redelivery": statistics.median(again),
            "refund_then_payment": statistics.median(early),
        },
    }
    (ROOT / "out" / "bench").mkdir(parents=True, exist_ok=True)
    (ROOT / "out" / "bench" / "ledger.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
