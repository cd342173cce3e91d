"""Recorded gateway API responses served on 127.0.0.1, for what the local Stripe emulator
(``localstripe``) does not cover: Checkout Sessions, Invoice Payments, a Charge's
``payment_method_details`` and ``billing_details``, and GoCardless's API altogether.

The objects served are the gateways' documented objects, put in by the caller (tests, the
local stack); the server answers the reads quittance's lookup stage makes, in each API's own
envelope and error format (https://docs.stripe.com/api/errors,
https://developer.gocardless.com/api-reference/#api-usage-errors):

- Stripe: ``GET /v1/payment_intents/{id}`` (``expand[]`` of ``latest_charge`` and
  ``customer``), ``/v1/charges/{id}``, ``/v1/checkout/sessions/{id}``,
  ``/v1/checkout/sessions?payment_intent=``, ``/v1/invoices/{id}``,
  ``/v1/invoice_payments?invoice=|payment[payment_intent]=``, ``/v1/refunds/{id}``,
  ``/v1/refunds?charge=`` (newest first);
- GoCardless: ``GET /payments/{id}``, ``/mandates/{id}``, ``/customers/{id}``,
  ``/refunds/{id}``, each as ``{"payments": {...}}``.

Faults, to prove the lookup stage's retries: ``fail_rate`` answers that share of requests
with 429 or 500 (alternately, from a seeded random), ``revoked`` answers 401 to everything,
as a revoked key is answered.

Another process (an end-to-end test driving ``quittance local up``) records objects and sets
faults with ``POST /_recorded`` and a JSON body ``{"stripe": [objects…], "gocardless":
[objects…], "fail_rate": 0.5, "revoked": false}`` (every key optional); no real API has
that path."""

from __future__ import annotations

import copy
import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JsonObject = dict[str, Any]

_GOCARDLESS_ENVELOPES = {
    "payments": "payments",
    "mandates": "mandates",
    "customers": "customers",
    "refunds": "refunds",
}


@dataclass
class RecordedApi:
    """The objects and the behaviour of the server; change them while it runs."""

    # Local credentials of a local server, not secrets: every test and the stack may know them.
    stripe_key: str = "rk_test_quittance_local"
    gocardless_token: str = "sandbox_quittance_local"  # noqa: S105 - a local test token
    stripe: dict[str, JsonObject] = field(default_factory=dict)
    gocardless: dict[str, JsonObject] = field(default_factory=dict)
    invoice_payments: list[JsonObject] = field(default_factory=list)
    fail_rate: float = 0.0
    revoked: bool = False
    seed: int = 16
    requests: list[str] = field(default_factory=list)
    failures: int = 0
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - reproducible faults, not crypto

    def add_stripe(self, *objects: JsonObject) -> RecordedApi:
        for obj in objects:
            if obj["object"] == "invoice_payment":
                self.invoice_payments.append(copy.deepcopy(obj))
            else:
                self.stripe[obj["id"]] = copy.deepcopy(obj)
        return self

    def add_gocardless(self, *objects: JsonObject) -> RecordedApi:
        for obj in objects:
            self.gocardless[obj["id"]] = copy.deepcopy(obj)
        return self

    def fault(self) -> int | None:
        with self._lock:
            if self.revoked:
                return 401
            if self.fail_rate and self._random.random() < self.fail_rate:
                self.failures += 1
                return 429 if self.failures % 2 else 500
        return None


def _stripe_list(data: list[JsonObject], url: str) -> JsonObject:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def _stripe_error(status: int, message: str, code: str | None = None) -> JsonObject:
    kind = "api_error" if status >= 500 else "invalid_request_error"
    return {"error": {"type": kind, "code": code, "message": message}}


class _Handler(BaseHTTPRequestHandler):
    api: RecordedApi

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``api.requests``."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        expand = [
            v for k, vs in parse_qs(parts.query).items() if k.startswith("expand") for v in vs
        ]
        self.api.requests.append(f"GET {parts.path}")
        if parts.path.startswith("/v1/"):
            self._stripe(parts.path, query, expand)
        else:
            self._gocardless(parts.path)

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/_recorded":
            self._answer(404, {"error": "only POST /_recorded is served"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            self.api.add_stripe(*body.get("stripe", []))
            self.api.add_gocardless(*body.get("gocardless", []))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._answer(400, {"error": f"bad recording: {type(exc).__name__}"})
            return
        if "fail_rate" in body:
            self.api.fail_rate = float(body["fail_rate"])
        if "revoked" in body:
            self.api.revoked = bool(body["revoked"])
        self._answer(200, {"stripe": len(self.api.stripe), "gocardless": len(self.api.gocardless)})

    def _answer(self, status: int, body: JsonObject) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(raw)

    # ------------------------------------------------------------------ Stripe

    def _stripe(self, path: str, query: dict[str, str], expand: list[str]) -> None:
        api = self.api
        if self.headers.get("Authorization") != f"Bearer {api.stripe_key}":
            self._answer(401, _stripe_error(401, "Invalid API Key provided", "api_key_invalid"))
            return
        fault = api.fault()
        if fault == 401:
            self._answer(401, _stripe_error(401, "Expired API Key provided", "api_key_expired"))
            return
        if fault:
            message = "Too many requests" if fault == 429 else "An unknown error occurred"
            self._answer(
                fault, _stripe_error(fault, message, "rate_limit" if fault == 429 else None)
            )
            return
        segments = path.strip("/").split("/")[1:]
        resource, object_id = "/".join(segments[:-1]), segments[-1]
        if segments == ["checkout", "sessions"]:
            found = [
                o
                for o in api.stripe.values()
                if o["object"] == "checkout.session"
                and o.get("payment_intent") == query.get("payment_intent")
            ]
            self._answer(200, _stripe_list(found[:1], "/v1/checkout/sessions"))
        elif segments == ["invoice_payments"]:
            intent = query.get("payment[payment_intent]")
            invoice = query.get("invoice")
            found = [
                p
                for p in api.invoice_payments
                if (intent and p["payment"].get("payment_intent") == intent)
                or (invoice and p["invoice"] == invoice)
            ]
            self._answer(200, _stripe_list(found, "/v1/invoice_payments"))
        elif segments == ["refunds"]:
            refunds = [
                o
                for o in api.stripe.values()
                if o["object"] == "refund" and o.get("charge") == query.get("charge")
            ]
            refunds.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
            self._answer(200, _stripe_list(refunds, "/v1/refunds"))
        else:
            kind = {
                "payment_intents": "payment_intent",
                "charges": "charge",
                "checkout/sessions": "checkout.session",
                "invoices": "invoice",
                "refunds": "refund",
                "customers": "customer",
            }.get(resource)
            obj = api.stripe.get(object_id)
            if kind is None or obj is None or obj["object"] != kind:
                self._answer(
                    404,
                    _stripe_error(404, f"No such {resource}: '{object_id}'", "resource_missing"),
                )
                return
            obj = copy.deepcopy(obj)
            for name in expand:
                value = obj.get(name)
                if isinstance(value, str) and value in api.stripe:
                    obj[name] = copy.deepcopy(api.stripe[value])
            self._answer(200, obj)

    # ------------------------------------------------------------------ GoCardless

    def _gocardless(self, path: str) -> None:
        api = self.api
        segments = path.strip("/").split("/")
        authorised = self.headers.get("Authorization") == f"Bearer {api.gocardless_token}"
        fault = api.fault() if authorised else 401
        if fault:
            kind, reason = {
                401: ("invalid_api_usage", "unauthorized"),
                429: ("invalid_api_usage", "rate_limit_exceeded"),
            }.get(fault, ("gocardless", "internal_server_error"))
            self._answer(fault, _gocardless_error(fault, kind, reason))
            return
        envelope = _GOCARDLESS_ENVELOPES.get(segments[0]) if len(segments) == 2 else None
        obj = api.gocardless.get(segments[-1]) if envelope else None
        if envelope is None or obj is None:
            self._answer(404, _gocardless_error(404, "invalid_api_usage", "resource_not_found"))
            return
        self._answer(200, {envelope: obj})


def _gocardless_error(status: int, kind: str, reason: str) -> JsonObject:
    message = reason.replace("_", " ").capitalize()
    return {
        "error": {
            "message": message,
            "documentation_url": f"https://developer.gocardless.com/api-reference#{reason}",
            "type": kind,
            "request_id": "deadbeef-0000-4000-8000-000000000016",
            "errors": [{"reason": reason, "message": message}],
            "code": status,
        }
    }


class RecordedServer:
    """The server on 127.0.0.1 (an ephemeral port), started and stopped explicitly."""

    def __init__(self, api: RecordedApi) -> None:
        handler = type("RecordedHandler", (_Handler,), {"api": api})
        self.api = api
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="recorded-gateway-api",
            daemon=True,
        )

    def start(self) -> RecordedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serve(api: RecordedApi) -> Iterator[str]:
    """Serve while the block runs; yields the base URL."""
    server = RecordedServer(api).start()
    try:
        yield server.url
    finally:
        server.stop()
