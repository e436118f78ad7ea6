"""The build: compiled modules present (a broken build must not pass on the numpy path)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import infokit
from infokit import _backend

NO_EXT = os.environ.get("INFOKIT_NO_EXTENSIONS", "") not in ("", "0")


@pytest.mark.skipif(NO_EXT, reason="INFOKIT_NO_EXTENSIONS is set on purpose")
def test_compiled_backends_present() -> None:
    assert infokit.available_backends() == ("cpp", "numpy")
    for name in _backend.COMPILED_MODULES:
        assert _backend.compiled(name) is not None, name


@pytest.mark.skipif(NO_EXT, reason="INFOKIT_NO_EXTENSIONS is set on purpose")
def test_openmp_linked() -> None:
    core = _backend.compiled("_core")
    assert core is not None and core.has_openmp()


def test_resolve_rejects_unknown_backend() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        _backend.resolve("fortran")


def test_threads_context_restores() -> None:
    before = infokit.get_num_threads()
    with infokit.threads(1):
        assert infokit.get_num_threads() == 1
    assert infokit.get_num_threads() == before
    with pytest.raises(ValueError, match="n must be >= 1"):
        infokit.set_num_threads(0)
    with pytest.raises(TypeError, match="n must be a positive int"):
        infokit.set_num_threads(1.5)  # type: ignore[arg-type]


def test_set_num_threads_roundtrip() -> None:
    before = infokit.get_num_threads()
    try:
        infokit.set_num_threads(1)
        assert infokit.get_num_threads() == 1
    finally:
        infokit.set_num_threads(before)


def test_version_is_a_string() -> None:
    assert isinstance(infokit.__version__, str) and infokit.__version__


def test_compiled_kernel_rejects_float_labels() -> None:
    core = _backend.compiled("_core")
    if core is None:
        pytest.skip("no compiled backend")
    with pytest.raises(TypeError):
        core.histogram(np.zeros(3))
