"""The information report behind ``infokit report``: read a table, measure each column, compare
with the truth when it is known. Pure computation; :mod:`infokit.cli` does the printing.

What is measured (all in nats inside, converted to ``base`` at the end):

- **Entropy of each column.** Discrete columns: the plug-in estimate H = log n - (1/n) sum c log c
  on the exact symbol counts, with Miller-Madow, H + (K - 1)/(2n), beside it. Real columns: the
  differential entropy h from a histogram of uniform-width bins, h ~ H(bins) + log(width), with
  the bin count from the Freedman-Diaconis rule (width 2 IQR n^(-1/3)); H(bins) is again plug-in
  or Miller-Madow.
- **Mutual information with the target column**, I = H(X) + H(Y) - H(X, Y) with the same
  estimator in every term. Real columns are first cut into equal-mass bins (``mi_bins`` of them),
  which gives a lower bound of the continuous MI (data processing) up to the estimator's bias.
- **Total correlation** of the whole table, C = sum_i H(X_i) - H(X_1, ..., X_d), on the same
  discretised columns.

Which columns are discrete: integer, bool and string columns; float columns whose values are all
whole numbers and take at most ``MAX_DISCRETE_LEVELS`` distinct values (class labels or counts
stored as floats), and constant float columns. Every other float column is real.
"""

from __future__ import annotations

import csv
import json
import math
import zipfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import _counts
from ._validation import as_labels, check_base, check_positive_int, to_base

MAX_DISCRETE_LEVELS = 64
DEFAULT_MI_BINS = 16
MAX_HISTOGRAM_BINS = 100_000
SUFFIXES = (".npy", ".npz", ".csv")


class DataError(ValueError):
    """The input cannot be reported on; the message is one line meant for the user."""


@dataclass(frozen=True)
class Table:
    """Named 1-D columns of equal length, read from ``source``."""

    source: str
    names: tuple[str, ...]
    columns: tuple[np.ndarray, ...]

    @property
    def rows(self) -> int:
        return len(self.columns[0])


@dataclass(frozen=True)
class ColumnReport:
    """One column: its entropy and its mutual information with the target (None for the target)."""

    name: str
    kind: str  # "discrete" or "real"
    symbols: int  # distinct values (discrete) or histogram bins (real)
    entropy_estimator: str
    entropy_plugin: float
    entropy_miller_madow: float
    entropy_true: float | None
    mi_plugin: float | None
    mi_miller_madow: float | None
    mi_true: float | None


@dataclass(frozen=True)
class Report:
    source: str
    rows: int
    target: str
    units: str
    base: float | None
    mi_bins: int
    columns: tuple[ColumnReport, ...]
    total_correlation_plugin: float
    total_correlation_miller_madow: float
    total_correlation_true: float | None
    joint_symbols: int
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["columns"] = [asdict(c) for c in self.columns]
        d["notes"] = list(self.notes)
        return d


# ---------------------------------------------------------------------------------------------
# Reading tables


def load_table(path: str | Path) -> Table:
    """Read a ``.npy`` (2-D array, or a structured array), ``.npz`` (one 2-D array, or several
    1-D arrays as named columns) or ``.csv`` (header row, then one row per sample) file.

    Raises :class:`DataError` with a one-line message for anything it cannot use.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(
            f"cannot read {str(p)!r}: unsupported file type {suffix or '(none)'!r}, "
            f"expected one of {', '.join(SUFFIXES)}"
        )
    if not p.exists():
        raise DataError(f"cannot read {str(p)!r}: no such file")
    if p.is_dir():
        raise DataError(f"cannot read {str(p)!r}: it is a directory")
    try:
        if suffix == ".csv":
            names, columns = _read_csv(p)
        elif suffix == ".npz":
            names, columns = _read_npz(p)
        else:
            names, columns = _read_npy(p)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {str(p)!r} as {suffix} data: {reason}") from None
    return _checked_table(str(p), names, columns)


def default_table() -> tuple[Table, dict[str, Any]]:
    """The embedded data set (``infokit/data/default.npz``) and its true values (nats)."""
    folder = resources.files("infokit") / "data"
    with resources.as_file(folder / "default.npz") as npz:
        names, columns = _read_npz(Path(npz))
    truth = json.loads((folder / "default.json").read_text(encoding="utf-8"))
    table = _checked_table("embedded default data set (infokit/data/default.npz)", names, columns)
    return table, truth


def _read_npy(p: Path) -> tuple[list[str], list[np.ndarray]]:
    a = np.load(p, allow_pickle=False)
    if a.dtype.names:  # a structured array: its fields are the columns
        if a.ndim != 1:
            raise DataError(f"{p.name}: a structured array must be 1-D, got shape {a.shape}")
        return list(a.dtype.names), [np.asarray(a[f]) for f in a.dtype.names]
    return _columns_of_matrix(a, p.name)


def _read_npz(p: Path) -> tuple[list[str], list[np.ndarray]]:
    with np.load(p, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    if not arrays:
        raise DataError(f"{p.name}: the archive holds no arrays")
    if len(arrays) == 1:
        ((key, a),) = arrays.items()
        if a.ndim == 1:
            raise DataError(f"{p.name}: one 1-D array {key!r} is one column; a table needs two")
        return _columns_of_matrix(a, f"{p.name}[{key}]")
    bad = {k: a.shape for k, a in arrays.items() if a.ndim != 1}
    if bad:
        raise DataError(
            f"{p.name}: with several arrays each must be a 1-D column, but {_describe(bad)}"
        )
    return list(arrays), list(arrays.values())


def _describe(shapes: dict[str, tuple[int, ...]]) -> str:
    return ", ".join(f"{k!r} has shape {s}" for k, s in shapes.items())


def _columns_of_matrix(a: np.ndarray, what: str) -> tuple[list[str], list[np.ndarray]]:
    if a.ndim != 2:
        raise DataError(f"{what}: expected a 2-D array (rows x columns), got shape {a.shape}")
    return [f"col{j}" for j in range(a.shape[1])], [a[:, j] for j in range(a.shape[1])]


def _read_csv(p: Path) -> tuple[list[str], list[np.ndarray]]:
    with p.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{p.name}: the file is empty (expected a header row)") from None
        except csv.Error as exc:
            raise DataError(f"{p.name}: line 1: {exc}") from None
        header = [h.strip() for h in header]
        if any(not h for h in header):
            raise DataError(f"{p.name}: line 1: the header has an empty column name")
        cells: list[list[str]] = [[] for _ in header]
        try:
            for row in reader:
                if not row:  # blank lines carry nothing
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{p.name}: line {reader.line_num} has {len(row)} fields, "
                        f"the header has {len(header)}"
                    )
                for j, value in enumerate(row):
                    value = value.strip()
                    if not value:
                        raise DataError(
                            f"{p.name}: line {reader.line_num}: column {header[j]!r} is empty "
                            "(missing values are not supported)"
                        )
                    cells[j].append(value)
        except csv.Error as exc:
            raise DataError(f"{p.name}: line {reader.line_num}: {exc}") from None
    return header, [_parse_cells(c) for c in cells]


def _parse_cells(cells: list[str]) -> np.ndarray:
    """Integers if every cell is one, else floats if every cell is one, else strings."""
    for kind in (int, float):
        try:
            return np.array([kind(c) for c in cells])
        except (ValueError, OverflowError):
            continue
    return np.array(cells)


def _checked_table(source: str, names: list[str], columns: list[np.ndarray]) -> Table:
    if len(names) < 2:
        raise DataError(f"{source}: a report needs at least two columns, got {len(names)}")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"{source}: duplicate column names {dup}")
    lengths = {n: len(c) for n, c in zip(names, columns, strict=True)}
    if len(set(lengths.values())) > 1:
        raise DataError(f"{source}: columns differ in length: {lengths}")
    if lengths[names[0]] == 0:
        raise DataError(f"{source}: the table has no rows")
    for name, c in zip(names, columns, strict=True):
        if c.dtype.kind not in "biufUS":
            raise DataError(
                f"{source}: column {name!r} has dtype {c.dtype}; expected integers, bools, "
                "floats or strings"
            )
        if c.dtype.kind == "f" and not np.isfinite(c).all():
            row = int(np.flatnonzero(~np.isfinite(c))[0])
            raise DataError(
                f"{source}: column {name!r} has NaN or inf (first at row {row}); "
                "a report needs complete data"
            )
    return Table(source, tuple(names), tuple(np.ascontiguousarray(c) for c in columns))


# ---------------------------------------------------------------------------------------------
# Measuring


def is_discrete(column: np.ndarray) -> bool:
    """The rule of the module docstring."""
    if column.dtype.kind in "biuUS":
        return True
    levels = np.unique(column)
    if len(levels) == 1:
        return True
    return len(levels) <= MAX_DISCRETE_LEVELS and bool(np.all(levels == np.round(levels)))


def resolve_target(table: Table, target: str | None) -> int:
    """Column index of ``target``: a column name, or an integer index (negative from the end);
    None means the last column."""
    if target is None:
        return len(table.names) - 1
    if target in table.names:
        return table.names.index(target)
    try:
        index = int(target)
    except ValueError:
        index = None
    if index is not None and -len(table.names) <= index < len(table.names):
        return index % len(table.names)
    raise DataError(
        f"unknown target column {target!r}: the columns are {', '.join(table.names)} "
        f"(or an index from 0 to {len(table.names) - 1})"
    )


def default_mi_bins(rows: int) -> int:
    """16 equal-mass bins, fewer for small tables: k = floor(sqrt(n / 10)) keeps >= 10 rows per
    cell of a k x k table on average."""
    return max(2, min(DEFAULT_MI_BINS, math.isqrt(rows // 10)))


def freedman_diaconis_bins(x: np.ndarray) -> int:
    """Bins of width 2 IQR n^(-1/3) over [min, max] (Sturges' log2(n) + 1 when the IQR is 0)."""
    n = len(x)
    q25, q75 = np.percentile(x, [25.0, 75.0])
    span = float(x.max() - x.min())
    width = 2.0 * float(q75 - q25) * n ** (-1.0 / 3.0)
    bins = math.ceil(span / width) if width > 0 else math.ceil(math.log2(n)) + 1
    return max(1, min(bins, n, MAX_HISTOGRAM_BINS))


def _labels(column: np.ndarray) -> np.ndarray:
    """Integer labels of a discrete column (strings and integral floats made integers)."""
    if column.dtype.kind in "US":
        return np.unique(column, return_inverse=True)[1].reshape(-1).astype(np.int64)
    if column.dtype.kind == "f":
        return np.unique(column, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return column


def _entropy_pair(labels: np.ndarray) -> tuple[float, float]:
    from . import discrete

    return (
        float(discrete.entropy(labels, estimator="plugin")),
        float(discrete.entropy(labels, estimator="miller_madow")),
    )


def _real_entropy(x: np.ndarray) -> tuple[int, float, float]:
    """Histogram estimate of the differential entropy: (bins, plug-in h, Miller-Madow h)."""
    from . import binning

    bins = freedman_diaconis_bins(x)
    width = float(x.max() - x.min()) / bins
    codes = binning.uniform(x, bins)
    h_plugin, h_mm = _entropy_pair(codes)
    return bins, h_plugin + math.log(width), h_mm + math.log(width)


def build_report(
    table: Table,
    *,
    target: str | None = None,
    base: float | None = None,
    bins: int | None = None,
    truth: dict[str, Any] | None = None,
) -> Report:
    """Measure ``table``: see the module docstring. ``bins`` overrides the number of equal-mass
    bins that real columns are cut into for MI and total correlation. ``truth`` (nats, the
    layout of ``infokit/data/default.json``) adds the true values beside the estimates."""
    from . import binning, discrete

    b = check_base(base)
    mi_bins = default_mi_bins(table.rows) if bins is None else check_positive_int(bins, "bins", 2)
    t = resolve_target(table, target)
    truths = (truth or {}).get("columns", {})

    discretised: list[np.ndarray] = []
    entropies: list[tuple[str, int, str, float, float]] = []
    for column in table.columns:
        if is_discrete(column):
            labels = _labels(column)
            k = len(np.unique(labels))
            entropies.append(("discrete", k, f"counts, {k} symbols", *_entropy_pair(labels)))
            discretised.append(labels)
        else:
            x = column.astype(np.float64)
            k, h_plugin, h_mm = _real_entropy(x)
            entropies.append(("real", k, f"histogram, {k} bins", h_plugin, h_mm))
            discretised.append(binning.equal_mass(x, mi_bins))

    def conv(v: float | None) -> float | None:
        return None if v is None else float(to_base(v, b))

    y = discretised[t]
    rows: list[ColumnReport] = []
    for j, name in enumerate(table.names):
        kind, k, estimator, h_plugin, h_mm = entropies[j]
        known = truths.get(name, {})
        mi_plugin = mi_mm = None
        if j != t:
            x = discretised[j]
            mi_plugin = float(discrete.mutual_information(x, y, estimator="plugin"))
            mi_mm = float(discrete.mutual_information(x, y, estimator="miller_madow"))
        rows.append(
            ColumnReport(
                name=name,
                kind=kind,
                symbols=k,
                entropy_estimator=estimator,
                entropy_plugin=float(to_base(h_plugin, b)),
                entropy_miller_madow=float(to_base(h_mm, b)),
                entropy_true=conv(known.get("entropy")),
                mi_plugin=conv(mi_plugin),
                mi_miller_madow=conv(mi_mm),
                mi_true=None if j == t else conv(known.get("mutual_information")),
            )
        )

    tc_plugin = float(discrete.total_correlation(*discretised, estimator="plugin"))
    tc_mm = float(discrete.total_correlation(*discretised, estimator="miller_madow"))
    joint_symbols = len(_counts.joint(*(as_labels(c) for c in discretised))[1])
    tc_true = (truth or {}).get("total_correlation")

    return Report(
        source=table.source,
        rows=table.rows,
        target=table.names[t],
        units=_units(b),
        base=b,
        mi_bins=mi_bins,
        columns=tuple(rows),
        total_correlation_plugin=float(to_base(tc_plugin, b)),
        total_correlation_miller_madow=float(to_base(tc_mm, b)),
        total_correlation_true=conv(tc_true),
        joint_symbols=joint_symbols,
        notes=_notes(table.rows, mi_bins, rows, joint_symbols),
    )


def _units(base: float | None) -> str:
    if base is None:
        return "nats"
    if base == 2.0:
        return "bits"
    if base == 10.0:
        return "dits"
    return f"log base {base:g}"


def _notes(
    rows: int, mi_bins: int, columns: list[ColumnReport], joint_symbols: int
) -> tuple[str, ...]:
    notes = [
        "Discrete columns: plug-in entropy on the exact counts; Miller-Madow adds (K - 1)/(2n).",
    ]
    if any(c.kind == "real" for c in columns):
        notes.append(
            "Real columns: differential entropy from a histogram of uniform-width bins "
            "(Freedman-Diaconis rule), h = H(bins) + log(bin width); for MI and total "
            f"correlation they are cut into {mi_bins} equal-mass bins, which bounds the "
            "continuous MI from below (up to estimator bias)."
        )
    notes.append("MI and total correlation combine entropies from one estimator in every term.")
    for c in columns:
        if c.kind == "discrete" and c.symbols > rows / 5:
            notes.append(
                f"Column {c.name!r} has {c.symbols} symbols for {rows} rows: its entropy and MI "
                "are undersampled (plug-in is biased low, MI high)."
            )
    if joint_symbols > rows / 5:
        notes.append(
            f"The table has {joint_symbols} joint symbols for {rows} rows: the total correlation "
            "is undersampled and biased upward."
        )
    return tuple(notes)
