"""Two requests served at once by two execution environments of the local stack (threads of
one process) each see their own event, as on Lambda where each has its own process."""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from quittance_ops.localstack.event_handler_threads import isolate_per_thread


def _event(path: str, body: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /echo/{name}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": path, "sourceIp": "127.0.0.1"},
            "stage": "$default",
            "requestId": body,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _environment(both_inside: threading.Barrier) -> APIGatewayHttpResolver:
    """One environment's app: a route on the app and one on an included router, each
    reading the current event after the other request has been resolved too."""
    app = APIGatewayHttpResolver()
    router = Router()

    @app.post("/echo/<name>")
    def echo(name: str) -> dict[str, str]:
        both_inside.wait(timeout=5)
        return {"name": name, "body": app.current_event.body or ""}

    @router.post("/routed/<name>")
    def routed(name: str) -> dict[str, str]:
        both_inside.wait(timeout=5)
        return {"name": name, "body": router.current_event.body or ""}

    app.include_router(router)
    return app


def _serve_two_at_once(prefix: str) -> list[str]:
    both_inside = threading.Barrier(2)
    apps = [_environment(both_inside), _environment(both_inside)]
    answers: list[str] = ["", ""]

    def serve(i: int) -> None:
        answers[i] = apps[i].resolve(_event(f"/{prefix}/r{i}", f"body-{i}"), None)["body"]

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return answers


def test_two_environments_serving_at_once_each_read_their_own_request() -> None:
    # Given the local stack's isolation of Powertools' per-request state
    isolate_per_thread()
    isolate_per_thread()  # idempotent: every function's runtime asks for it
    # When two environments resolve a request each, both inside their route at once
    answers = _serve_two_at_once("echo")
    routed = _serve_two_at_once("routed")
    # Then each answer is built from its own request (path and body), on the app and on a router
    assert answers == ['{"name":"r0","body":"body-0"}', '{"name":"r1","body":"body-1"}']
    assert routed == ['{"name":"r0","body":"body-0"}', '{"name":"r1","body":"body-1"}']
