"""A small server-sent-events client for tests: reads frames in a thread, resumes with Last-Event-ID."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class SseClient:
    """Connects to `url` with HTTP Basic credentials and queues every object event it receives."""

    def __init__(self, url: str, auth: tuple[str, str], *, last_event_id: str | None = None,
                 params: dict[str, str] | None = None) -> None:
        self.url = url
        self.auth = auth
        self.params = params or {}
        self.last_event_id = last_event_id
        self.events: queue.Queue[Event] = queue.Queue()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SseClient:
        self._thread.start()
        if not self.connected.wait(20):
            raise RuntimeError("the stream did not open")
        return self

    def close(self) -> None:
        self._stop.set()
        if self._response is not None:
            self._response.close()
        self._thread.join(timeout=10)

    def take(self, n: int, timeout: float = 20) -> list[Event]:
        out = []
        for _ in range(n):
            out.append(self.events.get(timeout=timeout))
        return out

    def _run(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        try:
            with httpx.Client(timeout=httpx.Timeout(10, read=None)) as client, \
                    client.stream("GET", self.url, auth=self.auth, headers=headers, params=self.params) as response:
                self._response = response
                response.raise_for_status()
                self.connected.set()
                fields: dict[str, str] = {}
                data: list[str] = []
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if "id" in fields:
                            self.last_event_id = fields["id"]
                        if data:
                            self.events.put(Event(fields.get("id"), fields.get("event"), "\n".join(data)))
                        fields, data = {}, []
                        continue
                    if line.startswith(":"):
                        continue
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "data":
                        data.append(value)
                    else:
                        fields[name] = value
        except (httpx.HTTPError, RuntimeError):
            pass  # the hub went away: the test reconnects with self.last_event_id
