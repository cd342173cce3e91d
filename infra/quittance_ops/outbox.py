"""What the local stack's SES has sent, read from moto's own state endpoint."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    source: str
    destinations: list[str]
    raw: bytes


def sent_emails(moto_endpoint: str) -> list[SentEmail]:
    with urllib.request.urlopen(f"{moto_endpoint}/moto-api/data.json", timeout=10) as response:  # noqa: S310 - loopback only
        state: dict[str, Any] = json.load(response)
    found: list[SentEmail] = []
    for message in (state.get("ses") or {}).get("RawMessage", []):
        raw = message.get("raw_data", "")
        found.append(
            SentEmail(
                message_id=str(message.get("id")),
                source=str(message.get("source")),
                destinations=list(message.get("destinations") or []),
                raw=raw.encode() if isinstance(raw, str) else bytes(raw),
            )
        )
    return found
