"""Planning engine: batch scheduling, campaign planning and suite scheduling.

A pure package (no Django): validated, frozen problem dataclasses in, :class:`Result` out.

- **STN scheduling** (``opencdmo-stn/1``, ``stn-model.md``): discrete-time State-Task Network
  MILP on HiGHS (:func:`read_stn`, :func:`solve_stn`, :func:`check_stn_solution`).
- **Campaign planning** (``opencdmo-campaign/1``, ``lakhdar2005-model.md``): the Lakhdar et al.
  (2005) medium-term MILP on HiGHS (:func:`read_campaign`, :func:`solve_campaign`,
  :func:`check_campaign_solution`).

Every problem class has an independent checker that recomputes the objective and verifies
every constraint without a solver. :func:`solve` dispatches on the problem's class; results
serialise to ``opencdmo-result/1`` with :meth:`Result.document` and give Gantt bars with
:meth:`Result.gantt`. The command line is ``opencdmo plan`` (:mod:`.cli`).
"""

from opencdmo.engines.planning.campaign_checker import check_campaign_solution
from opencdmo.engines.planning.campaign_problem import (
    CampaignProblem,
    CampaignProduct,
    CampaignSuite,
    Demand,
    Stage,
    StageData,
)
from opencdmo.engines.planning.campaign_reader import parse_campaign, read_campaign
from opencdmo.engines.planning.campaign_solution import (
    CampaignSolution,
    ProductPeriod,
    SuiteCampaign,
)
from opencdmo.engines.planning.campaign_solver import solve_campaign
from opencdmo.engines.planning.check_report import CheckReport
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.result import GanttBar, Result, Sense, SolverInfo, SolveStatus
from opencdmo.engines.planning.solve import solve
from opencdmo.engines.planning.stn_checker import check_stn_solution
from opencdmo.engines.planning.stn_problem import (
    StnProblem,
    StnState,
    StnTask,
    StnUnit,
    TaskInput,
    TaskOutput,
    UnitTask,
)
from opencdmo.engines.planning.stn_reader import parse_stn, read_stn
from opencdmo.engines.planning.stn_solution import StnBatch, StnSolution
from opencdmo.engines.planning.stn_solver import solve_stn

__all__ = [
    "CampaignProblem",
    "CampaignProduct",
    "CampaignSolution",
    "CampaignSuite",
    "CheckReport",
    "Demand",
    "GanttBar",
    "InstanceError",
    "ProductPeriod",
    "Result",
    "Sense",
    "SolveStatus",
    "SolverInfo",
    "Stage",
    "StageData",
    "StnBatch",
    "StnProblem",
    "StnSolution",
    "StnState",
    "StnTask",
    "StnUnit",
    "SuiteCampaign",
    "TaskInput",
    "TaskOutput",
    "UnitTask",
    "check_campaign_solution",
    "check_stn_solution",
    "parse_campaign",
    "parse_stn",
    "read_campaign",
    "read_stn",
    "solve",
    "solve_campaign",
    "solve_stn",
]
