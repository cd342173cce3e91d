"""Receipt-number series counters (``pk = SERIES#<series>#<year>``, ``sk = #COUNTER``): read
here, advanced only inside the transaction that commits the documents they number."""

from __future__ import annotations

from typing import Any

from quittance.aws.items import to_item
from quittance.aws.ledger_items import COUNTER_SK, LedgerItems


def counter_put(table: str, series: str, year: int, read: int, written: int) -> dict[str, Any]:
    """The transaction item that moves a counter from ``read`` (0: never written) to
    ``written``, failing if another writer moved it first."""
    condition: dict[str, Any] = (
        {"ConditionExpression": "attribute_not_exists(pk)"}
        if read == 0
        else {
            "ConditionExpression": "#last = :read",
            "ExpressionAttributeNames": {"#last": "last"},
            "ExpressionAttributeValues": to_item({":read": read}),
        }
    )
    return {
        "Put": {
            "TableName": table,
            "Item": to_item(
                {
                    "pk": f"SERIES#{series}#{year}",
                    "sk": COUNTER_SK,
                    "type": "counter",
                    "last": written,
                }
            ),
            **condition,
        }
    }


class SeriesCounters(LedgerItems):
    def counter(self, series: str, year: int) -> int:
        item = self._get(f"SERIES#{series}#{year}", COUNTER_SK)
        return int(item["last"]) if item else 0
