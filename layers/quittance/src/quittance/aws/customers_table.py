"""Customer profiles (``pk = CUST#<pseudonymous id>``): contact data, locale, preferences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from quittance.aws.errors import error_code
from quittance.aws.items import from_item, to_item
from quittance.models.events import CustomerDetails

INACTIVE_PROFILE_RETENTION = timedelta(days=3 * 365)


class CustomersTable:
    def __init__(self, name: str, client: Any) -> None:
        self.name = name
        self._client = client

    def remember(self, customer_id: str, details: CustomerDetails, now: datetime) -> None:
        """Upsert what the gateway told about the customer; restart the inactivity clock."""
        values: dict[str, Any] = {
            "name": details.name,
            "email": details.email,
            "phone": details.phone,
            "locale": details.locale,
            "updated_at": now.isoformat(),
            "expires_at": int((now + INACTIVE_PROFILE_RETENTION).timestamp()),
        }
        present = {k: v for k, v in values.items() if v is not None}
        sets = ", ".join(f"#{k} = :{k}" for k in present)
        self._client.update_item(
            TableName=self.name,
            Key=to_item({"pk": f"CUST#{customer_id}"}),
            UpdateExpression=(
                f"SET {sets}, #created_at = if_not_exists(#created_at, :updated_at),"
                " #segment = if_not_exists(#segment, :segment),"
                " #channel = if_not_exists(#channel, :channel)"
            ),
            ExpressionAttributeNames={
                **{f"#{k}": k for k in present},
                "#created_at": "created_at",
                "#segment": "segment",
                "#channel": "channel",
            },
            ExpressionAttributeValues=to_item(
                {
                    **{f":{k}": v for k, v in present.items()},
                    ":segment": "b2c",
                    ":channel": "email",
                }
            ),
        )

    def profile(self, customer_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name, Key=to_item({"pk": f"CUST#{customer_id}"}), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def suppress_email(self, customer_id: str, reason: str, at: datetime) -> bool:
        """Stop emailing this customer's address: ``email_suppressed = {reason, at}``, nothing
        else touched. The first suppression stands (a later complaint does not rewrite why the
        address was dropped); an erased or unknown customer is not brought back.

        Returns whether this call suppressed the address (False: already suppressed, or no
        such customer)."""
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": f"CUST#{customer_id}"}),
                UpdateExpression="SET #suppressed = :suppressed",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#suppressed)",
                ExpressionAttributeNames={"#suppressed": "email_suppressed"},
                ExpressionAttributeValues=to_item(
                    {":suppressed": {"reason": reason, "at": at.isoformat()}}
                ),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_marketing_consent(
        self,
        customer_id: str,
        granted: bool,
        at: datetime,
        source: str,
        *,
        only_if_newer: bool = False,
    ) -> bool:
        """Record consent (or its withdrawal) with when and where it was given; False when
        there is no such profile (unknown or erased: nothing is created for it), or, with
        ``only_if_newer``, when the recorded choice is more recent than ``at``."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("at must carry a timezone")
        # One fixed format (UTC, microseconds) so that the stored times compare as strings.
        when = at.astimezone(UTC).isoformat(timespec="microseconds")
        condition = "attribute_exists(pk)"
        names = {"#consent": "marketing_consent"}
        values: dict[str, Any] = {":consent": {"granted": granted, "at": when, "source": source}}
        if only_if_newer:
            condition += " AND (attribute_not_exists(#consent) OR #consent.#at < :at)"
            names["#at"] = "at"
            values[":at"] = when
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": f"CUST#{customer_id}"}),
                UpdateExpression="SET #consent = :consent",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_channel_preference(self, customer_id: str, channel: str) -> None:
        """The customer's choice of channel: "email", "sms" or "both"."""
        if channel not in ("email", "sms", "both"):
            raise ValueError("channel must be email, sms or both")
        self._client.update_item(
            TableName=self.name,
            Key=to_item({"pk": f"CUST#{customer_id}"}),
            UpdateExpression="SET #channel = :channel",
            ExpressionAttributeNames={"#channel": "channel"},
            ExpressionAttributeValues=to_item({":channel": channel}),
        )
