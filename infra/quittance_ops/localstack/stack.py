"""Start and stop the whole local stack; describe it in ``out/local/stack.json``."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from quittance_ops.gateway_api import RecordedApi, RecordedServer
from quittance_ops.localstack.faults import FaultPlan, Injector
from quittance_ops.localstack.gateway import LocalGateway
from quittance_ops.localstack.moto_fidelity import serialise_dynamodb
from quittance_ops.localstack.provision import Provisioned, Provisioner
from quittance_ops.localstack.pumps import QueuePump
from quittance_ops.localstack.runtime import LocalFunction
from quittance_ops.localstack.template import load_template
from quittance_ops.seller_publish import demo_profile, publish

log = logging.getLogger("quittance.local")

ACCOUNT = "123456789012"
REGION = "eu-west-3"
STACK_NAME = "quittance-local"
# Paths that describe Lambda's /opt layout for the weasyprint layer; on this machine the
# same libraries come from the system, so these are not applied to the local process.
LAYER_PATH_VARIABLES = frozenset({"LD_LIBRARY_PATH", "FONTCONFIG_PATH"})


POLLERS_PER_SOURCE = 1  # measured: 3 pollers were slower in one process (GIL, counter conflicts)


class EnvironmentConflict(RuntimeError):
    """Two functions want different values for one variable; in-process they share one."""


@dataclass(frozen=True)
class StackInfo:
    api_url: str
    moto_endpoint: str
    region: str
    resources: dict[str, str]
    webhook_secrets: dict[str, str]
    functions: dict[str, dict[str, Any]]
    not_enforced_locally: list[str]
    stage: str = "prod"
    gateway_api_url: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "moto_endpoint": self.moto_endpoint,
            "region": self.region,
            "credentials": {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
            "resources": self.resources,
            "webhook_secrets": self.webhook_secrets,
            "webhook_urls": {p: f"{self.api_url}/webhooks/{p}" for p in self.webhook_secrets},
            "functions": self.functions,
            "not_enforced_locally": self.not_enforced_locally,
            "stage": self.stage,
            # The gateways' API as the lookup stage reads it locally (recorded documented
            # responses; POST /_recorded to add objects): quittance_ops.gateway_api.
            "gateway_api_url": self.gateway_api_url,
        }


class LocalStack:
    def __init__(
        self,
        root: Path,
        out_dir: Path | None = None,
        stage: str = "prod",
        extra_webhook_secrets: dict[str, list[str]] | None = None,
        *,
        faults: FaultPlan | None = None,
        pollers_per_source: int = POLLERS_PER_SOURCE,
    ) -> None:
        """``pollers_per_source``: one by default (measured fastest in one process); more where
        invocations mostly wait (AWS faults and their retry back-offs), as Lambda scales its
        pollers out."""
        self.root = root
        self.pollers_per_source = pollers_per_source
        self.fault_plan = faults
        self.faults: Injector | None = None
        self.extra_webhook_secrets = extra_webhook_secrets or {}
        self.out_dir = out_dir or root / "out" / "local"
        self.stage = stage
        self.moto: ThreadedMotoServer | None = None
        self.gateway: LocalGateway | None = None
        self.gateway_api: RecordedServer | None = None
        self.pumps: list[QueuePump] = []
        self.functions: dict[str, LocalFunction] = {}
        self.provisioned: Provisioned | None = None
        self.info: StackInfo | None = None
        self.endpoint = ""
        self._clients: dict[str, Any] = {}
        self._environment_before: dict[str, str] | None = None
        self._clients_lock = threading.Lock()

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> StackInfo:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> StackInfo:
        # The stack points this process's AWS SDK at moto and sets its functions' variables;
        # stop() puts the environment back, so that nothing run afterwards in the same process
        # (a test, a tool) talks to a moto server that is gone.
        self._environment_before = dict(os.environ)
        serialise_dynamodb()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        self.gateway = LocalGateway(ACCOUNT, REGION, credentials={"testing": "testing"})
        template = load_template(self.root / "template.yaml")
        provisioner = Provisioner(
            template,
            {"Stage": self.stage, "PublicBaseUrl": self.gateway.url},
            self.client,
            stack_name=STACK_NAME,
            region=REGION,
            account=ACCOUNT,
        )
        self.provisioned = provisioner.provision()
        if self.extra_webhook_secrets:
            self._add_webhook_secrets()
        self._start_gateway_api()
        self._set_demo_seller()
        self._apply_environment()
        self._wire_functions()
        if self.fault_plan is not None:
            # Installed once the stack is built: provisioning itself never fails on purpose.
            self.faults = Injector(self.fault_plan).install()
        self.gateway.start()
        for pump in self.pumps:
            pump.start()
        self.info = self._describe()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Written whole or not at all: tools poll for this file to know the stack is up.
        partial = self.out_dir / "stack.json.partial"
        partial.write_text(json.dumps(self.info.as_json(), indent=2) + "\n")
        partial.replace(self.out_dir / "stack.json")
        return self.info

    def stop(self) -> None:
        # Every pump is told first so that their last long polls end together,
        # not one after another.
        for pump in self.pumps:
            pump.request_stop()
        for pump in self.pumps:
            pump.stop()
        self.pumps = []
        if self.gateway:
            self.gateway.stop()
            self.gateway = None
        if self.gateway_api is not None:
            self.gateway_api.stop()
            self.gateway_api = None
        if self.faults is not None:
            self.faults.uninstall()
        if self.moto:
            self.moto.stop()
            self.moto = None
        if self._environment_before is not None:
            os.environ.clear()
            os.environ.update(self._environment_before)
            self._environment_before = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- helpers
    def client(self, service: str) -> Any:
        """One client per service for the stack's own calls (provisioning, the pumps' wiring,
        queue depths). boto3 clients are thread-safe; building one costs a session and the
        parse of its service model and endpoint data, which made 65 clients about two thirds
        of the stack's start-up."""
        with self._clients_lock:
            client = self._clients.get(service)
            if client is None:
                session: Any = boto3.session.Session()
                client = session.client(
                    service,
                    region_name=REGION,
                    endpoint_url=self.endpoint,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",  # noqa: S106 - moto's documented dummy credentials
                    config=Config(retries={"mode": "standard", "max_attempts": 3}),
                )
                self._clients[service] = client
            return client

    def resource(self, logical_id: str, attribute: str = "Ref") -> Any:
        assert self.provisioned is not None
        return self.provisioned.attributes[logical_id][attribute]

    def _add_webhook_secrets(self) -> None:
        """Accept a gateway tool's own signing secret too (``stripe listen`` prints one)."""
        assert self.provisioned is not None
        secrets = self.client("secretsmanager")
        arn = self.resource("WebhookSecrets")
        current = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
        for provider, values in self.extra_webhook_secrets.items():
            current[provider] = [*current.get(provider, []), *values]
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(current))

    def _set_demo_seller(self) -> None:
        """The demo company's profile, set as ``quittance seller set`` sets one; allowed on
        this prod template because the stack is local (never so on AWS)."""
        os.environ["SELLER_DEMO_ALLOWED"] = "true"
        publish(
            demo_profile(),
            ssm=self.client("ssm"),
            s3=self.client("s3"),
            stage=self.stage,
            archive_bucket=self.resource("ArchiveBucket"),
        )

    def _start_gateway_api(self) -> None:
        """The lookup stage reads Stripe's and GoCardless's API from recorded responses on
        127.0.0.1, with the keys the GatewayApiKeys secret holds."""
        assert self.provisioned is not None
        self.gateway_api = RecordedServer(RecordedApi()).start()
        os.environ.update(
            {"STRIPE_API_BASE": self.gateway_api.url, "GOCARDLESS_API_BASE": self.gateway_api.url}
        )
        keys = {"stripe": self.gateway_api.api.stripe_key}
        keys["gocardless"] = self.gateway_api.api.gocardless_token
        self.client("secretsmanager").put_secret_value(
            SecretId=str(self.provisioned.attributes["GatewayApiKeys"]["Ref"]),
            SecretString=json.dumps(keys),
        )

    def _apply_environment(self) -> None:
        assert self.provisioned is not None
        merged: dict[str, tuple[str, str]] = {}
        for spec in self.provisioned.functions.values():
            for name, value in spec.environment.items():
                if name in LAYER_PATH_VARIABLES:
                    continue
                if name in merged and merged[name][1] != value:
                    raise EnvironmentConflict(
                        f"{name}: {merged[name][0]} and {spec.logical_id} disagree"
                    )
                merged[name] = (spec.logical_id, value)
        os.environ.update({name: value for name, (_, value) in merged.items()})

    def _wire_functions(self) -> None:
        assert self.provisioned is not None and self.gateway is not None
        arn_to_url = {
            attrs["Arn"]: attrs["QueueUrl"]
            for attrs in self.provisioned.attributes.values()
            if "QueueUrl" in attrs
        }
        sqs = self.client("sqs")
        for logical, spec in self.provisioned.functions.items():
            function = LocalFunction(spec, self.root, REGION, ACCOUNT)
            self.functions[logical] = function
            for method, path in spec.http_routes:
                iam = (method, path) in spec.iam_routes
                self.gateway.add_route(method, path, function, iam=iam)
            for source in spec.sqs_sources:
                # Lambda polls an SQS source with several pollers at once; so do we.
                self.pumps.extend(
                    QueuePump(
                        sqs=sqs,
                        queue_url=arn_to_url[source["queue_arn"]],
                        queue_arn=source["queue_arn"],
                        function=function,
                        batch_size=source["batch_size"],
                        report_failures=source["report_failures"],
                        region=REGION,
                    )
                    for _ in range(self.pollers_per_source)
                )

    def _describe(self) -> StackInfo:
        assert self.provisioned is not None and self.gateway is not None
        resources = {
            logical: str(attrs["Ref"])
            for logical, attrs in self.provisioned.attributes.items()
            if "Ref" in attrs
        }
        functions = {
            logical: {
                "routes": [f"{m} {p}" for m, p in spec.http_routes],
                "queues": [s["queue_arn"] for s in spec.sqs_sources],
            }
            for logical, spec in self.provisioned.functions.items()
        }
        return StackInfo(
            api_url=self.gateway.url,
            moto_endpoint=self.endpoint,
            region=REGION,
            resources=resources,
            webhook_secrets=dict(self.provisioned.webhook_secrets),
            functions=functions,
            not_enforced_locally=list(self.provisioned.not_enforced),
            stage=self.stage,
            gateway_api_url=self.gateway_api.url if self.gateway_api else "",
        )

    # ---------------------------------------------------------------- draining
    def queue_depths(self) -> dict[str, int]:
        sqs = self.client("sqs")
        depths = {}
        assert self.provisioned is not None
        for logical, attrs in self.provisioned.attributes.items():
            if "QueueUrl" not in attrs:
                continue
            values = sqs.get_queue_attributes(
                QueueUrl=attrs["QueueUrl"],
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            depths[logical] = int(values["ApproximateNumberOfMessages"]) + int(
                values["ApproximateNumberOfMessagesNotVisible"]
            )
        return depths

    def drained(self) -> bool:
        if any(pump.busy for pump in self.pumps):
            return False
        fed = {pump.queue_url for pump in self.pumps}
        sqs = self.client("sqs")
        for url in fed:
            values = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            if int(values["ApproximateNumberOfMessages"]) or int(
                values["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        return True

    def wait_until_drained(self, timeout: float = 60.0, interval: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        calm = 0
        while time.monotonic() < deadline:
            calm = calm + 1 if self.drained() else 0
            if calm >= 2:  # twice in a row: nothing was between two queues
                return True
            time.sleep(interval)
        return False
