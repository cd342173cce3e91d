"""The seller profile: what it accepts, what it refuses and says why, the mentions it prints,
and where it is kept (SSM through Powertools, versioned)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from pydantic import ValidationError

from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.seller import (
    VAT_EXEMPT_MENTION,
    PublishedProfile,
    SellerProfile,
    SellerProfileRefused,
    issuable,
    profile_problems,
)
from quittance.seller.colour import brand_palette, contrast_ratio
from quittance_ops.seller_file import ProfileFileError, read_profile_file

PROFILES = Path(__file__).resolve().parents[2] / "infra" / "profiles"


def demo() -> dict[str, Any]:
    """The demo company's profile as stored (its logo by hash)."""
    return read_profile_file(PROFILES / "demo-seller.yaml").profile.model_dump(mode="json")


def micro() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROFILES / "micro-entrepreneur.yaml").read_text())
    return data


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        SellerProfile.model_validate(data)
    return {".".join(map(str, loc)): message for loc, message in profile_problems(caught.value)}


def test_the_shipped_profiles_are_valid_and_normalised() -> None:
    sas = SellerProfile.model_validate(demo())
    assert sas.transfer is not None
    assert sas.transfer.iban == "FR7630006000011234567890189"  # spaces gone
    assert sas.phone == "+33 1 23 45 67 89"
    micro_profile = SellerProfile.model_validate(micro())
    assert micro_profile.phone == "+33 6 12 34 56 78"  # national input, printed dialable
    assert micro_profile.logo is None


def test_a_company_prints_form_capital_registry_siret_and_vat_number() -> None:
    mentions = SellerProfile.model_validate(demo()).legal_mentions("fr")
    assert mentions == (
        "Atelier Quittance",
        "SAS au capital de 10\u202f000\u00a0€",
        "RCS Paris 732 829 320",
        "SIRET 732 829 320 00074",
        "TVA intracommunautaire FR44732829320",
    )
    assert VAT_EXEMPT_MENTION not in mentions


def test_a_micro_entrepreneur_prints_293_b_and_no_vat_number_nor_capital() -> None:
    profile = SellerProfile.model_validate(micro())
    for language in ("fr", "en"):
        mentions = profile.legal_mentions(language)  # type: ignore[arg-type]
        assert mentions[0] == "Camille Martin EI"
        assert mentions[-1] == "TVA non applicable, art. 293 B du CGI"
        assert not any("FR" in part and part[2:4].isdigit() for part in mentions)
        assert not any("capital" in part for part in mentions)
        assert "RM Lyon 912 345 675" in mentions


def test_every_bad_field_is_named_with_what_is_wrong() -> None:
    data = demo() | {
        "siren": "732829321",
        "email": "contact-at-example.com",
        "phone": "12",
        "brand_colour": "#ffcc00",
        "transfer": {"iban": "FR7630006000011234567890188", "bic": "BNPAFRP"},
        "vat": {"regime": "vat", "number": "FR00732829320"},
    }
    found = problems(data)
    assert set(found) == {
        "siren",
        "email",
        "phone",
        "brand_colour",
        "transfer.iban",
        "transfer.bic",
        "vat.number",
    }
    assert "SIREN" in found["siren"]
    assert "1.51:1" in found["brand_colour"] and "4.5:1" in found["brand_colour"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"siret": "91234567500017"}, "siret", "not an establishment of siren 732829320"),
        ({"share_capital": None}, "share_capital", "missing"),
        ({"registry": None}, "registry", "RCS"),
        ({"vat": {"regime": "vat", "number": "FR65912345675"}}, "vat.number", "not the number"),
        ({"vat": {"regime": "exempt"}}, "vat", "regime"),
        ({"legal_form": "GIE"}, "legal_form", "SAS"),
        ({"nickname": "x"}, "nickname", "Extra inputs"),
    ],
)
def test_inconsistent_profiles_are_refused(change: dict[str, Any], field: str, words: str) -> None:
    found = problems(demo() | change)
    assert field in found, found
    assert words in found[field]


def test_an_ei_with_a_share_capital_is_refused() -> None:
    assert "share_capital" in problems(micro() | {"share_capital": 1000})


def test_contrast_follows_the_wcag_formula() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WebAIM's checker: #767676 on white is 4.54:1, the lightest grey passing AA.
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    SellerProfile.model_validate(demo() | {"brand_colour": "#767676"})
    assert "brand_colour" in problems(demo() | {"brand_colour": "#777777"})


def test_production_refuses_no_profile_and_the_demo_company() -> None:
    sas = PublishedProfile(version=3, profile=SellerProfile.model_validate(demo()))
    own = PublishedProfile(version=4, profile=SellerProfile.model_validate(micro()))
    with pytest.raises(SellerProfileRefused, match="no seller profile"):
        issuable("prod", None)
    with pytest.raises(SellerProfileRefused, match=r"demo company's .*SIREN 732829320"):
        issuable("prod", sas)
    assert issuable("prod", own) is own
    assert issuable("dev", sas) is sas  # the demo and tests run on the demo company


def test_a_profile_file_reports_each_problem_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "seller.yaml"
    path.write_text(
        "legal_name: Ferronnerie Dubois\n"
        "legal_form: SARL\n"
        "share_capital: 5000\n"
        "registry: {kind: RCS, city: Nantes}\n"
        'siren: "850000126"\n'
        'siret: "85000012600019"\n'
        "vat:\n"
        "  regime: vat\n"
        "  number: FR00850000126\n"
        "address: 3 quai de la Fosse, 44000 Nantes\n"
        "email: not-an-email\n"
        'phone: "+33 2 40 00 00 00"\n'
        'brand_colour: "#ffcc00"\n'
    )
    with pytest.raises(ProfileFileError) as caught:
        read_profile_file(path)
    lines = [str(problem) for problem in caught.value.problems]
    assert [line.split(":")[0] for line in lines] == ["line 9", "line 11", "line 13"]
    assert lines[0].startswith("line 9: vat.number: not a valid French VAT number")
    assert "contrast of 1.51:1" in lines[2]


def test_a_file_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "seller.yaml"
    path.write_text("legal_name: A\nlegal_form: [SAS\n")
    with pytest.raises(ProfileFileError) as caught:
        read_profile_file(path)
    (problem,) = caught.value.problems
    assert problem.line is not None and "not valid YAML" in problem.message


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # A local stack started earlier in this process points AWS_ENDPOINT_URL at its moto
    # server, which mock_aws would not intercept.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.client("ssm", region_name="eu-west-3")


def test_ssm_keeps_each_version_and_a_change_shows_after_the_cache_age(ssm: Any) -> None:
    name = "/quittance/test/seller-profile"
    store = SellerProfileParameter(name, ssm, max_age=0)
    assert store.current() is None
    first = SellerProfile.model_validate(demo())
    second = SellerProfile.model_validate(micro())
    assert store.put(first.model_dump_json()) == 1
    assert store.put(second.model_dump_json()) == 2
    current = store.current()
    assert current is not None
    assert (current.version, current.profile) == (2, second)
    pinned = store.at_version(1)
    assert (pinned.version, pinned.profile) == (1, first)


def test_a_cached_profile_is_served_until_its_age_passes(ssm: Any) -> None:
    name = "/quittance/test/seller-profile"
    store = SellerProfileParameter(name, ssm, max_age=300)
    store.put(SellerProfile.model_validate(demo()).model_dump_json())
    cached = store.current()
    store.put(SellerProfile.model_validate(micro()).model_dump_json())
    assert store.current() == cached  # within max_age: no call to SSM


def test_the_logo_file_is_referenced_by_its_hash() -> None:
    read = read_profile_file(PROFILES / "demo-seller.yaml")
    assert read.logo is not None and read.logo.startswith(b"\x89PNG")
    assert read.profile.logo is not None
    assert read.profile.logo.media_type == "image/png"
    assert read.profile.logo.sha256 == hashlib.sha256(read.logo).hexdigest()
    assert read_profile_file(PROFILES / "micro-entrepreneur.yaml").logo is None


def test_every_inconsistency_is_reported_at_once_each_at_its_field() -> None:
    # A SAS with a SIRET of another company, no capital and no registry: three things to
    # fix, and the seller learns all three from one try, not one per try.
    found = problems(demo() | {"siret": "91234567500017", "share_capital": None, "registry": None})
    assert {"siret", "share_capital", "registry"} <= set(found), found
    assert "not an establishment of siren 732829320" in found["siret"]


@pytest.mark.parametrize("brand", ["#ffcc00", "#9fd3c7", "#1f4e79", "#000000"])
def test_the_brand_text_on_a_document_is_readable_whatever_the_colour(brand: str) -> None:
    # A preview or an older profile may carry a pale brand: its text is darkened to AA,
    # and the ink on a brand band is white only where white reads on it.
    palette = brand_palette(brand)
    assert contrast_ratio(palette["brand_text"], "#ffffff") >= 4.5
    ink_contrast = contrast_ratio(palette["brand_ink"], brand)
    assert ink_contrast >= 3.0, (brand, palette["brand_ink"], ink_contrast)
    if contrast_ratio(brand, "#ffffff") >= 4.5:
        assert palette["brand_text"] == brand  # a readable brand is printed as chosen
