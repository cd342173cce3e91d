"""Standard Webhooks deliveries: the spec's signature scheme (https://www.standardwebhooks.com,
spec/standard-webhooks.md v1.0.0) and quittance's documented payment schema
(docs/providers/standard-webhooks.md) mapped to canonical PaymentEvents."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
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
from quittance.models.events import (
    DisputeOutcome,
    EventType,
    FailureCategory,
    MethodKind,
    PaymentMethod,
)
from quittance.models.messages import PaymentEventMessage
from quittance.providers.base import ParsedDelivery, WebhookRequest
from quittance.providers.standard_webhooks import StandardWebhooksAdapter, sign, signing_key
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.standard_webhooks import (
    SEPA_TRANSFER,
    standard_payment,
    standard_payment_failed,
    standard_refund,
    standard_sepa_transfer,
)

KEY = b"quittance standard webhooks key!"  # 32 bytes
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"the secret being rotated out....").decode()
TS = 1_781_000_000  # 2026-06-09T10:13:20Z
RECEIVED = datetime.fromtimestamp(TS, UTC)
TS_PLUS_HOUR = datetime.fromtimestamp(TS + 3600, UTC)
MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
ADAPTER = StandardWebhooksAdapter()
DOC = Path(__file__).resolve().parents[2] / "docs" / "providers" / "standard-webhooks.md"


def _delivery(**overrides: Any) -> Delivery:
    kwargs: dict[str, Any] = {
        "invoice_number": "F-2026-0117",
        "amount_minor": 123456,
        "timestamp": TS,
        "msg_id": MSG_ID,
        "payment_id": "pay_7f3c1e9a2b4d6f8091a2b3c4",
    }
    kwargs.update(overrides)
    return standard_payment(kwargs.pop("secret", SECRET), **kwargs)


def _as_received(delivery: Delivery, received_at: datetime = RECEIVED) -> WebhookRequest:
    """What intake hands the adapter: header names lower-cased, the body byte for byte."""
    headers = {name.lower(): value for name, value in delivery.headers.items()}
    return WebhookRequest(headers=headers, body=delivery.body, received_at=received_at)


def _request(
    body: bytes,
    *,
    msg_id: str | None = MSG_ID,
    timestamp: str | None = str(TS),
    signature: str | None = None,
    secret: str = SECRET,
    received_at: datetime = RECEIVED,
) -> WebhookRequest:
    """A request with the three headers; the signature is computed unless one is given."""
    headers = {"content-type": "application/json"}
    if msg_id is not None:
        headers["webhook-id"] = msg_id
    if timestamp is not None:
        headers["webhook-timestamp"] = timestamp
    if signature is None and msg_id is not None and timestamp is not None:
        signature = _v1(secret, msg_id, timestamp, body)
    if signature is not None:
        headers["webhook-signature"] = signature
    return WebhookRequest(headers=headers, body=body, received_at=received_at)


def _v1(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """The spec's scheme written out independently of the adapter's helper."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _payload(delivery: Delivery | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((delivery or _delivery()).body)
    return payload


def _body(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _parse_payload(payload: Any) -> ParsedDelivery:
    request = _request(_body(payload))
    ADAPTER.verify(request, [SECRET])
    return ADAPTER.parse(request)


def _locations(error: PayloadInvalid) -> list[str]:
    locations = []
    for item in error.errors:
        loc = item["loc"]
        assert isinstance(loc, list | tuple)
        locations.append(".".join(map(str, loc)))
    return locations


# ======================================================================= spec vectors

# The fixed vectors of the reference libraries in github.com/standard-webhooks/standard-webhooks
# (commit b2fa7b8): secret, msg id, timestamp, payload and the signature they must give.
VECTORS = [
    pytest.param(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        # libraries/python/tests/test_webhooks.py test_sign_function, and the same vector in
        # javascript/src/webhook.test.ts, ruby, php, csharp tests
        id="python-js-ruby-php-csharp",
    ),
    pytest.param(
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        # the same secret without its prefix (test_signature_verification_with_and_without_prefix)
        id="python-unprefixed-secret",
    ),
    pytest.param(
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        1649367553,
        b'{"email":"test@example.com","username":"test_user"}',
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        # libraries/rust/src/lib.rs test_sign
        id="rust",
    ),
]


class TestSpecVectors:
    @pytest.mark.parametrize(("secret", "msg_id", "ts", "payload", "expected"), VECTORS)
    def test_sign_gives_the_published_signature(
        self, secret: str, msg_id: str, ts: int, payload: bytes, expected: str
    ) -> None:
        # Given a vector of the reference libraries / When quittance's helper signs it
        # Then the signature is exactly the published one
        assert sign(msg_id, ts, payload, secret) == expected

    @pytest.mark.parametrize(("secret", "msg_id", "ts", "payload", "expected"), VECTORS)
    def test_published_signature_verifies(
        self, secret: str, msg_id: str, ts: int, payload: bytes, expected: str
    ) -> None:
        # Given the published headers, received at the vector's own time
        request = _request(
            payload,
            msg_id=msg_id,
            timestamp=str(ts),
            signature=expected,
            received_at=datetime.fromtimestamp(ts, UTC),
        )
        # When verified with the vector's secret / Then it is accepted
        ADAPTER.verify(request, [secret])

    @pytest.mark.parametrize(("secret", "msg_id", "ts", "payload", "expected"), VECTORS)
    def test_published_signature_fails_for_a_changed_payload(
        self, secret: str, msg_id: str, ts: int, payload: bytes, expected: str
    ) -> None:
        # Given the published signature over a payload with one character changed
        request = _request(
            payload.replace(b"t", b"T", 1),
            msg_id=msg_id,
            timestamp=str(ts),
            signature=expected,
            received_at=datetime.fromtimestamp(ts, UTC),
        )
        # When verified / Then it is refused
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [secret])

    def test_python_reference_multi_signature_header(self) -> None:
        # Given the header shape of the Python reference test_multi_sig_payload_is_valid: a
        # wrong v1, a v2 entry, the valid signature, the wrong v1 again
        expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        header = " ".join(
            [
                "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                expected,
                "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            ]
        )
        request = _request(
            b'{"test": 2432232314}',
            msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp="1614265330",
            signature=header,
            received_at=datetime.fromtimestamp(1614265330, UTC),
        )
        # When verified / Then the one valid entry is enough
        ADAPTER.verify(request, ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])

    @pytest.mark.parametrize(
        ("unpadded", "padded"),
        [
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS="),
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr=="),
        ],
        ids=["one-pad", "two-pads"],
    )
    @pytest.mark.parametrize("prefix", ["", "whsec_"])
    def test_unpadded_secrets_are_accepted_like_the_python_reference(
        self, unpadded: str, padded: str, prefix: str
    ) -> None:
        # Given secrets from test_signature_verification_with_unpadded_secret, given to us
        # without their base64 padding (with and without the prefix)
        body = b'{"test": 2432232314}'
        request = _request(body, signature=_v1(padded, MSG_ID, str(TS), body))
        # When verified / Then the unpadded form is the same key
        ADAPTER.verify(request, [prefix + unpadded])
        assert signing_key(prefix + unpadded) == base64.b64decode(padded)


# ======================================================================= signature


class TestSignature:
    def test_genuine_delivery_verifies(self) -> None:
        # Given a delivery signed by the builder / When verified / Then nothing is raised
        ADAPTER.verify(_as_received(_delivery()), [SECRET])

    def test_builder_sends_the_spec_headers(self) -> None:
        # Given a delivery from the builder
        delivery = _delivery()
        # Then it carries JSON and the three headers, its signature the spec's
        assert delivery.provider == "standard"
        assert delivery.event_id == MSG_ID
        assert delivery.headers["Content-Type"] == "application/json"
        assert delivery.headers["webhook-id"] == MSG_ID
        assert delivery.headers["webhook-timestamp"] == str(TS)
        assert delivery.headers["webhook-signature"] == _v1(SECRET, MSG_ID, str(TS), delivery.body)

    @pytest.mark.parametrize("signing_secret", [OLD_SECRET, SECRET])
    def test_any_active_secret_is_enough_during_rotation(self, signing_secret: str) -> None:
        # Given two active secrets while rotating (old and new)
        delivery = _delivery(secret=signing_secret)
        # When a delivery signed with either is verified / Then it is accepted
        ADAPTER.verify(_as_received(delivery), [OLD_SECRET, SECRET])

    def test_sender_rotating_sends_both_signatures_and_one_is_enough(self) -> None:
        # Given a sender in its rotation window signing with its old and new secret, while we
        # already hold only the new one
        body = _delivery().body
        header = f"{_v1(OLD_SECRET, MSG_ID, str(TS), body)} {_v1(SECRET, MSG_ID, str(TS), body)}"
        # When verified / Then it is accepted
        ADAPTER.verify(_request(body, signature=header), [SECRET])

    def test_entries_of_other_versions_and_garbage_are_passed_over(self) -> None:
        # Given the spec's example shape: a v1a (ed25519) entry, then junk, then a valid v1
        body = _delivery().body
        header = "  ".join(
            [
                "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
                "v1,not*base64",
                "v1,",
                "garbage",
                _v1(SECRET, MSG_ID, str(TS), body),
            ]
        )
        # When verified / Then the valid v1 is found
        ADAPTER.verify(_request(body, signature=header), [SECRET])

    @pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    @pytest.mark.parametrize("value", [None, ""], ids=["absent", "empty"])
    def test_missing_header_is_signature_missing_and_named(
        self, header: str, value: str | None
    ) -> None:
        # Given a genuine delivery with one of its three headers absent or empty
        request = _as_received(_delivery())
        headers = dict(request.headers)
        if value is None:
            del headers[header]
        else:
            headers[header] = value
        # When verified / Then it is refused as unsigned, naming that header
        with pytest.raises(SignatureMissing, match=header):
            ADAPTER.verify(
                WebhookRequest(headers=headers, body=request.body, received_at=RECEIVED),
                [SECRET],
            )

    @pytest.mark.parametrize(
        "make_header",
        [
            pytest.param(lambda s: s.replace("v1,", "v1a,"), id="only-v1a"),
            pytest.param(lambda s: s.replace("v1,", "v2,"), id="only-v2"),
            pytest.param(lambda s: s.replace("v1,", "v0,"), id="only-v0"),
            pytest.param(lambda s: s.replace("v1,", "v1="), id="stripe-style-separator"),
            pytest.param(lambda s: s.replace("v1,", ""), id="no-version"),
            pytest.param(lambda s: s[:-8], id="truncated"),
            pytest.param(lambda s: "v1,", id="empty-v1"),
            pytest.param(lambda s: "v1," + "A" * 43 + "=", id="zero-mac"),
            pytest.param(
                lambda s: "v1," + base64.b64encode(bytes.fromhex(_hex(s))).decode().lower(),
                id="base64-changed-case",
            ),
            pytest.param(lambda s: "v1," + _hex(s), id="hex-not-base64"),
        ],
    )
    def test_signature_of_another_version_or_malformed_is_signature_invalid(
        self, make_header: Callable[[str], str]
    ) -> None:
        # Given a header whose only entry is not a well-formed v1 carrying the right MAC
        body = _delivery().body
        header = make_header(_v1(SECRET, MSG_ID, str(TS), body))
        # When verified / Then it is refused as invalid (not as missing)
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(body, signature=header), [SECRET])

    def test_wrong_secret_is_signature_invalid(self) -> None:
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_as_received(_delivery(secret=OLD_SECRET)), [SECRET])

    def test_no_active_secret_refuses_everything(self) -> None:
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_as_received(_delivery()), [])

    @pytest.mark.parametrize(
        "configured", [["whsec_"], [""], ["   "], ["whsec_not base64!"], ["whsec_abcde"]]
    )
    def test_unusable_configured_secret_matches_nothing(self, configured: list[str]) -> None:
        # Given only an unusable secret configured, and a delivery signed with the key an
        # empty or mis-decoded secret would give (an empty HMAC key: anyone could sign)
        body = _delivery().body
        forged = hmac.new(b"", f"{MSG_ID}.{TS}.".encode() + body, hashlib.sha256).digest()
        header = "v1," + base64.b64encode(forged).decode()
        # When verified / Then nothing is accepted
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(body, signature=header), configured)
        assert signing_key(configured[0]) is None

    def test_the_message_id_is_signed(self) -> None:
        # Given a genuine signature replayed under another webhook-id (to slip past dedupe)
        body = _delivery().body
        request = _request(body, msg_id="msg_other", signature=_v1(SECRET, MSG_ID, str(TS), body))
        # When verified / Then it is refused
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    def test_the_timestamp_is_signed(self) -> None:
        # Given an old genuine signature replayed under a fresh timestamp
        body = _delivery().body
        request = _request(body, signature=_v1(SECRET, MSG_ID, str(TS - 3600), body))
        # When verified at TS / Then it is refused for its signature
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def test_any_single_byte_change_is_signature_invalid(self, data: st.DataObject) -> None:
        delivery = _delivery()
        body = bytearray(delivery.body)
        index = data.draw(st.integers(0, len(body) - 1), label="index")
        body[index] ^= data.draw(st.integers(1, 255), label="xor")
        request = _request(bytes(body), signature=delivery.headers["webhook-signature"])
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    @pytest.mark.parametrize(
        "stamp",
        ["hello", f"{TS}.0", f"-{TS}", "1.78e9", f" {TS}", f"{TS}\n", "\u00b2", "9" * 13],
        ids=["word", "float", "negative", "exponent", "space", "newline", "superscript", "huge"],
    )
    def test_malformed_timestamp_is_signature_invalid(self, stamp: str) -> None:
        # Given a webhook-timestamp that is not plain integer seconds, even if signed as is
        body = _delivery().body
        request = _request(body, timestamp=stamp, signature=_v1(SECRET, MSG_ID, stamp, body))
        # When verified / Then it is refused as invalid, never a crash
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    @pytest.mark.parametrize(
        "msg_id",
        ["msg_1.1781000000", "m" * 256, "msg_\ud800"],
        ids=["dot", "too-long", "lone-surrogate"],
    )
    def test_unacceptable_message_id_is_signature_invalid(self, msg_id: str) -> None:
        # Given a webhook-id with a '.', too long for an event id, or not encodable text,
        # correctly signed as sent wherever it can be encoded at all
        body = _delivery().body
        signable = msg_id.encode(errors="surrogatepass").decode(errors="replace")
        signature = _v1(SECRET, signable, str(TS), body)
        # When verified / Then it is refused as invalid, never a crash
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(body, msg_id=msg_id, signature=signature), [SECRET])

    @pytest.mark.parametrize(
        ("skew", "reason"),
        [(-301, "too old"), (301, "too far in the future"), (-86400, "too old")],
        ids=["301s-old", "301s-in-future", "a-day-old"],
    )
    def test_timestamp_beyond_tolerance_is_refused_with_the_reason(
        self, skew: int, reason: str
    ) -> None:
        # Given a genuinely signed delivery whose timestamp is beyond 5 minutes from our clock
        delivery = _delivery(timestamp=TS + skew)
        # When verified at RECEIVED / Then it is refused for its timestamp, saying which way
        with pytest.raises(TimestampOutOfTolerance) as caught:
            ADAPTER.verify(_as_received(delivery), [SECRET])
        assert reason in caught.value.detail
        assert str(abs(skew)) in caught.value.detail

    @pytest.mark.parametrize("skew", [-300, 300, 0])
    def test_timestamp_within_tolerance_is_accepted(self, skew: int) -> None:
        ADAPTER.verify(_as_received(_delivery(timestamp=TS + skew)), [SECRET])

    @pytest.mark.parametrize("skew", [-3600, 3600])
    def test_bad_signature_is_reported_before_a_stale_timestamp(self, skew: int) -> None:
        # Given a forged signature on an hour-old (or hour-ahead) timestamp
        delivery = _delivery(secret=OLD_SECRET, timestamp=TS + skew)
        # When verified / Then the signature is what is reported (documented order)
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_as_received(delivery), [SECRET])

    @settings(max_examples=150, deadline=None)
    @given(
        msg_id=st.text(max_size=40),
        stamp=st.text(max_size=16) | st.integers(0, 2 * TS).map(str),
        signature=st.text(max_size=120),
    )
    def test_any_header_values_give_only_typed_refusals(
        self, msg_id: str, stamp: str, signature: str
    ) -> None:
        # Given arbitrary header values / When verified
        # Then the only refusals are the three typed signature errors
        request = _request(b"{}", msg_id=msg_id, timestamp=stamp, signature=signature)
        with pytest.raises((SignatureMissing, SignatureInvalid, TimestampOutOfTolerance)):
            ADAPTER.verify(request, [SECRET, "whsec_", "not base64"])


def _hex(v1_entry: str) -> str:
    return base64.b64decode(v1_entry.removeprefix("v1,")).hex()


# ======================================================================= parsing


class TestParse:
    def test_card_payment_maps_every_field(self) -> None:
        # Given a genuine payment.succeeded for invoice F-2026-0117, 1 234,56 €, by card
        delivery = _delivery(
            method={
                "kind": "card",
                "brand": "mastercard",
                "last4": "4444",
                "transaction_id": "txn_1PqRsTuVwXyZ0123",
            },
            customer={
                "reference": "CLI-000042",
                "name": "Camille Durand",
                "email": "camille.durand@example.com",
                "phone": "+33612345678",
                "locale": "fr",
            },
            occurred_at=datetime(2026, 6, 9, 10, 13, 18, tzinfo=UTC),
        )
        request = _as_received(delivery)
        ADAPTER.verify(request, [SECRET])
        # When it is parsed
        parsed = ADAPTER.parse(request)
        # Then one canonical event carries what the receipt needs
        assert parsed.delivery_id == MSG_ID
        assert parsed.ignored == ()
        (event,) = parsed.events
        assert event.event_id == MSG_ID
        assert event.dedupe_key == f"standard#{MSG_ID}"
        assert event.provider == "standard" == ADAPTER.name
        assert event.type is EventType.PAYMENT_SUCCEEDED
        assert event.occurred_at == datetime(2026, 6, 9, 10, 13, 18, tzinfo=UTC)
        assert event.payment_id == "pay_7f3c1e9a2b4d6f8091a2b3c4"
        assert event.invoice_number == "F-2026-0117"
        assert (event.amount.amount_minor, event.amount.currency) == (123456, "EUR")
        assert event.method == PaymentMethod(
            kind=MethodKind.CARD,
            card_brand="mastercard",
            card_last4="4444",
            transaction_id="txn_1PqRsTuVwXyZ0123",
        )
        assert event.customer is not None
        assert event.customer.reference == "CLI-000042"
        assert event.customer.name == "Camille Durand"
        assert event.customer.email == "camille.durand@example.com"
        assert event.customer.phone == "+33612345678"
        assert event.customer.locale == "fr"
        assert (event.failure, event.refund, event.dispute) == (None, None, None)
        assert event.livemode is True

    def test_every_method_proof_field_is_mapped_one_to_one(self) -> None:
        # Given a method object carrying every proof field we document
        method = {
            "kind": "other",
            "brand": "cb",
            "last4": "0005",
            "transaction_id": "txn_9",
            "transfer_reference": "VIR-9",
            "iban_masked": "DE89 •••• •••• •••• •••• 00",
            "mandate_reference": "MNDT-2026-0001",
            "cheque_number": "0001234",
            "cashing_date": "2026-06-10",
            "received_by": "Accueil Lyon",
            "wallet_provider": "apple_pay",
            "value_date": "2026-06-08",
        }
        # When parsed
        (event,) = ADAPTER.parse(_as_received(_delivery(method=method))).events
        # Then each lands in its canonical field
        assert event.method == PaymentMethod(
            kind=MethodKind.OTHER,
            card_brand="cb",
            card_last4="0005",
            transaction_id="txn_9",
            transfer_reference="VIR-9",
            iban_masked="DE89 •••• •••• •••• •••• 00",
            mandate_reference="MNDT-2026-0001",
            cheque_number="0001234",
            cashing_date=date(2026, 6, 10),
            received_by="Accueil Lyon",
            wallet_provider="apple_pay",
            value_date=date(2026, 6, 8),
        )

    @pytest.mark.parametrize("kind", list(MethodKind))
    def test_every_method_kind_is_understood(self, kind: MethodKind) -> None:
        (event,) = ADAPTER.parse(_as_received(_delivery(method={"kind": kind.value}))).events
        assert event.method.kind is kind

    def test_sepa_transfer_example_keeps_its_proof_and_fits_the_canonical_iban_pattern(
        self,
    ) -> None:
        # Given the builder's SEPA transfer: reference, IBAN masked in groups of 4 with the
        # last 4 characters shown across the last group boundary, value date
        delivery = standard_sepa_transfer(
            SECRET, invoice_number="F-2026-0118", amount_minor=250000, timestamp=TS
        )
        request = _as_received(delivery)
        ADAPTER.verify(request, [SECRET])
        # When parsed
        (event,) = ADAPTER.parse(request).events
        # Then the transfer's proof is kept; the shown tail is written without its space
        assert SEPA_TRANSFER["iban_masked"] == "FR76 **** **** **** **** ***0 189"
        assert event.method.kind is MethodKind.SEPA_TRANSFER
        assert event.method.transfer_reference == "VIR-SEPA-20260608-000117"
        assert event.method.iban_masked == "FR76 **** **** **** **** ***0189"
        assert event.method.value_date == date(2026, 6, 8)
        assert (event.amount.amount_minor, event.invoice_number) == (250000, "F-2026-0118")

    @pytest.mark.parametrize(
        ("given", "kept"),
        [
            ("FR76 **** **** **** **** ***0 189", "FR76 **** **** **** **** ***0189"),
            ("FR76 **** **** **** **** **** 189", "FR76 **** **** **** **** **** 189"),
            ("FR76***********************0189", "FR76***********************0189"),
            ("FR76 •••• 0189", "FR76 •••• 0189"),
            (" DE89 •••• •••• •••• •••• 30 00 ", "DE89 •••• •••• •••• •••• 3000"),
            ("BE68 **** **** ****", "BE68 **** **** ****"),
        ],
    )
    def test_masked_iban_forms_are_accepted(self, given: str, kept: str) -> None:
        method = {"kind": "sepa_debit", "iban_masked": given, "mandate_reference": "M-1"}
        (event,) = ADAPTER.parse(_as_received(_delivery(method=method))).events
        assert event.method.iban_masked == kept

    def test_failed_payment_carries_its_failure(self) -> None:
        # Given the builder's declined card payment, without a customer object
        delivery = standard_payment_failed(
            SECRET,
            invoice_number="F-2026-0119",
            amount_minor=4200,
            category="expired_card",
            code="card_declined/expired_card",
            message="The card has expired.",
            timestamp=TS,
            msg_id="msg_failed_1",
            customer=None,
        )
        request = _as_received(delivery)
        ADAPTER.verify(request, [SECRET])
        # When parsed
        (event,) = ADAPTER.parse(request).events
        # Then it is a failed payment saying why, in customer terms, with the sender's code
        assert event.event_id == "msg_failed_1"
        assert event.type is EventType.PAYMENT_FAILED
        assert event.failure is not None
        assert event.failure.category is FailureCategory.EXPIRED_CARD
        assert event.failure.provider_code == "card_declined/expired_card"
        assert event.failure.message == "The card has expired."
        assert event.customer is None
        assert (event.method.kind, event.method.card_last4) == (MethodKind.CARD, "0341")
        assert event.amount.amount_minor == 4200

    def test_refund_maps_to_refund_issued_with_its_own_amount(self) -> None:
        # Given a partial refund of 30,00 € on a 123,45 € payment
        delivery = standard_refund(
            SECRET,
            payment_id="pay_7f3c1e9a2b4d6f8091a2b3c4",
            invoice_number="F-2026-0117",
            amount_minor=12345,
            refunded_minor=3000,
            timestamp=TS,
        )
        # When parsed
        (event,) = ADAPTER.parse(_as_received(delivery)).events
        # Then it is the canonical refund.issued, the refund in the payment's currency
        refund = _payload(delivery)["data"]["refund"]
        assert event.type is EventType.REFUND_ISSUED
        assert event.payment_id == "pay_7f3c1e9a2b4d6f8091a2b3c4"
        assert event.amount.amount_minor == 12345
        assert event.refund is not None
        assert event.refund.refund_id == refund["refund_id"]
        assert (event.refund.amount.amount_minor, event.refund.amount.currency) == (3000, "EUR")
        assert event.refund.reason == "requested_by_customer"

    @pytest.mark.parametrize(
        ("event_type", "outcome", "kind"),
        [
            ("dispute.opened", None, EventType.DISPUTE_OPENED),
            ("dispute.closed", "won", EventType.DISPUTE_CLOSED),
            ("dispute.closed", "lost", EventType.DISPUTE_CLOSED),
        ],
    )
    def test_disputes_map_with_their_outcome(
        self, event_type: str, outcome: str | None, kind: EventType
    ) -> None:
        dispute = {"dispute_id": "dsp_1", "amount": 123456, "reason": "fraudulent"}
        if outcome:
            dispute["outcome"] = outcome
        delivery = _delivery(event_type=event_type, dispute=dispute, customer=None)
        (event,) = ADAPTER.parse(_as_received(delivery)).events
        assert event.type is kind
        assert event.dispute is not None
        assert event.dispute.dispute_id == "dsp_1"
        assert event.dispute.amount.amount_minor == 123456
        assert event.dispute.reason == "fraudulent"
        assert event.dispute.outcome == (DisputeOutcome(outcome) if outcome else None)

    def test_occurred_at_is_the_body_timestamp_in_utc_not_the_attempt_time(self) -> None:
        # Given an event that happened at 08:02:11+02:00, delivered (retried) much later
        delivery = _delivery(
            occurred_at=datetime.fromisoformat("2026-06-09T08:02:11+02:00"), timestamp=TS
        )
        assert _payload(delivery)["timestamp"] == "2026-06-09T06:02:11Z"
        payload = _payload(delivery)
        payload["timestamp"] = "2026-06-09T08:02:11+02:00"
        # When parsed
        (event,) = _parse_payload(payload).events
        # Then occurred_at is that instant, in UTC
        assert event.occurred_at == datetime(2026, 6, 9, 6, 2, 11, tzinfo=UTC)
        assert event.occurred_at.tzinfo is UTC

    def test_a_redelivery_is_the_same_event(self) -> None:
        # Given the same message retried later: same webhook-id, new timestamp and signature
        first = _delivery(timestamp=TS)
        retry = _delivery(timestamp=TS + 3600)
        assert first.headers["webhook-signature"] != retry.headers["webhook-signature"]
        # When both are parsed
        (a,) = ADAPTER.parse(_as_received(first)).events
        (b,) = ADAPTER.parse(_as_received(retry, TS_PLUS_HOUR)).events
        # Then they share the event id the intake dedupes on
        assert a.dedupe_key == b.dedupe_key == f"standard#{MSG_ID}"

    def test_parsed_event_survives_the_intake_message_round_trip(self) -> None:
        # Given a parsed SEPA transfer (dates, masked IBAN, customer)
        delivery = standard_sepa_transfer(
            SECRET, invoice_number="F-2026-0118", amount_minor=250000, timestamp=TS
        )
        (event,) = ADAPTER.parse(_as_received(delivery)).events
        # When intake wraps it for the payment-events queue and the ledger reads it back
        message = PaymentEventMessage(correlation_id="req-1", received_at=RECEIVED, event=event)
        # Then nothing is lost or changed on the way
        assert PaymentEventMessage.model_validate_json(message.model_dump_json()) == message

    def test_livemode_false_marks_a_test_payment(self) -> None:
        (event,) = ADAPTER.parse(_as_received(_delivery(livemode=False))).events
        assert event.livemode is False

    def test_lower_case_currency_and_zero_decimal_currency(self) -> None:
        (event,) = ADAPTER.parse(_as_received(_delivery(currency="jpy", amount_minor=5000))).events
        assert (event.amount.amount_minor, event.amount.currency) == (5000, "JPY")

    def test_empty_optional_strings_mean_absent_and_unknown_properties_are_ignored(
        self,
    ) -> None:
        # Given a sender that writes "" for what it does not know and adds its own metadata
        payload = _payload()
        payload["data"]["invoice_number"] = ""
        payload["data"]["customer"] = {"reference": "CLI-1", "email": "", "phone": ""}
        payload["data"]["method"] = {"kind": "card", "last4": "", "brand": ""}
        payload["data"]["sender_metadata"] = {"shop": "Lyon"}
        payload["api_version"] = "2026-01"
        # When parsed
        (event,) = _parse_payload(payload).events
        # Then the blanks are absent and the extras change nothing
        assert event.invoice_number is None
        assert event.customer is not None
        assert (event.customer.email, event.customer.phone) == (None, None)
        assert (event.method.card_last4, event.method.card_brand) == (None, None)


class TestIgnored:
    @pytest.mark.parametrize(
        "event_type", ["invoice.created", "payment.created", "refund.issued", "Payment.Succeeded"]
    )
    def test_unknown_type_is_acknowledged_and_ignored(self, event_type: str) -> None:
        # Given a verified event of a type we do not act on, whatever its data
        body = _body({"type": event_type, "timestamp": "x", "data": ["anything"]})
        request = _request(body)
        ADAPTER.verify(request, [SECRET])
        # When parsed / Then it is acknowledged as ignored, with nothing to queue
        assert ADAPTER.parse(request) == ParsedDelivery(
            delivery_id=MSG_ID, events=(), ignored=(event_type,)
        )


# ======================================================================= 422


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, leaf = path.split(".")

    def mutate(payload: dict[str, Any]) -> None:
        target = payload
        for key in parents:
            target = target[key]
        target[leaf] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, leaf = path.split(".")

    def mutate(payload: dict[str, Any]) -> None:
        target = payload
        for key in parents:
            target = target[key]
        del target[leaf]

    return mutate


FULL_IBAN = "FR7630006000011234567890189"
REFUSED = [
    pytest.param(_set("data.currency", "EURO"), "data.currency", id="currency-4-letters"),
    pytest.param(_set("data.currency", "XXY"), "data.currency", id="currency-unknown"),
    pytest.param(_set("data.amount", -100), "data.amount", id="negative-amount"),
    pytest.param(_set("data.amount", 12.5), "data.amount", id="fractional-amount"),
    pytest.param(_set("data.amount", "1234"), "data.amount", id="amount-as-string"),
    pytest.param(_set("data.amount", True), "data.amount", id="amount-as-boolean"),
    pytest.param(_set("data.amount", 10**16), "data.amount", id="amount-absurd"),
    pytest.param(
        _set("data.method", {"kind": "sepa_transfer", "iban_masked": FULL_IBAN}),
        "data.method.iban_masked",
        id="unmasked-iban",
    ),
    pytest.param(
        _set(
            "data.method",
            {"kind": "sepa_transfer", "iban_masked": "FR76 3000 6000 0112 3456 7890 189"},
        ),
        "data.method.iban_masked",
        id="unmasked-iban-grouped",
    ),
    pytest.param(
        _set(
            "data.method",
            {"kind": "sepa_transfer", "iban_masked": "FR76 3000 6000 **** **** ***0 189"},
        ),
        "data.method.iban_masked",
        id="iban-bank-code-shown",
    ),
    pytest.param(
        _set(
            "data.method", {"kind": "sepa_transfer", "iban_masked": "FR76 **** **** 4567 890 189"}
        ),
        "data.method.iban_masked",
        id="iban-too-much-shown",
    ),
    pytest.param(_set("type", "payment.failed"), "data.failure", id="failed-without-failure"),
    pytest.param(_drop("data.payment_id"), "data.payment_id", id="missing-payment-id"),
    pytest.param(_set("data.payment_id", ""), "data.payment_id", id="empty-payment-id"),
    pytest.param(_drop("data.customer"), "data.customer", id="succeeded-without-customer"),
    pytest.param(_drop("data.customer.reference"), "data.customer.reference", id="no-reference"),
    pytest.param(_drop("data.method"), "data.method", id="missing-method"),
    pytest.param(_set("data.method.kind", "crypto"), "data.method.kind", id="unknown-kind"),
    pytest.param(_set("data.method.last4", "42"), "data.method.last4", id="last4-short"),
    pytest.param(
        _set("data.failure", {"category": "declined"}), "data.failure", id="failure-on-success"
    ),
    pytest.param(_set("type", "payment.refunded"), "data.refund", id="refund-without-refund"),
    pytest.param(_drop("timestamp"), "timestamp", id="missing-timestamp"),
    pytest.param(_set("timestamp", "2026-06-09T10:13:18"), "timestamp", id="naive-timestamp"),
    pytest.param(_set("timestamp", TS), "timestamp", id="unix-timestamp"),
    pytest.param(_set("timestamp", str(TS)), "timestamp", id="unix-timestamp-as-string"),
    pytest.param(_set("timestamp", "2026-06-09T10:13:18+02"), "timestamp", id="short-offset"),
    pytest.param(_set("timestamp", "2026-06-09"), "timestamp", id="date-only"),
    pytest.param(_set("data.method.value_date", "08/06/2026"), "data.method.value_date", id="date"),
    pytest.param(_set("data", "pay_1"), "data", id="data-not-object"),
    pytest.param(_drop("data"), "data", id="missing-data"),
]


class TestPayloadInvalid:
    @pytest.mark.parametrize(("mutate", "location"), REFUSED)
    def test_refused_with_the_failing_location(
        self, mutate: Callable[[dict[str, Any]], None], location: str
    ) -> None:
        # Given a signed payment.succeeded with one thing wrong
        payload = _payload()
        mutate(payload)
        # When parsed / Then it is refused with that field named
        with pytest.raises(PayloadInvalid) as caught:
            _parse_payload(payload)
        assert location in _locations(caught.value), caught.value.errors

    def test_failure_category_must_be_one_of_ours(self) -> None:
        delivery = standard_payment_failed(
            SECRET, invoice_number="F-1", amount_minor=100, category="bad_luck", timestamp=TS
        )
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_as_received(delivery))
        assert "data.failure.category" in _locations(caught.value)

    @pytest.mark.parametrize(
        ("event_type", "detail"), [("payment.refunded", "refund"), ("dispute.opened", "dispute")]
    )
    def test_refund_or_dispute_above_the_payment_is_refused(
        self, event_type: str, detail: str
    ) -> None:
        # Given a refund (or dispute) of 123,46 € on a payment of 123,45 €
        payload = _payload(_delivery(amount_minor=12345, customer=None))
        payload["type"] = event_type
        payload["data"][detail] = {f"{detail}_id": "x_1", "amount": 12346}
        # When parsed / Then it is refused on that amount
        with pytest.raises(PayloadInvalid) as caught:
            _parse_payload(payload)
        assert _locations(caught.value) == [f"data.{detail}.amount"]

    @pytest.mark.parametrize(
        ("event_type", "outcome", "msg"),
        [("dispute.closed", None, "required"), ("dispute.opened", "won", "only allowed")],
    )
    def test_dispute_outcome_goes_with_closed_only(
        self, event_type: str, outcome: str | None, msg: str
    ) -> None:
        dispute = {"dispute_id": "dsp_1", "amount": 100, "outcome": outcome}
        payload = _payload(_delivery(event_type=event_type, dispute=dispute))
        with pytest.raises(PayloadInvalid) as caught:
            _parse_payload(payload)
        (error,) = caught.value.errors
        assert error["loc"] == ["data", "dispute", "outcome"]
        assert msg in str(error["msg"])

    def test_every_failing_location_is_listed(self) -> None:
        payload = _payload()
        payload["data"]["currency"] = "EURO"
        payload["data"]["amount"] = -1
        del payload["data"]["payment_id"]
        with pytest.raises(PayloadInvalid) as caught:
            _parse_payload(payload)
        assert {"data.currency", "data.amount", "data.payment_id"} <= set(_locations(caught.value))

    def test_an_unmasked_iban_is_never_echoed(self) -> None:
        # Given a signed body carrying a full IBAN
        payload = _payload()
        payload["data"]["method"] = {"kind": "sepa_transfer", "iban_masked": FULL_IBAN}
        # When refused / Then neither the detail nor the field errors repeat it
        with pytest.raises(PayloadInvalid) as caught:
            _parse_payload(payload)
        told = caught.value.detail + json.dumps(caught.value.errors, default=str)
        assert "full IBAN" in told
        assert "0189" not in told
        assert "30006" not in told

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"", id="empty"),
            pytest.param(b"not json", id="text"),
            pytest.param(b'{"type": "payment.succeeded", ', id="truncated"),
            pytest.param(b"\xff\xfe\x00garbage", id="undecodable"),
            pytest.param(b'[{"type":"payment.succeeded"}]', id="array"),
            pytest.param(b"null", id="null"),
            pytest.param(b'{"data": {}}', id="no-type"),
            pytest.param(b'{"type": 7}', id="type-not-a-string"),
            pytest.param(b'{"type": ""}', id="type-empty"),
            pytest.param(b"[" * 100_000, id="deeply-nested"),
            pytest.param(b'{"type":"payment.succeeded","n":' + b"1" * 5000 + b"}", id="huge-int"),
            pytest.param(b'\xef\xbb\xbf{"type":"invoice.created"}', id="utf8-bom"),
        ],
    )
    def test_body_that_is_not_a_json_object_with_a_type_is_payload_invalid(
        self, body: bytes
    ) -> None:
        request = _request(body)
        ADAPTER.verify(request, [SECRET])
        with pytest.raises(PayloadInvalid):
            ADAPTER.parse(request)

    @pytest.mark.parametrize("msg_id", [None, "a.b"])
    def test_parse_without_a_usable_webhook_id_is_payload_invalid(self, msg_id: str | None) -> None:
        request = _request(_delivery().body, msg_id=msg_id, signature="v1,x")
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(request)
        assert _locations(caught.value) == ["headers.webhook-id"]


# ======================================================================= properties


def _verify_then_parse(body: bytes) -> ParsedDelivery | None:
    request = _request(body)
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
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["", "EUR", "2026-06-09", "2026-06-09T10:13:18Z", "card", "FR76 **** 0189"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "type",
    "timestamp",
    "data",
    "data.payment_id",
    "data.invoice_number",
    "data.amount",
    "data.currency",
    "data.method",
    "data.customer",
    "data.failure",
    "data.refund",
    "data.dispute",
    "data.livemode",
    "data.method.kind",
    "data.method.last4",
    "data.method.iban_masked",
    "data.method.value_date",
    "data.customer.reference",
]


_BASES = {
    "payment.succeeded": _payload(_delivery(method=SEPA_TRANSFER)),
    "payment.failed": _payload(
        _delivery(event_type="payment.failed", failure={"category": "declined"})
    ),
    "payment.refunded": _payload(
        _delivery(event_type="payment.refunded", refund={"refund_id": "r_1", "amount": 1})
    ),
    "dispute.closed": _payload(
        _delivery(
            event_type="dispute.closed",
            dispute={"dispute_id": "d_1", "amount": 1, "outcome": "won"},
        )
    ),
}


@settings(max_examples=300, deadline=None, derandomize=True, report_multiple_bugs=False)
@given(
    field=st.sampled_from(FIELDS),
    value=JSON_VALUES,
    event_type=st.sampled_from(sorted(_BASES)),
)
def test_signed_event_with_any_json_in_a_field_parses_or_is_payload_invalid(
    field: str, value: Any, event_type: str
) -> None:
    # Given a genuine event of a handled type where one field holds arbitrary JSON
    payload = copy.deepcopy(_BASES[event_type])
    assert isinstance(_verify_then_parse(_body(payload)), ParsedDelivery)
    _set(field, value)(payload)
    # When verified and parsed / Then the only refusal is PayloadInvalid
    result = _verify_then_parse(_body(payload))
    assert result is None or isinstance(result, ParsedDelivery)


# ======================================================================= documentation


def _doc_json_blocks() -> list[Any]:
    text = DOC.read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


def test_documented_examples_are_accepted_by_the_adapter_and_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    # Given the JSON Schema and the examples of docs/providers/standard-webhooks.md
    blocks = _doc_json_blocks()
    (schema,) = [b for b in blocks if "$schema" in b]
    examples = [b for b in blocks if "data" in b and "type" in b and "$schema" not in b]
    assert len(examples) >= 6
    jsonschema.Draft202012Validator.check_schema(schema)
    for example in [*examples, *_BASES.values()]:
        # When each (and each base of the property test below) is validated and parsed
        jsonschema.validate(example, schema, cls=jsonschema.Draft202012Validator)
        (event,) = _parse_payload(example).events
        # Then it maps to the documented canonical type
        assert event.type.value == {"payment.refunded": "refund.issued"}.get(
            example["type"], example["type"]
        )


# What the schema states in words only: ISO 4217 membership; and what only its "date-time"
# format says, which jsonschema checks only when rfc3339-validator is installed.
IN_WORDS_ONLY = {"currency-unknown"}
DATE_TIME_FORMAT = {"naive-timestamp", "unix-timestamp-as-string", "short-offset", "date-only"}


@pytest.mark.parametrize(("mutate", "location"), [p for p in REFUSED if p.id not in IN_WORDS_ONLY])
def test_documented_schema_refuses_what_the_adapter_refuses(
    mutate: Callable[[dict[str, Any]], None], location: str, request: pytest.FixtureRequest
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    # Given the documented schema and a payload the adapter refuses on `location`
    (schema,) = [b for b in _doc_json_blocks() if "$schema" in b]
    payload = _payload()
    mutate(payload)
    # When validated / Then the schema refuses it too
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    if request.node.callspec.id in DATE_TIME_FORMAT and "date-time" not in checker.checkers:
        pytest.skip("jsonschema checks the date-time format only with rfc3339-validator")
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    assert not validator.is_valid(payload), location
