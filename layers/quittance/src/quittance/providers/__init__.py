"""Gateway adapters: each verifies its own signature scheme and maps its payload to
canonical :class:`~quittance.models.events.PaymentEvent` objects.

An adapter's module is imported when its gateway first calls: intake's cold start then loads
one of them, not all three (docs/performance.md)."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import cast

from quittance.errors import UnknownProvider
from quittance.providers.base import ProviderAdapter

_ADAPTERS: dict[str, tuple[str, str]] = {
    "stripe": ("quittance.providers.stripe", "StripeAdapter"),
    "gocardless": ("quittance.providers.gocardless", "GoCardlessAdapter"),
    "standard": ("quittance.providers.standard_webhooks", "StandardWebhooksAdapter"),
}


@cache
def adapter_for(name: str) -> ProviderAdapter:
    try:
        module, adapter = _ADAPTERS[name]
    except KeyError:
        raise UnknownProvider(f"no gateway named {name!r}") from None
    return cast(ProviderAdapter, getattr(import_module(module), adapter)())


def provider_names() -> list[str]:
    return sorted(_ADAPTERS)
