"""Starting and stopping the project's own processes (the `make run` stack, a web server) in tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_env(**overrides: str) -> dict:
    """The environment `make run` gives its processes: local settings, none of the test run's services."""
    drop = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CREDITS_DATA_DIR"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    return {**env, "DJANGO_SETTINGS_MODULE": "credits_platform.settings.local", "LOG_LEVEL": "WARNING", **overrides}


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start `command` in a process group of its own (so the test can signal the whole group)."""
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_serving(base_url: str, process: subprocess.Popen, log: Path, *, timeout: float = 90) -> float:
    """Seconds until GET /api/v1/health/ answered 200; fails with the log if the process died first."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{base_url}/api/v1/health/", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"not serving after {timeout}s:\n{log.read_text()[-3000:]}")


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM, *, timeout: float = 60) -> float:
    """Signal the process group, as a terminal's Ctrl-C or a service manager would; seconds to exit."""
    started = time.monotonic()
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    process.wait(timeout=timeout)
    return time.monotonic() - started


PYTHON = sys.executable
