"""GoCardless deliveries: the ``Webhook-Signature`` scheme, batches of events mapped to canonical
PaymentEvents (intake checks what each event states and hands it to the lookup stage, which
reads payment → mandate → customer from GoCardless's API), amounts from ``resource_metadata``
overriding the API's, and partial mapping of a batch."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quittance.errors import PayloadInvalid, SignatureInvalid, SignatureMissing
from quittance.gateways.gocardless_lookup import complete_gocardless
from quittance.models.events import (
    DisputeOutcome,
    EventType,
    FailureCategory,
    MethodKind,
    PaymentEvent,
)
from quittance.providers import gocardless as gocardless_module
from quittance.providers.base import ParsedDelivery, WebhookRequest
from quittance.providers.gocardless import GoCardlessAdapter, metadata_amount
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.gocardless import (
    api_objects,
    gocardless_batch,
    mandate_event,
    payment_charged_back,
    payment_confirmed,
    payment_failed,
    refund_created,
)
from tests.unit.gateway_fakes import FakeGoCardlessApi

SECRET = "gc_whsec_test_Wv3n0pQk8sZ1xY4b7T2mR9aL"
OLD_SECRET = "gc_whsec_test_rolled_out_0123456789abcdef"
RECEIVED = datetime(2026, 6, 9, 10, 13, 20, tzinfo=UTC)
CREATED = datetime(2026, 6, 9, 10, 13, 19, 482_000, tzinfo=UTC)
WEBHOOK_ID = "WB00KQ7H2N4M8P"
PAYMENT_ID = "PM00ZC4T1P9XB6"
MANDATE_ID = "MD00EJ8V9M3Q2R"
ADAPTER = GoCardlessAdapter()


def _confirmed(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "invoice_number": "F-2026-0117",
        "amount_minor": 123456,
        "customer_reference": "CLI-000042",
        "payment_id": PAYMENT_ID,
        "mandate_id": MANDATE_ID,
        "event_id": "EV00BD05S5VM2T",
        "created_at": CREATED,
    }
    kwargs.update(overrides)
    return payment_confirmed(**kwargs)


def _batch(events: list[dict[str, Any]], *, secret: str = SECRET, **kwargs: Any) -> Delivery:
    return gocardless_batch(secret, events, webhook_id=WEBHOOK_ID, **kwargs)


def _as_received(delivery: Delivery) -> WebhookRequest:
    """What intake hands the adapter: header names lower-cased, the body byte for byte."""
    headers = {name.lower(): value for name, value in delivery.headers.items()}
    return WebhookRequest(headers=headers, body=delivery.body, received_at=RECEIVED)


def _request(
    body: bytes, signature: str | None, origin: str | None = gocardless_module.SANDBOX_ORIGIN
) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["webhook-signature"] = signature
    if origin is not None:
        headers["origin"] = origin
    return WebhookRequest(headers=headers, body=body, received_at=RECEIVED)


def _body(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _parse(events: list[dict[str, Any]], **kwargs: Any) -> ParsedDelivery:
    """Sign, verify and parse a batch, as intake does."""
    request = _as_received(_batch(events, **kwargs))
    ADAPTER.verify(request, [SECRET])
    return ADAPTER.parse(request)


PAYER = "jeanne.roux@example.fr"
MANDATE_REFERENCE = "QUITT-M3Q2R"  # what the payer's bank statement shows


def _mapped(events: list[dict[str, Any]], **kwargs: Any) -> tuple[PaymentEvent, ...]:
    """Parse a batch as intake does, then complete each event as the lookup stage does, from
    what GoCardless's API answers for it: the payment (at the amount its metadata states),
    its mandate (the scheme the event names, none when it names none) and the payer."""
    parsed = _parse(events, **kwargs)
    api = FakeGoCardlessApi()
    for raw in events:
        metadata = raw.get("resource_metadata") or {}
        stated = gocardless_module._amount(metadata.get("amount", "10.00 EUR"))
        objects = api_objects(
            raw,
            amount_minor=stated.amount_minor,
            currency=stated.currency,
            email=PAYER,
            given_name="Jeanne",
            family_name="Roux",
        )
        payment, mandate = objects[0], objects[1]
        mandate["id"] = payment["links"]["mandate"] = raw["links"].get("mandate", MANDATE_ID)
        mandate["reference"] = MANDATE_REFERENCE
        mandate["scheme"] = (raw.get("details") or {}).get("scheme")
        api.add(*objects)
    return tuple(
        event for lookup in parsed.lookups for event in complete_gocardless(lookup, api).events
    )


def _mac(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ======================================================================= signature


class TestSignature:
    def test_genuine_delivery_verifies(self) -> None:
        # Given a batch signed the way GoCardless signs it
        request = _as_received(_batch([_confirmed()]))
        # When it is verified with the endpoint's secret / Then nothing is raised
        ADAPTER.verify(request, [SECRET])

    def test_sign_helper_is_hmac_sha256_hex_of_the_raw_body(self) -> None:
        body = b'{"events":[],"meta":{"webhook_id":"WB1"}}'
        assert gocardless_module.sign(body, SECRET) == _mac(body, SECRET)

    def test_official_client_test_vector_verifies(self) -> None:
        # Given the signed fixture of GoCardless's own Python client (gocardless-pro-python,
        # MIT, tests/webhooks_test.py): body, endpoint secret and Webhook-Signature
        body = (
            b'{"events":[{"id":"EV00BD05S5VM2T","created_at":"2018-07-05T09:13:51.404Z",'
            b'"resource_type":"subscriptions","action":"created",'
            b'"links":{"subscription":"SB0003JJQ2MR06"},"details":{"origin":"api",'
            b'"cause":"subscription_created","description":"Subscription created via the API."},'
            b'"metadata":{}},{"id":"EV00BD05TB8K63","created_at":"2018-07-05T09:13:56.893Z",'
            b'"resource_type":"mandates","action":"created","links":{"mandate":"MD000AMA19XGEC"},'
            b'"details":{"origin":"api","cause":"mandate_created",'
            b'"description":"Mandate created via the API."},"metadata":{}}]}'
        )
        signature = "2693754819d3e32d7e8fcb13c729631f316c6de8dc1cf634d6527f1c07276e7e"
        request = _request(body, signature)
        # When verified with that secret / Then it is accepted, and both events are ignored
        ADAPTER.verify(request, ["ED7D658C-D8EB-4941-948B-3973214F2D49"])
        parsed = ADAPTER.parse(request)
        assert parsed.ignored == ("subscriptions.created", "mandates.created")
        assert parsed.delivery_id == "EV00BD05S5VM2T"

    @pytest.mark.parametrize("signing_secret", [OLD_SECRET, SECRET])
    def test_any_active_secret_is_enough_during_rotation(self, signing_secret: str) -> None:
        # Given two active secrets while the endpoint's secret is rotated
        delivery = _batch([_confirmed()], secret=signing_secret)
        # When a delivery signed with either is verified / Then it is accepted
        ADAPTER.verify(_as_received(delivery), [OLD_SECRET, SECRET])

    @pytest.mark.parametrize("header", [None, "", "   "], ids=["absent", "empty", "blank"])
    def test_missing_header_is_signature_missing(self, header: str | None) -> None:
        request = _request(_batch([_confirmed()]).body, header)
        with pytest.raises(SignatureMissing):
            ADAPTER.verify(request, [SECRET])

    def test_wrong_secret_is_signature_invalid(self) -> None:
        request = _as_received(_batch([_confirmed()], secret="someone_else"))
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    def test_no_active_secret_refuses_everything(self) -> None:
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_as_received(_batch([_confirmed()])), [])

    def test_body_changed_by_one_byte_is_signature_invalid(self) -> None:
        # Given a genuine delivery whose amount was altered on the way: 1234.56 → 9234.56
        delivery = _batch([_confirmed()])
        tampered = delivery.body.replace(b'"amount":"1234.56 EUR"', b'"amount":"9234.56 EUR"')
        assert len(tampered) == len(delivery.body)
        assert tampered != delivery.body
        # When verified / Then refused
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(tampered, delivery.headers["Webhook-Signature"]), [SECRET])

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def test_any_single_byte_change_is_signature_invalid(self, data: st.DataObject) -> None:
        delivery = _batch([_confirmed()])
        body = bytearray(delivery.body)
        index = data.draw(st.integers(0, len(body) - 1), label="index")
        body[index] ^= data.draw(st.integers(1, 255), label="xor")
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(bytes(body), delivery.headers["Webhook-Signature"]), [SECRET])

    def test_signature_of_another_delivery_is_invalid(self) -> None:
        # Given a genuine signature lifted from one delivery onto another body
        first, second = _batch([_confirmed()]), _batch([_confirmed(amount_minor=1)])
        request = _request(second.body, first.headers["Webhook-Signature"])
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    def test_upper_case_hex_is_refused_like_the_official_clients(self) -> None:
        # Given the right digest written in upper case: GoCardless sends lower case and its
        # clients compare the exact string, so quittance does the same
        delivery = _batch([_confirmed()])
        request = _request(delivery.body, delivery.headers["Webhook-Signature"].upper())
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(request, [SECRET])

    def test_surrounding_whitespace_is_not_part_of_the_signature(self) -> None:
        delivery = _batch([_confirmed()])
        header = f"  {delivery.headers['Webhook-Signature']}\t"
        ADAPTER.verify(_request(delivery.body, header), [SECRET])

    @pytest.mark.parametrize(
        "header",
        [
            pytest.param("sha256=" + "0" * 64, id="prefixed"),
            pytest.param("t=1781000000,v1=" + "0" * 64, id="stripe-style"),
            pytest.param("é" * 64, id="non-ascii"),
            pytest.param("\ud800" * 64, id="lone-surrogates"),
        ],
    )
    def test_malformed_header_is_signature_invalid_not_a_crash(self, header: str) -> None:
        with pytest.raises(SignatureInvalid):
            ADAPTER.verify(_request(_batch([_confirmed()]).body, header), [SECRET])


# ======================================================================= batches


class TestParseBatch:
    def test_a_batch_of_four_maps_to_four_events_in_order(self) -> None:
        # Given one batch: a payment confirmed, another failed, a third charged back, a refund
        events = [
            _confirmed(),
            payment_failed(
                invoice_number="F-2026-0118",
                amount_minor=4999,
                payment_id="PM00FA1LED0001",
                event_id="EV00FA1LED0001",
                created_at=CREATED,
            ),
            payment_charged_back(
                invoice_number="F-2026-0090",
                amount_minor=15000,
                payment_id="PM00CHARGED001",
                event_id="EV00CHARGED001",
                created_at=CREATED,
            ),
            refund_created(
                payment_id="PM00REFUNDED01",
                amount_minor=2500,
                invoice_number="F-2026-0050",
                refund_id="RF00REFUND0001",
                event_id="EV00REFUND0001",
                created_at=CREATED,
            ),
        ]
        # When it is verified, parsed and completed from the API
        parsed = _parse(events)
        mapped = _mapped(events)
        # Then four canonical events come back, in the batch's order, nothing ignored
        assert parsed.delivery_id == WEBHOOK_ID
        assert parsed.ignored == ()
        assert [(e.event_id, e.type) for e in mapped] == [
            ("EV00BD05S5VM2T", EventType.PAYMENT_SUCCEEDED),
            ("EV00FA1LED0001", EventType.PAYMENT_FAILED),
            ("EV00CHARGED001", EventType.DISPUTE_OPENED),
            ("EV00REFUND0001", EventType.REFUND_ISSUED),
        ]
        confirmed, failed, charged_back, refund = mapped
        # the confirmed payment carries what the receipt needs
        assert confirmed.provider == "gocardless"
        assert confirmed.payment_id == PAYMENT_ID
        assert confirmed.invoice_number == "F-2026-0117"
        assert confirmed.amount.amount_minor == 123456
        assert confirmed.amount.currency == "EUR"
        assert confirmed.amount.decimal == Decimal("1234.56")
        assert confirmed.method.kind is MethodKind.SEPA_DEBIT
        assert confirmed.method.transaction_id == PAYMENT_ID
        assert confirmed.method.mandate_reference == MANDATE_REFERENCE
        assert confirmed.customer is not None
        assert confirmed.customer.reference == "CLI-000042"
        # and the payer to write to, read from GoCardless (payment → mandate → customer)
        assert (confirmed.customer.email, confirmed.customer.name) == (PAYER, "Jeanne Roux")
        assert confirmed.customer.locale == "fr"
        assert confirmed.occurred_at == CREATED
        assert confirmed.occurred_at.utcoffset() == timedelta(0)
        assert confirmed.livemode is False
        assert confirmed.failure is confirmed.refund is confirmed.dispute is None
        # the failure keeps GoCardless's cause and the SEPA reason code
        assert failed.payment_id == "PM00FA1LED0001"
        assert failed.amount.amount_minor == 4999
        assert failed.failure is not None
        assert failed.failure.category is FailureCategory.INSUFFICIENT_FUNDS
        assert failed.failure.provider_code == "insufficient_funds:AM04"
        assert failed.failure.message == (
            "The customer's account had insufficient funds to make this payment."
        )
        # the chargeback is a dispute of the whole payment
        assert charged_back.dispute is not None
        assert charged_back.dispute.dispute_id == "PM00CHARGED001"
        assert charged_back.dispute.amount.amount_minor == 15000
        assert charged_back.dispute.reason == "refund_requested"
        assert charged_back.dispute.outcome is None
        # the refund's own amount, against the refunded payment
        assert refund.payment_id == "PM00REFUNDED01"
        assert refund.invoice_number == "F-2026-0050"
        assert refund.refund is not None
        assert refund.refund.refund_id == "RF00REFUND0001"
        assert refund.refund.amount.amount_minor == 2500
        # told to the payer too
        assert refund.customer is not None and refund.customer.email == PAYER

    def test_payment_id_and_event_id_come_from_the_event_not_the_builder(self) -> None:
        # Given a raw event edited by hand (guards against the builder and adapter agreeing
        # on a field GoCardless does not send)
        raw = _confirmed()
        raw["links"] = {"payment": "PM00HANDEDIT01"}
        raw["id"] = "EV00HANDEDIT01"
        (event,) = _mapped([raw])
        assert (event.payment_id, event.event_id) == ("PM00HANDEDIT01", "EV00HANDEDIT01")
        # the mandate is the one GoCardless's payment names, not one the event did not link
        assert event.method.mandate_reference == MANDATE_REFERENCE

    def test_chargeback_cancelled_closes_the_dispute_in_the_merchants_favour(self) -> None:
        # Given a chargeback, then the payer's bank cancelling it
        opened = payment_charged_back(
            invoice_number="F-2026-0090", amount_minor=15000, payment_id=PAYMENT_ID
        )
        cancelled = copy.deepcopy(opened)
        cancelled.update(id="EV00CANCELLED1", action="chargeback_cancelled")
        cancelled["details"] = {
            "origin": "bank",
            "cause": "payment_confirmed",
            "description": "The chargeback for this payment was reversed",
        }
        # When parsed
        first, second = _mapped([opened, cancelled])
        # Then the second closes the same dispute, won
        assert second.type is EventType.DISPUTE_CLOSED
        assert first.dispute is not None
        assert second.dispute is not None
        assert second.dispute.dispute_id == first.dispute.dispute_id == PAYMENT_ID
        assert second.dispute.outcome is DisputeOutcome.WON
        assert second.dispute.reason is None

    @pytest.mark.parametrize(
        ("cause", "reason_code", "category"),
        [
            ("insufficient_funds", "AM04", FailureCategory.INSUFFICIENT_FUNDS),
            ("refer_to_payer", "MS02", FailureCategory.DECLINED),
            ("bank_account_closed", "AC04", FailureCategory.DECLINED),
            ("mandate_cancelled", "MD01", FailureCategory.DECLINED),
            ("invalid_bank_details", "AC01", FailureCategory.DECLINED),
            ("direct_debit_not_enabled", "AG01", FailureCategory.DECLINED),
            ("other", "FF01", FailureCategory.TECHNICAL),
            ("test_failure", "TEST", FailureCategory.TECHNICAL),
            ("a_cause_added_next_year", "ZZ99", FailureCategory.DECLINED),
        ],
    )
    def test_failure_cause_maps_to_a_category(
        self, cause: str, reason_code: str, category: FailureCategory
    ) -> None:
        raw = payment_failed(
            invoice_number="F-1", amount_minor=100, cause=cause, reason_code=reason_code
        )
        (event,) = _mapped([raw])
        assert event.failure is not None
        assert event.failure.category is category
        assert event.failure.provider_code == f"{cause}:{reason_code}"

    def test_failure_without_cause_is_still_a_failure(self) -> None:
        raw = payment_failed(invoice_number="F-1", amount_minor=100)
        raw["details"] = {}
        (event,) = _mapped([raw])
        assert event.failure is not None
        assert event.failure.category is FailureCategory.DECLINED
        assert event.failure.provider_code is None

    @pytest.mark.parametrize(
        ("scheme", "currency", "kind"),
        [
            ("sepa_core", "EUR", MethodKind.SEPA_DEBIT),
            ("sepa_credit_transfer", "EUR", MethodKind.SEPA_TRANSFER),
            ("bacs", "GBP", MethodKind.OTHER),
            (None, "EUR", MethodKind.SEPA_DEBIT),
            (None, "GBP", MethodKind.OTHER),
        ],
    )
    def test_method_kind_from_the_scheme_or_else_the_currency(
        self, scheme: str | None, currency: str, kind: MethodKind
    ) -> None:
        raw = payment_failed(invoice_number="F-1", amount_minor=100, currency=currency)
        if scheme is None:
            del raw["details"]["scheme"]
        else:
            raw["details"]["scheme"] = scheme
        (event,) = _mapped([raw])
        assert event.method.kind is kind

    @pytest.mark.parametrize(
        ("origin", "livemode"),
        [
            (gocardless_module.SANDBOX_ORIGIN, False),
            ("https://api.gocardless.com", True),
            (None, True),
        ],
    )
    def test_livemode_follows_the_origin_header(self, origin: str | None, livemode: bool) -> None:
        delivery = _batch([_confirmed()])
        signature = delivery.headers["Webhook-Signature"]
        (lookup,) = ADAPTER.parse(_request(delivery.body, signature, origin)).lookups
        assert lookup.livemode is livemode

    def test_customer_falls_back_to_the_gocardless_customer(self) -> None:
        # Given a payment whose metadata names no customer
        (event,) = _mapped([_confirmed(customer_reference=None)])
        # Then the payer is GoCardless's customer behind its mandate
        assert event.customer is not None
        assert event.customer.reference == f"CU{PAYMENT_ID[2:]}"
        assert event.customer.email == PAYER

    def test_metadata_text_is_trimmed(self) -> None:
        # Given references typed into the dashboard with stray spaces
        raw = _confirmed(invoice_number=" F-2026-0117 ", customer_reference="\tCLI-000042 ")
        (event,) = _mapped([raw])
        assert event.invoice_number == "F-2026-0117"
        assert event.customer is not None
        assert event.customer.reference == "CLI-000042"

    def test_invoice_number_is_optional(self) -> None:
        (event,) = _mapped([_confirmed(invoice_number=None)])
        assert event.invoice_number is None

    @pytest.mark.parametrize(
        ("value", "minor", "currency"),
        [
            ("1234.56 EUR", 123456, "EUR"),
            ("1234.56 eur", 123456, "EUR"),
            ("  0.99   EUR ", 99, "EUR"),
            ("500 JPY", 500, "JPY"),
            ("12.345 KWD", 12345, "KWD"),
            ("10.00 GBP", 1000, "GBP"),
        ],
    )
    def test_amount_metadata_formats_accepted(self, value: str, minor: int, currency: str) -> None:
        raw = _confirmed()
        raw["resource_metadata"]["amount"] = value
        (event,) = _mapped([raw])
        assert (event.amount.amount_minor, event.amount.currency) == (minor, currency)


# ======================================================================= partial mapping


class TestPartialMapping:
    def test_unmappable_event_is_reported_while_the_others_map(self) -> None:
        # Given a batch whose second event (a confirmed payment) has no amount in its metadata
        missing = _confirmed(event_id="EV00NOAMOUNT01", payment_id="PM00NOAMOUNT01")
        del missing["resource_metadata"]["amount"]
        events = [
            _confirmed(),
            missing,
            payment_failed(invoice_number="F-2", amount_minor=100, event_id="EV00FAILED0002"),
        ]
        # When parsed
        parsed = _parse(events)
        # Then the delivery is accepted: all three go to the lookup stage, the one without an
        # amount to be read from GoCardless's API (issue 16), in the batch's order
        assert parsed.ignored == ()
        assert [
            (lk.event_id, lk.object_id, lk.overrides.get("amount")) for lk in parsed.lookups
        ] == [
            ("EV00BD05S5VM2T", PAYMENT_ID, "1234.56 EUR"),
            ("EV00NOAMOUNT01", "PM00NOAMOUNT01", None),
            ("EV00FAILED0002", parsed.lookups[2].object_id, "1.00 EUR"),
        ]

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param("123456 EUR", id="minor-units-by-mistake"),
            pytest.param("1234,56 EUR", id="decimal-comma"),
            pytest.param("1234.5 EUR", id="one-decimal"),
            pytest.param("1234.567 EUR", id="three-decimals"),
            pytest.param("1234.56", id="no-currency"),
            pytest.param("EUR 1234.56", id="currency-first"),
            pytest.param("1234.56 XXY", id="unknown-currency"),
            pytest.param("-12.00 EUR", id="negative"),
            pytest.param("\u0661\u0662.\u0663\u0664 EUR", id="non-ascii-digits"),
            pytest.param("1" * 40 + ".00 EUR", id="absurdly-long"),
            pytest.param(1234.56, id="json-number"),
            pytest.param(["1234.56 EUR"], id="json-list"),
        ],
    )
    def test_amount_that_is_not_exactly_our_format_is_invalid_amount(self, value: Any) -> None:
        raw = _confirmed()
        raw["resource_metadata"]["amount"] = value
        parsed = _parse([raw])
        assert parsed.lookups == ()
        assert parsed.ignored == ("payments.confirmed:invalid_amount",)

    @pytest.mark.parametrize(
        ("mutate", "reason"),
        [
            pytest.param(lambda e: e["links"].pop("payment"), "missing_payment", id="no-payment"),
            pytest.param(lambda e: e.update(links=None), "missing_payment", id="links-null"),
            pytest.param(
                lambda e: e.update(created_at="2026-06-09T10:13:19"),
                "invalid_created_at",
                id="naive-created-at",
            ),
            pytest.param(
                lambda e: e.update(created_at="yesterday"), "invalid_created_at", id="garbage-date"
            ),
            pytest.param(
                lambda e: e.update(created_at="0001-01-01T00:00:00+01:00"),
                "invalid_created_at",
                id="created-at-before-year-one-in-utc",
            ),
            pytest.param(lambda e: e.pop("created_at"), "invalid_created_at", id="no-created-at"),
            pytest.param(
                lambda e: e["resource_metadata"].update(invoice_number="F" * 65),
                "invalid_invoice_number",
                id="invoice-number-too-long",
            ),
            pytest.param(
                lambda e: e["resource_metadata"].update(customer_reference="C" * 129),
                "invalid_customer",
                id="customer-reference-too-long",
            ),
            pytest.param(lambda e: e.update(id="EV" * 200), "invalid_event_id", id="id-too-long"),
        ],
    )
    def test_unmappable_confirmed_payment_names_its_reason(self, mutate: Any, reason: str) -> None:
        raw = _confirmed()
        mutate(raw)
        parsed = _parse([raw])
        assert parsed.lookups == ()
        assert parsed.ignored == (f"payments.confirmed:{reason}",)

    @pytest.mark.parametrize(
        "mutate",
        [
            pytest.param(lambda e: e.pop("resource_metadata"), id="no-metadata"),
            pytest.param(
                lambda e: e.update(resource_metadata="1234.56 EUR"), id="metadata-not-an-object"
            ),
            pytest.param(
                lambda e: (
                    e["links"].pop("mandate"),
                    e["resource_metadata"].pop("customer_reference"),
                ),
                id="no-customer-nor-mandate",
            ),
        ],
    )
    def test_confirmed_payment_the_metadata_does_not_complete_is_looked_up(
        self, mutate: Any
    ) -> None:
        # Given a confirmed payment whose metadata lacks the amount or the payer (a
        # subscription, instalment or dashboard payment: issue 16)
        raw = _confirmed()
        mutate(raw)
        # When parsed
        parsed = _parse([raw])
        # Then it is not dropped: the lookup stage completes it from the API
        assert (parsed.events, parsed.ignored) == ((), ())
        (lookup,) = parsed.lookups
        assert (lookup.provider, lookup.event_type) == ("gocardless", "payments.confirmed")
        assert (lookup.event_id, lookup.object_id) == (raw["id"], raw["links"]["payment"])
        assert lookup.occurred_at == datetime.fromisoformat(raw["created_at"])

    def test_refund_without_refund_link_is_reported(self) -> None:
        raw = refund_created(payment_id=PAYMENT_ID, amount_minor=100)
        del raw["links"]["refund"]
        assert _parse([raw]).ignored == ("refunds.created:missing_refund",)

    def test_failed_payment_needs_no_customer(self) -> None:
        # Given a failure report for a payment whose metadata names no customer
        raw = payment_failed(invoice_number="F-1", amount_minor=100, customer_reference=None)
        (event,) = _mapped([raw])
        # Then it still maps, to the payer GoCardless knows (who is told it failed)
        assert event.customer is not None and event.customer.email == PAYER


# ======================================================================= ignored


class TestIgnored:
    @pytest.mark.parametrize(
        ("resource_type", "action"),
        [
            ("payments", "paid_out"),
            ("payments", "created"),
            ("payments", "submitted"),
            ("payments", "cancelled"),
            ("payments", "chargeback_settled"),
            ("payments", "late_failure_settled"),
            ("refunds", "paid"),
            ("refunds", "refund_settled"),
            ("refunds", "failed"),
            ("mandates", "active"),
            ("payouts", "paid"),
            ("subscriptions", "payment_created"),
            ("billing_requests", "fulfilled"),
        ],
    )
    def test_events_we_do_not_act_on_are_listed_as_ignored(
        self, resource_type: str, action: str
    ) -> None:
        raw = _confirmed()
        raw.update(resource_type=resource_type, action=action)
        parsed = _parse([raw])
        assert parsed.events == ()
        assert parsed.ignored == (f"{resource_type}.{action}",)

    def test_a_batch_of_only_ignored_events_is_acknowledged(self) -> None:
        parsed = _parse([mandate_event("created"), mandate_event("active")])
        assert parsed.delivery_id == WEBHOOK_ID
        assert parsed.events == ()
        assert parsed.ignored == ("mandates.created", "mandates.active")

    def test_labels_of_unknown_types_are_tame(self) -> None:
        # Given a signed event whose resource type and action are long and odd
        raw = mandate_event()
        raw.update(resource_type="Pay\nments " + "x" * 500, action="<script>")
        (label,) = _parse([raw]).ignored
        # Then the label that reaches logs and the response is short and plain
        assert len(label) <= 129
        assert label.startswith("pay_ments_xxx")
        assert label.endswith("._script_")

    def test_empty_batch_is_acknowledged(self) -> None:
        assert _parse([]) == ParsedDelivery(delivery_id=WEBHOOK_ID)

    def test_delivery_id_falls_back_to_the_first_event_then_the_body(self) -> None:
        body = _body({"events": [mandate_event()] * 2})
        first = json.loads(body)["events"][0]["id"]
        assert ADAPTER.parse(_request(body, None)).delivery_id == first
        empty = _body({"events": []})
        expected = "sha256:" + hashlib.sha256(empty).hexdigest()[:32]
        assert ADAPTER.parse(_request(empty, None)).delivery_id == expected


# ======================================================================= envelope


class TestEnvelope:
    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"", id="empty"),
            pytest.param(b"not json", id="text"),
            pytest.param(b'{"events": [', id="truncated"),
            pytest.param(b"\xff\xfe\x00garbage", id="undecodable"),
            pytest.param(b'[{"events": []}]', id="array"),
            pytest.param(b'"events"', id="string"),
            pytest.param(b"null", id="null"),
            pytest.param(b"[" * 100_000, id="deeply-nested"),
            pytest.param(b'{"events":[],"n":' + b"1" * 5000 + b"}", id="huge-integer"),
        ],
    )
    def test_body_that_is_not_a_json_object_is_payload_invalid(self, body: bytes) -> None:
        with pytest.raises(PayloadInvalid):
            ADAPTER.parse(_request(body, None))

    @pytest.mark.parametrize(
        "payload",
        [
            pytest.param({}, id="no-events"),
            pytest.param({"events": None}, id="null"),
            pytest.param({"events": {"id": "EV1"}}, id="object"),
            pytest.param({"events": "EV1"}, id="string"),
        ],
    )
    def test_events_that_are_not_a_list_is_payload_invalid(self, payload: Any) -> None:
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_request(_body(payload), None))
        assert caught.value.errors == [
            {"loc": ["events"], "msg": "must be a list of event objects"}
        ]

    def test_event_that_is_not_an_object_is_payload_invalid_naming_it(self) -> None:
        payload = {"events": [_confirmed(), "EV00BD05S5VM2T", None]}
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_request(_body(payload), None))
        assert [e["loc"] for e in caught.value.errors] == [["events", 1], ["events", 2]]

    @pytest.mark.parametrize("field", ["id", "resource_type", "action"])
    @pytest.mark.parametrize("value", [None, "", 42], ids=["absent", "empty", "number"])
    def test_event_without_identity_is_payload_invalid(self, field: str, value: Any) -> None:
        raw = _confirmed()
        if value is None:
            del raw[field]
        else:
            raw[field] = value
        payload = {"events": [mandate_event(), raw]}
        with pytest.raises(PayloadInvalid) as caught:
            ADAPTER.parse(_request(_body(payload), None))
        assert ["events", 1, field] in [e["loc"] for e in caught.value.errors]


# ======================================================================= builder


class TestBuilder:
    def test_batch_has_gocardless_headers_and_format(self) -> None:
        events = [_confirmed(), mandate_event()]
        delivery = gocardless_batch(SECRET, events, webhook_id=WEBHOOK_ID)
        assert delivery.provider == "gocardless"
        assert delivery.event_id == "EV00BD05S5VM2T"
        assert delivery.headers["Content-Type"] == "application/json"
        assert delivery.headers["Webhook-Signature"] == _mac(delivery.body, SECRET)
        assert json.loads(delivery.body) == {"events": events, "meta": {"webhook_id": WEBHOOK_ID}}

    def test_ids_look_like_gocardless_ids(self) -> None:
        raw = payment_confirmed(invoice_number="F-1", amount_minor=100)
        for value, prefix in ((raw["id"], "EV"), (raw["links"]["payment"], "PM")):
            assert value.startswith(prefix)
            assert len(value) == 14
            assert value.isalnum()
            assert value.isupper()
        assert raw["created_at"].endswith("Z")
        assert gocardless_batch(SECRET, []).event_id.startswith("WB")

    def test_metadata_amount_examples(self) -> None:
        assert metadata_amount(123456, "EUR") == "1234.56 EUR"
        assert metadata_amount(5, "eur") == "0.05 EUR"
        assert metadata_amount(500, "JPY") == "500 JPY"
        assert metadata_amount(12345, "KWD") == "12.345 KWD"

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(
        minor=st.integers(0, 10**13),
        currency=st.sampled_from(["EUR", "GBP", "SEK", "DKK", "USD", "JPY", "KWD"]),
    )
    def test_metadata_amount_round_trips_through_the_adapter(
        self, minor: int, currency: str
    ) -> None:
        raw = _confirmed()
        raw["resource_metadata"]["amount"] = metadata_amount(minor, currency)
        (event,) = _mapped([raw])
        assert (event.amount.amount_minor, event.amount.currency) == (minor, currency)


# ======================================================================= properties


def _verify_then_parse(body: bytes) -> ParsedDelivery | None:
    request = _request(body, gocardless_module.sign(body, SECRET))
    ADAPTER.verify(request, [SECRET])
    try:
        return ADAPTER.parse(request)
    except PayloadInvalid:
        return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2048))
def test_any_signed_bytes_parse_or_are_payload_invalid(body: bytes) -> None:
    result = _verify_then_parse(body)
    assert result is None or isinstance(result, ParsedDelivery)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["1234.56 EUR", "500 JPY", "2026-06-09T10:13:19Z", "payments", "PM1"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(events=st.lists(JSON_VALUES, max_size=4))
def test_signed_batch_of_arbitrary_json_events_parses_or_is_payload_invalid(
    events: list[Any],
) -> None:
    result = _verify_then_parse(_body({"events": events, "meta": {"webhook_id": WEBHOOK_ID}}))
    assert result is None or isinstance(result, ParsedDelivery)


EVENT_FIELDS = ["created_at", "links", "details", "resource_metadata", "metadata"]
NESTED_FIELDS = {
    "links": ["payment", "mandate", "refund"],
    "details": ["cause", "reason_code", "scheme", "description"],
    "resource_metadata": ["amount", "invoice_number", "customer_reference"],
}
ACTIONS = [
    ("payments", "confirmed"),
    ("payments", "failed"),
    ("payments", "charged_back"),
    ("payments", "chargeback_cancelled"),
    ("refunds", "created"),
]


@settings(max_examples=300, deadline=None, derandomize=True, report_multiple_bugs=False)
@given(
    action=st.sampled_from(ACTIONS),
    field=st.sampled_from(EVENT_FIELDS + [f"{k}.{f}" for k, v in NESTED_FIELDS.items() for f in v]),
    value=JSON_VALUES,
)
def test_every_event_with_an_identity_is_either_mapped_or_reported(
    action: tuple[str, str], field: str, value: Any
) -> None:
    # Given a genuine batch where one field of one handled event holds arbitrary JSON
    raw = _confirmed()
    raw["resource_type"], raw["action"] = action
    if action[0] == "refunds":
        raw["links"]["refund"] = "RF00REFUND0001"
    outer, _, inner = field.partition(".")
    if inner:
        raw[outer][inner] = value
    else:
        raw[outer] = value
    # When verified and parsed
    result = _verify_then_parse(_body({"events": [mandate_event(), raw]}))
    # Then the delivery is never refused for it, and the event is accounted for exactly once
    assert result is not None
    assert len(result.events) + len(result.ignored) + len(result.lookups) == 2
    assert result.ignored[0] == "mandates.active"
