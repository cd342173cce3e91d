"""/admin/bank/* — staff import a bank statement and work through the entries no invoice
claimed; /admin/payments — staff record a cheque or cash payment (IAM-authorised like every
/admin route). Every call leaves exactly one audit entry,
reads included; the audit details carry references and counts, never a payer's name."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from quittance.aws.audit_table import AuditTrail
from quittance.aws.bank_wiring import bank_desk, open_invoices, payment_events
from quittance.aws.clients import make_client
from quittance.aws.http import Outcome, iam_actor, json_object, request_id
from quittance.aws.http import audited as audited_call
from quittance.aws.open_invoices import OpenInvoiceIndex
from quittance.aws.publisher import DedupedPublisher
from quittance.bank.review import BankDesk, EntryRecord
from quittance.bank.statement import StatementRefused, parse_statement
from quittance.clock import Clock, SystemClock
from quittance.errors import PayloadInvalid
from quittance.observability import instruments
from quittance.payments import offline
from quittance.payments.offline import OfflinePayment
from quittance.settings import BankSettings, load

logger, metrics, tracer = instruments("bank_api")
app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    desk: BankDesk
    events: DedupedPublisher
    open_invoices: OpenInvoiceIndex
    trail: AuditTrail
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    settings = load(BankSettings)
    if settings.audit_table is None:
        raise RuntimeError("AUDIT_TABLE is not set: every staff call is audited")
    dynamodb = make_client("dynamodb", settings.aws_region)
    trail = AuditTrail(settings.audit_table, dynamodb, clock=clock.now)
    invoices = open_invoices(settings, clock)
    events = payment_events(settings)
    desk = bank_desk(settings, clock, events, invoices)
    return Deps(desk=desk, events=events, open_invoices=invoices, trail=trail, clock=clock)


class MatchRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    invoices: tuple[str, ...] = Field(min_length=1, max_length=20)


class IgnoreRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


def audited(action: str, target: str, work: Callable[[], Outcome]) -> Response[str]:
    """Run one call and leave exactly one audit entry for it, whatever its outcome."""
    return audited_call(
        app.current_event, deps().trail, (action, target), work, refused=(StatementRefused,)
    )


def _shown(record: EntryRecord) -> dict[str, Any]:
    """What staff need to decide: the entry as the bank wrote it, and what matching saw."""
    return {
        **record.model_dump(mode="json", exclude={"events", "entry"}),
        **record.entry.model_dump(mode="json"),
    }


@app.post("/admin/bank/statements")
def import_statement() -> Response[str]:
    return audited("bank.import", "statement", _import)


def _import() -> Outcome:
    statement = parse_statement(_statement_bytes())
    report = deps().desk.import_statement(
        statement, now=deps().clock.now(), correlation_id=request_id(app.current_event)
    )
    metrics.add_metric(name="bank_entries_matched", unit=MetricUnit.Count, value=report.matched)
    metrics.add_metric(name="bank_entries_to_review", unit=MetricUnit.Count, value=report.to_review)
    body = {
        "statement": report.statement,
        "entries": report.entries,
        "matched": report.matched,
        "to_review": report.to_review,
        "not_credits": report.not_credits,
        "already_known": report.already_known,
        "events_published": report.events_published,
        "by": report.by,
    }
    return 200, body, body


class StatementUpload(BaseModel):
    """The JSON form of an upload (what the CLI's signed JSON client sends)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statement_base64: str = Field(min_length=1)


def _statement_bytes() -> bytes:
    """The file as the bank wrote it (its XML declaration names its encoding): the body
    itself, or base64 in ``{"statement_base64": …}`` when sent as JSON."""
    event = app.current_event
    raw = event.body or ""
    data = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
    if "json" not in (event.headers.get("content-type") or ""):
        return data
    upload = StatementUpload.model_validate(json_object(data.decode()))
    try:
        return base64.b64decode(upload.statement_base64, validate=True)
    except ValueError:
        raise PayloadInvalid("statement_base64 is not base64") from None


@app.get("/admin/bank/unmatched")
def unmatched() -> Response[str]:
    def work() -> Outcome:
        waiting = deps().desk.waiting()
        return 200, {"entries": [_shown(r) for r in waiting]}, {"count": len(waiting)}

    return audited("bank.unmatched", "review-list", work)


@app.post("/admin/bank/entries/<reference>/match")
def match(reference: str) -> Response[str]:
    def work() -> Outcome:
        request = MatchRequest.model_validate(json_object(app.current_event.body))
        record = deps().desk.match(
            reference,
            request.invoices,
            actor=iam_actor(app.current_event),
            now=deps().clock.now(),
            correlation_id=request_id(app.current_event),
        )
        return 200, _shown(record), {"invoices": list(record.invoices)}

    return audited("bank.match", reference, work)


@app.post("/admin/bank/entries/<reference>/ignore")
def ignore(reference: str) -> Response[str]:
    def work() -> Outcome:
        request = IgnoreRequest.model_validate(json_object(app.current_event.body))
        record = deps().desk.ignore(
            reference, request.reason, actor=iam_actor(app.current_event), now=deps().clock.now()
        )
        return 200, _shown(record), {"reason": record.reason}

    return audited("bank.ignore", reference, work)


@app.post("/admin/payments")
def record_payment() -> Response[str]:
    """A cheque or cash payment staff took by hand (quittance.payments.offline)."""

    def work() -> Outcome:
        payment = OfflinePayment.model_validate(json_object(app.current_event.body))
        event, new = offline.record(
            payment,
            invoices=deps().open_invoices,
            events=deps().desk.events,
            now=deps().clock.now(),
            correlation_id=request_id(app.current_event),
        )
        metrics.add_metric(
            name=f"payments_recorded_{payment.method}", unit=MetricUnit.Count, value=1
        )
        body = {
            "payment_id": event.payment_id,
            "invoice": event.invoice_number,
            "method": payment.method,
            "amount": event.amount.model_dump(mode="json"),
            "duplicate": not new,
        }
        return 200, body, {k: body[k] for k in ("payment_id", "method", "duplicate")}

    return audited("payment.record", "payments", work)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps().events.config.register_lambda_context(context)
    return app.resolve(event, context)
