"""Publishing a seller profile to a stage: the logo into the archive bucket under its hash,
then the profile as a new version of the stage's SSM parameter. ``quittance seller set``,
the demo and the local stack all go through here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quittance.aws.seller_logos import SellerLogos
from quittance.aws.seller_parameter import SellerProfileParameter
from quittance_ops.seller_file import ProfileFile, read_profile_file

DEMO_PROFILE = Path(__file__).resolve().parents[1] / "profiles" / "demo-seller.yaml"


def parameter_name(stage: str) -> str:
    """As template.yaml names it for the functions (SELLER_PROFILE_PARAMETER)."""
    return f"/quittance/{stage}/seller-profile"


def demo_profile() -> ProfileFile:
    return read_profile_file(DEMO_PROFILE)


def publish(
    read: ProfileFile,
    *,
    ssm: Any,
    s3: Any,
    stage: str,
    archive_bucket: str,
    kms_key_id: str | None = None,
) -> int:
    """Store the profile (logo first, so no version ever names a missing image); its new
    version number."""
    if read.logo is not None and read.profile.logo is not None:
        SellerLogos(archive_bucket, s3, kms_key_id).put(read.logo, read.profile.logo.media_type)
    store = SellerProfileParameter(parameter_name(stage), ssm, max_age=0)
    return store.put(read.profile.model_dump_json(exclude_none=True))
