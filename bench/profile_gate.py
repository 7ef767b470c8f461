"""Where a paid request's time goes: the gated posts view vs its ungated twin, in one process.

    .venv/bin/python -m bench.profile_gate [--requests 300] [--output bench/gate-profile.txt]

Sequential requests through Django's test client (no HTTP server, no concurrency), so the
difference between the two is the gate alone: queries per request, milliseconds per request,
and a pyinstrument profile of the gated requests written to `--output`.
"""

import argparse
import sys
import time
from pathlib import Path

from .common import recreate_database, setup_django

DEMO = ["alice.travels", "bob_fitness", "chef.carla", "dev_dan", "eco_emma"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--output", type=Path, default=Path("bench/gate-profile.txt"))
    args = parser.parse_args(argv)

    recreate_database()
    setup_django("bench.settings")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from testing.endpoints import statements

    from .http_load import seed

    tokens = seed(1, 1000)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {tokens['clients'][0]}")
    gated = lambda name: f"/api/v1/profile/{name}/posts"  # noqa: E731
    ungated = lambda name: f"/bench/ungated/{name}/posts"  # noqa: E731

    def run(path_for, n: int) -> float:
        started = time.perf_counter()
        for i in range(n):
            response = client.get(path_for(DEMO[i % len(DEMO)]))
            assert response.status_code == 200, response.content
        return 1000 * (time.perf_counter() - started) / n

    def queries(path: str) -> str:
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        sql = statements(captured)
        return f"{len(sql)} (+{len(captured) - len(sql)} transaction control)"

    run(gated, 20), run(ungated, 20)  # warm caches and connections
    print(f"queries per request: gate off {queries(ungated('dev_dan'))}, gate on {queries(gated('dev_dan'))}")
    off, on = run(ungated, args.requests), run(gated, args.requests)
    print(f"ms per request:      gate off {off:.2f}, gate on {on:.2f}  (ratio of rates {off / on:.2f})")

    profiler = Profiler(interval=0.0005)
    with profiler:
        run(gated, args.requests)
    args.output.write_text(profiler.output_text(unicode=False, color=False))
    print(f"profile of {args.requests} gated requests: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
