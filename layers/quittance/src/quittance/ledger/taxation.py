"""What France's B2C e-reporting asks of each payment and refund, fixed when the document is
issued: the nature of the operation and, per VAT rate, the taxable base and the VAT that the
amount collected carries.

Kept on the receipt or credit note itself, so that registering the invoice again later (new
lines, other rates) never changes what was declared for money already collected. A refund
carries the rates of the payment it returns, in proportion.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from quittance.models.money import Currency, Money

Nature = Literal["goods", "services", "mixed"]


class VatShare(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: Decimal
    """Percent: 20, 10, 5.5, 2.1 in France."""
    taxable_base_minor: int
    vat_minor: int


class Taxation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    nature: Nature
    currency: Currency
    shares: tuple[VatShare, ...]
    """Per rate, ascending; base plus VAT of every share add up to the amount, to the cent
    rounding of each share."""

    @property
    def taxable_base(self) -> Money:
        return Money(
            amount_minor=sum(s.taxable_base_minor for s in self.shares), currency=self.currency
        )

    @property
    def vat(self) -> Money:
        return Money(amount_minor=sum(s.vat_minor for s in self.shares), currency=self.currency)


def _share(part: int, whole: int, value: int) -> int:
    return int((Decimal(value) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def part_of(whole: Taxation, part: Money, total: Money) -> Taxation | None:
    """The taxation ``part`` carries out of ``total`` declared as ``whole``: a payment out of
    the invoice's amount due, or a refund out of the payment it returns. None when ``part`` is
    in another currency (that money is returned, not collected)."""
    if part.currency != whole.currency or total.currency != whole.currency:
        return None
    if total.amount_minor == 0:
        return None
    of, out_of = part.amount_minor, total.amount_minor
    return Taxation(
        nature=whole.nature,
        currency=whole.currency,
        shares=tuple(
            VatShare(
                rate=s.rate,
                taxable_base_minor=_share(of, out_of, s.taxable_base_minor),
                vat_minor=_share(of, out_of, s.vat_minor),
            )
            for s in whole.shares
        ),
    )
