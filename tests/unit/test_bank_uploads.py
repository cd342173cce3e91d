"""A statement too large for one call: the ticket staff get before uploading it, and the
drop import's outcome kept beside it (quittance.bank.uploads), with in-memory ports."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from quittance.bank.matching import OpenInvoice
from quittance.bank.review import BankDesk
from quittance.bank.statement import MAX_BYTES, StatementRefused
from quittance.bank.uploads import (
    ImportOutcome,
    ImportStatus,
    PresignedUpload,
    UploadRequest,
    UploadTicket,
    import_dropped,
    issue_ticket,
    status_of,
)
from quittance.errors import NotFound, PayloadInvalid
from quittance.models.money import Money
from quittance_ops.camt_samples import Transfer, statement_xml
from tests.fakes import MemoryBankEntries, RecordingPublisher

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
UPLOAD_ID = "0" * 31 + "1"
STAFF = "arn:aws:iam::123456789012:user/comptable"


class Signer:
    def __init__(self) -> None:
        self.signed: list[tuple[str, int, dict[str, str]]] = []

    def presign_upload(
        self, key: str, *, size: int, metadata: dict[str, str], seconds: int
    ) -> PresignedUpload:
        self.signed.append((key, size, metadata))
        return PresignedUpload(url="https://bucket.example/", fields={"key": key})


class Statuses:
    def __init__(self) -> None:
        self.by_key: dict[str, ImportStatus] = {}
        self.history: list[str] = []

    def issue(self, ticket: UploadTicket) -> None:
        self.by_key[ticket.key] = ImportStatus(key=ticket.key, ticket=ticket)

    def report(self, key: str, outcome: ImportOutcome) -> None:
        kept = self.by_key.get(key) or ImportStatus(key=key)
        self.by_key[key] = kept.model_copy(update={"outcome": outcome})
        self.history.append(outcome.state)

    def get(self, key: str) -> ImportStatus | None:
        return self.by_key.get(key)


class Files:
    def __init__(self, data: bytes, metadata: dict[str, str]) -> None:
        self.data, self.metadata = data, metadata

    def read(self, key: str, *, max_bytes: int = MAX_BYTES) -> tuple[bytes, dict[str, str]]:
        return self.data, self.metadata


def request(size: int) -> UploadRequest:
    return UploadRequest(filename="releve.xml", size=size, sha256="a" * 64)


def test_a_ticket_keeps_who_announced_what_and_signs_for_that_key_and_size() -> None:
    signer, statuses = Signer(), Statuses()
    ticket, post = issue_ticket(
        request(6_000_000), upload_id=UPLOAD_ID, actor=STAFF, now=NOW, signer=signer,
        statuses=statuses,
    )  # fmt: skip
    assert ticket.key == f"inbox/staff/{UPLOAD_ID}.xml" == post.fields["key"]
    assert signer.signed == [
        (ticket.key, 6_000_000, {"uploaded-by": STAFF, "upload-id": UPLOAD_ID, "sha256": "a" * 64})
    ]
    status = status_of(UPLOAD_ID, statuses)
    assert status.ticket == ticket and not status.done
    assert (ticket.expires_at - ticket.issued_at).total_seconds() == 900


def test_a_file_the_import_would_refuse_for_its_size_gets_no_ticket() -> None:
    signer, statuses = Signer(), Statuses()
    with pytest.raises(PayloadInvalid, match="the limit is 33,554,432"):
        issue_ticket(
            request(MAX_BYTES + 1), upload_id=UPLOAD_ID, actor=STAFF, now=NOW, signer=signer,
            statuses=statuses,
        )  # fmt: skip
    assert signer.signed == [] and statuses.by_key == {}


@pytest.mark.parametrize("upload_id", ["../../x", "A" * 32, "0" * 31, "0" * 33, ""])
def test_an_upload_id_this_service_never_issued_names_nothing(upload_id: str) -> None:
    with pytest.raises(NotFound):
        status_of(upload_id, Statuses())


class Invoices:
    invoice = OpenInvoice("F-1", Money(amount_minor=12000, currency="EUR"), "c1", "Camille")

    def open_invoices(self, today: date) -> list[OpenInvoice]:
        return [self.invoice]

    def open_invoice(self, number: str) -> OpenInvoice | None:
        return self.invoice if number == "F-1" else None

    def customer_name(self, invoice: OpenInvoice) -> str | None:
        return invoice.customer_name


def desk(book: MemoryBankEntries) -> BankDesk:
    return BankDesk(invoices=Invoices(), book=book, events=RecordingPublisher())


def test_a_dropped_file_is_imported_and_its_outcome_says_who_wrote_what() -> None:
    data = statement_xml([Transfer(reference="T1", amount=Decimal("120.00"), structured="F-1")])
    statuses, book = Statuses(), MemoryBankEntries()
    report = import_dropped(
        "inbox/staff/x.xml", writer="s3:AWS:AROA", files=Files(data, {"uploaded-by": STAFF}),
        desk=desk(book), statuses=statuses, now=NOW,
    )  # fmt: skip
    assert (report.entries, report.matched) == (1, 1)
    assert statuses.history == ["importing", "imported"]
    outcome = statuses.by_key["inbox/staff/x.xml"].outcome
    assert outcome is not None and outcome.report == report
    assert (outcome.uploaded_by, outcome.size) == (STAFF, len(data))
    assert outcome.sha256 == hashlib.sha256(data).hexdigest()


def test_a_refused_file_keeps_its_reason_and_imports_nothing() -> None:
    statuses, book = Statuses(), MemoryBankEntries()
    with pytest.raises(StatementRefused, match="DTD"):
        import_dropped(
            "inbox/bad.xml", writer=None, files=Files(b'<!DOCTYPE d [<!ENTITY x "y">]><d/>', {}),
            desk=desk(book), statuses=statuses, now=NOW,
        )  # fmt: skip
    assert statuses.history == ["importing", "refused"]
    outcome = statuses.by_key["inbox/bad.xml"].outcome
    assert outcome is not None and "DTD" in (outcome.reason or "")
    assert book.records == {}  # no entry decided
