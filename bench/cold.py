"""Cold starts: each function's import, then its first invocation, in a fresh interpreter.

    python bench/cold.py [--runs 5] [--functions intake,ledger,receipts,notify,...]

For every function: the handler module loaded from its CodeUri as Lambda loads it, in a new
``python`` process (median of ``--runs``), whether the renderer (weasyprint) came with it,
and how many modules. Then the first invocations that matter to a proof, each in a fresh
process against a local stack started by this bench:

- intake: import + its first webhook (a signed Stripe delivery) until the 202;
- receipts: import + its first render of a receipt (the heavy, unavoidable step).

Goals (issue 20): intake import ≤ 150 ms and never the renderer; receipts' cold first render
≤ 1 s. The load average is printed with the figures. Writes out/bench/cold.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _pipeline import loadavg, quiet  # noqa: E402

FUNCTIONS = (
    "intake", "ledger", "receipts", "notify", "lookup", "links", "feedback", "reminders",
    "archive_api", "privacy_api", "bank_api", "bank_import",
)  # fmt: skip

CHILD = r"""
import importlib.util, json, os, resource, sys, time
name, mode = sys.argv[1], sys.argv[2]
path = os.path.join("functions", name, "app.py")
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", path)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
imported = time.perf_counter() - started
renderer = "weasyprint" in sys.modules
modules = len(sys.modules)
first = None
if mode == "webhook":
    from quittance_ops.chaos import make_payment
    secret = json.loads(os.environ["BENCH_SECRETS"])["stripe"]
    delivery = make_payment("stripe", 900000, secret, int(time.time()), forged=False).delivery
    event = {
        "version": "2.0", "routeKey": "POST /webhooks/{provider}", "rawPath": "/webhooks/stripe",
        "rawQueryString": "", "headers": {k.lower(): v for k, v in delivery.headers.items()},
        "requestContext": {"accountId": "123456789012", "apiId": "local", "domainName": "x",
                           "http": {"method": "POST", "path": "/webhooks/stripe",
                                    "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                                    "userAgent": "bench"},
                           "requestId": "cold-bench", "routeKey": "POST /webhooks/{provider}",
                           "stage": "$default", "time": "", "timeEpoch": 0},
        "pathParameters": {"provider": "stripe"}, "isBase64Encoded": False,
        "body": delivery.body.decode(),
    }
    class Context:
        function_name = "IntakeFunction"; memory_limit_in_mb = 512; aws_request_id = "cold"
        invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:IntakeFunction"
        def get_remaining_time_in_millis(self): return 10000
    t = time.perf_counter()
    answer = module.handler(event, Context())
    first = time.perf_counter() - t
    assert answer["statusCode"] in (200, 202), answer
elif mode == "render":
    from quittance.receipts.render import ReceiptRenderer
    from quittance_ops.samples import french_b2c_card
    t = time.perf_counter()
    ReceiptRenderer().render(french_b2c_card())
    first = time.perf_counter() - t
print(json.dumps({"import_s": imported, "first_s": first, "renderer": renderer,
                  "modules": modules,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(name: str, mode: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, name, mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{name} ({mode}) failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = parser.parse_args()
    quiet()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/quittance/src'}:{ROOT / 'infra'}"}
    report: dict[str, Any] = {"load_before": loadavg(), "imports": {}, "first": {}}
    for name in args.functions.split(","):
        runs = [child(name, "import", env) for _ in range(args.runs)]
        report["imports"][name] = {
            "median_ms": round(statistics.median(r["import_s"] for r in runs) * 1000, 1),
            "renderer": any(r["renderer"] for r in runs),
            "modules": runs[0]["modules"],
        }
    from quittance_ops.localstack.stack import LocalStack

    args.out.mkdir(parents=True, exist_ok=True)
    real_stdout = sys.stdout
    with (args.out / "cold-function-logs.jsonl").open("w") as logs:
        sys.stdout = logs
        try:
            with LocalStack(ROOT, out_dir=args.out / "cold-stack") as stack:
                assert stack.info is not None
                stack_env = {
                    **os.environ,
                    **env,
                    "BENCH_SECRETS": json.dumps(stack.info.webhook_secrets),
                    "POWERTOOLS_LOG_LEVEL": "WARNING",
                }
                for name, mode in (("intake", "webhook"), ("receipts", "render")):
                    runs = []
                    for _ in range(args.runs):
                        runs.append(child(name, mode, stack_env))
                        time.sleep(0.2)
                    report["first"][name] = {
                        "what": "first webhook until its 202"
                        if mode == "webhook"
                        else "first receipt render",
                        "import_ms": round(
                            statistics.median(r["import_s"] for r in runs) * 1000, 1
                        ),
                        "first_ms": round(statistics.median(r["first_s"] for r in runs) * 1000, 1),
                        "import_plus_first_ms": round(
                            statistics.median(r["import_s"] + r["first_s"] for r in runs) * 1000, 1
                        ),
                        "peak_rss_mib": round(max(r["rss_mib"] for r in runs), 1),
                    }
        finally:
            sys.stdout = real_stdout
    report["load_after"] = loadavg()
    (args.out / "cold.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"cold starts, median of {args.runs} fresh interpreters, load {report['load_before']}")
    for name, row in report["imports"].items():
        flag = "  imports the renderer" if row["renderer"] else ""
        print(f"  import {name:<14} {row['median_ms']:7.1f} ms  {row['modules']:5} modules{flag}")
    for name, row in report["first"].items():
        print(
            f"  {name:<8} import {row['import_ms']:7.1f} ms + {row['what']} "
            f"{row['first_ms']:7.1f} ms = {row['import_plus_first_ms']:7.1f} ms "
            f"(peak RSS {row['peak_rss_mib']} MiB)"
        )
    intake = report["imports"].get("intake")
    ok = True
    if intake:
        ok = intake["median_ms"] <= 150 and not intake["renderer"]
        print(f"intake import ≤ 150 ms, no renderer: {'yes' if ok else 'NO'}")
    render = report["first"]["receipts"]["first_ms"]
    print(f"receipts cold first render ≤ 1 s: {'yes' if render <= 1000 else 'NO'} ({render} ms)")
    print(f"load average after {report['load_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
