"""Customer profiles (``pk = CUST#<pseudonymous id>``): contact data, locale, preferences.

Contact fields (name, email, phone, address) are stored sealed with the customer's own data
key (:mod:`quittance.aws.customer_keys`), as binary attributes; everything else (locale,
segment, channel, consent, suppression) stays plain. :meth:`CustomersTable.profile` returns
a frozen CustomerProfile with them opened, or None for an unknown or erased customer;
:meth:`CustomersTable.held` everything the item holds (a data subject's export)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from quittance.aws.customer_keys import key_pk, tombstone_pk
from quittance.aws.errors import cancellation_codes, error_code
from quittance.aws.items import from_item, to_item
from quittance.errors import CustomerErased
from quittance.models.customer import CustomerProfile
from quittance.models.events import CustomerDetails
from quittance.privacy.periods import INACTIVE_PROFILE_RETENTION

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


Remembered = Literal["stored", "older_than_stored", "erased"]
"""What became of the details given to :meth:`CustomersTable.remember`: written; not
written because the profile holds details the gateway knew later (the inactivity clock still
moved); not written because the customer was erased (the ledger's table only: with a
keyring, an erasure raises CustomerErased)."""
CONTACT_FIELDS = ("name", "email", "phone", "address")


class Sealer(Protocol):
    def seal_many(self, customer_id: str, plaintexts: dict[str, bytes]) -> dict[str, bytes]: ...

    def open_many(self, customer_id: str, sealed: dict[str, bytes]) -> dict[str, bytes]: ...


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def profile_pk(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def field_context(field: str) -> str:
    return f"profile.{field}"


class CustomersTable:
    def __init__(self, name: str, client: DynamoDBClient, keyring: Sealer | None = None) -> None:
        self.name = name
        self._client = client
        self._keyring = keyring

    def remember(
        self,
        customer_id: str,
        details: CustomerDetails,
        now: datetime,
        *,
        as_of: datetime | None = None,
    ) -> Remembered:
        """Upsert what the gateway told about the customer; restart the inactivity clock.

        ``as_of`` is when the gateway knew these details (the event's time): details older
        than the ones stored are not written back, so a redelivery days later or a late event
        never restores an address the customer has since changed; the inactivity clock still
        moves forward.

        Contact fields are sealed before they leave the process. A table without a keyring
        (the ledger's: it never holds contact data, intake has sealed them already) stores
        none of them rather than store them in clear, and silently writes nothing for an
        erased customer. With a keyring, raises CustomerErased for an erased customer
        (nothing written)."""
        given = {
            "name": details.name,
            "email": details.email,
            "phone": details.phone,
            "address": details.address,
        }
        contact = {k: v for k, v in given.items() if v}
        sealed: dict[str, bytes] = {}
        if self._keyring is not None and contact:
            by_context = self._keyring.seal_many(
                customer_id, {field_context(k): v.encode() for k, v in contact.items()}
            )
            sealed = {k: by_context[field_context(k)] for k in contact}
        values: dict[str, Any] = {
            **sealed,
            "locale": details.locale,
            "updated_at": now.isoformat(),
            "expires_at": int((now + INACTIVE_PROFILE_RETENTION).timestamp()),
        }
        if as_of is not None:
            values["contact_as_of"] = _micros(as_of)
        present = {k: v for k, v in values.items() if v is not None}
        update = self._update(customer_id, present)
        if as_of is not None:
            update["ConditionExpression"] = (
                "attribute_not_exists(#contact_as_of) OR #contact_as_of <= :contact_as_of"
            )
        # Written only while the customer's key exists (or, with nothing to seal, while no
        # erasure record does): a process still holding the key in its cache, or the ledger
        # applying a late event, cannot bring a profile back after an erasure.
        guard = (
            {"pk": key_pk(customer_id), "if": "attribute_exists(pk)"}
            if sealed
            else {"pk": tombstone_pk(customer_id), "if": "attribute_not_exists(pk)"}
        )
        try:
            guarded: list[Any] = [  # plain dicts, their values from to_item
                {
                    "ConditionCheck": {
                        "TableName": self.name,
                        "Key": to_item({"pk": guard["pk"]}),
                        "ConditionExpression": guard["if"],
                    }
                },
                {"Update": update},
            ]
            self._client.transact_write_items(TransactItems=guarded)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(exc)
            if codes[:1] == ["ConditionalCheckFailed"]:
                if self._keyring is None:
                    return "erased"  # the ledger: nothing to remember about an erased customer
                raise CustomerErased(f"customer {customer_id} was erased") from None
            if codes[1:2] != ["ConditionalCheckFailed"]:
                raise
            self._keep_active(customer_id, int(values["expires_at"]))
            return "older_than_stored"
        return "stored"

    def _keep_active(self, customer_id: str, expires_at: int) -> None:
        """Push the inactivity TTL out (never back) on a profile that still exists."""
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": profile_pk(customer_id)}),
                UpdateExpression="SET expires_at = :e",
                ConditionExpression="attribute_exists(pk) AND expires_at < :e",
                ExpressionAttributeValues=to_item({":e": expires_at}),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def _update(self, customer_id: str, present: dict[str, Any]) -> dict[str, Any]:
        sets = ", ".join(f"#{k} = :{k}" for k in present)
        return {
            "TableName": self.name,
            "Key": to_item({"pk": profile_pk(customer_id)}),
            "UpdateExpression": (
                f"SET {sets}, #created_at = if_not_exists(#created_at, :updated_at),"
                " #segment = if_not_exists(#segment, :segment),"
                " #channel = if_not_exists(#channel, :channel)"
            ),
            "ExpressionAttributeNames": {
                **{f"#{k}": k for k in present},
                "#created_at": "created_at",
                "#segment": "segment",
                "#channel": "channel",
            },
            "ExpressionAttributeValues": to_item(
                {
                    **{f":{k}": v for k, v in present.items()},
                    ":segment": "b2c",
                    ":channel": "email",
                }
            ),
        }

    def profile(self, customer_id: str) -> CustomerProfile | None:
        """The profile with contact fields decrypted; None if unknown or erased."""
        held = self.held(customer_id)
        return CustomerProfile.model_validate(held) if held is not None else None

    def held(self, customer_id: str) -> dict[str, Any] | None:
        """Every attribute of the profile item, contact fields decrypted (bookkeeping
        included: what a data subject's export hands over); None if unknown or erased."""
        stored = self.stored_profile(customer_id)
        if stored is None:
            return None
        try:
            return self._opened(customer_id, stored)
        except CustomerErased:
            return None

    def stored_profile(self, customer_id: str) -> dict[str, Any] | None:
        """The item as stored (contact fields still sealed bytes)."""
        response = self._client.get_item(
            TableName=self.name, Key=to_item({"pk": profile_pk(customer_id)}), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def _opened(self, customer_id: str, stored: dict[str, Any]) -> dict[str, Any]:
        profile = dict(stored)
        sealed: dict[str, bytes] = {}
        for name in CONTACT_FIELDS:
            value = profile.get(name)
            if isinstance(value, Binary):
                value = value.value  # type: ignore[attr-defined]  # boto3's stubs omit it
            if isinstance(value, bytes | bytearray):
                sealed[field_context(name)] = bytes(value)
        if not sealed:
            return profile
        if self._keyring is None:
            raise ValueError("sealed contact data needs a keyring to open")
        opened = self._keyring.open_many(customer_id, sealed)
        for name in CONTACT_FIELDS:
            if field_context(name) in opened:
                profile[name] = opened[field_context(name)].decode()
        return profile

    def forget(self, customer_id: str) -> bool:
        """Delete the profile (contact data, preferences, consents); True if there was one."""
        response = self._client.delete_item(
            TableName=self.name,
            Key=to_item({"pk": profile_pk(customer_id)}),
            ReturnValues="ALL_OLD",
        )
        return "Attributes" in response

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
        """The customer's choice of channel: "email", "sms" or "both", recorded even before
        their first payment (the profile's other fields come with it)."""
        self.set_preferences(customer_id, channel=channel, only_existing=False)

    def set_preferences(
        self,
        customer_id: str,
        *,
        channel: str | None = None,
        segment: str | None = None,
        timezone: str | None = None,
        only_existing: bool = True,
    ) -> bool:
        """Channel ("email", "sms", "both"), segment ("b2b", "b2c", the tone of messages) and
        IANA time zone of the profile; with ``only_existing``, False when there is no profile
        (unknown or erased: nothing is created)."""
        if channel is not None and channel not in ("email", "sms", "both"):
            raise ValueError("channel must be email, sms or both")
        if segment is not None and segment not in ("b2b", "b2c"):
            raise ValueError("segment must be b2b or b2c")
        given = {"channel": channel, "segment": segment, "timezone": timezone}
        present = {k: v for k, v in given.items() if v is not None}
        if not present:
            return self.stored_profile(customer_id) is not None
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_exists(pk)"} if only_existing else {}
        )
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": profile_pk(customer_id)}),
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in present),
                ExpressionAttributeNames={f"#{k}": k for k in present},
                ExpressionAttributeValues=to_item({f":{k}": v for k, v in present.items()}),
                **condition,
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
