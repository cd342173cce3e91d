"""template.yaml's choices for the cost of a proof (docs/performance.md, bench/cost.py): the
ledger, kept as long as the archive and read a few times per payment, is billed mostly for
storage, so it is in DynamoDB's Standard-IA class; the tables that expire their items within
days or are read and written on every request stay in the Standard class."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.template.test_template import STAGES, TEMPLATE, translate

INFREQUENT = "STANDARD_INFREQUENT_ACCESS"


@pytest.fixture(scope="module", params=STAGES)
def tables(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    translated: dict[str, Any] = translate(yaml_parse(TEMPLATE.read_text()), request.param)
    return {
        name: resource.get("Properties", {})
        for name, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def test_the_ledger_is_stored_in_the_infrequent_access_class(
    tables: dict[str, dict[str, Any]],
) -> None:
    assert tables["LedgerTable"].get("TableClass") == INFREQUENT


def test_short_lived_tables_stay_in_the_standard_class(tables: dict[str, dict[str, Any]]) -> None:
    # Idempotency records live for days: Standard-IA's dearer requests would cost more than
    # its storage saves.
    assert tables["IdempotencyTable"].get("TableClass", "STANDARD") == "STANDARD"


def test_the_ledger_indexes_copy_only_what_their_queries_read(
    tables: dict[str, dict[str, Any]],
) -> None:
    # Every copy is stored as long as the ledger (11 years): gsi1 and gsi2's readers take the
    # keys and read the items themselves; the customer's invoices need their summaries; the
    # open invoices their summaries and registered terms.
    projections = {
        index["IndexName"]: index["Projection"]
        for index in tables["LedgerTable"]["GlobalSecondaryIndexes"]
    }
    assert projections == {
        "gsi1": {"ProjectionType": "KEYS_ONLY"},
        "gsi2": {"ProjectionType": "KEYS_ONLY"},
        "gsi3": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["summary"]},
        "gsi4": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["summary", "terms"]},
    }
