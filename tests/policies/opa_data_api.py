"""A small HTTP server speaking OPA's REST Data and Policy APIs, evaluating with rego-cpp.

The OPA binary cannot be installed here; this server lets the REST engine be tested over real HTTP.
It implements what the engine uses: PUT /v1/policies/<id>, PUT /v1/data/<path>, POST /v1/data/<path>
({"input": ...} -> {"result": ...}, no `result` when undefined), GET /health.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import regopy


class RegoState:
    """Modules and data pushed to the server, compiled on demand per entrypoint."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.lock = threading.Lock()
        self._compiled: dict[str, tuple[regopy.Interpreter, regopy.Bundle]] = {}

    def _interpreter(self) -> regopy.Interpreter:
        interpreter = regopy.Interpreter()
        for name, text in sorted(self.modules.items()):
            interpreter.add_module(name, text)
        interpreter.add_data_json(json.dumps(self.data))
        return interpreter

    def put_policy(self, policy_id: str, text: str) -> None:
        """Add or replace a module; RegoError if the whole set no longer compiles."""
        with self.lock:
            old = self.modules.get(policy_id)
            self.modules[policy_id] = text
            try:
                self._interpreter()
            except regopy.RegoError:
                if old is None:
                    del self.modules[policy_id]
                else:
                    self.modules[policy_id] = old
                raise
            self._compiled.clear()

    def put_data(self, path: list[str], value: Any) -> None:
        """Replace the data document at `path`."""
        with self.lock:
            if not path:
                self.data = value
            else:
                node = self.data
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = value
            self._compiled.clear()

    def evaluate(self, path: list[str], input_doc: Any) -> tuple[bool, Any]:
        """(defined, value) of data.<path> for this input."""
        entrypoint = "/".join(path)
        with self.lock:
            if entrypoint not in self._compiled:
                interpreter = self._interpreter()
                self._compiled[entrypoint] = (interpreter, interpreter.build(None, [entrypoint]))
            interpreter, bundle = self._compiled[entrypoint]
            interpreter.set_input_term(json.dumps(input_doc))
            output = interpreter.query_bundle_entrypoint(bundle, entrypoint)
            if not output.ok():
                raise RuntimeError(str(output))
            if not output.results or not output.results[0].expressions:
                return False, None
            return True, output.results[0].expressions[0]


class _Handler(BaseHTTPRequestHandler):
    server: OpaDataApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output quiet."""

    def _send(self, status: int, body: Any = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except BrokenPipeError:  # the client gave up (timeout tests)
            pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _path(self, prefix: str) -> list[str]:
        rest = self.path.split("?", 1)[0][len(prefix) :]
        return [p for p in rest.split("/") if p]

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.startswith("/health"):
            self._send(200, {})
        elif self.path.startswith("/v1/policies"):
            self._send(200, {"result": [{"id": k} for k in sorted(self.server.state.modules)]})
        else:
            self._send(404, {"code": "resource_not_found", "message": self.path})

    def do_PUT(self) -> None:  # noqa: N802
        body = self._body()
        if self.path.startswith("/v1/policies/"):
            try:
                self.server.state.put_policy("/".join(self._path("/v1/policies/")), body.decode())
            except regopy.RegoError as exc:
                self._send(400, {"code": "invalid_parameter", "message": str(exc)[:2000], "errors": []})
                return
            self._send(200, {})
        elif self.path.startswith("/v1/data"):
            self.server.state.put_data(self._path("/v1/data"), json.loads(body or b"{}"))
            self._send(204)
        else:
            self._send(404, {"code": "resource_not_found", "message": self.path})

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        if not self.path.startswith("/v1/data"):
            self._send(404, {"code": "resource_not_found", "message": self.path})
            return
        if self.server.delay_s:
            time.sleep(self.server.delay_s)
        if self.server.fail_status:
            self._send(self.server.fail_status, {"code": "internal_error", "message": "injected failure"})
            return
        try:
            doc = json.loads(body or b"{}")
            defined, value = self.server.state.evaluate(self._path("/v1/data"), doc.get("input"))
        except Exception as exc:  # noqa: BLE001 - reported to the client like OPA does
            self._send(500, {"code": "internal_error", "message": str(exc)[:2000]})
            return
        self._send(200, {"result": value} if defined and not self.server.force_undefined else {})


class OpaDataApiServer(ThreadingHTTPServer):
    """Serve on 127.0.0.1 at a free port in a background thread; knobs inject delays and failures."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = RegoState()
        self.delay_s = 0.0
        self.fail_status = 0
        self.force_undefined = False
        self._thread = threading.Thread(target=self.serve_forever, name="opa-data-api", daemon=True)

    @property
    def url(self) -> str:
        """The base URL (http://127.0.0.1:<port>)."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> OpaDataApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
