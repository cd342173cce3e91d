"""Data subjects' rights as staff exercise them (``/admin/customers/*``): erasure, export and
the marketing consent, each on a well-formed customer id, each left in the audit trail with
its outcome (a refusal for an unknown customer included)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from quittance.errors import NotFound, PayloadInvalid, QuittanceError
from quittance.privacy import consent, erasure, export
from quittance.privacy.consent import ConsentChanged, change_marketing_consent
from quittance.privacy.erasure import ErasureReport, erase_customer
from quittance.privacy.evidence import DeliverySource
from quittance.privacy.export import HandedOver, export_customer, hand_over
from quittance.privacy.keyring import Keyring

CUSTOMER_ID = r"C-[0-9a-f]{20}"


class CustomerIdInvalid(QuittanceError):
    """Not a customer id quittance issues (``C-`` and 20 hex digits): nothing is looked up."""

    code = "invalid_customer_id"


def checked_customer_id(customer_id: str) -> str:
    if not re.fullmatch(CUSTOMER_ID, customer_id):
        raise CustomerIdInvalid(CUSTOMER_ID)
    return customer_id


class ConsentChange(BaseModel):
    """The body of ``PUT /admin/customers/{id}/consents/marketing``."""

    model_config = ConfigDict(extra="forbid")
    granted: bool


def consent_change(body: str | None) -> ConsentChange:
    try:
        return ConsentChange.model_validate_json(body or "")
    except ValidationError as exc:
        fields: list[dict[str, object]] = [
            {"loc": list(e["loc"]), "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise PayloadInvalid("see fields", fields) from None


class Audit(Protocol):
    """The audit trail, bound to the staff call being served (its caller and request id)."""

    def record(self, action: str, target: str, outcome: str, details: dict[str, Any]) -> None: ...


class Profiles(erasure.Profiles, export.Profiles, consent.ConsentBook, Protocol): ...


class Ledger(erasure.CustomerInvoices, export.Ledger, Protocol): ...


@dataclass(frozen=True)
class DataSubjectRights:
    keyring: Keyring
    profiles: Profiles
    ledger: Ledger
    archive: export.Archive
    evidence: DeliverySource
    exports: export.ExportStore

    def erase(self, customer_id: str, audit: Audit, now: datetime) -> ErasureReport:
        """Idempotent: a second erasure destroys nothing more and says it was done before."""
        checked_customer_id(customer_id)
        report = erase_customer(
            customer_id, keyring=self.keyring, profiles=self.profiles, ledger=self.ledger, now=now
        )
        outcome: Literal["erased", "already_erased"] = (
            "already_erased" if report.already_erased else "erased"
        )
        audit.record(
            "customer.erase",
            f"customer/{customer_id}",
            outcome,
            {"erased": [e["record"] for e in report.erased]},
        )
        return report

    def export(
        self, customer_id: str, audit: Audit, *, request_id: str, now: datetime
    ) -> HandedOver:
        """Everything held about the customer, zipped and handed over by a short-lived link;
        NotFound (audited) when nothing at all is held."""
        checked_customer_id(customer_id)
        target = f"customer/{customer_id}"
        try:
            result = export_customer(
                customer_id,
                profiles=self.profiles,
                ledger=self.ledger,
                archive=self.archive,
                evidence=self.evidence,
                now=now,
            )
        except NotFound:
            audit.record("customer.export", target, "not_found", {})
            raise
        handed = hand_over(result, self.exports, request_id=request_id, now=now)
        details = {
            "invoices": handed.invoices,
            "files": handed.files,
            "key": handed.key,
            "sha256": handed.sha256,
        }
        audit.record("customer.export", target, "ok", details)
        return handed

    def marketing_consent(
        self, customer_id: str, body: str | None, audit: Audit, now: datetime
    ) -> ConsentChanged:
        """Staff's change (``{"granted": …}``, never the input echoed back when refused), on
        an existing profile only (NotFound, audited, otherwise)."""
        checked_customer_id(customer_id)
        change = consent_change(body)
        target = f"customer/{customer_id}"
        try:
            changed = change_marketing_consent(
                customer_id, change.granted, keyring=self.keyring, profiles=self.profiles, now=now
            )
        except NotFound:
            audit.record("customer.consent.marketing", target, "not_found", {})
            raise
        audit.record("customer.consent.marketing", target, changed.outcome, {})
        return changed
