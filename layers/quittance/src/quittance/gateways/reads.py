"""What the lookup stage read from a gateway's API, kept as evidence the way intake keeps a
raw webhook delivery (:mod:`quittance.privacy.evidence`): sealed with the payer's own key in
the Object Lock archive, under the event it completed, so that a compliance officer can show
what quittance read, from where and when, and erasure makes it unreadable with the rest.

The record is a :class:`~quittance.privacy.evidence.RawDelivery` whose body is a JSON
document (``quittance.gateway-reads/1``): each call in the order it was made, its arguments,
when its answer came, and the gateway's object exactly as its official client returned it.
It is not a signed delivery: its ``verification`` says so, and there is no signature to
re-verify (the API was read over HTTPS with the merchant's read-only key)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from quittance.models.lookups import GatewayLookup
from quittance.privacy.evidence import RawDelivery

T = TypeVar("T")

READS_FORMAT = "quittance.gateway-reads/1"


@dataclass(frozen=True)
class Read:
    call: str
    """The port method (``payment_intent``, ``invoice_for``, ``mandate``…)."""
    arguments: tuple[str, ...]
    read_at: datetime
    answer: Any
    """The gateway's object(s) as returned, or None when there was none (no Checkout
    Session for this PaymentIntent, for example)."""


class ReadLog:
    """Records every answer of the APIs it wraps (failed calls raise and are not answers:
    the lookup is tried again, and a new log kept then)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.reads: list[Read] = []

    def recording(self, api: T) -> T:
        """``api`` with every method call recorded; the same port type for its callers."""
        return cast(T, _Recorder(api, self))

    def add(self, call: str, arguments: tuple[Any, ...], answer: Any) -> None:
        self.reads.append(Read(call, tuple(str(a) for a in arguments), self._now(), answer))

    def evidence(self, lookup: GatewayLookup, event_id: str) -> RawDelivery:
        """The reads as evidence of the canonical event ``event_id`` they completed."""
        read_at = self.reads[0].read_at if self.reads else self._now()
        document = {
            "format": READS_FORMAT,
            "provider": lookup.provider,
            "completes": {
                "event_id": lookup.event_id,
                "event_type": lookup.event_type,
                "object_id": lookup.object_id,
            },
            "reads": [
                {
                    "call": read.call,
                    "arguments": list(read.arguments),
                    "read_at": read.read_at.astimezone(UTC).isoformat(),
                    "answer": read.answer,
                }
                for read in self.reads
            ],
        }
        # default=str: the clients return JSON-decoded objects; anything else (a Decimal a
        # future client might use) is kept as its text rather than the record being lost.
        body = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str).encode()
        return RawDelivery(
            provider=lookup.provider,
            event_id=event_id,
            received_at=read_at,
            headers={"content-type": "application/json"},
            body=body,
            verification=(
                f"read from the {lookup.provider} API by quittance's lookup stage with the "
                "merchant's read-only key (not a signed delivery: no signature to re-verify)"
            ),
        )


class _Recorder:
    def __init__(self, api: Any, log: ReadLog) -> None:
        self._api = api
        self._log = log

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._api, name)
        if not callable(method):
            return method

        def recorded(*args: Any, **kwargs: Any) -> Any:
            answer = method(*args, **kwargs)
            self._log.add(name, (*args, *kwargs.values()), answer)
            return answer

        return recorded
