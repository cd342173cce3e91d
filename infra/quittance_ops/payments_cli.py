"""``quittance payments record``: a cheque or cash payment staff took by hand, through the
audited staff API (POST /admin/payments)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from quittance_ops.desk import connect
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, emit

payments_app = typer.Typer(
    no_args_is_help=True, help="Payments off the gateways: cheques and cash recorded by staff."
)


class Method(StrEnum):
    CHEQUE = "cheque"
    CASH = "cash"


@payments_app.command("record")
def record(  # noqa: PLR0917 - one option per proof field the guide asks for
    invoice: Annotated[str, typer.Option(help="The registered invoice (F-…)")],
    method: Annotated[Method, typer.Option(help="cheque or cash")],
    amount: Annotated[Decimal, typer.Option(help="In euros, e.g. 120.00")],
    received_on: Annotated[str, typer.Option(help="Date received, YYYY-MM-DD")],
    cheque_number: Annotated[str | None, typer.Option(help="Cheque: its number")] = None,
    bank: Annotated[str | None, typer.Option(help="Cheque: the bank it is drawn on")] = None,
    cashed_on: Annotated[str | None, typer.Option(help="Cheque: date paid in")] = None,
    received_by: Annotated[str | None, typer.Option(help="Cash: who received it")] = None,
    abroad: Annotated[
        bool, typer.Option(help="Cash: payer domiciled abroad (L112-6 ceiling 15,000 €)")
    ] = False,
    business: Annotated[bool, typer.Option(help="Cash: payer acts for business")] = False,
    exception: Annotated[
        str | None,
        typer.Option(
            help="Cash above the ceiling: no_other_means|private_persons|public_expenditure"
        ),
    ] = None,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a cheque or cash payment: it settles the invoice like a gateway's payment."""
    body: dict[str, Any] = {
        "invoice": invoice,
        "method": method.value,
        "amount": str(amount),
        "received_on": received_on,
        "cheque_number": cheque_number,
        "bank": bank,
        "cashed_on": cashed_on,
        "received_by": received_by,
        "payer_domiciled_in_france": not abroad,
        "payer_acting_for_business": business,
        "exception": exception,
    }
    answer = connect(stack, aws_stack).send(
        "POST", "/admin/payments", {k: v for k, v in body.items() if v is not None}
    )
    if not emit(as_json, answer):
        again = " (already recorded)" if answer["duplicate"] else ""
        Console().print(
            f"{method.value} {amount} € on {answer['invoice']}: payment {answer['payment_id']}"
            f"{again} (audit #{answer['audit_seq']})"
        )
