"""How a payment reads in a customer message: the method's label and its proof fields, as
rows of (label, value) that every composer shows among the message's facts."""

from __future__ import annotations

from quittance.models.events import PaymentMethod
from quittance.notifications.email_kit import TEXTS, Language, single_line
from quittance.notifications.method_label import method_label


def method_rows(method: PaymentMethod, lang: Language) -> list[tuple[str, str]]:
    """The method as the customer knows it ("Visa •••• 4242", "virement SEPA"). Values
    come from gateways: made single-line here, escaped by the HTML template."""
    return [(TEXTS[lang]["method"], single_line(method_label(method, lang)))]
