"""The operator package ``quittance_ops`` has no import cycle: every import, at the top of a
module or inside a function, points one way, so each module can be read (and loaded) after
the ones it uses. Read with ``ast`` from the source, so an import hidden in a function counts
as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "infra"
PACKAGE = "quittance_ops"


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, wherever in the file."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                targets.add(submodule if submodule in known else node.module)
    return {t for t in targets if t in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, set(found)) - {name} for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_imports_made_inside_functions() -> None:
    # Given the package as it is: cli imports the demo lazily, inside the command
    edges = graph()
    # Then that edge is in the graph (a walk that missed it would miss hidden cycles)
    assert "quittance_ops.demo" in edges["quittance_ops.cli"]
    assert "quittance_ops.localstack.stack" in edges["quittance_ops.cli"]


def test_a_cycle_is_reported() -> None:
    # Given a three-module cycle, as archive_cli -> retire_cli -> archive_cli once was
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    # Then it is found, and the module outside it is not part of it
    assert cycles(edges) == [["a", "b", "c"]]


def test_quittance_ops_has_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_no_command_module_imports_the_cli_root() -> None:
    # The CLI root registers the commands; a command reaching back into it is how the old
    # seven-module cycle began (project_root and the logging set-up lived there).
    edges = graph()
    assert sorted(m for m, uses in edges.items() if "quittance_ops.cli" in uses) == [
        "quittance_ops.__main__"
    ]
