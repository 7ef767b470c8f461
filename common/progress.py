"""Progress of the long operator commands (the monthly reset, a staff grant to a package, the ledger
check, the finance report): a bar on a terminal, with done / total, rate and time left (tqdm);
nothing at all when the output is piped or redirected, so scripts read only the command's lines.

The bar goes to stderr and its last state stays there (how long it took, at what rate): stdout
keeps the command's own lines only.
"""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

Advance = Callable[[int], object]  # advance(n): n more units done


@contextmanager
def progress_bar(description: str, *, total: int, unit: str, stream=None) -> Iterator[Advance]:
    stream = stream or sys.stderr
    on_terminal = bool(getattr(stream, "isatty", None) and stream.isatty())
    with tqdm(total=total, desc=description, unit=f" {unit}", file=stream, disable=not on_terminal,
              leave=True, dynamic_ncols=True, unit_scale=total >= 10_000, mininterval=0.2) as bar:
        yield bar.update
