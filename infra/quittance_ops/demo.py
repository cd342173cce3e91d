"""``quittance demo``: real signed webhooks through a fresh local stack, end to end.

Leaves the archived receipt PDFs, the sent emails (.eml) and SMS (.sms.txt) under
``out/demo/`` for a person to open, prints what happened, and fails loudly if any step did
not."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.errors import NotFound
from quittance.ledger.invoices import InvoiceRegistration, register_invoice
from quittance_ops.bank_demo import bank_scene
from quittance_ops.compliance_demo import compliance_scene
from quittance_ops.deliveries import Delivery, gocardless
from quittance_ops.deliveries.standard_webhooks import CUSTOMER as TRANSFER_CUSTOMER
from quittance_ops.deliveries.standard_webhooks import standard_sepa_transfer
from quittance_ops.deliveries.stripe import (
    stripe_charge_refunded,
    stripe_payment_failed,
    stripe_payment_intent_succeeded,
)
from quittance_ops.demo_messages import (
    message_kind_deliveries,
    partial_invoice_registration,
    prefer_both_channels,
    write_messages,
)
from quittance_ops.email_events import report_bounce
from quittance_ops.localstack.stack import LocalStack
from quittance_ops.privacy_demo import erasure_scene
from quittance_ops.reminders_cli import demo_reminder
from quittance_ops.seller_cli import set_profile
from quittance_ops.seller_publish import DEMO_PROFILE


@dataclass
class Scene:
    name: str
    delivery: Delivery
    expected_status: int
    invoice_number: str | None = None
    payment_id: str | None = None
    expect_receipt: bool = True
    expect_messages: int = 1
    """How many messages (one per channel) the customer gets about this scene's document, or
    about the invoice when the scene makes no document."""
    refund_id: str | None = None
    """Set for a refund: the document to find is its credit note."""
    gocardless_api: list[dict[str, Any]] = field(default_factory=list)
    """What GoCardless's API answers about this scene's payment (the lookup stage reads the
    payer there): recorded in the local gateway API before the delivery is posted."""
    expect_alerts: int = 0
    alerts: int = 0
    status: int = 0
    answer: dict[str, object] = field(default_factory=dict)
    invoice_status: str = "—"
    receipt_number: str = "—"
    message: str = "—"
    problems: list[str] = field(default_factory=list)


def post(url: str, delivery: Delivery) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - the local gateway on 127.0.0.1
        url, data=delivery.body, headers=delivery.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# The card customer's billing address: sealed in their profile, never in a log or in clear.
CARD_ADDRESS = {
    "line1": "12 rue des Lilas", "line2": None, "postal_code": "75011", "city": "Paris",
    "state": None, "country": "FR",
}  # fmt: skip


def _scenes(secrets: dict[str, str]) -> list[Scene]:
    card = stripe_payment_intent_succeeded(
        secret=secrets["stripe"],
        invoice_number="F-2026-0142",
        amount_minor=123456,
        address=CARD_ADDRESS,
    )
    card_payment = json.loads(card.body)["data"]["object"]["id"]
    forged = Delivery(card.provider, card.body.replace(b"123456", b"1"), card.headers, "forged")
    transfer = standard_sepa_transfer(
        secrets["standard"], invoice_number="F-2026-0143", amount_minor=48000
    )
    transfer_payment = json.loads(transfer.body)["data"]["payment_id"]
    debit_event = gocardless.payment_confirmed(invoice_number="F-2026-0144", amount_minor=8990)
    debit = gocardless.gocardless_batch(secrets["gocardless"], [debit_event])
    declined = stripe_payment_failed(
        secret=secrets["stripe"], invoice_number="F-2026-0145", amount_minor=2500
    )
    refund = stripe_charge_refunded(
        secret=secrets["stripe"],
        payment_id=card_payment,
        charged_minor=123456,
        refunded_minor=20000,
        invoice_number="F-2026-0142",
    )
    refund_id = json.loads(refund.body)["data"]["object"]["refunds"]["data"][0]["id"]
    second = stripe_payment_intent_succeeded(
        secret=secrets["stripe"], invoice_number="F-2026-0146", amount_minor=5900
    )
    double = stripe_payment_intent_succeeded(  # the same amount, charged a second later
        secret=secrets["stripe"],
        invoice_number="F-2026-0146",
        amount_minor=5900,
        timestamp=int(time.time()) + 1,
    )
    first_of_two = json.loads(second.body)["data"]["object"]["id"]
    double_payment = json.loads(double.body)["data"]["object"]["id"]
    kinds = message_kind_deliveries(secrets["stripe"])
    partial = kinds["partial_payment"]
    partial_payment = json.loads(partial.body)["data"]["object"]["id"]
    english = stripe_payment_intent_succeeded(
        secret=secrets["stripe"],
        invoice_number="F-2026-0149",
        amount_minor=7500,
        customer="cus_Q9englishReader",
        email="oliver.bennett@example.co.uk",
        name="Oliver Bennett",
        locale="en-GB",
        next_steps="Your binding will be ready for collection on Friday.",
    )
    english_payment = json.loads(english.body)["data"]["object"]["id"]
    return [
        Scene("card payment (Stripe)", card, 202, "F-2026-0142", card_payment),
        Scene("same event redelivered", card, 200, "F-2026-0142", card_payment),
        Scene("forged signature", forged, 401, expect_receipt=False, expect_messages=0),
        # This customer asked for email and SMS.
        Scene("SEPA transfer (Standard Webhooks)", transfer, 202, "F-2026-0143", transfer_payment,
              expect_messages=2),
        # GoCardless events carry no contact data: the lookup stage reads the payer from
        # GoCardless's API (payment → mandate → customer), who is told like any other.
        Scene(
            "SEPA direct debit (GoCardless)",
            debit,
            202,
            "F-2026-0144",
            str(debit_event["links"]["payment"]),
            gocardless_api=gocardless.api_objects(
                debit_event,
                amount_minor=8990,
                email="jeanne.roux@example.fr",
                given_name="Jeanne",
                family_name="Roux",
            ),
        ),
        Scene(
            "card declined (Stripe)",
            declined,
            202,
            "F-2026-0145",
            None,
            expect_receipt=False,
        ),
        Scene("partial refund → credit note", refund, 202, "F-2026-0142", card_payment,
              refund_id=refund_id),
        Scene("card payment (Stripe)", second, 202, "F-2026-0146", first_of_two),
        Scene("charged twice → anomaly", double, 202, "F-2026-0146", double_payment,
              expect_alerts=1),
        # F-2026-0147 is registered for 100,00 € before the scenes run.
        Scene("partial payment (60 of 100 €)", partial, 202, "F-2026-0147", partial_payment,
              expect_alerts=1),
        Scene("expired card → update link", kinds["payment_failed"], 202, "F-2026-0148", None,
              expect_receipt=False),
        # The French original is archived with an English copy beside it (R-….en.pdf).
        Scene("English reader → translated copy", english, 202, "F-2026-0149", english_payment),
    ]  # fmt: skip


def _send(stack: LocalStack, scenes: list[Scene]) -> None:
    """Each scene's delivery to the local gateway endpoint, its gateway's API answers first."""
    assert stack.info is not None
    for scene in scenes:
        if scene.gocardless_api and stack.gateway_api is not None:
            stack.gateway_api.api.add_gocardless(*scene.gocardless_api)
        url = f"{stack.info.api_url}/webhooks/{scene.delivery.provider}"
        scene.status, scene.answer = post(url, scene.delivery)
        if scene.status != scene.expected_status:
            scene.problems.append(f"HTTP {scene.status}, expected {scene.expected_status}")


def run_demo(root: Path, console: Console, out: Path | None = None) -> bool:
    out = out or root / "out" / "demo"
    shutil.rmtree(out, ignore_errors=True)
    (out / "receipts").mkdir(parents=True)
    (out / "emails").mkdir(parents=True)
    log_path = out / "function-logs.jsonl"
    with log_path.open("w") as logs, contextlib.redirect_stdout(logs), LocalStack(root) as stack:
        assert stack.info is not None
        console.print(f"[bold]local stack[/] API {stack.info.api_url}  AWS {stack.endpoint}")
        alerts_queue, profile_version = _subscribe_to_alerts(stack), _set_demo_seller(stack)
        ledger = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb"))
        customers = CustomersTable(stack.resource("CustomersTable"), stack.client("dynamodb"))
        register_invoice(
            "F-2026-0147",
            InvoiceRegistration.model_validate(partial_invoice_registration()),
            book=ledger,
            now=datetime.now(UTC),
        )
        # The SEPA transfer's customer wants email and SMS.
        prefer_both_channels(customers, "standard", str(TRANSFER_CUSTOMER["reference"]))
        scenes = _scenes(stack.info.webhook_secrets)
        _send(stack, scenes)
        if not stack.wait_until_drained(timeout=90):
            console.print("[red]queues did not drain within 90 s[/]")
            return False
        s3 = stack.client("s3")
        for scene in scenes:
            _inspect(scene, ledger, s3, out)
        _check_seller_version(scenes[0], ledger, profile_version)
        reminder = demo_reminder(stack, out / "emails")
        stack.wait_until_drained(timeout=60)
        alerts = _drain_alerts(stack, alerts_queue)
        (out / "ops-alerts.json").write_text(json.dumps(alerts, indent=2) + "\n")
        for scene in scenes:
            scene.alerts = sum(
                1 for a in alerts if a.get("payment_id") == scene.payment_id and not scene.refund_id
            )
            if scene.alerts != scene.expect_alerts:
                scene.problems.append(f"{scene.alerts} ops alerts, expected {scene.expect_alerts}")
        card = scenes[0]
        bounce = report_bounce(stack, "F-2026-0142", f"{card.receipt_number}:payment_confirmed")
        invoices = sorted({s.invoice_number for s in scenes if s.invoice_number})
        written = write_messages(stack.endpoint, ledger, invoices, out / "emails")
        _print(console, scenes, out, log_path)
        console.print(f"reminder: {reminder.name}")
        console.print(
            "the card customer's confirmation hard-bounces → delivery"
            f" {bounce['delivery_status']}, address suppressed:"
            f" {bool(bounce.get('email_suppressed'))}"
        )
        sms = sorted(p.name for p in written if p.suffix == ".txt")
        console.print(f"SMS written: {', '.join(sms) or 'none'}")
        # The card receipt goes to the compliance desk: found, verified, held, bundled.
        desk = compliance_scene(
            stack.out_dir / "stack.json", out, console, receipt_number=card.receipt_number
        )
        problems = [
            f"compliance: {name} not ok"
            for name in ("verify_ok", "audit_ok", "books_ok")
            if not desk[name]
        ]
        problems += bank_scene(stack, console, out)
        # Last: it erases the card customer, whose messages are counted above.
        problems += erasure_scene(stack, console, out)
        stack.wait_until_drained(timeout=60)
        snapshot(stack, out / "state")
        dlq = {k: v for k, v in stack.queue_depths().items() if k.endswith("DLQ") and v}
    # Said once more below the table, unwrapped: what failed, for a log or a CI summary.
    failures = [f"{scene.name}: {p}" for scene in scenes for p in scene.problems] + problems
    if dlq:
        failures.append(f"messages in dead-letter queues: {dlq}")
    for failure in failures:
        console.print(f"[red]failed[/] {failure}", soft_wrap=True)
    return not failures


def _set_demo_seller(stack: LocalStack) -> int:
    """The demo company, set the way a business sets its own (quittance seller set)."""
    return set_profile(DEMO_PROFILE, stack=stack.out_dir / "stack.json")


def _check_seller_version(scene: Scene, ledger: LedgerTable, version: int) -> None:
    """The receipt records the seller profile version it was issued under."""
    archive = ledger.receipt_item(scene.receipt_number).get("archive") or {}
    if archive.get("seller_profile_version") != version:
        scene.problems.append(
            f"receipt issued under seller profile {archive.get('seller_profile_version')},"
            f" expected {version}"
        )


def snapshot(stack: LocalStack, out: Path) -> None:
    """What the stack holds at the end: every table item (DynamoDB JSON, binary values in
    base64) and the current version of every archived object, for a person or a test to check
    retention and personal data against docs/privacy.md."""
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    assert stack.info is not None
    for logical, name in sorted(stack.info.resources.items()):
        if not logical.endswith("Table"):
            continue
        with (tables / f"{logical}.jsonl").open("w") as lines:
            for page in dynamodb.get_paginator("scan").paginate(TableName=name):
                for item in page["Items"]:
                    lines.write(json.dumps(item, default=_base64) + "\n")
    bucket = stack.resource("ArchiveBucket")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for listed in page.get("Contents", []):
            target = out / "archive" / listed["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read())


def _base64(value: object) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot write {type(value).__name__}")


def _inspect(scene: Scene, ledger: LedgerTable, s3: object, out: Path) -> None:
    if scene.invoice_number is not None:
        invoice = ledger.get_invoice(scene.invoice_number)
        scene.invoice_status = invoice.status.value if invoice else "kept in history"
    if scene.invoice_number is None:
        return
    document_number: str | None = None
    if scene.expect_receipt and scene.payment_id is not None:
        document_number = _archived_document(scene, ledger, s3, out)
        if document_number is None:
            return
    # What the ledger's notification log says was sent about this document (or, for a
    # scene without one, about the invoice).
    sent = [
        m
        for m in ledger.messages(scene.invoice_number)
        if m.get("receipt_number") == document_number and m.get("status") == "sent"
    ]
    channels: dict[str, list[str]] = {}
    for entry in sent:
        channels.setdefault(str(entry["kind"]), []).append(str(entry["sk"]).rsplit("#", 1)[1])
    scene.message = (
        ", ".join(f"{kind} ({' + '.join(sorted(c))})" for kind, c in channels.items())
        or "none (no contact)"
    )
    if len(sent) != scene.expect_messages:
        scene.problems.append(f"{len(sent)} messages sent, expected {scene.expect_messages}")


def _archived_document(scene: Scene, ledger: LedgerTable, s3: object, out: Path) -> str | None:
    """The scene's receipt or credit note, copied from the archive into ``out/receipts``."""
    assert scene.invoice_number is not None and scene.payment_id is not None
    record = ledger.load(scene.invoice_number)
    payment = (
        None
        if record is None
        else record.credit_note_for(scene.refund_id)
        if scene.refund_id
        else record.receipt_for(scene.payment_id)
    )
    if payment is None:
        scene.problems.append("no document in the ledger")
        return None
    scene.receipt_number = payment.receipt_number
    try:
        item = ledger.receipt_item(payment.receipt_number)
    except NotFound:
        scene.problems.append("receipt not recorded")
        return None
    archive = item.get("archive")
    if not archive:
        scene.problems.append("receipt not archived")
        return None
    for record_ in (archive, item.get("translation")):
        if not record_:
            continue
        body = s3.get_object(  # type: ignore[attr-defined]
            Bucket=ledger_bucket(s3), Key=record_["key"], VersionId=record_["version_id"]
        )["Body"].read()
        (out / "receipts" / record_["key"].rsplit("/", 1)[1]).write_bytes(body)
    return payment.receipt_number


def _subscribe_to_alerts(stack: LocalStack) -> str:
    """An SQS queue on the ops topic, standing for the on-call person who reads it."""
    sqs, sns = stack.client("sqs"), stack.client("sns")
    url = sqs.create_queue(QueueName="demo-ops-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=stack.resource("OpsAlertsTopic"),
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return str(url)


def _drain_alerts(stack: LocalStack, url: str) -> list[dict[str, object]]:
    sqs = stack.client("sqs")
    alerts: list[dict[str, object]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            alerts.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return alerts


def ledger_bucket(s3: object) -> str:
    buckets = s3.list_buckets()["Buckets"]  # type: ignore[attr-defined]
    return str(next(b["Name"] for b in buckets if "archivebucket" in b["Name"]))


def _print(console: Console, scenes: list[Scene], out: Path, log_path: Path) -> None:
    table = Table(title="quittance demo")
    for column in ("scene", "HTTP", "invoice", "document", "message", "ops alert", "result"):
        table.add_column(column)
    for scene in scenes:
        result = "[green]ok[/]" if not scene.problems else "[red]" + "; ".join(scene.problems)
        table.add_row(
            scene.name,
            str(scene.status),
            scene.invoice_status,
            scene.receipt_number,
            scene.message,
            str(scene.alerts) if scene.alerts else "—",
            result,
        )
    console.print(table)
    console.print(f"receipts: {out / 'receipts'}  emails: {out / 'emails'}  logs: {log_path}")
