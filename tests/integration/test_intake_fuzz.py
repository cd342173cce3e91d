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


_MISSING = object()
# Where a Stripe event must hold something usable, and values that are not.
_BROKEN_FIELDS: dict[tuple[str, ...], list[Any]] = {
    ("id",): [_MISSING, None, 42, [], ""],
    ("type",): [_MISSING, None, 7, {}],
    ("created",): [_MISSING, "yesterday", None, [], {"at": 1}],
    ("data",): [_MISSING, None, "x", []],
    ("data", "object"): [_MISSING, None, [], "pi_1"],
    ("data", "object", "id"): [_MISSING, None, 3, {}],
    # (without amount_received, Stripe's amount is read: older payloads, failed intents)
    ("data", "object", "amount_received"): [-5, "twelve", 1.5, [1]],
    ("data", "object", "currency"): [_MISSING, "euro", "", None, 978, ["eur"]],
}


def _broken(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if value is _MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


def test_a_correctly_signed_but_malformed_event_gets_a_clear_4xx_and_queues_nothing(
    moto_stack: MotoStack,
) -> None:
    """Past the signature: the sender holds the secret, the body is still wrong. The answer
    names the problem (400 or 422 with an error code), never 5xx, and nothing is queued."""
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    intake = moto_stack.functions["IntakeFunction"]
    genuine = json.loads(
        stripe_payment_intent_succeeded(secret=secret, invoice_number="F-FUZZ", amount_minor=1).body
    )
    statuses: Counter[int] = Counter()
    cases = st.one_of(
        st.sampled_from(
            [(path, value) for path, values in _BROKEN_FIELDS.items() for value in values]
        ).map(lambda broken: json.dumps(_broken(genuine, *broken)).encode()),
        st.integers(min_value=1, max_value=len(json.dumps(genuine)) - 1).map(
            lambda cut: json.dumps(genuine).encode()[:cut]
        ),
    )

    @settings(
        max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(cases)
    def malformed(raw: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign(raw, secret, int(time.time())),
        }
        event = http_event(
            "POST",
            "/webhooks/stripe",
            "/webhooks/{provider}",
            {"provider": "stripe"},
            body=raw,
            headers=headers,
        )
        result: dict[str, Any] = intake.invoke(event)
        status = int(result["statusCode"])
        statuses[status] += 1
        assert status in {400, 422}, (status, raw[:200], result.get("body"))
        answer = json.loads(result["body"])
        assert answer["error"] and answer["detail"]

    malformed()
    assert intake.errors == 0
    assert moto_stack.queue_messages("PaymentEventsQueue") == []
    assert 422 in statuses, statuses
