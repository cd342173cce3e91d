"""The demo's erasure scene, for the lead to call from quittance_ops.demo.run_demo after the
other scenes have drained:

    from quittance_ops.privacy_demo import erasure_scene
    problems = erasure_scene(stack, console, out)

It erases the demo's Stripe card customer through the staff API (SigV4, as staff would),
prints what was erased and what was kept with the legal basis, writes the answer to
``out/privacy-erasure.json``, then posts a new payment for the same customer and shows that it
gets a receipt number and an archived receipt but no message. Returns the problems found
(empty when the scene behaved)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console

from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.service import pseudonymous_customer_id
from quittance_ops.admin_client import AdminClient
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.localstack.stack import LocalStack
from quittance_ops.privacy_cli import erasure_tables

DEMO_CUSTOMER = "cus_NffrFeUfNV2Hib"  # the demo's Stripe card payer (Camille Durand)
AFTER_ERASURE_INVOICE = "F-2026-0190"


def _post(url: str, delivery: Delivery) -> int:
    request = urllib.request.Request(  # noqa: S310 - the local gateway on 127.0.0.1
        url, data=delivery.body, headers=delivery.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def erasure_scene(stack: LocalStack, console: Console, out: Path) -> list[str]:
    assert stack.info is not None
    problems: list[str] = []
    customer_id = pseudonymous_customer_id("stripe", DEMO_CUSTOMER)
    admin = AdminClient.for_local_stack(stack.out_dir / "stack.json")
    status, report = admin.call("DELETE", f"/admin/customers/{customer_id}")
    if status != 200:
        return [f"erasure answered {status}: {report}"]
    (out / "privacy-erasure.json").write_text(json.dumps(report, indent=2) + "\n")
    console.rule(f"[bold]erasure[/] of {customer_id} (GDPR art. 17)")
    for table in erasure_tables(report):
        console.print(table)
    status, again = admin.call("DELETE", f"/admin/customers/{customer_id}")
    if status != 200 or not again.get("already_erased") or again.get("erased"):
        problems.append("a second erasure was not a no-op")

    # The same customer pays again: the books count it, nobody is told.
    delivery = stripe_payment_intent_succeeded(
        secret=stack.info.webhook_secrets["stripe"],
        invoice_number=AFTER_ERASURE_INVOICE,
        amount_minor=4900,
        customer=DEMO_CUSTOMER,
    )
    posted = _post(f"{stack.info.api_url}/webhooks/stripe", delivery)
    if posted != 202:
        problems.append(f"payment after erasure answered {posted}")
    if not stack.wait_until_drained(timeout=90):
        return [*problems, "queues did not drain after the erasure scene"]
    ledger = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
    record = ledger.load(AFTER_ERASURE_INVOICE)
    receipts = [d for d in (record.documents if record else ()) if d.kind == "receipt"]
    messages: list[dict[str, Any]] = ledger.messages(AFTER_ERASURE_INVOICE)
    sent = [m for m in messages if m.get("status") == "sent"]
    archived = bool(receipts) and bool(
        ledger.receipt_item(receipts[0].receipt_number).get("archive")
    )
    number = receipts[0].receipt_number if receipts else "—"
    console.print(
        f"payment after erasure: receipt [bold]{number}[/] "
        f"({'archived' if archived else 'NOT archived'}), messages sent: {len(sent)}"
    )
    if not receipts or not archived:
        problems.append("the payment after erasure got no archived receipt")
    if sent:
        problems.append("an erased customer was messaged")
    return problems
