"""Message settings refuse at cold start what would otherwise fail every message later."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from quittance.settings import NotifySettings

BASE = {
    "LEDGER_TABLE": "ledger",
    "CUSTOMERS_TABLE": "customers",
    "IDEMPOTENCY_TABLE": "idempotency",
    "SENDER_EMAIL": "receipts@example.com",
    "SES_CONFIGURATION_SET": "quittance",
    "PUBLIC_BASE_URL": "https://pay.example.com",
    "LINK_KEYS_SECRET_NAME": "link-keys",
}


def test_a_full_marketing_and_payment_configuration_loads() -> None:
    settings = NotifySettings(
        **BASE,
        PAYMENT_UPDATE_URL_TEMPLATE="https://pay.example/update?invoice={invoice_number}",
        LOYALTY_PROMO_CODE="MERCI10",
        OFFER_TEXT_FR="Nouveau : l’abonnement annuel",
        OFFER_URL="https://shop.example/annual",
        SMS_SENDER_ID="Atelier",
    )
    assert settings.loyalty_promo_code == "MERCI10"
    assert settings.sms_sender_id == "Atelier"


@pytest.mark.parametrize(
    "bad",
    [
        {"PAYMENT_UPDATE_URL_TEMPLATE": "javascript:alert(1)"},
        {"REFUND_SURVEY_URL": "https://survey.example/a b"},
        {"OFFER_TEXT_EN": "New!\r\nBcc: victim@example.com"},
        {"LOYALTY_PROMO_CODE": "TEN OFF"},
        {"SMS_SENDER_ID": "AteliersQuittance"},  # SNS sender ids: 11 characters at most
        {"SMS_SENDER_ID": "12345"},  # and at least one letter
    ],
)
def test_unusable_values_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        NotifySettings(**BASE, **bad)
