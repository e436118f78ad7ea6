"""Thread count for the kernels and the BLAS underneath: set_num_threads() and threads()."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


def _default_threads() -> int:
    env = os.environ.get("INFOKIT_NUM_THREADS", "")
    if env.strip():
        try:
            return max(1, int(env))
        except ValueError:
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_num_threads = _default_threads()
_blas_limit: threadpool_limits | None = None


def _check(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be a positive int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return n


def get_num_threads() -> int:
    """The number of threads infokit's kernels use (default: the CPUs this process may run on)."""
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in infokit's kernels and in the BLAS/OpenMP pools (via threadpoolctl).

    Kernels go parallel only above a size threshold, so small inputs stay on one thread.
    Results do not depend on the thread count except for the last bits of float reductions
    that are documented as such.
    """
    global _num_threads, _blas_limit
    _num_threads = _check(n)
    _blas_limit = threadpool_limits(limits=n)


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Context manager: ``with infokit.threads(n):`` runs kernels and BLAS on ``n`` threads."""
    global _num_threads
    previous = _num_threads
    _num_threads = _check(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        _num_threads = previous
