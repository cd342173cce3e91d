"""The fault plan fails AWS calls the ways AWS fails them, only inside functions, reproducibly,
and the project's clients (standard retries, four attempts) see what they would see on AWS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from quittance_ops.localstack.faults import (
    FaultPlan,
    InjectedCrash,
    Injector,
    function_scope,
)

REGION = "eu-west-3"
BUCKET = "quittance-faults"
# The project's clients (quittance.aws.clients): botocore's max_attempts counts the retries,
# so a call is tried four times in all.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 3})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION, config=RETRIES)
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3 = boto3.client("s3", region_name=REGION, config=RETRIES)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield {"dynamodb": dynamodb, "s3": s3}


def _put(dynamodb: Any, pk: str) -> None:
    dynamodb.put_item(TableName="t", Item={"pk": {"S": pk}})


def _exists(dynamodb: Any, pk: str) -> bool:
    return "Item" in dynamodb.get_item(TableName="t", Key={"pk": {"S": pk}})


def test_a_timeout_after_the_write_leaves_the_write_done(aws: dict[str, Any]) -> None:
    # Given every PutItem attempt answered by a timeout once DynamoDB has applied it
    plan = FaultPlan(rules={"dynamodb.PutItem": 1.0}, kinds=("timeout_after",))
    # When a function writes / Then it sees a timeout after its four attempts
    with (
        Injector(plan) as injector,
        function_scope("LedgerFunction"),
        pytest.raises(ReadTimeoutError),
    ):
        _put(aws["dynamodb"], "written")
    # and yet the item is there, as on AWS when only the answer was lost
    assert _exists(aws["dynamodb"], "written")
    assert injector.stats.as_json()["injected"] == {"dynamodb": {"timeout_after": 4}}
    assert injector.stats.as_json()["retries"] == 3


def test_a_timeout_before_the_write_leaves_nothing(aws: dict[str, Any]) -> None:
    plan = FaultPlan(rules={"dynamodb.PutItem": 1.0}, kinds=("timeout_before",))
    with Injector(plan), function_scope("LedgerFunction"), pytest.raises(ReadTimeoutError):
        _put(aws["dynamodb"], "never")
    assert not _exists(aws["dynamodb"], "never")


def test_throttling_speaks_each_services_own_code_and_is_retried(aws: dict[str, Any]) -> None:
    plan = FaultPlan(rate=1.0, kinds=("throttle",))
    with Injector(plan) as injector, function_scope("ReceiptsFunction"):
        with pytest.raises(ClientError) as s3_refused:
            aws["s3"].put_object(Bucket=BUCKET, Key="k", Body=b"x")
        with pytest.raises(ClientError) as dynamodb_refused:
            _exists(aws["dynamodb"], "k")
    assert s3_refused.value.response["Error"]["Code"] == "SlowDown"
    assert dynamodb_refused.value.response["Error"]["Code"] == "ThrottlingException"
    assert injector.stats.attempts == {"s3": 4, "dynamodb": 4}
    assert injector.stats.calls == {"s3": 1, "dynamodb": 1}


def test_a_server_error_is_a_500_the_client_retries(aws: dict[str, Any]) -> None:
    plan = FaultPlan(rate=1.0, kinds=("server_error",))
    with Injector(plan), function_scope("NotifyFunction"), pytest.raises(ClientError) as refused:
        _put(aws["dynamodb"], "k")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert refused.value.response["Error"]["Code"] == "InternalError"


def test_calls_outside_a_function_are_never_faulted(aws: dict[str, Any]) -> None:
    # Given a plan that fails everything
    with Injector(FaultPlan(rate=1.0, crash_rate=1.0)) as injector:
        # When the test itself (a pump, the provisioner) calls AWS / Then nothing fails
        _put(aws["dynamodb"], "outside")
    assert _exists(aws["dynamodb"], "outside")
    assert sum(injector.stats.attempts.values()) == 0


def test_the_most_specific_rule_wins(aws: dict[str, Any]) -> None:
    plan = FaultPlan(rate=1.0, rules={"dynamodb": 1.0, "dynamodb.GetItem": 0.0})
    with Injector(plan), function_scope("LinksFunction"):
        assert not _exists(aws["dynamodb"], "k")  # GetItem spared
        with pytest.raises((ClientError, ReadTimeoutError)):
            _put(aws["dynamodb"], "k")


def test_a_crash_point_fires_after_the_side_effect_and_never_after_a_read(
    aws: dict[str, Any],
) -> None:
    with Injector(FaultPlan(crash_rate=1.0)) as injector, function_scope("ReceiptsFunction"):
        with pytest.raises(
            InjectedCrash, match=r"ReceiptsFunction crashed right after s3\.PutObject"
        ):
            aws["s3"].put_object(Bucket=BUCKET, Key="k", Body=b"x")
        assert aws["s3"].get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"  # it happened
    assert injector.stats.as_json()["crashes"] == {"ReceiptsFunction": {"s3.PutObject": 1}}


def test_the_same_seed_fails_the_same_attempts(aws: dict[str, Any]) -> None:
    def run(seed: int) -> list[str | None]:
        injector = Injector(FaultPlan(rate=0.3, seed=seed))
        return [injector.fault_for("dynamodb", "PutItem") for _ in range(200)]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    # about the share asked for, every kind drawn
    failed = [kind for kind in first if kind]
    assert 40 <= len(failed) <= 80
    assert set(failed) == {"throttle", "server_error", "timeout_before", "timeout_after"}


def test_a_plan_refuses_shares_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan(rate=1.5)
    with pytest.raises(ValueError, match="SERVICE"):
        FaultPlan.parse_rules(["=0.5"])
    with pytest.raises(ValueError, match="fault kinds"):
        FaultPlan(kinds=("gremlins",))
