"""A profile as stored (with the version storage gave it) and the rule that no document is
issued in production without a real one."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from quittance.seller.profile import SellerProfile

PRODUCTION_STAGE = "prod"


class PublishedProfile(BaseModel):
    """The profile a stage issues documents under, and its storage version (SSM's parameter
    version), which every receipt records so it is never re-rendered with a later one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    profile: SellerProfile


class SellerProfiles(Protocol):
    """Where the stage's profile is kept (quittance.aws.seller_parameter)."""

    def current(self) -> PublishedProfile | None:
        """The latest version, through a short cache; None if none was ever set."""
        ...

    def at_version(self, version: int) -> PublishedProfile:
        """A given version, as it was: what an earlier receipt was issued under."""
        ...


class SellerProfileRefused(Exception):
    """No document may be issued under this stage's profile (the job waits to be redriven)."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"stage {stage}: {reason}")
        self.stage = stage
        self.reason = reason


def issuable(stage: str, published: PublishedProfile | None) -> PublishedProfile:
    """The profile documents are issued under, or :class:`SellerProfileRefused`: production
    never issues without a profile, nor in the demo company's name."""
    if published is None:
        raise SellerProfileRefused(
            stage, "no seller profile is set (quittance seller set FILE.yaml)"
        )
    if stage == PRODUCTION_STAGE and published.profile.is_demo:
        raise SellerProfileRefused(
            stage,
            f"the seller profile (version {published.version}) is the demo company's"
            f" (SIREN {published.profile.siren}); set your own with quittance seller set",
        )
    return published


def profile_problems(error: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    """Each problem of a refused profile as (field path, message), in document order, for
    ``quittance seller set`` to point at the line of the file."""
    problems = []
    for item in error.errors():
        # Discriminated unions add the chosen tag to the path ("vat", "vat", "number"):
        # the file has no such level.
        loc = tuple(
            part
            for index, part in enumerate(item["loc"])
            if not (index > 0 and part in ("vat", "franchise") and item["loc"][index - 1] == "vat")
        )
        message = str(item["msg"]).removeprefix("Value error, ")
        if not loc:
            # A rule across fields names the field to fix first: "siret: ...".
            field, sep, rest = message.partition(": ")
            if sep and field.replace(".", "").replace("_", "").isalpha():
                loc, message = tuple(field.split(".")), rest
        problems.append((loc, message))
    return problems
