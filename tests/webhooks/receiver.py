"""A host app's webhook receiver for tests: a small HTTP server on 127.0.0.1.

It records every request (headers and raw body) and answers from a script: a list of
`Answer`s used in order, then `default`. An answer can hold the request open until the test
releases it (to kill a worker mid-delivery).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    # When set, the request waits for this event (at most `hold_seconds`) before answering.
    hold: threading.Event | None = None
    hold_seconds: float = 30.0


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    def __init__(self, script: list[Answer] | None = None, default: Answer | None = None):
        self.script = list(script or [])
        self.default = default or Answer()
        self.received: list[Received] = []
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(dict(self.headers.items()), body, time.monotonic())
                    )
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                receiver.arrived.set()
                if answer.hold is not None:
                    answer.hold.wait(answer.hold_seconds)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the sender is gone (a killed worker)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def event_ids(self) -> list[str]:
        with self._lock:
            return [r.headers.get("Webhook-Id", "") for r in self.received]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
