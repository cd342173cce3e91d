"""IANA time zone names, as profiles, receipts and pages carry them."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def iana_timezone(name: str) -> str:
    """``name`` if zoneinfo knows it; ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. Europe/Paris)") from None
    return name


TimeZoneName = Annotated[str, AfterValidator(iana_timezone)]
