"""``quittance smoke``: one signed test delivery to the deployed endpoint, followed through
intake, the ledger, the archive (lock mode, retain-until, hash) and the message log, with
the time each stage took. It leaves one test receipt behind, for an invoice named
``SMOKE-…`` paid in test mode (``livemode`` false), so nobody mistakes it for a sale.

The delivery is signed with the stack's own webhook secret (Standard Webhooks if set, else
Stripe); everything after intake is read through the staff API (SigV4), like any staff
access, and so lands in the audit trail."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from quittance_ops.admin_client import AdminClient
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.standard_webhooks import standard_payment
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, emit
from quittance_ops.target import Target, open_target

SMOKE_CUSTOMER = "quittance-smoke"
AMOUNT_MINOR = 100  # 1,00 €
PROVIDERS = ("standard", "stripe")  # whose deliveries this command can sign
POLL_SECONDS = 0.5


@dataclass
class Stage:
    name: str
    ok: bool
    seconds: float
    detail: str


@dataclass
class SmokeRun:
    invoice: str
    provider: str
    stages: list[Stage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.stages) and all(s.ok for s in self.stages)


class SmokeFailed(Exception):
    pass


def webhook_secret(target: Target, wanted: str | None) -> tuple[str, str]:
    """(provider, secret) to sign with: the local stack's own, or the deployed stack's
    WebhookSecrets secret, read with the caller's credentials."""
    if target.is_local:
        known = {p: [s] for p, s in target.local.get("webhook_secrets", {}).items()}
    else:
        raw = target.client("secretsmanager").get_secret_value(
            SecretId=target.resource("WebhookSecrets")
        )
        known = json.loads(raw.get("SecretString") or "{}")
    for provider in (wanted,) if wanted else PROVIDERS:
        values = known.get(provider) or []
        if provider in PROVIDERS and values:
            return provider, str(values[0])
    raise typer.BadParameter(
        f"no webhook secret for {wanted or ' or '.join(PROVIDERS)}: set one (quittance doctor)"
    )


def signed_delivery(provider: str, secret: str, invoice: str, email: str | None) -> Delivery:
    if provider == "stripe":
        if not email:
            # A Stripe PaymentIntent event as this command builds it carries the payer's email.
            raise typer.BadParameter("a Stripe test delivery needs --email")
        return stripe_payment_intent_succeeded(
            secret=secret,
            invoice_number=invoice,
            amount_minor=AMOUNT_MINOR,
            customer=SMOKE_CUSTOMER,
            email=email,
            name="quittance smoke test",
            locale="en",
        )
    customer: dict[str, Any] = {"reference": SMOKE_CUSTOMER, "name": "quittance smoke test"}
    if email:
        customer["email"] = email
    return standard_payment(
        secret, invoice_number=invoice, amount_minor=AMOUNT_MINOR, customer=customer, livemode=False
    )


def post(url: str, delivery: Delivery) -> tuple[int, str]:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise typer.BadParameter(f"refusing to post to {url}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=delivery.body, headers=delivery.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")


class Follower:
    """Polls the staff API until a stage is reached, timing it from the delivery."""

    def __init__(self, api: AdminClient, run: SmokeRun, timeout: float) -> None:
        self.api = api
        self.run = run
        self.timeout = timeout
        self.started = time.monotonic()

    def record(self, name: str, ok: bool, detail: str) -> None:
        self.run.stages.append(Stage(name, ok, round(time.monotonic() - self.started, 2), detail))
        if not ok:
            raise SmokeFailed(f"{name}: {detail}")

    def until(self, what: str, probe: Callable[[], Any]) -> Any:
        deadline = self.started + self.timeout
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            time.sleep(POLL_SECONDS)
        self.record(what, False, f"not reached within {self.timeout:g} s")
        return None

    def get(self, path: str) -> Any:
        status, body = self.api.call("GET", path)
        return body if status == 200 else None

    def receipt(self) -> dict[str, Any] | None:
        found = self.get(f"/admin/receipts?invoice={self.run.invoice}")
        items = (found or {}).get("items") or []
        return items[0] if items else None


def follow(follower: Follower, expect_message: bool) -> None:
    run = follower.run
    hit = follower.until("ledger", follower.receipt)
    number = hit["receipt_number"]
    follower.record("ledger", True, f"receipt {number} for invoice {run.invoice}")
    follower.until("archive", lambda: (follower.receipt() or {}).get("archived"))
    shown = follower.get(f"/admin/receipts/{number}") or {}
    archive = shown.get("archive") or {}
    locks = [f"{v['lock_mode']} until {v['retain_until']}" for v in shown.get("versions", [])]
    follower.record(
        "archive",
        bool(locks) and all(v.get("lock_mode") for v in shown.get("versions", [])),
        f"{archive.get('key')}: {'; '.join(locks) or 'no version'}",
    )
    status, report = follower.api.call("POST", f"/admin/receipts/{number}/verify")
    failed = ", ".join(report.get("failed", [])) if isinstance(report, dict) else str(report)
    follower.record(
        "hash",
        status == 200 and bool(report.get("ok")),
        f"sha256 {str(archive.get('sha256_hex'))[:16]}… re-read and checked"
        if status == 200 and report.get("ok")
        else f"verify failed: {failed}",
    )
    if not expect_message:
        follower.record("messages", True, "none expected: no --email given")
        return

    def settled() -> list[dict[str, Any]]:
        messages = (follower.get(f"/admin/receipts/{number}") or {}).get("messages", [])
        return [m for m in messages if m.get("status") in {"sent", "failed", "suppressed"}]

    messages = follower.until("messages", settled) or []
    sent = [m for m in messages if m.get("status") == "sent"]
    follower.record(
        "messages",
        bool(sent),
        ", ".join(f"{m.get('kind')} {m.get('status')}" for m in messages),
    )


def run_smoke(
    target: Target, *, email: str | None, provider: str | None, timeout: float
) -> SmokeRun:
    chosen, secret = webhook_secret(target, provider)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run = SmokeRun(f"SMOKE-{stamp}-{secrets.token_hex(2).upper()}", chosen)
    follower = Follower(AdminClient.for_target(target), run, timeout)
    delivery = signed_delivery(chosen, secret, run.invoice, email)
    try:
        status, body = post(f"{target.api_url.rstrip('/')}/webhooks/{chosen}", delivery)
        follower.record("intake", status == 202, f"{chosen} delivery answered {status} {body[:80]}")
        follow(follower, expect_message=bool(email))
    except SmokeFailed:
        pass  # recorded: the stages so far and the one that failed are the report
    return run


def smoke(
    *,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
    email: Annotated[
        str | None,
        typer.Option(help="Send the confirmation there (in the SES sandbox: a verified address)"),
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="standard or stripe (default: the first with a secret)")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each stage")] = 120.0,
) -> None:
    """Send one signed test delivery and follow it to an archived, locked, verified receipt
    and its message; print each stage's time. Exit 1 if a stage is not reached."""
    run = run_smoke(open_target(stack, aws_stack), email=email, provider=provider, timeout=timeout)
    result = {
        "ok": run.ok,
        "invoice": run.invoice,
        "provider": run.provider,
        "stages": [asdict(s) for s in run.stages],
    }
    if not emit(as_json, result):
        console = Console()
        console.print(f"smoke test: invoice [bold]{run.invoice}[/] (test mode) via {run.provider}")
        for stage in run.stages:
            mark = "[green]ok[/]" if stage.ok else "[red]FAILED[/]"
            console.print(f"{mark:>14} {stage.name:<9} {stage.seconds:7.2f} s  {stage.detail}")
    if not run.ok:
        raise typer.Exit(code=1)
