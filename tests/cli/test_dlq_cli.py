"""``quittance dlq`` on small stacks in moto: a deployed stack's DLQs found through
CloudFormation (``--aws-stack``), the confirmation, ``--max``, a send or a delete that SQS
refuses (nothing is ever lost), a peek that walks past ten messages, and what a message
summary may show (ids, never personal data)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from typer.testing import CliRunner

from quittance_ops.cli import app
from quittance_ops.dead_letters import (
    BATCH,
    DeadLetterQueue,
    DeadLetters,
    Received,
    UnknownQueue,
    _chunks,
    describe_dead_letters,
    summarize,
)

REGION = "eu-west-3"
ATTRIBUTES = {"correlation_id": {"DataType": "String", "StringValue": "corr-1"}}
TEMPLATE = {
    "Resources": {
        "OrdersDLQ": {"Type": "AWS::SQS::Queue"},
        "OrdersQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["OrdersDLQ", "Arn"]},
                    "maxReceiveCount": 5,
                }
            },
        },
        # Like RemindersDLQ: a scheduler's DLQ, which no queue redrives into.
        "ScheduleDLQ": {"Type": "AWS::SQS::Queue"},
        "Alerts": {"Type": "AWS::SNS::Topic"},
    }
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "staff-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "staff-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


@pytest.fixture
def deployed(aws: Any) -> dict[str, str]:
    """A deployed stack: logical id → queue URL, as CloudFormation created them."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="quittance-prod", TemplateBody=json.dumps(TEMPLATE))
    summaries = cloudformation.list_stack_resources(StackName="quittance-prod")
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in summaries["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::SQS::Queue"
    }


def bodies(sqs: Any, url: str) -> list[str]:
    """Every message of ``url``, consumed (a long-enough hold so each is read once)."""
    found = []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        found += [m["Body"] for m in messages]
    return sorted(found)


def depth(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def fill(sqs: Any, url: str, count: int) -> list[str]:
    sent = [
        json.dumps({"correlation_id": f"corr-{i}", "invoice_number": f"F-{i}"})
        for i in range(count)
    ]
    for body in sent:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTES)
    return sorted(sent)


def run(*args: str, confirm: str | None = None) -> Any:
    return CliRunner().invoke(app, ["dlq", *args, "--aws-stack", "quittance-prod"], input=confirm)


# ------------------------------------------------------------------------- --aws-stack
def test_a_deployed_stacks_dlqs_are_found_through_cloudformation_and_redriven(
    aws: Any, deployed: dict[str, str]
) -> None:
    sent = fill(aws, deployed["OrdersDLQ"], 3)
    aws.send_message(QueueUrl=deployed["ScheduleDLQ"], MessageBody="{}")

    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {row["queue"]: row for row in json.loads(listed.output)}
    assert set(rows) == {"OrdersDLQ", "ScheduleDLQ"}  # queues ending in DLQ, nothing else
    assert (rows["OrdersDLQ"]["visible"], rows["OrdersDLQ"]["source"]) == (3, "OrdersQueue")
    assert rows["OrdersDLQ"]["url"] == deployed["OrdersDLQ"]
    assert (rows["ScheduleDLQ"]["source"], rows["ScheduleDLQ"]["redrive"]) == (None, False)

    redriven = run("redrive", "--yes", "--json")
    assert redriven.exit_code == 0, redriven.output
    result = json.loads(redriven.output)
    [report] = result["redriven"]
    assert (report["queue"], report["source"], report["moved"], report["left"]) == (
        "OrdersDLQ", "OrdersQueue", 3, 0,
    )  # fmt: skip
    assert "no source queue" in result["skipped"]["ScheduleDLQ"]
    assert bodies(aws, deployed["OrdersQueue"]) == sent
    assert depth(aws, deployed["OrdersDLQ"]) == (0, 0)
    assert depth(aws, deployed["ScheduleDLQ"]) == (1, 0)


def test_redrive_asks_first_and_no_moves_nothing(aws: Any, deployed: dict[str, str]) -> None:
    sent = fill(aws, deployed["OrdersDLQ"], 2)
    declined = run("redrive", "--queue", "orders", confirm="n\n")
    assert declined.exit_code == 1
    assert "Redrive OrdersDLQ → OrdersQueue (about 2 message(s))?" in declined.output
    assert "nothing moved" in declined.output
    assert depth(aws, deployed["OrdersDLQ"]) == (2, 0)

    accepted = run("redrive", "--queue", "orders", confirm="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert bodies(aws, deployed["OrdersQueue"]) == sent


def test_json_without_yes_is_refused_before_anything_is_contacted(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-stack.json"  # would fail loudly if it were read
    result = CliRunner().invoke(app, ["dlq", "redrive", "--json", "--stack", str(missing)])
    assert result.exit_code == 2
    assert "--yes" in result.output


def test_max_moves_at_most_that_many(aws: Any, deployed: dict[str, str]) -> None:
    fill(aws, deployed["OrdersDLQ"], 3)
    result = run("redrive", "--queue", "OrdersDLQ", "--max", "2", "--yes", "--json")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)["redriven"]
    assert (report["moved"], report["left"]) == (2, 1)
    assert len(bodies(aws, deployed["OrdersQueue"])) == 2


def test_a_dlq_without_source_and_an_unknown_queue_are_refused(
    aws: Any, deployed: dict[str, str]
) -> None:
    aws.send_message(QueueUrl=deployed["ScheduleDLQ"], MessageBody="{}")
    no_source = run("redrive", "--queue", "schedule", "--yes")
    assert no_source.exit_code == 2
    assert "ScheduleDLQ has no source queue" in no_source.output
    assert depth(aws, deployed["ScheduleDLQ"]) == (1, 0)

    unknown = run("show", "--queue", "orders-dlq-typo")
    assert unknown.exit_code == 2
    assert "OrdersDLQ (orders)" in unknown.output and "ScheduleDLQ (schedule)" in unknown.output


def test_an_unknown_aws_stack_is_named(aws: Any) -> None:
    result = CliRunner().invoke(app, ["dlq", "list", "--aws-stack", "no-such-stack"])
    assert result.exit_code == 2
    assert "no-such-stack" in result.output


# ------------------------------------------------------------------------- DeadLetters
@pytest.fixture
def orders(aws: Any) -> DeadLetters:
    dead = aws.create_queue(QueueName="orders-dlq")["QueueUrl"]
    arn = aws.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "5"})
    source = aws.create_queue(QueueName="orders", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return DeadLetters(aws, describe_dead_letters(aws, {"OrdersQueue": source, "OrdersDLQ": dead}))


def test_the_source_queue_is_found_through_its_redrive_policy(orders: DeadLetters) -> None:
    [queue] = orders.queues
    assert queue.name == "OrdersDLQ" and queue.alias == "orders"
    assert queue.source is not None and queue.source.name == "OrdersQueue"
    assert orders.select("ORDERS") == orders.select("ordersdlq") == [queue]
    with pytest.raises(UnknownQueue, match=r"OrdersDLQ \(orders\)"):
        orders.select("payments")


def test_an_entry_sqs_refuses_stays_in_the_dlq_and_the_others_move(
    aws: Any, orders: DeadLetters
) -> None:
    [queue] = orders.queues
    assert queue.source is not None
    sent = fill(aws, queue.url, 3)
    refused_body = sent[1]
    refused_ids: list[str] = []

    # SQS answers a batch entry by entry: this one it does not take (it is not sent), and
    # the answer names it under Failed, as SQS does.
    def leave_out(params: dict[str, Any], **_: Any) -> None:
        refused_ids[:] = [e["Id"] for e in params["Entries"] if e["MessageBody"] == refused_body]
        params["Entries"] = [e for e in params["Entries"] if e["MessageBody"] != refused_body]

    def name_failed(parsed: dict[str, Any], **_: Any) -> None:
        parsed.setdefault("Failed", []).extend(
            {"Id": i, "SenderFault": False, "Code": "InternalError"} for i in refused_ids
        )

    aws.meta.events.register("before-parameter-build.sqs.SendMessageBatch", leave_out)
    aws.meta.events.register("after-call.sqs.SendMessageBatch", name_failed)
    report = orders.redrive(queue)

    assert not report.ok and report.moved == 2
    assert list(report.failed_to_send.values()) == ["InternalError"]
    assert bodies(aws, queue.source.url) == [sent[0], sent[2]]
    assert depth(aws, queue.url) == (1, 0)  # left, and visible again at once
    assert bodies(aws, queue.url) == [refused_body]


def test_a_refused_delete_leaves_a_duplicate_never_a_loss(aws: Any, orders: DeadLetters) -> None:
    [queue] = orders.queues
    assert queue.source is not None
    sent = fill(aws, queue.url, 2)

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "DeleteMessageBatch")

    aws.meta.events.register("before-call.sqs.DeleteMessageBatch", refuse)
    report = orders.redrive(queue)

    assert not report.ok and report.moved == 0
    assert sorted(report.sent_not_deleted.values()) == ["AccessDenied", "AccessDenied"]
    assert bodies(aws, queue.source.url) == sent  # the copies were sent…
    assert depth(aws, queue.url) == (0, 2)  # …and the originals wait to be redriven again


def test_peek_walks_past_ten_messages_and_leaves_them_all_visible(
    aws: Any, orders: DeadLetters
) -> None:
    [queue] = orders.queues
    fill(aws, queue.url, BATCH + 3)
    peeked = orders.peek(queue, limit=50)
    assert len({m.message_id for m in peeked.messages}) == BATCH + 3
    assert peeked.still_hidden == 0
    assert depth(aws, queue.url) == (BATCH + 3, 0)
    assert len(orders.peek(queue, limit=4).messages) == 4


# ------------------------------------------------------------------------- pure parts
def test_a_summary_shows_ids_and_never_personal_data() -> None:
    body = {
        "correlation_id": "corr-9",
        "kind": "payment_confirmed",
        "customer_id": "C-0123456789abcdef0123",
        "invoice_number": "paul@example.com",  # an allowed field holding an email: masked
        "event": {
            "event_id": "evt_9",
            "type": "payment.succeeded",
            "customer": {"name": "Paul Durand", "email": "paul@example.com", "phone": "0612345678"},
        },
        "to": "paul@example.com",
    }
    summary = summarize(json.dumps(body), ATTRIBUTES)
    assert summary == {
        "attr.correlation_id": "corr-1",
        "correlation_id": "corr-9",
        "kind": "payment_confirmed",
        "invoice_number": "[email]",
        "event.event_id": "evt_9",
        "event.type": "payment.succeeded",
    }
    assert summarize("Paul Durand <paul@example.com>", {}) == {"body": "not JSON (30 bytes)"}


def test_an_ses_event_shows_its_type_not_its_recipients() -> None:
    ses_event = {
        "eventType": "Bounce",
        "mail": {"messageId": "0102-abc", "destination": ["paul@example.com"]},
        "bounce": {"bouncedRecipients": [{"emailAddress": "paul@example.com"}]},
    }
    envelope = {"Type": "Notification", "MessageId": "sns-1", "Message": json.dumps(ses_event)}
    summary = summarize(json.dumps(envelope), {})
    assert summary == {"ses.eventType": "Bounce", "ses.mail.messageId": "0102-abc"}


def test_send_batches_stay_under_the_size_limit() -> None:
    def message(size: int, n: int) -> Received:
        return Received(f"m{n}", f"h{n}", "x" * size, {}, {})

    messages = (
        [message(60, n) for n in range(4)]
        + [message(500, 4)]
        + [message(1, n) for n in range(5, 17)]
    )
    chunks = list(_chunks(messages, limit=200))
    assert [[m.message_id for m in chunk] for chunk in chunks] == [
        ["m0", "m1", "m2"], ["m3"], ["m4"],
        [f"m{n}" for n in range(5, 15)], ["m15", "m16"],
    ]  # fmt: skip


def test_aliases() -> None:
    assert DeadLetterQueue("PaymentEventsDLQ", "u").alias == "payment-events"
    assert DeadLetterQueue("EmailEventsDLQ", "u").alias == "email-events"
    assert DeadLetterQueue("RemindersDLQ", "u").alias == "reminders"


def test_a_refused_receive_stops_the_run_and_is_reported(aws: Any, orders: DeadLetters) -> None:
    [queue] = orders.queues
    fill(aws, queue.url, 2)

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "ReceiveMessage")

    aws.meta.events.register("before-call.sqs.ReceiveMessage", refuse)
    report = orders.redrive(queue)
    assert not report.ok
    assert (report.error, report.moved, report.left) == ("AccessDenied", 0, 2)
