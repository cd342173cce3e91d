"""Time-to-proof on the local stack: gateway POST → confirmation mail handed to SES.

    python bench/e2e.py [--sequential 100] [--burst 500] [--threads 16] [--warmup 4]
                        [--out out/bench]

- sequential: N payments sent one at a time (the next once the previous one's mail is out):
  time-to-proof median, p95, p99, max;
- burst: M payments sent at once from ``--threads`` senders: time-to-proof and throughput
  (proofs per minute, first POST to last mail);
- per stage, from the functions' own timings (the local stack's meter): intake until its
  202, the wait in each queue (SentTimestamp to the invocation), each invocation, each
  render, the archive put and the SES call; AWS calls per payment and their time, by function;
- the floor, same run: the four functions' median invocations added up, i.e. their bare
  work back to back without any queue; and a warm render's throughput alone in this
  process, against which the burst is judged.

The machine's load average is printed with every figure (the machine may be shared).
Writes out/bench/e2e.json; the functions' own log lines go to out/bench/e2e-function-logs.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _pipeline import (  # noqa: E402
    CHAIN,
    Traffic,
    aws_time,
    loadavg,
    metered_stack,
    quiet,
    seconds_summary,
    stages,
)


def render_alone(renders: int) -> float:
    """Warm renders per minute of one receipt, in this process, nothing else running."""
    from quittance.receipts.render import ReceiptRenderer
    from quittance_ops.samples import french_b2c_card

    renderer, document = ReceiptRenderer(), french_b2c_card()
    renderer.render(document)
    started = time.perf_counter()
    for _ in range(renders):
        renderer.render(document)
    return renders / (time.perf_counter() - started) * 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = parser.parse_args()
    quiet()
    args.out.mkdir(parents=True, exist_ok=True)
    real_stdout = sys.stdout
    report: dict[str, Any] = {"load_before": loadavg()}

    def say(text: str) -> None:
        print(text, file=real_stdout, flush=True)

    # A warm render alone, before and after the traffic: the machine may be shared, so the
    # burst is judged against the mean of the two.
    alone_before = render_alone(30)
    with (args.out / "e2e-function-logs.jsonl").open("w") as logs:
        sys.stdout = logs  # the functions log JSON lines to stdout, as on Lambda
        try:
            with metered_stack(args.out / "e2e-stack") as (stack, meter):
                traffic = Traffic(stack, meter)
                say(f"warm-up: {args.warmup} payments (cold starts, not counted)")
                traffic.one_by_one(args.warmup)
                say(f"sequential: {args.sequential} payments one at a time")
                since = time.time()
                one = traffic.one_by_one(args.sequential)
                until = time.time()
                report["sequential"] = _phase(one, meter, since, until)
                report["sequential"]["load"] = loadavg()
                floor = sum(
                    report["sequential"]["stages"][_stage_key(f)]["median_ms"] for f in CHAIN
                )
                report["floor_ms"] = round(floor, 1)
                stack.wait_until_drained(timeout=60)
                if args.burst:
                    say(f"burst: {args.burst} payments at once from {args.threads} threads")
                    since = time.time()
                    many = traffic.burst(args.burst, args.threads)
                    until = max((s.proved or s.answered for s in many), default=since)
                    burst = _phase(many, meter, since, until)
                    minutes = (until - since) / 60
                    burst["seconds"] = round(until - since, 2)
                    burst["proofs_per_minute"] = round(
                        sum(1 for s in many if s.proved) / minutes, 1
                    )
                    burst["load"] = loadavg()
                    report["burst"] = burst
                    stack.wait_until_drained(timeout=120)
        finally:
            sys.stdout = real_stdout
    renders_per_pdf = _renders_per_proof(report)
    alone_after = render_alone(30)
    alone = (alone_before + alone_after) / 2
    report["render_alone_per_minute"] = round(alone, 1)
    report["render_alone_before_after"] = [round(alone_before, 1), round(alone_after, 1)]
    report["renders_per_proof"] = renders_per_pdf
    report["render_allows_proofs_per_minute"] = round(alone / renders_per_pdf, 1)
    if "burst" in report:
        report["burst_vs_render"] = round(
            report["burst"]["proofs_per_minute"] / report["render_allows_proofs_per_minute"],
            2,
        )
    report["load_after"] = loadavg()
    (args.out / "e2e.json").write_text(json.dumps(report, indent=2) + "\n")
    _print(report)
    phases = (report.get("sequential"), report.get("burst"))
    lost = sum(p.get("unproved", 0) for p in phases if p)
    return 1 if lost else 0


def _stage_key(function: str) -> str:
    return "intake until 202" if function == "IntakeFunction" else f"{function} invocation"


def _phase(sent: list[Any], meter: Any, since: float, until: float) -> dict[str, Any]:
    proofs = [s.time_to_proof for s in sent if s.time_to_proof is not None]
    answers = [s.answered - s.posted for s in sent]
    return {
        "payments": len(sent),
        "unproved": len(sent) - len(proofs),
        "statuses": sorted({s.status for s in sent}),
        "time_to_proof": seconds_summary(proofs),
        "gateway_answer": seconds_summary(answers),
        "stages": stages(meter, since, until),
        "aws_calls": aws_time(meter, since, until, len(sent)),
        "renders": sum(
            1 for s in meter.spans if s.name == "render" and since <= s.started <= until
        ),
    }


def _renders_per_proof(report: dict[str, Any]) -> float:
    phase = report["sequential"]
    return max(phase["renders"] / max(phase["payments"], 1), 1.0)


def _print(report: dict[str, Any]) -> None:
    for name in ("sequential", "burst"):
        phase = report.get(name)
        if not phase:
            continue
        t = phase["time_to_proof"]
        print(f"== {name}: {phase['payments']} payments, load {phase['load']}")
        print(
            f"time-to-proof  median {t.get('median_ms')} ms  p95 {t.get('p95_ms')} ms  "
            f"p99 {t.get('p99_ms')} ms  max {t.get('max_ms')} ms  unproved {phase['unproved']}"
        )
        if "proofs_per_minute" in phase:
            rate, seconds = phase["proofs_per_minute"], phase["seconds"]
            print(f"throughput     {rate} proofs/min over {seconds} s")
        for stage, s in phase["stages"].items():
            if s.get("n"):
                extra = f"  batch {s['mean_batch']}" if "mean_batch" in s else ""
                print(
                    f"  {stage:<34} n={s['n']:>5}  median {s['median_ms']:8.1f}  "
                    f"p95 {s['p95_ms']:8.1f}  max {s['max_ms']:8.1f} ms{extra}"
                )
        for function, ops in phase["aws_calls"].items():
            total = sum(o["ms_per_payment"] for o in ops.values())
            calls = sum(o["calls_per_payment"] for o in ops.values())
            print(f"  AWS from {function:<24} {calls:5.1f} calls, {total:7.1f} ms per payment")
            for op, o in sorted(ops.items(), key=lambda kv: -kv[1]["ms_per_payment"]):
                calls, ms = o["calls_per_payment"], o["ms_per_payment"]
                print(f"      {op:<40} {calls:5.2f}  {ms:7.1f} ms")
    print(f"floor (median invocations back to back) {report['floor_ms']} ms")
    print(
        f"render alone {report['render_alone_per_minute']} renders/min in one process "
        f"(mean of {report['render_alone_before_after']}, before and after the traffic); "
        f"{report['renders_per_proof']:.2f} renders per proof → "
        f"{report['render_allows_proofs_per_minute']} proofs/min"
    )
    if "burst_vs_render" in report:
        print(f"burst / render-alone {report['burst_vs_render']:.2f}")
    print(f"load average before {report['load_before']}, after {report['load_after']}")


if __name__ == "__main__":
    raise SystemExit(main())
