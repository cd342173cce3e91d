"""Intake: verify a gateway delivery, map it to canonical events, queue each one once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from quittance.models.messages import PaymentEventMessage
from quittance.providers import adapter_for
from quittance.providers.base import WebhookRequest


class SigningSecrets(Protocol):
    def for_provider(self, provider: str) -> Sequence[str]: ...


class EventPublisher(Protocol):
    def publish_once(self, message: PaymentEventMessage) -> bool:
        """Queue the message unless its event was queued before; True when queued now."""


@dataclass(frozen=True)
class IntakeResult:
    provider: str
    delivery_id: str
    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    ignored: tuple[str, ...]


def accept_delivery(
    provider: str,
    request: WebhookRequest,
    *,
    secrets: SigningSecrets,
    publisher: EventPublisher,
    correlation_id: str,
) -> IntakeResult:
    """Raises the typed errors of :mod:`quittance.errors`; queues nothing unless verified."""
    adapter = adapter_for(provider)
    adapter.verify(request, secrets.for_provider(provider))
    parsed = adapter.parse(request)
    accepted: list[str] = []
    duplicates: list[str] = []
    for event in parsed.events:
        message = PaymentEventMessage(
            correlation_id=correlation_id, received_at=request.received_at, event=event
        )
        (accepted if publisher.publish_once(message) else duplicates).append(event.event_id)
    return IntakeResult(
        provider=provider,
        delivery_id=parsed.delivery_id,
        accepted=tuple(accepted),
        duplicates=tuple(duplicates),
        ignored=parsed.ignored,
    )
