"""Money in integer minor units with its ISO 4217 currency; never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from babel.numbers import format_currency, get_currency_precision, list_currencies
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_KNOWN_CURRENCIES = frozenset(list_currencies())


def _iso_currency(code: str) -> str:
    upper = code.upper()
    if upper not in _KNOWN_CURRENCIES:
        raise ValueError(f"unknown ISO 4217 currency {code!r}")
    return upper


Currency = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_iso_currency)]


class Money(BaseModel):
    """An amount in the currency's minor unit (cents for EUR, yen for JPY)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount_minor: int = Field(ge=0)
    currency: Currency

    @property
    def decimal(self) -> Decimal:
        exponent = get_currency_precision(self.currency)
        return Decimal(self.amount_minor).scaleb(-exponent)

    def format(self, locale: str) -> str:
        """Formatted for a reader: ``1 234,56 €`` in fr_FR, ``€1,234.56`` in en_GB."""
        return str(format_currency(self.decimal, self.currency, locale=locale))
