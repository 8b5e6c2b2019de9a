"""Running the engine's linear algebra on one BLAS thread.

The engine runs beside a web server, task workers and other jobs, and its matrices are
small or memory-bound. Measured on the project's shared two-core machine under load, a
multithreaded BLAS spent far longer waking and synchronising threads than computing: a
Tennessee Eastman PCA fit took 25 ms instead of 1 ms, the 1,000 × 1,000 cross-product of a
large MPCA 1.5 s instead of 0.58 s, and its Lanczos iterations 0.49 s instead of 0.11 s.
Fits and alignments therefore limit the BLAS to one thread while they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

__all__ = ["single_blas_thread"]


@lru_cache(maxsize=1)
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit the BLAS to one thread while the block runs."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
