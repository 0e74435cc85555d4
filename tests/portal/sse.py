"""A small server-sent-events client for tests: reads frames in a thread, resumes with Last-Event-ID."""

from __future__ import annotations

import base64
import json
import queue
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass(frozen=True)
class Event:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class SseClient:
    """Connects to `url` with HTTP Basic credentials and queues every object event it receives.

    A plain socket (HTTP/1.1, chunked): `close()` shuts it down at once, as a dropped network would.
    """

    def __init__(self, url: str, auth: tuple[str, str], *, last_event_id: str | None = None,
                 params: dict[str, str] | None = None) -> None:
        self.url = url
        self.auth = auth
        self.params = params or {}
        self.last_event_id = last_event_id
        self.events: queue.Queue[Event] = queue.Queue()
        self.connected = threading.Event()
        self.status: int | None = None
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SseClient:
        self._thread.start()
        if not self.connected.wait(20):
            raise RuntimeError("the stream did not open")
        if self.status != 200:
            raise RuntimeError(f"the stream answered HTTP {self.status}")
        return self

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=10)

    def take(self, n: int, timeout: float = 20) -> list[Event]:
        return [self.events.get(timeout=timeout) for _ in range(n)]

    def _request(self) -> bytes:
        parts = urlsplit(self.url)
        target = parts.path + ("?" + urlencode(self.params) if self.params else "")
        token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", f"Authorization: Basic {token}",
                 "Accept: text/event-stream"]
        if self.last_event_id:
            lines.append(f"Last-Event-ID: {self.last_event_id}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _run(self) -> None:
        parts = urlsplit(self.url)
        try:
            sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=20)
            sock.settimeout(None)
            self._sock = sock
            sock.sendall(self._request())
            reader = sock.makefile("rb")
            self.status = int(reader.readline().split()[1])
            while reader.readline() not in (b"\r\n", b""):
                pass
            self.connected.set()
            self._read_chunks(reader)
        except (OSError, ValueError, IndexError):
            pass  # the hub or the test closed the connection: the test reconnects with self.last_event_id
        finally:
            self.connected.set()

    def _read_chunks(self, reader: Any) -> None:
        pending = b""
        fields: dict[str, str] = {}
        data: list[str] = []
        while True:
            size = int(reader.readline().strip() or b"0", 16)
            if size == 0:
                return
            pending += reader.read(size)
            reader.readline()
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                line = raw.decode().rstrip("\r")
                if line == "":
                    if "id" in fields:
                        self.last_event_id = fields["id"]
                    if data:
                        self.events.put(Event(fields.get("id"), fields.get("event"), "\n".join(data)))
                    fields, data = {}, []
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "data":
                        data.append(value)
                    else:
                        fields[name] = value
