"""Tensor decompositions: Tucker (HOSVD, HOOI) and CP (ALS). Filled in below."""

from __future__ import annotations

__all__: list[str] = []
