"""camt.053.001.08 statements written from the ISO 20022 schema, for tests, the demo and the
bench (never read by the service: it reads what banks send)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
ACCOUNT_IBAN = "FR7630006000011234567890189"


@dataclass(frozen=True)
class Transfer:
    """One entry as a French bank books it."""

    reference: str
    amount: Decimal
    credit: bool = True
    payer: str | None = "Camille Martin"
    payer_iban: str | None = "FR7610107001011234567890129"
    structured: str | None = None
    unstructured: tuple[str, ...] = ()
    booked: date = date(2026, 12, 3)
    end_to_end: str = "NOTPROVIDED"
    batch: tuple[Transfer, ...] = field(default=())


def statement_xml(
    transfers: list[Transfer],
    *,
    message_id: str = "STMT-2026-12-03",
    statement_id: str = "FR76-2026-337",
) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{escape(message_id)}</MsgId>"
        "<CreDtTm>2026-12-04T06:00:00+01:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{escape(statement_id)}</Id><CreDtTm>2026-12-04T06:00:00+01:00</CreDtTm>"
        f"<Acct><Id><IBAN>{ACCOUNT_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + "".join(_entry(t) for t in transfers)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _entry(t: Transfer) -> str:
    details = t.batch or (t,)
    return (
        f'<Ntry><NtryRef>{escape(t.reference)}</NtryRef><Amt Ccy="EUR">{t.amount:.2f}</Amt>'
        f"<CdtDbtInd>{'CRDT' if t.credit else 'DBIT'}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
        f"<BookgDt><Dt>{t.booked.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{t.booked.isoformat()}</Dt></ValDt>"
        f"<AcctSvcrRef>{escape(t.reference)}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        "</Domn></BkTxCd><NtryDtls>"
        + "".join(_details(d, t.credit, len(details) > 1) for d in details)
        + "</NtryDtls></Ntry>"
    )


def _details(t: Transfer, credit: bool, batch: bool) -> str:
    party, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    parts = [
        "<TxDtls><Refs>",
        f"<AcctSvcrRef>{escape(t.reference)}</AcctSvcrRef>" if batch else "",
        f"<EndToEndId>{escape(t.end_to_end)}</EndToEndId></Refs>",
        f'<Amt Ccy="EUR">{t.amount:.2f}</Amt>' if batch else "",
        "<RltdPties>",
        f"<{party}><Pty><Nm>{escape(t.payer)}</Nm></Pty></{party}>" if t.payer else "",
        f"<{account}><Id><IBAN>{t.payer_iban}</IBAN></Id></{account}>" if t.payer_iban else "",
        "</RltdPties>",
    ]
    if t.structured or t.unstructured:
        parts.append("<RmtInf>")
        parts += [f"<Ustrd>{escape(line)}</Ustrd>" for line in t.unstructured]
        if t.structured:
            parts.append(
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                f"<Ref>{escape(t.structured)}</Ref></CdtrRefInf></Strd>"
            )
        parts.append("</RmtInf>")
    parts.append("</TxDtls>")
    return "".join(parts)
