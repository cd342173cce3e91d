"""A receipt is issued under the seller profile current when it is issued; its later English
copy under the version the original recorded, whatever was set since; and a prod stage on
no profile or the demo company's issues nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from quittance.archive.retention import Lock, RetentionPolicy
from quittance.models.customer import CustomerProfile
from quittance.models.events import MethodKind, PaymentMethod
from quittance.models.messages import ReceiptJob
from quittance.models.money import Money
from quittance.receipts.document import ReceiptDocument, Seller
from quittance.receipts.issuance import IssuancePorts, issue_receipt
from quittance.receipts.sellers import FixedSeller, ProfileSellers
from quittance.seller import PublishedProfile, SellerProfileRefused
from quittance.settings import RetentionMode
from quittance_ops.seller_file import read_profile_file

PROFILES = Path(__file__).resolve().parents[2] / "infra" / "profiles"
AT = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)
JOB = ReceiptJob(
    correlation_id="c-1",
    receipt_number="R-2026-000001",
    invoice_number="F-1",
    payment_id="pi-1",
    customer_id="C-1",
    paid_at=AT,
    issued_at=AT,
    amount=Money(amount_minor=4200, currency="EUR"),
    method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
    invoice_status="paid",
    balance_due=Money(amount_minor=0, currency="EUR"),
)
POLICY = RetentionPolicy(mode=RetentionMode.GOVERNANCE, minimum_days=1, legal_years=0)


def published(name: str, version: int) -> PublishedProfile:
    return PublishedProfile(version=version, profile=read_profile_file(PROFILES / name).profile)


class Profiles:
    """The stage's store: version 1 the demo company, version 2 a micro-entrepreneur."""

    def __init__(self, current: int | None) -> None:
        self.versions = {1: published("demo-seller.yaml", 1)}
        self.versions[2] = published("micro-entrepreneur.yaml", 2)
        self.current_version = current

    def current(self) -> PublishedProfile | None:
        return self.versions[self.current_version] if self.current_version else None

    def at_version(self, version: int) -> PublishedProfile:
        return self.versions[version]


class Logos:
    def read(self, sha256: str, media_type: str) -> bytes:
        return (PROFILES / "demo-logo.png").read_bytes()


@dataclass
class Archived:
    key: str

    def as_record(self) -> dict[str, Any]:
        return {"key": self.key, "version_id": "v1"}


class Archive:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def put_once(self, key: str, body: bytes, lock: Lock, **_: Any) -> Archived:
        self.keys.append(key)
        return Archived(key)

    def head(self, key: str, version_id: str | None = None) -> Archived:
        return Archived(key)


class Renderer:
    def __init__(self) -> None:
        self.documents: list[ReceiptDocument] = []

    def render(self, document: ReceiptDocument) -> Any:
        self.documents.append(document)
        return type("Rendered", (), {"pdf": b"%PDF", "sha256_hex": "0" * 64})()


class Ledger:
    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item

    def receipt_item(self, number: str, invoice_number: str | None = None) -> dict[str, Any]:
        return self.item

    def registration(self, number: str) -> None:
        return None

    def record_archive(self, invoice_number: str, number: str, archive: dict[str, Any]) -> None:
        self.item["archive"] = archive

    def record_translation(self, invoice_number: str, number: str, archive: dict[str, Any]) -> None:
        self.item["translation"] = archive


class Customers:
    def __init__(self, locale: str) -> None:
        self.locale = locale

    def profile(self, customer_id: str) -> CustomerProfile:
        return CustomerProfile(locale=self.locale)


def issue(ledger: Ledger, sellers: Any, locale: str = "fr") -> Renderer:
    renderer = Renderer()
    issue_receipt(
        JOB,
        IssuancePorts(
            ledger=ledger, profiles=Customers(locale), sellers=sellers, archive=Archive()
        ),
        renderer=renderer,  # type: ignore[arg-type]
        policy=POLICY,
        link_for=lambda number, expires: f"https://pay.example.com/r/{number}",
        now=AT,
    )
    return renderer


def test_a_new_receipt_records_the_current_version() -> None:
    ledger = Ledger({})
    rendered = issue(ledger, ProfileSellers("prod", Profiles(2), Logos()))
    (document,) = rendered.documents
    assert document.seller.profile_version == 2
    assert document.seller.name == "Camille Martin Céramique"
    assert ledger.item["archive"]["seller_profile_version"] == 2


def test_a_later_english_copy_uses_the_originals_version_not_the_current_one() -> None:
    # Given an original archived under version 1, and version 2 set since
    ledger = Ledger({"archive": {"key": "k", "version_id": "v1", "seller_profile_version": 1}})
    sellers = ProfileSellers("dev", Profiles(2), Logos())
    # When its English copy is rendered (a customer reading English)
    rendered = issue(ledger, sellers, locale="en-GB")
    # Then the copy carries the demo company's identity, as the original does
    (copy,) = rendered.documents
    assert copy.is_translation and copy.seller.profile_version == 1
    assert copy.seller.siren == "732829320" and copy.seller.logo_png is not None
    assert ledger.item["translation"]["seller_profile_version"] == 1


@pytest.mark.parametrize(("current", "why"), [(None, "no seller profile"), (1, "demo company")])
def test_prod_issues_nothing_without_a_real_profile(current: int | None, why: str) -> None:
    ledger = Ledger({})
    with pytest.raises(SellerProfileRefused, match=why):
        issue(ledger, ProfileSellers("prod", Profiles(current), Logos()))
    assert "archive" not in ledger.item
    # The local stack (demo allowed) and other stages issue under the demo company.
    assert issue(Ledger({}), ProfileSellers("prod", Profiles(1), Logos(), allow_demo=True))
    assert issue(Ledger({}), ProfileSellers("dev", Profiles(1), Logos()))


def test_a_stack_without_the_profile_parameter_still_refuses_the_demo_siren_in_prod() -> None:
    demo = Seller(name="Atelier Quittance SAS", address="Paris", siren="732829320", email="a@b.c")
    with pytest.raises(SellerProfileRefused, match="demo company"):
        issue(Ledger({}), FixedSeller("prod", demo))
    own = demo.model_copy(update={"siren": "912345675"})
    assert issue(Ledger({}), FixedSeller("prod", own)).documents[0].seller.siren == "912345675"
