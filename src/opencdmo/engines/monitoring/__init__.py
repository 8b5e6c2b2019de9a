"""Multivariate and univariate monitoring of batch and continuous processes.

Pure numpy engine (no Django): latent-variable models (:class:`PCA`, :class:`PLS`) with
SIMCA conventions, batch data (:class:`BatchDataset`), alignment (linear, indicator,
phase-wise, dynamic time warping), batch-wise multiway models (:class:`MPCA`,
:class:`MPLS`), observation-wise models, online monitoring of running batches, continuous
process monitoring, statistical process control, quality prediction and model files.

From files to verdicts (what ``opencdmo monitor`` does)::

    from opencdmo.engines.monitoring import FitOptions, fit_batch_file, score_batch_file

    fitted = fit_batch_file("training.parquet", "model.json", options=FitOptions())
    scored = score_batch_file("new.parquet", "model.json")
    scored.report.flagged, [v.status for v in scored.report.batches]

Typical batch use of the parts::

    from opencdmo.engines.monitoring import BatchDataset, MPCA, align_linear

    data = BatchDataset.from_long(batch, time, variable, value, unit)
    aligned = align_linear(data, n_samples=100)
    model = MPCA(n_components=3).fit(aligned)
    result = model.score_batches(align_linear(new_data, n_samples=100), confidence=0.99)
    result.t2, result.spe, result.t2_limit, result.spe_limit, result.spe_contributions

scipy, scikit-learn, pyarrow and openpyxl are imported only by the functions that need
them, so importing this package is fast.
"""

from __future__ import annotations

from .alignment import AlignedBatches, PhaseSpan, align_indicator, align_linear, align_phases
from .batch import MPCA, MPLS, BatchScores
from .continuous import DetectionReport, detection_report
from .crossval import CrossValidation, select_n_components
from .dataset import Batch, BatchDataset, read_batch_file
from .dtw import DTWAlignment, OnlineDTW, align_dtw
from .errors import MonitoringInputError
from .evolution import BatchEvolutionModel, EvolutionTrace, fit_phase_models, phase_part
from .latent import PCA, PLS
from .limits import box_spe_limit, empirical_limit, jackson_mudholkar_spe_limit, t2_limit
from .online import OnlineMonitor, OnlineTrace, RunningBatch, WarpedRunningBatch
from .persistence import load_model, save_model
from .pipeline import (
    BatchReport,
    BatchVerdict,
    FitOptions,
    FitResult,
    Limits,
    ReadOptions,
    ScoreResult,
    TableFit,
    TableScores,
    align_batches,
    fit_batch_file,
    fit_batch_model,
    fit_table_file,
    held_out_limit,
    judge_batches,
    read_batches,
    realign_batches,
    score_batch_file,
    score_file,
    score_table_file,
)
from .prediction import PredictionReport, cross_validate_prediction, phase_features
from .spc import (
    Capability,
    ChartLimits,
    ControlChart,
    capability,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    individuals_limits,
    run_rules,
    xbar_r_chart,
    xbar_r_limits,
    xbar_s_chart,
    xbar_s_limits,
)

__all__ = [
    "MPCA",
    "MPLS",
    "PCA",
    "PLS",
    "AlignedBatches",
    "Batch",
    "BatchDataset",
    "BatchEvolutionModel",
    "BatchReport",
    "BatchScores",
    "BatchVerdict",
    "Capability",
    "ChartLimits",
    "ControlChart",
    "CrossValidation",
    "DTWAlignment",
    "DetectionReport",
    "EvolutionTrace",
    "FitOptions",
    "FitResult",
    "Limits",
    "MonitoringInputError",
    "OnlineDTW",
    "OnlineMonitor",
    "OnlineTrace",
    "PhaseSpan",
    "PredictionReport",
    "ReadOptions",
    "RunningBatch",
    "ScoreResult",
    "TableFit",
    "TableScores",
    "WarpedRunningBatch",
    "align_batches",
    "align_dtw",
    "align_indicator",
    "align_linear",
    "align_phases",
    "box_spe_limit",
    "capability",
    "cross_validate_prediction",
    "cusum_chart",
    "detection_report",
    "empirical_limit",
    "ewma_chart",
    "fit_batch_file",
    "fit_batch_model",
    "fit_phase_models",
    "fit_table_file",
    "held_out_limit",
    "individuals_chart",
    "individuals_limits",
    "jackson_mudholkar_spe_limit",
    "judge_batches",
    "load_model",
    "phase_features",
    "phase_part",
    "read_batch_file",
    "read_batches",
    "realign_batches",
    "run_rules",
    "save_model",
    "score_batch_file",
    "score_file",
    "score_table_file",
    "select_n_components",
    "t2_limit",
    "xbar_r_chart",
    "xbar_r_limits",
    "xbar_s_chart",
    "xbar_s_limits",
]
