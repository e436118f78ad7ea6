"""One report for every compression: size, bytes, error and its optimum, energy, FLOPs.

Every decomposition in :mod:`infokit.lowrank` and :mod:`infokit.tensor` carries a
:class:`CompressionReport` as ``result.report``. The byte count includes the metadata a reader
needs to rebuild the arrays: a fixed header (format tag and dtype code) and one int64 per
dimension and per rank, so two results with the same parameters but different shapes differ in
bytes, as they would on disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

HEADER_BYTES = 8  # format tag + dtype code
INT_BYTES = 8  # each shape entry and each rank is stored as an int64


def metadata_bytes(shape: tuple[int, ...], ranks: tuple[int, ...], extra_ints: int = 0) -> int:
    """Bytes of the header plus one int64 per dimension, per rank and per extra integer."""
    return HEADER_BYTES + INT_BYTES * (len(shape) + len(ranks) + extra_ints)


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


@dataclass(frozen=True, repr=False)
class CompressionReport:
    """What a compression kept and what it cost.

    Attributes
    ----------
    method : str
        The method that produced the result ("svd/exact", "tucker/hosvd", ...).
    shape, dtype, ranks
        The original array's shape and dtype, and the rank(s) kept.
    original_parameters, parameters : int
        Numbers stored before and after compression.
    bytes : int
        Bytes of the compressed form: ``parameters * itemsize`` plus :attr:`metadata_bytes`.
    relative_error : float or None
        ``‖A − Â‖_F / ‖A‖_F`` (weighted when :attr:`weighted`: ``‖D₁(A − Â)D₂‖_F / ‖D₁AD₂‖_F``).
    optimal_error : float or None
        The least relative error any approximation of the same form and rank can reach, where
        it is known (Eckart–Young for matrices: ``sqrt(Σ_{i>r} σ_i²) / ‖A‖_F``); None otherwise.
    next_singular_ratio : float or None
        ``σ_{r+1} / σ_1`` where the spectrum is known: how much the next rank would still add.
    energy : ndarray or None
        Cumulative energy kept per rank, ``Σ_{i≤k} σ_i² / ‖A‖_F²`` for k = 1..r.
    flops, original_flops : int or None
        Multiply-adds x2 of applying the compressed form to one vector (``x ↦ Âx``) and the
        original (``x ↦ Ax``); a compression that does not reduce them will not speed up inference.
    """

    method: str
    shape: tuple[int, ...]
    dtype: str
    ranks: tuple[int, ...]
    original_parameters: int
    parameters: int
    metadata_bytes: int
    itemsize: int
    relative_error: float | None = None
    optimal_error: float | None = None
    weighted: bool = False
    next_singular_ratio: float | None = None
    energy: np.ndarray | None = field(default=None, compare=False)
    flops: int | None = None
    original_flops: int | None = None

    @property
    def bytes(self) -> int:
        return self.parameters * self.itemsize + self.metadata_bytes

    @property
    def original_bytes(self) -> int:
        return self.original_parameters * self.itemsize

    @property
    def compression_ratio(self) -> float:
        """Original bytes over compressed bytes (metadata included): > 1 means smaller."""
        return self.original_bytes / self.bytes

    @property
    def error_ratio(self) -> float | None:
        """``relative_error / optimal_error`` (1 = optimal); None where the optimum is unknown."""
        if self.relative_error is None or self.optimal_error is None:
            return None
        if self.optimal_error == 0.0:
            return 1.0 if self.relative_error == 0.0 else math.inf
        return self.relative_error / self.optimal_error

    @property
    def break_even_rank(self) -> float | None:
        """For a matrix, the rank ``mn / (m + n)`` at which a factorisation stops saving space."""
        if len(self.shape) != 2:
            return None
        m, n = self.shape
        return m * n / (m + n)

    @property
    def speeds_up(self) -> bool | None:
        """Whether applying the compressed form costs fewer FLOPs than the original."""
        if self.flops is None or self.original_flops is None:
            return None
        return self.flops < self.original_flops

    def as_dict(self) -> dict[str, Any]:
        """Every field and derived quantity, for logging or a DataFrame row."""
        return {
            "method": self.method,
            "shape": self.shape,
            "dtype": self.dtype,
            "ranks": self.ranks,
            "original_parameters": self.original_parameters,
            "parameters": self.parameters,
            "compression_ratio": self.compression_ratio,
            "bytes": self.bytes,
            "metadata_bytes": self.metadata_bytes,
            "relative_error": self.relative_error,
            "optimal_error": self.optimal_error,
            "error_ratio": self.error_ratio,
            "weighted": self.weighted,
            "next_singular_ratio": self.next_singular_ratio,
            "break_even_rank": self.break_even_rank,
            "energy": None if self.energy is None else self.energy.copy(),
            "flops": self.flops,
            "original_flops": self.original_flops,
            "speeds_up": self.speeds_up,
        }

    def __repr__(self) -> str:
        shape = "×".join(map(str, self.shape))
        ranks = ",".join(map(str, self.ranks))
        err = _fmt(self.relative_error)
        opt = "" if self.error_ratio is None else f" ({self.error_ratio:.4f}× optimum)"
        return (
            f"CompressionReport({self.method}: {shape} {self.dtype}, rank {ranks}, "
            f"{self.parameters} params, {self.compression_ratio:.3g}× smaller, "
            f"{self.bytes} B, rel. error {err}{opt})"
        )

    def __str__(self) -> str:
        rows: list[tuple[str, str]] = [
            ("method", self.method),
            ("shape / dtype", f"{'×'.join(map(str, self.shape))} {self.dtype}"),
            ("rank(s)", ", ".join(map(str, self.ranks))),
            ("parameters", f"{self.parameters} of {self.original_parameters}"),
            ("compression ratio", f"{self.compression_ratio:.4g}×"),
            ("bytes (incl. metadata)", f"{self.bytes} ({self.metadata_bytes} metadata)"),
        ]
        if self.break_even_rank is not None:
            rows.append(("break-even rank", f"{self.break_even_rank:.4g}"))
        label = "relative error (weighted)" if self.weighted else "relative error"
        rows.append((label, _fmt(self.relative_error)))
        rows.append(("optimal error", _fmt(self.optimal_error)))
        if self.error_ratio is not None:
            rows.append(("error / optimum", f"{self.error_ratio:.6g}"))
        if self.next_singular_ratio is not None:
            rows.append(("σ_{r+1} / σ_1", _fmt(self.next_singular_ratio)))
        if self.energy is not None and self.energy.size:
            rows.append(("energy kept", _energy_summary(self.energy)))
        if self.flops is not None and self.original_flops is not None:
            verdict = "faster" if self.speeds_up else "NOT faster"
            rows.append(("FLOPs of x ↦ Âx", f"{self.flops} vs {self.original_flops} ({verdict})"))
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _energy_summary(energy: np.ndarray) -> str:
    """The cumulative energy at a few ranks: first, quartiles, last."""
    r = energy.size
    picks = sorted({1, max(1, r // 4), max(1, r // 2), max(1, 3 * r // 4), r})
    return ", ".join(f"r={k}: {energy[k - 1]:.4f}" for k in picks)
