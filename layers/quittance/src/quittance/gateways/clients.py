"""The gateways' official API clients (``stripe``, ``gocardless-pro``) behind the ports of
:mod:`quittance.gateways.ports`: plain documented JSON objects out, typed errors for failures.

- 429, 5xx, timeouts and network errors → tried again twice within the call (after 0.25 s,
  then 1 s: the GETs are idempotent), then GatewayUnavailable, retried through the queue with
  a longer back-off (the clients' own retries are off, so that these are the only ones);
- 401 and 403 → GatewayKeyRejected (a revoked key, or a restricted key missing a permission);
- 404 → GatewayObjectMissing.

What is cached, in the warm function only: the clients per key, and GoCardless mandates for
five minutes (a mandate's customer never changes; a subscription's payments share one). No
payment, charge, refund or customer is cached: their state is what is being read."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import requests
import stripe
from gocardless_pro import errors as gc_errors
from gocardless_pro import services
from gocardless_pro.api_client import ApiClient

from quittance.errors import GatewayKeyRejected, GatewayObjectMissing, GatewayUnavailable
from quittance.gateways.ports import JsonObject

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 10.0
MANDATE_CACHE_SECONDS = 300.0
# As gocardless_pro.Client names them.
_GOCARDLESS_URLS = {
    "live": "https://api.gocardless.com",
    "sandbox": "https://api-sandbox.gocardless.com",
}


RETRY_DELAYS_SECONDS = (0.25, 1.0)


def _retried(call: Callable[[], T], delays: tuple[float, ...]) -> T:
    """``call`` again after each delay while the gateway is unavailable."""
    for delay in delays:
        try:
            return call()
        except GatewayUnavailable:
            time.sleep(delay)
    return call()


@contextmanager
def _stripe_errors(what: str) -> Iterator[None]:
    try:
        yield
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise GatewayKeyRejected(f"Stripe refused the key reading {what}: {exc.code}") from None
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise GatewayObjectMissing(f"Stripe has no {what}") from None
        raise GatewayUnavailable(f"Stripe refused the request for {what}: {exc.code}") from None
    except stripe.StripeError as exc:  # RateLimitError, APIError (5xx), APIConnectionError
        raise GatewayUnavailable(
            f"Stripe did not answer for {what}: {type(exc).__name__} {exc.http_status}"
        ) from None


class StripeApiClient:
    """Reads with a restricted key (read on PaymentIntents, Charges, Customers, Invoices,
    Checkout Sessions, Refunds). ``api_base`` points at a local emulator in tests."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._delays = retry_delays

    def _call(self, what: str, call: Callable[[], T]) -> T:
        def once() -> T:
            with _stripe_errors(what):
                return call()

        return _retried(once, self._delays)

    def payment_intent(self, intent_id: str) -> JsonObject:
        v1 = self._client.v1
        return self._call(
            f"PaymentIntent {intent_id}",
            lambda: v1.payment_intents.retrieve(
                intent_id, {"expand": ["latest_charge", "customer"]}
            ).to_dict(),
        )

    def charge(self, charge_id: str) -> JsonObject:
        v1 = self._client.v1
        return self._call(f"Charge {charge_id}", lambda: v1.charges.retrieve(charge_id).to_dict())

    def checkout_session(self, session_id: str) -> JsonObject:
        v1 = self._client.v1
        return self._call(
            f"Checkout Session {session_id}",
            lambda: v1.checkout.sessions.retrieve(session_id).to_dict(),
        )

    def checkout_session_for(self, intent_id: str) -> JsonObject | None:
        v1 = self._client.v1
        found = self._call(
            f"the Checkout Session of {intent_id}",
            lambda: v1.checkout.sessions.list({"payment_intent": intent_id, "limit": 1}),
        )
        return found.data[0].to_dict() if found.data else None

    def invoice(self, invoice_id: str) -> JsonObject:
        v1 = self._client.v1
        return self._call(
            f"Invoice {invoice_id}", lambda: v1.invoices.retrieve(invoice_id).to_dict()
        )

    def invoice_for(self, intent_id: str) -> JsonObject | None:
        v1 = self._client.v1
        found = self._call(
            f"the invoice paid by {intent_id}",
            lambda: v1.invoice_payments.list(
                {"payment": {"type": "payment_intent", "payment_intent": intent_id}, "limit": 1}
            ),
        )
        if not found.data:
            return None
        invoice = found.data[0].invoice
        return self.invoice(invoice if isinstance(invoice, str) else invoice.id)

    def intent_of_invoice(self, invoice_id: str, status: str = "paid") -> str | None:
        v1 = self._client.v1
        found = self._call(
            f"the payments of {invoice_id}",
            lambda: v1.invoice_payments.list(
                {"invoice": invoice_id, "status": status, "limit": 10}
            ),
        )
        for payment in found.data:
            paid = payment.to_dict()
            details = paid.get("payment") or {}
            intent = details.get("payment_intent")
            if paid.get("status") == status and intent:
                return intent if isinstance(intent, str) else str(intent["id"])
        return None

    def refund(self, refund_id: str) -> JsonObject:
        v1 = self._client.v1
        return self._call(f"Refund {refund_id}", lambda: v1.refunds.retrieve(refund_id).to_dict())

    def refunds_of(self, charge_id: str) -> list[JsonObject]:
        v1 = self._client.v1
        return self._call(
            f"the refunds of {charge_id}",
            lambda: [
                refund.to_dict()
                for refund in v1.refunds.list(
                    {"charge": charge_id, "limit": 100}
                ).auto_paging_iter()
            ],
        )


def _gocardless_call(what: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except (gc_errors.AuthenticationError, gc_errors.PermissionsError):
        raise GatewayKeyRejected(f"GoCardless refused the access token reading {what}") from None
    except gc_errors.RateLimitError:
        raise GatewayUnavailable(f"GoCardless rate limit reading {what}") from None
    except gc_errors.InvalidApiUsageError as exc:
        if exc.code == 404:
            raise GatewayObjectMissing(f"GoCardless has no {what}") from None
        raise GatewayUnavailable(f"GoCardless refused the request for {what}") from None
    except (gc_errors.GoCardlessProError, requests.RequestException) as exc:
        # GoCardlessInternalError (5xx), a malformed answer, a timeout, the network.
        raise GatewayUnavailable(
            f"GoCardless did not answer for {what}: {type(exc).__name__}"
        ) from None


class GoCardlessApiClient:
    """Reads with a read-only access token. ``base_url`` points at recorded responses in
    tests; else ``environment`` (``live`` or ``sandbox``) picks GoCardless's own."""

    def __init__(
        self,
        access_token: str,
        *,
        environment: str = "live",
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._delays = retry_delays
        api = ApiClient(base_url or _GOCARDLESS_URLS[environment], access_token, timeout=timeout)
        # The services one by one (gocardless_pro.Client builds them with 3 attempts each):
        # one attempt per call, as the lookup queue retries, with back-off, without holding
        # the function.
        self._payments = services.PaymentsService(api, 1, 0)
        self._mandates_service = services.MandatesService(api, 1, 0)
        self._customers = services.CustomersService(api, 1, 0)
        self._refunds = services.RefundsService(api, 1, 0)
        self._monotonic = monotonic
        self._mandates: dict[str, tuple[float, JsonObject]] = {}

    def _get(self, what: str, call: Callable[[], Any]) -> JsonObject:
        resource = _retried(lambda: _gocardless_call(what, call), self._delays)
        return dict(resource.attributes)

    def payment(self, payment_id: str) -> JsonObject:
        return self._get(f"payment {payment_id}", lambda: self._payments.get(payment_id))

    def mandate(self, mandate_id: str) -> JsonObject:
        now = self._monotonic()
        cached = self._mandates.get(mandate_id)
        if cached and now - cached[0] < MANDATE_CACHE_SECONDS:
            return dict(cached[1])
        mandate = self._get(f"mandate {mandate_id}", lambda: self._mandates_service.get(mandate_id))
        self._mandates[mandate_id] = (now, mandate)
        return dict(mandate)

    def customer(self, customer_id: str) -> JsonObject:
        return self._get(f"customer {customer_id}", lambda: self._customers.get(customer_id))

    def refund(self, refund_id: str) -> JsonObject:
        return self._get(f"refund {refund_id}", lambda: self._refunds.get(refund_id))


class KeySource(Protocol):
    def read(self) -> dict[str, Any]:
        """The gateway API keys document: ``{"stripe": "rk_…", "gocardless": "…"}``."""


class GatewayApiClients:
    """Both gateways' clients, built with the keys in force (read through the secret's cache,
    so a rotated or replaced key is used within its max age); a missing key is
    GatewayKeyRejected, like a revoked one."""

    def __init__(
        self,
        keys: KeySource,
        *,
        stripe_api_base: str | None = None,
        gocardless_environment: str = "live",
        gocardless_api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._keys = keys
        self._stripe_base = stripe_api_base
        self._gc_environment = gocardless_environment
        self._gc_base = gocardless_api_base
        self._timeout = timeout
        self._stripe: tuple[str, StripeApiClient] | None = None
        self._gocardless: tuple[str, GoCardlessApiClient] | None = None

    def _key(self, provider: str) -> str:
        key = self._keys.read().get(provider)
        if not isinstance(key, str) or not key.strip():
            raise GatewayKeyRejected(f"no {provider} API key in the gateway API keys secret")
        return key.strip()

    def stripe(self) -> StripeApiClient:
        key = self._key("stripe")
        if self._stripe is None or self._stripe[0] != key:
            client = StripeApiClient(key, api_base=self._stripe_base, timeout=self._timeout)
            self._stripe = (key, client)
        return self._stripe[1]

    def gocardless(self) -> GoCardlessApiClient:
        key = self._key("gocardless")
        if self._gocardless is None or self._gocardless[0] != key:
            client = GoCardlessApiClient(
                key,
                environment=self._gc_environment,
                base_url=self._gc_base,
                timeout=self._timeout,
            )
            self._gocardless = (key, client)
        return self._gocardless[1]
