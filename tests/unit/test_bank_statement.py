"""camt.053/054 reading: what matching needs from each entry, and every hostile or broken
file refused whole with a reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from quittance.bank.statement import StatementRefused, parse_statement
from quittance.models.money import Money
from quittance_ops.camt_samples import Transfer, statement_xml


def _one(transfer: Transfer) -> bytes:
    return statement_xml([transfer])


def test_a_credit_transfer_yields_what_matching_and_the_receipt_need() -> None:
    statement = parse_statement(
        _one(
            Transfer(
                reference="BQ-0001",
                amount=Decimal("120.00"),
                payer="Camille Martin",
                structured="RF18 F-2026-0042",
                unstructured=("Facture F-2026-0042", "merci"),
                end_to_end="E2E-77",
            )
        )
    )
    assert statement.message == "camt.053"
    assert statement.message_id == "STMT-2026-12-03"
    assert statement.account_iban_masked == "FR76 **** 0189"
    (entry,) = statement.entries
    assert entry.reference == "BQ-0001"
    assert entry.direction == "credit"
    assert entry.amount == Money(amount_minor=12000, currency="EUR")
    assert entry.status == "BOOK"
    assert entry.booking_date == entry.value_date == date(2026, 12, 3)
    assert entry.payer_name == "Camille Martin"
    assert entry.payer_iban_masked == "FR76 **** 0129"
    assert entry.end_to_end_id == "E2E-77"
    assert entry.remittance == ("RF18 F-2026-0042", "Facture F-2026-0042", "merci")


def test_a_debit_is_read_as_a_debit_and_notprovided_is_no_reference() -> None:
    (entry,) = parse_statement(
        _one(Transfer(reference="BQ-D", amount=Decimal("9.90"), credit=False))
    ).entries
    assert entry.direction == "debit"
    assert entry.end_to_end_id is None


def test_a_batch_booking_becomes_one_entry_per_transaction() -> None:
    batch = (
        Transfer(reference="BQ-B-1", amount=Decimal("10.00"), unstructured=("F-1",)),
        Transfer(reference="BQ-B-2", amount=Decimal("15.50"), unstructured=("F-2",)),
    )
    entries = parse_statement(
        _one(Transfer(reference="BQ-B", amount=Decimal("25.50"), batch=batch))
    ).entries
    assert [(e.reference, e.amount.amount_minor, e.remittance) for e in entries] == [
        ("BQ-B-1", 1000, ("F-1",)),
        ("BQ-B-2", 1550, ("F-2",)),
    ]


def test_a_camt054_notification_is_read_too() -> None:
    xml = (
        statement_xml([Transfer(reference="N-1", amount=Decimal("5.00"))])
        .replace(b"camt.053.001.08", b"camt.054.001.08")
        .replace(b"BkToCstmrStmt>", b"BkToCstmrDbtCdtNtfctn>")
        .replace(b"<Stmt>", b"<Ntfctn>")
        .replace(b"</Stmt>", b"</Ntfctn>")
    )
    statement = parse_statement(xml)
    assert statement.message == "camt.054"
    assert [e.reference for e in statement.entries] == ["N-1"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>&lol3;</MsgId></GrpHdr></BkToCstmrStmt></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>&secret;</MsgId></GrpHdr></BkToCstmrStmt></Document>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/evil.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "declares a DTD"),
        (EXTERNAL_ENTITY, "declares a DTD"),
        (EXTERNAL_DTD, "declares a DTD"),
        (statement_xml([Transfer(reference="T", amount=Decimal(1))])[:-40], "not well-formed"),
        (b"", "not well-formed"),
        (b"<html><body>login</body></html>", "not an ISO 20022 camt.053/camt.054"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>',
            "not an ISO 20022 camt.053/camt.054",
        ),
        (
            statement_xml([Transfer(reference="T", amount=Decimal(1))]).replace(
                b"<CdtDbtInd>CRDT", b"<CdtDbtInd>XXXX"
            ),
            "entry 1 of the statement: CdtDbtInd is 'XXXX'",
        ),
        (
            statement_xml([Transfer(reference="T", amount=Decimal(1))]).replace(
                b">1.00</Amt>", b">1.005</Amt>", 1
            ),
            "too precise",
        ),
    ],
    ids=[
        "entity-expansion",
        "external-entity",
        "external-dtd",
        "truncated",
        "empty",
        "not-xml-camt",
        "other-iso20022",
        "bad-direction",
        "sub-cent",
    ],
)
def test_hostile_or_broken_files_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(StatementRefused, match=reason):
        parse_statement(data)


def test_an_oversized_file_is_refused_before_it_is_parsed() -> None:
    head = statement_xml([Transfer(reference="T", amount=Decimal(1))])
    data = head + b" " * (50 * 1024 * 1024)
    with pytest.raises(StatementRefused, match=r"the limit is 33,554,432"):
        parse_statement(data)
