# cython: language_level=3, boundscheck=False, wraparound=False, freethreading_compatible=True
# distutils: language = c++
"""Cython bindings of the pmf kernels (csrc/include/infokit/pmf/rows.hpp): rows of a 2-D table."""

import numpy as np
from cython cimport floating

cdef extern from "infokit/pmf/rows.hpp" namespace "infokit::pmf" nogil:
    void entropy_rows[T](const T* p, size_t rows, size_t m, double* out, int n_threads)


def entropy(const floating[:, ::1] p, int n_threads=1):
    """Shannon entropy (nats) of each row of a C-contiguous 2-D float32/float64 table."""
    cdef size_t rows = p.shape[0], m = p.shape[1]
    out = np.empty(rows, dtype=np.float64)
    cdef double[::1] o = out
    if rows == 0:
        return out
    if m == 0:
        raise ValueError("p must have at least one column")
    with nogil:
        entropy_rows(&p[0, 0], rows, m, &o[0], n_threads)
    return out
