"""What the local stack's functions spend, measured from inside: every AWS call they make (by
service and operation, with its duration and the bytes it carries), every invocation (its
duration, its batch, how long each record waited in its queue) and named spans a benchmark
wraps around a step (the receipt render).

A :class:`Meter` wraps botocore's client call for the whole process, like the fault
:class:`~quittance_ops.localstack.faults.Injector` (and on top of it, if one is installed
first), and counts only calls made inside a function invocation (``function_scope``): the
queue pumps stand for Lambda's event source mappings, which AWS does not bill per call to the
function's owner the same way (see docs/performance.md), and the moto server for AWS itself.
The benchmarks (``bench/e2e.py``, ``bench/cost.py``) read it; nothing in the stack depends on
it.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from quittance_ops.localstack.faults import current_function

SES_SEND = ("sesv2", "SendEmail")


@dataclass(frozen=True)
class ApiCall:
    function: str
    service: str
    operation: str
    started: float
    """Wall-clock seconds (``time.time()``), comparable with SQS's SentTimestamp."""
    seconds: float
    payload_bytes: int
    ok: bool
    units: tuple[tuple[str, float, float], ...] = ()
    """DynamoDB request units as on-demand bills them, estimated from the items' sizes:
    (table, read units, write units) for each table the call touched."""

    @property
    def read_units(self) -> float:
        return sum(reads for _, reads, _ in self.units)

    @property
    def write_units(self) -> float:
        return sum(writes for _, _, writes in self.units)

    @property
    def units_by_table(self) -> dict[str, tuple[float, float]]:
        tables: dict[str, tuple[float, float]] = {}
        for table, reads, writes in self.units:
            before = tables.get(table, (0.0, 0.0))
            tables[table] = (before[0] + reads, before[1] + writes)
        return tables


@dataclass(frozen=True)
class Invocation:
    function: str
    started: float
    seconds: float
    records: int
    queue_waits: tuple[float, ...]
    """Per SQS record: seconds from SendMessage (its SentTimestamp) to this invocation."""
    ok: bool


@dataclass(frozen=True)
class Span:
    name: str
    function: str
    started: float
    seconds: float


@dataclass(frozen=True)
class EmailHandedOver:
    to: str
    at: float
    """Wall-clock seconds when SES accepted the message (SendEmail returned)."""


@dataclass
class Meter:
    calls: list[ApiCall] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    emails: list[EmailHandedOver] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _original: Any = None

    # ------------------------------------------------------------------ installation
    def install(self) -> Meter:
        if self._original is not None:
            raise RuntimeError("this meter is installed already")
        meter = self
        call = getattr(BaseClient, "_make_api_call")  # noqa: B009 - the seam faults.py uses too

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            function = current_function()
            if function is None:
                return call(client, operation, params)
            service = client.meta.service_model.service_name
            # Measured before the call: botocore swaps a body for a stream on its way out.
            size = _payload_bytes(service, operation, params)
            handed_to = _recipient(params) if (service, operation) == SES_SEND else ""
            started, clock = time.time(), time.perf_counter()
            ok = False
            result: Any = None
            try:
                result = call(client, operation, params)
                ok = True
                return result
            finally:
                units = (
                    dynamodb_table_units(operation, params, result) if service == "dynamodb" else ()
                )
                meter._record_call(
                    ApiCall(
                        function=function,
                        service=service,
                        operation=operation,
                        started=started,
                        seconds=time.perf_counter() - clock,
                        payload_bytes=size,
                        ok=ok,
                        units=units,
                    ),
                    handed_to,
                )

        self._original = call
        setattr(BaseClient, "_make_api_call", make_api_call)  # noqa: B010
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            setattr(BaseClient, "_make_api_call", self._original)  # noqa: B010
            self._original = None

    def __enter__(self) -> Meter:
        return self.install()

    def __exit__(self, *_: object) -> None:
        self.uninstall()

    # ------------------------------------------------------------------ recording
    def _record_call(self, record: ApiCall, handed_to: str) -> None:
        handed: EmailHandedOver | None = None
        if record.ok and (record.service, record.operation) == SES_SEND:
            handed = EmailHandedOver(handed_to, record.started + record.seconds)
        with self._lock:
            self.calls.append(record)
            if handed is not None:
                self.emails.append(handed)

    def on_invocation(
        self, function: str, event: dict[str, Any], started: float, seconds: float, ok: bool
    ) -> None:
        """A :class:`~quittance_ops.localstack.runtime.LocalFunction` observer."""
        records = event.get("Records") if isinstance(event, dict) else None
        waits: list[float] = []
        for record in records or []:
            sent = (record.get("attributes") or {}).get("SentTimestamp")
            if sent:
                waits.append(max(0.0, started - int(sent) / 1000))
        with self._lock:
            self.invocations.append(
                Invocation(function, started, seconds, len(records or []) or 1, tuple(waits), ok)
            )

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        started, clock = time.time(), time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - clock
            with self._lock:
                self.spans.append(Span(name, current_function() or "", started, seconds))

    def timed(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """``method`` wrapped in a span of this name (to patch a step in for a benchmark)."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.span(name):
                return method(*args, **kwargs)

        return wrapper

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.invocations.clear()
            self.spans.clear()
            self.emails.clear()

    # ------------------------------------------------------------------ reading
    def call_counts(self) -> Counter[tuple[str, str, str]]:
        """(function, service, operation) → calls made (retries inside botocore count once)."""
        with self._lock:
            return Counter((c.function, c.service, c.operation) for c in self.calls)


def _payload_bytes(service: str, operation: str, params: dict[str, Any]) -> int:
    """The bytes a call carries where AWS prices them by size: S3 object bodies, SES raw mail."""
    if service == "s3" and operation == "PutObject":
        body = params.get("Body", b"")
        return len(body) if isinstance(body, bytes | bytearray | str) else 0
    if service == "sesv2" and operation == "SendEmail":
        raw = ((params.get("Content") or {}).get("Raw") or {}).get("Data", b"")
        return len(raw) if isinstance(raw, bytes | bytearray) else 0
    return 0


def _recipient(params: dict[str, Any]) -> str:
    raw = ((params.get("Content") or {}).get("Raw") or {}).get("Data", b"")
    if isinstance(raw, bytes | bytearray):
        message = email.message_from_bytes(bytes(raw), policy=email.policy.default)
        return email.utils.parseaddr(str(message.get("To", "")))[1].lower()
    destination = (params.get("Destination") or {}).get("ToAddresses") or [""]
    return str(destination[0]).strip().lower()


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values (UTF-8, numbers about
    one byte per two digits, binaries their length, containers 3 bytes plus their elements)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    sizer = _SIZERS.get(kind)
    return sizer(inner) if sizer else 1  # BOOL, NULL


def _binary_bytes(inner: Any) -> int:
    return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner)) * 3 // 4


_SIZERS: dict[str, Callable[[Any], int]] = {
    "S": lambda inner: len(str(inner).encode()),
    "N": lambda inner: len(str(inner).lstrip("-").replace(".", "")) // 2 + 1,
    "B": _binary_bytes,
    "SS": lambda inner: sum(len(str(v).encode()) for v in inner),
    "NS": lambda inner: sum(len(str(v)) // 2 + 1 for v in inner),
    "BS": lambda inner: sum(_binary_bytes(v) for v in inner),
    "L": lambda inner: 3 + sum(_value_bytes(v) + 1 for v in inner),
    "M": lambda inner: 3 + sum(len(k.encode()) + _value_bytes(v) + 1 for k, v in inner.items()),
}


def _kb_units(size: int, unit: int) -> int:
    return max(1, -(-size // unit))


def dynamodb_units(operation: str, params: dict[str, Any], result: Any) -> tuple[float, float]:
    """(read units, write units) one DynamoDB call costs on-demand, all tables together."""
    units = dynamodb_table_units(operation, params, result)
    return sum(u[1] for u in units), sum(u[2] for u in units)


def dynamodb_table_units(
    operation: str, params: dict[str, Any], result: Any
) -> tuple[tuple[str, float, float], ...]:
    """(table, read units, write units) one DynamoDB call costs on-demand. Writes: 1 per KB of
    the item written (an update counts the key and the values it sets: the item's full size is
    not known here, so an update of a large item is under-counted); transactions twice that.
    Reads: 1 per 4 KB read strongly, half that eventually; a query per 4 KB of all it read."""
    table = str(params.get("TableName", ""))
    if operation in {"PutItem", "UpdateItem", "DeleteItem"}:
        return ((table, 0.0, float(_write_units(params))),)
    if operation == "TransactWriteItems":
        entries = [next(iter(entry.values())) for entry in params.get("TransactItems", [])]
        return tuple(
            (str(body.get("TableName", "")), 0.0, float(2 * _write_units(body))) for body in entries
        )
    if operation == "TransactGetItems":
        entries = [next(iter(entry.values())) for entry in params.get("TransactItems", [])]
        return tuple((str(body.get("TableName", "")), 2.0, 0.0) for body in entries)
    result = result if isinstance(result, dict) else {}
    if operation == "GetItem":
        items = [result.get("Item") or {}]
    elif operation in {"Query", "Scan"}:
        items = list(result.get("Items") or [])
    else:
        return ()
    units = _kb_units(sum(item_bytes(item) for item in items), 4096)
    return ((table, float(units) if params.get("ConsistentRead") else units / 2, 0.0),)


def _write_units(body: dict[str, Any]) -> int:
    if "Item" in body:
        return _kb_units(item_bytes(body["Item"]), 1024)
    values = body.get("ExpressionAttributeValues") or {}
    size = item_bytes(body.get("Key", {})) + sum(_value_bytes(v) for v in values.values())
    return _kb_units(size, 1024)
