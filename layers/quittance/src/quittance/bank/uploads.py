"""Statements too large for one staff API call (API Gateway answers within 29 s): staff ask
the staff API (IAM, audited) for a presigned upload into the drop prefix, upload the file
straight to S3, and follow the import that the drop triggers through its status record.

Who uploaded what is known three times over: the audit entry of the ticket (actor, file
name, size, SHA-256), the ticket kept with the status record, and the object's own metadata
(``uploaded-by``). The drop import writes the outcome next to the ticket: the size and
SHA-256 of what it read, and the same report a direct import answers, or why the file was
refused. A statement a bank sync drops gets a status record too (no ticket).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from quittance.bank.review import BankDesk, ImportReport
from quittance.bank.statement import MAX_BYTES, StatementRefused, parse_statement
from quittance.errors import NotFound, PayloadInvalid
from quittance.models.events import UtcDateTime

DROP_PREFIX = "inbox/"
UPLOAD_PREFIX = f"{DROP_PREFIX}staff/"
UPLOAD_SECONDS = 900
"""How long a ticket's presigned POST is valid: long enough for 32 MiB on a slow line."""
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadRequest(BaseModel):
    """What staff say about the file before uploading it (kept in the audit and the ticket)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class PresignedUpload(BaseModel):
    """An S3 presigned POST: the form's action and fields; the file goes last, as ``file``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    fields: dict[str, str]


class UploadTicket(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    upload_id: str
    key: str
    uploaded_by: str
    filename: str
    size: int
    sha256: str
    issued_at: UtcDateTime
    expires_at: UtcDateTime


ImportState = Literal["importing", "imported", "refused"]


class ImportOutcome(BaseModel):
    """What the drop import did with one file (the last attempt: a redelivered or re-dropped
    file is imported again, which changes nothing, and says so)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: ImportState
    at: UtcDateTime
    uploaded_by: str | None = None
    """The object's ``uploaded-by`` metadata, else the S3 principal that wrote it."""
    size: int | None = None
    sha256: str | None = None
    report: ImportReport | None = None
    reason: str | None = None
    """Why the file was refused (nothing was imported)."""


class ImportStatus(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    ticket: UploadTicket | None = None
    outcome: ImportOutcome | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None and self.outcome.state != "importing"


class UploadSigner(Protocol):
    def presign_upload(
        self, key: str, *, size: int, metadata: dict[str, str], seconds: int
    ) -> PresignedUpload:
        """A POST that S3 accepts only for ``key``, of exactly ``size`` bytes, encrypted with
        the bucket's key, carrying ``metadata``."""


class DroppedFiles(Protocol):
    def read(self, key: str, *, max_bytes: int = MAX_BYTES) -> tuple[bytes, dict[str, str]]:
        """The file's bytes and its metadata; StatementRefused if it is too large."""


class ImportStatuses(Protocol):
    def issue(self, ticket: UploadTicket) -> None: ...

    def report(self, key: str, outcome: ImportOutcome) -> None:
        """Keep the file's latest outcome (its ticket, if any, is left as it is)."""

    def get(self, key: str) -> ImportStatus | None: ...


def upload_key(upload_id: str) -> str:
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise NotFound(f"no upload {upload_id[:40]}")
    return f"{UPLOAD_PREFIX}{upload_id}.xml"


def issue_ticket(
    request: UploadRequest,
    *,
    upload_id: str,
    actor: str,
    now: datetime,
    signer: UploadSigner,
    statuses: ImportStatuses,
) -> tuple[UploadTicket, PresignedUpload]:
    """Refuse a file the import would refuse for its size, keep who announced what, and
    hand back the presigned POST."""
    if request.size > MAX_BYTES:
        raise PayloadInvalid(
            f"statement is {request.size:,} bytes; the limit is {MAX_BYTES:,} (split the period)"
        )
    key = upload_key(upload_id)
    ticket = UploadTicket(
        upload_id=upload_id,
        key=key,
        uploaded_by=actor,
        filename=request.filename,
        size=request.size,
        sha256=request.sha256,
        issued_at=now,
        expires_at=now + timedelta(seconds=UPLOAD_SECONDS),
    )
    statuses.issue(ticket)
    metadata = {"uploaded-by": actor, "upload-id": upload_id, "sha256": request.sha256}
    post = signer.presign_upload(key, size=request.size, metadata=metadata, seconds=UPLOAD_SECONDS)
    return ticket, post


def status_of(upload_id: str, statuses: ImportStatuses) -> ImportStatus:
    status = statuses.get(upload_key(upload_id))
    if status is None:
        raise NotFound(f"no upload {upload_id}")
    return status


def import_dropped(
    key: str,
    *,
    writer: str | None,
    files: DroppedFiles,
    desk: BankDesk,
    statuses: ImportStatuses,
    now: datetime,
) -> ImportReport:
    """Import one dropped file and keep its outcome; ``writer`` is the S3 principal that
    wrote it (for a bank sync's drop, which carries no ``uploaded-by``)."""
    statuses.report(key, ImportOutcome(state="importing", at=now, uploaded_by=writer))
    try:
        data, metadata = files.read(key)
        by = metadata.get("uploaded-by") or writer
        digest = hashlib.sha256(data).hexdigest()
        statement = parse_statement(data)
    except StatementRefused as exc:
        refused = ImportOutcome(state="refused", at=now, uploaded_by=writer, reason=str(exc))
        statuses.report(key, refused)
        raise
    report = desk.import_statement(statement, now=now, correlation_id=f"s3:{key}")
    outcome = ImportOutcome(
        state="imported", at=now, uploaded_by=by, size=len(data), sha256=digest, report=report
    )
    statuses.report(key, outcome)
    return report
