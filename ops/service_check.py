"""`python -m ops.service_check postgres redis`: connect for real, one clear line per failure.

Used by `make test` and `make bench` before anything else, so a missing service is one readable
line ("postgres (TEST_DATABASE_URL) at postgres://root@127.0.0.1:5432/postgres: connection
refused: nothing listens on 127.0.0.1:5432 - start it: ...") instead of a page of tracebacks
from the first test. Exit status 1 if any service is missing.
"""

import os
import re
import sys
from urllib.parse import urlsplit, urlunsplit

TIMEOUT_SECONDS = 3
HOW_TO_START = {
    "postgres": "start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "redis": "start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
}

# (pattern in the driver's message, plain words, hint). The first match wins.
CAUSES = [
    (r"role \"(?P<role>[^\"]+)\" does not exist", "wrong role: the server has no role \"{role}\"",
     "use a role that exists in the URL, or create it: createuser --superuser {role}"),
    (r"database \"(?P<database>[^\"]+)\" does not exist", "database \"{database}\" does not exist",
     "create it: createdb {database}"),
    (r"password authentication failed|authentication failed", "the password was refused", "check the password in the URL"),
    (r"without any password configured", "the URL sends a password but the server has none set",
     "remove the password from the URL"),
    (r"no password supplied|NOAUTH|Authentication required", "auth required: the server wants a password",
     "put the password in the URL (scheme://user:password@host...)"),
    (r"invalid username-password pair|WRONGPASS", "the password was refused", "check the password in the URL"),
    (r"Name or service not known|nodename nor servname|failed to resolve host|Temporary failure in name resolution"
     r"|No address associated with hostname|getaddrinfo failed",
     "unknown host {host}", "check the host name in the URL"),
    (r"Connection refused|Error 111\b", "connection refused: nothing listens on {host}:{port}", "{start}"),
    (r"timeout expired|timed out|Timeout", "timeout: {host}:{port} did not answer within {timeout} s",
     "check the host and port, or a firewall in between"),
]


def masked(url: str) -> str:
    """The URL with its password replaced by ***, safe to print."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    # Rebuilt rather than searched and replaced: a percent-encoded password would not be found.
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{hostport}"))


def maintenance_url(url: str) -> str:
    """The same server and role, database `postgres`.

    The URL's own database may not exist yet, and that is fine: pytest creates `test_<name>`
    from TEST_DATABASE_URL and the benchmarks create `credits_bench`. So the check proves the
    server answers and accepts the role, through the maintenance database every server has.
    """
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def check_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, connect_timeout=TIMEOUT_SECONDS) as connection:
        connection.execute("SELECT 1")


def check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


SERVICES = {
    # name: (environment variable, default URL, check, URL actually connected to)
    "postgres": ("TEST_DATABASE_URL", "postgres://root@127.0.0.1:5432/credits", check_postgres, maintenance_url),
    "redis": ("REDIS_URL", "redis://127.0.0.1:6379/0", check_redis, lambda url: url),
}


def explain(name: str, variable: str, url: str, error: Exception) -> str:
    """One line: the service, the URL (password masked), the cause in plain words, the real error."""
    parts = urlsplit(url)
    default_port = 5432 if name == "postgres" else 6379
    facts = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or default_port,
        "timeout": TIMEOUT_SECONDS,
        "start": HOW_TO_START[name],
    }
    message = " ".join(str(error).split()) or type(error).__name__
    cause, hint = "unexpected answer", f"is {facts['host']}:{facts['port']} really {name}?"
    for pattern, words, advice in CAUSES:
        found = re.search(pattern, message, re.IGNORECASE)
        if found:
            facts.update(found.groupdict())
            cause, hint = words.format(**facts), advice.format(**facts)
            break
    return f"{name} ({variable}) at {masked(url)}: {cause} - {hint} ({type(error).__name__}: {message})"


def problem(name: str) -> str | None:
    """None if the service answers, else the one line that says why not."""
    variable, default, check, target = SERVICES[name]
    url = target(os.environ.get(variable) or default)
    try:
        check(url)
    except Exception as error:  # noqa: BLE001 - any failure to connect is what we report
        return explain(name, variable, url, error)
    return None


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        print(f"unknown service {', '.join(unknown)}; known: {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    lines = [line for line in map(problem, names) if line]
    for line in lines:
        print(line, file=sys.stderr)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["postgres"]))
