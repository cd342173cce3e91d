"""The local stack's meter counts the AWS calls a function makes, and only a function's, with the
bytes priced by size and the moment each mail was handed to SES; and each invocation's queue
wait from the records' SentTimestamp."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from quittance_ops.localstack.faults import function_scope
from quittance_ops.localstack.meter import Meter, dynamodb_units, item_bytes

REGION = "eu-west-3"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(
            Bucket="meter-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        ses = boto3.client("sesv2", region_name=REGION)
        ses.create_email_identity(EmailIdentity="shop@example.com")
        yield {"s3": s3, "sesv2": ses}


def test_only_calls_made_inside_a_function_are_counted(aws: dict[str, Any]) -> None:
    with Meter() as meter:
        aws["s3"].put_object(Bucket="meter-bucket", Key="outside", Body=b"x" * 10)
        with function_scope("ReceiptsFunction"):
            aws["s3"].put_object(Bucket="meter-bucket", Key="inside", Body=b"y" * 1234)
            aws["s3"].head_object(Bucket="meter-bucket", Key="inside")
    counts = meter.call_counts()
    assert counts == {
        ("ReceiptsFunction", "s3", "PutObject"): 1,
        ("ReceiptsFunction", "s3", "HeadObject"): 1,
    }
    put = next(c for c in meter.calls if c.operation == "PutObject")
    assert put.payload_bytes == 1234
    assert put.ok and put.seconds > 0


def test_a_failed_call_is_counted_as_failed(aws: dict[str, Any]) -> None:
    with Meter() as meter, function_scope("NotifyFunction"), pytest.raises(ClientError):
        aws["s3"].head_object(Bucket="meter-bucket", Key="missing")
    assert [c.ok for c in meter.calls] == [False]


def test_the_mail_handed_to_ses_is_recorded_with_its_recipient(aws: dict[str, Any]) -> None:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "Payer Seven <Payer7@Example.com>"
    message["Subject"] = "Reçu"
    message.set_content("merci")
    before = time.time()
    with Meter() as meter, function_scope("NotifyFunction"):
        aws["sesv2"].send_email(Content={"Raw": {"Data": message.as_bytes()}})
    assert [e.to for e in meter.emails] == ["payer7@example.com"]
    assert before <= meter.emails[0].at <= time.time()


def test_an_invocation_records_how_long_each_record_waited_in_its_queue() -> None:
    meter = Meter()
    sent = int((time.time() - 2.5) * 1000)
    event = {"Records": [{"attributes": {"SentTimestamp": str(sent)}}, {"attributes": {}}]}
    meter.on_invocation("LedgerFunction", event, started=sent / 1000 + 2.5, seconds=0.1, ok=True)
    (invocation,) = meter.invocations
    assert invocation.records == 2
    assert invocation.queue_waits == pytest.approx((2.5,), abs=0.01)


def test_a_meter_is_uninstalled_on_exit(aws: dict[str, Any]) -> None:
    with Meter() as meter:
        pass
    with function_scope("IntakeFunction"):
        aws["s3"].put_object(Bucket="meter-bucket", Key="later", Body=b"z")
    assert meter.calls == []


def test_dynamodb_request_units_follow_item_size_and_transactions() -> None:
    small = {"pk": {"S": "INV#1"}, "data": {"S": "x" * 100}}
    large = {"pk": {"S": "INV#2"}, "data": {"S": "x" * 2500}}
    # A write is one unit per KB started; a transaction pays each of its items twice.
    assert dynamodb_units("PutItem", {"Item": small}, {}) == (0.0, 1.0)
    assert dynamodb_units("PutItem", {"Item": large}, {}) == (0.0, 3.0)
    two = {"TransactItems": [{"Put": {"Item": small}}, {"Put": {"Item": large}}]}
    assert dynamodb_units("TransactWriteItems", two, {}) == (0.0, 8.0)
    # A read is one unit per 4 KB strongly consistent, half of it eventually consistent.
    assert dynamodb_units("GetItem", {"ConsistentRead": True}, {"Item": large}) == (1.0, 0.0)
    assert dynamodb_units("GetItem", {}, {"Item": small}) == (0.5, 0.0)
    assert dynamodb_units("Query", {}, {"Items": [large, large]}) == (1.0, 0.0)
    assert item_bytes(small) == len("pk") + 5 + len("data") + 100
