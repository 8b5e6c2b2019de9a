"""Planning engine: batch scheduling, campaign planning and suite scheduling.

A pure package (no Django): validated, frozen problem dataclasses in, :class:`Result` out.

- **STN scheduling** (``opencdmo-stn/1``, ``stn-model.md``): discrete-time State-Task Network
  MILP on HiGHS (:func:`read_stn`, :func:`solve_stn`, :func:`check_stn_solution`).
- **Campaign planning** (``opencdmo-campaign/1``, ``lakhdar2005-model.md``): the Lakhdar et al.
  (2005) medium-term MILP on HiGHS (:func:`read_campaign`, :func:`solve_campaign`,
  :func:`check_campaign_solution`). Beyond the paper, and reducing to it exactly: suites at
  sites, qualification dates, crude shipments with lead times (``docs/planning_campaign_format.md``), and
  :func:`explain_lateness` naming the limits that make a demand late.
- **Suite scheduling** (``opencdmo-schedule/1``, ``docs/planning_schedule_format.md``): batches on suites
  with changeovers, downtimes, USP→DSP coupling, campaign limits and lexicographic objectives
  on OR-Tools CP-SAT (:func:`read_schedule`, :func:`solve_schedule`,
  :func:`check_schedule_solution`).
- **Flexible job shop** (Brandimarte ``.fjs``): the public yardstick of the CP-SAT search
  (:func:`read_fjsp`, :func:`solve_fjsp`, :func:`check_fjsp_solution`).

Every problem class has an independent checker that recomputes the objective and verifies
every constraint without a solver. :func:`solve` dispatches on the problem's class; results
serialise to ``opencdmo-result/1`` with :meth:`Result.document` and give Gantt bars with
:meth:`Result.gantt`; :func:`read_result` reads any solver's result document back so the
checkers can verify it. The command line is ``opencdmo plan`` (:mod:`.cli`), with
``opencdmo plan check`` for result files.
"""

from opencdmo.engines.planning.campaign.checker import check_campaign_solution
from opencdmo.engines.planning.campaign.lateness import (
    LateDemand,
    LatenessCause,
    explain_lateness,
)
from opencdmo.engines.planning.campaign.problem import (
    CampaignProblem,
    CampaignProduct,
    CampaignSuite,
    Demand,
    SiteTransfer,
    Stage,
    StageData,
)
from opencdmo.engines.planning.campaign.reader import parse_campaign, read_campaign
from opencdmo.engines.planning.campaign.solution import (
    CampaignSolution,
    CrudeShipment,
    ProductPeriod,
    SiteCrude,
    SuiteCampaign,
)
from opencdmo.engines.planning.campaign.solver import solve_campaign
from opencdmo.engines.planning.check_report import CheckReport
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.fjsp.checker import check_fjsp_solution
from opencdmo.engines.planning.fjsp.problem import FjspJob, FjspOperation, FjspProblem
from opencdmo.engines.planning.fjsp.reader import parse_fjsp, read_fjsp
from opencdmo.engines.planning.fjsp.solution import FjspAssignment, FjspSolution
from opencdmo.engines.planning.fjsp.solver import solve_fjsp
from opencdmo.engines.planning.registry import solve
from opencdmo.engines.planning.result import GanttBar, Result, Sense, SolverInfo, SolveStatus
from opencdmo.engines.planning.result_reader import read_result
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.problem import (
    Changeover,
    Downtime,
    ObjectiveKind,
    ObjectiveTerm,
    PreviousAssignment,
    ScheduleBatch,
    ScheduleProblem,
    ScheduleProduct,
    ScheduleSuite,
    SuiteOption,
)
from opencdmo.engines.planning.schedule.reader import parse_schedule, read_schedule
from opencdmo.engines.planning.schedule.solution import ScheduledBatch, ScheduleSolution
from opencdmo.engines.planning.schedule.solver import solve_schedule
from opencdmo.engines.planning.stn.checker import check_stn_solution
from opencdmo.engines.planning.stn.problem import (
    StnProblem,
    StnState,
    StnTask,
    StnUnit,
    TaskInput,
    TaskOutput,
    UnitTask,
)
from opencdmo.engines.planning.stn.reader import parse_stn, read_stn
from opencdmo.engines.planning.stn.solution import StnBatch, StnSolution
from opencdmo.engines.planning.stn.solver import solve_stn

__all__ = [
    "CampaignProblem",
    "CampaignProduct",
    "CampaignSolution",
    "CampaignSuite",
    "Changeover",
    "CheckReport",
    "CrudeShipment",
    "Demand",
    "Downtime",
    "FjspAssignment",
    "FjspJob",
    "FjspOperation",
    "FjspProblem",
    "FjspSolution",
    "GanttBar",
    "InstanceError",
    "LateDemand",
    "LatenessCause",
    "ObjectiveKind",
    "ObjectiveTerm",
    "PreviousAssignment",
    "ProductPeriod",
    "Result",
    "ScheduleBatch",
    "ScheduleProblem",
    "ScheduleProduct",
    "ScheduleSolution",
    "ScheduleSuite",
    "ScheduledBatch",
    "Sense",
    "SiteCrude",
    "SiteTransfer",
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
    "SuiteOption",
    "TaskInput",
    "TaskOutput",
    "UnitTask",
    "check_campaign_solution",
    "check_fjsp_solution",
    "check_schedule_solution",
    "check_stn_solution",
    "explain_lateness",
    "parse_campaign",
    "parse_fjsp",
    "parse_schedule",
    "parse_stn",
    "read_campaign",
    "read_fjsp",
    "read_result",
    "read_schedule",
    "read_stn",
    "solve",
    "solve_campaign",
    "solve_fjsp",
    "solve_schedule",
    "solve_stn",
]
