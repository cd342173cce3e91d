"""One way to build boto3 clients: standard retries, short timeouts, region from settings.

``AWS_ENDPOINT_URL`` (honoured by botocore itself) points every client at the local stack."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=10,
)


def make_client(service: str, region: str) -> Any:
    session: Any = boto3.session.Session()
    return session.client(service, region_name=region, config=_CONFIG)
