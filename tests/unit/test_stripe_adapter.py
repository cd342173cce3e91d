"""Stripe deliveries: the ``Stripe-Signature`` scheme of https://docs.stripe.com/webhooks and the
mapping of ``payment_intent.succeeded`` to a canonical PaymentEvent."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quittance.errors import (
    PayloadInvalid,
    SignatureInvalid,
    SignatureMissing,
    TimestampOutOfTolerance,
)
from quittance.models.events import EventType, MethodKind
from quittance.providers import stripe as stripe_module
from quittance.providers.base import ParsedDelivery, WebhookRequest
from quittance.providers.stripe import StripeAdapter
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

SECRET = "whsec_test_5f1a9c0e3b7d4a2e8c6b1f0d9e7a3c5b"
OLD_SECRET = "whsec_test_rolled_out_0123456789abcdef"
TS = 1_781_000_000  # 2026-06-09T10:13:20Z
RECEIVED = datetime.fromtimestamp(TS, UTC)
ADAPTER = StripeAdapter()


def _mac(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _delivery(**overrides: Any) -> Delivery:
    kwargs: dict[str, Any] = {
        "secret": SECRET,
        "invoice_number": "F-2026-0117",
        "amount_minor": 123456,
        "timestamp": TS,
        "event_id": "evt_1PqRsTuVwXyZ0123456789ab",
        "payment_id": "pi_3PqRsTuVwXyZ0123456789ab",
    }
    kwargs.update(overrides)
    return stripe_payment_intent_succeeded(**kwargs)


def _request(body: bytes, header: str | None, received_at: datetime = RECEIVED) -> WebhookRequest:
    headers = {"content-type": "application/json; charset=utf-8"}
    if header is not None:
        headers["stripe-signature"] = header
    return WebhookRequest(headers=headers, body=body, received_at=received_at)


def _as_received(delivery: Delivery, received_at: datetime = RECEIVED) -> WebhookRequest:
    """What intake hands the adapter: header names lower-cased, the body byte for byte."""
    headers = {name.lower(): value for name, value in delivery.headers.items()}
    return WebhookRequest(headers=headers, body=delivery.body, received_at=received_at)


def _payload(delivery: Delivery | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((delivery or _delivery()).body)
    return payload


def _location(error: dict[str, object]) -> str:
    loc = error["loc"]
    assert isinstance(loc, list | tuple)
    return ".".join(map(str, loc))


def _body(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


# ======================================================================= signature


class TestSignature:
    def test_genuine_delivery_verifies(self) -> None:
        # Given a delivery signed the way Stripe signs it
        request = _as_received(_delivery())
        # When it is verified with the endpoint's secret
        # Then nothing is raised
        ADAPTER.verify(request, [SECRET])

    def test_sign_helper_matches_the_documented_scheme(self) -> None:
        # Given Stripe's documented signed payload "{t}.{raw body}" with HMAC-SHA256
        body = b'{"id":"evt_1"}'
        # When quittance's helper signs it
        header = stripe_module.sign(body, SECRET, TS)
        # Then the header is exactly t=<unix>,v1=<hex>
        assert header == f"t={TS},v1={_mac(body, SECRET, TS)}"

    def test_one_matching_v1_among_several_is_enough(self) -> None:
        # Given a header with several v1 entries (Stripe sends one per active secret while a
        # secret is rolled) and a v0 entry, only the last v1 matching our secret
        body = _delivery().body
        header = (
            f"t={TS},v1={_mac(body, OLD_SECRET, TS)},v1={'0' * 64},"
            f"v0={'f' * 64},v1={_mac(body, SECRET, TS)}"
        )
        # When it is verified / Then it is accepted
        ADAPTER.verify(_request(body, header), [SECRET])

    def test_header_entries_may_carry_spaces(self) -> None:
        body = _delivery().body
        header = f"t={TS}, v1={_mac(body, SECRET, TS)}"
        ADAPTER.verify(_request(body, header), [SECRET])

    @pytest.mark.parametrize("signing_secret", [OLD_SECRET, SECRET])
    def test_any_active_secret_is_enough_during_rotation(self, signing_secret: str) -> None:
        # Given two active secrets while rotating (old and new)
        delivery = _delivery(secret=signing_secret)
        # When a delivery signed with either is verified / Then it is accepted
        ADAPTER.verify(_as_received(delivery), [OLD_SECRET, SECRET])

    @pytest.mark.parametrize("header", [None, ""])
    def test_missing_header_is_signature_missing(self, header: str | None) -> None:
        # Given a delivery without a Stripe-Signature header
        request = _request(_delivery().body, header)
        # When it is verified / Then it is refused as unsigned
        with pytest.raises(SignatureMissing):
            ADAPTER.verify(request, [SECRET])

    @pytest.mark.parametrize(
        "make_header",
        [
            pytest.param(lambda body: f"v1={_mac(body, SECRET, TS)}", id="no-t"),
            pytest.param(lambda body: f"t={TS}", id="no-v1"),
            pytest.param(lambda body: f"t={TS},v1=", id="empty-v1"),
            pytest.param(lambda body: f"t=soon,v1={_mac(body, SECRET, TS)}", id="t-not-a-number"),
            pytest.param(lambda body: f"t=-{TS},v1={_mac(body, SECRET, TS)}", id="t-negative"),
            pytest.param(lambda body: "garbage", id="garbage"),
        ],
    )
    def test_malformed_header_is_signature_invalid(
        self, make_header: Callable[[bytes], str]
    ) -> None:
        # Given a header lacking a usable t= or any v1=
        body = _delivery().body
        # When it is verified / Then it is refused as invalid (not as missing)
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(body, make_header(body)), [SECRET])

    def test_t_with_a_non_decimal_digit_is_signature_invalid(self) -> None:
        # Given t= carrying a character that is a "digit" but not a decimal one (U+00B2, a
        # Latin-1 byte a header may well contain)
        body = _delivery().body
        header = f"t=\u00b2,v1={_mac(body, SECRET, TS)}"
        # When it is verified / Then it is refused as invalid, not a crash
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(body, header), [SECRET])

    def test_wrong_secret_is_signature_invalid(self) -> None:
        request = _as_received(_delivery(secret="whsec_someone_else"))
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    def test_no_active_secret_refuses_everything(self) -> None:
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_as_received(_delivery()), [])

    def test_body_changed_by_one_byte_is_signature_invalid(self) -> None:
        # Given a genuine delivery whose amount was altered on the way: 123456 → 923456
        delivery = _delivery()
        tampered = delivery.body.replace(b'"amount":123456', b'"amount":923456', 1)
        assert len(tampered) == len(delivery.body)
        assert tampered != delivery.body
        request = _request(tampered, delivery.headers["Stripe-Signature"])
        # When it is verified / Then it is refused
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def test_any_single_byte_change_is_signature_invalid(self, data: st.DataObject) -> None:
        delivery = _delivery()
        body = bytearray(delivery.body)
        index = data.draw(st.integers(0, len(body) - 1), label="index")
        body[index] ^= data.draw(st.integers(1, 255), label="xor")
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(bytes(body), delivery.headers["Stripe-Signature"]), [SECRET])

    def test_signature_for_another_timestamp_is_invalid(self) -> None:
        # Given an old genuine signature replayed under a fresh t= (a re-stamped replay)
        body = _delivery().body
        header = f"t={TS},v1={_mac(body, SECRET, TS - 3600)}"
        # When verified / Then refused: the timestamp is part of what is signed
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(body, header), [SECRET])

    @pytest.mark.parametrize("skew", [-301, 301], ids=["301s-old", "301s-in-future"])
    def test_timestamp_beyond_tolerance_is_refused(self, skew: int) -> None:
        # Given a genuinely signed delivery whose t= is 301 s away from our clock
        delivery = _delivery(timestamp=TS + skew)
        # When verified at RECEIVED / Then it is refused for its timestamp
        with pytest.raises(TimestampOutOfTolerance):
            ADAPTER.verify(_as_received(delivery), [SECRET])

    @pytest.mark.parametrize("skew", [-300, 300])
    def test_timestamp_at_tolerance_is_accepted(self, skew: int) -> None:
        ADAPTER.verify(_as_received(_delivery(timestamp=TS + skew)), [SECRET])

    def test_bad_signature_is_reported_before_an_old_timestamp(self) -> None:
        # Given a forged signature on an hour-old timestamp
        delivery = _delivery(secret="whsec_forger", timestamp=TS - 3600)
        # When verified / Then the signature is what is reported
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_as_received(delivery), [SECRET])

    def test_v0_only_header_is_refused_even_with_a_valid_mac(self) -> None:
        # Given a header whose only signature is a v0 entry (carrying what would be a valid v1)
        body = _delivery().body
        header = f"t={TS},v0={_mac(body, SECRET, TS)}"
        # When verified / Then it is refused: only the v1 scheme is trusted
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(body, header), [SECRET])


# ======================================================================= parsing


class TestParsePaymentIntentSucceeded:
    def test_maps_every_field_to_the_payment_event(self) -> None:
        # Given a genuine payment_intent.succeeded for invoice F-2026-0117, 1 234,56 €
        delivery = _delivery(
            customer="cus_NffrFeUfNV2Hib",
            email="camille.durand@example.com",
            name="Camille Durand",
            locale="fr",
            brand="mastercard",
            last4="4444",
        )
        # When it is parsed
        parsed = ADAPTER.parse(_as_received(delivery))
        # Then one canonical event carries what the receipt needs
        assert isinstance(parsed, ParsedDelivery)
        assert parsed.delivery_id == "evt_1PqRsTuVwXyZ0123456789ab"
        assert parsed.ignored == ()
        (event,) = parsed.events
        assert event.event_id == "evt_1PqRsTuVwXyZ0123456789ab"
        assert event.provider == "stripe"
        assert event.type is EventType.PAYMENT_SUCCEEDED
        assert event.payment_id == "pi_3PqRsTuVwXyZ0123456789ab"
        assert event.invoice_number == "F-2026-0117"
        assert event.amount.amount_minor == 123456
        assert event.amount.currency == "EUR"
        assert event.amount.decimal == Decimal("1234.56")
        assert event.method.kind is MethodKind.CARD
        assert event.method.card_brand == "mastercard"
        assert event.method.card_last4 == "4444"
        charge_id = _payload(delivery)["data"]["object"]["latest_charge"]["id"]
        assert event.method.transaction_id == charge_id
        assert event.customer.reference == "cus_NffrFeUfNV2Hib"
        assert event.customer.email == "camille.durand@example.com"
        assert event.customer.name == "Camille Durand"
        assert event.customer.locale == "fr"
        assert event.occurred_at == datetime(2026, 6, 9, 10, 13, 20, tzinfo=UTC)
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert event.livemode is False

    def test_occurred_at_is_the_event_created_time_not_the_intent_created_time(self) -> None:
        # Given an event created 3 s after its payment intent (as the builder makes it)
        payload = _payload()
        assert payload["data"]["object"]["created"] == TS - 3
        # When parsed / Then occurred_at is the event's creation, in UTC
        (event,) = ADAPTER.parse(_request(_body(payload), None)).events
        assert event.occurred_at == datetime.fromtimestamp(TS, UTC)

    def test_older_api_charges_list_gives_brand_and_last4(self) -> None:
        # Given a payload from an API version before latest_charge: charges.data[0]
        payload = _payload(_delivery(brand="amex", last4="0005"))
        intent = payload["data"]["object"]
        charge = intent.pop("latest_charge")
        intent["charges"] = {"object": "list", "data": [charge], "has_more": False}
        # When parsed
        (event,) = ADAPTER.parse(_request(_body(payload), None)).events
        # Then the card proof fields are still there
        assert event.method.kind is MethodKind.CARD
        assert event.method.card_brand == "amex"
        assert event.method.card_last4 == "0005"
        assert event.method.transaction_id == charge["id"]

    def test_customer_reference_falls_back_to_metadata(self) -> None:
        # Given a guest payment without a Stripe customer but with our own reference
        payload = _payload()
        intent = payload["data"]["object"]
        intent["customer"] = None
        intent["metadata"]["customer_reference"] = "CLI-000042"
        (event,) = ADAPTER.parse(_request(_body(payload), None)).events
        assert event.customer.reference == "CLI-000042"

    def test_isk_amount_is_converted_from_stripe_two_decimal_representation(self) -> None:
        # Given a payment of 500 ISK, which Stripe's API states as amount=50000
        # (https://docs.stripe.com/currencies#special-cases)
        delivery = _delivery(currency="isk", amount_minor=50000)
        # When parsed
        (event,) = ADAPTER.parse(_as_received(delivery)).events
        # Then the canonical amount is 500 krónur
        assert event.amount.currency == "ISK"
        assert event.amount.decimal == Decimal(500)

    def test_sepa_debit_with_unexpanded_charge_is_not_reported_as_a_card(self) -> None:
        # Given a SEPA Direct Debit payment intent as current API versions send it:
        # latest_charge is the charge's id, not the charge object
        payload = _payload()
        intent = payload["data"]["object"]
        intent["payment_method_types"] = ["sepa_debit"]
        intent["latest_charge"] = "py_3PqRsTuVwXyZ0123456789ab"
        # When parsed
        parsed = ADAPTER.parse(_request(_body(payload), None))
        # Then no method is guessed from the types offered: the lookup stage reads the charge
        assert parsed.events == ()
        (lookup,) = parsed.lookups
        assert (lookup.provider, lookup.event_type, lookup.object_id) == (
            "stripe",
            "payment_intent.succeeded",
            intent["id"],
        )
        assert lookup.event_id == payload["id"]


class TestParseOtherDeliveries:
    def test_unknown_event_type_is_ignored_without_events(self) -> None:
        # Given a verified customer.created event
        body = _body(
            {
                "id": "evt_1CustCreated000000000000",
                "object": "event",
                "type": "customer.created",
                "created": TS,
                "data": {"object": {"id": "cus_1", "object": "customer"}},
            }
        )
        # When parsed
        parsed = ADAPTER.parse(_request(body, None))
        # Then it is acknowledged as ignored, with nothing to queue
        assert parsed == ParsedDelivery(
            delivery_id="evt_1CustCreated000000000000", events=(), ignored=("customer.created",)
        )

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"", id="empty"),
            pytest.param(b"not json", id="text"),
            pytest.param(b'{"id": "evt_1", ', id="truncated"),
            pytest.param(b"\xff\xfe\x00garbage", id="undecodable"),
            pytest.param(b'[{"id":"evt_1","type":"payment_intent.succeeded"}]', id="array"),
            pytest.param(b'"evt_1"', id="string"),
            pytest.param(b"null", id="null"),
        ],
    )
    def test_body_that_is_not_a_json_object_is_payload_invalid(self, body: bytes) -> None:
        with pytest.raises(PayloadInvalid):
            ADAPTER.parse(_request(body, None))

    @pytest.mark.parametrize("field", ["id", "type"])
    def test_missing_id_or_type_is_payload_invalid_with_field_errors(self, field: str) -> None:
        payload = _payload()
        del payload[field]
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_request(_body(payload), None))
        assert [field] in [error["loc"] for error in caught.value.errors]

    @pytest.mark.parametrize(
        "data", [{}, {"object": None}, None], ids=["no-object", "null", "none"]
    )
    def test_missing_data_object_is_payload_invalid(self, data: Any) -> None:
        payload = _payload()
        payload["data"] = data
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_request(_body(payload), None))
        assert caught.value.errors == [{"loc": ["data", "object"]}]

    @pytest.mark.parametrize(
        ("mutate", "field"),
        [
            pytest.param(
                lambda i: i.update(amount=-100, amount_received=-100), "amount", id="negative"
            ),
            pytest.param(lambda i: i.update(currency="xxy"), "currency", id="unknown-currency"),
            pytest.param(lambda i: i.update(amount_received=12.5), "amount", id="fractional"),
        ],
    )
    def test_values_the_models_refuse_are_payload_invalid_with_field_errors(
        self, mutate: Callable[[dict[str, Any]], None], field: str
    ) -> None:
        # Given a signed payment_intent.succeeded with a value our models refuse
        payload = _payload()
        mutate(payload["data"]["object"])
        # When parsed / Then it is refused with the failing field named
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_request(_body(payload), None))
        assert caught.value.errors
        locations = [_location(error) for error in caught.value.errors]
        assert any(field in location for location in locations), locations

    def test_bad_last4_is_payload_invalid_naming_the_field(self) -> None:
        payload = _payload(_delivery(last4="42"))
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_request(_body(payload), None))
        assert "card_last4" in [_location(error) for error in caught.value.errors]

    @pytest.mark.parametrize(
        "mutate",
        [
            pytest.param(lambda p: p["data"]["object"].pop("currency"), id="no-currency"),
            pytest.param(lambda p: p["data"]["object"].pop("id"), id="no-intent-id"),
            pytest.param(lambda p: p.pop("created"), id="no-created"),
            pytest.param(lambda p: p.update(created="yesterday"), id="created-not-a-number"),
            pytest.param(
                lambda p: p["data"]["object"].update(amount=None, amount_received=None),
                id="no-amount",
            ),
        ],
    )
    def test_missing_required_values_are_payload_invalid(
        self, mutate: Callable[[dict[str, Any]], None]
    ) -> None:
        payload = _payload()
        mutate(payload)
        with pytest.raises(PayloadInvalid):
            ADAPTER.parse(_request(_body(payload), None))

    def test_a_guest_payment_is_keyed_by_the_payers_email_never_the_email_itself(self) -> None:
        # Given a payment with neither a Stripe customer nor metadata.customer_reference
        # (Checkout, Payment Links, the Payment Element without a Customer: issue 16)
        payload = _payload()
        payload["data"]["object"]["customer"] = None
        payload["data"]["object"]["receipt_email"] = "Guest.Payer@example.org"
        # When parsed
        (event,) = ADAPTER.parse(_request(_body(payload), None)).events
        # Then the payer is the email's owner, written to, and keyed without the email
        assert event.customer is not None
        assert event.customer.email == "Guest.Payer@example.org"
        assert event.customer.reference.startswith("guest:")
        assert "example.org" not in event.customer.reference
        # and the same guest, however the email is cased, is the same customer
        payload["data"]["object"]["receipt_email"] = "guest.payer@EXAMPLE.org"
        (again,) = ADAPTER.parse(_request(_body(payload), None)).events
        assert again.customer is not None
        assert again.customer.reference == event.customer.reference

    def test_a_guest_payment_without_an_email_in_the_event_is_looked_up(self) -> None:
        # Given a guest payment whose event names no email (current API versions)
        payload = _payload()
        payload["data"]["object"]["customer"] = None
        payload["data"]["object"]["receipt_email"] = None
        payload["data"]["object"]["latest_charge"]["billing_details"]["email"] = None
        # When parsed / Then it is accepted, for the lookup stage to find the payer
        parsed = ADAPTER.parse(_request(_body(payload), None))
        assert parsed.events == ()
        assert [lookup.object_id for lookup in parsed.lookups] == [payload["data"]["object"]["id"]]

    @pytest.mark.parametrize(
        "make_body",
        [
            pytest.param(lambda p: _body({**p, "data": ["object"]}), id="data-is-a-list"),
            pytest.param(lambda p: _body({**p, "data": "object"}), id="data-is-a-string"),
            pytest.param(
                lambda p: _body(_with_intent(p, metadata=["invoice_number"])),
                id="metadata-is-a-list",
            ),
            pytest.param(
                lambda p: _body(_with_intent(p, latest_charge=None, charges=["ch_1"])),
                id="charges-is-a-list",
            ),
            pytest.param(
                lambda p: _body(
                    _with_intent(p, latest_charge={"id": "ch_1", "payment_method_details": "card"})
                ),
                id="payment-method-details-is-a-string",
            ),
            pytest.param(lambda p: _body({**p, "created": 10**20}), id="created-out-of-range"),
            pytest.param(
                lambda p: _body(p).replace(f'"created":{TS}'.encode(), b'"created":1e400'),
                id="created-infinite",
            ),
            pytest.param(lambda p: b"[" * 100_000, id="deeply-nested"),
        ],
    )
    def test_malformed_payload_is_payload_invalid_not_a_crash(
        self, make_body: Callable[[dict[str, Any]], bytes]
    ) -> None:
        # Given a correctly signed body of the wrong shape
        body = make_body(_payload())
        request = _request(body, stripe_module.sign(body, SECRET, TS))
        ADAPTER.verify(request, [SECRET])
        # When parsed / Then it is refused as a payload problem, never an unexpected crash
        with pytest.raises(PayloadInvalid):
            ADAPTER.parse(request)


def _with_intent(payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    changed["data"]["object"].update(fields)
    return changed


# ======================================================================= properties


def _verify_then_parse(body: bytes) -> ParsedDelivery | None:
    request = _request(body, stripe_module.sign(body, SECRET, TS))
    ADAPTER.verify(request, [SECRET])
    try:
        return ADAPTER.parse(request)
    except PayloadInvalid:
        return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2048))
def test_any_signed_bytes_parse_or_are_payload_invalid(body: bytes) -> None:
    # Given any body at all, correctly signed / When verified and parsed
    # Then the only refusal is PayloadInvalid; otherwise a ParsedDelivery comes back
    result = _verify_then_parse(body)
    assert result is None or isinstance(result, ParsedDelivery)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
INTENT_FIELDS = ["amount", "amount_received", "currency", "customer", "metadata", "latest_charge"]


@settings(max_examples=300, deadline=None, derandomize=True, report_multiple_bugs=False)
@given(
    top=st.sampled_from(["data", "created"]),
    intent_field=st.sampled_from(INTENT_FIELDS),
    where=st.sampled_from(["top", "intent"]),
    value=JSON_VALUES,
)
def test_signed_event_with_any_json_in_a_field_parses_or_is_payload_invalid(
    top: str, intent_field: str, where: str, value: Any
) -> None:
    # Given a genuine event where one field holds arbitrary JSON
    payload = _payload()
    if where == "top":
        payload[top] = value
    else:
        payload["data"]["object"][intent_field] = value
    # When verified and parsed / Then the only refusal is PayloadInvalid
    result = _verify_then_parse(_body(payload))
    assert result is None or isinstance(result, ParsedDelivery)
