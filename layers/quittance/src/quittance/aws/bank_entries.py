"""Bank entries as decided, in the ledger table: ``pk = BANK#<entry reference>``, and while an
entry waits for staff, a marker in the one review partition (``pk = BANKREVIEW``), written
and removed in the same transaction as the entry's state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quittance.aws.errors import cancellation_codes, error_code
from quittance.aws.items import from_item, to_item
from quittance.bank.review import EntryRecord

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient

ENTRY_SK = "ENTRY"
REVIEW_PK = "BANKREVIEW"


def entry_pk(reference: str) -> str:
    return f"BANK#{reference}"


def _review_key(record: EntryRecord) -> dict[str, Any]:
    return to_item({"pk": REVIEW_PK, "sk": f"{record.entry.reference}"})


class BankEntries:
    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self._client = client

    def record(self, record: EntryRecord) -> EntryRecord | None:
        item = to_item(
            {
                "pk": entry_pk(record.entry.reference),
                "sk": ENTRY_SK,
                "type": "bank_entry",
                "state": record.state,
                "data": record.model_dump_json(),
            }
        )
        writes: list[Any] = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if record.state == "review":
            marker = _review_key(record) | to_item({"at": record.recorded_at.isoformat()})
            writes.append({"Put": {"TableName": self.name, "Item": marker}})
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException" and (
                cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]
            ):
                return self.get(record.entry.reference)
            raise
        return None

    def get(self, reference: str) -> EntryRecord | None:
        response = self._client.get_item(
            TableName=self.name,
            Key=to_item({"pk": entry_pk(reference), "sk": ENTRY_SK}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return EntryRecord.model_validate_json(from_item(item)["data"]) if item else None

    def resolve(self, record: EntryRecord) -> bool:
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.name,
                            "Key": to_item(
                                {"pk": entry_pk(record.entry.reference), "sk": ENTRY_SK}
                            ),
                            "UpdateExpression": "SET #state = :state, #data = :data",
                            "ConditionExpression": "#state = :review",
                            "ExpressionAttributeNames": {"#state": "state", "#data": "data"},
                            "ExpressionAttributeValues": to_item(
                                {
                                    ":state": record.state,
                                    ":data": record.model_dump_json(),
                                    ":review": "review",
                                }
                            ),
                        }
                    },
                    {"Delete": {"TableName": self.name, "Key": _review_key(record)}},
                ]
            )
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                return False
            raise
        return True

    def waiting(self) -> list[EntryRecord]:
        references: list[tuple[str, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": REVIEW_PK}),
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**kwargs)
            for raw in page.get("Items", []):
                marker = from_item(raw)
                references.append((str(marker["at"]), str(marker["sk"])))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records = [self.get(reference) for _, reference in sorted(references)]
        return [r for r in records if r is not None and r.state == "review"]
