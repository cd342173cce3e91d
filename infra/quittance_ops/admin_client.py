"""The staff API, called as staff call it: over HTTPS (or the local gateway) with SigV4.

The CLI never touches the tables: every access goes through the same checks as the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quittance_ops.localstack import sigv4


@dataclass(frozen=True)
class AdminClient:
    base_url: str
    access_key: str
    secret_key: str
    region: str

    @classmethod
    def for_local_stack(cls, stack_json: Path) -> AdminClient:
        info = json.loads(stack_json.read_text())
        return cls(
            base_url=info["api_url"],
            access_key=info["credentials"]["aws_access_key_id"],
            secret_key=info["credentials"]["aws_secret_access_key"],
            region=info["region"],
        )

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"{self.base_url.rstrip('/')}{path}"
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f"refusing to send credentials-signed calls to {url}")
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json", "Host": url.split("/")[2]}
        signed = sigv4.sign(
            method, url, data, headers, key=self.access_key, secret=self.secret_key,
            region=self.region,
        )  # fmt: skip
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=data or None, headers=signed, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, decode(response.read())
        except urllib.error.HTTPError as error:
            return error.code, decode(error.read())


def decode(raw: bytes) -> Any:
    """JSON answers as data; anything else (the accounting export's CSV) as text."""
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return raw.decode(errors="replace")
