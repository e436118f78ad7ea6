"""Entropy coding against constriction: the workloads of issue 5, one thread, same run.

    python benchmarks/bench_coding.py                 # full sizes; writes a RESULTS.md section
    python benchmarks/bench_coding.py --preset quick --output -

Workloads (from the issue and /shared/notes/coding.md):
  (a) i.i.d. truncated Zipf(1.1) over 256 symbols, 10^7 symbols, one static categorical;
  (b) per-symbol quantized Gaussian, mean ~ N(0, 5^2), scale log-uniform on [0.11, 20], coding
      round(y) under N(mean, scale) on [-512, 511], 10^6 symbols;
  (c) a 3-component Gaussian mixture per symbol (components around the mean, weights from a
      Dirichlet), 10^6 symbols; constriction has no mixture model in Python, so infokit alone.
Each contender runs once untimed, then the median of ``repeats`` timed runs, by two clocks in
separate passes: wall time (perf_counter) and the thread's CPU time (thread_time, which leaves out
the time other processes take the core: steadier ratios on a shared machine; every coder here runs
on the calling thread, and one infokit thread is forced). infokit is timed through its public API
(the stream header and CRC included). The overhead column is
bits / ideal_bits - 1 with ideal_bits = sum -log2 p under the continuous model; the streams'
fixed costs (infokit: a 12-16-byte header and the rANS lanes' start and final states) are
included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _results import RESULTS, load_average, write_section

import infokit
from infokit import coding

HEADING = "## Entropy coding (benchmarks/bench_coding.py)"
PRESETS = {"full": (10_000_000, 1_000_000, 5), "quick": (1_000_000, 200_000, 3)}
SEED = 5


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
_clock = CLOCKS["wall"]


def timed(func: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    out = func()
    times = []
    for _ in range(repeats):
        t = _clock()
        func()
        times.append(_clock() - t)
    return statistics.median(times), out


def zipf(K: int = 256, a: float = 1.1) -> np.ndarray:
    p = np.arange(1, K + 1, dtype=np.float64) ** -a
    return p / p.sum()


def run(preset: str) -> list[dict[str, Any]]:
    n_cat, n_par, repeats = PRESETS[preset]
    rng = np.random.default_rng(SEED)
    try:
        import constriction
    except ImportError:
        constriction = None
    rows: list[dict[str, Any]] = []

    def add(workload: str, coder: str, n: int, enc: float, dec: float, bits: float, ideal: float):
        rows.append(
            {
                "workload": workload,
                "coder": coder,
                "n": n,
                "enc": n / enc / 1e6,
                "dec": n / dec / 1e6,
                "overhead": bits / ideal - 1.0,
            }
        )

    # (a) static categorical
    p = zipf()
    x = rng.choice(256, size=n_cat, p=p)
    model = coding.Categorical(p)
    t_enc, stream = timed(lambda: coding.encode(x, model), repeats)
    t_dec, back = timed(lambda: coding.decode(stream, model), repeats)
    assert np.array_equal(back, x)
    ideal = stream.ideal_bits
    add("(a) Zipf(1.1), 256 symbols", "infokit rANS", n_cat, t_enc, t_dec, stream.bits, ideal)
    t_enc, ranged = timed(lambda: coding.encode(x, model, coder="range"), repeats)
    t_dec, back = timed(lambda: coding.decode(ranged, model), repeats)
    assert np.array_equal(back, x)
    add("(a) Zipf(1.1), 256 symbols", "infokit range", n_cat, t_enc, t_dec, ranged.bits, ideal)
    if constriction is not None:
        x32 = x.astype(np.int32)
        cmodel = constriction.stream.model.Categorical(p, perfect=False)

        def c_enc() -> np.ndarray:
            coder = constriction.stream.stack.AnsCoder()
            coder.encode_reverse(x32, cmodel)
            return coder.get_compressed()

        t_enc, words = timed(c_enc, repeats)
        t_dec, back = timed(
            lambda: constriction.stream.stack.AnsCoder(words).decode(cmodel, n_cat), repeats
        )
        assert np.array_equal(back, x32)
        add(
            "(a) Zipf(1.1), 256 symbols",
            "constriction ANS",
            n_cat,
            t_enc,
            t_dec,
            32 * words.size,
            ideal,
        )

        def c_range_enc() -> np.ndarray:
            coder = constriction.stream.queue.RangeEncoder()
            coder.encode(x32, cmodel)
            return coder.get_compressed()

        t_enc, words = timed(c_range_enc, repeats)
        t_dec, back = timed(
            lambda: constriction.stream.queue.RangeDecoder(words).decode(cmodel, n_cat), repeats
        )
        assert np.array_equal(back, x32)
        bits = 32 * words.size
        add("(a) Zipf(1.1), 256 symbols", "constriction range", n_cat, t_enc, t_dec, bits, ideal)

    # (b) per-symbol Gaussian
    mean = rng.normal(0.0, 5.0, n_par)
    scale = np.exp(rng.uniform(np.log(0.11), np.log(20.0), n_par))
    y = np.round(rng.normal(mean, scale)).astype(np.int64)
    model_g = coding.QuantizedGaussian(mean, scale, -512, 511)
    t_enc, stream = timed(lambda: coding.encode(y, model_g), repeats)
    t_dec, back = timed(lambda: coding.decode(stream, model_g), repeats)
    assert np.array_equal(back, y)
    ideal = stream.ideal_bits
    add("(b) per-symbol Gaussian", "infokit rANS", n_par, t_enc, t_dec, stream.bits, ideal)
    t_enc, ranged = timed(lambda: coding.encode(y, model_g, coder="range"), repeats)
    t_dec, back = timed(lambda: coding.decode(ranged, model_g), repeats)
    assert np.array_equal(back, y)
    add("(b) per-symbol Gaussian", "infokit range", n_par, t_enc, t_dec, ranged.bits, ideal)
    if constriction is not None:
        y32 = y.astype(np.int32)
        gmodel = constriction.stream.model.QuantizedGaussian(-512, 511)

        def g_enc() -> np.ndarray:
            coder = constriction.stream.stack.AnsCoder()
            coder.encode_reverse(y32, gmodel, mean, scale)
            return coder.get_compressed()

        t_enc, words = timed(g_enc, repeats)
        t_dec, back = timed(
            lambda: constriction.stream.stack.AnsCoder(words).decode(gmodel, mean, scale), repeats
        )
        assert np.array_equal(back, y32)
        add(
            "(b) per-symbol Gaussian",
            "constriction ANS",
            n_par,
            t_enc,
            t_dec,
            32 * words.size,
            ideal,
        )

    # (c) 3-component Gaussian mixture per symbol
    shift = np.array([-0.5, 0.0, 0.7])
    means = mean[:, None] + shift * scale[:, None]
    scales = scale[:, None] * np.array([0.7, 1.0, 1.4])
    weights = rng.dirichlet(np.ones(3), n_par)
    pick = (rng.random(n_par)[:, None] > weights.cumsum(axis=1)).sum(axis=1)
    z = np.round(rng.normal(means[np.arange(n_par), pick], scales[np.arange(n_par), pick]))
    z = z.astype(np.int64)
    comps = [coding.QuantizedGaussian(means[:, j], scales[:, j], -512, 511) for j in range(3)]
    model_m = coding.Mixture(comps, weights)
    t_enc, stream = timed(lambda: coding.encode(z, model_m), repeats)
    t_dec, back = timed(lambda: coding.decode(stream, model_m), repeats)
    assert np.array_equal(back, z)
    add(
        "(c) 3-Gaussian mixture",
        "infokit rANS",
        n_par,
        t_enc,
        t_dec,
        stream.bits,
        stream.ideal_bits,
    )
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    # infokit's coders against constriction's of the same kind (ANS / range)
    peers = {
        (r["workload"], r["coder"].split()[-1].replace("ANS", "rANS")): r
        for r in rows
        if r["coder"].startswith("constriction")
    }
    lines = [
        "| workload | coder | n | encode (M symbols/s) | decode (M symbols/s) | "
        "encode ratio | decode ratio | overhead vs ideal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        peer = peers.get((r["workload"], r["coder"].split()[-1]))
        if peer is not None and r["coder"].startswith("infokit"):
            ratios = f"{r['enc'] / peer['enc']:.1f}x | {r['dec'] / peer['dec']:.1f}x"
        else:
            ratios = "- | -"
        lines.append(
            f"| {r['workload']} | {r['coder']} | {r['n']:.0e} | {r['enc']:.1f} | {r['dec']:.1f} | "
            f"{ratios} | {100 * r['overhead']:.4f} % |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="full")
    parser.add_argument("--output", default=str(RESULTS), help="markdown file, or - for none")
    args = parser.parse_args()
    global _clock
    tables = {}
    with infokit.threads(1):
        load_before = load_average()
        for name, clock in CLOCKS.items():
            _clock = clock
            tables[name] = format_rows(run(args.preset))
            print(f"{name} clock\n{tables[name]}\n")
        load_after = load_average()
    if args.output == "-":
        return
    body = "\n".join(
        [
            HEADING,
            "",
            "infokit.coding against constriction, one thread; infokit through its public API",
            "(stream header and CRC included). Ratios are infokit over constriction's coder of the",
            "same kind in the same run. Targets (issue 5): categorical decode >= 10x and encode",
            ">= 3x constriction's ANS; Gaussian decode >= 10x; the 3-component mixture >= 10 M",
            "symbols/s decode; overhead <= 0.01 % at the default precision (24 bits).",
            "",
            f"Load average (1, 5, 15 min) before the run: {load_before}; after: {load_after}.",
            "The machine is shared (2 cores): compare ratios from one run, not absolute rates.",
            "",
            "Wall clock (perf_counter):",
            "",
            tables["wall"],
            "",
            "Thread CPU time (thread_time; steadier under load):",
            "",
            tables["cpu"],
            "",
            "Reading: infokit's overhead at 10^6 Gaussian symbols (ideal 2.84e6 bits, so 0.01 %",
            "is 284 bits) is about 255 bits: about 90 of quantizing at 24 bits (every one of the",
            "1024 values in [-512, 511] keeps at least 2^-24) and about 165 of fixed framing in",
            "stream version 2: a 12-byte header; the last 256 symbols coded on rANS lane 0 alone",
            "from state 1 (about one symbol's precision lost); lanes 1-7 started from the first",
            "words lane 0 emitted ('bits back', under a bit each instead of 31); their final",
            "states pushed into lane 0 with 5-bit lengths; lane 0 flushed in one or two 32-bit",
            "words. Over 12 seeds of this workload the rANS stream is 235-265 bits over",
            "(0.0082-0.0093 %). Version 1 (20-byte header, 8 lanes from L = 2^31 flushed as",
            "64-bit words) was about 610 bits over (0.0225 %). At",
            "10^7 symbols the categorical coder moves 8-byte symbols in and out (constriction:",
            "4-byte), and a fresh 80 MB int64 result costs its page faults on decode.",
        ]
    )
    write_section(args.output, HEADING, body)
    print(f"\nwrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
