"""The chain-wide proof under load and AWS faults, on the local stack (quittance_ops.chaos).

    python bench/chaos.py [--payments 1000] [--redelivered 0.3] [--forged 0.05] [--threads 8]
                          [--faults 0.2] [--crash-rate 0.02] [--seed 7] [--out out/bench]

Prints the figures (payments, deliveries, faults injected by service, retries, crashes,
redriven, receipts, emails, duplicates and their window, lost) and writes them to
out/bench/chaos.json. Exits 1 if any guarantee of docs/reliability.md did not hold.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from quittance_ops.chaos import ChaosConfig, run_chaos

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = ChaosConfig()
    parser.add_argument("--payments", type=int, default=defaults.payments)
    parser.add_argument("--redelivered", type=float, default=defaults.redelivered)
    parser.add_argument("--forged", type=float, default=defaults.forged)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--faults", type=float, default=defaults.faults)
    parser.add_argument("--crash-rate", type=float, default=defaults.crash_rate)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--pollers", type=int, default=defaults.pollers)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = parser.parse_args()
    config = ChaosConfig(
        payments=args.payments,
        redelivered=args.redelivered,
        forged=args.forged,
        threads=args.threads,
        faults=args.faults,
        crash_rate=args.crash_rate,
        seed=args.seed,
        pollers=args.pollers,
    )
    # The functions log every line as JSON to stdout, as on Lambda: keep them out of the figures.
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    logs = (out / "chaos-function-logs.jsonl").open("w")
    real_stdout = sys.stdout
    sys.stdout = logs
    try:
        report = run_chaos(
            ROOT, config, out / "chaos-stack", progress=lambda m: print(m, file=real_stdout)
        )
    finally:
        sys.stdout = real_stdout
        logs.close()
    figures = report.as_json()
    (out / "chaos.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print("chaos: every guarantee held" if report.ok else "chaos: A GUARANTEE FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
