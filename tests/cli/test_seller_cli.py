"""``quittance seller set | show | preview`` against a small stack in moto: a valid file
becomes a new version (logo stored by hash), a bad one is refused line by line and changes
nothing, and the preview writes the pages to look at."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pypdf import PdfReader
from typer.testing import CliRunner

from quittance_ops.cli import app

REGION = "eu-west-3"
PROFILES = Path(__file__).resolve().parents[2] / "infra" / "profiles"
BUCKET = "archive"


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET,
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=True,
        )
        info = {
            "region": REGION,
            "stage": "prod",
            "credentials": {"aws_access_key_id": "k", "aws_secret_access_key": "s"},
            "resources": {"ArchiveBucket": BUCKET},
        }
        path = tmp_path / "stack.json"
        path.write_text(json.dumps(info))
        yield path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_set_stores_a_new_version_and_show_prints_its_mentions(stack: Path) -> None:
    done = run("seller", "set", str(PROFILES / "demo-seller.yaml"), "--stack", str(stack))
    assert done.exit_code == 0, done.output
    assert "seller profile version 1 set for stage prod: Atelier Quittance" in done.output
    assert "a prod stage refuses to issue" in done.output  # the demo company's SIREN
    logo = (PROFILES / "demo-logo.png").read_bytes()
    stored = boto3.client("s3", region_name=REGION).get_object(
        Bucket=BUCKET, Key=f"seller/logos/{hashlib.sha256(logo).hexdigest()}.png"
    )
    assert stored["Body"].read() == logo

    again = run("seller", "set", str(PROFILES / "micro-entrepreneur.yaml"), "--stack", str(stack))
    assert again.exit_code == 0, again.output
    assert "version 2" in again.output

    shown = run("seller", "show", "--json", "--stack", str(stack))
    assert shown.exit_code == 0, shown.output
    answer = json.loads(shown.output)
    assert answer["parameter"] == "/quittance/prod/seller-profile"
    assert answer["version"] == 2
    assert answer["legal_mentions"][-1] == "TVA non applicable, art. 293 B du CGI"


def test_a_bad_file_is_refused_line_by_line_and_nothing_changes(
    stack: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "seller.yaml"
    bad.write_text(
        (PROFILES / "micro-entrepreneur.yaml")
        .read_text()
        .replace('siret: "91234567500017"', 'siret: "91234567500018"')
        .replace("email: camille@ceramique.example", "email: camille")
        .replace('brand_colour: "#7a2e0e"', 'brand_colour: "#f0e68c"')
    )
    refused = run("seller", "set", str(bad), "--stack", str(stack))
    assert refused.exit_code == 2
    out = " ".join(refused.output.split())  # rich wraps long lines
    assert "not set, 3 problem(s)" in out
    assert "line 10: siret: not a valid SIRET" in out
    assert "line 16: email: not a valid email address: 'camille'" in out
    assert "line 18: brand_colour: brand colour #f0e68c has a contrast of" in out
    assert run("seller", "show", "--stack", str(stack)).exit_code == 1


def test_preview_writes_each_document_as_png(stack: Path, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    done = run("seller", "preview", str(PROFILES / "micro-entrepreneur.yaml"), "--out", str(out))
    assert done.exit_code == 0, done.output
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == [
        "email-confirmation-1.png",
        "en-b2b-transfer-1.png",
        "fr-b2c-card-1.png",
        "fr-credit-note-1.png",
        "receipt-page-1.png",
    ]
    page = PdfReader(out / "receipt-page.pdf").pages[0].extract_text()
    assert "293 B du CGI" in page
    email = PdfReader(out / "email-confirmation.pdf").pages[0].extract_text()
    assert "Camille Martin Céramique" in email
    assert all((out / name).read_bytes().startswith(b"\x89PNG") for name in pngs)
