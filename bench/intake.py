"""Intake latency: the warm handler beside its floor, and the cold import of its module.

    python bench/intake.py [--calls 2000]

The handler runs in-process against moto (resources from template.yaml), so each accepted
event includes the dedupe record and the SQS send as moto serves them; the floor is the
signature check + the pydantic parse of the same deliveries, measured in the same run."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _stats import line, summary  # noqa: E402


class AwsCallClock:
    """Adds up the time spent inside botocore calls of the handler's clients (moto, here)."""

    def __init__(self, deps: object) -> None:
        self.spent = 0.0
        self._started: dict[int, float] = {}
        publisher = deps.publisher  # type: ignore[attr-defined]
        clients = [publisher._queue._client, publisher.persistence.client]
        for client in clients:
            client.meta.events.register("before-call.*.*", self._before)
            client.meta.events.register("after-call.*.*", self._after)

    def _before(self, context: dict[str, object], **_: object) -> None:
        self._started[id(context)] = time.perf_counter()

    def _after(self, context: dict[str, object], **_: object) -> None:
        started = self._started.pop(id(context), None)
        if started is not None:
            self.spent += time.perf_counter() - started


def cold_import_seconds(runs: int) -> tuple[list[float], list[str]]:
    """A fresh interpreter per run: time to import the handler module, and what it pulled in."""
    code = (
        "import sys, time, importlib.util;"
        "t = time.perf_counter();"
        "spec = importlib.util.spec_from_file_location('intake_app', 'functions/intake/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['intake_app'] = m;"
        "spec.loader.exec_module(m);"
        "print(time.perf_counter() - t);"
        "print(','.join(sorted(n for n in sys.modules if n.startswith(('weasyprint', "
        "'quittance.receipts')))))"
    )
    samples, heavy = [], []
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true"}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
            check=True,
        ).stdout.splitlines()  # fmt: skip
        samples.append(float(out[0]))
        heavy = [m for m in (out[1].split(",") if len(out) > 1 else []) if m]
    return samples, heavy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=15)
    args = parser.parse_args()

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-3",
            "AWS_REGION": "eu-west-3",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from quittance.providers.base import WebhookRequest
    from quittance.providers.stripe import StripeAdapter
    from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
    from quittance_ops.localstack.provision import Provisioner
    from quittance_ops.localstack.runtime import LocalFunction
    from quittance_ops.localstack.stack import LAYER_PATH_VARIABLES
    from quittance_ops.localstack.template import load_template

    sys.path.insert(0, str(ROOT))
    from tests.integration.conftest import http_event

    with mock_aws():
        provisioned = Provisioner(
            load_template(ROOT / "template.yaml"),
            {"Stage": "prod", "PublicBaseUrl": "https://pay.example.com"},
            lambda service: boto3.client(service, region_name="eu-west-3"),
            stack_name="bench",
            region="eu-west-3",
            account="123456789012",
        ).provision()
        for spec in provisioned.functions.values():
            for name, value in spec.environment.items():
                if name not in LAYER_PATH_VARIABLES:
                    os.environ[name] = value
        intake = LocalFunction(provisioned.functions["IntakeFunction"], ROOT, "eu-west-3", "1")
        secret = provisioned.webhook_secrets["stripe"]
        deliveries = [
            stripe_payment_intent_succeeded(
                secret=secret, invoice_number=f"B-{i}", amount_minor=100 + i
            )
            for i in range(args.calls + 50)
        ]
        events = [
            http_event(
                "POST",
                "/webhooks/stripe",
                "/webhooks/{provider}",
                {"provider": "stripe"},
                body=d.body,
                headers=d.headers,
            )
            for d in deliveries
        ]
        sink = open(os.devnull, "w")  # noqa: SIM115 - EMF metrics and logs go to stdout
        with contextlib.redirect_stdout(sink):
            for event in events[:50]:  # warm-up: cold start, secret cache, connections
                assert intake.invoke(event)["statusCode"] == 202
            aws = AwsCallClock(sys.modules["quittance_fn_IntakeFunction"].deps())

            handler: list[float] = []
            own: list[float] = []
            for event in events[50:]:
                aws.spent = 0.0
                start = time.perf_counter()
                result = intake.invoke(event)
                elapsed = time.perf_counter() - start
                handler.append(elapsed)
                own.append(elapsed - aws.spent)
                assert result["statusCode"] == 202, result

            duplicate: list[float] = []
            for event in events[50:550]:
                start = time.perf_counter()
                result = intake.invoke(event)
                duplicate.append(time.perf_counter() - start)
                assert result["statusCode"] == 200, result

        adapter = StripeAdapter()
        floor: list[float] = []
        for d in deliveries[50:]:
            request = WebhookRequest(
                headers={k.lower(): v for k, v in d.headers.items()},
                body=d.body,
                received_at=datetime.now(UTC),
            )
            start = time.perf_counter()
            adapter.verify(request, [secret])
            adapter.parse(request)
            floor.append(time.perf_counter() - start)

    cold, heavy = cold_import_seconds(args.cold_runs)
    print(
        f"intake benchmark, {args.calls} warm calls, moto in-process, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(line("floor: Stripe verify + parse", floor))
    print(line("handler: genuine event (dedupe + SQS send)", handler))
    print(line("handler minus time inside AWS calls (moto)", own))
    print(line("handler: duplicate delivery", duplicate))
    ratio = statistics.median(handler) / statistics.median(floor)
    own_ratio = statistics.median(own) / statistics.median(floor)
    print(f"{'handler / floor (median)':<44} {ratio:.1f}x")
    print(f"{'handler minus AWS calls / floor (median)':<44} {own_ratio:.1f}x")
    print(
        f"{'cold import of functions/intake/app.py':<44} n={len(cold):>5}  median"
        f" {statistics.median(cold) * 1000:7.1f} ms  max {max(cold) * 1000:7.1f} ms"
    )
    print(f"{'rendering modules imported by intake':<44} {heavy or 'none'}")
    report = {
        "floor": summary(floor),
        "handler": summary(handler),
        "handler_minus_aws_calls": summary(own),
        "duplicate": summary(duplicate),
        "cold_import_ms_median": statistics.median(cold) * 1000,
        "rendering_modules_imported": heavy,
    }
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "intake.json").write_text(json.dumps(report, indent=2) + "\n")
    if heavy:
        raise SystemExit("intake imports rendering code: " + ", ".join(heavy))


if __name__ == "__main__":
    main()
