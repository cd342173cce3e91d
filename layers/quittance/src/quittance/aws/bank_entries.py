"""Bank entries as decided, in the ledger table: one item per entry, ``pk = BANK#<entry
reference>``. While an entry waits for staff it carries the sparse keys ``gsi1pk =
BANKREVIEW`` (the review list, oldest first); resolving it removes them in the same
conditional update that records the resolution. Nothing is ever deleted (the ledger table
grants no DeleteItem)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quittance.aws.batch_reads import items_by_key
from quittance.aws.errors import error_code
from quittance.aws.items import from_item, to_item
from quittance.bank.review import EntryRecord

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient

ENTRY_SK = "ENTRY"
REVIEW_KEY = "BANKREVIEW"


def entry_pk(reference: str) -> str:
    return f"BANK#{reference}"


class BankEntries:
    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self._client = client

    def record(self, record: EntryRecord) -> EntryRecord | None:
        reference = record.entry.reference
        values: dict[str, Any] = {
            "pk": entry_pk(reference),
            "sk": ENTRY_SK,
            "type": "bank_entry",
            "state": record.state,
            "data": record.model_dump_json(),
        }
        if record.state == "review":
            values |= {
                "gsi1pk": REVIEW_KEY,
                "gsi1sk": f"{record.recorded_at.isoformat()}#{reference}",
            }
        try:
            self._client.put_item(
                TableName=self.name,
                Item=to_item(values),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return self.get(reference)
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
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": entry_pk(record.entry.reference), "sk": ENTRY_SK}),
                UpdateExpression="SET #state = :state, #data = :data REMOVE gsi1pk, gsi1sk",
                ConditionExpression="#state = :review",
                ExpressionAttributeNames={"#state": "state", "#data": "data"},
                ExpressionAttributeValues=to_item(
                    {":state": record.state, ":data": record.model_dump_json(), ":review": "review"}
                ),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def waiting(self) -> list[EntryRecord]:
        """The review list, oldest first: the index gives the entries' keys (it projects
        only keys, docs/performance.md), each entry is then read as it is now (an entry the
        index lists but staff resolved a moment ago is left out)."""
        keys: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": REVIEW_KEY}),
        }
        while True:
            page = self._client.query(**kwargs)
            keys += [{"pk": raw["pk"], "sk": raw["sk"]} for raw in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records = [
            EntryRecord.model_validate_json(from_item(item)["data"])
            for item in items_by_key(self._client, self.name, keys)
        ]
        return [r for r in records if r.state == "review"]
