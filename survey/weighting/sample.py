"""The sample table: every sampled customer (non-test invitation), whether they responded, and
their frame variables from the attribute snapshot taken at the draw.

The report computes response rates by frame variable and the R-indicator from it
(`analysis.representativeness`), and the export writes it beside the respondents as
``<name>.sample.csv`` (no personal data: stratum, response, levels), which
``barometre analyze ... --sample`` reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Campaign, Disposition, Invitation
from survey.weighting.operations import sample_level_table
from survey.weighting.variables import MAX_LEVELS, customer_variables

STRATUM = "stratum"
RESPONDED = "responded"
INVITATION_CHANNEL = "invitation_channel"
DISPOSITION = "disposition"
_RESERVED = (STRATUM, RESPONDED, INVITATION_CHANNEL, "channel", "disposition", "design_weight")


def variable_column(name: str) -> str:
    """A frame variable's column in the sample table (``attr_`` before a reserved name)."""
    return f"attr_{name}" if name in _RESERVED else name


def frame_variables_of(
    frame_margins: Mapping[str, Mapping[str, int]] | None,
    snapshots: Sequence[Mapping[str, Any]],
) -> list[str]:
    """The variables to report on: the frame's (from its margins), or, for a campaign drawn
    before margins were stored, those of the snapshots with 2 to `MAX_LEVELS` levels."""
    if frame_margins:
        return sorted(frame_margins)
    levels: dict[str, set[str]] = {}
    for snapshot in snapshots:
        attributes = dict(snapshot)
        language = attributes.pop("language", None)
        for name, level in customer_variables(attributes, language).items():
            levels.setdefault(name, set()).add(level)
    return sorted(name for name, seen in levels.items() if 2 <= len(seen) <= MAX_LEVELS)


def sample_table(session: Session, campaign: Campaign) -> pd.DataFrame:
    """One row per non-test invitation: stratum, channel, disposition, design_weight,
    responded (0/1) and one column per frame variable (`variable_column`)."""
    rows = session.execute(
        select(
            Invitation.stratum, Invitation.channel, Invitation.disposition,
            Invitation.design_weight, Invitation.attributes,
        ).where(Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))
    ).all()  # fmt: skip
    snapshots = [attributes or {} for *_, attributes in rows]
    variables = frame_variables_of(campaign.frame_margins, snapshots)
    table = pd.DataFrame(
        [row[:4] for row in rows], columns=[STRATUM, "channel", "disposition", "design_weight"]
    )
    table[RESPONDED] = (table["disposition"] == Disposition.COMPLETE.value).astype(int)
    levels = [sample_level_table(snapshot, variables) for snapshot in snapshots]
    for variable in variables:
        table[variable_column(variable)] = [row[variable] for row in levels]
    table.attrs["frame_variables"] = [variable_column(v) for v in variables]
    return table


def representativeness_variables(table: pd.DataFrame) -> list[str]:
    """The columns the representativeness is computed on: those of `sample_file_frame` but
    the stratum and the response (what ``analyze --sample`` takes as frame variables)."""
    return [c for c in sample_file_frame(table).columns
            if c not in (STRATUM, RESPONDED, DISPOSITION)]


def sample_file_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The sample as exported: stratum, responded, disposition (each customer's outcome, from
    which ``analyze --report`` computes AAPOR's rates), then the invitation channel and the
    frame variables that have at least two levels among the sampled."""
    frame = pd.DataFrame(
        {STRATUM: table[STRATUM].astype(str), RESPONDED: table[RESPONDED].astype(int)}
    )
    if DISPOSITION in table.columns:
        frame[DISPOSITION] = table[DISPOSITION].astype(str)
    for source, column in [
        ("channel", INVITATION_CHANNEL),
        *((c, c) for c in table.attrs.get("frame_variables", [])),
    ]:
        values = table[source].astype(str)
        if values.nunique() >= 2:
            frame[column] = values
    return frame
