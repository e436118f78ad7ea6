"""Which implementation runs: the compiled kernels ("cpp") or the pure-numpy twins ("numpy").

``INFOKIT_NO_EXTENSIONS=1`` forces the numpy twins everywhere. Public functions that offer
``backend=`` pass it to :func:`resolve`; the test suite uses :func:`forced` to run both paths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

COMPILED_MODULES = ("_core", "_cypmf")
BACKENDS = ("auto", "cpp", "numpy")

_disabled = os.environ.get("INFOKIT_NO_EXTENSIONS", "").strip() not in ("", "0")
_modules: dict[str, ModuleType | None] = {}
_import_errors: dict[str, str] = {}

if not _disabled:
    import importlib

    for _name in COMPILED_MODULES:
        try:
            _modules[_name] = importlib.import_module(f"infokit.{_name}")
        except ImportError as exc:  # a broken or missing build: fall back, but say why
            _modules[_name] = None
            _import_errors[_name] = str(exc)

_override: str | None = None


def compiled(name: str) -> ModuleType | None:
    """The compiled module ``name`` if it is loaded and not disabled, else None."""
    return None if _disabled else _modules.get(name)


def available_backends() -> tuple[str, ...]:
    """Backends usable in this process: ``("cpp", "numpy")`` with a working build."""
    have_cpp = not _disabled and all(_modules.get(n) is not None for n in COMPILED_MODULES)
    return ("cpp", "numpy") if have_cpp else ("numpy",)


def resolve(backend: str = "auto") -> str:
    """Turn a ``backend=`` argument into "cpp" or "numpy", or explain why it cannot be had."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        backend = _override or ("cpp" if "cpp" in available_backends() else "numpy")
    if backend == "cpp" and "cpp" not in available_backends():
        why = "INFOKIT_NO_EXTENSIONS is set" if _disabled else f"import failed: {_import_errors}"
        raise RuntimeError(f"backend='cpp' is not available ({why}); use backend='numpy'")
    return backend


@contextmanager
def forced(backend: str) -> Iterator[None]:
    """Run ``backend="auto"`` calls on ``backend`` inside the block (used by the tests)."""
    global _override
    if backend not in ("cpp", "numpy"):
        raise ValueError(f"backend must be 'cpp' or 'numpy', got {backend!r}")
    previous, _override = _override, backend
    try:
        yield
    finally:
        _override = previous
