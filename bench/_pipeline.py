"""The local stack under a :class:`Meter`, and payments sent through it one by one or in a burst:
what ``bench/e2e.py`` and ``bench/cost.py`` share.

Time-to-proof of one payment: from the gateway's POST (the webhook leaves the payment
gateway) to the confirmation mail handed to SES (SendEmail returned), for Stripe and Standard
Webhooks payments in turn, each with its own payer address, which is how a mail is matched to
its payment. GoCardless payments, whose payer the lookup stage reads from GoCardless's API,
are left out here: their time-to-proof includes that stage's API calls to a recorded server.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _stats import percentile  # noqa: E402

STAGES_QUEUE = {
    "LedgerFunction": "payment-events queue",
    "ReceiptsFunction": "receipt-jobs queue",
    "NotifyFunction": "notifications queue",
}
CHAIN = ("IntakeFunction", "LedgerFunction", "ReceiptsFunction", "NotifyFunction")


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" 0/")[0].rsplit(" ", 2)[0]
    except OSError:
        return "unknown"


def quiet() -> None:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@contextmanager
def metered_stack(out: Path) -> Iterator[tuple[Any, Any]]:
    """A local stack with a meter on every function, the receipt render timed as a span."""
    from quittance.receipts.render import ReceiptRenderer
    from quittance_ops.localstack.meter import Meter
    from quittance_ops.localstack.stack import LocalStack

    meter = Meter().install()
    original = ReceiptRenderer.render
    ReceiptRenderer.render = meter.timed("render", original)  # type: ignore[method-assign]
    try:
        with LocalStack(ROOT, out_dir=out) as stack:
            for function in stack.functions.values():
                function.observers.append(meter.on_invocation)
            yield stack, meter
    finally:
        ReceiptRenderer.render = original  # type: ignore[method-assign]
        meter.uninstall()


@dataclass
class Sent:
    address: str
    posted: float
    status: int = 0
    answered: float = 0.0
    proved: float | None = None

    @property
    def time_to_proof(self) -> float | None:
        return None if self.proved is None else self.proved - self.posted


class Traffic:
    """Distinct payments (Stripe and Standard Webhooks in turn), numbered from ``first``."""

    def __init__(self, stack: Any, meter: Any) -> None:
        self.stack = stack
        self.meter = meter
        self.secrets = stack.info.webhook_secrets
        self.url = stack.info.api_url
        self.next = 0
        self._lock = threading.Lock()

    def _payment(self) -> Any:
        from quittance_ops.chaos import make_payment

        with self._lock:
            n = self.next
            self.next += 1
        provider = ("stripe", "standard")[n % 2]
        return make_payment(provider, n, self.secrets[provider], int(time.time()), forged=False)

    def send(self, payment: Any) -> Sent:
        from quittance_ops.chaos import _post, signed_now

        address = _address(payment)
        sent = Sent(address=address, posted=time.time())
        url = f"{self.url}/webhooks/{payment.delivery.provider}"
        for attempt in range(10):  # as the gateway would, on a 5xx or a 409 (still queueing)
            sent.status = _post(url, signed_now(payment.delivery, self.secrets[payment.provider]))
            if 200 <= sent.status < 300:
                break
            time.sleep(min(0.1 * 2**attempt, 2.0))
        sent.answered = time.time()
        return sent

    def proved_at(self, sent: list[Sent], timeout: float) -> None:
        """Fill in when each payment's mail was handed to SES (its first mail)."""
        deadline = time.monotonic() + timeout
        waiting = {s.address: s for s in sent}
        seen = 0
        while waiting and time.monotonic() < deadline:
            emails = list(self.meter.emails)
            for handed in emails[seen:]:
                match = waiting.pop(handed.to, None)
                if match is not None:
                    match.proved = handed.at
            seen = len(emails)
            if waiting:
                time.sleep(0.002)

    def one_by_one(self, count: int, timeout: float = 30.0) -> list[Sent]:
        done = []
        for _ in range(count):
            sent = self.send(self._payment())
            self.proved_at([sent], timeout)
            done.append(sent)
        return done

    def burst(self, count: int, threads: int, timeout: float = 600.0) -> list[Sent]:
        payments = [self._payment() for _ in range(count)]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            sent = list(pool.map(self.send, payments))
        self.proved_at(sent, timeout)
        return sent


def _address(payment: Any) -> str:
    n = int(payment.invoice_number.rsplit("-", 1)[1])
    domain = "example.com" if payment.provider == "stripe" else "example.org"
    return f"payer{n}@{domain}"


def seconds_summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "p95_ms": round(percentile(samples, 95) * 1000, 1),
        "p99_ms": round(percentile(samples, 99) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
    }


def stages(meter: Any, since: float, until: float) -> dict[str, dict[str, float]]:
    """Each stage's own timings between two wall-clock instants, as the functions saw them."""
    invocations = [i for i in meter.invocations if since <= i.started <= until]
    calls = [c for c in meter.calls if since <= c.started <= until]
    spans = [s for s in meter.spans if since <= s.started <= until]
    out: dict[str, dict[str, float]] = {}
    out["intake until 202"] = seconds_summary(
        [i.seconds for i in invocations if i.function == "IntakeFunction"]
    )
    for function in CHAIN[1:]:
        waits = [w for i in invocations if i.function == function for w in i.queue_waits]
        out[f"wait in {STAGES_QUEUE[function]}"] = seconds_summary(waits)
        out[f"{function} invocation"] = seconds_summary(
            [i.seconds for i in invocations if i.function == function]
        )
        batch = [i.records for i in invocations if i.function == function]
        if batch:
            out[f"{function} invocation"]["mean_batch"] = round(statistics.mean(batch), 2)
    out["render (each PDF)"] = seconds_summary([s.seconds for s in spans if s.name == "render"])
    out["archive put (S3 PutObject)"] = seconds_summary(
        [
            c.seconds
            for c in calls
            if c.function == "ReceiptsFunction" and (c.service, c.operation) == ("s3", "PutObject")
        ]
    )
    out["SES SendEmail"] = seconds_summary(
        [c.seconds for c in calls if (c.service, c.operation) == ("sesv2", "SendEmail")]
    )
    return out


def aws_time(meter: Any, since: float, until: float, payments: int) -> dict[str, dict[str, Any]]:
    """Per function: AWS calls per payment and the milliseconds they took, by operation."""
    table: dict[str, dict[str, Any]] = {}
    for c in meter.calls:
        if not since <= c.started <= until:
            continue
        row = table.setdefault(c.function, {}).setdefault(
            f"{c.service}.{c.operation}", {"calls": 0, "ms": 0.0}
        )
        row["calls"] += 1
        row["ms"] += c.seconds * 1000
    for per_function in table.values():
        for row in per_function.values():
            row["calls_per_payment"] = round(row.pop("calls") / max(payments, 1), 2)
            row["ms_per_payment"] = round(row.pop("ms") / max(payments, 1), 1)
    return table
