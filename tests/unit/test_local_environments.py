"""The local stack runs a function as Lambda does: never two invocations at once in one
execution environment (each its own import of the handler module), a new environment when
all are busy, up to a limit, past which an invocation waits."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from quittance_ops.localstack.provision import FunctionSpec
from quittance_ops.localstack.runtime import LocalFunction

# Module-level state, as Powertools' batch processor and HTTP resolver keep theirs.
HANDLER = """
import threading
import time

current = None


def handler(event, context):
    global current
    if current is not None:
        raise AssertionError("two invocations in one environment")
    current = event["n"]
    time.sleep(0.05)
    seen, current = current, None
    return {"n": seen, "environment": __name__, "thread": threading.get_ident()}
"""


# An effect done once per key through the same Powertools idempotency the consumers use.
ONCE_HANDLER = """
import boto3
import env_test_gate as gate
from quittance.aws.idempotency import consumer_config, once_per_key

config = consumer_config("n")


def _effect(*, payload):
    gate.effects.append(payload["n"])
    gate.entered.set()
    gate.release.wait(10)
    return {"done": payload["n"]}


def handler(event, context):
    config.register_lambda_context(context)
    once = once_per_key(
        _effect,
        data_keyword="payload",
        config=config,
        table="idempotency",
        client=boto3.client("dynamodb", region_name="eu-west-3"),
        operation="test.effect",
    )
    try:
        return once(payload=event)
    except Exception as refused:
        return {"refused": type(refused).__name__}
"""


def _function(tmp_path: Path, handler: str = HANDLER, **kw: int) -> LocalFunction:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(handler)
    spec = FunctionSpec(
        logical_id="EnvTestFunction",
        code_uri="fn",
        handler="app.handler",
        timeout=10,
        memory=128,
        environment={},
    )
    return LocalFunction(spec, tmp_path, "eu-west-3", "123456789012", **kw)


def test_concurrent_invocations_each_get_an_environment_of_their_own(tmp_path: Path) -> None:
    function = _function(tmp_path)
    start = threading.Barrier(6)

    def call(n: int) -> dict[str, object]:
        start.wait()
        return dict(function.invoke({"n": n}))

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(call, range(6)))
    # Each invocation saw its own event: none was mixed with another's
    assert [a["n"] for a in answers] == list(range(6))
    assert function.errors == 0
    assert 2 <= function.environments <= 6
    assert len({a["environment"] for a in answers}) == function.environments


def test_past_the_limit_an_invocation_waits_for_a_free_environment(tmp_path: Path) -> None:
    function = _function(tmp_path, max_environments=2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: function.invoke({"n": n}), range(12)))
    assert [a["n"] for a in answers] == list(range(12))
    assert function.environments == 2
    assert function.invocations == 12 and function.errors == 0


@pytest.fixture
def idempotency_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    gate = types.ModuleType("env_test_gate")
    gate.effects = []  # type: ignore[attr-defined]
    gate.entered = threading.Event()  # type: ignore[attr-defined]
    gate.release = threading.Event()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "env_test_gate", gate)
    with mock_aws():
        boto3.client("dynamodb", region_name="eu-west-3").create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield gate


def test_environments_share_idempotency_records_as_lambda_environments_do(
    tmp_path: Path, idempotency_table: types.ModuleType
) -> None:
    # Given one environment in the middle of the effect for key 1 (an SQS message whose
    # visibility ran out while its first delivery is still being processed)
    gate = idempotency_table
    function = _function(tmp_path, ONCE_HANDLER)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(function.invoke, {"n": 1})
        assert gate.entered.wait(10)
        # When the same message reaches a second environment
        second = function.invoke({"n": 1})
        gate.release.set()
        # Then the second is told it is in progress there, and the effect happened once
        assert second == {"refused": "IdempotencyAlreadyInProgressError"}
        assert first.result() == {"done": 1}
    assert function.environments == 2
    assert gate.effects == [1]


# A webhook endpoint as intake's: a Powertools HTTP resolver reading the request it serves.
RESOLVER_HANDLER = """
import resolver_test_gate as gate
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

app = APIGatewayHttpResolver()


@app.post("/hooks/<name>")
def hook(name):
    gate.both_inside.wait(timeout=5)
    return {"name": name, "body": app.current_event.body}


def handler(event, context):
    return app.resolve(event, context)
"""


def _http_event(name: str) -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "POST /hooks/{name}",
        "rawPath": f"/hooks/{name}",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": f"/hooks/{name}", "sourceIp": "127.0.0.1"},
            "stage": "$default",
            "requestId": name,
        },
        "body": f"body of {name}",
        "isBase64Encoded": False,
    }


def test_two_requests_served_at_once_each_read_their_own_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an HTTP function whose two environments serve a request each at the same time
    # (Powertools keeps the current request on a class, shared by the whole process)
    gate = types.ModuleType("resolver_test_gate")
    gate.both_inside = threading.Barrier(2)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, gate.__name__, gate)
    function = _function(tmp_path, RESOLVER_HANDLER)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda n: function.invoke(_http_event(n)), ["a", "b"]))
    # Then each route answered from its own request, as two Lambda processes would
    assert function.environments == 2
    assert [a["body"] for a in answers] == [
        '{"name":"a","body":"body of a"}',
        '{"name":"b","body":"body of b"}',
    ]
