"""``quittance doctor``'s rules that need no stack: the lock each stage expects is the one
template.yaml sets, and whose name the receipts are issued in."""

from __future__ import annotations

from quittance.seller import PublishedProfile
from quittance_ops.doctor import (
    DEMO_SELLER_NAME,
    DEMO_SELLER_SIREN,
    EXPECTED_LOCK,
    Lock,
    Status,
    profile_finding,
    seller_finding,
)
from quittance_ops.localstack.template import load_template
from quittance_ops.project import project_root
from quittance_ops.seller_file import read_profile_file


def test_the_expected_lock_per_stage_is_the_templates() -> None:
    settings = load_template(project_root() / "template.yaml")["Mappings"]["StageSettings"]
    assert {
        stage: Lock(values["RetentionMode"], int(values["RetentionDays"]))
        for stage, values in settings.items()
    } == EXPECTED_LOCK


def test_the_demo_company_blocks_a_prod_stage() -> None:
    finding = seller_finding("prod", {})
    assert finding.status is Status.BLOCKS
    assert DEMO_SELLER_NAME in finding.detail and "SELLER_NAME" in finding.fix


def test_the_demo_company_is_only_a_warning_in_dev() -> None:
    assert seller_finding("dev", {}).status is Status.WARN


def test_a_seller_keeping_the_demo_siren_still_blocks() -> None:
    half_set = {"SELLER_NAME": "Boulangerie Martin SARL", "SELLER_SIREN": DEMO_SELLER_SIREN}
    assert seller_finding("prod", half_set).status is Status.BLOCKS


def test_the_business_own_seller_is_ready() -> None:
    own = {"SELLER_NAME": "Boulangerie Martin SARL", "SELLER_SIREN": "552100554"}
    finding = seller_finding("prod", own)
    assert finding.status is Status.OK
    assert finding.detail == "receipts issued by Boulangerie Martin SARL (SIREN 552100554)"


def _published(name: str, version: int) -> PublishedProfile:
    read = read_profile_file(project_root() / "infra" / "profiles" / name)
    return PublishedProfile(version=version, profile=read.profile)


def test_no_seller_profile_blocks_prod_and_warns_elsewhere() -> None:
    finding = profile_finding("prod", "/quittance/prod/seller-profile", None)
    assert finding.status is Status.BLOCKS
    assert finding.detail == "no seller profile at /quittance/prod/seller-profile"
    assert "quittance seller set" in finding.fix
    assert profile_finding("dev", "/quittance/dev/seller-profile", None).status is Status.WARN


def test_the_demo_profile_blocks_prod_and_the_business_own_is_ready() -> None:
    demo = _published("demo-seller.yaml", 1)
    blocked = profile_finding("prod", "/quittance/prod/seller-profile", demo)
    assert blocked.status is Status.BLOCKS
    assert "demo company's profile" in blocked.detail
    assert profile_finding("dev", "/quittance/dev/seller-profile", demo).status is Status.WARN
    own = profile_finding("prod", "/p", _published("micro-entrepreneur.yaml", 4))
    assert own.status is Status.OK
    assert own.detail == "receipts issued by Camille Martin (SIREN 912345675), version 4"
