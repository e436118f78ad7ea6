"""The shared argument checks of infokit._validation that no public module pins alone."""

from __future__ import annotations

import numpy as np
import pytest

from infokit._validation import as_real_array


@pytest.mark.parametrize(
    ("dtype", "want"),
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float16, np.float64),
        (np.int8, np.float64),
        (np.uint64, np.float64),
        (np.bool_, np.float64),
    ],
)
def test_as_real_array_to_float_keeps_float32_and_widens_the_rest(dtype, want):
    x = np.arange(6).reshape(2, 3).astype(dtype)
    got = as_real_array(x, "x", to_float=True)
    assert got.dtype == want and got.shape == (2, 3)
    np.testing.assert_array_equal(got, x.astype(np.float64))
    # Without to_float the dtype is left alone.
    assert as_real_array(x, "x").dtype == dtype


def test_as_real_array_copies_nothing_it_need_not():
    x = np.asfortranarray(np.ones((3, 4)))[:, ::2]  # a float64 non-contiguous view
    assert as_real_array(x, "x", to_float=True) is x
    assert as_real_array(x, "x") is x
    assert as_real_array([1, 2], "x").dtype.kind == "i"


@pytest.mark.parametrize(
    ("value", "dtype"),
    [(np.ones(2, complex), "complex128"), (["a", "b"], "<U1"), (np.array([1, None]), "object")],
)
def test_as_real_array_refuses_non_real_dtypes(value, dtype):
    with pytest.raises(TypeError, match=f"w must hold real numbers, got dtype {dtype}"):
        as_real_array(value, "w")


def test_as_real_array_names_the_argument_when_numpy_cannot_make_an_array():
    with pytest.raises(TypeError, match="w must be a real array: "):
        as_real_array([[1.0, 2.0], [3.0]], "w")
