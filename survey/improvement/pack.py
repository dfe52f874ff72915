"""The improvement plan in the auditor's pack (`survey.auditpack`): ISO 10004 and the mark's
documentary control look for results that led to actions, and for those actions followed.

The pack's `improvement/` folder holds `plan.csv` (the actions decided from the campaign's
results), `follow-up.csv` (the actions decided from the previous campaign, each with its status
and its indicator compared between the two campaigns, as the report states it), and
`history.csv` (every change of those actions: who, when, each field before and after). Owners
are staff accounts; no customer's data is in them.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from sqlalchemy.orm import Session

from survey.auditpack.registry import register_pack_section
from survey.csvsafe import safe_row
from survey.improvement.follow_up import follow_up_of, previous_campaign
from survey.improvement.operations import EXPORT_COLUMNS, action_row, actions_of
from survey.models import Campaign

FOLLOW_UP_COLUMNS = (
    "id", "campaign", "title", "item", "commitment", "due_on", "status", "done_on", "indicator",
    "target", "previous_estimate", "previous_ci_low", "previous_ci_high", "current_estimate",
    "current_ci_low", "current_ci_high", "difference", "difference_ci_low",
    "difference_ci_high", "p_value", "p_holm", "significant", "trend_broken", "target_reached",
)
HISTORY_COLUMNS = ("action", "at", "actor", "kind", "field", "before", "after", "note")


def _number(value: object) -> str:
    return "" if value is None else repr(float(value))  # type: ignore[arg-type]


def _flag(value: bool | None) -> str:
    return "" if value is None else str(bool(value)).lower()


def improvement_files(session: Session, campaign: Campaign) -> dict[str, bytes]:
    today = date.today()
    decided = actions_of(session, [campaign.id])
    previous = previous_campaign(session, campaign)
    followed = actions_of(session, [previous.id]) if previous else []

    plan = io.StringIO()
    writer = csv.writer(plan, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for action in decided:
        writer.writerow(safe_row(action_row(action, today)))

    follow = io.StringIO()
    writer = csv.writer(follow, lineterminator="\n")
    writer.writerow(FOLLOW_UP_COLUMNS)
    result = follow_up_of(session, campaign) if followed else None
    for row in (result or {}).get("rows", ()):
        before, now = row["previous_estimate"] or {}, row["current_estimate"] or {}
        test = row["comparison"] or {}
        writer.writerow(safe_row([
            row["id"], row["campaign"], row["title"], row["item"] or "", row["commitment"] or "",
            row["due_on"].isoformat(), row["status"],
            row["done_on"].isoformat() if row["done_on"] else "", row["indicator"] or "",
            _number(row["target"]), _number(before.get("estimate")),
            _number(before.get("ci_low")), _number(before.get("ci_high")),
            _number(now.get("estimate")), _number(now.get("ci_low")),
            _number(now.get("ci_high")), _number(test.get("difference")),
            _number(test.get("ci_low")), _number(test.get("ci_high")),
            _number(test.get("p_value")), _number(test.get("p_adjusted")),
            _flag(test.get("significant")), _flag(row["trend_broken"]),
            _flag(row["reached"]),
        ]))

    history = io.StringIO()
    writer = csv.writer(history, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for action in [*followed, *decided]:
        for change in action.changes:
            for field, (before, after) in change.fields.items():
                writer.writerow(safe_row([
                    action.id, change.created_at.isoformat(timespec="seconds"), change.actor,
                    change.kind, field, json.dumps(before, ensure_ascii=False),
                    json.dumps(after, ensure_ascii=False), change.note or "",
                ]))
    return {
        "plan.csv": plan.getvalue().encode("utf-8"),
        "follow-up.csv": follow.getvalue().encode("utf-8"),
        "history.csv": history.getvalue().encode("utf-8"),
    }


register_pack_section("improvement", improvement_files)
