"""The seller's identity on every document: one validated, versioned profile per stage."""

from quittance.seller.profile import (
    DEMO_SIRENS,
    VAT_EXEMPT_MENTION,
    LegalForm,
    SellerProfile,
)
from quittance.seller.published import (
    PublishedProfile,
    SellerProfileRefused,
    issuable,
    profile_problems,
)

__all__ = [
    "DEMO_SIRENS",
    "VAT_EXEMPT_MENTION",
    "LegalForm",
    "PublishedProfile",
    "SellerProfile",
    "SellerProfileRefused",
    "issuable",
    "profile_problems",
]
