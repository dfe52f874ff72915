"""The loop's figures: how many follow-ups, the share handled within the service level, the
median time to first contact, the outcomes. One function over one table, used by the report,
the auditors' page and `campaigns status --json`, so that all three say the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import FollowUp, FollowUpOutcome

COLUMNS = ["kind", "status", "created_at", "due_at", "first_contact_at", "closed_at", "outcome"]
KINDS = ("callback", "detractor")


def follow_ups_table(session: Session, campaign_id: int) -> pd.DataFrame:
    """One row per follow-up of the campaign, with `COLUMNS` (times as UTC timestamps)."""
    rows = session.execute(
        select(FollowUp.kind, FollowUp.status, FollowUp.created_at, FollowUp.due_at,
               FollowUp.first_contact_at, FollowUp.closed_at, FollowUp.outcome)
        .where(FollowUp.campaign_id == campaign_id).order_by(FollowUp.id)
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    data: dict[str, Any] = {}
    for name, values in zip(COLUMNS, columns, strict=True):
        if name.endswith("_at"):
            # Naive UTC into numpy at once: converting aware datetimes one by one is the slow
            # path of pandas.
            naive = np.array([None if v is None else v.replace(tzinfo=None) for v in values],
                             dtype="datetime64[us]")
            data[name] = pd.to_datetime(naive).tz_localize("UTC")
        else:
            data[name] = pd.Series(values, dtype=object)
    table = pd.DataFrame(data)
    return table


def _figures(rows: pd.DataFrame, now: pd.Timestamp) -> dict[str, Any]:
    closed = rows["closed_at"].notna()
    has_due = rows["due_at"].notna()
    closed_on_time = closed & (~has_due | (rows["closed_at"] <= rows["due_at"]))
    overdue = ~closed & has_due & (rows["due_at"] < now)
    # A follow-up is judged once it is closed or its due date has passed: one still open and
    # not yet due may yet be handled on time.
    judged = int(closed.sum() + overdue.sum())
    contacted = rows[rows["first_contact_at"].notna()]
    hours = (contacted["first_contact_at"] - contacted["created_at"]).dt.total_seconds() / 3600
    close_hours = (rows.loc[closed, "closed_at"] - rows.loc[closed, "created_at"]
                   ).dt.total_seconds() / 3600
    outcomes = {o.value: int((rows["outcome"] == o.value).sum()) for o in FollowUpOutcome}
    return {
        "total": len(rows),
        "closed": int(closed.sum()),
        "open": int((~closed).sum()),
        "overdue": int(overdue.sum()),
        "closed_on_time": int(closed_on_time.sum()),
        "judged": judged,
        "on_time_share": None if judged == 0 else float(closed_on_time.sum() / judged),
        "contacted": len(contacted),
        "median_hours_to_contact": None if hours.empty else float(hours.median()),
        "median_hours_to_close": None if close_hours.empty else float(close_hours.median()),
        "p90_hours_to_close": None if close_hours.empty else float(close_hours.quantile(0.9)),
        "outcomes": outcomes,
    }


def loop_figures(table: pd.DataFrame, *, now: datetime) -> dict[str, Any]:
    """The loop's figures over `table` (`follow_ups_table`), as of `now`: for all follow-ups
    (`all`) and for each kind (`kinds`, in the order callback, detractor).

    `on_time_share` is closed within the service level over those judged (closed, or still
    open past their due date); None when none is judged yet. Times are in hours.
    """
    stamp = pd.Timestamp(now)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    table = table.copy()
    for column in COLUMNS:  # a table from before the loop had outcomes lacks some columns
        if column not in table.columns:
            table[column] = None
    for column in ("created_at", "due_at", "first_contact_at", "closed_at"):
        if not isinstance(table[column].dtype, pd.DatetimeTZDtype):
            table[column] = pd.to_datetime(table[column], utc=True)
    return {
        "all": _figures(table, stamp),
        "kinds": [{"kind": kind, **_figures(table[table["kind"] == kind], stamp)}
                  for kind in KINDS],
    }
