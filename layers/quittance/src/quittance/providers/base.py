"""What every gateway adapter provides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from quittance.models.events import PaymentEvent
from quittance.models.lookups import GatewayLookup


@dataclass(frozen=True)
class WebhookRequest:
    """A delivery as received: header names lower-cased, the body byte for byte."""

    headers: Mapping[str, str]
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class ParsedDelivery:
    """The canonical events in one delivery; ``lookups`` the events whose payment must be
    completed from the gateway's API first; ``ignored`` names event types we do not act on."""

    delivery_id: str
    events: tuple[PaymentEvent, ...] = ()
    ignored: tuple[str, ...] = field(default=())
    lookups: tuple[GatewayLookup, ...] = ()


class ProviderAdapter(Protocol):
    name: str

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        """Raise SignatureMissing, SignatureInvalid or TimestampOutOfTolerance."""

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        """Raise PayloadInvalid with field errors when the verified payload is unusable."""
