"""Private PostgreSQL and Redis servers that fault tests may stop, hang and restart.

Never the shared ones: each lives in its own temporary directory on a port of its own
(PostgreSQL 55432-55439, Redis 6390-6399). PostgreSQL comes from the machine's binaries
(`PG_BIN`, or /usr/lib/postgresql/<version>/bin); as root, initdb and the server run as the
`postgres` user, which PostgreSQL requires.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port(candidates) -> int:
    for port in candidates:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {candidates}")


def wait_for_port(port: int, *, up: bool = True, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if (probe.connect_ex(("127.0.0.1", port)) == 0) == up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still {'down' if up else 'up'} after {timeout} s")


def pg_bin() -> Path | None:
    explicit = os.environ.get("PG_BIN")
    candidates = [explicit] if explicit else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if directory and (Path(directory) / "initdb").exists():
            return Path(directory)
    return None


class PrivatePostgres:
    """`with PrivatePostgres() as pg:` pg.url, pg.stop(), pg.start()."""

    def __init__(self, port: int | None = None):
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries not found (set PG_BIN)")
        self.port = port or free_port(range(55432, 55440))
        self.url = f"postgres://root@127.0.0.1:{self.port}/postgres"

    def _run(self, *args, check=True):
        user = "postgres" if os.geteuid() == 0 else None
        return subprocess.run([str(self.bin / args[0]), *args[1:]], user=user, check=check,
                              capture_output=True, text=True, timeout=60)

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="private-pg-")
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", f"{self.dir}/data", "-U", "root", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        return self

    def start(self, attempts: int = 20):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        for attempt in range(attempts):
            started = self._run("pg_ctl", "-D", f"{self.dir}/data", "-o", options, "-l", f"{self.dir}/log", "-w", "start",
                                check=False)
            if started.returncode == 0:
                break
            time.sleep(0.25)  # a restart right after a stop: the old sockets may still hold the port
        else:
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr}")
        wait_for_port(self.port)

    def stop(self, mode: str = "immediate"):
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-m", mode, "-w", "stop", check=False)
        wait_for_port(self.port, up=False)

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """`with PrivateRedis() as redis:` redis.url, redis.hang(), redis.resume(), redis.stop(), redis.start()."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port(range(6390, 6400))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def hang(self):
        self.process.send_signal(signal.SIGSTOP)  # accepts connections (the kernel does), never answers

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            self.process.wait(10)
        wait_for_port(self.port, up=False)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
