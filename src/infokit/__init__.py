"""infokit: fast, verified information measures and compression primitives.

Public modules: :mod:`infokit.pmf` (functions of given distributions), :mod:`infokit.discrete`
(estimators from discrete samples), :mod:`infokit.binning` (discretisers), :mod:`infokit.stats`
(permutation tests). Quantities in information units take ``base=`` (None = nats).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ._backend import available_backends
from ._threads import get_num_threads, set_num_threads, threads

try:
    __version__ = version("infokit")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

_SUBMODULES = (
    "pmf",
    "discrete",
    "binning",
    "stats",
    "timeseries",
    "optimize",
    "scaling",
    "lowrank",
    "tensor",
    "pid",
    "coupling",
    "evidence",
    "calibration",
    "representation",
    "matrix",
    "continuous",
    "coding",
    "losses",
    "pvq",
    "compressors",
    "dictionary",
)

__all__ = [
    "__version__",
    "available_backends",
    "get_num_threads",
    "set_num_threads",
    "threads",
    *_SUBMODULES,
]


def __getattr__(name: str) -> Any:
    # Submodules load on first use, so `import infokit` stays cheap.
    if name in _SUBMODULES:
        return import_module(f"infokit.{name}")
    raise AttributeError(f"module 'infokit' has no attribute {name!r}")
