"""Design-based statistics for the satisfaction survey: estimation, weighting, reports.

Pure functions over pandas data; imports nothing from Flask, SQLAlchemy or ``survey`` so
that an auditor can run it on an exported CSV (``python -m analysis``).
"""

from analysis.design import AnalysisInputError, DesignSpec, parse_design

__all__ = [
    "AnalysisInputError",
    "DesignSpec",
    "parse_design",
]
