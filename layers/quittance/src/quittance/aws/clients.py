"""One way to build boto3 clients: standard retries, short timeouts, region from settings.

``AWS_ENDPOINT_URL`` (honoured by botocore itself) points every client at the local stack.
The overloads give each client its boto3-stubs type, so a call with a misspelt operation or
parameter fails the type check instead of the first invocation on AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=10,
)


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
def make_client(service: str, region: str) -> Any:
    session: Any = boto3.session.Session()
    return session.client(service, region_name=region, config=_CONFIG)
