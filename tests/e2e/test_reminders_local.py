"""The daily reminders on the local stack: the schedule is listed as not run locally, and
``quittance local remind --today`` runs it, the stack's notify pump sending the email."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.invoices import InvoiceLine, InvoiceRegistration, register_invoice
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.outbox import sent_emails

from .conftest import ROOT, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-reminders_local")]

INVOICE = "F-E2E-REMIND"


def _remind(stack: RunningStack, stack_json: Path, today: date) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "quittance_ops", "local", "remind", "--today", today.isoformat(),
         "--stack", str(stack_json)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


def test_quittance_local_remind_sends_the_due_reminder_once(
    stack: RunningStack, tmp_path: Path
) -> None:
    assert any("RemindersFunction:Daily" in s for s in stack.info["not_enforced_locally"])
    stack_json = tmp_path / "stack.json"
    stack_json.write_text(json.dumps(stack.info))
    # Given an invoice of 480,00 € due in 3 days, 180,00 € of it paid by card
    today = datetime.now(UTC).date()
    ledger = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))
    register_invoice(
        INVOICE,
        InvoiceRegistration(
            customer_reference="cus_e2e_remind",
            currency="EUR",
            lines=(InvoiceLine(description="Binding", quantity=Decimal(1),
                               unit_price_minor=40000, vat_rate=Decimal(20)),),
            issue_date=today - timedelta(days=27),
            due_date=today + timedelta(days=3),
            nature="services",
        ),
        book=ledger,
        now=datetime.now(UTC),
    )  # fmt: skip
    delivery = stripe_payment_intent_succeeded(
        secret=stack.info["webhook_secrets"]["stripe"],
        invoice_number=INVOICE,
        amount_minor=18000,
        customer="cus_e2e_remind",
        email="e2e.reminded@example.com",
    )
    request = urllib.request.Request(
        f"{stack.api_url}/webhooks/stripe", data=delivery.body, headers=delivery.headers
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
    stack.wait_drained()
    # When the reminders run for today, twice
    first = _remind(stack, stack_json, today)
    second = _remind(stack, stack_json, today)
    # Then one reminder is queued, and the stack sends it to the customer
    assert first["queued"] == [f"{INVOICE}#d-3"]
    assert second["queued"] == [] and second["outcomes"] == {"already_sent": 1}
    deadline = time.monotonic() + 60
    reminders: list[email.message.Message] = []
    while not reminders and time.monotonic() < deadline:
        stack.wait_drained()
        parsed = [
            email.message_from_bytes(e.raw, policy=email.policy.default)
            for e in sent_emails(stack.endpoint)
        ]
        reminders = [
            m
            for m in parsed
            if str(m["Subject"]).startswith("Rappel") and INVOICE in str(m["Subject"])
        ]  # type: ignore[misc]
        time.sleep(0.2)
    [reminder] = reminders
    assert reminder["To"].addresses[0].addr_spec == "e2e.reminded@example.com"
    text = " ".join(reminder.get_body(("plain",)).get_content().replace("\xa0", " ").split())
    assert "Montant restant dû : 300,00 €" in text
