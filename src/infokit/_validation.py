"""Argument checks shared by the public modules, one helper per shape family.

Every error names the argument, what was expected and what came: TypeError for kinds and dtypes,
ValueError for shapes and values.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

_INT_KINDS = "biu"


def check_base(base: Any) -> float | None:
    """``base=None`` means nats; otherwise a real number > 0 and != 1."""
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be None (nats) or a positive real number, got {base!r}")
    b = float(base)
    if not math.isfinite(b) or b <= 0.0 or b == 1.0:
        raise ValueError(f"base must be a positive real number other than 1, got {base!r}")
    return b


def to_base(value: Any, base: float | None) -> Any:
    """Convert nats to units of ``base`` (scalar or array)."""
    return value if base is None else value / math.log(base)


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_labels(x: Any, name: str = "x") -> np.ndarray:
    """Discrete samples as a C-contiguous integer array, 1-D (n,) or 2-D (n, d) of joint symbols.

    Integer and bool arrays pass through (no copy when already contiguous). Float arrays are
    accepted when finite: each distinct value is one symbol. Strings are factorized.
    """
    if isinstance(x, np.ndarray):
        a = x
    else:
        try:
            a = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{name} must be an array of labels: {exc}") from None
    if a.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n,) or 2-D (n, d) with one joint symbol per row, "
            f"got a {a.ndim}-D array of shape {a.shape}"
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one sample")
    if a.ndim == 2 and a.shape[1] == 0:
        raise ValueError(f"{name} has shape {a.shape}: rows need at least one column")
    kind = a.dtype.kind
    if kind in _INT_KINDS:
        return np.ascontiguousarray(a)
    if kind == "f":
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf; discrete labels must be finite")
        return _factorize_columns(a + 0.0)  # + 0.0 merges -0.0 into 0.0
    if kind in "US":
        return _factorize_columns(a)
    raise TypeError(f"{name} must hold integer, bool, float or string labels, got dtype {a.dtype}")


def _factorize_columns(a: np.ndarray) -> np.ndarray:
    """Replace each column's values by dense int64 codes (the order of np.unique)."""
    if a.ndim == 1:
        return np.unique(a, return_inverse=True)[1].astype(np.int64, copy=False).reshape(-1)
    cols = [np.unique(a[:, j], return_inverse=True)[1].reshape(-1) for j in range(a.shape[1])]
    return np.ascontiguousarray(np.stack(cols, axis=1).astype(np.int64, copy=False))


def as_real_array(x: Any, name: str, *, to_float: bool = False) -> np.ndarray:
    """``x`` as an ndarray of real numbers: bool, integer or float dtype (complex, strings and
    objects are refused). No copy of an ndarray unless converted.

    With ``to_float`` the values are converted to floats: float32 stays float32, every other real
    dtype becomes float64. Shapes, contiguity and finiteness are the caller's to check.
    """
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if to_float:
        a = a.astype(np.float32 if a.dtype == np.float32 else np.float64, copy=False)
    return a


def check_same_length(arrays: dict[str, np.ndarray]) -> int:
    """All arrays have the same number of samples (rows); returns it."""
    lengths = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ValueError(f"samples must pair up one to one, but {desc} samples")
    return next(iter(lengths.values()))


def check_choice(value: Any, name: str, choices: Any) -> str:
    """``value`` must be one of ``choices`` (the error lists them); returns it."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return str(value)
