"""AWS faults on demand, for the local stack and the tests: the ways AWS really fails.

Every AWS call a function makes goes through botocore's endpoint, attempt by attempt, with the
project's retry policy (standard mode, 3 attempts). With an :class:`Injector` installed, a
chosen share of those attempts fails as AWS fails:

- ``throttle``: a 400 with the service's throttling code (``ThrottlingException``,
  ``SlowDown`` for S3, ``Throttling`` for SNS/SES v1, ``TooManyRequestsException`` for SES v2);
- ``server_error``: a 500 ``InternalError`` (nothing was done);
- ``timeout_before``: the read times out and the request never reached AWS;
- ``timeout_after``: the request reached AWS and its effect happened, then the answer was
  lost: the client sees a timeout and retries a call that already succeeded.

Separately, *crash points*: right after a call with a side effect returns successfully (an S3
put, a DynamoDB write, an SQS send, an SES send, an SNS publish, a KMS key generation…), the
function raises :class:`InjectedCrash`, as a process dying between two steps would. The
function's own retry path (a 5xx to the gateway, a batch item failure back to SQS) must then
finish the job without losing or doubling anything.

Only calls made *inside a function invocation* are faulted (:func:`function_scope`, entered by
``LocalFunction.invoke``): the queue pumps stand for Lambda's event source mappings, and the
moto server for AWS itself.

Reproducible from a seed: whether the n-th attempt of an operation fails, and how, is a pure
function of (seed, service, operation, n). Which request is the n-th depends on how threads
interleave, so two runs fault the same number of calls per operation, in the same sequence,
but not always on the same payment.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.client import BaseClient
from botocore.endpoint import Endpoint
from botocore.exceptions import ReadTimeoutError

KINDS = ("throttle", "server_error", "timeout_before", "timeout_after")
THROTTLE_CODES = {
    "s3": "SlowDown",
    "sns": "Throttling",
    "ses": "Throttling",
    "sesv2": "TooManyRequestsException",
}
SIDE_EFFECT_PREFIXES = (
    "Put",
    "Send",
    "Publish",
    "Delete",
    "Update",
    "TransactWrite",
    "BatchWrite",
    "Copy",
    "Create",
    "GenerateDataKey",
    "Change",
)


class InjectedCrash(RuntimeError):
    """The function died right after a side effect (a crash point of the fault plan)."""


@dataclass(frozen=True)
class FaultPlan:
    """``rate``: share of attempts that fail, for every service and operation unless a rule
    says otherwise; ``rules``: ``{"s3": 0.5, "dynamodb.TransactWriteItems": 0.0}``, the
    most specific wins; ``crash_rate``: share of successful side effects followed by a crash;
    ``kinds``: which failures to draw from, evenly."""

    rate: float = 0.0
    seed: int = 0
    crash_rate: float = 0.0
    rules: dict[str, float] = field(default_factory=dict)
    kinds: tuple[str, ...] = KINDS
    crash_only: tuple[str, ...] = ()
    """``("s3.PutObject",)``: crash points only after these operations (all side effects when
    empty)."""

    def __post_init__(self) -> None:
        for name, value in {"rate": self.rate, "crash_rate": self.crash_rate, **self.rules}.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: a share between 0 and 1, not {value}")
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds are among {', '.join(KINDS)}; got {sorted(unknown)}")

    def rate_for(self, service: str, operation: str) -> float:
        return self.rules.get(f"{service}.{operation}", self.rules.get(service, self.rate))

    @classmethod
    def parse_rules(cls, rules: list[str]) -> dict[str, float]:
        """``["s3=0.5", "dynamodb.TransactWriteItems=0"]`` → a rules mapping."""
        parsed: dict[str, float] = {}
        for rule in rules:
            target, sep, value = rule.partition("=")
            if not sep or not target:
                raise ValueError(f"a fault rule is SERVICE[.Operation]=RATE, not {rule!r}")
            parsed[target.strip()] = float(value)
        return parsed


_scope = threading.local()


@contextmanager
def function_scope(function: str) -> Iterator[None]:
    """AWS calls made in this block are a function's own (and may be faulted)."""
    previous = getattr(_scope, "function", None)
    _scope.function = function
    try:
        yield
    finally:
        _scope.function = previous


def current_function() -> str | None:
    return getattr(_scope, "function", None)


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass
class FaultStats:
    calls: Counter[str] = field(default_factory=Counter)
    """API calls made by functions, by service."""
    attempts: Counter[str] = field(default_factory=Counter)
    """Attempts sent (a retried call counts once per attempt), by service."""
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(service, kind) → attempts failed on purpose."""
    crashes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(function, service.Operation) → crashes injected after that side effect."""

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "attempts": dict(self.attempts),
            "retries": sum(self.attempts.values()) - sum(self.calls.values()),
            "injected": _nest(self.injected),
            "crashes": _nest(self.crashes),
        }


def _nest(counter: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (outer, inner), count in sorted(counter.items()):
        nested.setdefault(outer, {})[inner] = count
    return nested


class Injector:
    """Installs itself on botocore for the whole process; :meth:`uninstall` restores it."""

    _installed: Injector | None = None

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.stats = FaultStats()
        self._lock = threading.Lock()
        self._sequence: Counter[str] = Counter()
        self._originals: tuple[Any, Any] | None = None

    # ------------------------------------------------------------------ decisions
    def _draw(self, stream: str) -> float:
        """The next number in [0, 1) of the named stream: a pure function of seed and rank."""
        with self._lock:
            self._sequence[stream] += 1
            rank = self._sequence[stream]
        digest = hashlib.blake2b(f"{self.plan.seed}|{stream}|{rank}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big") / 2**64

    def fault_for(self, service: str, operation: str) -> str | None:
        rate = self.plan.rate_for(service, operation)
        if rate <= 0.0:
            return None
        roll = self._draw(f"fault|{service}|{operation}")
        if roll >= rate:
            return None
        # The same roll, rescaled, picks the kind: one draw per attempt keeps streams aligned.
        return self.plan.kinds[
            min(int(roll / rate * len(self.plan.kinds)), len(self.plan.kinds) - 1)
        ]

    def crash_after(self, service: str, operation: str) -> bool:
        if self.plan.crash_rate <= 0.0 or not operation.startswith(SIDE_EFFECT_PREFIXES):
            return False
        if self.plan.crash_only and f"{service}.{operation}" not in self.plan.crash_only:
            return False
        return self._draw(f"crash|{service}|{operation}") < self.plan.crash_rate

    # ------------------------------------------------------------------ botocore hooks
    def install(self) -> Injector:
        if Injector._installed is not None:
            raise RuntimeError("a fault injector is already installed in this process")
        injector = self
        # botocore's stubs leave out these private methods; they are the two seams we need.
        send = getattr(Endpoint, "_do_get_response")  # noqa: B009
        call = getattr(BaseClient, "_make_api_call")  # noqa: B009

        def do_get_response(
            endpoint: Endpoint, request: Any, operation_model: Any, context: Any
        ) -> Any:
            if current_function() is None:
                return send(endpoint, request, operation_model, context)
            service = operation_model.service_model.service_name
            operation = operation_model.name
            with injector._lock:
                injector.stats.attempts[service] += 1
            kind = injector.fault_for(service, operation)
            if kind is None:
                return send(endpoint, request, operation_model, context)
            with injector._lock:
                injector.stats.injected[(service, kind)] += 1
            if kind == "timeout_after":
                send(endpoint, request, operation_model, context)  # it happened; then silence
            if kind in {"timeout_before", "timeout_after"}:
                return None, ReadTimeoutError(endpoint_url=request.url)
            status, code = (
                (400, THROTTLE_CODES.get(service, "ThrottlingException"))
                if kind == "throttle"
                else (500, "InternalError")
            )
            response = AWSResponse(request.url, status, HTTPHeaders(), _Body(b""))
            parsed = {
                "Error": {"Code": code, "Message": f"injected {kind} (quittance fault plan)"},
                "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
            }
            return (response, parsed), None

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            function = current_function()
            if function is None:
                return call(client, operation, params)
            service = client.meta.service_model.service_name
            with injector._lock:
                injector.stats.calls[service] += 1
            result = call(client, operation, params)
            if injector.crash_after(service, operation):
                with injector._lock:
                    injector.stats.crashes[(function, f"{service}.{operation}")] += 1
                raise InjectedCrash(f"{function} crashed right after {service}.{operation}")
            return result

        self._originals = (send, call)
        setattr(Endpoint, "_do_get_response", do_get_response)  # noqa: B010
        setattr(BaseClient, "_make_api_call", make_api_call)  # noqa: B010
        Injector._installed = self
        return self

    def uninstall(self) -> None:
        if self._originals is None:
            return
        send, call = self._originals
        setattr(Endpoint, "_do_get_response", send)  # noqa: B010
        setattr(BaseClient, "_make_api_call", call)  # noqa: B010
        self._originals = None
        Injector._installed = None

    def __enter__(self) -> Injector:
        return self.install()

    def __exit__(self, *_: object) -> None:
        self.uninstall()
