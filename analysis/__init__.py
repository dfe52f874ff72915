"""Design-based statistics for the satisfaction survey: estimation, weighting, reports.

Pure functions over pandas data; imports nothing from Flask, SQLAlchemy or ``survey`` so
that an auditor can run it on an exported CSV (``python -m analysis``).

The modules that need scipy.stats or statsmodels (``analysis.comparison``,
``analysis.reliability``, ``analysis.drivers``) are imported by name where they are used, so
that ``python -m analysis`` starts without them.
"""

from analysis.aapor import (
    DISPOSITION_TO_AAPOR,
    OutcomeRates,
    outcome_rates,
    rates_from_dispositions,
)
from analysis.design import AnalysisInputError, DesignSpec, IndicatorSpec, parse_design
from analysis.diagnostics import WeightDiagnostics, final_weights, weight_diagnostics
from analysis.estimation import AnalysisResult, SatisfactionEstimate, analyze
from analysis.responses import read_responses
from analysis.sample_size import (
    SamplePlan,
    StratumPlan,
    allocate,
    expected_margin,
    expected_stratified_margin,
    invitations_for_respondents,
    plan_sample,
    respondents_for_margin,
)

__all__ = [
    "DISPOSITION_TO_AAPOR",
    "OutcomeRates",
    "SamplePlan",
    "StratumPlan",
    "allocate",
    "expected_margin",
    "expected_stratified_margin",
    "invitations_for_respondents",
    "outcome_rates",
    "plan_sample",
    "rates_from_dispositions",
    "respondents_for_margin",
    "AnalysisInputError",
    "AnalysisResult",
    "DesignSpec",
    "IndicatorSpec",
    "SatisfactionEstimate",
    "WeightDiagnostics",
    "analyze",
    "final_weights",
    "parse_design",
    "read_responses",
    "weight_diagnostics",
]
