"""A real HTTP server on 127.0.0.1 that answers like the Graph API's business discovery endpoint."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

FOUND = {
    "business_discovery": {
        "username": "graph_user",
        "name": "Graph User",
        "biography": "From the fake Graph API",
        "followers_count": 1200,
        "follows_count": 80,
        "media_count": 2,
        "media": {
            "data": [
                {"id": "1", "caption": "Old #one", "media_type": "IMAGE", "like_count": 10,
                 "comments_count": 2, "timestamp": "2026-10-01T10:00:00+00:00"},
                {"id": "2", "caption": "New #two", "media_type": "VIDEO", "like_count": 30,
                 "comments_count": 6, "timestamp": "2026-10-08T18:00:00+00:00"},
            ]
        },
    }
}
UNKNOWN = {"error": {"message": "The user with username: ghost cannot be found.", "code": 110, "error_subcode": 2207013}}


class Handler(BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # the client timed out first: that is the point of the slow case
            pass

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        type(self).requests.append((urlparse(self.path).path, query))
        match = re.search(r"business_discovery\.username\(([^)]*)\)", query.get("fields", [""])[0])
        username = match.group(1) if match else ""
        if query.get("access_token") != ["test-token"]:
            return self._send(401, b'{"error": {"message": "bad token"}}')
        if username == "graph_user":
            return self._send(200, json.dumps(FOUND).encode())
        if username == "ghost":
            return self._send(400, json.dumps(UNKNOWN).encode())
        if username == "gone":
            return self._send(404, b"{}")
        if username == "sleepy":
            time.sleep(1.0)
            return self._send(200, json.dumps(FOUND).encode())
        if username == "garbled":
            return self._send(200, b"<html>not json</html>", "text/html")
        return self._send(500, b'{"error": {"message": "internal"}}')


class FakeGraphServer:
    def __enter__(self):
        Handler.requests = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v21.0"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
