"""Legal holds and the end of retention against moto's Object Lock: a held version cannot be
deleted even after its retain-until date, and dispose never removes a held or unexpired
proof; what it removes is recorded (what, hashes, who) in the audit trail."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from quittance_ops.desk import Desk
from quittance_ops.disposal import DisposalNotRecorded, dispose_versions, record_disposal

from .compliance_world import STAFF, InProcessApi, admin, pay
from .conftest import REGION, MotoStack

SHORT = 3  # seconds of retention of the translation planted by the test


def _translation(moto_stack: MotoStack, number: str) -> tuple[str, str, str]:
    """A short-retention GOVERNANCE version beside the original, as a dev-stage bucket has."""
    s3 = boto3.client("s3", region_name=REGION)
    # Beside the original, wherever the day the receipt was issued put it.
    original = admin(moto_stack, "GET", f"/admin/receipts/{number}")[1]["archive"]["key"]
    key = original.removesuffix(".pdf") + ".en.pdf"
    body = b"%PDF-1.7 translation"
    response = s3.put_object(
        Bucket=moto_stack.resource("ArchiveBucket"),
        Key=key,
        Body=body,
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(seconds=SHORT),
        ChecksumAlgorithm="SHA256",
    )
    return key, str(response["VersionId"]), hashlib.sha256(body).hexdigest()


def test_hold_blocks_deletion_after_retain_until_and_dispose_spares_held_and_unexpired(
    moto_stack: MotoStack,
) -> None:
    pay(moto_stack, "F-2026-0100", "pi_hold")
    _, found = admin(moto_stack, "GET", "/admin/receipts", query={"invoice": "F-2026-0100"})
    number = found["items"][0]["receipt_number"]
    key, version, digest = _translation(moto_stack, number)
    status, held = admin(
        moto_stack, "PUT", f"/admin/receipts/{number}/legal-hold",
        body={"reason": "chargeback", "case": "CB-1"},
    )  # fmt: skip
    assert status == 200 and len(held["versions"]) == 2  # original and translation
    time.sleep(SHORT + 1)
    s3 = boto3.client("s3", region_name=REGION)
    bucket = moto_stack.resource("ArchiveBucket")
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    desk = Desk(InProcessApi(moto_stack), bucket, s3)
    before = (datetime.now(UTC) + timedelta(days=3650 * 2)).date().isoformat()
    expiring = desk.get("/admin/archive/expiring", {"before": before})
    assert expiring["items"] == []  # held: nothing is a candidate, retention over or not

    admin(
        moto_stack, "DELETE", f"/admin/receipts/{number}/legal-hold",
        body={"reason": "dispute closed", "case": "CB-1"},
    )  # fmt: skip
    now = datetime.now(UTC)
    expiring = desk.get("/admin/archive/expiring", {"before": now.isoformat()})
    assert [(i["key"], i["version_id"]) for i in expiring["items"]] == [(key, version)]
    # Even a candidate list that wrongly names the locked original is refused version by version.
    original = admin(moto_stack, "GET", f"/admin/receipts/{number}")[1]["archive"]
    listed = [*expiring["items"], {**original, "retain_until": original["retain_until"]}]
    done, skipped = dispose_versions(desk, listed, now)
    assert [d["key"] for d in done] == [key]
    assert len(skipped) == 1 and original["key"] in skipped[0]
    status, record = desk.api.call(
        "POST", "/admin/archive/disposals", {"reason": "end of retention", "items": done}
    )
    assert status == 200, record
    s3.head_object(Bucket=bucket, Key=original["key"], VersionId=original["version_id"])
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key=key, VersionId=version)
    _, log = admin(moto_stack, "GET", "/admin/audit", query={"action": "archive.dispose"})
    (entry,) = log["items"]
    assert entry["actor"] == STAFF
    assert entry["details"]["disposed"][0]["sha256_hex"] == digest


def test_a_disposal_record_for_a_version_still_there_is_refused(moto_stack: MotoStack) -> None:
    pay(moto_stack, "F-2026-0101", "pi_keep")
    _, found = admin(moto_stack, "GET", "/admin/receipts", query={"invoice": "F-2026-0101"})
    archive = admin(moto_stack, "GET", f"/admin/receipts/{found['items'][0]['receipt_number']}")[1][
        "archive"
    ]
    item = {k: archive[k] for k in ("key", "version_id", "sha256_hex", "retain_until")}
    status, body = admin(
        moto_stack, "POST", "/admin/archive/disposals", body={"reason": "wrong", "items": [item]}
    )
    assert status == 422 and body["error"] == "still_archived"


class Unreachable503:
    """The staff API answering 503 to the disposal record (a throttled or failing gateway),
    and everything else as usual."""

    def __init__(self, api: InProcessApi) -> None:
        self.api = api
        self.refused = 0

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if path == "/admin/archive/disposals":
            self.refused += 1
            return 503, {"message": "Service Unavailable"}
        return self.api.call(method, path, body)


def test_a_disposal_whose_record_fails_is_saved_and_recorded_later(
    moto_stack: MotoStack, tmp_path: Path
) -> None:
    # Given a version past its retention, removed by staff
    pay(moto_stack, "F-2026-0102", "pi_gone")
    _, found = admin(moto_stack, "GET", "/admin/receipts", query={"invoice": "F-2026-0102"})
    key, version, digest = _translation(moto_stack, found["items"][0]["receipt_number"])
    time.sleep(SHORT + 1)
    s3 = boto3.client("s3", region_name=REGION)
    bucket = moto_stack.resource("ArchiveBucket")
    failing = Unreachable503(InProcessApi(moto_stack))
    desk = Desk(failing, bucket, s3)
    now = datetime.now(UTC)
    listed = desk.get("/admin/archive/expiring", {"before": now.isoformat()})["items"]
    done, _ = dispose_versions(desk, listed, now)
    assert [d["version_id"] for d in done] == [version]

    # When the API does not take the record, three times over
    saved = tmp_path / "disposal.json"
    with pytest.raises(DisposalNotRecorded) as missed:
        record_disposal(desk, {"reason": "end of retention", "items": done}, save_to=saved,
                        pause=0)  # fmt: skip

    # Then the report of what is gone is on disk, and the trail has no disposal yet
    assert failing.refused == 3 and missed.value.saved == saved
    assert json.loads(saved.read_text())["items"][0]["sha256_hex"] == digest
    _, log = admin(moto_stack, "GET", "/admin/audit", query={"action": "archive.dispose"})
    assert log["items"] == []

    # When it is recorded later from that file
    recorded = record_disposal(
        Desk(InProcessApi(moto_stack), bucket, s3), json.loads(saved.read_text()),
        save_to=tmp_path / "again.json",
    )  # fmt: skip

    # Then the trail names the removed version with its hash
    _, log = admin(moto_stack, "GET", "/admin/audit", query={"action": "archive.dispose"})
    (entry,) = log["items"]
    assert entry["details"]["disposed"][0]["sha256_hex"] == digest
    assert recorded["disposed"][0]["key"] == key
