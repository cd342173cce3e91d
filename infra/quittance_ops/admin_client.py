"""The staff API, called as staff call it: SigV4-signed HTTPS to API Gateway (or plain HTTP
to the local gateway on this machine). The only staff-API client of the CLI, for the local
stack and for a deployed one alike.

The CLI never touches the tables: every access goes through the same checks as the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from quittance_ops.target import Target, local_target

# Signed calls carry a credential scope: https to AWS, plain http only to this machine.
ALLOWED_PREFIXES = ("https://", "http://127.0.0.1", "http://localhost")


@dataclass(frozen=True)
class AdminClient:
    """``credentials``: botocore's, so that a deployed stack's session (its token, its
    refresh) and the local stack's fixed keys sign the same way."""

    base_url: str
    region: str
    credentials: Credentials

    @classmethod
    def with_keys(cls, base_url: str, access_key: str, secret_key: str, region: str) -> AdminClient:
        return cls(base_url, region, Credentials(access_key, secret_key))

    @classmethod
    def for_local_stack(cls, stack_json: Path) -> AdminClient:
        return cls.for_target(local_target(stack_json))

    @classmethod
    def for_target(cls, target: Target) -> AdminClient:
        return cls(target.api_url, target.region, target.credentials())

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"{self.base_url.rstrip('/')}{path}"
        if not url.startswith(ALLOWED_PREFIXES):
            raise ValueError(f"refusing to send credentials-signed calls to {url}")
        data = json.dumps(body).encode() if body is not None else b""
        request = AWSRequest(
            method=method, url=url, data=data, headers={"Content-Type": "application/json"}
        )
        SigV4Auth(self.credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(
            request
        )
        prepared = urllib.request.Request(  # noqa: S310 - scheme and host checked above
            url, data=data or None, headers=dict(request.headers.items()), method=method
        )
        try:
            with urllib.request.urlopen(prepared, timeout=60) as response:  # noqa: S310
                return response.status, decode(response.read())
        except urllib.error.HTTPError as error:
            return error.code, decode(error.read())


def decode(raw: bytes) -> Any:
    """JSON answers as data; anything else (the accounting export's CSV) as text."""
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return raw.decode(errors="replace")
