"""Signed webhooks: a receiver that is down, then up, gets everything in order with valid signatures;
a delivery that keeps failing is dead-lettered and can be replayed."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from exchange.stream.webhooks import SIGNATURE_HEADER, verify
from tests.conftest import free_port, stop_hub
from tests.portal.conftest import alert, post, serve


class Receiver:
    """A webhook endpoint on a fixed port that can answer with an error status."""

    def __init__(self, port: int, status: int = 200) -> None:
        self.port = port
        self.status = status
        self.received: list[tuple[bytes, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.status == 200:
                    outer.received.append((body, dict(self.headers)))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def subscribe(running: Any, client: str, url: str) -> tuple[str, str]:
    with httpx.Client(base_url=running.url, auth=running.auth(client)) as c:
        r = c.post("/stream/webhooks", json={"url": url, "types": ["incident"]})
        assert r.status_code == 201, r.text
        body = r.json()
        return body["id"], body["secret"]


def wait_for(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_receiver_down_then_up_gets_everything_signed_and_in_order(site_db: tuple[str, dict[str, str]]) -> None:
    url, secrets = site_db
    running = serve(url, secrets)
    port = free_port()
    receiver: Receiver | None = None
    try:
        sub_id, secret = subscribe(running, "mad-duty", f"http://127.0.0.1:{port}/hook")
        posted = []
        for i in range(4):  # nothing listens on the port yet: connection refused, retried with backoff
            a = alert(f"webhook {i}")
            post(running, "pn-coordinator", [a])
            posted.append(a["id"])
        post(running, "pn-coordinator", [alert("webhook amber", tlp="amber", municipality="sevilla")])
        with httpx.Client(base_url=running.url, auth=running.auth("mad-duty")) as c:
            wait_for(lambda: any(d["attempts"] >= 2 for d in c.get(
                f"/stream/webhooks/{sub_id}/deliveries", params={"status": "pending"}).json()["deliveries"]))
        receiver = Receiver(port)
        wait_for(lambda: len(receiver.received) >= len(posted))  # type: ignore[union-attr]
        time.sleep(0.5)
        bodies = [json.loads(b) for b, _ in receiver.received]
        assert [b["data"]["id"] for b in bodies] == posted  # in order, once, and nothing outside Madrid's ACL
        for raw, headers in receiver.received:
            assert verify(secret, raw, headers[SIGNATURE_HEADER])
            assert not verify("whsec_wrong", raw, headers[SIGNATURE_HEADER])
            assert headers["X-Popart-Event-Id"] == json.loads(raw)["event_id"]
    finally:
        if receiver is not None:
            receiver.close()
        stop_hub(running)


def test_dead_letters_are_replayed(site_db: tuple[str, dict[str, str]]) -> None:
    url, secrets = site_db
    running = serve(url, secrets, stream={"webhook_max_attempts": 2, "webhook_poll_seconds": 0.1,
                                          "webhook_backoff_seconds": 0.1, "poll_seconds": 0.2})
    port = free_port()
    receiver = Receiver(port, status=500)
    try:
        sub_id, secret = subscribe(running, "pn-coordinator", f"http://127.0.0.1:{port}/hook")
        a = alert("dead letter")
        post(running, "pn-coordinator", [a])
        with httpx.Client(base_url=running.url, auth=running.auth("pn-coordinator")) as c:
            wait_for(lambda: c.get(f"/stream/webhooks/{sub_id}/deliveries",
                                   params={"status": "dead"}).json()["deliveries"])
            dead = c.get(f"/stream/webhooks/{sub_id}/deliveries", params={"status": "dead"}).json()["deliveries"]
            assert [d["object_id"] for d in dead] == [a["id"]] and dead[0]["last_error"] == "HTTP 500"
            receiver.status = 200
            assert c.post(f"/stream/webhooks/{sub_id}/replay", json={"dead": True}).json() == {"requeued": 1}
            wait_for(lambda: receiver.received)
            raw, headers = receiver.received[0]
            assert json.loads(raw)["data"]["id"] == a["id"] and verify(secret, raw, headers[SIGNATURE_HEADER])
            listed = c.get("/stream/webhooks").json()["webhooks"]
            assert listed[0]["deliveries"] == {"pending": 0, "dead": 0, "delivered": 1}
        with httpx.Client(base_url=running.url, auth=running.auth("sev-duty")) as other:
            assert other.get(f"/stream/webhooks/{sub_id}/deliveries").status_code == 404
            assert other.get("/stream/webhooks").json() == {"webhooks": []}
    finally:
        receiver.close()
        stop_hub(running)


def test_a_webhook_url_must_be_http(site_db: tuple[str, dict[str, str]]) -> None:
    url, secrets = site_db
    running = serve(url, secrets)
    try:
        with httpx.Client(base_url=running.url, auth=running.auth("mad-duty")) as c:
            r = c.post("/stream/webhooks", json={"url": "file:///etc/passwd"})
            assert r.status_code == 400
    finally:
        stop_hub(running)
