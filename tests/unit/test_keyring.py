"""Per-customer envelope encryption against moto's KMS and DynamoDB: a value opens only for
its customer and field, and once the key is destroyed nothing opens any more (a typed error,
never garbage) and no new key can be minted for that customer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from quittance.aws.customer_keys import CustomerKeyring
from quittance.errors import CustomerErased, SealInvalid

REGION = "eu-west-3"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        kms = boto3.client("kms", region_name=REGION)
        dynamodb.create_table(
            TableName="customers",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        key_id = kms.create_key()["KeyMetadata"]["Arn"]
        yield {"dynamodb": dynamodb, "kms": kms, "key_id": key_id}


def keyring(aws: dict[str, Any], **kw: Any) -> CustomerKeyring:
    return CustomerKeyring("customers", aws["dynamodb"], aws["kms"], aws["key_id"], **kw)


def test_sealed_value_opens_for_its_customer_and_field_only(aws: dict[str, Any]) -> None:
    ring = keyring(aws)
    sealed = ring.seal("C-1", b"ada@example.com", "profile.email")
    assert b"ada@example.com" not in sealed
    assert sealed[:1] == b"\x01"
    assert ring.open("C-1", sealed, "profile.email") == b"ada@example.com"
    # Another process (cold cache) opens it through KMS Decrypt of the stored wrapped key.
    assert keyring(aws).open("C-1", sealed, "profile.email") == b"ada@example.com"
    with pytest.raises(SealInvalid):
        ring.open("C-1", sealed, "profile.name")
    ring.seal("C-2", b"x", "profile.email")
    with pytest.raises(SealInvalid):
        ring.open("C-2", sealed, "profile.email")
    with pytest.raises(SealInvalid):
        ring.open("C-1", sealed[:-1] + bytes([sealed[-1] ^ 1]), "profile.email")


def test_each_seal_uses_a_fresh_nonce(aws: dict[str, Any]) -> None:
    ring = keyring(aws)
    assert ring.seal("C-1", b"same", "f") != ring.seal("C-1", b"same", "f")


def test_only_the_wrapped_key_is_stored(aws: dict[str, Any]) -> None:
    keyring(aws).seal("C-1", b"v", "f")
    [item] = aws["dynamodb"].scan(TableName="customers")["Items"]
    assert item["pk"] == {"S": "KEY#C-1"}
    assert set(item) == {"pk", "record", "wrapped", "kms_key_id", "created_at", "expires_at"}
    wrapped = bytes(item["wrapped"]["B"])
    # Unwrapping needs the customer's encryption context: the blob alone is not the key.
    with pytest.raises(aws["kms"].exceptions.ClientError):
        aws["kms"].decrypt(CiphertextBlob=wrapped)


def test_erasure_makes_every_sealed_copy_unreadable_even_in_a_warm_process(
    aws: dict[str, Any],
) -> None:
    ring = keyring(aws)
    other_process = keyring(aws)  # warm: its cache holds the unwrapped key
    sealed = ring.seal("C-1", b"ada@example.com", "profile.email")
    assert other_process.open("C-1", sealed, "profile.email") == b"ada@example.com"
    assert ring.erase("C-1") is True
    for reader in (ring, other_process, keyring(aws)):
        with pytest.raises(CustomerErased):
            reader.open("C-1", sealed, "profile.email")
    with pytest.raises(CustomerErased):
        ring.seal("C-1", b"new", "profile.email")
    assert ring.erased("C-1")
    # A second erasure changes nothing (same tombstone, same date).
    items = aws["dynamodb"].scan(TableName="customers")["Items"]
    assert ring.erase("C-1") is False
    assert aws["dynamodb"].scan(TableName="customers")["Items"] == items
    [tombstone] = items
    assert set(tombstone) == {"pk", "record", "erased_at", "expires_at"}


def test_erasing_a_customer_without_key_still_blocks_new_keys(aws: dict[str, Any]) -> None:
    ring = keyring(aws)
    assert ring.erase("C-9") is False
    with pytest.raises(CustomerErased):
        ring.seal("C-9", b"x", "f")


def test_reader_without_kms_key_id_cannot_mint(aws: dict[str, Any]) -> None:
    reader = CustomerKeyring("customers", aws["dynamodb"], aws["kms"], None)
    with pytest.raises(CustomerErased):
        reader.open("C-new", b"\x01" + b"\x00" * 40, "f")
    with pytest.raises(RuntimeError):
        reader.seal("C-new", b"x", "f")


def test_a_warm_process_unwraps_once_but_still_sees_an_erasure_at_once(
    aws: dict[str, Any],
) -> None:
    unwraps: list[str] = []
    aws["kms"].meta.events.register(
        "before-call.kms.Decrypt", lambda **_: unwraps.append("Decrypt")
    )
    writer, reader = keyring(aws), keyring(aws)
    sealed = writer.seal("C-1", b"+33612345678", "profile.phone")
    for _ in range(3):
        assert reader.open("C-1", sealed, "profile.phone") == b"+33612345678"
    assert unwraps == ["Decrypt"]
    writer.erase("C-1")
    with pytest.raises(CustomerErased):
        reader.open("C-1", sealed, "profile.phone")


def test_open_many_opens_each_field_under_its_own_context(aws: dict[str, Any]) -> None:
    ring = keyring(aws)
    name = ring.seal("C-1", b"Ada", "profile.name")
    email = ring.seal("C-1", b"ada@example.com", "profile.email")
    assert ring.open_many("C-1", {"profile.name": name, "profile.email": email}) == {
        "profile.name": b"Ada",
        "profile.email": b"ada@example.com",
    }
    with pytest.raises(SealInvalid):
        ring.open_many("C-1", {"profile.name": email})


def test_seal_many_looks_the_key_up_once_and_each_value_opens_under_its_own_field(
    aws: dict[str, Any],
) -> None:
    ring = keyring(aws)
    ring.seal("C-1", b"warm-up", "f")  # the key exists: what follows is the steady state
    lookups: list[str] = []
    aws["dynamodb"].meta.events.register(
        "before-call.dynamodb.GetItem", lambda **_: lookups.append("GetItem")
    )
    fields = {"profile.name": b"Ada", "profile.email": b"ada@example.com", "profile.phone": b"+33"}
    sealed = ring.seal_many("C-1", fields)
    assert lookups == ["GetItem"]
    assert ring.open_many("C-1", sealed) == fields
    with pytest.raises(SealInvalid):
        ring.open("C-1", sealed["profile.name"], "profile.email")
