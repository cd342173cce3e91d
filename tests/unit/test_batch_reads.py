"""Items read back by their keys after a keys-only index query (the bank review list, the
accounting export, the compliance day search): all of them, in the index's order, and never
an item that is gone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from quittance.aws.batch_reads import items_by_key
from quittance.aws.items import from_item, to_item

REGION = "eu-west-3"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="ledger",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def key(i: int) -> dict[str, Any]:
    return to_item({"pk": f"INV#{i:04d}", "sk": "RCPT#1"})


def test_every_item_comes_back_in_the_order_of_its_keys_across_batches(table: Any) -> None:
    for i in range(250):
        table.put_item(TableName="ledger", Item={**key(i), **to_item({"data": f"receipt {i}"})})
    wanted = [key(i) for i in reversed(range(250))]  # three requests of at most 100 keys

    found = items_by_key(table, "ledger", wanted)

    assert [from_item(item)["data"] for item in found] == [
        f"receipt {i}" for i in reversed(range(250))
    ]


def test_a_key_whose_item_is_gone_is_left_out(table: Any) -> None:
    table.put_item(TableName="ledger", Item={**key(1), **to_item({"data": "kept"})})

    found = items_by_key(table, "ledger", [key(0), key(1), key(2)])

    assert [from_item(item)["data"] for item in found] == ["kept"]
