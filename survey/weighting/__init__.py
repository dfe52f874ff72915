"""Weighting and representativeness of a campaign.

- the frame variables of the customer base and their margins, frozen at the draw
  (`margins`);
- the calibration the manager chooses (none, post-stratification or raking, on margins from
  the frame or entered by hand with their source), checked against the plan before launch and
  previewed on the respondents (`operations`, `views`);
- the sample table from which the report and `barometre analyze --sample` compute response
  rates by frame variable and the R-indicator (`sample`).

The statistics themselves are `analysis`'s (`analysis.calibration`, `analysis.diagnostics`,
`analysis.representativeness`).
"""
