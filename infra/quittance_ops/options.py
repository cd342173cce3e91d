"""The options every staff command shares, with one meaning each:

- ``--stack PATH``: the ``stack.json`` of a local stack (default ``out/local/stack.json``);
- ``--aws-stack NAME``: a deployed CloudFormation stack, reached with the caller's own AWS
  credentials;
- ``--json``: the answer as JSON on stdout, nothing else;
- ``--yes``: an irreversible command does not ask (scripts), it never acts unasked otherwise;
- ``--out``: always a *file* path for a command that writes one file, and a *folder* only
  for a command that writes several (``archive export``)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

StackOpt = Annotated[
    Path | None, typer.Option(help="stack.json of a local stack (default out/local)")
]
AwsOpt = Annotated[str | None, typer.Option("--aws-stack", help="CloudFormation stack name on AWS")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
YesOpt = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")]

Options = TypeVar("Options")


def takes(options: type[Options]) -> Callable[[Callable[[Options], None]], Callable[..., None]]:
    """A command whose many options are one parameter object: the fields of the dataclass
    ``options`` (each annotated as a typer option) become the command's options, and the
    body receives one ``options`` instance. typer reads a command's signature, which is built
    here from the fields."""
    hints = typing.get_type_hints(options, include_extras=True)
    parameters = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=field.default,
            annotation=hints[field.name],
        )
        for field in dataclasses.fields(options)  # type: ignore[arg-type]
    ]

    def wrap(body: Callable[[Options], None]) -> Callable[..., None]:
        @functools.wraps(body)
        def command(**given: Any) -> None:
            body(options(**given))

        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
        return command

    return wrap


def emit(as_json: bool, value: Any) -> bool:
    """Print ``value`` as JSON when asked; True when it was (the caller prints nothing else)."""
    if as_json:
        print(json.dumps(value, indent=2, ensure_ascii=False, default=str))
    return as_json


def confirm_or_stop(*, what: str | Callable[[], str], yes: bool, as_json: bool) -> None:
    """The one rule for irreversible commands: say what will happen and ask; ``--yes`` skips
    the question; ``--json`` (a script, nobody to ask) without ``--yes`` acts on nothing.
    ``what`` may be a function: the question is then built (looked up) only when asked."""
    if yes:
        return
    if as_json:
        raise typer.BadParameter("--json does not ask: add --yes to confirm")
    if not typer.confirm(what if isinstance(what, str) else what()):
        raise typer.Exit(code=1)


def out_file(out: Path | None, default_name: str) -> Path:
    """Where a command that writes one file writes it: ``--out FILE``; an existing folder
    (or no ``--out``: the current folder) gets ``default_name`` inside it."""
    if out is None:
        return Path(default_name)
    return out / default_name if out.is_dir() else out
