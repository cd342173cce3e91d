"""The notification log (``MSG#<change id>#<channel>`` items, kept about 13 months by TTL,
never the message content): what notify sent once per change and channel, and what the
provider later reported about it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from quittance.aws.errors import error_code
from quittance.aws.items import to_item
from quittance.aws.ledger_items import LedgerItems, invoice_pk


class MessageLog(LedgerItems):
    """Serves ``notifications.dispatch.MessageLog``, ``notifications.feedback.MessageLog`` and
    the desk's log reads and resends."""

    def messages(self, number: str) -> list[dict[str, Any]]:
        """The invoice's notification log: what was sent, on which channel, with what result."""
        return [i for i in self._collection(number) if i.get("type") == "message"]

    def message_sent(self, invoice_number: str, change_id: str, channel: str) -> bool:
        item = self._get(invoice_pk(invoice_number), f"MSG#{change_id}#{channel}")
        return bool(item and item.get("status") == "sent")

    def record_message(
        self,
        invoice_number: str,
        change_id: str,
        channel: str,
        values: dict[str, Any],
        expires_at: datetime,
    ) -> None:
        """Notification log entry, kept ~13 months (TTL), without message content."""
        self._client.put_item(
            TableName=self.name,
            Item=to_item(
                {
                    "pk": invoice_pk(invoice_number),
                    "sk": f"MSG#{change_id}#{channel}",
                    "type": "message",
                    **values,
                    "expires_at": int(expires_at.timestamp()),
                }
            ),
        )

    def message(self, invoice_number: str, change_id: str, channel: str) -> dict[str, Any] | None:
        """One notification log entry, as notify wrote it (and feedback completed it)."""
        return self._get(invoice_pk(invoice_number), f"MSG#{change_id}#{channel}")

    def record_delivery(
        self,
        invoice_number: str,
        change_id: str,
        channel: str,
        *,
        status: str,
        provider_message_id: str,
        at: datetime,
        detail: str | None,
        replaceable: Collection[str],
    ) -> Literal["recorded", "kept", "unknown"]:
        """What the provider reported about a sent message, on its log entry: kept apart from
        ``status`` (what notify did, which its once-per-change check reads). Written only over
        no report or one of ``replaceable``, so a late "delivered" never hides a "bounced";
        only on the entry that holds this provider message id.

        Returns "recorded", "kept" (a report that outranks this one is there) or "unknown"
        (no such entry, or it names another provider message)."""
        values: dict[str, Any] = {
            ":status": status,
            ":at": at.isoformat(),
            ":mid": provider_message_id,
            ":detail": detail,
        }
        placeholders = []
        for i, name in enumerate(sorted(replaceable)):
            values[f":r{i}"] = name
            placeholders.append(f":r{i}")
        replace = f" OR #delivery IN ({', '.join(placeholders)})" if placeholders else ""
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": invoice_pk(invoice_number), "sk": f"MSG#{change_id}#{channel}"}),
                UpdateExpression="SET #delivery = :status, delivery_at = :at"
                + (", delivery_detail = :detail" if detail else " REMOVE delivery_detail"),
                ConditionExpression=(
                    "attribute_exists(pk) AND provider_message_id = :mid"
                    f" AND (attribute_not_exists(#delivery){replace})"
                ),
                ExpressionAttributeNames={"#delivery": "delivery_status"},
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.message(invoice_number, change_id, channel)
            if current is None or current.get("provider_message_id") != provider_message_id:
                return "unknown"
            return "kept"
        return "recorded"
