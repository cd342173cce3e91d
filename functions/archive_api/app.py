"""/admin/* — the staff API, IAM-authorised by API Gateway (SigV4). For now: register invoices."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from quittance.aws.clients import make_client
from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.export import days, export_rows, to_csv
from quittance.ledger.invoices import INVOICE_NUMBER, InvoiceRegistration, register_invoice
from quittance.observability import instruments
from quittance.settings import ArchiveApiSettings, load

logger, metrics, tracer = instruments("archive_api")
app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    ledger: LedgerTable


@cache
def deps() -> Deps:
    s = load(ArchiveApiSettings)
    return Deps(ledger=LedgerTable(s.ledger_table, make_client("dynamodb", s.aws_region)))


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


def _actor() -> str:
    iam = (app.current_event.request_context.raw_event.get("authorizer") or {}).get("iam") or {}
    return str(iam.get("userArn") or "unknown")


@app.put("/admin/invoices/<number>")
def put_invoice(number: str) -> Response[str]:
    if not re.fullmatch(INVOICE_NUMBER, number):
        return _json(422, {"error": "invalid_invoice_number", "detail": INVOICE_NUMBER})
    try:
        registration = InvoiceRegistration.model_validate_json(app.current_event.body or "")
    except ValidationError as exc:
        fields = [
            {"loc": list(e["loc"]), "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        return _json(422, {"error": "payload_invalid", "detail": "see fields", "fields": fields})
    summary = register_invoice(number, registration, book=deps().ledger, now=datetime.now(UTC))
    logger.info("invoice registered", extra={"invoice_number": number, "actor": _actor()})
    metrics.add_metric(name="invoices_registered", unit=MetricUnit.Count, value=1)
    return _json(200, summary.model_dump(mode="json"))


@app.get("/admin/exports")
def accounting_export() -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    try:
        start = date.fromisoformat(query.get("from", ""))
        end = date.fromisoformat(query.get("to", ""))
        day_list = list(days(start, end))
    except ValueError as exc:
        return _json(422, {"error": "invalid_period", "detail": str(exc)})
    if query.get("format", "csv") != "csv":
        return _json(422, {"error": "invalid_format", "detail": "csv only"})
    ledger = deps().ledger
    records: dict[str, Any] = {}

    def record(number: str) -> Any:
        if number not in records:
            records[number] = ledger.load(number)
        return records[number]

    documents = [doc for day in day_list for doc in ledger.documents_on(day)]
    body = to_csv(
        export_rows(
            documents,
            registration_of=ledger.registration,
            anomalies_of=lambda n: record(n).reported_anomalies if record(n) else frozenset(),
        )
    )
    logger.info(
        "accounting export",
        extra={"from": start.isoformat(), "to": end.isoformat(), "rows": len(documents),
               "actor": _actor()},
    )  # fmt: skip
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=body,
        headers={"Content-Disposition": f'attachment; filename="quittance-{start}-{end}.csv"'},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
