"""The books' routes of the staff API: ``PUT /admin/invoices/{number}`` registers an
invoice's terms (and the contact staff gave, sealed in the customer's profile), ``GET
/admin/exports`` hands the accountant the books for a period as CSV. Both audited.

One object per execution environment, as :mod:`quittance.aws.archive_routes` explains."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import ValidationError

from quittance.audit.trail import AuditLog
from quittance.aws.http import (
    Outcome,
    audited,
    iam_actor,
    invalid_fields,
    json_response,
    request_id,
    routed_event,
)
from quittance.errors import InvoiceCancelled, QuittanceError
from quittance.ledger.export import BooksLedger, BooksStore, export_books
from quittance.ledger.invoices import (
    INVOICE_NUMBER,
    ContactBook,
    InvoiceBook,
    InvoiceRequest,
    register_request,
)


class BooksLedgerTable(InvoiceBook, BooksLedger, Protocol):
    """The ledger as the books' routes use it: invoices registered, the books read."""


class BooksServices(Protocol):
    """What the books' routes use of archive_api's composition root."""

    @property
    def ledger(self) -> BooksLedgerTable: ...

    @property
    def profiles(self) -> ContactBook: ...

    @property
    def exports(self) -> BooksStore: ...

    @property
    def trail(self) -> AuditLog: ...

    def now(self) -> datetime: ...


class BooksRoutes:
    def __init__(
        self, services: Callable[[], BooksServices], logger: Logger, metrics: Metrics
    ) -> None:
        self.services = services
        self.logger = logger
        self.metrics = metrics
        # Powertools' Router.__init__ carries no annotations.
        self.router = router = Router()  # type: ignore[no-untyped-call]
        router.put("/admin/invoices/<number>")(self.put_invoice)
        router.get("/admin/exports")(self.accounting_export)

    @property
    def event(self) -> APIGatewayProxyEventV2:
        return routed_event(self.router)

    def put_invoice(self, number: str) -> Response[str]:
        trail = self.services().trail
        return audited(
            self.event, trail, ("invoice.register", number), lambda: self._register(number)
        )

    def _register(self, number: str) -> Outcome:
        if not re.fullmatch(INVOICE_NUMBER, number):
            return 422, {"error": "invalid_invoice_number", "detail": INVOICE_NUMBER}, {}
        try:
            request = InvoiceRequest.model_validate_json(self.event.body or "")
        except ValidationError as exc:
            fields = invalid_fields(exc)
            return 422, {"error": "payload_invalid", "detail": "see fields", "fields": fields}, {}
        services = self.services()
        try:
            registered = register_request(
                number,
                request,
                book=services.ledger,
                profiles=services.profiles,
                now=services.now(),
            )
        except InvoiceCancelled as exc:
            return 409, {"error": exc.code, "detail": exc.detail}, {}
        contact = registered.contact
        self.logger.info(
            "invoice registered",
            extra={"invoice_number": number, "actor": iam_actor(self.event), "contact": contact},
        )
        self.metrics.add_metric(name="invoices_registered", unit=MetricUnit.Count, value=1)
        answer = {**registered.summary.model_dump(mode="json"), "contact": contact}
        return 200, answer, {"customer_id": registered.customer_id, "contact": contact}

    def accounting_export(self) -> Response[str]:
        """The books as CSV (quittance.ledger.export); audited with the period asked for."""
        services, event = self.services(), self.event
        query = event.query_string_parameters or {}
        period = {"from": query.get("from", ""), "to": query.get("to", "")}
        actor, request = iam_actor(event), request_id(event)
        try:
            body = export_books(
                query,
                ledger=services.ledger,
                store=services.exports,
                request_id=request,
                now=services.now(),
            )
            status = 200
        except QuittanceError as exc:
            status, body = 422, {"error": exc.code, "detail": exc.detail}
        except Exception:
            services.trail.record(actor, "books.export", "books", "error", request, period)
            raise
        if status == 200:
            self.logger.info(
                "accounting export",
                extra={
                    "from": body["from"],
                    "to": body["to"],
                    "rows": body["rows"],
                    "actor": actor,
                },
            )
        outcome = "ok" if status < 400 else f"refused_{status}"
        services.trail.record(actor, "books.export", "books", outcome, request, period)
        return json_response(status, body)
