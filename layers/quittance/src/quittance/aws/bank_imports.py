"""The status record of each file under the drop prefix, in the ledger table (``pk =
BANKFILE#<key>``): the upload ticket the staff API issued (``ticket``) and what the drop
import did with the file (``outcome``), each its own attribute so that neither writer
overwrites the other's. Nothing is ever deleted (the ledger table grants no DeleteItem)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quittance.aws.items import from_item, to_item
from quittance.bank.uploads import ImportOutcome, ImportStatus, UploadTicket

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient

STATUS_SK = "STATUS"


def file_pk(key: str) -> str:
    return f"BANKFILE#{key}"


class ImportStatusTable:
    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self._client = client

    def issue(self, ticket: UploadTicket) -> None:
        # A fresh random upload id: an existing record would be a bug, not a retry to absorb.
        self._client.put_item(
            TableName=self.name,
            Item=to_item(
                {
                    "pk": file_pk(ticket.key),
                    "sk": STATUS_SK,
                    "type": "bank_file",
                    "ticket": ticket.model_dump_json(),
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def report(self, key: str, outcome: ImportOutcome) -> None:
        self._client.update_item(
            TableName=self.name,
            Key=to_item({"pk": file_pk(key), "sk": STATUS_SK}),
            UpdateExpression="SET #type = :type, outcome = :outcome",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues=to_item(
                {":type": "bank_file", ":outcome": outcome.model_dump_json()}
            ),
        )

    def get(self, key: str) -> ImportStatus | None:
        item = self._client.get_item(
            TableName=self.name,
            Key=to_item({"pk": file_pk(key), "sk": STATUS_SK}),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        values = from_item(item)
        return ImportStatus(
            key=key,
            ticket=UploadTicket.model_validate_json(values["ticket"])
            if "ticket" in values
            else None,
            outcome=(
                ImportOutcome.model_validate_json(values["outcome"])
                if "outcome" in values
                else None
            ),
        )
