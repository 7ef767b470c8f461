"""A real HTTP receiver on a local port: records every request and answers from a script.

It speaks HTTP/1.1 with keep-alive by default, as real receivers do, so a sender that keeps its
connections open is measured and tested as it runs in production (`keep_alive=False`: one
connection per request, as HTTP/1.0)."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    statuses: list = field(default_factory=list)  # answered in turn; then `default`
    default: int = 200
    headers: dict = field(default_factory=dict)  # extra response headers (e.g. Location)
    received: list = field(default_factory=list)
    keep_alive: bool = True
    # Called with each request before it is answered (a test may block here to hold a request in
    # flight); it may return a status, which then overrides the script.
    on_request: Callable[[Received], int | None] | None = None

    def start(self) -> "Receiver":
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with lock:  # arrival order and the script's turns stay consistent across connections
                    receiver.received.append(request)
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                if receiver.on_request is not None:
                    status = receiver.on_request(request) or status
                self.send_response(status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
