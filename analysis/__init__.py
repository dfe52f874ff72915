"""Design-based statistics for the satisfaction survey: estimation, weighting, reports.

Pure functions over pandas data; imports nothing from Flask, SQLAlchemy or ``survey`` so
that an auditor can run it on an exported CSV (``python -m analysis``).

The modules that need scipy.stats or statsmodels (``analysis.sample_size``,
``analysis.comparison``, ``analysis.reliability``, ``analysis.drivers``) load on first use, so
that ``python -m analysis`` starts without them (scipy.stats alone costs 0.7 s).
"""

import importlib
from typing import Any

from analysis.design import AnalysisInputError, DesignSpec, IndicatorSpec, parse_design
from analysis.diagnostics import WeightDiagnostics, final_weights, weight_diagnostics
from analysis.estimation import AnalysisResult, SatisfactionEstimate, analyze
from analysis.responses import read_responses

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

# Names exported from modules that load on first use (PEP 562).
_LAZY = {
    "DISPOSITION_TO_AAPOR": "analysis.aapor",
    "OutcomeRates": "analysis.aapor",
    "outcome_rates": "analysis.aapor",
    "rates_from_dispositions": "analysis.aapor",
    "SamplePlan": "analysis.sample_size",
    "StratumPlan": "analysis.sample_size",
    "allocate": "analysis.sample_size",
    "expected_margin": "analysis.sample_size",
    "expected_stratified_margin": "analysis.sample_size",
    "invitations_for_respondents": "analysis.sample_size",
    "plan_sample": "analysis.sample_size",
    "respondents_for_margin": "analysis.sample_size",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
