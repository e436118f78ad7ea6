# cython: language_level=3, boundscheck=False, wraparound=False, freethreading_compatible=True
# distutils: language = c++
"""Cython bindings of the pmf kernels (csrc/include/infokit/pmf/rows.hpp): rows of a 2-D table.

Each function takes C-contiguous float32/float64 tables (read-only buffers are fine), checks only
the shapes (so the kernels stay in bounds), releases the GIL and returns one float64 per row.
Values are validated by the caller, infokit.pmf.
"""

import numpy as np
from cython cimport floating

cdef extern from "infokit/pmf/rows.hpp" namespace "infokit::pmf" nogil:
    void entropy_rows[T](const T* p, size_t rows, size_t m, double* out, int n_threads)
    void cross_entropy_rows[T](const T* p, const T* q, size_t rows, size_t m, double* out,
                               int n_threads)
    void kl_divergence_rows[T](const T* p, const T* q, size_t rows, size_t m, double* out,
                               int n_threads)
    void js_divergence_rows[T](const T* p, const T* q, size_t rows, size_t m, double* out,
                               int n_threads)
    void renyi_entropy_rows[T](const T* p, size_t rows, size_t m, double alpha, double* out,
                               int n_threads)
    void tsallis_entropy_rows[T](const T* p, size_t rows, size_t m, double q, double* out,
                                 int n_threads)
    void mutual_information_tables[T](const T* joint, size_t tables, size_t nx, size_t ny,
                                      double* work, size_t work_size, double* out, int n_threads)


cdef int _check_pair(const floating[:, ::1] p, const floating[:, ::1] q) except -1:
    if p.shape[0] != q.shape[0] or p.shape[1] != q.shape[1]:
        raise ValueError(
            f"p and q must have the same shape, got ({p.shape[0]}, {p.shape[1]}) "
            f"and ({q.shape[0]}, {q.shape[1]})"
        )
    if p.shape[0] > 0 and p.shape[1] == 0:
        raise ValueError("p must have at least one column")
    return 0


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


def cross_entropy(const floating[:, ::1] p, const floating[:, ::1] q, int n_threads=1):
    """Cross-entropy H(p, q) (nats) of each row pair of two same-shape 2-D tables."""
    _check_pair(p, q)
    cdef size_t rows = p.shape[0], m = p.shape[1]
    out = np.empty(rows, dtype=np.float64)
    cdef double[::1] o = out
    if rows == 0:
        return out
    with nogil:
        cross_entropy_rows(&p[0, 0], &q[0, 0], rows, m, &o[0], n_threads)
    return out


def kl_divergence(const floating[:, ::1] p, const floating[:, ::1] q, int n_threads=1):
    """Kullback-Leibler divergence D(p || q) (nats) of each row pair of two same-shape tables."""
    _check_pair(p, q)
    cdef size_t rows = p.shape[0], m = p.shape[1]
    out = np.empty(rows, dtype=np.float64)
    cdef double[::1] o = out
    if rows == 0:
        return out
    with nogil:
        kl_divergence_rows(&p[0, 0], &q[0, 0], rows, m, &o[0], n_threads)
    return out


def js_divergence(const floating[:, ::1] p, const floating[:, ::1] q, int n_threads=1):
    """Jensen-Shannon divergence (nats) of each row pair of two same-shape tables."""
    _check_pair(p, q)
    cdef size_t rows = p.shape[0], m = p.shape[1]
    out = np.empty(rows, dtype=np.float64)
    cdef double[::1] o = out
    if rows == 0:
        return out
    with nogil:
        js_divergence_rows(&p[0, 0], &q[0, 0], rows, m, &o[0], n_threads)
    return out


def renyi_entropy(const floating[:, ::1] p, double alpha, int n_threads=1):
    """Renyi entropy of order alpha >= 0 (nats) of each row; inf alpha is the min-entropy."""
    cdef size_t rows = p.shape[0], m = p.shape[1]
    out = np.empty(rows, dtype=np.float64)
    cdef double[::1] o = out
    if rows == 0:
        return out
    if m == 0:
        raise ValueError("p must have at least one column")
    with nogil:
        renyi_entropy_rows(&p[0, 0], rows, m, alpha, &o[0], n_threads)
    return out


def tsallis_entropy(const floating[:, ::1] p, double q, int n_threads=1):
    """Tsallis entropy of order q >= 0 (dimensionless; nats at q = 1) of each row."""
    cdef size_t rows = p.shape[0], m = p.shape[1]
    out = np.empty(rows, dtype=np.float64)
    cdef double[::1] o = out
    if rows == 0:
        return out
    if m == 0:
        raise ValueError("p must have at least one column")
    with nogil:
        tsallis_entropy_rows(&p[0, 0], rows, m, q, &o[0], n_threads)
    return out


def mutual_information(const floating[:, :, ::1] joint, int n_threads=1):
    """Mutual information I(X; Y) (nats) of each (nx, ny) table of a C-contiguous 3-D stack."""
    cdef size_t tables = joint.shape[0], nx = joint.shape[1], ny = joint.shape[2]
    out = np.empty(tables, dtype=np.float64)
    cdef double[::1] o = out
    if tables == 0:
        return out
    if nx == 0 or ny == 0:
        raise ValueError("joint tables must have at least one row and one column")
    # Scratch for the column marginals and their carries: 2 ny doubles per thread it may use.
    cdef size_t slots = min(<size_t>max(n_threads, 1), tables)
    work_array = np.empty(2 * slots * ny, dtype=np.float64)
    cdef double[::1] work = work_array
    with nogil:
        mutual_information_tables(&joint[0, 0, 0], tables, nx, ny, &work[0], 2 * slots * ny,
                                  &o[0], n_threads)
    return out
