"""Which customers get a translated copy beside the French original."""

from __future__ import annotations

import pytest

from quittance.receipts.issuance import copy_language


@pytest.mark.parametrize(
    ("locale", "copy"),
    [
        ("fr", None),
        ("fr-FR", None),
        ("fr_CA", None),
        ("FR", None),
        ("en", "en"),
        ("en-GB", "en"),
        ("EN_us", "en"),
        ("de-DE", "en"),  # a language we do not render falls back to English
        ("es", "en"),
        ("", None),  # unknown: the original only
        (None, None),
        (42, None),
    ],
)
def test_non_french_readers_get_an_english_copy(locale: object, copy: str | None) -> None:
    assert copy_language(locale) == copy
