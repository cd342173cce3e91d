"""Disposal of proofs past retention, with the caller's own credentials (no function of the
stack may delete a version), and the record of it in the audit trail, which must not be
lost even when the staff API does not take it at once."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from quittance_ops.desk import Desk


def dispose_versions(
    desk: Desk, items: list[dict[str, Any]], now: datetime
) -> tuple[list[dict[str, Any]], list[str]]:
    """Delete each version with the caller's own credentials, re-checked just before; S3's
    Object Lock refuses anything still held or retained whatever this code does."""
    done: list[dict[str, Any]] = []
    refused: list[str] = []
    for item in items:
        head = desk.s3.head_object(
            Bucket=desk.bucket, Key=item["key"], VersionId=item["version_id"]
        )
        retain = head.get("ObjectLockRetainUntilDate")
        if head.get("ObjectLockLegalHoldStatus") == "ON" or (retain and retain > now):
            refused.append(f"{item['key']}: held or retained since listed")
            continue
        try:
            desk.s3.delete_object(Bucket=desk.bucket, Key=item["key"], VersionId=item["version_id"])
        except ClientError as exc:
            refused.append(
                f"{item['key']}: S3 refused ({exc.response.get('Error', {}).get('Code')})"
            )
            continue
        done.append({k: item[k] for k in ("key", "version_id", "sha256_hex", "retain_until")})
    return done, refused


class DisposalNotRecorded(Exception):
    """Versions were removed but the staff API did not take the disposal record."""

    def __init__(self, saved: Path, why: str) -> None:
        super().__init__(f"{why}; the report is saved in {saved}")
        self.saved = saved
        self.why = why


def record_disposal(
    desk: Desk,
    report: dict[str, Any],
    *,
    save_to: Path,
    attempts: int = 3,
    pause: float = 1.0,
    path: str = "/admin/archive/disposals",
) -> dict[str, Any]:
    """POST the record of what was removed (to ``path``: proof versions, or with
    ``/admin/ledger/retirements`` ledger records), retrying; if the API never takes it, keep
    the report on disk (``save_to``) so that ``--record`` can record it later: what was
    removed is gone for good, the record of it must not be."""
    why = "no answer"
    for attempt in range(attempts):
        try:
            status, body = desk.api.call("POST", path, report)
        except OSError as exc:
            status, body = 0, str(exc)
        if status == 200 and isinstance(body, dict):
            return body
        why = f"HTTP {status}: {body.get('detail') if isinstance(body, dict) else body}"
        if 400 <= status < 500 and status not in {408, 429}:
            break  # refused as it is: retrying cannot help
        if attempt + 1 < attempts:
            time.sleep(pause * 2**attempt)
    save_to.write_text(json.dumps(report, indent=2) + "\n")
    raise DisposalNotRecorded(save_to, why)
