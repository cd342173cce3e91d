"""The seller's profile: who issues the documents, with every legal mention French law asks
for, the brand and the few choices the business makes about its messages.

One frozen pydantic model, validated with the libraries that know the formats
(python-stdnum for SIREN, SIRET, VAT, IBAN and BIC; phonenumbers; email-validator), so
that a profile that reached storage is always one a receipt can be issued under.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret
from stdnum.fr import tva as fr_tva

from quittance.seller.colour import DOCUMENT_BACKGROUND, WCAG_AA_TEXT, contrast_ratio

VAT_EXEMPT_MENTION = "TVA non applicable, art. 293 B du CGI"
"""The mention a business under the VAT franchise (franchise en base) must print."""

DEMO_SIRENS = frozenset({"732829320"})
"""The demo company's SIREN (Atelier Quittance SAS): never on a production document."""

_MAX_TEXT = 200


class LegalForm(StrEnum):
    """The legal forms quittance knows the mentions of."""

    EI = "EI"  # entrepreneur individuel, including micro-entrepreneurs
    EURL = "EURL"
    SARL = "SARL"
    SAS = "SAS"
    SASU = "SASU"
    SA = "SA"
    SNC = "SNC"
    SCI = "SCI"

    @property
    def has_share_capital(self) -> bool:
        """Companies print their share capital (Code de commerce R123-238); an EI has none."""
        return self is not LegalForm.EI


def _check(validate: object, label: str) -> AfterValidator:
    def check(value: str) -> str:
        try:
            return str(validate(value))  # type: ignore[operator]
        except StdnumValidationError as exc:
            raise ValueError(f"not a valid {label}: {value!r} ({exc})") from exc

    return AfterValidator(check)


def _fr_vat(value: str) -> str:
    try:
        # stdnum's compact form drops the country prefix, which the document prints.
        return "FR" + str(fr_tva.validate(value))
    except StdnumValidationError as exc:
        raise ValueError(
            f"not a valid French VAT number (FR + 2-digit key + SIREN): {value!r} ({exc})"
        ) from exc


def _email(value: str) -> str:
    try:
        # Deliverability (DNS) is not checked: profiles are validated offline, and the
        # reserved test domains (.example) of the demo stay valid.
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {value!r} ({exc})") from exc


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {value!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number: {value!r}")
    # International: the customer may be abroad, and the tel: link needs the country code.
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _colour(value: str) -> str:
    ratio = contrast_ratio(value, DOCUMENT_BACKGROUND)
    if ratio < WCAG_AA_TEXT:
        raise ValueError(
            f"brand colour {value} has a contrast of {ratio:.2f}:1 on the documents' white"
            f" background; WCAG AA needs {WCAG_AA_TEXT}:1 (choose a darker shade)"
        )
    return value.lower()


def _https(value: str) -> str:
    if not value.startswith("https://") or any(c.isspace() for c in value) or len(value) < 12:
        raise ValueError(f"must be an absolute https:// URL, got {value!r}")
    return value


Text = Annotated[str, Field(min_length=1, max_length=_MAX_TEXT, pattern=r"^[^\x00-\x1f\x7f]*$")]
Url = Annotated[str, Field(max_length=500), AfterValidator(_https)]


class Registry(BaseModel):
    """Where the business is registered: the RCS (traders, companies) or the RM (artisans),
    with the registry's city: "RCS Paris 732 829 320"."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: Literal["RCS", "RM"]
    city: Text


class VatRegistered(BaseModel):
    """Liable to VAT: the intra-community number is printed (CGI art. 242 nonies A)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    regime: Literal["vat"]
    number: Annotated[str, AfterValidator(_fr_vat)]

    @property
    def mention(self) -> str:
        return self.number


class VatFranchise(BaseModel):
    """Under the VAT franchise: no number, and the mention of article 293 B instead."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    regime: Literal["franchise"]

    @property
    def mention(self) -> str:
        return VAT_EXEMPT_MENTION


VatRegime = Annotated[VatRegistered | VatFranchise, Field(discriminator="regime")]


class Transfer(BaseModel):
    """The account customers pay into by bank transfer."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    iban: Annotated[str, _check(stdnum_iban.validate, "IBAN")]
    bic: Annotated[str, _check(stdnum_bic.validate, "BIC")]

    @property
    def iban_display(self) -> str:
        return str(stdnum_iban.format(self.iban))


class Logo(BaseModel):
    """The logo's bytes live in S3 under their SHA-256 (``seller/logos/<sha256>.<ext>``),
    never overwritten: a receipt that names this hash always finds the same image."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    media_type: Literal["image/png", "image/svg+xml"]


class RefundDelays(BaseModel):
    """Working days before a refund reaches the customer, per payment method, as printed in
    the refund message ("5 à 10 jours ouvrés")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    card: tuple[int, int] = (5, 10)
    sepa: tuple[int, int] = (1, 3)
    transfer: tuple[int, int] = (1, 3)

    @model_validator(mode="after")
    def _ordered(self) -> RefundDelays:
        for name in ("card", "sepa", "transfer"):
            low, high = getattr(self, name)
            if not 0 <= low <= high <= 60:  # two months is already unheard of
                raise ValueError(f"{name}: expected [min, max] working days, 0 ≤ min ≤ max ≤ 60")
        return self

    def for_method(self, kind: str) -> tuple[int, int] | None:
        """Working days for a refund paid back by ``kind`` (card, SEPA debit, transfer)."""
        # quittance.models.events.MethodKind values: a wallet pays back to its card.
        return {
            "card": self.card,
            "wallet": self.card,
            "sepa_debit": self.sepa,
            "sepa_transfer": self.transfer,
        }.get(kind)


class SellerProfile(BaseModel):
    """Everything a document says about the business that issues it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    legal_name: Text
    trade_name: Text | None = None
    legal_form: LegalForm
    share_capital: Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=2)] | None = None
    """In euros; required for a company, absent for an EI."""
    registry: Registry | None = None
    """RCS or RM and city; absent only for an EI not registered (e.g. a liberal profession)."""
    siren: Annotated[str, _check(fr_siren.validate, "SIREN (9 digits, Luhn key)")]
    siret: Annotated[str, _check(fr_siret.validate, "SIRET (14 digits, Luhn key)")]
    vat: VatRegime
    address: Annotated[str, Field(min_length=1, max_length=500)]
    """Postal address of the registered office, one line per line."""
    email: Annotated[str, Field(max_length=254), AfterValidator(_email)]
    phone: Annotated[str, Field(max_length=32), AfterValidator(_phone)]
    opening_hours: Text | None = None
    website: Url | None = None
    terms_url: Url | None = None
    """Conditions générales de vente."""
    transfer: Transfer | None = None
    logo: Logo | None = None
    brand_colour: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$"), AfterValidator(_colour)] = (
        "#1f4e79"
    )
    default_language: Literal["fr", "en"] = "fr"
    tone: Literal["formal", "warm"] = "warm"
    sms_sender: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,10}$")] | None = None
    """Alphanumeric SMS sender id (11 characters at most); the trade name's initials if none."""
    attach_pdf: bool = False
    """Attach the receipt PDF to the confirmation email unless the customer chose otherwise."""
    refund_delays: RefundDelays = RefundDelays()

    @model_validator(mode="after")
    def _consistent(self) -> SellerProfile:
        # Every rule across fields is checked and each problem is reported at its own field,
        # so that `quittance seller set` lists them all at once, each on its line of the file.
        problems: list[tuple[tuple[str, ...], str]] = []
        if not self.siret.startswith(self.siren):
            problems.append(
                (("siret",), f"{self.siret} is not an establishment of siren {self.siren}")
            )
        if isinstance(self.vat, VatRegistered) and self.vat.number[4:] != self.siren:
            problems.append(
                (("vat", "number"), f"{self.vat.number} is not the number of siren {self.siren}")
            )
        if self.legal_form.has_share_capital and self.share_capital is None:
            problems.append((("share_capital",), f"missing, a {self.legal_form.value} states it"))
        if not self.legal_form.has_share_capital and self.share_capital is not None:
            problems.append((("share_capital",), "an EI has none, remove it"))
        if self.legal_form.has_share_capital and self.registry is None:
            problems.append(
                (("registry",), f"missing, a {self.legal_form.value} gives its RCS and city")
            )
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("inconsistent_profile", message),
                        loc=loc,
                        input=None,
                    )
                    for loc, message in problems
                ],
            )
        return self

    @property
    def display_name(self) -> str:
        """The name customers know: the trade name if any, else the legal name."""
        return self.trade_name or self.legal_name

    @property
    def is_demo(self) -> bool:
        return self.siren in DEMO_SIRENS

    def legal_mentions(self, language: Literal["fr", "en"]) -> tuple[str, ...]:
        """The identification every document prints, in order, and only what applies: a
        company's form, capital and registry; an EI's "EI"; the VAT number or art. 293 B."""
        fr = language == "fr"
        name = self.legal_name
        if self.legal_form is LegalForm.EI and "EI" not in name.split():
            # Since 15 May 2022 an individual entrepreneur's name carries "EI" (C. com. R526-26).
            name = f"{name} EI"
        parts = [name]
        if self.legal_form.has_share_capital and self.share_capital is not None:
            capital = _euros(self.share_capital, fr)
            label = "au capital de" if fr else "with a share capital of"
            parts.append(f"{self.legal_form.value} {label} {capital}")
        siren = str(fr_siren.format(self.siren))
        if self.registry is not None:
            parts.append(f"{self.registry.kind} {self.registry.city} {siren}")
        else:
            parts.append(f"SIREN {siren}")
        parts.append(f"SIRET {fr_siret.format(self.siret)}")
        if isinstance(self.vat, VatRegistered):
            label = "TVA intracommunautaire" if fr else "VAT no."
            parts.append(f"{label} {self.vat.number}")
        else:
            # The mention is the law's wording: printed in French on every copy.
            parts.append(VAT_EXEMPT_MENTION)
        return tuple(parts)


def _euros(amount: Decimal, fr: bool) -> str:
    whole = amount == amount.to_integral_value()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    if fr:
        text = text.replace(",", "\u202f").replace(".", ",")
        return f"{text}\u00a0€"
    return f"€{text}"
