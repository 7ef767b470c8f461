"""The headline ratios of one `make bench` run, collected across its scripts and printed last.

Each script records its ratios in a JSON file beside the benchmark database's name (in
`CREDITS_DATA_DIR`, git-ignored); `python -m bench.results` prints them as one line."""

import json
import os
import sys
from pathlib import Path

from .common import BENCH_DB

PATH = Path(os.environ.get("CREDITS_DATA_DIR", Path(__file__).resolve().parent.parent / ".data")) / f"{BENCH_DB}-results.json"
KEYS = ("gate_ratio", "hot_ratio", "core_ratio", "events_ratio")


def record(**ratios: float) -> None:
    PATH.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(PATH.read_text()) if PATH.exists() else {}
    results.update(ratios)
    PATH.write_text(json.dumps(results))


def reset() -> None:
    PATH.unlink(missing_ok=True)


def main(argv=None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args == ["--reset"]:
        reset()
        return 0
    results = json.loads(PATH.read_text()) if PATH.exists() else {}
    print(" ".join(f"{key}={results[key]:.2f}" if key in results else f"{key}=n/a" for key in KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
