"""What operations see in CloudWatch for each kind of delivery: one EMF document per request
(Powertools Metrics, printed to stdout as Lambda would ship it), named for the outcome, with
the provider as its only dimension, and no personal data."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest

from quittance.providers.stripe import sign
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import MotoStack, http_event


def emitted(out: str) -> list[dict[str, Any]]:
    """The EMF documents printed: metric name → value, plus the provider dimension."""
    documents = []
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        [directive] = document["_aws"]["CloudWatchMetrics"]
        names = [m["Name"] for m in directive["Metrics"]]
        assert directive["Namespace"] == "quittance"
        assert directive["Dimensions"] == [["provider", "service"]]
        documents.append({"provider": document["provider"], **{n: document[n] for n in names}})
    return documents


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch, moto_stack: MotoStack) -> MotoStack:
    # Powertools keeps metrics added while disabled (flush neither prints nor clears them),
    # and its metric set is shared by every Metrics instance of the process: start empty.
    sys.modules["quittance_fn_IntakeFunction"].metrics.clear_metrics()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    return moto_stack


def post(stack: MotoStack, provider: str, body: bytes, headers: dict[str, str]) -> int:
    event = http_event(
        "POST", f"/webhooks/{provider}", "/webhooks/{provider}", {"provider": provider},
        body=body, headers=headers,
    )  # fmt: skip
    return int(stack.functions["IntakeFunction"].invoke(event)["statusCode"])


def test_each_outcome_is_counted_under_its_own_name(
    metrics_on: MotoStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = metrics_on
    secret = stack.provisioned.webhook_secrets["stripe"]
    paid = stripe_payment_intent_succeeded(secret=secret, invoice_number="F-MET", amount_minor=990)
    forged = {**paid.headers, "Stripe-Signature": sign(paid.body, "whsec_wrong", int(time.time()))}
    capsys.readouterr()

    # When a genuine event, its redelivery, a forgery and a delivery to an unknown gateway come
    statuses = [
        post(stack, "stripe", paid.body, paid.headers),
        post(stack, "stripe", paid.body, paid.headers),
        post(stack, "stripe", paid.body, forged),
        post(stack, "paypal", paid.body, paid.headers),
    ]
    out = capsys.readouterr().out

    # Then each request leaves one document, counted under what happened to it
    assert statuses == [202, 200, 401, 404]
    assert emitted(out) == [
        # the payer's details sealed into their profile and the delivery kept as evidence
        {"provider": "stripe", "deliveries": [1.0], "events_accepted": [1.0],
         "customer_records_kept": [1.0]},
        # a redelivery: the first copy received stays the evidence
        {"provider": "stripe", "deliveries": [1.0], "events_duplicate": [1.0],
         "customer_records_evidence_already_kept": [1.0]},
        {"provider": "stripe", "deliveries": [1.0], "rejected_signature_invalid": [1.0]},
        {"provider": "unknown", "deliveries": [1.0], "rejected_unknown_provider": [1.0]},
    ]  # fmt: skip
    # and no contact data rides along with the metrics
    for line in out.splitlines():
        if '"_aws"' in line:
            assert "camille" not in line.lower() and "@" not in line
