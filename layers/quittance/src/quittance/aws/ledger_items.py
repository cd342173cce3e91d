"""The ledger table's item layout, shared by the adapters that each serve one concept of it.

One item collection per invoice (``pk = INV#<number>``): ``#INVOICE``, ``PAY#<payment id>``,
``RCPT#<receipt number>``, ``ANOM#<key>``, ``EVT#<time>#<event id>``,
``MSG#<change id>#<channel>`` and ``REM#<step>``; counters live at
``pk = SERIES#<series>#<year>``. GSI ``gsi1`` finds a payment (``PAY#<id>``) or a receipt
(``RCPT#<number>``) by its own id; ``gsi2`` the documents of a day (``DAY#``) and the invoices
last active on a day (``ACT#``); ``gsi3`` a customer's invoices; ``gsi4`` the open invoices
by due month.

Nested records (documents, the invoice summary, events) are stored as JSON text: no query
reads inside them (keys and the indexes serve every access pattern), and text items stay
cheap to read, write and back up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quittance.aws.items import from_item, to_item

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient

INVOICE_SK = "#INVOICE"
COUNTER_SK = "#COUNTER"


def invoice_pk(number: str) -> str:
    return f"INV#{number}"


class LedgerItems:
    """Reads every adapter of the ledger table shares: one item, an invoice's collection,
    an index partition."""

    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self._client = client

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def _by_own_id(self, key: str) -> dict[str, Any] | None:
        """The first item index gsi1 holds under ``key`` (``PAY#<id>``, ``RCPT#<number>``), as
        the index has it (eventually consistent)."""
        response = self._client.query(
            TableName=self.name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_item({":pk": key}),
            Limit=1,
        )
        items = response.get("Items", [])
        return from_item(items[0]) if items else None

    def _collection(self, number: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": invoice_pk(number)}),
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**kwargs)
            items.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query_index(self, index: str, key: str, value: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "KeyConditionExpression": f"{key} = :v",
            "ExpressionAttributeValues": to_item({":v": value}),
        }
        while True:
            page = self._client.query(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
