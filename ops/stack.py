"""`make run`: production in miniature, on one machine, with nothing to install but Python packages.

    python -m ops.stack [--host 127.0.0.1] [--port 8000]

1. the database: an embedded PostgreSQL (ops/embedded.py) unless DATABASE_URL is set;
2. the broker: kombu's filesystem transport under CREDITS_DATA_DIR unless CELERY_BROKER_URL is set;
3. migrations, the default catalogue, the demo user;
4. the web server, and a Celery worker with beat embedded (the monthly reset, the sweepers and the
   heartbeat run exactly as in production).

Ctrl-C (SIGINT) or SIGTERM stops the web server, the worker and beat, then the database.
"""

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 20


def _say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def _manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _environment(data_dir: Path) -> dict:
    env = {**os.environ, "CREDITS_DATA_DIR": str(data_dir)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "credits_platform.settings.local")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if "DATABASE_URL" not in env:
        from .embedded import embedded_url

        env["DATABASE_URL"] = embedded_url(data_dir)  # this process holds the server until it exits
        _say(f"database: embedded PostgreSQL in {data_dir / 'postgres'}")
    else:
        _say("database: DATABASE_URL")
    if "CELERY_BROKER_URL" not in env:
        env["CELERY_BROKER_URL"] = "filesystem://localhost/"  # a host named: kombu warns without one
        for folder in ("queue", "processed", "control"):
            (data_dir / "broker" / folder).mkdir(parents=True, exist_ok=True)
        _say(f"broker: filesystem queue in {data_dir / 'broker'}")
    else:
        _say("broker: CELERY_BROKER_URL")
    return env


def _child_setup() -> None:
    """In each child: its own process group, so a Ctrl-C or a SIGTERM to the terminal's group reaches
    only this launcher, which stops the children once and in order; and (Linux) SIGTERM should this
    launcher die without stopping them."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=_child_setup)


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)

    data_dir = Path(os.environ.get("CREDITS_DATA_DIR", ROOT / ".data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stopping = []
    # Ctrl-C reaches every process of the terminal's group; SIGTERM may reach only this one. Either
    # way this process stops the others in order, then the database stops when it exits.
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    env = _environment(data_dir)
    _manage("migrate", "--noinput", "-v", "0", env=env)
    _manage("load_defaults", env=env)
    _manage("create_demo_user", env=env)
    if stopping:
        return 0

    processes = [
        _start([sys.executable, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"], env),
        _start(
            [sys.executable, "-m", "celery", "-A", "credits_platform", "worker", "--beat", "--loglevel=INFO",
             "--concurrency=2", "--schedule", str(data_dir / "celerybeat-schedule")],
            env,
        ),
    ]
    _say(f"serving on http://{args.host}:{args.port}/ (API docs /api/v1/docs/, admin /admin/); Ctrl-C stops")
    try:
        while not stopping and all(process.poll() is None for process in processes):
            time.sleep(0.2)
    finally:
        _say("stopping web, worker and beat")
        _stop(processes)
    if not stopping:
        _say("stopped: a process exited on its own (see its output above)")
        return 1
    _say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
