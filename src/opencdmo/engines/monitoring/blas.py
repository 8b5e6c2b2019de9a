"""Running small linear algebra on one BLAS thread.

On a busy machine a multithreaded BLAS spends far longer waking and synchronising threads
than computing the small products of a NIPALS iteration or of a 52 × 52 eigenproblem (a
Tennessee Eastman PCA fit took 25 ms instead of 1 ms on a loaded two-core machine). Fits
of small matrices therefore run with the BLAS limited to one thread; large fits keep every
thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

__all__ = ["SMALL_PROBLEM_CELLS", "blas_threads_for"]

SMALL_PROBLEM_CELLS = 2_000_000


@lru_cache(maxsize=1)
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def blas_threads_for(n_cells: int) -> Iterator[None]:
    """Limit the BLAS to one thread while the block runs if ``n_cells`` is small."""
    if n_cells > SMALL_PROBLEM_CELLS:
        yield
        return
    with _controller().limit(limits=1, user_api="blas"):
        yield
