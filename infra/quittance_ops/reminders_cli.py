"""``quittance local remind``: the daily reminders run, on demand, against a running local
stack (moto has no EventBridge Scheduler to start it), and the demo's reminder scene.

The run invokes the very handler of ``RemindersFunction`` (functions/reminders/app.py) in
this process, with the environment template.yaml gives it, resolved against the stack's
``stack.json``; the reminder jobs it queues are sent by the stack's own notify pump."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from quittance_ops.project import local_stack_json, project_root, quiet_libraries

FUNCTION = "RemindersFunction"


def function_environment(root: Path, resources: dict[str, str]) -> dict[str, str]:
    """RemindersFunction's variables from template.yaml, ``!Ref`` resolved to the stack's
    resources (the only intrinsic its environment uses)."""
    from quittance_ops.localstack.template import load_template

    template = load_template(root / "template.yaml")
    variables = template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    env: dict[str, str] = {}
    for name, value in variables.items():
        if isinstance(value, dict) and set(value) == {"Ref"}:
            env[name] = resources[value["Ref"]]
        elif isinstance(value, str | int):
            env[name] = str(value)
        else:
            raise ValueError(f"{FUNCTION}.{name}: only plain values and !Ref are resolved here")
    return env


def invoke_reminders(root: Path, info: dict[str, Any], today: date) -> dict[str, Any]:
    """Run the reminders handler once for ``today`` against the stack ``info`` describes."""
    from quittance.settings import load
    from quittance_ops.localstack.provision import FunctionSpec
    from quittance_ops.localstack.runtime import LocalFunction
    from quittance_ops.localstack.stack import ACCOUNT

    os.environ.update(
        {
            "AWS_ENDPOINT_URL": info["moto_endpoint"],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": info["region"],
            "AWS_DEFAULT_REGION": info["region"],
            "POWERTOOLS_TRACE_DISABLED": "true",
            **function_environment(root, info["resources"]),
        }
    )
    load.cache_clear()
    spec = FunctionSpec(
        logical_id=FUNCTION,
        code_uri="functions/reminders/",
        handler="app.handler",
        timeout=300,
        memory=512,
        environment={},
    )
    # The function's JSON logs go to stderr, leaving stdout to the run's outcome.
    with contextlib.redirect_stdout(sys.stderr):
        function = LocalFunction(spec, root, info["region"], ACCOUNT)
        result: dict[str, Any] = function.invoke({"today": today.isoformat()})
    return result


def remind(
    today: Annotated[
        str | None,
        typer.Option(help="The day to run for, YYYY-MM-DD (default: today in Paris)."),
    ] = None,
    stack: Annotated[
        Path | None, typer.Option(help="stack.json of a local stack (default out/local)")
    ] = None,
) -> None:
    """Run the daily invoice reminders now, against the running local stack."""
    from zoneinfo import ZoneInfo

    quiet_libraries()
    root = project_root()
    path = local_stack_json(stack)
    try:
        day = date.fromisoformat(today) if today else datetime.now(ZoneInfo("Europe/Paris")).date()
    except ValueError:
        raise typer.BadParameter(f"--today must be YYYY-MM-DD, got {today!r}") from None
    result = invoke_reminders(root, json.loads(path.read_text()), day)
    Console().print_json(json.dumps(result))


def demo_reminder(stack: Any, out: Path, invoice_number: str = "F-DEMO-RAPPEL") -> Path:
    """The demo's reminder scene on a running in-process ``LocalStack``: register an invoice
    of 480,00 € due in three days, receive a first card payment of 180,00 € through a
    genuine Stripe webhook (the customer becomes known), run the reminders for today, and
    write the reminder email to ``out/<invoice>-reminder.eml``. Returns that path."""
    from quittance.aws.ledger_table import LedgerTable
    from quittance.ledger.invoices import InvoiceLine, InvoiceRegistration, register_invoice
    from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
    from quittance_ops.outbox import sent_emails

    assert stack.info is not None
    today = datetime.now(UTC).date()
    ledger = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
    register_invoice(
        invoice_number,
        InvoiceRegistration(
            customer_reference="cus_NffrFeUfNV2Hib",
            currency="EUR",
            lines=(
                InvoiceLine(
                    description="Reliure d'archives",
                    quantity=Decimal(1),
                    unit_price_minor=40000,
                    vat_rate=Decimal(20),
                ),
            ),
            issue_date=today - timedelta(days=27),
            due_date=today + timedelta(days=3),
            nature="services",
        ),
        book=ledger,
        now=datetime.now(UTC),
    )
    delivery = stripe_payment_intent_succeeded(
        secret=stack.info.webhook_secrets["stripe"],
        invoice_number=invoice_number,
        amount_minor=18000,
    )
    request = urllib.request.Request(  # noqa: S310 - the local gateway on 127.0.0.1
        f"{stack.info.api_url}/webhooks/stripe",
        data=delivery.body,
        headers=delivery.headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 202:
        raise RuntimeError(f"the partial payment's webhook was answered {status}")
    if not stack.wait_until_drained(timeout=90):
        raise RuntimeError("queues did not drain after the partial payment")
    stack.functions[FUNCTION].invoke({"today": today.isoformat()})
    # The notification log names the SES message id of what notify sent for the reminder.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stack.wait_until_drained(timeout=30)
        sent_ids = {
            m.get("provider_message_id")
            for m in ledger.messages(invoice_number)
            if m.get("kind") == "invoice_reminder" and m.get("status") == "sent"
        }
        found = [e for e in sent_emails(stack.endpoint) if e.message_id in sent_ids]
        if found:
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{invoice_number}-reminder.eml"
            path.write_bytes(found[-1].raw)
            return path
        time.sleep(0.2)
    raise RuntimeError(f"no reminder email for {invoice_number}")
