"""Margins of the frame: how many customers of the frame hold each level of each variable.

Counted at the draw over the frame the sample was drawn from (the base minus the exclusions),
and stored with the campaign (`Campaign.frame_margins`), so that a later import changes no
report. A customer without a value counts in the level ``(none)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from survey.weighting.variables import MAX_LEVELS, MISSING_LEVEL, customer_variables

Profiles = Mapping[tuple[str, str | None, str], int]
"""(stratum key, attributes JSON text, language) → customers: `survey.frame.sampling.Frame`."""


def profile_variables(profiles: Profiles) -> list[tuple[str, dict[str, str], int]]:
    """(stratum, frame variables, customers) for each profile, the JSON parsed once."""
    parsed = []
    for (stratum, attributes_text, language), count in profiles.items():
        attributes = json.loads(attributes_text) if attributes_text else {}
        parsed.append((stratum, customer_variables(attributes, language), count))
    return parsed


def margins_by_stratum(
    profiles: Profiles,
) -> dict[str, dict[str, dict[str, int]]]:
    """``{variable: {level: {stratum: customers}}}`` over every variable of the frame."""
    parsed = profile_variables(profiles)
    names = sorted({name for _, variables, _ in parsed for name in variables})
    table: dict[str, dict[str, dict[str, int]]] = {name: {} for name in names}
    for stratum, variables, count in parsed:
        for name in names:
            cell = table[name].setdefault(variables.get(name, MISSING_LEVEL), {})
            cell[stratum] = cell.get(stratum, 0) + count
    return table


def frame_margins(profiles: Profiles) -> dict[str, dict[str, int]]:
    """``{variable: {level: customers}}`` for the variables with 2 to `MAX_LEVELS` levels.

    Levels are sorted (code-point order) so that the stored document is stable.
    """
    margins = {}
    for name, levels in margins_by_stratum(profiles).items():
        if 2 <= len(levels) <= MAX_LEVELS:
            margins[name] = {level: sum(levels[level].values()) for level in sorted(levels)}
    return margins
