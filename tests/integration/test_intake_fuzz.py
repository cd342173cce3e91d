"""5,000+ hostile requests against the intake handler: never a 5xx, never an unhandled
exception, never a queued message."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quittance.providers.stripe import sign
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import MotoStack, http_event

EXAMPLES = 5200


def test_no_hostile_request_gets_a_5xx_or_queues_anything(moto_stack: MotoStack) -> None:
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    intake = moto_stack.functions["IntakeFunction"]
    genuine = stripe_payment_intent_succeeded(
        secret=secret, invoice_number="F-FUZZ", amount_minor=1
    )
    body = genuine.body
    statuses: Counter[int] = Counter()

    def truncated(cut: int) -> tuple[str, dict[str, str], bytes, bool]:
        return "stripe", genuine.headers, body[: cut % len(body)], False

    def flipped(position: int, byte: int) -> tuple[str, dict[str, str], bytes, bool]:
        i = position % len(body)
        changed = body[:i] + bytes([(body[i] + 1 + byte % 254) % 256]) + body[i + 1 :]
        return "stripe", genuine.headers, changed, False

    def oversized(extra: int) -> tuple[str, dict[str, str], bytes, bool]:
        return "stripe", genuine.headers, body + b" " * (1024 * 1024 + extra), False

    def mis_signed(wrong: str) -> tuple[str, dict[str, str], bytes, bool]:
        headers = {**genuine.headers, "Stripe-Signature": sign(body, wrong, int(time.time()))}
        return "stripe", headers, body, False

    def replayed(age: int) -> tuple[str, dict[str, str], bytes, bool]:
        old = int(time.time()) - 301 - age
        headers = {**genuine.headers, "Stripe-Signature": sign(body, secret, old)}
        return "stripe", headers, body, False

    def garbage(
        provider: str, headers: dict[str, str], raw: bytes, b64: bool
    ) -> tuple[str, dict[str, str], bytes, bool]:
        return provider, headers, raw, b64

    header_names = st.sampled_from(
        ["Content-Type", "Stripe-Signature", "stripe-signature", "X-Other", "Content-Length"]
    )
    cases = st.one_of(
        st.integers(min_value=0).map(truncated),
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)).map(
            lambda a: flipped(*a)
        ),
        st.integers(min_value=1, max_value=4096).map(oversized),
        st.text(min_size=0, max_size=40).filter(lambda w: w != secret).map(mis_signed),
        st.integers(min_value=0, max_value=10**9).map(replayed),
        st.builds(
            garbage,
            st.sampled_from(["stripe", "Stripe", "", "paypal", "stripe/../x", "%00"]),
            st.dictionaries(header_names, st.text(max_size=80), max_size=4),
            st.binary(max_size=512),
            st.booleans(),
        ),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(cases)
    def hostile(case: tuple[str, dict[str, str], bytes, bool]) -> None:
        provider, headers, raw, b64 = case
        event = http_event(
            "POST",
            f"/webhooks/{provider}",
            "/webhooks/{provider}",
            {"provider": provider},
            body=raw if b64 else raw.decode("utf-8", "replace").encode(),
            headers=headers,
            base64_body=b64,
        )
        result: dict[str, Any] = intake.invoke(event)
        status = int(result["statusCode"])
        statuses[status] += 1
        assert 400 <= status < 500, (status, result.get("body"))
        answer = json.loads(result["body"])
        assert answer["error"] and "detail" in answer
        assert secret not in result["body"]

    hostile()
    assert sum(statuses.values()) >= 5000
    assert intake.errors == 0
    assert moto_stack.queue_messages("PaymentEventsQueue") == []
    # Every kind of refusal was exercised, not just one.
    assert {401, 404, 413, 415}.issubset(statuses), statuses
