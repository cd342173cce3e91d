"""The reads that retire a year of books: the invoices last active on a day (index gsi2,
``ACT#<day>``, paged by the caller) and every item of one invoice as stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from quittance.aws.items import from_item, to_item
from quittance.aws.ledger_items import LedgerItems


class LedgerRetirement(LedgerItems):
    """Serves the retirement reads of ``archive.ports.DeskLedger``."""

    def collection(self, number: str) -> list[dict[str, Any]]:
        """Every item of the invoice as stored (consistent read), for its retirement."""
        return self._collection(number)

    def last_active_on(
        self, day: date, after: dict[str, Any] | None, limit: int
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Up to ``limit`` invoices whose newest activity fell on a UTC day, from ``after`` (a
        key this method returned); the key to go on from, or None when the day is done
        (index gsi2, ``ACT#<day>``)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :day",
            "ExpressionAttributeValues": to_item({":day": f"ACT#{day.isoformat()}"}),
            "ProjectionExpression": "pk",
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = after
        page = self._client.query(**kwargs)
        found = [str(from_item(i)["pk"]).removeprefix("INV#") for i in page["Items"]]
        return found, page.get("LastEvaluatedKey")
