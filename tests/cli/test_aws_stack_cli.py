"""``--aws-stack NAME``: the CLI finds a deployed stack's staff API from its CloudFormation
outputs (moto here) and signs each call with the caller's own AWS credentials (SigV4, session
token included; moto swaps in its own key pair while it runs). The HTTPS call itself is
caught before it leaves the machine."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from quittance_ops.cli import app

REGION = "eu-west-3"
API = "https://abc123.execute-api.eu-west-3.amazonaws.com"
CSV = b"collection_date,document\n2026-11-23,R-2026-000001\n"
LINK = "https://exports.s3.eu-west-3.amazonaws.com/exports/books/x.csv?X-Amz-Expires=900"
TEMPLATE = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "ApiUrl": {"Value": API},
        "ArchiveBucketName": {"Value": "quittance-archive-123"},
        "LedgerTableName": {"Value": "quittance-ledger-123"},
    },
}


class Answer(io.BytesIO):
    status = 200

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "staff-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "staff-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "staff-session-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    sent: list[Any] = []

    def urlopen(request: Any, timeout: float) -> Answer:
        url = request if isinstance(request, str) else request.full_url
        if url == LINK:  # the presigned link: the CSV itself, unsigned by us
            return Answer(CSV)
        sent.append(request)
        answer = {
            "rows": 1, "size": len(CSV), "sha256": hashlib.sha256(CSV).hexdigest(),
            "download_url": LINK, "expires_in": 900,
        }  # fmt: skip
        return Answer(json.dumps(answer).encode())

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="quittance-prod", TemplateBody=json.dumps(TEMPLATE)
        )
        yield sent


def test_the_export_reaches_a_deployed_stack_signed_with_the_callers_credentials(
    deployed: list[Any], tmp_path: Path
) -> None:
    out = tmp_path / "books.csv"
    result = CliRunner().invoke(
        app,
        ["ledger", "export", "--from", "2026-11-01", "--to", "2026-11-30",
         "--aws-stack", "quittance-prod", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == CSV
    assert "1 rows written" in result.output
    [request] = deployed
    assert request.full_url == f"{API}/admin/exports?from=2026-11-01&to=2026-11-30&format=csv"
    headers = {k.lower(): v for k, v in request.header_items()}
    caller = boto3.session.Session().get_credentials().get_frozen_credentials()
    assert headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={caller.access_key}/")
    assert f"/{REGION}/execute-api/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"] == caller.token == "staff-session-token"


def test_an_unknown_stack_is_named_and_nothing_is_written(
    deployed: list[Any], tmp_path: Path
) -> None:
    out = tmp_path / "books.csv"
    result = CliRunner().invoke(
        app,
        ["ledger", "export", "--from", "2026-11-01", "--to", "2026-11-30",
         "--aws-stack", "no-such-stack", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code != 0
    assert not out.exists() and deployed == []
