"""SigV4 for the local gateway's IAM-authorised routes, checked as API Gateway checks it:
recompute the signature with botocore's own signer from the request and the local stack's
credentials, compare in constant time, and refuse with 403 otherwise."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;\-]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
MAX_SKEW = timedelta(minutes=15)


@dataclass(frozen=True)
class Caller:
    access_key: str
    account_id: str
    user_arn: str


class Refused(Exception):
    pass


def verify(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    credentials: dict[str, str],
    account_id: str,
    region: str,
    now: datetime | None = None,
) -> Caller:
    """``headers`` lower-cased. Raises Refused with the reason API Gateway would log."""
    found = _AUTHORIZATION.match(headers.get("authorization", ""))
    if not found:
        raise Refused("missing or malformed Authorization")
    if found["service"] != "execute-api" or found["region"] != region:
        raise Refused("credential scope is not execute-api in this region")
    secret = credentials.get(found["key"])
    if secret is None:
        raise Refused("unknown access key")
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise Refused("missing or malformed X-Amz-Date") from None
    if abs((now or datetime.now(UTC)) - signed_at) > MAX_SKEW:
        raise Refused("signature expired")
    signed = found["signed"].split(";")
    if "host" not in signed or any(name not in headers for name in signed):
        raise Refused("a signed header is missing")
    request = AWSRequest(
        method=method, url=url, data=body, headers={name: headers[name] for name in signed}
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(
        Credentials(found["key"], secret, headers.get("x-amz-security-token")),
        "execute-api",
        region,
    )
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    if not hmac.compare_digest(expected, found["signature"]):
        raise Refused("signature does not match")
    return Caller(
        access_key=found["key"],
        account_id=account_id,
        user_arn=f"arn:aws:iam::{account_id}:user/local-{found['key']}",
    )


def sign(
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    key: str,
    secret: str,
    region: str,
) -> dict[str, str]:
    """Headers that sign a request for an IAM-authorised route (the CLI and tests use it)."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), "execute-api", region).add_auth(request)
    return dict(request.headers.items())
