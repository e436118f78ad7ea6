"""Stubs for the Cython module infokit._cypmf (src/infokit/_cy/_cypmf.pyx)."""

import numpy as np
import numpy.typing as npt

def entropy(
    p: npt.NDArray[np.float32 | np.float64], n_threads: int = 1
) -> npt.NDArray[np.float64]: ...
