"""The official clients (stripe-python, gocardless-pro) behind quittance's ports, over HTTP on
127.0.0.1: against ``localstripe`` for what it covers (PaymentIntents, Charges, Refunds), and
against recorded documented responses (quittance_ops.gateway_api) for the rest."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stripe

from quittance.errors import GatewayKeyRejected, GatewayObjectMissing, GatewayUnavailable
from quittance.gateways.clients import GoCardlessApiClient, StripeApiClient
from quittance.gateways.gocardless_lookup import complete_gocardless
from quittance.gateways.stripe_lookup import complete_stripe
from quittance.models.events import MethodKind
from quittance.models.lookups import GatewayLookup
from quittance_ops.gateway_api import RecordedApi, serve
from tests import gateway_objects as so
from tests.unit.gateway_fakes import FakeStripeApi
from tests.unit.test_stripe_lookups import checkout_guest

NOW = datetime(2026, 6, 9, 10, 13, 20, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_localstripe(log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """localstripe on a free port, once it listens. A port taken between choosing it and the
    server binding it makes the process exit: it is started again on another port. Its
    import is slow on a loaded machine (aiohttp): the wait is generous, and a failure says
    what the server printed."""
    for _ in range(3):
        port = _free_port()
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "localstripe", "--port", str(port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return process, port
            except OSError:
                time.sleep(0.1)
        process.kill()
        process.wait(timeout=10)
    raise RuntimeError(f"localstripe did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, port = _start_localstripe(tmp_path_factory.mktemp("localstripe") / "server.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def lookup(event_type: str, object_id: str, **links: str) -> GatewayLookup:
    provider = "gocardless" if event_type.startswith(("payments.", "refunds.")) else "stripe"
    return GatewayLookup(
        provider=provider,
        event_id=f"evt_{object_id}",
        event_type=event_type,
        object_id=object_id,
        occurred_at=NOW,
        livemode=False,
        links=links,
    )


# ------------------------------------------------------------------ localstripe


def test_three_partial_refunds_read_from_localstripe_are_credited_at_their_own_amounts(
    localstripe: str,
) -> None:
    # Given a 100.00 EUR card payment and three partial refunds, made in the Stripe emulator
    # through stripe-python as a merchant's back office makes them
    maker = stripe.StripeClient(
        "sk_test_merchant", base_addresses={"api": localstripe}, max_network_retries=0
    )
    method = maker.v1.payment_methods.create(
        {
            "type": "card",
            "card": {
                "number": "4242424242424242",
                "exp_month": 12,
                "exp_year": 2030,
                "cvc": "123",
            },
        }
    )
    intent = maker.v1.payment_intents.create(
        {"amount": 10000, "currency": "eur", "payment_method": method.id, "confirm": True}
    )
    latest = maker.v1.payment_intents.retrieve(intent.id).to_dict()["latest_charge"]
    # localstripe always embeds the charge; Stripe sends its id unless asked to expand it
    charge_id = str(latest["id"] if isinstance(latest, dict) else latest)
    for amount in (1000, 500, 250):
        maker.v1.refunds.create({"charge": charge_id, "amount": amount})
    api = StripeApiClient("sk_test_quittance", api_base=localstripe)
    # When charge.refunded (no refund list, on a current API version) is looked up
    completion = complete_stripe(
        lookup("charge.refunded", charge_id, payment_intent=intent.id), api
    )
    # Then there is one credit per refund, at 10.00, 5.00 and 2.50, keyed by refund id
    refunds = sorted(
        (e.refund.amount.amount_minor for e in completion.events if e.refund), reverse=True
    )
    assert refunds == [1000, 500, 250]
    assert len({e.refund.refund_id for e in completion.events if e.refund}) == 3
    assert {e.payment_id for e in completion.events} == {intent.id}
    # and the PaymentIntent comes back with its charge expanded
    read = api.payment_intent(intent.id)
    assert isinstance(read["latest_charge"], dict) and read["latest_charge"]["id"] == charge_id


def test_an_unknown_object_in_localstripe_is_missing(localstripe: str) -> None:
    api = StripeApiClient("sk_test_quittance", api_base=localstripe)
    with pytest.raises(GatewayObjectMissing):
        api.payment_intent("pi_3QgDoesNotExist01")


# ------------------------------------------------------------------ recorded responses


def test_a_checkout_guest_payment_read_over_http_matches_the_documented_objects() -> None:
    fake, session = checkout_guest()
    recorded = RecordedApi().add_stripe(*fake.objects.values())
    with serve(recorded) as base:
        api = StripeApiClient(recorded.stripe_key, api_base=base)
        over_http = complete_stripe(lookup("checkout.session.completed", session["id"]), api)
    in_memory = complete_stripe(lookup("checkout.session.completed", session["id"]), fake)
    assert over_http == in_memory
    (payment,) = over_http.events
    assert (payment.method.kind, payment.method.card_last4) == (MethodKind.CARD, "4444")


def test_a_billing_invoice_read_over_http_through_invoice_payments() -> None:
    from tests.unit.test_stripe_lookups import billing

    fake = billing("current")
    recorded = RecordedApi().add_stripe(*fake.objects.values(), *fake.invoice_payments)
    with serve(recorded) as base:
        api = StripeApiClient(recorded.stripe_key, api_base=base)
        (payment,) = complete_stripe(lookup("invoice.paid", "in_1QgBilling000001"), api).events
        (by_intent,) = complete_stripe(
            lookup("payment_intent.succeeded", "pi_3QgBilling000001"), api
        ).events
    assert payment.invoice_number == by_intent.invoice_number == "8F3A1C2B-0007"


def test_gocardless_reads_payment_mandate_customer_and_caches_the_mandate() -> None:
    recorded = RecordedApi().add_gocardless(
        so.gc_payment("PM00SUBS000001", 3990, mandate="MD00SUBS000001"),
        so.gc_payment("PM00SUBS000002", 3990, mandate="MD00SUBS000001"),
        so.gc_mandate("MD00SUBS000001", "CU00SUBS000001"),
        so.gc_customer("CU00SUBS000001", "jeanne.roux@example.fr", "Jeanne", "Roux"),
    )
    with serve(recorded) as base:
        api = GoCardlessApiClient(recorded.gocardless_token, base_url=base)
        first = complete_gocardless(lookup("payments.confirmed", "PM00SUBS000001"), api)
        second = complete_gocardless(lookup("payments.confirmed", "PM00SUBS000002"), api)
    for completion in (first, second):
        (payment,) = completion.events
        assert payment.customer is not None
        assert payment.customer.email == "jeanne.roux@example.fr"
        assert payment.amount.amount_minor == 3990
    assert recorded.requests.count("GET /mandates/MD00SUBS000001") == 1


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        pytest.param(lambda r: setattr(r, "fail_rate", 1.0), GatewayUnavailable, id="429"),
        pytest.param(
            lambda r: (setattr(r, "fail_rate", 1.0), setattr(r, "failures", 1)),
            GatewayUnavailable,
            id="500",
        ),
        pytest.param(lambda r: setattr(r, "revoked", True), GatewayKeyRejected, id="revoked"),
        pytest.param(
            lambda r: setattr(r, "stripe_key", "rk_other"), GatewayKeyRejected, id="wrong-key"
        ),
        pytest.param(lambda r: None, GatewayObjectMissing, id="unknown-object"),
    ],
)
def test_stripe_failures_become_typed_errors(setup: object, error: type[Exception]) -> None:
    recorded = RecordedApi()
    key = recorded.stripe_key
    setup(recorded)  # type: ignore[operator]
    with serve(recorded) as base, pytest.raises(error):
        StripeApiClient(key, api_base=base, retry_delays=(0, 0)).payment_intent("pi_3QgUnk01")
    # an unavailable gateway is tried three times within the call; a refusal once
    assert len(recorded.requests) == (3 if error is GatewayUnavailable else 1)


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        pytest.param(lambda r: setattr(r, "fail_rate", 1.0), GatewayUnavailable, id="429"),
        pytest.param(
            lambda r: (setattr(r, "fail_rate", 1.0), setattr(r, "failures", 1)),
            GatewayUnavailable,
            id="500",
        ),
        pytest.param(lambda r: setattr(r, "revoked", True), GatewayKeyRejected, id="revoked"),
        pytest.param(lambda r: None, GatewayObjectMissing, id="unknown-object"),
    ],
)
def test_gocardless_failures_become_typed_errors(setup: object, error: type[Exception]) -> None:
    recorded = RecordedApi()
    setup(recorded)  # type: ignore[operator]
    with serve(recorded) as base, pytest.raises(error):
        GoCardlessApiClient(recorded.gocardless_token, base_url=base, retry_delays=(0, 0)).payment(
            "PM00UNKNOWN0001"
        )
    assert len(recorded.requests) == (3 if error is GatewayUnavailable else 1)


def test_a_gateway_that_never_answers_is_unavailable_after_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(GatewayUnavailable):
            StripeApiClient("rk_test", api_base=base, timeout=0.5, retry_delays=()).charge("ch_1")
        with pytest.raises(GatewayUnavailable):
            GoCardlessApiClient("token", base_url=base, timeout=0.5, retry_delays=()).payment("PM1")
        assert time.monotonic() - started < 10


def test_the_in_memory_fake_agrees_with_the_recorded_server_on_missing_objects() -> None:
    with pytest.raises(GatewayObjectMissing):
        FakeStripeApi().payment_intent("pi_nope")
