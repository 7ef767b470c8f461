"""The ledger as CSV, produced row by row.

A history can hold hundreds of thousands of rows, so nothing here builds the whole file: the rows
come from a server-side cursor (`QuerySet.iterator`, a named cursor on PostgreSQL) in chunks, and
the text goes out in small batches as the client reads it. Memory stays flat whatever the size.
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

COLUMNS = (
    "id",
    "created_at",
    "transaction_type",
    "amount",
    "delta",
    "balance_after",
    "action_type",
    "quantity",
    "reference",
    "description",
)
TEXT_COLUMNS = {"transaction_type", "action_type", "reference", "description", "member"}
MEMBER_COLUMN = ("member", "member__username")  # a team wallet's files add who spent (header, field)
CURSOR_CHUNK = 2000  # rows fetched per round trip of the server-side cursor
ROWS_PER_WRITE = 500  # rows joined into one chunk of the response
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like object whose write() returns what it was given, so csv.writer makes strings."""

    def write(self, value: str) -> str:
        return value


def _safe(value: str) -> str:
    """A spreadsheet runs a cell that starts like a formula; a quote in front makes it plain text
    (references and descriptions can come from people, e.g. a staff adjustment's reason)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _cells(row: tuple, names: tuple) -> list:
    cells = []
    for name, value in zip(names, row):
        if name == "created_at":
            value = value.isoformat()
        elif name in TEXT_COLUMNS:
            value = _safe(value or "")
        cells.append(value)
    return cells


def ledger_csv_lines(entries: QuerySet, *, with_member: bool = False) -> Iterator[str]:
    """The header, then batches of CSV lines for `entries` (already filtered, ordered and scoped);
    `with_member`: a last column naming the member (a team wallet's history)."""
    names = COLUMNS + (MEMBER_COLUMN[0],) if with_member else COLUMNS
    fields = COLUMNS + (MEMBER_COLUMN[1],) if with_member else COLUMNS
    writer = csv.writer(_Line())
    yield writer.writerow(names)
    batch: list[str] = []
    rows: Iterable[tuple] = entries.values_list(*fields).iterator(chunk_size=CURSOR_CHUNK)
    for row in rows:
        batch.append(writer.writerow(_cells(row, names)))
        if len(batch) >= ROWS_PER_WRITE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)
