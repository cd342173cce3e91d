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

``--baseline REF`` (a commit, e.g. ``main``) measures that commit's tree too, in the same run:
each fresh interpreter of the baseline alternates with one of the working tree, so both see
the same load, and the table gives both medians and their ratio.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
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


def child(name: str, mode: str, env: dict[str, str], root: Path = ROOT) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, name, mode],
        cwd=root,
        env={**env, "PYTHONPATH": f"{root / 'layers/quittance/src'}:{root / 'infra'}"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{name} ({mode}) failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def checkout(ref: str, into: Path) -> Path:
    """The tree of commit ``ref`` of this repository, unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    tree = into / "baseline"
    tree.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def alternating(
    name: str, mode: str, env: dict[str, str], runs: int, baseline: Path | None, pause: float = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``runs`` fresh interpreters of the working tree, each after one of the baseline's."""
    now: list[dict[str, Any]] = []
    before: list[dict[str, Any]] = []
    for _ in range(runs):
        if baseline is not None:
            before.append(child(name, mode, env, baseline))
            time.sleep(pause)
        now.append(child(name, mode, env))
        time.sleep(pause)
    return now, before


def ms(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs) * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--baseline", metavar="REF", help="also measure this commit, same run")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = parser.parse_args()
    quiet()
    env = dict(os.environ)
    scratch = tempfile.TemporaryDirectory(prefix="cold-baseline-")
    baseline = checkout(args.baseline, Path(scratch.name)) if args.baseline else None
    report: dict[str, Any] = {
        "load_before": loadavg(),
        "baseline": args.baseline,
        "imports": {},
        "first": {},
    }
    for name in args.functions.split(","):
        runs, before = alternating(name, "import", env, args.runs, baseline)
        report["imports"][name] = {
            "median_ms": ms(runs, "import_s"),
            "renderer": any(r["renderer"] for r in runs),
            "modules": runs[0]["modules"],
        }
        if before:
            report["imports"][name]["baseline_ms"] = ms(before, "import_s")
            report["imports"][name]["baseline_modules"] = before[0]["modules"]
    from quittance_ops.localstack.stack import LocalStack

    args.out.mkdir(parents=True, exist_ok=True)
    real_stdout = sys.stdout
    with (args.out / "cold-function-logs.jsonl").open("w") as logs:
        sys.stdout = logs
        try:
            with LocalStack(ROOT, out_dir=args.out / "cold-stack") as stack:
                assert stack.info is not None
                stack_env = {
                    **os.environ,  # the stack's own, set by LocalStack
                    "BENCH_SECRETS": json.dumps(stack.info.webhook_secrets),
                    "POWERTOOLS_LOG_LEVEL": "WARNING",
                }
                for name, mode in (("intake", "webhook"), ("receipts", "render")):
                    runs, before = alternating(
                        name, mode, stack_env, args.runs, baseline, pause=0.2
                    )
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
                    if before:
                        report["first"][name]["baseline_import_plus_first_ms"] = round(
                            statistics.median(r["import_s"] + r["first_s"] for r in before) * 1000,
                            1,
                        )
        finally:
            sys.stdout = real_stdout
            scratch.cleanup()
    report["load_after"] = loadavg()
    (args.out / "cold.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"cold starts, median of {args.runs} fresh interpreters, load {report['load_before']}")
    for name, row in report["imports"].items():
        flag = "  imports the renderer" if row["renderer"] else ""
        was = (
            f"  (baseline {row['baseline_ms']:7.1f} ms, {row['baseline_modules']:5} modules: "
            f"×{row['median_ms'] / row['baseline_ms']:.2f})"
            if "baseline_ms" in row
            else ""
        )
        print(
            f"  import {name:<14} {row['median_ms']:7.1f} ms  {row['modules']:5} modules{flag}{was}"
        )
    for name, row in report["first"].items():
        was = row.get("baseline_import_plus_first_ms")
        print(
            f"  {name:<8} import {row['import_ms']:7.1f} ms + {row['what']} "
            f"{row['first_ms']:7.1f} ms = {row['import_plus_first_ms']:7.1f} ms "
            f"(peak RSS {row['peak_rss_mib']} MiB)" + (f"  (baseline {was:7.1f} ms)" if was else "")
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
