"""The local stack's SQS pump behaves as Lambda's event source mapping does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from quittance_ops.localstack.provision import FunctionSpec
from quittance_ops.localstack.pumps import QueuePump
from quittance_ops.localstack.runtime import LocalFunction

HERE = Path(__file__).parent


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs", region_name="eu-west-3")


def make_pump(sqs: Any, batch_size: int, max_receive: int = 3) -> tuple[QueuePump, str, str]:
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue = sqs.create_queue(
        QueueName="work",
        Attributes={
            "VisibilityTimeout": "0",  # failed records come back at once, to keep tests fast
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}
            ),
        },
    )["QueueUrl"]
    spec = FunctionSpec(
        logical_id="Recorder",
        code_uri=str(HERE / "handlers" / "recorder"),
        handler="app.handler",
        timeout=10,
        memory=128,
        environment={},
    )
    function = LocalFunction(spec, Path("/"), "eu-west-3", "123456789012")
    pump = QueuePump(
        sqs=sqs,
        queue_url=queue,
        queue_arn="arn:aws:sqs:eu-west-3:123456789012:work",
        function=function,
        batch_size=batch_size,
        report_failures=True,
        region="eu-west-3",
        wait_seconds=0,
    )
    return pump, queue, dlq


def recorder_batches() -> list[list[str]]:
    import sys

    return sys.modules["quittance_fn_Recorder"].batches  # type: ignore[no-any-return]


def depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def test_batches_never_exceed_the_batch_size_and_successes_are_deleted(sqs: Any) -> None:
    pump, queue, dlq = make_pump(sqs, batch_size=4)
    for i in range(11):
        sqs.send_message(QueueUrl=queue, MessageBody=f"ok-{i}")
    while pump.poll_once():
        pass
    batches = recorder_batches()
    assert max(len(b) for b in batches) <= 4
    assert sorted(body for b in batches for body in b) == sorted(f"ok-{i}" for i in range(11))
    assert depth(sqs, queue) == 0 and depth(sqs, dlq) == 0


def test_reported_failures_stay_and_reach_the_dlq_after_max_receives(sqs: Any) -> None:
    pump, queue, dlq = make_pump(sqs, batch_size=10, max_receive=3)
    sqs.send_message(QueueUrl=queue, MessageBody="ok")
    sqs.send_message(QueueUrl=queue, MessageBody="fail")
    for _ in range(6):
        pump.poll_once()
    deliveries_of_fail = sum(b.count("fail") for b in recorder_batches())
    assert deliveries_of_fail == 3  # tried maxReceiveCount times, then redriven
    assert depth(sqs, queue) == 0
    [moved] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert moved["Body"] == "fail"
    assert pump.delivered == 1


def test_a_crashing_handler_leaves_the_whole_batch_on_the_queue(sqs: Any) -> None:
    pump, queue, _ = make_pump(sqs, batch_size=10, max_receive=5)
    sqs.send_message(QueueUrl=queue, MessageBody="crash")
    sqs.send_message(QueueUrl=queue, MessageBody="ok")
    assert pump.poll_once() == 0
    assert depth(sqs, queue) == 2
    assert pump.failed_records == 2
