"""Pieces shared by the cross-entropy test files (test_losses.py, test_losses_soft.py,
test_losses_packed.py).

Test modules are imported in importlib mode and cannot import each other; tests/conftest.py puts
this folder on sys.path so that they can import this module by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Option sets both the hard- and the soft-target tests run against torch.
OPTION_SETS = [
    {"smoothing": 0.0, "softcap": None, "z_loss": 0.0, "weight": False},
    {"smoothing": 0.1, "softcap": 3.0, "z_loss": 1e-2, "weight": True},  # everything at once
    {"smoothing": 0.2, "softcap": None, "z_loss": 0.0, "weight": True},
]


def assert_rel(actual: Any, expected: np.ndarray, rtol: float = 1e-12) -> None:
    """Same shape, and every entry within rtol of the largest magnitude in ``expected``."""
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == expected.shape
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    assert float(np.max(np.abs(actual - expected))) <= rtol * scale


def filtering_problem(n: int, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(embeddings, classifier, targets) whose classes 32..63 are e^-40 less likely than the
    targets' classes 0..31 for every token: gradient filtering can skip their tiles."""
    rng = np.random.default_rng(6)
    e = rng.normal(size=(n, 4)).astype(dtype)
    c = rng.normal(size=(64, 4)).astype(dtype)
    e[:, 0] = 5.0
    c[:, 0] = np.where(np.arange(64) < 32, 4.0, -4.0)
    return e, c, rng.integers(0, 32, n)
