"""Handlers against in-process moto, with every resource created from template.yaml by the
same provisioner the local stack uses."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from quittance.clock import Clock
from quittance.settings import load
from quittance_ops.localstack.faults import FaultPlan, Injector
from quittance_ops.localstack.moto_fidelity import serialise_dynamodb
from quittance_ops.localstack.provision import Provisioned, Provisioner
from quittance_ops.localstack.runtime import LocalFunction
from quittance_ops.localstack.stack import LAYER_PATH_VARIABLES
from quittance_ops.localstack.template import load_template
from quittance_ops.seller_publish import demo_profile, publish

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-3"
ACCOUNT = "123456789012"


@dataclass
class MotoStack:
    provisioned: Provisioned
    functions: dict[str, LocalFunction]

    def resource(self, logical: str, attribute: str = "Ref") -> Any:
        return self.provisioned.attributes[logical][attribute]

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def use_clock(self, clock: Clock) -> None:
        """Every function of the stack reads ``clock`` from now on."""
        for function in self.functions.values():
            function.use_clock(clock)

    def queue_messages(self, logical: str) -> list[dict[str, Any]]:
        return (
            self.client("sqs")
            .receive_message(
                QueueUrl=self.resource(logical), MaxNumberOfMessages=10, VisibilityTimeout=0
            )
            .get("Messages", [])
        )


@pytest.fixture
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStack]:
    yield from _stack(monkeypatch, "prod")


@pytest.fixture
def dev_moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStack]:
    """The dev stage: GOVERNANCE locks of one day, no legal years (template StageSettings)."""
    yield from _stack(monkeypatch, "dev")


def _stack(monkeypatch: pytest.MonkeyPatch, stage: str) -> Iterator[MotoStack]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    serialise_dynamodb()
    with mock_aws():
        # One client per service for the whole provisioning (63 calls for a client otherwise,
        # each a new one: most of the fixture's set-up time).
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = boto3.client(service, region_name=REGION)
            return clients[service]

        provisioned = Provisioner(
            load_template(ROOT / "template.yaml"),
            {"Stage": stage, "PublicBaseUrl": "https://pay.example.com"},
            client,
            stack_name="it",
            region=REGION,
            account=ACCOUNT,
        ).provision()
        for spec in provisioned.functions.values():
            for name, value in spec.environment.items():
                if name not in LAYER_PATH_VARIABLES:
                    monkeypatch.setenv(name, value)
        # The demo company on the prod template, as the local stack runs it.
        monkeypatch.setenv("SELLER_DEMO_ALLOWED", "true")
        publish(
            demo_profile(),
            ssm=boto3.client("ssm", region_name=REGION),
            s3=boto3.client("s3", region_name=REGION),
            stage=stage,
            archive_bucket=provisioned.attributes["ArchiveBucket"]["Ref"],
        )
        load.cache_clear()
        functions = {
            logical: LocalFunction(spec, ROOT, REGION, ACCOUNT)
            for logical, spec in provisioned.functions.items()
        }
        yield MotoStack(provisioned, functions)
        load.cache_clear()


@pytest.fixture
def faults() -> Iterator[Callable[[FaultPlan], Injector]]:
    """Install a fault plan on the functions' AWS calls for the rest of the test."""
    installed: list[Injector] = []

    def install(plan: FaultPlan) -> Injector:
        injector = Injector(plan).install()
        installed.append(injector)
        return injector

    yield install
    for injector in installed:
        injector.uninstall()


def http_event(
    method: str,
    path: str,
    route: str,
    path_parameters: dict[str, str],
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as AWS sends it."""
    return {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "test",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "23/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795428000000,
        },
        "pathParameters": path_parameters,
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
    }


def answer(result: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return int(result["statusCode"]), json.loads(result["body"] or "{}")
