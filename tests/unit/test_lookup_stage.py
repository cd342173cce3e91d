"""The lookup stage's own rules: what it hands the ledger, what it keeps of the payer, how
long it waits before trying again, and a missing key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quittance.archive.retention import Lock, RetentionPolicy
from quittance.clock import FixedClock
from quittance.errors import (
    AlreadyExists,
    GatewayKeyRejected,
    GatewayUnavailable,
)
from quittance.gateways.clients import GatewayApiClients
from quittance.gateways.stage import (
    KeptReads,
    LookupRetried,
    LookupStage,
    complete_lookup,
    retry_delay,
)
from quittance.models.lookups import GatewayLookup, GatewayLookupMessage
from quittance.models.messages import PaymentEventMessage
from quittance.privacy.evidence import RawDelivery
from tests.fakes import RememberingProfiles
from tests.unit.gateway_fakes import FakeGoCardlessApi, FakeStripeApi
from tests.unit.test_stripe_lookups import GUEST, checkout_guest

RECEIVED = datetime(2026, 6, 9, 10, 13, 21, tzinfo=UTC)


class Apis:
    def __init__(self, stripe: FakeStripeApi) -> None:
        self._stripe = stripe

    def stripe(self) -> FakeStripeApi:
        return self._stripe

    def gocardless(self) -> FakeGoCardlessApi:
        return FakeGoCardlessApi()


class Queue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, body: str, *, correlation_id: str) -> str:
        self.sent.append(body)
        return f"m-{len(self.sent)}"


def message() -> GatewayLookupMessage:
    return GatewayLookupMessage(
        correlation_id="req-1",
        received_at=RECEIVED,
        event=GatewayLookup(
            provider="stripe",
            event_id="evt_1QgStage0000001",
            event_type="checkout.session.completed",
            object_id="cs_test_a1CheckoutGuest01",
            occurred_at=RECEIVED,
            livemode=False,
        ),
    )


def test_the_payer_is_sealed_in_their_profile_and_the_ledger_gets_no_contact_data() -> None:
    api, _ = checkout_guest()
    profiles, queue = RememberingProfiles(), Queue()
    outcome = complete_lookup(message(), apis=Apis(api), profiles=profiles, payment_events=queue)
    assert outcome.queued == ("evt_1QgStage0000001",)
    ((customer_id, details),) = profiles.kept.items()
    assert customer_id.startswith("C-") and details.email == GUEST
    (body,) = queue.sent
    assert GUEST not in body and "Camille" not in body
    queued = PaymentEventMessage.model_validate_json(body)
    assert queued.event.customer is not None
    assert queued.event.customer.email is None
    assert queued.event.customer.reference == details.reference


def test_an_erased_payer_s_payment_still_counts_and_nothing_personal_is_kept() -> None:
    api, _ = checkout_guest()
    queue = Queue()
    outcome = complete_lookup(
        message(), apis=Apis(api), profiles=RememberingProfiles(erased=True), payment_events=queue
    )
    assert (outcome.queued, outcome.erased) == (("evt_1QgStage0000001",), 1)
    assert GUEST not in queue.sent[0]


class Evidence:
    def __init__(self) -> None:
        self.kept: dict[str, tuple[RawDelivery, str, Lock]] = {}

    def keep(self, delivery: RawDelivery, customer_id: str, lock: Lock) -> dict[str, Any]:
        if delivery.event_id in self.kept:
            raise AlreadyExists(delivery.event_id)
        self.kept[delivery.event_id] = (delivery, customer_id, lock)
        return {}


def kept_reads(evidence: Evidence) -> KeptReads:
    return KeptReads(
        evidence=evidence,
        retention=RetentionPolicy(mode="COMPLIANCE", minimum_days=1, legal_years=10),
        clock=FixedClock(RECEIVED + timedelta(seconds=5)),
    )


def test_what_the_api_answered_is_kept_as_the_events_evidence_once() -> None:
    api, _ = checkout_guest()
    evidence, profiles = Evidence(), RememberingProfiles()
    outcome = complete_lookup(
        message(),
        apis=Apis(api),
        profiles=profiles,
        payment_events=Queue(),
        reads=kept_reads(evidence),
    )
    assert outcome.evidence_kept == 1
    ((delivery, customer_id, lock),) = evidence.kept.values()
    # Sealed under the payer whose profile it completed, locked to the end of the payment's
    # fiscal year (2026) plus the legal ten years
    assert customer_id in profiles.kept
    assert lock.retain_until == datetime(2037, 1, 1, tzinfo=UTC)
    # each call in order, with its answer and when it came
    reads = json.loads(delivery.body)
    assert [r["call"] for r in reads["reads"]][:2] == ["checkout_session", "payment_intent"]
    assert reads["reads"][0]["answer"]["customer_details"]["email"] == GUEST
    assert reads["reads"][0]["read_at"] == "2026-06-09T10:13:26+00:00"
    # A retry of the same lookup (its send failed) keeps the first copy
    again = complete_lookup(
        message(),
        apis=Apis(api),
        profiles=profiles,
        payment_events=Queue(),
        reads=kept_reads(evidence),
    )
    assert (again.queued, again.evidence_kept) == (("evt_1QgStage0000001",), 0)


def test_nothing_is_kept_of_an_erased_payer() -> None:
    api, _ = checkout_guest()
    evidence = Evidence()
    outcome = complete_lookup(
        message(),
        apis=Apis(api),
        profiles=RememberingProfiles(erased=True),
        payment_events=Queue(),
        reads=kept_reads(evidence),
    )
    assert (outcome.erased, outcome.evidence_kept, evidence.kept) == (1, 0, {})


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def stripe(self) -> FakeStripeApi:
        raise self.error

    def gocardless(self) -> FakeGoCardlessApi:
        raise self.error


class Retries:
    def __init__(self) -> None:
        self.later: list[tuple[str, int]] = []

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        self.later.append((receipt_handle, seconds))


class Alerts:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any], str]] = []

    def publish(self, subject: str, details: dict[str, Any], *, dedupe_key: str) -> str:
        self.published.append((subject, details, dedupe_key))
        return "m-1"


def stage(error: Exception, retries: Retries, alerts: Alerts) -> LookupStage:
    return LookupStage(
        apis=Failing(error),
        profiles=RememberingProfiles(),
        payment_events=Queue(),
        lookups=retries,
        alerts=alerts,
        reads=kept_reads(Evidence()),
        retry_base_seconds=20,
        retry_max_seconds=900,
    )


@pytest.mark.parametrize(
    ("error", "alerted"),
    [
        (
            GatewayKeyRejected(
                "Stripe refused the key reading PaymentIntent pi_1: api_key_expired"
            ),
            1,
        ),
        (GatewayUnavailable("Stripe did not answer for PaymentIntent pi_1: RateLimitError 429"), 0),
    ],
)
def test_a_failed_lookup_goes_back_on_its_queue_and_a_refused_key_alerts_at_once(
    error: Exception, alerted: int
) -> None:
    retries, alerts = Retries(), Alerts()
    # When the third delivery of a lookup meets a failing gateway
    with pytest.raises(LookupRetried) as retried:
        stage(error, retries, alerts).run(message(), attempt=3, receipt_handle="rh-1")
    # Then it comes back after its back-off (20 s doubled twice), and says why
    assert retries.later == [("rh-1", 80)]
    assert retried.value.log_fields["retry_in_seconds"] == 80
    assert retried.value.reason == getattr(error, "code", None)
    # and only a refused key is told to the ops topic at once (nothing works until fixed)
    assert len(alerts.published) == alerted
    if alerted:
        assert alerts.published[0][1]["anomaly"] == "gateway_key_rejected"


def test_retries_back_off_exponentially_up_to_the_maximum() -> None:
    assert [retry_delay(n, 20, 900) for n in range(1, 9)] == [20, 40, 80, 160, 320, 640, 900, 900]
    assert retry_delay(10_000, 20, 900) == 900


class Keys:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def read(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.document))


@pytest.mark.parametrize("document", [{}, {"stripe": ""}, {"stripe": "  "}, {"stripe": None}])
def test_a_missing_key_is_refused_like_a_revoked_one(document: dict[str, Any]) -> None:
    with pytest.raises(GatewayKeyRejected, match="stripe"):
        GatewayApiClients(Keys(document)).stripe()


def test_a_rotated_key_is_used_as_soon_as_the_secret_says_so() -> None:
    keys = Keys({"stripe": "rk_live_old", "gocardless": "live_token"})
    clients = GatewayApiClients(keys)
    first = clients.stripe()
    assert clients.stripe() is first  # kept while the key is the same
    keys.document["stripe"] = "rk_live_new"
    assert clients.stripe() is not first
