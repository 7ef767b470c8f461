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
def found(**changes) -> dict:
    """FOUND with some fields of business_discovery replaced (None removes one)."""
    data = json.loads(json.dumps(FOUND["business_discovery"]))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return {"business_discovery": data}


def media(*items) -> dict:
    return {"data": list(items)}


def post(number: int, **changes) -> dict:
    item = {"id": str(number), "caption": f"Post {number} #tag", "media_type": "IMAGE", "like_count": 10,
            "comments_count": 1, "timestamp": f"2026-10-{number:02d}T10:00:00+0000"}
    return {**item, **changes}


# Answers of the wrong shape, by username: each must be a 502, never a 500.
MALFORMED = {
    "shape_list": b'{"business_discovery": []}',
    "shape_string": b'{"business_discovery": "yes"}',
    "top_list": b"[1, 2]",
    "no_discovery": b'{"data": {}}',
    "media_list": json.dumps(found(media=[post(1)])).encode(),
    "media_data_dict": json.dumps(found(media={"data": {"1": post(1)}})).encode(),
    "media_item_list": json.dumps(found(media=media([1, 2]))).encode(),
    "huge_likes": json.dumps(found(media=media(post(1, like_count=10**400)))).encode(),
    "huge_followers": json.dumps(found(followers_count=10**400)).encode(),
    "negative_likes": json.dumps(found(media=media(post(1, like_count=-5)))).encode(),
    "float_likes": json.dumps(found(media=media(post(1, like_count=1.5)))).encode(),
    "string_followers": json.dumps(found(followers_count="many")).encode(),
    "bool_followers": json.dumps(found(followers_count=True)).encode(),
    "no_username": json.dumps(found(username=None)).encode(),
    "username_list": json.dumps(found(username=["a"])).encode(),
    "bad_timestamp": json.dumps(found(media=media(post(1, timestamp="yesterday")))).encode(),
    "number_timestamp": json.dumps(found(media=media(post(1, timestamp=1700000000)))).encode(),
    "overflow_timestamp": json.dumps(found(media=media(post(1, timestamp="0001-01-01T00:00:00+01:00")))).encode(),
    "caption_dict": json.dumps(found(media=media(post(1, caption={"a": 1})))).encode(),
    "deep_json": b'{"business_discovery": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "nan_json": b'{"business_discovery": {"username": "x", "followers_count": NaN}}',
}
# Odd but usable answers: a 200.
USABLE = {
    # Graph's own format, ISO with Z, and a naive time (taken as UTC), mixed in one answer.
    "mixed_times": json.dumps(found(media=media(
        post(1, timestamp="2026-10-01T10:00:00+0000"), post(2, timestamp="2026-10-02T10:00:00Z"),
        post(3, timestamp="2026-10-03T10:00:00"), post(4, timestamp="2026-10-04T12:00:00+02:00"),
    ))).encode(),
    "hidden_counts": json.dumps(found(followers_count=None, media=media(post(1, like_count=None)))).encode(),
    "no_media": json.dumps(found(media=None)).encode(),
}
TRICKLE_INTERVAL = 0.5

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
        if username in MALFORMED:
            return self._send(200, MALFORMED[username])
        if username in USABLE:
            return self._send(200, USABLE[username])
        if username == "trickle":  # headers at once, then the body one byte every half second
            return self._trickle(json.dumps(FOUND).encode(), headers_first=True)
        if username == "trickle_headers":  # even the status line arrives a byte at a time
            return self._trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", headers_first=False)
        if username == "huge_body":
            return self._send(200, b'{"business_discovery": {"username": "' + b"x" * (3 * 1024 * 1024) + b'"}}')
        if username == "silent":
            time.sleep(30)
            return None
        return self._send(500, b'{"error": {"message": "internal"}}')


    def _trickle(self, body: bytes, *, headers_first: bool):
        try:
            if headers_first:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(TRICKLE_INTERVAL)
        except (BrokenPipeError, ConnectionResetError):
            pass


class FakeGraphServer:
    def __enter__(self):
        Handler.requests = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True  # a trickling answer must not keep the test run alive
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v21.0"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
