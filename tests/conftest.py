"""Shared fixtures: backend-sensitive tests run on the compiled kernels and the numpy twins."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infokit import _backend

# Test modules (imported in importlib mode) cannot import each other: helpers they share, such as
# loss_checks.py, are plain modules in this folder, importable by name from here on.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

BACKENDS = [
    pytest.param(
        "cpp",
        marks=pytest.mark.skipif(
            "cpp" not in _backend.available_backends()
            and os.environ.get("INFOKIT_NO_EXTENSIONS", "") not in ("", "0"),
            reason="INFOKIT_NO_EXTENSIONS is set",
        ),
    ),
    "numpy",
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test body with backend="auto" resolving to this backend."""
    with _backend.forced(request.param):
        yield request.param


@pytest.fixture
def small_tiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The cross-entropy engine with tiles much smaller than the problem (ragged on both axes),
    so every loop of both strategies runs many times."""
    from infokit import _losses_engine, _losses_packed

    monkeypatch.setattr(_losses_engine, "VOCAB_TILE", 16)
    monkeypatch.setattr(_losses_engine, "TILE_ENTRIES", 16 * 7)
    monkeypatch.setattr(_losses_engine, "BACKWARD_TILE_ENTRIES", 16 * 5)
    monkeypatch.setattr(_losses_engine, "SUM_ROWS", 2)
    monkeypatch.setattr(_losses_engine, "PARALLEL_ENTRIES", 0)  # groups run concurrently
    monkeypatch.setattr(_losses_engine, "CHUNK_ENTRIES", 53 * 5)
    monkeypatch.setattr(_losses_engine, "MIN_CHUNK", 1)
    monkeypatch.setattr(_losses_packed, "ROWS", 8)  # the packed route's blocks (float32, AVX-512)
    monkeypatch.setattr(_losses_packed, "GRAD_T_ENTRIES", 16 * 24)
    yield
