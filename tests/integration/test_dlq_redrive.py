"""``quittance dlq`` against every queue of template.yaml in moto: a payment event that SQS
dead-letters after five receives is listed, shown without its customer's personal data and
without being consumed, redriven to PaymentEventsQueue with its body and attributes, and
when it fails again SQS puts it back in the DLQ, from where it is redriven again: nothing
is lost. RemindersDLQ has no source queue and is never redriven; a send that SQS refuses
leaves the message in its DLQ and exits 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quittance_ops.cli import app
from tests.integration.conftest import REGION, MotoStack

MAX_RECEIVE_COUNT = 5  # template.yaml: every source queue's RedrivePolicy
EVENT_ID = "evt_dlq_3PqR7"
INVOICE = "F-2026-0042"
EMAIL = "jeanne.martin@example.org"
PHONE = "+33612345678"
NAME = "Jeanne Martin"
ADDRESS = "3 rue des Lilas, 75011 Paris"
ATTRIBUTES = {"correlation_id": {"DataType": "String", "StringValue": "corr-dlq-1"}}


def payment_event(padding: int = 0) -> str:
    """A payment-events body that names its customer (the shape intake queues, contact
    details and all), so that what ``show`` prints can be checked for them."""
    return json.dumps(
        {
            "schema_version": 1,
            "correlation_id": "corr-dlq-1",
            "received_at": "2026-11-23T10:00:00Z",
            "event": {
                "event_id": EVENT_ID,
                "provider": "stripe",
                "type": "payment.succeeded",
                "occurred_at": "2026-11-23T09:59:58Z",
                "payment_id": "pi_3PqR7",
                "invoice_number": INVOICE,
                "amount": {"amount_minor": 48000, "currency": "EUR"},
                "method": {"type": "card"},
                "customer": {
                    "reference": "cus_NffrFeUfNV2Hib",
                    "name": NAME,
                    "email": EMAIL,
                    "phone": PHONE,
                    "address": ADDRESS,
                },
                "next_steps": "x" * padding,
            },
        }
    )


def fail_until_dead_lettered(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Fail the queue's only message the way a consumer does: receive it without deleting
    it. After maxReceiveCount receives, the next receive finds it gone: SQS moved it to the
    DLQ. Returns the messages received."""
    received = []
    for _ in range(MAX_RECEIVE_COUNT):
        [message] = sqs.receive_message(
            QueueUrl=queue_url,
            VisibilityTimeout=0,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )["Messages"]
        received.append(message)
    assert sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0).get("Messages", []) == []
    return received


def receive_counts(received: list[dict[str, Any]]) -> list[int]:
    return [int(m["Attributes"]["ApproximateReceiveCount"]) for m in received]


def depth(sqs: Any, queue_url: str) -> tuple[int, int]:
    """(visible, in flight)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


@pytest.fixture
def stack_json(moto_stack: MotoStack, tmp_path: Path) -> Path:
    """The stack.json of a local stack whose resources are moto_stack's. In-process moto
    answers AWS's own endpoint, so that stands where a running stack writes its moto
    server's URL."""
    path = tmp_path / "stack.json"
    resources = {
        logical: str(attributes["Ref"])
        for logical, attributes in moto_stack.provisioned.attributes.items()
        if "Ref" in attributes
    }
    path.write_text(
        json.dumps(
            {
                "moto_endpoint": f"https://sqs.{REGION}.amazonaws.com",
                "region": REGION,
                "credentials": {"aws_access_key_id": "testing", "aws_secret_access_key": "x"},
                "resources": resources,
            }
        )
    )
    return path


def dlq(stack_json: Path, *args: str, confirm: str | None = None) -> Any:
    return CliRunner().invoke(app, ["dlq", *args, "--stack", str(stack_json)], input=confirm)


def test_a_dead_lettered_payment_event_is_listed_shown_and_redriven_and_never_lost(
    moto_stack: MotoStack, stack_json: Path
) -> None:
    sqs = moto_stack.client("sqs")
    source, dead = (
        moto_stack.resource("PaymentEventsQueue"),
        moto_stack.resource("PaymentEventsDLQ"),
    )
    body = payment_event()
    sqs.send_message(QueueUrl=source, MessageBody=body, MessageAttributes=ATTRIBUTES)
    assert receive_counts(fail_until_dead_lettered(sqs, source)) == [1, 2, 3, 4, 5]
    assert depth(sqs, dead) == (1, 0)

    listed = dlq(stack_json, "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {row["queue"]: row for row in json.loads(listed.output)}
    assert set(rows) == {
        "PaymentEventsDLQ", "ReceiptJobsDLQ", "NotificationsDLQ", "EmailEventsDLQ", "RemindersDLQ",
        "GatewayLookupsDLQ", "BankStatementsDLQ",
    }  # fmt: skip
    assert rows["PaymentEventsDLQ"] | {"url": None} == {
        "queue": "PaymentEventsDLQ", "alias": "payment-events", "visible": 1, "in_flight": 0,
        "source": "PaymentEventsQueue", "sources": ["PaymentEventsQueue"], "redrive": True,
        "url": None,
    }  # fmt: skip
    assert rows["EmailEventsDLQ"]["source"] == "EmailEventsQueue"
    assert rows["RemindersDLQ"]["sources"] == [] and rows["RemindersDLQ"]["redrive"] is False
    table = dlq(stack_json, "list")
    assert table.exit_code == 0 and "PaymentEventsQueue" in table.output

    for as_json in ([], ["--json"]):
        shown = dlq(stack_json, "show", "--queue", "payment-events", *as_json)
        assert shown.exit_code == 0, shown.output
        assert EVENT_ID in shown.output and INVOICE in shown.output
        for personal in (EMAIL, "jeanne", "Martin", PHONE, "612345678", "Lilas", "cus_Nffr"):
            assert personal not in shown.output
        assert depth(sqs, dead) == (1, 0)  # peeked, not consumed, and visible again at once
    [peeked] = json.loads(shown.output)[0]["messages"]
    assert peeked["summary"] == {
        "correlation_id": "corr-dlq-1",
        "event.event_id": EVENT_ID,
        "event.provider": "stripe",
        "event.type": "payment.succeeded",
        "event.invoice_number": INVOICE,
    }
    assert peeked["receive_count"] > MAX_RECEIVE_COUNT

    redriven = dlq(stack_json, "redrive", "--queue", "PaymentEventsDLQ", "--yes", "--json")
    assert redriven.exit_code == 0, redriven.output
    [report] = json.loads(redriven.output)["redriven"]
    assert (report["moved"], report["failed_to_send"], report["left"]) == (1, {}, 0)
    assert depth(sqs, dead) == (0, 0) and depth(sqs, source) == (1, 0)

    # It fails again: a new message of the source queue, same body and attributes, with
    # five receives of its own before the source's redrive policy puts it back in the DLQ.
    again = fail_until_dead_lettered(sqs, source)
    assert receive_counts(again) == [1, 2, 3, 4, 5]
    assert again[0]["Body"] == body and again[0]["MessageAttributes"] == ATTRIBUTES
    assert depth(sqs, dead) == (1, 0)

    redriven = dlq(stack_json, "redrive", "--queue", "payment-events", "--yes", "--json")
    assert redriven.exit_code == 0, redriven.output
    assert json.loads(redriven.output)["redriven"][0]["moved"] == 1
    assert depth(sqs, dead) == (0, 0)
    [back] = sqs.receive_message(QueueUrl=source, MessageAttributeNames=["All"])["Messages"]
    assert back["Body"] == body and back["MessageAttributes"] == ATTRIBUTES


def test_reminders_dlq_is_listed_but_never_redriven(
    moto_stack: MotoStack, stack_json: Path
) -> None:
    sqs = moto_stack.client("sqs")
    reminders = moto_stack.resource("RemindersDLQ")
    sqs.send_message(QueueUrl=reminders, MessageBody="{}")

    refused = dlq(stack_json, "redrive", "--queue", "RemindersDLQ", "--yes")
    assert refused.exit_code == 2
    assert "no source queue" in refused.output and "quittance local remind" in refused.output

    everything = dlq(stack_json, "redrive", "--yes", "--json")
    assert everything.exit_code == 0, everything.output
    result = json.loads(everything.output)
    assert "RemindersDLQ" in result["skipped"]
    assert {r["queue"] for r in result["redriven"]} == {
        "PaymentEventsDLQ", "ReceiptJobsDLQ", "NotificationsDLQ", "EmailEventsDLQ",
        "GatewayLookupsDLQ", "BankStatementsDLQ",
    }  # fmt: skip
    assert depth(sqs, reminders) == (1, 0)


def test_a_send_the_source_refuses_leaves_the_message_in_its_dlq_and_exits_1(
    moto_stack: MotoStack, stack_json: Path
) -> None:
    sqs = moto_stack.client("sqs")
    source, dead = (
        moto_stack.resource("PaymentEventsQueue"),
        moto_stack.resource("PaymentEventsDLQ"),
    )
    body = payment_event(padding=2000)
    sqs.send_message(QueueUrl=source, MessageBody=body, MessageAttributes=ATTRIBUTES)
    fail_until_dead_lettered(sqs, source)
    # The source queue now takes nothing this big: SQS refuses the copy.
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"MaximumMessageSize": "1024"})

    refused = dlq(stack_json, "redrive", "--queue", "payment-events", "--yes")
    assert refused.exit_code == 1, refused.output
    assert "not sent" in refused.output and "still in the DLQ" in refused.output
    assert depth(sqs, dead) == (1, 0) and depth(sqs, source) == (0, 0)

    sqs.set_queue_attributes(QueueUrl=source, Attributes={"MaximumMessageSize": "262144"})
    redriven = dlq(stack_json, "redrive", "--queue", "payment-events", "--yes")
    assert redriven.exit_code == 0, redriven.output
    assert depth(sqs, dead) == (0, 0)
    [back] = sqs.receive_message(QueueUrl=source)["Messages"]
    assert back["Body"] == body


def test_an_unknown_queue_is_named_with_the_valid_ones(
    moto_stack: MotoStack, stack_json: Path
) -> None:
    result = dlq(stack_json, "show", "--queue", "payments")
    assert result.exit_code == 2
    assert "PaymentEventsDLQ" in result.output and "payment-events" in result.output
