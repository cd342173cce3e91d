"""Real-format gateway deliveries, signed with each provider's exact scheme: what the demo
sends and what the tests replay. Payload shapes follow the providers' published docs; one
module per provider."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    provider: str
    body: bytes
    headers: dict[str, str]
    event_id: str
