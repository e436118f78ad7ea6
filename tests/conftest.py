"""Shared fixtures: backend-sensitive tests run on the compiled kernels and the numpy twins."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infokit import _backend

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
