"""/admin/* — the staff API, IAM-authorised by API Gateway (SigV4): register invoices, export
the books, and the compliance desk (find, verify, hold, hand over, resend a proof; read and
verify the audit trail). Every call leaves exactly one audit entry, reads included."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from quittance.archive.compliance import ReceiptQuery, encode_cursor
from quittance.archive.desk import (
    Desk,
    DisposalReport,
    HoldRequest,
    ResendRequest,
    RetirementReport,
    audit_query,
    expiring_query,
    export_query,
    retirable_query,
)
from quittance.archive.retention import RetentionPolicy
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.audit_table import AuditTrail
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.exports_bucket import ExportsBucket
from quittance.aws.http import iam_actor, invalid_fields, json_object, json_response, request_id
from quittance.aws.idempotency import once_per_key
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.mailer import SesMailer
from quittance.aws.receipt_search import ReceiptIndex
from quittance.aws.staff_archive import StaffArchive
from quittance.clock import Clock, SystemClock
from quittance.errors import (
    InvoiceCancelled,
    NotFound,
    PayloadInvalid,
    QuittanceError,
)
from quittance.ledger.export import export_books
from quittance.ledger.invoices import INVOICE_NUMBER, InvoiceRequest, register_request
from quittance.observability import instruments
from quittance.settings import (
    ArchiveApiSettings,
    ComplianceSettings,
    InvoiceContactSettings,
    load,
)

logger, metrics, tracer = instruments("archive_api")
# A staff member's retry of the same resend within a week gets the first answer.
RESEND_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[number, request.request_id]",
    payload_validation_jmespath="request.email",
    expires_after_seconds=7 * 24 * 3600,
)
app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    """The one composition root; what only some routes need is built on first use."""

    ledger: LedgerTable
    trail: AuditTrail
    exports: ExportsBucket
    clock: Clock

    @cached_property
    def desk(self) -> Desk:
        s = load(ComplianceSettings)
        dynamodb = make_client("dynamodb", s.aws_region)
        s3 = make_client("s3", s.aws_region)
        return Desk(
            ledger=self.ledger,
            index=ReceiptIndex(s.ledger_table, dynamodb),
            archive=StaffArchive(
                s.archive_bucket, make_client("s3", s.aws_region), s.archive_kms_key_id
            ),
            trail=self.trail,
            policy=RetentionPolicy(
                s.retention_mode,
                s.retention_days,
                s.legal_retention_years,
                s.fiscal_year_end_month,
                s.fiscal_timezone,
            ),
            deliveries=EvidenceStore(
                ArchiveBucket(s.archive_bucket, s3, s.archive_kms_key_id), s3, self.keyring
            ),
            clock=self.clock.now,
        )

    @cached_property
    def keyring(self) -> CustomerKeyring:
        """Customers' data keys: opened for the raw deliveries and the address on file, minted
        for a customer staff register with an invoice before any gateway did. The keyring
        checks the key item on every use, so a bundle made just after an erasure already says
        "erased"."""
        s = load(InvoiceContactSettings)
        dynamodb = make_client("dynamodb", s.aws_region)
        kms = make_client("kms", s.aws_region)
        return CustomerKeyring(
            s.customers_table, dynamodb, kms, s.customer_keys_kms_key_id, clock=self.clock.now
        )

    @cached_property
    def profiles(self) -> CustomersTable:
        """Profiles, contact fields sealed with the customer's own key (the keyring above)."""
        s = load(InvoiceContactSettings)
        return CustomersTable(
            s.customers_table, make_client("dynamodb", s.aws_region), self.keyring
        )

    @cached_property
    def resend_once(self) -> Callable[..., dict[str, Any]]:
        """The resend, once per (receipt, request id): a repeat returns the first answer."""
        s = load(ComplianceSettings)
        mailer = SesMailer(make_client("sesv2", s.aws_region), s.ses_configuration_set, self.clock)

        def send(payload: dict[str, Any]) -> dict[str, Any]:
            request = ResendRequest.model_validate(payload["request"])
            return self.desk.resend(
                payload["number"],
                request,
                profiles=self.profiles,
                mailer=mailer,
                sender=s.sender_email,
            )

        return once_per_key(
            send,
            data_keyword="payload",
            config=RESEND_IDEMPOTENCY,
            table=s.idempotency_table,
            client=make_client("dynamodb", s.aws_region),
            operation="archive.resend",
        )


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(ArchiveApiSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    return Deps(
        ledger=LedgerTable(s.ledger_table, dynamodb),
        trail=AuditTrail(load(ComplianceSettings).audit_table, dynamodb, clock=clock.now),
        exports=ExportsBucket(
            s.exports_bucket, make_client("s3", s.aws_region), s.archive_kms_key_id
        ),
        clock=clock,
    )


def _actor() -> str:
    return iam_actor(app.current_event)


Outcome = tuple[int, dict[str, Any], dict[str, Any]]
"""HTTP status, body, and the audit entry's details (never personal data)."""


def _request_id() -> str:
    return request_id(app.current_event)


def audited(action: str, target: str, work: Callable[[], Outcome]) -> Response[str]:
    """Run one admin call and leave exactly one audit entry for it, whatever its outcome."""
    trail = deps().trail
    try:
        status, body, details = work()
    except NotFound as exc:
        status, body, details = 404, {"error": exc.code, "detail": exc.detail}, {}
    except QuittanceError as exc:
        status, body, details = 422, {"error": exc.code, "detail": exc.detail}, {}
    except ValidationError as exc:
        fields = invalid_fields(exc)
        status, body, details = (
            422,
            {"error": "invalid", "detail": "see fields", "fields": fields},
            {},
        )
    except Exception:
        trail.record(_actor(), action, target, "error", _request_id(), {})
        raise
    outcome = "ok" if status < 400 else f"refused_{status}"
    entry = trail.record(_actor(), action, target, outcome, _request_id(), details)
    return json_response(status, {**body, "audit_seq": entry.seq})


def _body() -> dict[str, Any]:
    return json_object(app.current_event.body)


@app.get("/admin/receipts")
def search_receipts() -> Response[str]:
    params = dict(app.current_event.query_string_parameters or {})

    def work() -> Outcome:
        query = ReceiptQuery.model_validate(params)
        found = deps().desk.search(query)
        filters = {k: v for k, v in params.items() if k not in {"reference", "cursor"}}
        return 200, found, {"filters": filters, "hits": len(found["items"])}

    return audited("receipt.search", "receipts", work)


@app.get("/admin/receipts/<number>")
def show_receipt(number: str) -> Response[str]:
    return audited("receipt.show", number, lambda: (200, deps().desk.show(number), {}))


@app.post("/admin/receipts/<number>/verify")
def verify_receipt(number: str) -> Response[str]:
    def work() -> Outcome:
        report = deps().desk.verify(number)
        return 200, report, {"ok": report["ok"], "failed": report["failed"]}

    return audited("receipt.verify", number, work)


@app.put("/admin/receipts/<number>/legal-hold")
def hold_receipt(number: str) -> Response[str]:
    return _hold(number, on=True)


@app.delete("/admin/receipts/<number>/legal-hold")
def release_receipt(number: str) -> Response[str]:
    return _hold(number, on=False)


def _hold(number: str, *, on: bool) -> Response[str]:
    def work() -> Outcome:
        request = HoldRequest.model_validate(_body())
        result = deps().desk.hold(number, on)
        details = {"reason": request.reason, "case": request.case, "versions": result["versions"]}
        return 200, result, details

    return audited("receipt.hold" if on else "receipt.release", number, work)


@app.post("/admin/receipts/<number>/evidence")
def evidence_bundle(number: str) -> Response[str]:
    def work() -> Outcome:
        seconds = load(ComplianceSettings).evidence_url_seconds
        result = deps().desk.evidence(number, _actor(), seconds)
        details = {k: result[k] for k in ("key", "version_id", "sha256_hex", "delivery")}
        return 200, result, details

    return audited("receipt.evidence", number, work)


@app.post("/admin/receipts/<number>/resend")
def resend_receipt(number: str) -> Response[str]:
    def work() -> Outcome:
        request = ResendRequest.model_validate(_body())
        try:
            result = deps().resend_once(payload={"number": number, "request": request.model_dump()})
        except IdempotencyValidationError:
            raise PayloadInvalid("this request id was used with another address") from None
        details = {
            "request_id": request.request_id,
            "corrected_address": result["corrected_address"],
            "message_id": result["message_id"],
        }
        return 200, result, details

    return audited("receipt.resend", number, work)


@app.get("/admin/audit")
def audit_log() -> Response[str]:
    params = dict(app.current_event.query_string_parameters or {})

    def work() -> Outcome:
        entries, cursor = deps().trail.search(**audit_query(params))
        found = {
            "items": [e.as_json() for e in entries],
            "next_cursor": encode_cursor(cursor) if cursor else None,
        }
        return 200, found, {"filters": {k: v for k, v in params.items() if k != "cursor"}}

    return audited("audit.log", params.get("receipt") or "audit", work)


@app.get("/admin/audit/verify")
def audit_verify() -> Response[str]:
    def work() -> Outcome:
        report = deps().trail.verify().as_json()
        return 200, report, report

    return audited("audit.verify", "audit", work)


@app.get("/admin/archive/expiring")
def archive_expiring() -> Response[str]:
    params = dict(app.current_event.query_string_parameters or {})

    def work() -> Outcome:
        found = deps().desk.expiring(**expiring_query(params))
        return 200, found, {"before": found["before"], "candidates": len(found["items"])}

    return audited("archive.expiring", "archive", work)


@app.post("/admin/archive/disposals")
def archive_disposal() -> Response[str]:
    def work() -> Outcome:
        report = DisposalReport.model_validate(_body())
        result = deps().desk.record_disposal(report)
        return 200, result, result

    return audited("archive.dispose", "archive", work)


@app.get("/admin/ledger/retirable")
def ledger_retirable() -> Response[str]:
    params = dict(app.current_event.query_string_parameters or {})

    def work() -> Outcome:
        found = deps().desk.retirable(**retirable_query(params))
        details = {
            "year": found["year"],
            "retirable": [v["invoice"] for v in found["retirable"]],
            "kept": len(found["kept"]),
        }
        return 200, found, details

    return audited("ledger.retirable", f"year:{params.get('year', '')}", work)


@app.post("/admin/ledger/retirements")
def ledger_retirement() -> Response[str]:
    def work() -> Outcome:
        report = RetirementReport.model_validate(_body())
        result = deps().desk.record_retirement(report)
        return 200, result, result

    return audited("ledger.retire", "ledger", work)


@app.get("/admin/archive/export")
def archive_export() -> Response[str]:
    params = dict(app.current_event.query_string_parameters or {})

    def work() -> Outcome:
        page = deps().desk.export_page(**export_query(params), url_seconds=300)
        numbers = [i["receipt_number"] for i in page["items"]]
        return 200, page, {"year": page["year"], "receipts": numbers}

    return audited("archive.export", f"year:{params.get('year', '')}", work)


@app.put("/admin/invoices/<number>")
def put_invoice(number: str) -> Response[str]:
    return audited("invoice.register", number, lambda: _put_invoice(number))


def _put_invoice(number: str) -> Outcome:
    if not re.fullmatch(INVOICE_NUMBER, number):
        return 422, {"error": "invalid_invoice_number", "detail": INVOICE_NUMBER}, {}
    try:
        request = InvoiceRequest.model_validate_json(app.current_event.body or "")
    except ValidationError as exc:
        fields = invalid_fields(exc)
        return 422, {"error": "payload_invalid", "detail": "see fields", "fields": fields}, {}
    try:
        registered = register_request(
            number, request, book=deps().ledger, profiles=deps().profiles, now=deps().clock.now()
        )
    except InvoiceCancelled as exc:
        return 409, {"error": exc.code, "detail": exc.detail}, {}
    contact = registered.contact
    logger.info(
        "invoice registered",
        extra={"invoice_number": number, "actor": _actor(), "contact": contact},
    )
    metrics.add_metric(name="invoices_registered", unit=MetricUnit.Count, value=1)
    answer = {**registered.summary.model_dump(mode="json"), "contact": contact}
    return 200, answer, {"customer_id": registered.customer_id, "contact": contact}


@app.get("/admin/exports")
def accounting_export() -> Response[str]:
    """The books as CSV (quittance.ledger.export); audited with the period asked for."""
    query = app.current_event.query_string_parameters or {}
    period = {"from": query.get("from", ""), "to": query.get("to", "")}
    trail = deps().trail
    try:
        status, body = (
            200,
            export_books(
                query,
                ledger=deps().ledger,
                store=deps().exports,
                request_id=_request_id(),
                now=deps().clock.now(),
            ),
        )
    except QuittanceError as exc:
        status, body = 422, {"error": exc.code, "detail": exc.detail}
    except Exception:
        trail.record(_actor(), "books.export", "books", "error", _request_id(), period)
        raise
    if status == 200:
        logger.info(
            "accounting export",
            extra={"from": body["from"], "to": body["to"], "rows": body["rows"], "actor": _actor()},
        )
    outcome = "ok" if status < 400 else f"refused_{status}"
    trail.record(_actor(), "books.export", "books", outcome, _request_id(), period)
    return json_response(status, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    RESEND_IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
