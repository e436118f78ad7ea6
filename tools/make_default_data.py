"""Write the data set that `infokit report` uses when it is given no file, and its true values.

    python tools/make_default_data.py          # rewrites src/infokit/data/default.{npz,json}

The table is drawn with a fixed seed from a distribution whose information measures are known in
closed form, so the report can print every estimate beside the truth. The target is the last
column, ``y``; every other column depends on ``y`` (or on nothing), which makes the joint law a tree
rooted at ``y``, and for a tree the total correlation is the sum of the mutual informations along
its edges.

    y          real      Gaussian N(0, SIGMA_Y^2)            h = 1/2 log(2 pi e SIGMA_Y^2)
    z          real      RHO * y / SIGMA_Y + sqrt(1 - RHO^2) * N(0, 1)
                                                             h = 1/2 log(2 pi e)
                                                             I(z; y) = -1/2 log(1 - RHO^2)
    octile     discrete  which eighth of the sorted y holds y (rank * 8 // n)
                                                             H = log 8,  I = H (a function of y)
    shifted    discrete  (octile + U{0, ..., SHIFT - 1}) mod 8    H = log 8,  I = log(8 / SHIFT)
    sign_copy  discrete  [y above its median] flipped with probability FLIP
                                                             H = log 2,  I = log 2 - H_b(FLIP)
    coin       discrete  uniform over COIN_SIDES, independent    H = log COIN_SIDES,  I = 0

Total correlation: I(z; y) + I(octile; y) + I(shifted; octile) + I(sign_copy; y) + 0. (``shifted``
hangs from ``octile``, ``sign_copy`` from the half of ``y``, which ``octile`` determines, so the
tree is y - {z, octile, sign_copy, coin}, octile - shifted.)

Real columns are stored as float32 and discrete ones as int8 to keep the package small.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

SEED = 20240611
N_ROWS = 24_000  # a multiple of 16, so 16 equal-mass bins hold exactly n/16 rows each
SIGMA_Y = 2.0
RHO = 0.6
LEVELS = 8
SHIFT = 2
FLIP = 0.1
COIN_SIDES = 3

OUT = Path(__file__).resolve().parents[1] / "src" / "infokit" / "data"


def binary_entropy(p: float) -> float:
    return -p * math.log(p) - (1.0 - p) * math.log(1.0 - p)


def gaussian_entropy(variance: float) -> float:
    return 0.5 * math.log(2.0 * math.pi * math.e * variance)


def sample(rng: np.random.Generator) -> dict[str, np.ndarray]:
    y = rng.normal(0.0, SIGMA_Y, N_ROWS).astype(np.float32)
    z = RHO * y / SIGMA_Y + math.sqrt(1.0 - RHO**2) * rng.normal(0.0, 1.0, N_ROWS)
    # The octile of y's rank in this table (not of the population quantiles): then equal-mass
    # bins of y, whose count is a multiple of LEVELS, refine it exactly, and the estimate can
    # reach I = log LEVELS. (Population edges sit O(1/sqrt(n)) away from the sample ones; the
    # few rows between them would cost the estimate ~0.07 nats, an artefact of the data.)
    ranks = np.argsort(np.argsort(y, kind="stable"), kind="stable")
    ordered = np.sort(y)
    cuts = np.arange(1, 16) * N_ROWS // 16
    assert (ordered[cuts - 1] < ordered[cuts]).all(), "a tie in y straddles a 1/16 boundary"
    octile = ranks * LEVELS // N_ROWS
    shifted = (octile + rng.integers(0, SHIFT, N_ROWS)) % LEVELS
    sign_copy = (octile >= LEVELS // 2) ^ (rng.random(N_ROWS) < FLIP)
    coin = rng.integers(0, COIN_SIDES, N_ROWS)
    # Column order is the report's order; the target comes last.
    return {
        "octile": octile.astype(np.int8),
        "shifted": shifted.astype(np.int8),
        "sign_copy": sign_copy.astype(np.int8),
        "coin": coin.astype(np.int8),
        "z": z.astype(np.float32),
        "y": y,
    }


def truth() -> dict[str, object]:
    mi_z = -0.5 * math.log(1.0 - RHO**2)
    mi_octile = math.log(LEVELS)
    mi_shifted = math.log(LEVELS / SHIFT)
    mi_sign = math.log(2.0) - binary_entropy(FLIP)
    columns = {
        "octile": {
            "entropy": math.log(LEVELS),
            "mutual_information": mi_octile,
            "law": f"uniform over {LEVELS}: the octile of y's rank",
        },
        "shifted": {
            "entropy": math.log(LEVELS),
            "mutual_information": mi_shifted,
            "law": f"shift channel: (octile + U{{0..{SHIFT - 1}}}) mod {LEVELS}",
        },
        "sign_copy": {
            "entropy": math.log(2.0),
            "mutual_information": mi_sign,
            "law": f"[y above its median] flipped with probability {FLIP}",
        },
        "coin": {
            "entropy": math.log(COIN_SIDES),
            "mutual_information": 0.0,
            "law": f"uniform over {COIN_SIDES}, independent",
        },
        "z": {
            "entropy": gaussian_entropy(1.0),
            "mutual_information": mi_z,
            "law": f"N(0, 1) with correlation {RHO} to y",
        },
        "y": {
            "entropy": gaussian_entropy(SIGMA_Y**2),
            "mutual_information": None,
            "law": f"N(0, {SIGMA_Y**2:g})",
        },
    }
    return {
        "description": "infokit's embedded data set: columns with known information measures",
        "generator": "tools/make_default_data.py",
        "seed": SEED,
        "rows": N_ROWS,
        "target": "y",
        "units": "nats",
        "columns": columns,
        "total_correlation": mi_z + mi_octile + mi_shifted + mi_sign,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    table = sample(np.random.default_rng(SEED))
    np.savez_compressed(OUT / "default.npz", **table)  # type: ignore[arg-type]
    (OUT / "default.json").write_text(json.dumps(truth(), indent=2) + "\n")
    size = (OUT / "default.npz").stat().st_size
    print(f"wrote {OUT / 'default.npz'} ({size / 1024:.0f} KiB) and default.json")


if __name__ == "__main__":
    main()
