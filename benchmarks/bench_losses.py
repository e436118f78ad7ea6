"""The cross-entropy engine against one GEMM, three GEMMs and eager torch, time and peak memory.

    python benchmarks/bench_losses.py                    # V = 32768, appends to RESULTS.md
    python benchmarks/bench_losses.py --vocab 32768 131072 --repeats 1
    python benchmarks/bench_losses.py --output -         # print only

Every case runs in a FRESH process, so its memory is honest: the process builds the float32
inputs (N×D embeddings, V×D classifier, N targets), resets its peak-RSS counter
(``/proc/self/clear_refs``), notes its resident set size, runs the case once and reports the
peak RSS minus that baseline (for fwd+bwd cases also minus the gradient outputs, N·D + V·D
floats). Then it times the case ``repeats`` times, each right after one paired ``E @ C.T`` in
the same process, and reports the ratio of the medians: the machine is shared, so only ratios
from the same process mean anything. Torch cases run only when torch is installed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
MARKERS = {  # each timing mode keeps its own section of RESULTS.md
    False: ("<!-- bench_losses:start -->", "<!-- bench_losses:end -->"),
    True: ("<!-- bench_losses-cpu:start -->", "<!-- bench_losses-cpu:end -->"),
}
MIB = 1 << 20

# name -> (label, whether it makes gradients)
CASES: dict[str, tuple[str, bool]] = {
    "gemm": ("numpy `E @ C.T` (the logits; the control)", False),
    "torch_gemm": ("torch `E @ C.T` (context: torch's own GEMM)", False),
    "infokit_fwd": ("infokit forward, vocab tiles (loss, lse, entropy)", False),
    "infokit_fwd_blas": ("infokit forward, vocab tiles through numpy's BLAS (context)", False),
    "torch_fwd": ("torch eager forward (`F.cross_entropy(E @ C.T)`)", False),
    "gemm3": ("three numpy GEMMs (`E @ C.T`, `G @ C`, `G.T @ E`: the fwd+bwd floor)", True),
    "infokit_vocab": ("infokit fwd+bwd, strategy vocab (4 GEMMs, recompute)", True),
    "infokit_vocab_blas": ("infokit fwd+bwd, strategy vocab through numpy's BLAS (context)", True),
    "infokit_tokens": ("infokit fwd+bwd, strategy tokens (3 GEMMs)", True),
    "torch_fwd_bwd": ("torch eager fwd+bwd", True),
}
# The "_blas" cases force the engine's BLAS route (what runs without AVX-512 or in float64), so
# that the gain of infokit's packed float32 kernel (src/infokit/_losses_packed.py) shows.


def _rss_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _case(name: str, e: np.ndarray, c: np.ndarray, t: np.ndarray) -> Callable[[], Any]:
    if name == "gemm":
        return lambda: e @ c.T
    if name == "gemm3":

        def three() -> Any:
            g = e @ c.T
            return g @ c, g.T @ e

        return three
    if name.startswith("infokit"):
        from infokit import _losses_packed, losses

        if name.endswith("_blas"):
            _losses_packed.FORCE = False
            name = name.removesuffix("_blas")
        if name == "infokit_fwd":
            return lambda: losses.linear_cross_entropy(
                e, c, t, strategy="vocab", return_entropy=True
            )
        strategy = name.split("_")[1]
        return lambda: losses.linear_cross_entropy(e, c, t, strategy=strategy, grad=True)
    import torch

    f = torch.nn.functional
    tt = torch.from_numpy(t)
    if name == "torch_gemm":
        et, ct = torch.from_numpy(e), torch.from_numpy(c)
        return lambda: et @ ct.T
    if name == "torch_fwd":
        et, ct = torch.from_numpy(e), torch.from_numpy(c)

        def forward() -> Any:
            with torch.no_grad():
                return f.cross_entropy(et @ ct.T, tt)

        return forward

    def forward_backward() -> Any:
        et = torch.from_numpy(e).requires_grad_()
        ct = torch.from_numpy(c).requires_grad_()
        f.cross_entropy(et @ ct.T, tt).backward()
        return et.grad, ct.grad

    return forward_backward


def worker(name: str, n: int, d: int, v: int, repeats: int, cpu: bool) -> dict[str, Any]:
    """Memory and time ratio of one case. ``cpu``: everything on ONE thread, timed by the
    thread's CPU time, which other processes on a loaded machine barely disturb."""
    clock = time.thread_time if cpu else time.perf_counter
    rng = np.random.default_rng(0)
    scale = np.float32(1.0 / np.sqrt(d))
    e = rng.standard_normal((n, d), dtype=np.float32)
    c = rng.standard_normal((v, d), dtype=np.float32) * scale
    t = rng.integers(0, v, n)
    run = _case(name, e, c, t)
    gemm = _case("gemm", e, c, t)
    if name.startswith("torch"):
        import torch  # imported before the baseline: its import is not the case's memory

        torch.set_num_threads(1 if cpu else len(os.sched_getaffinity(0)))
    if cpu:  # after every import, so that each BLAS library loaded by now is limited
        import infokit
        from infokit import _losses_engine  # noqa: F401  (loads scipy's BLAS too)

        infokit.set_num_threads(1)  # kernels and BLAS run on the calling thread
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")  # reset the peak-RSS counter (VmHWM) to the current RSS
    base = _rss_kib("VmRSS")
    out = run()
    peak = _rss_kib("VmHWM")
    del out
    extra = (peak - base) / 1024
    if CASES[name][1]:
        extra -= (n * d + v * d) * 4 / MIB  # the gradient outputs themselves
    gemm_times, case_times = [], []
    for _ in range(repeats):
        t0 = clock()
        gemm()
        gemm_times.append(clock() - t0)
        t0 = clock()
        run()
        case_times.append(clock() - t0)
    return {
        "case": name,
        "extra_mib": extra,
        "ratio": statistics.median(case_times) / statistics.median(gemm_times),
        "seconds": statistics.median(case_times),
    }


def _in_fresh_process(name: str, n: int, d: int, v: int, repeats: int, cpu: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name]
    cmd += ["--n", str(n), "--d", str(d), "--vocab", str(v), "--repeats", str(repeats)]
    cmd += ["--cpu"] if cpu else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _blas_kernels() -> str:
    """The BLAS libraries loaded by numpy and scipy, with the kernel set each picked."""
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS)
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{i.get('prefix')} {i.get('version')} ({i.get('architecture', '?')})"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def _have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--d", type=int, default=1024)
    parser.add_argument("--vocab", type=int, nargs="+", default=[32768])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="one thread everywhere, timed by the thread's CPU time (robust on a loaded machine)",
    )
    parser.add_argument("--worker", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(RESULTS), help="markdown file, or - for none")
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.n, args.d, args.vocab[0], args.repeats, args.cpu)
        print(json.dumps(result))
        return

    cases = [c for c in args.cases if _have_torch() or not c.startswith("torch")]
    timing = (
        "CPU time of the calling thread with ONE thread everywhere (infokit, BLAS, torch)"
        if args.cpu
        else "wall clock, all threads"
    )
    start, end = MARKERS[args.cpu]
    lines = [
        start,
        "## infokit.losses: the cross-entropy engine (`benchmarks/bench_losses.py"
        + (" --cpu`)" if args.cpu else "`)"),
        "",
        f"N = {args.n}, D = {args.d}, float32, targets uniform; {args.repeats} timed runs per "
        "case, each right after a paired `E @ C.T` in the same fresh process; ratio = median "
        f"case time / median GEMM time ({timing}). Extra memory = peak RSS of the case's own "
        "process minus its RSS with the inputs allocated; for fwd+bwd cases, minus the "
        "gradient outputs (N·D + V·D floats).",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; "
        f"numpy {np.__version__}; BLAS kernels in use: {_blas_kernels()}",
        f"- load average (1, 5, 15 min) before: {_load()}",
        "",
        "Targets (issue 4): forward at most 0.9x one `E @ C.T` with at most 100 MiB extra; "
        "`vocab` fwd+bwd no slower than eager torch with at most 100 MiB beyond the gradient "
        "outputs; `tokens` fwd+bwd within 1.1x of three GEMMs.",
        "",
    ]
    for v in args.vocab:
        lines += [
            f"### V = {v}",
            "",
            "| case | time / `E @ C.T` | extra memory (MiB) |",
            "|---|---|---|",
        ]
        for name in cases:
            r = _in_fresh_process(name, args.n, args.d, v, args.repeats, args.cpu)
            row = f"| {CASES[name][0]} | {r['ratio']:.2f} | {r['extra_mib']:.0f} |"
            print(row, file=sys.stderr, flush=True)
            lines.append(row)
        lines.append("")
    lines += [f"- load average after: {_load()}", "", end]
    section = "\n".join(lines)
    print(section)
    if args.output == "-":
        return
    path = Path(args.output)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
