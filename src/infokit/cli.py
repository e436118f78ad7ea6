"""The ``infokit`` command: ``infokit report`` and ``infokit bench``.

    infokit report [PATH] [--target COLUMN] [--base 2] [--bins N] [--json]
    infokit bench [--quick]

Errors in the input (a bad path, a malformed file, an unknown column) print one line on stderr
and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
from collections.abc import Sequence

from . import __version__
from ._report import DataError, Report, build_report, default_table, load_table

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infokit",
        description="Information measures of data sets, and infokit's speed against its peers.",
    )
    parser.add_argument("--version", action="version", version=f"infokit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    report = sub.add_parser(
        "report",
        help="entropy, mutual information and total correlation of a table",
        description=(
            "Entropy of each column, its mutual information with the target column, and the "
            "total correlation of the table. Integer, bool and string columns are discrete; so "
            "are float columns of at most 64 distinct whole numbers. Other float columns are "
            "real: their differential entropy comes from a uniform-width histogram "
            "(Freedman-Diaconis bins), and they are cut into equal-mass bins for MI and total "
            "correlation. Without PATH, reports on the embedded data set, whose true values "
            "are known, and prints them beside the estimates."
        ),
    )
    report.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help=".npy (2-D array), .npz (one 2-D array or several 1-D columns) or .csv (header row)",
    )
    report.add_argument(
        "--target",
        metavar="COLUMN",
        help="target column for mutual information: a name or an index (default: the last)",
    )
    report.add_argument(
        "--base", type=float, default=None, help="logarithm base, e.g. 2 for bits (default: nats)"
    )
    report.add_argument(
        "--bins",
        type=int,
        default=None,
        metavar="N",
        help="equal-mass bins per real column for MI and total correlation "
        "(default: 16, fewer below 2560 rows)",
    )
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")

    bench = sub.add_parser(
        "bench",
        help="time infokit against scipy, numpy and scikit-learn",
        description=(
            "Times the shipped benchmark cases (plug-in entropy and mutual information) with "
            "infokit and each installed peer on the same data, and prints medians and ratios."
        ),
    )
    bench.add_argument(
        "--quick", action="store_true", help="10^6 samples and 3 repeats (well under 30 s)"
    )
    # Tests run the whole path at a toy size.
    bench.add_argument("--preset", choices=("full", "quick", "tiny"), help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``infokit`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            return _report(args)
        return _bench(args)
    except BrokenPipeError:  # `infokit report | head`
        sys.stderr.close()
        return 0


def _fail(message: str) -> int:
    print(f"infokit: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _report(args: argparse.Namespace) -> int:
    try:
        if args.path is None:
            table, truth = default_table()
        else:
            table, truth = load_table(args.path), None
        report = build_report(
            table, target=args.target, base=args.base, bins=args.bins, truth=truth
        )
    except (DataError, ValueError, TypeError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from . import _bench

    preset = args.preset or ("quick" if args.quick else "full")
    print(_bench.format_results(_bench.run(preset, progress=sys.stderr)))
    return 0


# ---------------------------------------------------------------------------------------------
# Text layout


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.4f}" if math.isfinite(v) else str(v)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> list[str]:
    """Columns padded to their widest cell; numbers (from column ``numeric_from``) right-aligned."""
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if j >= numeric_from else c.ljust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(parts).rstrip()

    return [line(header), "  " + "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def format_report(report: Report) -> str:
    """The report as aligned plain-text tables."""
    has_truth = any(c.entropy_true is not None for c in report.columns)
    truth_col = ["true"] if has_truth else []
    out = [
        f"infokit report: {report.source}",
        f"{report.rows} rows, {len(report.columns)} columns, target {report.target!r}, "
        f"units: {report.units}",
        "",
        "Entropy of each column",
    ]
    rows = [
        [
            c.name,
            c.kind,
            c.entropy_estimator,
            _num(c.entropy_plugin),
            _num(c.entropy_miller_madow),
            *([_num(c.entropy_true)] if has_truth else []),
        ]
        for c in report.columns
    ]
    out += _table(["column", "kind", "estimator", "plug-in", "Miller-Madow", *truth_col], rows, 3)

    out += ["", f"Mutual information with the target {report.target!r}"]
    has_real = any(c.kind == "real" for c in report.columns)
    if has_real:
        out.append(f"  (real columns cut into {report.mi_bins} equal-mass bins)")
    rows = [
        [
            c.name,
            c.kind,
            _num(c.mi_plugin),
            _num(c.mi_miller_madow),
            *([_num(c.mi_true)] if has_truth else []),
        ]
        for c in report.columns
        if c.name != report.target
    ]
    out += _table(["column", "kind", "plug-in", "Miller-Madow", *truth_col], rows, 2)

    out += ["", f"Total correlation of all {len(report.columns)} columns"]
    out.append(f"  ({report.joint_symbols} joint symbols seen in {report.rows} rows)")
    rows = [
        [
            "sum H(X_i) - H(X_1..X_d)",
            _num(report.total_correlation_plugin),
            _num(report.total_correlation_miller_madow),
            *([_num(report.total_correlation_true)] if has_truth else []),
        ]
    ]
    out += _table(["", "plug-in", "Miller-Madow", *truth_col], rows, 1)

    out += ["", "Notes"]
    for note in report.notes:
        out += textwrap.wrap(
            note, width=100, initial_indent="  - ", subsequent_indent="    ", break_on_hyphens=False
        )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
