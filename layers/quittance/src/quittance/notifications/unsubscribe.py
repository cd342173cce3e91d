"""One-click unsubscribe links (RFC 8058): ``<base>/u/<signed token>``.

The token is a link token (``links/tokens.py``, same keys, same rotation) whose claim is
``U:`` and the pseudonymous customer id, never an address: the URL sits in mail headers,
and whoever holds it can only withdraw that customer's marketing consent. The prefix keeps
the two kinds of link apart: a receipt token is not an unsubscribe token, and back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from quittance.errors import LinkInvalid
from quittance.links.tokens import LinkSigner
from quittance.notifications.email_kit import Language, language_of, template_environment

_PREFIX = "U:"


def unsubscribe_url(base_url: str, signer: LinkSigner, customer_id: str, expires: datetime) -> str:
    return f"{base_url.rstrip('/')}/u/{signer.issue(_PREFIX + customer_id, expires)}"


def customer_of(signer: LinkSigner, token: str, now: datetime) -> str:
    """The customer an unsubscribe token names; LinkInvalid / LinkExpired otherwise."""
    claims = signer.verify(token, now)
    if not claims.receipt_number.startswith(_PREFIX) or len(claims.receipt_number) == 2:
        raise LinkInvalid("link token is not valid")
    return claims.receipt_number[len(_PREFIX) :]


class ConsentRecords(Protocol):
    def record_marketing_consent(
        self, customer_id: str, granted: bool, at: datetime, source: str
    ) -> bool: ...


ONE_CLICK_SOURCE = "one_click"

_TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "title": "Se désabonner des offres",
        "body": (
            "Vous ne recevrez plus nos offres ni nos codes de réduction. Vos reçus et les "
            "messages sur vos paiements continueront de vous parvenir."
        ),
        "button": "Confirmer le désabonnement",
        "done_title": "C’est fait",
        "done_body": (
            "Vous ne recevrez plus d’offres de notre part. Les messages sur vos paiements "
            "et vos reçus continuent de vous parvenir."
        ),
    },
    "en": {
        "title": "Unsubscribe from offers",
        "body": (
            "You will no longer receive our offers or discount codes. Your receipts and "
            "messages about your payments will still reach you."
        ),
        "button": "Confirm unsubscribe",
        "done_title": "Done",
        "done_body": (
            "You will no longer receive offers from us. Messages about your payments and "
            "your receipts still reach you."
        ),
    },
}


def withdraw_marketing_consent(
    signer: LinkSigner, token: str, consents: ConsentRecords, now: datetime
) -> None:
    """The one-click withdrawal: recorded with its time and source "one_click".

    Raises LinkInvalid / LinkExpired for a token that is not ours. An unknown or erased
    customer is answered like any other: the outcome (no marketing) is the same, and the
    answer must not tell whether a profile exists.
    """
    customer_id = customer_of(signer, token, now)
    consents.record_marketing_consent(customer_id, False, now, ONE_CLICK_SOURCE)


def render_unsubscribe_page(
    locale: str, action: str, *, done: bool, seller_name: str | None = None
) -> str:
    """``seller_name``: whose offers these are (the seller profile's name), shown on top."""
    lang = language_of(locale)
    return (
        template_environment()
        .get_template("unsubscribe.html.j2")
        .render(lang=lang, t=_TEXTS[lang], action=action, done=done, seller_name=seller_name)
    )
