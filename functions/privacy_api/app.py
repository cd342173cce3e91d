"""/admin/customers/* — data subjects' rights for staff, IAM-authorised (SigV4): erasure,
export, marketing consent. Every call, reads included, leaves one audit entry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.audit_table import AuditTrail
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.exports_bucket import ExportsBucket
from quittance.aws.http import iam_actor, invalid_fields, json_response, request_id
from quittance.aws.ledger_table import LedgerTable
from quittance.clock import Clock, SystemClock
from quittance.errors import NotFound
from quittance.observability import instruments
from quittance.privacy.consent import change_marketing_consent
from quittance.privacy.erasure import erase_customer
from quittance.privacy.export import export_customer, hand_over
from quittance.settings import PrivacyApiSettings, load

logger, metrics, tracer = instruments("privacy_api")
app = APIGatewayHttpResolver()
CUSTOMER_ID = r"C-[0-9a-f]{20}"


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    granted: bool


class Auditor:
    """The audit trail, or nothing when the stack has no audit table configured."""

    def __init__(self, trail: AuditTrail | None) -> None:
        self._trail = trail

    def record(self, action: str, target: str, outcome: str, details: dict[str, Any]) -> None:
        if self._trail is not None:
            self._trail.record(_actor(), action, target, outcome, _request_id(), details)


@dataclass(frozen=True)
class Deps:
    keyring: CustomerKeyring
    customers: CustomersTable
    ledger: LedgerTable
    archive: ArchiveBucket
    evidence: EvidenceStore
    exports: ExportsBucket
    audit: Auditor
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(PrivacyApiSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    s3 = make_client("s3", s.aws_region)
    # Opens and destroys customer keys; never mints one (no KMS key id).
    keyring = CustomerKeyring(
        s.customers_table, dynamodb, make_client("kms", s.aws_region), None, clock=clock.now
    )
    archive = ArchiveBucket(s.archive_bucket, s3, s.archive_kms_key_id)
    return Deps(
        keyring=keyring,
        customers=CustomersTable(s.customers_table, dynamodb, keyring),
        ledger=LedgerTable(s.ledger_table, dynamodb),
        archive=archive,
        evidence=EvidenceStore(archive, s3, keyring),
        exports=ExportsBucket(s.exports_bucket, s3, s.archive_kms_key_id),
        audit=Auditor(
            AuditTrail(s.audit_table, dynamodb, clock=clock.now) if s.audit_table else None
        ),
        clock=clock,
    )


def _actor() -> str:
    return iam_actor(app.current_event)


def _request_id() -> str:
    return request_id(app.current_event)


def _invalid(customer_id: str) -> Response[str] | None:
    if re.fullmatch(CUSTOMER_ID, customer_id):
        return None
    return json_response(422, {"error": "invalid_customer_id", "detail": CUSTOMER_ID})


@app.delete("/admin/customers/<customer_id>")
def erase(customer_id: str) -> Response[str]:
    if refused := _invalid(customer_id):
        return refused
    d = deps()
    report = erase_customer(
        customer_id,
        keyring=d.keyring,
        profiles=d.customers,
        ledger=d.ledger,
        now=d.clock.now(),
    )
    outcome: Literal["erased", "already_erased"] = (
        "already_erased" if report.already_erased else "erased"
    )
    d.audit.record(
        "customer.erase",
        f"customer/{customer_id}",
        outcome,
        {"erased": [e["record"] for e in report.erased]},
    )
    metrics.add_metric(name=f"customers_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info("customer erasure", extra={"customer_id": customer_id, "outcome": outcome})
    return json_response(200, report.as_json())


@app.get("/admin/customers/<customer_id>/export")
def export(customer_id: str) -> Response[str]:
    if refused := _invalid(customer_id):
        return refused
    d = deps()
    now = d.clock.now()
    try:
        result = export_customer(
            customer_id,
            profiles=d.customers,
            ledger=d.ledger,
            archive=d.archive,
            evidence=d.evidence,
            now=now,
        )
    except NotFound as exc:
        d.audit.record("customer.export", f"customer/{customer_id}", "not_found", {})
        return json_response(404, {"error": exc.code, "detail": exc.detail})
    handed = hand_over(result, d.exports, request_id=_request_id(), now=now)
    d.audit.record(
        "customer.export",
        f"customer/{customer_id}",
        "ok",
        {
            "invoices": handed.invoices,
            "files": handed.files,
            "key": handed.key,
            "sha256": handed.sha256,
        },
    )
    metrics.add_metric(name="customers_exported", unit=MetricUnit.Count, value=1)
    logger.info("customer export", extra={"customer_id": customer_id, "size": handed.size})
    return json_response(200, handed.as_json())


@app.put("/admin/customers/<customer_id>/consents/marketing")
def marketing_consent(customer_id: str) -> Response[str]:
    if refused := _invalid(customer_id):
        return refused
    try:
        change = ConsentChange.model_validate_json(app.current_event.body or "")
    except ValidationError as exc:
        fields = invalid_fields(exc)
        return json_response(
            422, {"error": "payload_invalid", "detail": "see fields", "fields": fields}
        )
    d = deps()
    target = f"customer/{customer_id}"
    try:
        changed = change_marketing_consent(
            customer_id, change.granted, keyring=d.keyring, profiles=d.customers, now=d.clock.now()
        )
    except NotFound as exc:
        d.audit.record("customer.consent.marketing", target, "not_found", {})
        return json_response(404, {"error": exc.code, "detail": exc.detail})
    d.audit.record("customer.consent.marketing", target, changed.outcome, {})
    return json_response(200, changed.as_json())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
