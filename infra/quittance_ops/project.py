"""Where the checkout and the local stack are, and the CLI's logging: the few things every
command needs, kept apart from ``cli`` so that no command module imports the CLI root."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import typer


def project_root() -> Path:
    """The checkout holding template.yaml: the current folder or one of its parents."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file() and (folder / "functions").is_dir():
            return folder
    raise typer.BadParameter("run this inside a quittance checkout (no template.yaml found)")


def local_stack_json(stack: Path | None = None) -> Path:
    """``stack`` (a local stack's stack.json), else ``out/local/stack.json`` of the checkout;
    a clear error when it is not there."""
    path = stack or project_root() / "out" / "local" / "stack.json"
    if not path.is_file():
        raise typer.BadParameter(f"{path} not found: start the local stack (quittance local up)")
    return path


def quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Handlers run in-process here; a function that published no metric is not news.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
