"""The audit trail: one append-only, hash-chained entry per staff action.

Every entry carries its sequence number and the hash of the entry before it, so an entry
altered or removed later breaks the hashes from that point on, which :func:`verify_chain`
reports by sequence number. Storing the chain so that it never forks (a conditional append
and a head moved in one transaction) is :mod:`quittance.aws.audit_table`; this module is the
pure part: the entry, its hash, the walk, and the :class:`AuditLog` port.

Entries never carry personal data: the actor is an IAM ARN, the target a document or case
identifier, and ``details`` is refused if it looks like contact data."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

GENESIS = "0" * 64
DEFAULT_CHAIN = "admin"
MAX_ATTEMPTS = 20
_PERSONAL_KEYS = frozenset(
    {"email", "phone", "name", "address", "iban", "customer_name", "recipient"}
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
# International numbers, and French national ones (dates and amounts must not match).
_PHONE = re.compile(r"^(\+[1-9][0-9 ().-]{7,}|0[1-9]([ .-]?[0-9]{2}){4})$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")


class AuditConflict(Exception):
    """The chain moved under every attempt: too many concurrent writers."""


class PersonalDataRefused(ValueError):
    """``details`` would put contact data into an entry that is kept for ever."""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    request_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "request_id": self.request_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of everything an entry states, its predecessor included."""
    canonical = json.dumps(
        {k: fields[k] for k in sorted(fields) if k != "hash"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def refuse_personal_data(details: Any, path: str = "details") -> None:
    if isinstance(details, dict):
        for key, value in details.items():
            if str(key).lower() in _PERSONAL_KEYS:
                raise PersonalDataRefused(f"{path}.{key}: contact data is never audited")
            refuse_personal_data(value, f"{path}.{key}")
    elif isinstance(details, list | tuple):
        for i, value in enumerate(details):
            refuse_personal_data(value, f"{path}[{i}]")
    elif isinstance(details, str) and (
        _EMAIL.search(details) or _PHONE.match(details) or _IBAN.match(details)
    ):
        raise PersonalDataRefused(f"{path}: looks like contact data")
    elif isinstance(details, float):
        raise TypeError(f"{path}: floats are never stored")


class AuditLog(Protocol):
    """Where staff actions are appended and read back."""

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        request_id: str,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry: ...

    def search(
        self,
        *,
        actor: str | None = None,
        target: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        cursor: dict[str, Any] | None = None,
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]: ...

    def verify(self) -> ChainReport: ...


def verify_chain(
    entries: Iterable[AuditEntry], read_head: Callable[[], Mapping[str, Any] | None]
) -> ChainReport:
    """Walk the chain: each entry's hash must match its content, carry its predecessor's
    hash, and follow it by exactly one; then the head (newest ``seq`` and ``hash``, when one
    is kept; read after the walk) must name the last entry. Names the first entry that does
    not."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(
                False, checked, expected_seq,
                f"entry {expected_seq} is missing (next found is {entry.seq})",
            )  # fmt: skip
        if entry.prev_hash != expected_prev:
            return ChainReport(
                False, checked, entry.seq,
                f"entry {entry.seq} does not follow entry {entry.seq - 1} (previous hash differs)",
            )  # fmt: skip
        if entry_hash(entry.as_json()) != entry.hash:
            return ChainReport(
                False, checked, entry.seq, f"entry {entry.seq} was altered (hash mismatch)"
            )
        expected_prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head = read_head()
    if head is not None and (int(head["seq"]), str(head["hash"])) != (
        expected_seq - 1,
        expected_prev,
    ):
        newest = int(head["seq"])
        if newest >= expected_seq:
            return ChainReport(
                False, checked, expected_seq,
                f"entries {expected_seq} to {newest} are missing (the chain's head records "
                f"entry {newest})",
            )  # fmt: skip
        return ChainReport(
            False, checked, newest,
            f"the chain's head does not match entry {newest} (head altered or entry replaced)",
        )  # fmt: skip
    return ChainReport(True, checked)


def entry_from_fields(item: dict[str, Any]) -> AuditEntry:
    details = item.get("details") or "{}"
    return AuditEntry(
        seq=int(item["seq"]),
        at=str(item["at"]),
        actor=str(item["actor"]),
        action=str(item["action"]),
        target=str(item["target"]),
        outcome=str(item["outcome"]),
        request_id=str(item["request_id"]),
        details=json.loads(details) if isinstance(details, str) else dict(details),
        prev_hash=str(item["prev_hash"]),
        hash=str(item["hash"]),
    )
