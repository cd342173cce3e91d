"""Gateway adapters: each verifies its own signature scheme and maps its payload to
canonical :class:`~quittance.models.events.PaymentEvent` objects."""

from __future__ import annotations

from quittance.errors import UnknownProvider
from quittance.providers.base import ProviderAdapter
from quittance.providers.gocardless import GoCardlessAdapter
from quittance.providers.standard_webhooks import StandardWebhooksAdapter
from quittance.providers.stripe import StripeAdapter

_ADAPTERS: dict[str, ProviderAdapter] = {
    "stripe": StripeAdapter(),
    "gocardless": GoCardlessAdapter(),
    "standard": StandardWebhooksAdapter(),
}


def adapter_for(name: str) -> ProviderAdapter:
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise UnknownProvider(f"no gateway named {name!r}") from None


def provider_names() -> list[str]:
    return sorted(_ADAPTERS)
