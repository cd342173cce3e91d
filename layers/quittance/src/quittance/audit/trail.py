"""The audit trail: one append-only, hash-chained entry per staff action.

Every entry lives in one chain (``pk = CHAIN#<name>``) under its sequence number
(``sk = E#<seq>``) and carries the hash of the entry before it. An entry is written with a
conditional put (``attribute_not_exists``) on its own sequence number, so two writers that
read the same last entry cannot both append after it: one wins, the other reads the new last
entry and tries again. The chain therefore never forks, and an entry altered or removed later
breaks the hashes from that point on, which ``verify`` reports by sequence number.

Entries never carry personal data: the actor is an IAM ARN, the target a document or case
identifier, and ``details`` is refused if it looks like contact data."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from quittance.aws.errors import error_code
from quittance.aws.items import from_item, to_item
from quittance.clock import SystemClock

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


def _seq_key(seq: int) -> str:
    return f"E#{seq:012d}"


# The chain's head (newest number and hash), written in the same transaction as each entry,
# so that removing the newest entries is seen too. Sorts before every E# key.
HEAD_SK = "#HEAD"


class AuditTrail:
    def __init__(
        self,
        table: str,
        client: Any,
        chain: str = DEFAULT_CHAIN,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.table = table
        self._client = client
        self.chain = chain
        self._clock: Callable[[], datetime] = clock or SystemClock().now

    @property
    def _pk(self) -> str:
        return f"CHAIN#{self.chain}"

    def _last(self) -> dict[str, Any] | None:
        """The chain's head: its newest entry's ``seq`` and ``hash``."""
        head = self._head()
        if head is not None:
            return head
        # A chain written before heads were kept: its newest entry.
        page = self._client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
            ExpressionAttributeValues=to_item({":pk": self._pk, ":e": "E#"}),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = page.get("Items", [])
        return from_item(items[0]) if items else None

    def _head(self) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self.table,
            Key=to_item({"pk": self._pk, "sk": HEAD_SK}),
            ConsistentRead=True,
        ).get("Item")
        return from_item(item) if item else None

    def record(  # noqa: PLR0917 - the signature is the cross-helper contract
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        request_id: str,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry after the chain's last; retried when another writer got there first."""
        details = dict(details or {})
        refuse_personal_data(details)
        for _ in range(MAX_ATTEMPTS):
            last = self._last()
            seq = int(last["seq"]) + 1 if last else 1
            fields: dict[str, Any] = {
                "seq": seq,
                "at": self._clock().astimezone(UTC).isoformat(),
                "actor": actor,
                "action": action,
                "target": target,
                "outcome": outcome,
                "request_id": request_id,
                "details": details,
                "prev_hash": str(last["hash"]) if last else GENESIS,
            }
            fields["hash"] = entry_hash(fields)
            item = {
                "pk": self._pk,
                "sk": _seq_key(seq),
                **{k: v for k, v in fields.items() if k != "details"},
                "details": json.dumps(details, sort_keys=True, separators=(",", ":")),
                # Indexes for the staff's questions (who did what, what happened to a receipt).
                "gsi1pk": f"TARGET#{target}",
                "gsi1sk": f"{fields['at']}#{seq:012d}",
                "gsi2pk": f"ACTOR#{actor}",
                "gsi2sk": f"{fields['at']}#{seq:012d}",
            }
            head = {"pk": self._pk, "sk": HEAD_SK, "seq": seq, "hash": fields["hash"]}
            try:
                # Both or neither: the entry under a free number, and the head moved on from
                # exactly the entry this one follows.
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": to_item(item),
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": to_item(head),
                                "ConditionExpression": "attribute_not_exists(pk) OR seq = :prev",
                                "ExpressionAttributeValues": to_item({":prev": seq - 1}),
                            }
                        },
                    ]
                )
            except ClientError as exc:
                if error_code(exc) == "TransactionCanceledException":
                    continue
                raise
            return _entry(item)
        raise AuditConflict(f"could not append to chain {self.chain} after {MAX_ATTEMPTS} tries")

    # -------------------------------------------------------------- reads
    def entries(self, *, after_seq: int = 0, limit: int | None = None) -> Iterator[AuditEntry]:
        """The chain in order, from ``after_seq`` on."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk > :from",
            "ExpressionAttributeValues": to_item({":pk": self._pk, ":from": _seq_key(after_seq)}),
            "ConsistentRead": True,
        }
        if limit:
            kwargs["Limit"] = limit
        seen = 0
        while True:
            page = self._client.query(**kwargs)
            for item in page.get("Items", []):
                yield _entry(from_item(item))
                seen += 1
                if limit and seen >= limit:
                    return
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

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
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        """Entries by target (gsi1) or actor (gsi2) or the whole chain, narrowed by action and
        time; newest first. Never a Scan."""
        low = since.astimezone(UTC).isoformat() if since else "0"
        high = (until.astimezone(UTC).isoformat() if until else "9999") + "#~"
        values: dict[str, Any] = {":low": low, ":high": high}
        kwargs: dict[str, Any] = {"TableName": self.table, "ScanIndexForward": False}
        if target or actor:
            index, key = ("gsi1", f"TARGET#{target}") if target else ("gsi2", f"ACTOR#{actor}")
            kwargs["IndexName"] = index
            kwargs["KeyConditionExpression"] = (
                f"{index}pk = :pk AND {index}sk BETWEEN :low AND :high"
            )
            values[":pk"] = key
        else:
            kwargs["KeyConditionExpression"] = "pk = :pk AND begins_with(sk, :e)"
            kwargs["FilterExpression"] = "#at BETWEEN :low AND :high"
            kwargs["ExpressionAttributeNames"] = {"#at": "at"}
            values.update({":pk": self._pk, ":e": "E#"})
        filters = []
        if target and actor:
            filters.append("actor = :actor")
            values[":actor"] = actor
        if action:
            filters.append("#action = :action")
            values[":action"] = action
            kwargs.setdefault("ExpressionAttributeNames", {})["#action"] = "action"
        if filters:
            existing = kwargs.get("FilterExpression")
            kwargs["FilterExpression"] = " AND ".join(([existing] if existing else []) + filters)
        kwargs["ExpressionAttributeValues"] = to_item(values)
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        found: list[AuditEntry] = []
        while len(found) < limit:
            kwargs["Limit"] = limit - len(found)
            page = self._client.query(**kwargs)
            found.extend(_entry(from_item(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found, None
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found, kwargs.get("ExclusiveStartKey")

    def verify(self) -> ChainReport:
        """Walk the chain: each entry's hash must match its content, carry its predecessor's
        hash, and follow it by exactly one. Names the first entry that does not."""
        expected_prev, expected_seq, checked = GENESIS, 1, 0
        for entry in self.entries():
            if entry.seq != expected_seq:
                return ChainReport(
                    False, checked, expected_seq,
                    f"entry {expected_seq} is missing (next found is {entry.seq})",
                )  # fmt: skip
            if entry.prev_hash != expected_prev:
                return ChainReport(
                    False, checked, entry.seq,
                    f"entry {entry.seq} does not follow entry {entry.seq - 1} (previous hash differs)",  # noqa: E501
                )  # fmt: skip
            if entry_hash(entry.as_json()) != entry.hash:
                return ChainReport(
                    False, checked, entry.seq, f"entry {entry.seq} was altered (hash mismatch)"
                )
            expected_prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
        head = self._head()
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


def _entry(item: dict[str, Any]) -> AuditEntry:
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
