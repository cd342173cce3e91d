"""/admin/bank/* — staff import a bank statement (in the call, or uploaded to the drop prefix
through a presigned POST and followed until imported) and work through the entries no
invoice claimed; /admin/payments — staff record a cheque or cash payment. IAM-authorised
like every /admin route; every call leaves exactly one audit entry (quittance.aws.bank_routes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.aws.audit_table import AuditTrail
from quittance.aws.bank_imports import ImportStatusTable
from quittance.aws.bank_routes import BankRoutes
from quittance.aws.bank_wiring import bank_desk, open_invoices, payment_events
from quittance.aws.clients import make_client
from quittance.aws.open_invoices import OpenInvoiceIndex
from quittance.aws.publisher import DedupedPublisher
from quittance.aws.statement_drop import StatementDrop
from quittance.bank.review import BankDesk
from quittance.clock import Clock, SystemClock
from quittance.observability import instruments
from quittance.settings import BankApiSettings, load

logger, metrics, tracer = instruments("bank_api")
app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    desk: BankDesk
    events: DedupedPublisher
    invoices: OpenInvoiceIndex
    trail: AuditTrail
    uploads: StatementDrop
    statuses: ImportStatusTable
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()

    def new_upload_id(self) -> str:
        return uuid.uuid4().hex


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(BankApiSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    invoices, events = open_invoices(s, clock), payment_events(s)
    return Deps(
        desk=bank_desk(s, clock, events, invoices),
        events=events,
        invoices=invoices,
        trail=AuditTrail(s.audit_table, dynamodb, clock=clock.now),
        uploads=StatementDrop(
            s.bank_statements_bucket, make_client("s3", s.aws_region), s.bank_statements_kms_key_id
        ),
        statuses=ImportStatusTable(s.ledger_table, dynamodb),
        clock=clock,
    )


app.include_router(BankRoutes(deps, metrics).router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps().events.config.register_lambda_context(context)
    return app.resolve(event, context)
