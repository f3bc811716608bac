"""Write a figure in the asked formats and its data as CSV beside it.

``-o out/speedup.pdf`` writes out/speedup.pdf and out/speedup.csv; ``-o out/speedup`` with
``--format png --format svg`` writes out/speedup.png, out/speedup.svg and out/speedup.csv.
The CSV holds the raw numbers (SI units named in the column headers), not the scaled axis values.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from accelsim.config.errors import ConfigError
from accelsim.plot.style import paper

FORMATS = ("png", "pdf", "svg")


@dataclass(frozen=True)
class Table:
    """The numbers behind a figure: one header, one tuple per row."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @staticmethod
    def from_dicts(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Table:
        if columns is None:
            columns = list(dict.fromkeys(key for row in rows for key in row))
        return Table(tuple(columns), tuple(tuple(row.get(c) for c in columns) for row in rows))


def output_paths(out: str | Path, formats: Sequence[str] = ()) -> list[Path]:
    """The picture files for ``-o out`` and ``--format``s (PNG when neither names one)."""
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    for fmt in formats:
        if fmt not in FORMATS:
            raise ConfigError(None, "--format", "one of " + ", ".join(FORMATS), fmt)
    if suffix in FORMATS:
        stem = out.with_suffix("")
        wanted = [suffix, *(f for f in formats if f != suffix)]
    else:
        stem = out
        wanted = list(dict.fromkeys(formats)) or ["png"]
    return [stem.parent / f"{stem.name}.{fmt}" for fmt in wanted]


def save_figure(
    figure: Figure, table: Table, out: str | Path, formats: Sequence[str] = ()
) -> list[Path]:
    """Write the picture(s) and ``<stem>.csv``; returns every path written."""
    paths = output_paths(out, formats)
    folder = paths[0].parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(str(out), None, "a writable output path", str(err)) from None
    with paper():
        for path in paths:
            # metadata: no creation date, so the same data gives byte-identical PDFs and SVGs.
            metadata = {"CreationDate": None} if path.suffix == ".pdf" else None
            if path.suffix == ".svg":
                metadata = {"Date": None}
            figure.savefig(path, metadata=metadata)
    csv_path = paths[0].with_suffix(".csv")
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(["" if v is None else v for v in row])
    return [*paths, csv_path]
