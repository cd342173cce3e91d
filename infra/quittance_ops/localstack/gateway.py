"""A local HTTP API: each route of template.yaml invokes its function with an API Gateway
HTTP API (payload format 2.0) event, and the function's answer becomes the HTTP response."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from quittance_ops.localstack import sigv4
from quittance_ops.localstack.runtime import LocalFunction

log = logging.getLogger("quittance.local.gateway")

# API Gateway refuses payloads over 10 MB before any function runs.
MAX_PAYLOAD = 10 * 1024 * 1024
_TEXTUAL = re.compile(r"^(text/|application/(json|xml|x-www-form-urlencoded)|.*\+json)")


class Route:
    def __init__(self, method: str, path: str, function: LocalFunction, iam: bool) -> None:
        self.iam = iam
        self.method = method
        self.path = path
        self.route_key = f"{method} {path}"
        self.function = function
        pattern = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", path)
        self._regex = re.compile(f"^{pattern}$")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self._regex.match(path)
        return found.groupdict() if found else None


class LocalGateway:
    def __init__(
        self, account: str, region: str, credentials: dict[str, str] | None = None
    ) -> None:
        self.credentials = credentials or {}
        self.routes: list[Route] = []
        self.account = account
        self.region = region
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_route(
        self, method: str, path: str, function: LocalFunction, *, iam: bool = False
    ) -> None:
        self.routes.append(Route(method, path, function, iam))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s %s", self.address_string(), format % args)

            def _serve(self) -> None:
                gateway.serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        return Handler

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD:
            self._respond(request, 413, {"content-type": "application/json"},
                          b'{"message":"Request Entity Too Large"}')  # fmt: skip
            return
        body = request.rfile.read(length) if length else b""
        for route in self.routes:
            params = route.match(request.command, split.path)
            if params is not None:
                break
        else:
            self._respond(request, 404, {"content-type": "application/json"},
                          b'{"message":"Not Found"}')  # fmt: skip
            return
        event = self._event(request, route, params, split.path, split.query, body)
        if route.iam:
            headers = {k.lower(): v for k, v in request.headers.items()}
            try:
                caller = sigv4.verify(
                    method=request.command,
                    url=f"http://{headers.get('host', '127.0.0.1')}{request.path}",
                    headers=headers,
                    body=body,
                    credentials=self.credentials,
                    account_id=self.account,
                    region=self.region,
                )
            except sigv4.Refused as refused:
                # As API Gateway: 403 before any function runs; the reason goes to the log.
                log.warning("IAM authorisation refused on %s: %s", route.route_key, refused)
                self._respond(request, 403, {"content-type": "application/json"},
                              b'{"message":"Forbidden"}')  # fmt: skip
                return
            event["requestContext"]["authorizer"] = {
                "iam": {
                    "accessKey": caller.access_key,
                    "accountId": caller.account_id,
                    "userArn": caller.user_arn,
                    "userId": caller.access_key,
                    "callerId": caller.access_key,
                    "principalOrgId": None,
                    "cognitoIdentity": None,
                }
            }
        try:
            result = route.function.invoke(event)
        except Exception:
            log.exception("function %s failed", route.function.name)
            self._respond(request, 500, {"content-type": "application/json"},
                          b'{"message":"Internal Server Error"}')  # fmt: skip
            return
        status, headers, payload = self._response(result)
        self._respond(request, status, headers, payload)

    def _event(
        self,
        request: BaseHTTPRequestHandler,
        route: Route,
        params: dict[str, str],
        path: str,
        query: str,
        body: bytes,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        content_type = headers.get("content-type", "")
        textual = bool(_TEXTUAL.match(content_type))
        try:
            text = body.decode("utf-8") if textual else None
        except UnicodeDecodeError:
            text = None
        now = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": self.account,
                "apiId": "local",
                "domainName": headers.get("host", "127.0.0.1"),
                "domainPrefix": "local",
                "http": {
                    "method": request.command,
                    "path": path,
                    "protocol": request.request_version,
                    "sourceIp": request.client_address[0],
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": request_id,
                "routeKey": route.route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(time.time() * 1000),
            },
            "pathParameters": params or None,
            "isBase64Encoded": text is None and bool(body),
        }
        if query:
            event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
        if body:
            event["body"] = text if text is not None else base64.b64encode(body).decode()
        if "cookie" in headers:
            event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
        return event

    @staticmethod
    def _response(result: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(result, dict) or "statusCode" not in result:
            # Payload 2.0: a bare value is a 200 JSON answer.
            return 200, {"content-type": "application/json"}, json.dumps(result).encode()
        headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ",".join(str(v) for v in values)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return int(result["statusCode"]), headers, payload

    @staticmethod
    def _respond(
        request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        request.send_response(status)
        for name, value in headers.items():
            if name not in {"content-length", "connection", "transfer-encoding"}:
                request.send_header(name, value)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
