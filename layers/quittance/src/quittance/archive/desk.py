"""The compliance desk: one method per staff act on a proof. The archive_api handler parses
the request, calls one of these, and leaves one audit entry for the call."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from email_validator import EmailNotValidError, validate_email

from quittance.archive.bundle import Evidence, delivery_for, source_event, spooled, write_bundle
from quittance.archive.ports import (
    DeskLedger,
    ProofArchive,
    ReceiptFinder,
    proof_prefix,
    sha256_file,
)
from quittance.archive.requests import DisposalReport, ResendRequest, RetirementReport
from quittance.archive.retention import RetentionPolicy, archive_key
from quittance.archive.retirement import (
    LEGAL_RECORDS,
    LedgerCollection,
    invoices_in,
    judge,
    year_closes_at,
)
from quittance.archive.search import (
    ReceiptQuery,
    encode_cursor,
    search,
)
from quittance.archive.verification import Check, verify_proof
from quittance.audit.trail import AuditLog
from quittance.clock import SystemClock
from quittance.errors import NotFound, QuittanceError
from quittance.ledger.model import ArchivedCopy, StoredReceipt
from quittance.models.customer import CustomerProfile
from quittance.privacy.evidence import DeliverySource

RESEND_LOG_DAYS = 396


class StillInLedger(QuittanceError):
    code = "still_in_ledger"


class NoAddress(QuittanceError):
    code = "no_address"


class StillArchived(QuittanceError):
    code = "still_archived"


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str: ...


class Profiles(Protocol):
    def profile(self, customer_id: str) -> CustomerProfile | None: ...


@dataclass
class Desk:
    ledger: DeskLedger
    index: ReceiptFinder
    archive: ProofArchive
    trail: AuditLog
    policy: RetentionPolicy
    deliveries: DeliverySource | None
    clock: Callable[[], datetime] = field(default_factory=lambda: SystemClock().now)

    # ---------------------------------------------------------------- reads
    def search(self, query: ReceiptQuery) -> dict[str, Any]:
        hits, cursor = search(self.index, query)
        return {"items": hits, "next_cursor": cursor, "served_by": query.served_by()}

    def item(self, number: str) -> StoredReceipt:
        return self.ledger.stored_receipt(number)

    def _archived(self, number: str) -> tuple[StoredReceipt, ArchivedCopy]:
        stored = self.item(number)
        if stored.archive is None:
            raise NotFound(f"receipt {number} is not archived yet")
        return stored, stored.archive

    def show(self, number: str) -> dict[str, Any]:
        stored = self.item(number)
        invoice = stored.record.invoice_number
        record = self.ledger.load(invoice)
        archive = stored.archive
        versions = self.archive.versions(archive.key) if archive else []
        return {
            "receipt": stored.record.model_dump(mode="json"),
            "archive": archive.as_record() if archive else {},
            "versions": [v.as_json() for v in versions],
            "legal_hold": any(v.legal_hold for v in versions),
            "invoice": self._history(invoice, record),
            "messages": self._messages(invoice, number),
        }

    def _history(self, invoice: str, record: Any) -> dict[str, Any]:
        summary = self.ledger.get_invoice(invoice)
        if record is None:
            return {"number": invoice}
        return {
            "number": invoice,
            "summary": summary.model_dump(mode="json") if summary else None,
            "events": [e.model_dump(mode="json") for e in record.events],
            "documents": [d.model_dump(mode="json") for d in record.documents],
            "outcomes": record.outcomes,
            "anomalies": sorted(record.reported_anomalies),
        }

    def _messages(self, invoice: str, number: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in m.items() if k not in {"pk", "type"}}
            for m in self.ledger.messages(invoice)
            if m.get("receipt_number") in {number, None} or str(m["sk"]).startswith(f"MSG#{number}")
        ]

    def verify(self, number: str) -> dict[str, Any]:
        checks: list[Check] = verify_proof(self.item(number), self.archive, self.policy)
        failed = [c.name for c in checks if not c.ok]
        return {
            "receipt_number": number,
            "ok": not failed,
            "failed": failed,
            "checks": [c.as_json() for c in checks],
        }

    # ---------------------------------------------------------------- legal hold
    def hold(self, number: str, on: bool) -> dict[str, Any]:
        _, archive = self._archived(number)
        versions = self.archive.versions(archive.key)
        for version in versions:
            self.archive.set_legal_hold(version.key, version.version_id, on)
        return {
            "receipt_number": number,
            "legal_hold": on,
            "versions": [{"key": v.key, "version_id": v.version_id} for v in versions],
        }

    # ---------------------------------------------------------------- evidence
    def evidence(self, number: str, actor: str, url_seconds: int) -> dict[str, Any]:
        now = self.clock()
        stored, archive = self._archived(number)
        invoice = stored.record.invoice_number
        record = self.ledger.load(invoice)
        history = self._history(invoice, record)
        versions = self.archive.versions(archive.key)
        pdfs = [(v, self.archive.read(v.key, v.version_id)) for v in versions]
        audit, _ = self.trail.search(target=number, limit=1000)
        event = source_event(history.get("events", []), history.get("outcomes", {}), number)
        delivery = delivery_for(self.deliveries, event, stored.record.customer_id)
        with spooled() as out:
            evidence = Evidence(
                receipt=stored,
                pdfs=pdfs,
                history=history,
                messages=self._messages(invoice, number),
                audit=[e.as_json() for e in reversed(audit)],
                delivery=delivery,
            )
            bundle = write_bundle(out, evidence, actor=actor, now=now)
            digest = sha256_file(out)
            name = f"{number}/{now:%Y%m%dT%H%M%SZ}-evidence.zip"
            key, version_id = self.archive.put_bundle(name, out, digest)
        return {
            "receipt_number": number,
            "url": self.archive.presign(key, version_id, f"{number}-evidence.zip", url_seconds),
            "expires_in": url_seconds,
            "key": key,
            "version_id": version_id,
            "sha256_hex": digest.hex(),
            "files": bundle.files,
            "delivery": delivery[0],
        }

    # ---------------------------------------------------------------- resend
    def resend(
        self,
        number: str,
        request: ResendRequest,
        *,
        profiles: Profiles,
        mailer: Mailer,
        sender: str,
    ) -> dict[str, Any]:
        stored, archive = self._archived(number)
        data = stored.record
        if request.email:
            try:
                address = validate_email(request.email, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                raise NoAddress(f"corrected address refused: {exc}") from None
        else:
            profile = profiles.profile(data.customer_id)
            address = (profile.email or "") if profile else ""
            if not address:
                raise NoAddress("no address on file: give a corrected one")
        pdf = self.archive.read(archive.key, archive.version_id)
        message = EmailMessage()
        message["From"] = sender
        message["To"] = address
        message["Subject"] = f"Reçu {number} / Receipt {number}"
        message.set_content(
            f"Bonjour,\n\nVeuillez trouver ci-joint le reçu {number} (facture "
            f"{data.invoice_number}), tel qu'il est archivé.\n\n"
            f"Hello,\n\nPlease find attached receipt {number} (invoice "
            f"{data.invoice_number}), exactly as archived.\n"
        )
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{number}.pdf")
        message_id = mailer.send(message)
        now = self.clock()
        self.ledger.record_message(
            data.invoice_number,
            f"{number}:resend:{request.request_id}",
            "email",
            {
                "kind": "receipt_resend",
                "receipt_number": number,
                "at": now.isoformat(),
                "status": "sent",
                "provider_message_id": message_id,
            },
            now + timedelta(days=RESEND_LOG_DAYS),
        )
        return {
            "receipt_number": number,
            "sent": True,
            "message_id": message_id,
            "corrected_address": request.email is not None,
            "sha256_hex": archive.sha256_hex,
        }

    # ---------------------------------------------------------------- end of retention
    def expiring(
        self, before: datetime, prefix: str = "receipts/", limit: int = 200
    ) -> dict[str, Any]:
        """Versions whose retain-until is before ``before`` and that carry no legal hold."""
        found = []
        listed = 0
        for key, version_id, latest in self.archive.listed(prefix):
            listed += 1
            version = self.archive.head(key, version_id, is_latest=latest)
            retain = datetime.fromisoformat(version.retain_until) if version.retain_until else None
            if version.legal_hold or retain is None or retain >= before:
                continue
            found.append(version.as_json())
            if len(found) >= limit:
                break
        return {"before": before.isoformat(), "listed": listed, "items": found}

    def record_disposal(self, report: DisposalReport) -> dict[str, Any]:
        """Staff removed these versions with their own credentials; the API checks that each
        is really gone before the disposal record is kept."""
        for item in report.items:
            try:
                self.archive.head(item.key, item.version_id)
            except NotFound:
                continue
            raise StillArchived(f"{item.key} version {item.version_id} is still archived")
        return {"disposed": [i.model_dump() for i in report.items], "reason": report.reason}

    def retirable(
        self, year: int, day: date | None, after: dict[str, Any] | None, limit: int = 100
    ) -> dict[str, Any]:
        """Up to ``limit`` invoices whose newest activity fell in ``year`` (from ``day`` and the
        index key ``after``, as the previous page's cursor says), and for each whether its
        ledger records may be retired now (docs/ledger.md, section 9). Served by the
        activity-day index, never a Scan; a busy day spans several pages."""
        day = day or date(year, 1, 1)
        numbers: list[str] = []
        while day.year == year and len(numbers) < limit:
            found, after = self.ledger.last_active_on(day, after, limit - len(numbers))
            numbers = invoices_in([*numbers, *found])
            if after is None:
                day += timedelta(days=1)
        now = self.clock()
        verdicts = [judge(self._collection(n), self.policy, now) for n in numbers]
        more = day.year == year
        return {
            "year": year,
            "year_closes_at": year_closes_at(year, self.policy).isoformat(),
            "next_cursor": encode_cursor({"day": day.isoformat(), "after": after})
            if more
            else None,
            "retirable": [v.as_json() for v in verdicts if v.retirable],
            "kept": [
                {"invoice": v.invoice, "documents": list(v.documents), "reasons": list(v.reasons)}
                for v in verdicts
                if not v.retirable and v.sort_keys
            ],
        }

    def _collection(self, invoice: str) -> LedgerCollection:
        items = self.ledger.collection(invoice)
        archived: dict[str, int] = {}
        for item in items:
            if str(item["sk"]).startswith("RCPT#"):
                data = json.loads(item["data"])
                key = (item.get("archive") or {}).get("key") or archive_key(
                    data["receipt_number"],
                    datetime.fromisoformat(data["issued_at"]),
                    calendar=self.policy.fiscal_timezone,
                )
                archived[data["receipt_number"]] = sum(
                    1 for _ in self.archive.listed(proof_prefix(str(key)))
                )
        return LedgerCollection(invoice=invoice, items=tuple(items), archived=archived)

    def record_retirement(self, report: RetirementReport) -> dict[str, Any]:
        """Staff deleted these invoices' items with their own credentials; the API checks
        that nothing of each is left before the retirement record is kept."""
        for retired in report.invoices:
            left = [
                str(i["sk"])
                for i in self.ledger.collection(retired.invoice)
                if str(i["sk"]).startswith(LEGAL_RECORDS)
            ]
            if left:
                raise StillInLedger(
                    f"invoice {retired.invoice} still has {len(left)} record(s) in the ledger"
                )
        return {
            "retired": [r.model_dump() for r in report.invoices],
            "year": report.year,
            "reason": report.reason,
        }

    def export_page(
        self, year: int, cursor: str | None, url_seconds: int, limit: int = 100
    ) -> dict[str, Any]:
        query = ReceiptQuery.model_validate(
            {"from": f"{year}-01-01", "to": f"{year}-12-31", "limit": limit, "cursor": cursor}
        )
        hits, next_cursor = search(self.index, query)
        items = []
        for hit in hits:
            if not hit["archived"]:
                items.append({**hit, "archive": None, "url": None})
                continue
            archive = hit["archive"]
            url = self.archive.presign(
                archive["key"],
                archive["version_id"],
                archive["key"].rsplit("/", 1)[-1],
                url_seconds,
            )
            items.append({**hit, "archive": archive, "url": url})
        return {"year": year, "items": items, "next_cursor": next_cursor}
