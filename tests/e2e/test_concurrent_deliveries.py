"""Gateways retry and race: 200 deliveries of 50 distinct events, shuffled and sent at once
from several threads, leave exactly 50 payments processed downstream."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.outbox import sent_emails

from .conftest import RunningStack
from .test_webhook_to_receipt import ledger, post

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-concurrent_deliveries")]


def test_200_racing_deliveries_of_50_events_are_processed_exactly_once(
    stack: RunningStack,
) -> None:
    secret = stack.info["webhook_secrets"]["stripe"]
    events = [
        stripe_payment_intent_succeeded(
            secret=secret, invoice_number=f"F-RACE-{i:03d}", amount_minor=1000 + i
        )
        for i in range(50)
    ]
    deliveries = [events[i % 50] for i in range(200)]
    random.Random(7).shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda d: post(stack, d), deliveries))
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 202}, statuses
    accepted = Counter(e for status, body in answers if status == 202 for e in body["accepted"])
    assert sorted(accepted) == sorted(e.event_id for e in events)
    assert set(accepted.values()) == {1}  # each event accepted by exactly one delivery

    table = ledger(stack)
    time.sleep(1.0)  # let the pumps pick up the first batch
    stack.wait_drained(timeout=120)
    receipts = {table.get_invoice(f"F-RACE-{i:03d}").status.value for i in range(50)}  # type: ignore[union-attr]
    assert receipts == {"paid"}
    numbers = [
        table.receipt_for_payment(f"F-RACE-{i:03d}", _payment_id(events[i])).receipt_number  # type: ignore[union-attr]
        for i in range(50)
    ]
    assert len(set(numbers)) == 50
    emails = [e for e in sent_emails(stack.endpoint) if b"F-RACE-" in e.raw]
    assert len(emails) == 50
    assert all(
        table.receipt_item(n)["archive"]["sha256_hex"] for n in numbers
    )  # every one rendered and archived once


def _payment_id(delivery: Delivery) -> str:
    return str(json.loads(delivery.body)["data"]["object"]["id"])
