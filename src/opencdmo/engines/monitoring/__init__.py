"""Multivariate and univariate monitoring of batch and continuous processes.

Pure numpy/scipy engine (no Django): latent-variable models (:class:`PCA`, :class:`PLS`) with
SIMCA conventions, batch data (:class:`BatchDataset`), alignment, batch-wise multiway models
(:class:`MPCA`, :class:`MPLS`), online monitoring of running batches, statistical process
control and quality prediction.

Typical batch use::

    from opencdmo.engines.monitoring import BatchDataset, MPCA, align_linear

    data = BatchDataset.from_long(batch, time, variable, value, unit)
    aligned = align_linear(data, n_samples=100)
    model = MPCA(n_components=3).fit(aligned)
    result = model.score_batches(align_linear(new_data, n_samples=100), confidence=0.99)
    result.t2, result.spe, result.t2_limit, result.spe_limit, result.spe_contributions

Heavy dependencies (scipy, scikit-learn, pyarrow, openpyxl) are imported only by the
functions that need them, so importing this package is fast.
"""

from __future__ import annotations

from .alignment import AlignedBatches, PhaseSpan, align_indicator, align_linear, align_phases
from .batch import MPCA, MPLS, BatchScores
from .dataset import Batch, BatchDataset, read_batch_file
from .errors import MonitoringInputError
from .latent import PCA, PLS
from .limits import box_spe_limit, empirical_limit, jackson_mudholkar_spe_limit, t2_limit

__all__ = [
    "MPCA",
    "MPLS",
    "PCA",
    "PLS",
    "AlignedBatches",
    "Batch",
    "BatchDataset",
    "BatchScores",
    "MonitoringInputError",
    "PhaseSpan",
    "align_indicator",
    "align_linear",
    "align_phases",
    "box_spe_limit",
    "empirical_limit",
    "jackson_mudholkar_spe_limit",
    "read_batch_file",
    "t2_limit",
]
