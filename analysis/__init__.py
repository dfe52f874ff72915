"""Design-based statistics for the satisfaction survey: estimation, weighting, reports.

Pure functions over pandas data; imports nothing from Flask, SQLAlchemy or ``survey`` so
that an auditor can run it on an exported CSV (``python -m analysis``).
"""

from analysis.design import AnalysisInputError, DesignSpec, IndicatorSpec, parse_design
from analysis.diagnostics import WeightDiagnostics, final_weights, weight_diagnostics
from analysis.estimation import AnalysisResult, SatisfactionEstimate, analyze
from analysis.responses import read_responses

__all__ = [
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
