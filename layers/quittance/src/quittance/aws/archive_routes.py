"""The compliance desk's routes (``/admin/receipts``, ``/admin/audit``, ``/admin/archive``,
``/admin/ledger``): find, show, verify, hold, hand over and resend a proof; read and verify
the audit trail; the archive's expiring proofs and disposals; the ledger's retirable years.
Each route parses its request, calls the desk once, and leaves one audit entry.

One object per execution environment rather than a module-level router: each environment
builds its own around its own services (what ``deps()`` of archive_api returns, read on
every request so a re-wired composition root is seen at once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

from quittance.archive.desk import Desk
from quittance.archive.requests import (
    DisposalReport,
    HoldRequest,
    ResendRequest,
    RetirementReport,
    audit_query,
    expiring_query,
    export_query,
    retirable_query,
)
from quittance.archive.search import ReceiptQuery, encode_cursor
from quittance.audit.trail import AuditLog
from quittance.aws.http import Outcome, audited, iam_actor, json_object, routed_event
from quittance.errors import PayloadInvalid


class DeskServices(Protocol):
    """What the desk's routes use of archive_api's composition root."""

    @property
    def desk(self) -> Desk: ...

    @property
    def trail(self) -> AuditLog: ...

    @property
    def resend_once(self) -> Callable[..., dict[str, Any]]: ...

    @property
    def evidence_url_seconds(self) -> int: ...


class DeskRoutes:
    """The routes, each a method; ``router`` is what archive_api includes."""

    def __init__(self, services: Callable[[], DeskServices]) -> None:
        self.services = services
        # Powertools' Router.__init__ carries no annotations.
        self.router = router = Router()  # type: ignore[no-untyped-call]
        router.get("/admin/receipts")(self.search_receipts)
        router.get("/admin/receipts/<number>")(self.show_receipt)
        router.post("/admin/receipts/<number>/verify")(self.verify_receipt)
        router.put("/admin/receipts/<number>/legal-hold")(self.hold_receipt)
        router.delete("/admin/receipts/<number>/legal-hold")(self.release_receipt)
        router.post("/admin/receipts/<number>/evidence")(self.evidence_bundle)
        router.post("/admin/receipts/<number>/resend")(self.resend_receipt)
        router.get("/admin/audit")(self.audit_log)
        router.get("/admin/audit/verify")(self.audit_verify)
        router.get("/admin/archive/expiring")(self.archive_expiring)
        router.post("/admin/archive/disposals")(self.archive_disposal)
        router.get("/admin/archive/export")(self.archive_export)
        router.get("/admin/ledger/retirable")(self.ledger_retirable)
        router.post("/admin/ledger/retirements")(self.ledger_retirement)

    # ------------------------------------------------------------------ request helpers

    @property
    def event(self) -> APIGatewayProxyEventV2:
        return routed_event(self.router)

    @property
    def desk(self) -> Desk:
        return self.services().desk

    def params(self) -> dict[str, str]:
        return dict(self.event.query_string_parameters or {})

    def body(self) -> dict[str, Any]:
        return json_object(self.event.body)

    def audit(self, action: str, target: str, work: Callable[[], Outcome]) -> Response[str]:
        return audited(self.event, self.services().trail, (action, target), work)

    # ------------------------------------------------------------------ receipts

    def search_receipts(self) -> Response[str]:
        query = self.params()

        def work() -> Outcome:
            found = self.desk.search(ReceiptQuery.model_validate(query))
            filters = {k: v for k, v in query.items() if k not in {"reference", "cursor"}}
            return 200, found, {"filters": filters, "hits": len(found["items"])}

        return self.audit("receipt.search", "receipts", work)

    def show_receipt(self, number: str) -> Response[str]:
        return self.audit("receipt.show", number, lambda: (200, self.desk.show(number), {}))

    def verify_receipt(self, number: str) -> Response[str]:
        def work() -> Outcome:
            report = self.desk.verify(number)
            return 200, report, {"ok": report["ok"], "failed": report["failed"]}

        return self.audit("receipt.verify", number, work)

    def hold_receipt(self, number: str) -> Response[str]:
        return self._hold(number, on=True)

    def release_receipt(self, number: str) -> Response[str]:
        return self._hold(number, on=False)

    def _hold(self, number: str, *, on: bool) -> Response[str]:
        def work() -> Outcome:
            request = HoldRequest.model_validate(self.body())
            result = self.desk.hold(number, on)
            details = {
                "reason": request.reason,
                "case": request.case,
                "versions": result["versions"],
            }
            return 200, result, details

        return self.audit("receipt.hold" if on else "receipt.release", number, work)

    def evidence_bundle(self, number: str) -> Response[str]:
        def work() -> Outcome:
            seconds = self.services().evidence_url_seconds
            result = self.desk.evidence(number, iam_actor(self.event), seconds)
            details = {k: result[k] for k in ("key", "version_id", "sha256_hex", "delivery")}
            return 200, result, details

        return self.audit("receipt.evidence", number, work)

    def resend_receipt(self, number: str) -> Response[str]:
        def work() -> Outcome:
            request = ResendRequest.model_validate(self.body())
            payload = {"number": number, "request": request.model_dump()}
            try:
                result = self.services().resend_once(payload=payload)
            except IdempotencyValidationError:
                raise PayloadInvalid("this request id was used with another address") from None
            details = {
                "request_id": request.request_id,
                "corrected_address": result["corrected_address"],
                "message_id": result["message_id"],
            }
            return 200, result, details

        return self.audit("receipt.resend", number, work)

    # ------------------------------------------------------------------ audit trail

    def audit_log(self) -> Response[str]:
        query = self.params()

        def work() -> Outcome:
            entries, cursor = self.services().trail.search(**audit_query(query))
            found = {
                "items": [e.as_json() for e in entries],
                "next_cursor": encode_cursor(cursor) if cursor else None,
            }
            return 200, found, {"filters": {k: v for k, v in query.items() if k != "cursor"}}

        return self.audit("audit.log", query.get("receipt") or "audit", work)

    def audit_verify(self) -> Response[str]:
        def work() -> Outcome:
            report = self.services().trail.verify().as_json()
            return 200, report, report

        return self.audit("audit.verify", "audit", work)

    # ------------------------------------------------------------------ archive and ledger

    def archive_expiring(self) -> Response[str]:
        query = self.params()

        def work() -> Outcome:
            found = self.desk.expiring(**expiring_query(query))
            return 200, found, {"before": found["before"], "candidates": len(found["items"])}

        return self.audit("archive.expiring", "archive", work)

    def archive_disposal(self) -> Response[str]:
        def work() -> Outcome:
            result = self.desk.record_disposal(DisposalReport.model_validate(self.body()))
            return 200, result, result

        return self.audit("archive.dispose", "archive", work)

    def archive_export(self) -> Response[str]:
        query = self.params()

        def work() -> Outcome:
            page = self.desk.export_page(**export_query(query), url_seconds=300)
            numbers = [i["receipt_number"] for i in page["items"]]
            return 200, page, {"year": page["year"], "receipts": numbers}

        return self.audit("archive.export", f"year:{query.get('year', '')}", work)

    def ledger_retirable(self) -> Response[str]:
        query = self.params()

        def work() -> Outcome:
            found = self.desk.retirable(**retirable_query(query))
            details = {
                "year": found["year"],
                "retirable": [v["invoice"] for v in found["retirable"]],
                "kept": len(found["kept"]),
            }
            return 200, found, details

        return self.audit("ledger.retirable", f"year:{query.get('year', '')}", work)

    def ledger_retirement(self) -> Response[str]:
        def work() -> Outcome:
            result = self.desk.record_retirement(RetirementReport.model_validate(self.body()))
            return 200, result, result

        return self.audit("ledger.retire", "ledger", work)
