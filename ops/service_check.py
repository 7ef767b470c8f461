"""`python -m ops.service_check postgres redis`: one clear line per missing service."""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    "postgres": os.environ.get("TEST_DATABASE_URL", "postgres://root@127.0.0.1:5432/credits"),
    "redis": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
}
HOW_TO_START = {
    "postgres": "start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "redis": "start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
}


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    default_port = 5432 if parsed.scheme.startswith("postgres") else 6379
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def main(names: list[str]) -> int:
    missing = [name for name in names if not reachable(DEFAULTS[name])]
    for name in missing:
        print(f"{name} is not reachable at {DEFAULTS[name]} - {HOW_TO_START[name]}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["postgres"]))
