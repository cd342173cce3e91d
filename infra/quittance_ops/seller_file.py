"""A seller profile file (YAML) read for ``quittance seller set``: every problem is reported
with the line it is on, so the operator fixes the file in one pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from quittance.seller import SellerProfile, profile_problems

MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based; None when the file as a whole is at fault
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ProfileFileError(Exception):
    def __init__(self, path: Path, problems: Sequence[Problem]) -> None:
        super().__init__(f"{path}: {len(problems)} problem(s)")
        self.path = path
        self.problems = tuple(problems)


def _line_of(root: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The line of the deepest node the path reaches (its key's line for a mapping entry)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line  # a missing field: point at its parent
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_profile_file(path: Path) -> SellerProfile:
    """The profile the file describes, or :class:`ProfileFileError` listing each problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProfileFileError(path, [Problem(None, "", f"cannot read: {exc.strerror}")]) from exc
    if len(data) > MAX_FILE_BYTES:
        raise ProfileFileError(path, [Problem(None, "", f"larger than {MAX_FILE_BYTES} bytes")])
    text = data.decode("utf-8", errors="replace")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileFileError(path, [Problem(line, "", f"not valid YAML: {problem}")]) from exc
    if not isinstance(content, dict):
        raise ProfileFileError(path, [Problem(1, "", "expected a mapping of fields (key: value)")])
    try:
        return SellerProfile.model_validate(content)
    except ValidationError as exc:
        problems = [
            Problem(_line_of(root, loc), ".".join(str(part) for part in loc), message)
            for loc, message in profile_problems(exc)
        ]
        problems.sort(key=lambda p: (p.line or 0, p.field))
        raise ProfileFileError(path, problems) from exc
