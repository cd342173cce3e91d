"""The import rule of docs/architecture.md, read from the real import graph (grimp): the
domain package depends on ports it owns, never on AWS; only ``quittance.aws`` (and the
handlers and the operator tools outside the package) touch boto3 and botocore; and no two
packages of ``quittance`` import each other, even through others."""

from __future__ import annotations

import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import grimp
import pytest

ADAPTERS = "quittance.aws"
AWS_SDK = ("boto3", "botocore")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("quittance", include_external_packages=True, cache_dir=None)


def _is_adapter(module: str) -> bool:
    return module == ADAPTERS or module.startswith(ADAPTERS + ".")


def _domain_modules(graph: grimp.ImportGraph) -> list[str]:
    return sorted(
        m
        for m in graph.modules
        if (m == "quittance" or m.startswith("quittance.")) and not _is_adapter(m)
    )


def test_the_domain_never_imports_the_adapters_or_the_aws_sdk(graph: grimp.ImportGraph) -> None:
    # Given every module of the domain package outside quittance.aws
    domain = _domain_modules(graph)
    assert "quittance.privacy.keyring" in domain and "quittance.archive.desk" in domain
    # When their direct imports are read (function-local and TYPE_CHECKING ones included)
    offending = [
        f"{module} -> {imported}"
        for module in domain
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if _is_adapter(imported) or imported.split(".")[0] in AWS_SDK
    ]
    # Then none reaches an adapter or boto3/botocore: the domain owns ports, quittance.aws
    # implements them, and the handlers wire the two.
    assert offending == [], "\n".join(offending)


def _package_of(module: str) -> str:
    """``quittance.archive.desk`` → ``quittance.archive``; a top-level module is its own."""
    return ".".join(module.split(".")[:2])


def test_no_two_packages_of_quittance_depend_on_each_other(graph: grimp.ImportGraph) -> None:
    # Given the imports between the packages (and top-level modules) of quittance
    depends: dict[str, set[str]] = {}
    for module in graph.modules:
        if not module.startswith("quittance."):
            continue
        package = _package_of(module)
        depends.setdefault(package, set())
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("quittance.") and _package_of(imported) != package:
                depends[package].add(_package_of(imported))
    assert {"quittance.aws", "quittance.privacy", "quittance.archive"} <= set(depends)
    # When they are put in dependency order
    try:
        order = list(TopologicalSorter(depends).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        pytest.fail(f"package cycle inside quittance: {cycle}")
    # Then there is one, and the adapters come after every domain package they serve
    assert order.index("quittance.aws") > order.index("quittance.privacy")
    assert order.index("quittance.aws") > order.index("quittance.archive")


def test_the_checks_read_real_imports(graph: grimp.ImportGraph) -> None:
    # The checks above would pass on an empty graph: these prove that they see real edges.
    assert "boto3" in graph.find_modules_directly_imported_by("quittance.aws.items")
    desk = graph.find_modules_directly_imported_by("quittance.archive.desk")
    assert "quittance.archive.ports" in desk


GATEWAY_SDKS = ("stripe", "gocardless_pro", "requests")
GATEWAY_CLIENTS_MODULE = "quittance.gateways.clients"


def test_only_the_gateway_clients_module_imports_the_gateway_sdks(
    graph: grimp.ImportGraph,
) -> None:
    # stripe and gocardless-pro ship in the lookup function's own package, not in the shared
    # layer (layers/quittance/export_requirements.py): any other module importing them, or
    # importing the clients module, would fail with ImportError in every other function on AWS.
    importers = sorted(
        f"{module} -> {imported}"
        for module in graph.modules
        if module.startswith("quittance")
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] in GATEWAY_SDKS or imported == GATEWAY_CLIENTS_MODULE
    )
    assert importers == sorted(
        f"{GATEWAY_CLIENTS_MODULE} -> {sdk}"
        for sdk in graph.find_modules_directly_imported_by(GATEWAY_CLIENTS_MODULE)
        if sdk.split(".")[0] in GATEWAY_SDKS
    )
    assert importers, "the graph sees no import of stripe at all: the check reads nothing"


def test_only_the_lookup_function_imports_the_gateway_clients() -> None:
    # The same rule for the handlers, which grimp does not see (they are not a package).
    functions = Path(__file__).resolve().parents[2] / "functions"
    pattern = re.compile(
        r"^\s*(from|import)\s+(stripe|gocardless_pro|requests|quittance\.gateways\.clients)\b",
        re.M,
    )
    importers = sorted(
        str(path.relative_to(functions))
        for path in functions.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    )
    assert importers == ["lookup/app.py"]
