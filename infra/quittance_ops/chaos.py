"""The chain-wide proof: many payments, redelivered, shuffled, concurrent, some forged, while
AWS fails under the functions and the functions crash between their steps. Then count.

One run: a local stack with a fault plan; N distinct genuine payments (Stripe, GoCardless and
Standard Webhooks in turn, each a real-format signed delivery), a share of them delivered
again, a share of forged payments (signed with a wrong secret), all shuffled and sent from
several threads. A sender behaves as a gateway does: a 5xx or a broken connection is sent
again, signed anew (Stripe and Standard Webhooks sign each attempt with its time), until it
gets an answer below 500. Once the queues are quiet, every dead-letter queue is redriven once
(``quittance dlq redrive``'s own code) and the queues are left to go quiet again.

What must hold afterwards, and is counted: one archived receipt per distinct genuine
payment, numbered without gap or double; exactly one confirmation per payment and channel,
or, where the only way to get two is the documented window (a crash or a lost answer right
after SES accepted the message, before the message log recorded it), counted as such; no
forged payment accepted; no message left in any dead-letter queue.

Time compression: each pipeline queue's visibility timeout is set (``SetQueueAttributes``,
as an operator may) to its consumer's timeout plus two seconds instead of six timeouts, so
that a failed batch comes back in well under a minute rather than in three to six. It stays
longer than the function's timeout, which matters: Powertools Idempotency holds an
interrupted invocation's claim until that timeout has passed, and a message that came back
sooner would only find its own claim. Everything else is as the template says (batch sizes,
maxReceiveCount, partial batch failures).
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from quittance.errors import SentNotLogged
from quittance.providers import standard_webhooks, stripe
from quittance_ops.dead_letters import DeadLetters, describe_dead_letters
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries import gocardless as gc
from quittance_ops.deliveries.standard_webhooks import standard_payment
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.localstack.faults import FaultPlan
from quittance_ops.localstack.stack import ACCOUNT, REGION, LocalStack

PIPELINE_QUEUES = {
    "GatewayLookupsQueue": "LookupFunction",
    "PaymentEventsQueue": "LedgerFunction",
    "ReceiptJobsQueue": "ReceiptsFunction",
    "NotificationsQueue": "NotifyFunction",
}
RECEIPT_NUMBER = re.compile(r"\b(R-\d{4}-\d{6})\b")
WRONG_SECRET = "whsec_" + "Zm9yZ2VkLWJ5LWFuLWF0dGFja2Vy"  # base64 of an attacker's key


@dataclass(frozen=True)
class ChaosConfig:
    payments: int = 1000
    redelivered: float = 0.3
    forged: float = 0.05
    threads: int = 8
    faults: float = 0.2
    crash_rate: float = 0.02
    seed: int = 7
    drain_timeout: float = 1800.0
    max_attempts: int = 30
    """A gateway's patience: Stripe retries for three days; here, this many attempts."""
    pollers: int = 4
    """Pollers per queue: under faults most of an invocation is spent in retry back-offs,
    which Lambda would overlap by running more consumers at once."""


@dataclass(frozen=True)
class Payment:
    provider: str
    payment_id: str
    invoice_number: str
    delivery: Delivery
    has_email: bool
    forged: bool = False
    gocardless_api: tuple[dict[str, Any], ...] = ()
    """What GoCardless's API answers about the payment (the payer is read there)."""


@dataclass
class ChaosReport:
    config: ChaosConfig
    seconds: float = 0.0
    payments: int = 0
    forged_payments: int = 0
    deliveries: int = 0
    """Deliveries planned: every payment once, a share again, every forgery once."""
    attempts: int = 0
    """HTTP requests made, retries after a 5xx or a broken connection included."""
    statuses: Counter[str] = field(default_factory=Counter)
    """Final answers: 202, 200, 401… and ``gave_up`` for a delivery never answered below 500."""
    first_answers: Counter[str] = field(default_factory=Counter)
    faults: dict[str, Any] = field(default_factory=dict)
    redriven: dict[str, int] = field(default_factory=dict)
    receipts: int = 0
    receipts_archived: int = 0
    numbering_gaps: list[str] = field(default_factory=list)
    numbers_twice: list[str] = field(default_factory=list)
    payments_with_two_receipts: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    """Genuine payments without an archived receipt."""
    forged_accepted: list[str] = field(default_factory=list)
    emails_expected: int = 0
    emails_sent: int = 0
    emails_missing: list[str] = field(default_factory=list)
    email_duplicates: dict[str, int] = field(default_factory=dict)
    """Receipt number → extra copies sent."""
    duplicate_window: int = 0
    """Side effects after which a second email is possible: SES sends that crashed right
    after, SES sends whose answer was lost (the client tried again), sends whose message-log
    write then failed past its retries (notify says so in a warning), and notify invocations
    that outlived their timeout on this loaded machine (Lambda would have stopped each one at
    some step, right after the SES send included; nothing stops a thread here, so its message
    came back while it still ran)."""
    notify_overruns: int = 0
    sent_not_logged: int = 0
    dead_letters_left: dict[str, int] = field(default_factory=dict)
    left_behind: list[dict[str, Any]] = field(default_factory=list)
    """What is still in a dead-letter queue at the end (ids and kinds, no personal data)."""
    queues_drained: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.queues_drained
            and not self.lost
            and not self.forged_accepted
            and not self.numbering_gaps
            and not self.numbers_twice
            and not self.payments_with_two_receipts
            and not self.emails_missing
            and sum(self.email_duplicates.values()) <= self.duplicate_window
            and not any(self.dead_letters_left.values())
            and self.statuses.get("gave_up", 0) == 0
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 1),
            "config": self.config.__dict__,
            "payments": self.payments,
            "forged_payments": self.forged_payments,
            "deliveries": self.deliveries,
            "http_attempts": self.attempts,
            "final_statuses": dict(self.statuses),
            "first_answers": dict(self.first_answers),
            "faults": self.faults,
            "redriven": self.redriven,
            "receipts": self.receipts,
            "receipts_archived": self.receipts_archived,
            "numbering_gaps": self.numbering_gaps,
            "numbers_given_twice": self.numbers_twice,
            "payments_with_two_receipts": self.payments_with_two_receipts,
            "lost": self.lost,
            "forged_accepted": self.forged_accepted,
            "emails": {
                "expected": self.emails_expected,
                "sent": self.emails_sent,
                "missing": self.emails_missing,
                "duplicates": sum(self.email_duplicates.values()),
                "duplicate_window": self.duplicate_window,
                "notify_overruns": self.notify_overruns,
                "sent_not_logged": self.sent_not_logged,
            },
            "dead_letters_left": self.dead_letters_left,
            "left_behind": self.left_behind,
            "queues_drained": self.queues_drained,
        }


# ---------------------------------------------------------------- the traffic


def plan_payments(config: ChaosConfig, secrets: dict[str, str]) -> list[Payment]:
    """Distinct payments, providers in turn, each with its own invoice and customer."""
    payments = []
    now = int(time.time())
    for n in range(config.payments):
        provider = ("stripe", "gocardless", "standard")[n % 3]
        payments.append(make_payment(provider, n, secrets[provider], now, forged=False))
    forged = round(config.payments * config.forged)
    for n in range(config.payments, config.payments + forged):
        provider = ("stripe", "gocardless", "standard")[n % 3]
        payments.append(make_payment(provider, n, WRONG_SECRET, now, forged=True))
    return payments


def make_payment(provider: str, n: int, secret: str, now: int, *, forged: bool) -> Payment:
    invoice = f"F-CHAOS-{n:05d}"
    amount = 1000 + (n * 37) % 90_000
    if provider == "stripe":
        payment_id = f"pi_chaos{n:06d}"
        delivery = stripe_payment_intent_succeeded(
            secret=secret,
            invoice_number=invoice,
            amount_minor=amount,
            customer=f"cus_chaos{n:06d}",
            email=f"payer{n}@example.com",
            name=f"Payer {n}",
            event_id=f"evt_chaos{n:06d}",
            payment_id=payment_id,
            timestamp=now,
        )
        return Payment(provider, payment_id, invoice, delivery, has_email=True, forged=forged)
    if provider == "gocardless":
        payment_id = f"PM00CHAOS{n:05d}"
        event = gc.payment_confirmed(
            invoice_number=invoice,
            amount_minor=amount,
            customer_reference=f"CHAOS-{n:06d}",
            payment_id=payment_id,
            event_id=f"EV00CHAOS{n:05d}",
        )
        delivery = gc.gocardless_batch(secret, [event], webhook_id=f"WB00CHAOS{n:05d}")
        # GoCardless events carry no contact details: the lookup stage reads the payer from
        # GoCardless's API (the local recorded one), who is told like any other.
        api = gc.api_objects(
            event,
            amount_minor=amount,
            email=f"payer{n}@example.com",
            given_name="Payer",
            family_name=str(n),
        )
        return Payment(
            provider,
            payment_id,
            invoice,
            delivery,
            has_email=True,
            forged=forged,
            gocardless_api=tuple(api),
        )
    payment_id = f"pay_chaos{n:06d}"
    delivery = standard_payment(
        secret,
        invoice_number=invoice,
        amount_minor=amount,
        customer={"reference": f"CLI-CHAOS-{n:06d}", "name": f"Payer {n}",
                  "email": f"payer{n}@example.org", "locale": "fr"},
        msg_id=f"msg_chaos{n:06d}",
        timestamp=now,
        payment_id=payment_id,
    )  # fmt: skip
    return Payment(provider, payment_id, invoice, delivery, has_email=True, forged=forged)


def signed_now(delivery: Delivery, secret: str) -> Delivery:
    """The same body, signed for this attempt as the gateway signs each retry."""
    now = int(time.time())
    if delivery.provider == "stripe":
        headers = {**delivery.headers, "Stripe-Signature": stripe.sign(delivery.body, secret, now)}
    elif delivery.provider == "standard":
        msg_id = delivery.headers["webhook-id"]
        headers = {
            **delivery.headers,
            "webhook-timestamp": str(now),
            "webhook-signature": standard_webhooks.sign(msg_id, now, delivery.body, secret),
        }
    else:
        return delivery  # GoCardless signs the body alone
    return replace(delivery, headers=headers)


def _post(url: str, delivery: Delivery) -> int:
    request = urllib.request.Request(  # noqa: S310 - the local gateway on 127.0.0.1
        url, data=delivery.body, headers=delivery.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0  # no answer: the gateway tries again


class Sender:
    """Sends one delivery as a gateway would, until an answer below 500."""

    def __init__(self, api_url: str, secrets: dict[str, str], config: ChaosConfig) -> None:
        self.api_url = api_url
        self.secrets = secrets
        self.config = config
        self.attempts = 0
        self.final: Counter[str] = Counter()
        self.first: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, payment: Payment) -> None:
        """Stripe and GoCardless retry any answer that is not 2xx (a 409 for a delivery still
        being queued included); a forgery is sent once: its 401 is the point."""
        secret = WRONG_SECRET if payment.forged else self.secrets[payment.provider]
        url = f"{self.api_url}/webhooks/{payment.delivery.provider}"
        status = 0
        for attempt in range(self.config.max_attempts):
            status = _post(url, signed_now(payment.delivery, secret))
            with self._lock:
                self.attempts += 1
                if attempt == 0:
                    self.first[str(status)] += 1
            if 200 <= status < 300 or (payment.forged and 0 < status < 500):
                break
            time.sleep(min(0.2 * 2**attempt, 5.0))
        done = 200 <= status < 300 or (payment.forged and 0 < status < 500)
        with self._lock:
            self.final[str(status) if done else "gave_up"] += 1


# ---------------------------------------------------------------- the run


class _LineCounter(logging.Handler):
    """Counts one log line of the functions' (their loggers are named for their service)."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == self.line:
            self.count += 1


def run_chaos(
    root: Path,
    config: ChaosConfig,
    out: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> ChaosReport:
    report = ChaosReport(config)
    plan = FaultPlan(rate=config.faults, seed=config.seed, crash_rate=config.crash_rate)
    started = time.monotonic()
    unlogged = _LineCounter(SentNotLogged.log_line)
    _run(root, config, out, progress=progress, plan=plan, report=report, unlogged=unlogged)
    report.sent_not_logged = unlogged.count
    report.duplicate_window += unlogged.count
    report.seconds = time.monotonic() - started
    return report


def _run(
    root: Path,
    config: ChaosConfig,
    out: Path,
    *,
    progress: Callable[[str], None],
    plan: FaultPlan,
    report: ChaosReport,
    unlogged: _LineCounter,
) -> None:
    with LocalStack(root, out_dir=out, faults=plan, pollers_per_source=config.pollers) as stack:
        assert stack.info is not None and stack.faults is not None
        # Added once notify's Powertools Logger has put its own handler first: Powertools
        # takes a logger's first handler for its own, and a logger that has one already as
        # set up (every later execution environment relies on that).
        notify_logger = logging.getLogger("notify")
        notify_logger.addHandler(unlogged)
        try:
            _drive(stack, config, progress=progress, report=report)
        finally:
            notify_logger.removeHandler(unlogged)


def _drive(
    stack: LocalStack,
    config: ChaosConfig,
    *,
    progress: Callable[[str], None],
    report: ChaosReport,
) -> None:
    assert stack.info is not None and stack.faults is not None
    sqs = stack.client("sqs")
    for queue, consumer in PIPELINE_QUEUES.items():
        timeout = stack.functions[consumer].spec.timeout
        sqs.set_queue_attributes(
            QueueUrl=stack.resource(queue),
            Attributes={"VisibilityTimeout": str(timeout + 2)},
        )
    secrets = stack.info.webhook_secrets
    payments = plan_payments(config, secrets)
    assert stack.gateway_api is not None
    for payment in payments:
        stack.gateway_api.api.add_gocardless(*payment.gocardless_api)
    genuine = [p for p in payments if not p.forged]
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible shuffle, not a secret
    again = rng.sample(genuine, round(len(genuine) * config.redelivered))
    sends = [*payments, *again]
    rng.shuffle(sends)
    report.payments, report.forged_payments = len(genuine), len(payments) - len(genuine)
    report.deliveries = len(sends)
    progress(f"sending {len(sends)} deliveries from {config.threads} threads")
    sender = Sender(stack.info.api_url, secrets, config)
    with ThreadPoolExecutor(max_workers=config.threads) as pool:
        list(pool.map(sender.send, sends))
    report.attempts, report.statuses, report.first_answers = (
        sender.attempts,
        sender.final,
        sender.first,
    )
    progress("waiting for the queues to go quiet")
    stack.wait_until_drained(timeout=config.drain_timeout, interval=0.5)
    dead_letters = DeadLetters(
        sqs, describe_dead_letters(sqs, dict(stack.info.resources)), wait_seconds=0
    )
    for dlq in dead_letters.select(None):
        if dlq.why_not_redrivable() is None:
            moved = dead_letters.redrive(dlq).moved
            if moved:
                report.redriven[dlq.name] = moved
    progress(f"redriven: {report.redriven or 'nothing'}; waiting again")
    report.queues_drained = stack.wait_until_drained(timeout=config.drain_timeout, interval=0.5)
    report.faults = stack.faults.stats.as_json()
    report.notify_overruns = stack.functions["NotifyFunction"].overruns
    _count(stack, payments, report)
    report.dead_letters_left = {
        name: depth for name, depth in stack.queue_depths().items() if name.endswith("DLQ")
    }
    for dlq in dead_letters.select(None):
        if report.dead_letters_left.get(dlq.name):
            for peeked in dead_letters.peek(dlq, 10).messages:
                report.left_behind.append(
                    {"queue": dlq.name, "receives": peeked.receive_count, **peeked.summary}
                )


def _count(stack: LocalStack, payments: list[Payment], report: ChaosReport) -> None:
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    bucket = stack.resource("ArchiveBucket")
    receipts: list[dict[str, Any]] = []
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=stack.resource("LedgerTable")):
        for item in page["Items"]:
            if item["sk"]["S"].startswith("RCPT#"):
                receipts.append(
                    {
                        "data": json.loads(item["data"]["S"]),
                        "archived": "archive" in item,
                        "key": item.get("archive", {}).get("M", {}).get("key", {}).get("S"),
                    }
                )
    report.receipts = len(receipts)
    report.receipts_archived = sum(
        1 for r in receipts if r["archived"] and _exists(s3, bucket, r["key"])
    )
    by_payment = Counter(r["data"]["payment_id"] for r in receipts)
    report.payments_with_two_receipts = sorted(p for p, n in by_payment.items() if n > 1)
    archived = {r["data"]["payment_id"] for r in receipts if r["archived"]}
    report.lost = sorted(
        p.payment_id for p in payments if not p.forged and p.payment_id not in archived
    )
    report.forged_accepted = sorted(
        p.payment_id for p in payments if p.forged and p.payment_id in by_payment
    )
    numbers = Counter(r["data"]["receipt_number"] for r in receipts)
    report.numbers_twice = sorted(n for n, count in numbers.items() if count > 1)
    series: dict[str, list[int]] = {}
    for number in numbers:
        prefix, _, rank = number.rpartition("-")
        series.setdefault(prefix, []).append(int(rank))
    for prefix, ranks in series.items():
        missing = set(range(1, max(ranks) + 1)) - set(ranks)
        report.numbering_gaps.extend(f"{prefix}-{n:06d}" for n in sorted(missing))
    # What SES was handed (moto keeps every message sent in this process).
    from moto.ses.models import ses_backends

    sent = Counter[str]()
    for message in ses_backends[ACCOUNT][REGION].sent_messages:
        raw = getattr(message, "raw_data", "") or ""
        subject = str(email.message_from_string(raw, policy=email.policy.default)["Subject"])
        found = RECEIPT_NUMBER.search(subject)
        if found:
            sent[found.group(1)] += 1
    receipt_of = {r["data"]["payment_id"]: r["data"]["receipt_number"] for r in receipts}
    expected = [
        receipt_of[p.payment_id]
        for p in payments
        if p.has_email and not p.forged and p.payment_id in receipt_of
    ]
    report.emails_expected = sum(1 for p in payments if p.has_email and not p.forged)
    report.emails_sent = sum(sent.values())
    report.emails_missing = sorted(n for n in expected if sent[n] == 0)
    report.email_duplicates = {n: c - 1 for n, c in sent.items() if c > 1}
    crashes = report.faults.get("crashes", {}).get("NotifyFunction", {})
    lost_answers = report.faults.get("injected", {}).get("sesv2", {}).get("timeout_after", 0)
    report.duplicate_window = (
        int(crashes.get("sesv2.SendEmail", 0)) + int(lost_answers) + report.notify_overruns
    )


def _exists(s3: Any, bucket: str, key: str | None) -> bool:
    if not key:
        return False
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception:
        return False
    return True
