"""quittance.aws.clients: every client shares the parsed service models, keeps its own session."""

from __future__ import annotations

import pytest

from quittance.aws import clients


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def test_clients_share_one_loader_of_service_models() -> None:
    first = clients.make_client("dynamodb", "eu-west-3")
    second = clients.make_client("dynamodb", "eu-west-3")
    # The JSON models are parsed once per process, not once per client (cold starts).
    assert first._loader is second._loader is clients._LOADER
    assert first.meta.service_model is not None
    assert first.meta.region_name == "eu-west-3"
    assert first.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}


def test_the_shared_loader_search_path_does_not_grow_with_each_client() -> None:
    clients.make_client("sqs", "eu-west-3")
    paths = list(clients._LOADER.search_paths)
    for _ in range(5):
        clients.make_client("sqs", "eu-west-3")
    assert clients._LOADER.search_paths == paths
    assert len(set(paths)) == len(paths)
