"""`python -m ops.service_check` run as `make test` runs it, against real sockets."""

import os
import socket
import subprocess
import sys

import pytest

from ops.service_check import masked

REACHABLE_POSTGRES = os.environ.get("TEST_DATABASE_URL", "postgres://root@127.0.0.1:5432/credits")


def run_check(*services: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "ops.service_check", *services],
        capture_output=True, text=True, timeout=30, env=environment,
    )


def the_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port():
    """A port that accepts connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_reachable_server_passes():
    result = run_check("postgres", TEST_DATABASE_URL=REACHABLE_POSTGRES)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_closed_port_is_connection_refused_with_how_to_start(closed_port):
    result = run_check("postgres", TEST_DATABASE_URL=f"postgres://root@127.0.0.1:{closed_port}/credits")
    line = the_line(result)
    assert result.returncode == 1
    assert line.startswith(f"postgres (TEST_DATABASE_URL) at postgres://root@127.0.0.1:{closed_port}/postgres: ")
    assert f"connection refused: nothing listens on 127.0.0.1:{closed_port}" in line
    assert "pg_ctlcluster" in line and "Connection refused" in line


def test_an_unknown_host():
    line = the_line(run_check("postgres", TEST_DATABASE_URL="postgres://root@nohost.invalid:5432/credits"))
    assert "unknown host nohost.invalid - check the host name in the URL" in line


def test_a_wrong_role():
    line = the_line(run_check("postgres", TEST_DATABASE_URL="postgres://nosuchrole@127.0.0.1:5432/x"))
    assert 'wrong role: the server has no role "nosuchrole"' in line
    assert "createuser --superuser nosuchrole" in line
    assert 'FATAL: role "nosuchrole" does not exist' in line  # the driver's own words, on the same line


def test_a_server_that_never_answers_is_a_timeout(silent_port):
    line = the_line(run_check("postgres", TEST_DATABASE_URL=f"postgres://root@127.0.0.1:{silent_port}/x"))
    assert f"timeout: 127.0.0.1:{silent_port} did not answer within 3 s" in line


def test_redis_refused_and_unknown_host_each_get_their_line(closed_port):
    result = run_check("postgres", "redis", TEST_DATABASE_URL=REACHABLE_POSTGRES, REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    line = the_line(result)
    assert result.returncode == 1
    assert line.startswith(f"redis (REDIS_URL) at redis://127.0.0.1:{closed_port}/0: connection refused")
    assert "redis-server" in line
    line = the_line(run_check("redis", REDIS_URL="redis://nohost.invalid:6379/0"))
    assert "unknown host nohost.invalid" in line


def test_a_password_is_never_printed(closed_port):
    line = the_line(run_check("redis", REDIS_URL=f"redis://user:s%40cret-pw@127.0.0.1:{closed_port}/0"))
    assert "s%40cret-pw" not in line and "s@cret-pw" not in line
    assert f"redis://user:***@127.0.0.1:{closed_port}/0" in line


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgres://root:pw@db:5432/x", "postgres://root:***@db:5432/x"),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("postgres://root@db/x", "postgres://root@db/x"),
        ("postgres://u:p%3Aw%40d@db/x", "postgres://u:***@db/x"),
    ],
)
def test_masked(url, shown):
    assert masked(url) == shown


@pytest.fixture
def redis_wanting_a_password():
    """A stand-in for a Redis server started with `requirepass`: every command gets NOAUTH."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                while connection.recv(65536):
                    connection.sendall(b"-NOAUTH Authentication required.\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def test_redis_that_wants_a_password(redis_wanting_a_password):
    port = redis_wanting_a_password
    line = the_line(run_check("redis", REDIS_URL=f"redis://127.0.0.1:{port}/0"))
    assert f"redis (REDIS_URL) at redis://127.0.0.1:{port}/0: auth required: the server wants a password" in line
