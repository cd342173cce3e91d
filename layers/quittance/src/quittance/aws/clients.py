"""One way to build boto3 clients: standard retries, short timeouts, region from settings.

``AWS_ENDPOINT_URL`` (honoured by botocore itself) points every client at the local stack.
The overloads give each client its boto3-stubs type, so a call with a misspelt operation or
parameter fails the type check instead of the first invocation on AWS.

Each client still gets its own session (credentials, config and event hooks resolved as
before), but all of them share one botocore data loader, which keeps the service models and
the endpoint data it has parsed: a function that builds five clients at its cold start parsed
those JSON files five times over (measured with bench/cold.py: about half of the clients'
construction time; docs/performance.md)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=10,
)


_LOADER = botocore.loaders.create_loader()
_LOADER_LOCK = threading.Lock()


@overload
def make_client(service: Literal["dynamodb"], region: str) -> DynamoDBClient: ...
@overload
def make_client(service: Literal["kms"], region: str) -> KMSClient: ...
@overload
def make_client(service: Literal["s3"], region: str) -> S3Client: ...
@overload
def make_client(service: Literal["secretsmanager"], region: str) -> SecretsManagerClient: ...
@overload
def make_client(service: Literal["sesv2"], region: str) -> SESV2Client: ...
@overload
def make_client(service: Literal["sns"], region: str) -> SNSClient: ...
@overload
def make_client(service: Literal["sqs"], region: str) -> SQSClient: ...
@overload
def make_client(service: Literal["ssm"], region: str) -> SSMClient: ...
def make_client(service: str, region: str) -> Any:
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    with _LOADER_LOCK:
        session: Any = boto3.session.Session(botocore_session=core)
        # boto3 appends its own data directory to the loader's search path for every new
        # session: keep each directory once, or the shared loader's path grows per client.
        paths = _LOADER.search_paths
        paths[:] = list(dict.fromkeys(paths))
    return session.client(service, region_name=region, config=_CONFIG)
