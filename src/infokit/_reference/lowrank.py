"""numpy twin of csrc/include/infokit/lowrank/knapsack.hpp (same signature as infokit._core)."""

from __future__ import annotations

import math

import numpy as np


def knapsack_dp(
    errors: np.ndarray,
    units: np.ndarray,
    offsets: np.ndarray,
    capacity: int,
    n_threads: int = 1,
) -> tuple[np.ndarray, float]:
    """One level per layer, least total error with total units <= capacity; (levels, total).

    Vectorised over the capacities: per layer, one pass per level over the whole table. Levels
    in ascending order with a strict <, so ties keep the lower level, as in the kernel.
    """
    n_layers = offsets.shape[0] - 1
    width = capacity + 1
    best = np.zeros(width)
    choices = np.empty((n_layers, width), dtype=np.int32)
    for layer in range(n_layers):
        first, last = int(offsets[layer]), int(offsets[layer + 1])
        new = np.full(width, np.inf)
        choice = choices[layer]
        choice.fill(-1)
        for c in range(last - first):
            u = int(units[first + c])
            if u > capacity:
                continue
            cand = best[: width - u] + errors[first + c]
            target = new[u:]
            better = cand < target
            target[better] = cand[better]
            choice[u:][better] = c
        best = new
    levels = np.empty(n_layers, dtype=np.int64)
    total = float(best[capacity])
    if not math.isfinite(total):
        levels.fill(-1)
        return levels, math.inf
    b = capacity
    for layer in range(n_layers - 1, -1, -1):
        pick = int(choices[layer, b])
        levels[layer] = pick
        b -= int(units[int(offsets[layer]) + pick])
    return levels, total
