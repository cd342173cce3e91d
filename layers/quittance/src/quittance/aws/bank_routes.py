"""The bank's routes of the staff API (IAM-authorised like every /admin route): import a
statement (in the call, or through a presigned upload to the drop prefix whose import staff
follow), work through the entries no invoice claimed, and record a cheque or cash payment.
Every call leaves exactly one audit entry, reads included; the audit details carry
references, counts and digests, never a payer's name.

One object per execution environment, as :mod:`quittance.aws.archive_routes` explains."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel, ConfigDict, Field

from quittance.audit.trail import AuditLog
from quittance.aws.http import Outcome, audited, iam_actor, json_object, request_id, routed_event
from quittance.bank.review import BankDesk, EntryRecord, entry_id, reference_of
from quittance.bank.statement import StatementRefused, parse_statement
from quittance.bank.uploads import (
    ImportStatuses,
    UploadRequest,
    UploadSigner,
    issue_ticket,
    status_of,
)
from quittance.errors import NotFound, PayloadInvalid
from quittance.payments import offline
from quittance.payments.offline import OfflinePayment, RegisteredInvoices


class BankServices(Protocol):
    """What the bank's routes use of bank_api's composition root."""

    @property
    def desk(self) -> BankDesk: ...

    @property
    def invoices(self) -> RegisteredInvoices: ...

    @property
    def trail(self) -> AuditLog: ...

    @property
    def uploads(self) -> UploadSigner: ...

    @property
    def statuses(self) -> ImportStatuses: ...

    def now(self) -> datetime: ...

    def new_upload_id(self) -> str: ...


class MatchRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    invoices: tuple[str, ...] = Field(min_length=1, max_length=20)


class IgnoreRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class StatementBody(BaseModel):
    """The JSON form of a direct import (what the CLI's signed JSON client sends)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statement_base64: str = Field(min_length=1)


def shown(record: EntryRecord) -> dict[str, Any]:
    """What staff need to decide: the entry as the bank wrote it, and what matching saw."""
    return {
        **record.model_dump(mode="json", exclude={"events", "entry"}),
        **record.entry.model_dump(mode="json"),
        "entry_id": entry_id(record.entry.reference),
    }


def _target(entry: str) -> str:
    """The audit entry's target: the bank reference, or what was asked if it names none."""
    try:
        return reference_of(entry)
    except NotFound:
        return entry[:60]


class BankRoutes:
    def __init__(self, services: Callable[[], BankServices], metrics: Metrics) -> None:
        self.services = services
        self.metrics = metrics
        # Powertools' Router.__init__ carries no annotations.
        self.router = router = Router()  # type: ignore[no-untyped-call]
        router.post("/admin/bank/statements")(self.import_statement)
        router.post("/admin/bank/uploads")(self.upload)
        router.get("/admin/bank/uploads/<upload_id>")(self.upload_status)
        router.get("/admin/bank/unmatched")(self.unmatched)
        router.post("/admin/bank/entries/<entry>/match")(self.match)
        router.post("/admin/bank/entries/<entry>/ignore")(self.ignore)
        router.post("/admin/payments")(self.record_payment)

    @property
    def event(self) -> APIGatewayProxyEventV2:
        return routed_event(self.router)

    def _audited(self, action: str, target: str, work: Callable[[], Outcome]) -> Response[str]:
        trail = self.services().trail
        return audited(self.event, trail, (action, target), work, refused=(StatementRefused,))

    def import_statement(self) -> Response[str]:
        return self._audited("bank.import", "statement", self._import)

    def _import(self) -> Outcome:
        services = self.services()
        report = services.desk.import_statement(
            parse_statement(self._statement_bytes()),
            now=services.now(),
            correlation_id=request_id(self.event),
        )
        self.metrics.add_metric(
            name="bank_entries_matched", unit=MetricUnit.Count, value=report.matched
        )
        self.metrics.add_metric(
            name="bank_entries_to_review", unit=MetricUnit.Count, value=report.to_review
        )
        body = report.model_dump(mode="json")
        return 200, body, body

    def _statement_bytes(self) -> bytes:
        """The file as the bank wrote it (its XML declaration names its encoding): the body
        itself, or base64 in ``{"statement_base64": …}`` when sent as JSON."""
        event = self.event
        raw = event.body or ""
        data = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
        if "json" not in (event.headers.get("content-type") or ""):
            return data
        upload = StatementBody.model_validate(json_object(data.decode()))
        try:
            return base64.b64decode(upload.statement_base64, validate=True)
        except ValueError:
            raise PayloadInvalid("statement_base64 is not base64") from None

    def upload(self) -> Response[str]:
        """A presigned POST into the drop prefix, for a statement too large for one call."""

        def work() -> Outcome:
            services = self.services()
            request = UploadRequest.model_validate(json_object(self.event.body))
            ticket, post = issue_ticket(
                request,
                upload_id=services.new_upload_id(),
                actor=iam_actor(self.event),
                now=services.now(),
                signer=services.uploads,
                statuses=services.statuses,
            )
            body = {
                "upload_id": ticket.upload_id,
                "key": ticket.key,
                "expires_at": ticket.expires_at.isoformat(),
                "post": post.model_dump(mode="json"),
            }
            details = {
                "upload_id": ticket.upload_id,
                "filename": request.filename,
                "size": request.size,
                "sha256": request.sha256,
            }
            return 200, body, details

        return self._audited("bank.upload", "statement", work)

    def upload_status(self, upload_id: str) -> Response[str]:
        def work() -> Outcome:
            status = status_of(upload_id, self.services().statuses)
            outcome = status.outcome
            body = {
                "upload_id": upload_id,
                "done": status.done,
                "state": outcome.state if outcome else "waiting",
                **status.model_dump(mode="json", exclude={"key"}),
            }
            return 200, body, {"state": body["state"]}

        return self._audited("bank.upload_status", upload_id, work)

    def unmatched(self) -> Response[str]:
        def work() -> Outcome:
            waiting = self.services().desk.waiting()
            return 200, {"entries": [shown(r) for r in waiting]}, {"count": len(waiting)}

        return self._audited("bank.unmatched", "review-list", work)

    def match(self, entry: str) -> Response[str]:
        """``entry``: the entry's id (:func:`quittance.bank.review.entry_id`)."""

        def work() -> Outcome:
            services, event = self.services(), self.event
            reference = reference_of(entry)
            request = MatchRequest.model_validate(json_object(event.body))
            record = services.desk.match(
                reference,
                request.invoices,
                actor=iam_actor(event),
                now=services.now(),
                correlation_id=request_id(event),
            )
            return 200, shown(record), {"invoices": list(record.invoices)}

        return self._audited("bank.match", _target(entry), work)

    def ignore(self, entry: str) -> Response[str]:
        def work() -> Outcome:
            services, event = self.services(), self.event
            reference = reference_of(entry)
            request = IgnoreRequest.model_validate(json_object(event.body))
            record = services.desk.ignore(
                reference, request.reason, actor=iam_actor(event), now=services.now()
            )
            return 200, shown(record), {"reason": record.reason}

        return self._audited("bank.ignore", _target(entry), work)

    def record_payment(self) -> Response[str]:
        """A cheque or cash payment staff took by hand (quittance.payments.offline)."""

        def work() -> Outcome:
            services, event = self.services(), self.event
            payment = OfflinePayment.model_validate(json_object(event.body))
            recorded, new = offline.record(
                payment,
                invoices=services.invoices,
                events=services.desk.events,
                now=services.now(),
                correlation_id=request_id(event),
            )
            self.metrics.add_metric(
                name=f"payments_recorded_{payment.method}", unit=MetricUnit.Count, value=1
            )
            body = {
                "payment_id": recorded.payment_id,
                "invoice": recorded.invoice_number,
                "method": payment.method,
                "amount": recorded.amount.model_dump(mode="json"),
                "duplicate": not new,
            }
            return 200, body, {k: body[k] for k in ("payment_id", "method", "duplicate")}

        return self._audited("payment.record", "payments", work)
