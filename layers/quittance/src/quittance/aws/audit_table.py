"""The audit trail in its DynamoDB table: one append-only, hash-chained entry per staff action.

Every entry lives in one chain (``pk = CHAIN#<name>``) under its sequence number
(``sk = E#<seq>``) and carries the hash of the entry before it (the entry and its hash are
:mod:`quittance.audit.trail`). An entry is written with a conditional put
(``attribute_not_exists``) on its own sequence number, so two writers that read the same last
entry cannot both append after it: one wins, the other reads the new last entry and tries
again. The chain therefore never forks, and an entry altered or removed later breaks the
hashes from that point on, which ``verify`` reports by sequence number."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quittance.audit.trail import (
    DEFAULT_CHAIN,
    GENESIS,
    MAX_ATTEMPTS,
    AuditConflict,
    AuditEntry,
    ChainReport,
    entry_from_fields,
    entry_hash,
    refuse_personal_data,
    verify_chain,
)
from quittance.aws.errors import error_code
from quittance.aws.items import from_item, to_item
from quittance.clock import SystemClock

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


def _seq_key(seq: int) -> str:
    return f"E#{seq:012d}"


# The chain's head (newest number and hash), written in the same transaction as each entry,
# so that removing the newest entries is seen too. Sorts before every E# key.
HEAD_SK = "#HEAD"


class AuditTrail:
    def __init__(
        self,
        table: str,
        client: DynamoDBClient,
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

    def record(
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
            return entry_from_fields(item)
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
                yield entry_from_fields(from_item(item))
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
            found.extend(entry_from_fields(from_item(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found, None
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found, kwargs.get("ExclusiveStartKey")

    def verify(self) -> ChainReport:
        """Walk the chain from its first entry and check it against the kept head."""
        return verify_chain(self.entries(), self._head)
