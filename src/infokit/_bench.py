"""The benchmark cases that ship with infokit, run by ``infokit bench`` and by
``benchmarks/bench_discrete.py``.

Each case times infokit and every installed peer on the same data in the same process: one
warm-up call (not timed), then the median of ``repeats`` calls, timed with ``time.perf_counter``.
The floor beside them is the time to copy the input once, the least any method that reads the
data must spend: ``np.copy`` (read and write, as the issue states it) and a sum (read only). Slow
peers (scikit-learn) run on the same full-size data with fewer repeats; the table shows the count.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

ALPHABET = 1000  # symbols per variable, as in the targets
SEED = 12345


@dataclass(frozen=True)
class Preset:
    """Sizes and repeats: ``full`` is the issue's workload, ``quick`` the fast CLI run."""

    name: str
    n: int
    repeats: int
    slow_repeats: int  # timed calls of a slow peer (after its warm-up)


PRESETS = {
    "full": Preset("full", 10_000_000, 7, 2),
    "quick": Preset("quick", 1_000_000, 3, 1),
    "tiny": Preset("tiny", 20_000, 1, 1),  # the tests' size
}


@dataclass(frozen=True)
class Contender:
    """One implementation of a case. ``role`` is "infokit", "peer" or "floor"."""

    label: str
    role: str
    func: Callable[..., Any]
    slow: bool = False  # seconds per call at n = 10^7: time it ``slow_repeats`` times only
    target: float | None = None  # the speed-up over this peer that infokit should reach


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    variables: int  # how many label arrays the case takes
    contenders: Callable[[], list[Contender]]

    def data(self, n: int) -> tuple[np.ndarray, ...]:
        """``variables`` independent int64 arrays, uniform over ALPHABET symbols, fixed seed."""
        rng = np.random.default_rng(SEED)
        return tuple(rng.integers(0, ALPHABET, n, dtype=np.int64) for _ in range(self.variables))


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# The cases


def _entropy_contenders() -> list[Contender]:
    import scipy.stats

    from . import discrete

    def scipy_bincount(x: np.ndarray) -> float:
        return float(scipy.stats.entropy(np.bincount(x)))

    out = [
        Contender("infokit.discrete.entropy(x)", "infokit", lambda x: discrete.entropy(x)),
        Contender("scipy.stats.entropy(np.bincount(x))", "peer", scipy_bincount, target=3.0),
    ]
    # scikit-learn's own entropy (sklearn.metrics.cluster.entropy) is deprecated since 1.8.
    out += [
        Contender("floor: np.copy(x)", "floor", np.copy),
        Contender("floor, read only: x.sum()", "floor", np.sum),
    ]
    return out


def numpy_mutual_information(x: np.ndarray, y: np.ndarray, m: int = ALPHABET) -> float:
    """The numpy recipe: a joint histogram by ``bincount(x * m + y)``, then the plug-in MI."""
    joint = np.bincount(x * m + y, minlength=m * m).reshape(m, m).astype(np.float64)
    n = joint.sum()
    px = joint.sum(axis=1, keepdims=True)
    py = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log(joint[nz] * n / (px @ py)[nz])) / n)


def _mi_contenders() -> list[Contender]:
    from . import discrete

    out = [
        Contender(
            "infokit.discrete.mutual_information(x, y)",
            "infokit",
            lambda x, y: discrete.mutual_information(x, y),
        ),
        Contender("numpy: bincount(x*1000+y) -> MI", "peer", numpy_mutual_information, target=5.0),
    ]
    if _importable("sklearn"):
        from sklearn.metrics import mutual_info_score

        out.append(
            Contender(
                "sklearn.metrics.mutual_info_score(x, y)",
                "peer",
                mutual_info_score,
                slow=True,
                target=100.0,
            )
        )
    out += [
        Contender("floor: np.copy(x), np.copy(y)", "floor", lambda x, y: (x.copy(), y.copy())),
        Contender("floor, read only: x.sum(), y.sum()", "floor", lambda x, y: (x.sum(), y.sum())),
    ]
    return out


CASES = (
    Case(
        "entropy", f"plug-in entropy, int64 labels over {ALPHABET} symbols", 1, _entropy_contenders
    ),
    Case(
        "mutual_information",
        f"plug-in mutual information, pairs of int64 labels over {ALPHABET} symbols each",
        2,
        _mi_contenders,
    ),
)


# ---------------------------------------------------------------------------------------------
# Running


@dataclass(frozen=True)
class Timing:
    case: str
    label: str
    role: str
    threads: int | None  # None: the peer's own default
    repeats: int
    seconds: float  # median
    value: float | None
    agrees: bool | None  # value equal to infokit's on the same data (None: nothing to compare)
    target: float | None


@dataclass(frozen=True)
class Results:
    preset: Preset
    machine: dict[str, str]
    timings: list[Timing] = field(default_factory=list)


def median_seconds(
    func: Callable[..., Any], args: Sequence[Any], repeats: int
) -> tuple[float, Any]:
    """Median wall time of ``func(*args)`` over ``repeats`` calls after one untimed warm-up,
    and the warm-up's result."""
    result = func(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _as_value(result: Any) -> float | None:
    return float(result) if isinstance(result, (float, np.floating)) else None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def run(
    preset: str = "full",
    *,
    thread_counts: Sequence[int] = (1, 2),
    progress: TextIO | None = None,
) -> Results:
    """Time every case of :data:`CASES` at the sizes of ``preset`` ("full", "quick", "tiny")."""
    import infokit

    p = PRESETS[preset]
    results = Results(p, machine_info())
    for case in CASES:
        data = case.data(p.n)
        contenders = case.contenders()
        reference = float(next(c for c in contenders if c.role == "infokit").func(*data))
        for c in contenders:
            if progress is not None:
                print(f"  timing {case.name}: {c.label}", file=progress, flush=True)
            repeats = p.slow_repeats if c.slow else p.repeats
            # infokit at each thread count; peers as they come (numpy, scipy and
            # scikit-learn count on one thread here).
            runs: list[int | None] = list(thread_counts) if c.role == "infokit" else [None]
            for threads in runs:
                with infokit.threads(threads) if threads else contextlib.nullcontext():
                    seconds, result = median_seconds(c.func, data, repeats)
                value = _as_value(result) if c.role != "floor" else None
                results.timings.append(
                    Timing(
                        case=case.name,
                        label=c.label,
                        role=c.role,
                        threads=threads,
                        repeats=repeats,
                        seconds=seconds,
                        value=value,
                        agrees=None if value is None else _close(value, reference),
                        target=c.target,
                    )
                )
    return results


def machine_info() -> dict[str, str]:
    """CPU, cores, load, library versions and the date, for the record beside the numbers."""
    import scipy

    import infokit

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "infokit": infokit.__version__,
        "backends": ", ".join(infokit.available_backends()),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    try:
        import sklearn

        info["scikit-learn"] = sklearn.__version__
    except ImportError:
        info["scikit-learn"] = "not installed"
    if hasattr(os, "getloadavg"):
        info["load average (1, 5, 15 min)"] = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return info


# ---------------------------------------------------------------------------------------------
# Reporting


def _fmt_n(n: int) -> str:
    exponent = math.log10(n) if n > 0 else 0.0
    return f"10^{round(exponent)}" if exponent == round(exponent) else f"{n:,}"


def _fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table padded so it also reads well in a terminal."""
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]


def format_results(results: Results) -> str:
    """Tables of medians and ratios (markdown, aligned), one per case, and the verdicts."""
    p = results.preset
    out = [
        f"infokit bench ({p.name}): n = {_fmt_n(p.n)}, median of the timed runs after one "
        "warm-up, all on the same data in one process",
        "",
        "Machine:",
        *(f"- {k}: {v}" for k, v in results.machine.items()),
    ]
    for case in CASES:
        timings = [t for t in results.timings if t.case == case.name]
        base = next(t for t in timings if t.role == "infokit" and t.threads == 1)
        fastest = min(t.seconds for t in timings if t.role == "infokit")
        out += ["", f"### {case.title}, n = {_fmt_n(p.n)}", ""]
        rows = []
        for t in timings:
            check = {None: "", True: "yes", False: "NO"}[t.agrees]
            rows.append(
                [
                    t.label,
                    "-" if t.threads is None else str(t.threads),
                    str(t.repeats),
                    _fmt_ms(t.seconds),
                    f"{t.seconds / base.seconds:.3g}",
                    check,
                ]
            )
        header = [
            "implementation",
            "threads",
            "runs",
            "median ms",
            "/ infokit 1 thr",
            "same value",
        ]
        out += markdown_table(header, rows)
        out.append("")
        for t in timings:
            if t.target is None:
                continue
            one, best = t.seconds / base.seconds, t.seconds / fastest
            verdict = "met" if one >= t.target else "NOT met"
            if p.name != "full":
                verdict += f" here; the target is set for n = {_fmt_n(PRESETS['full'].n)}"
            out.append(
                f"- against {t.label}: infokit is {one:.1f}x as fast on 1 thread, {best:.1f}x "
                f"at best (target >= {t.target:g}x on 1 thread: {verdict})"
            )
        for floor in (t for t in timings if t.role == "floor"):
            out.append(
                f"- infokit on 1 thread takes {base.seconds / floor.seconds:.2f}x the time of "
                f"{floor.label.split(': ', 1)[1]}"
            )
    out += [
        "",
        "threads '-': the peer as it comes (numpy, scipy and scikit-learn run these on one "
        "thread). 'same value': the result equals infokit's on the same data (rel. 1e-9).",
    ]
    out += [
        "",
        "'runs': timed calls after one warm-up (fewer for the slow peer). The floors: np.copy "
        "reads the input and writes a fresh copy (page faults included), so a one-pass counter "
        "that only reads can beat it; the sum is a pure read.",
    ]
    return "\n".join(out)
