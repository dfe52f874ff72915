"""Improvement actions: record them, change them, move their status, and list them.

Each service function checks its input (`ActionError` names the field and says why), changes the
action, keeps the change in the action's history (`ImprovementActionChange`: each field before
and after), appends an audit event and flushes; the request or command commits once.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from questionnaires.localized import localize
from questionnaires.questions import NpsQuestion, RatingQuestion
from survey.audit import record_event
from survey.csvsafe import safe_row
from survey.models import (
    ActionStatus,
    Campaign,
    ImprovementAction,
    ImprovementActionChange,
    User,
)
from survey.reporting.dataset import load_questionnaire

#: The statuses of an action still to carry out: only these can be overdue.
OPEN_STATUSES = (ActionStatus.PLANNED.value, ActionStatus.IN_PROGRESS.value)
#: An open action due within this many days is "due soon" (the manager's home lists it).
DUE_SOON_DAYS = 30
#: The fields a manager edits, in the order the history lists them.
EDITABLE = ("title", "item", "commitment", "change", "owner_id", "due_on", "indicator", "target",
            "public")
OWNER_ROLES = ("admin", "manager")
#: The columns of the plan as CSV (the list's export and the auditor's pack).
EXPORT_COLUMNS = ("id", "programme", "campaign", "year", "title", "item", "commitment",
                  "change", "owner", "due_on", "status", "done_on", "overdue", "indicator",
                  "target", "public", "created_at", "updated_at")


class ActionError(ValueError):
    """An action that cannot be recorded or changed: `field: why`."""


# --- what an action may address and aim at ---------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """An indicator of the campaign's report an action may aim at."""

    name: str
    kind: str  # mean, proportion, nps, index
    item: str | None
    scale: tuple[float, float] | None  # the bounds of a mean

    def bounds(self) -> tuple[float, float]:
        if self.kind == "proportion":
            return 0.0, 1.0
        if self.kind == "nps":
            return -100.0, 100.0
        if self.kind == "index":  # the items' scores brought to 0–100
            return 0.0, 100.0
        return self.scale or (-math.inf, math.inf)


def campaign_items(campaign: Campaign, lang: str) -> dict[str, str]:
    """The rating and NPS items of the campaign's questionnaire, by code, in `lang`."""
    questionnaire = load_questionnaire(campaign)
    return {question.code: localize(question.label, lang)
            for _page, question in questionnaire.questions()
            if isinstance(question, RatingQuestion | NpsQuestion)}


def campaign_indicators(campaign: Campaign) -> dict[str, Indicator]:
    """The indicators of the campaign's report (the analysis contract's), by name."""
    questionnaire = load_questionnaire(campaign)
    scales = {question.code: question.scale() for _page, question in questionnaire.questions()
              if isinstance(question, RatingQuestion | NpsQuestion)}
    found = {}
    for entry in questionnaire.analysis_indicators():
        item = entry.get("item")
        scale = entry.get("scale") or scales.get(item or "")
        found[entry["name"]] = Indicator(entry["name"], entry["kind"], item,
                                         tuple(scale) if scale else None)
    return found


def target_from_display(kind: str, value: float) -> float:
    """A target as typed (a percentage for a share) as stored (a share)."""
    return value / 100 if kind == "proportion" else value


def target_for_display(kind: str, value: float | None) -> float | None:
    if value is None:
        return None
    return value * 100 if kind == "proportion" else value


def possible_owners(session: Session) -> list[User]:
    """Who may carry an action: active managers and admins."""
    return list(session.scalars(select(User).where(
        User.role.in_(OWNER_ROLES), User.active.is_(True)).order_by(User.email)))


# --- checking -----------------------------------------------------------------------------------


def _text(value: str | None, field: str, limit: int | None, *, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ActionError(f"{field}: required")
        return None
    if limit is not None and len(value) > limit:
        raise ActionError(f"{field}: {limit} characters at most")
    return value


def _checked(session: Session, campaign: Campaign, values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an action, checked against the campaign's questionnaire."""
    checked: dict[str, Any] = {
        "title": _text(values.get("title"), "title", 200, required=True),
        "commitment": _text(values.get("commitment"), "commitment", 300, required=False),
        "change": _text(values.get("change"), "change", 5000, required=True),
        "item": _text(values.get("item"), "item", 100, required=False),
        "public": bool(values.get("public")),
    }
    if checked["item"] is not None and checked["item"] not in campaign_items(campaign, "en"):
        raise ActionError(f"item: {checked['item']!r} is not a rated item of the questionnaire "
                          f"of {campaign.slug}")
    if checked["item"] is None and checked["commitment"] is None:
        raise ActionError("item: name the questionnaire item the action addresses, or write the "
                          "commitment")
    owner_id = values.get("owner_id")
    owner = session.get(User, int(owner_id)) if owner_id not in (None, "") else None
    if owner is None or owner.role not in OWNER_ROLES or not owner.active:
        raise ActionError("owner_id: choose an active manager to carry the action")
    checked["owner_id"] = owner.id
    due_on = values.get("due_on")
    if not isinstance(due_on, date):
        raise ActionError("due_on: a date is required")
    checked["due_on"] = due_on
    indicator, target = values.get("indicator") or None, values.get("target")
    if indicator is None:
        if target is not None:
            raise ActionError("indicator: a target value needs the indicator it is a value of")
        checked["indicator"] = checked["target"] = None
        return checked
    known = campaign_indicators(campaign)
    if indicator not in known:
        raise ActionError(f"indicator: {indicator!r} is not an indicator of the report of "
                          f"{campaign.slug}")
    if target is None or not math.isfinite(float(target)):
        raise ActionError("target: the value the indicator should reach is required")
    low, high = known[indicator].bounds()
    if not low <= float(target) <= high:
        shown_low = target_for_display(known[indicator].kind, low)
        shown_high = target_for_display(known[indicator].kind, high)
        raise ActionError(f"target: between {shown_low:g} and {shown_high:g} for this indicator")
    checked["indicator"], checked["target"] = indicator, float(target)
    return checked


def _plain(value: Any) -> Any:
    """A field's value as the history keeps it (JSON)."""
    return value.isoformat() if isinstance(value, date) else value


def _record(session: Session, action: ImprovementAction, kind: str, fields: dict[str, Any],
            *, note: str | None, actor: str, actor_id: int | None, audit_action: str) -> None:
    action.changes.append(ImprovementActionChange(kind=kind, fields=fields, note=note,
                                                  actor=actor, actor_id=actor_id))
    session.flush()
    record_event(session, audit_action, actor=actor, actor_id=actor_id,
                 object_type="improvement_action", object_id=action.id,
                 campaign_id=action.campaign_id,
                 summary={"fields": fields, **({"note": note} if note else {})})


# --- changes ------------------------------------------------------------------------------------


def create_action(
    session: Session, campaign: Campaign, values: Mapping[str, Any], *, actor: str,
    actor_id: int | None = None,
) -> ImprovementAction:
    """Record a new action decided from `campaign`'s results; its status is `planned`.

    `values` holds the fields of `EDITABLE` (`owner_id` a user's id, `due_on` a date, `target`
    in the stored unit: a share for a proportion)."""
    checked = _checked(session, campaign, values)
    action = ImprovementAction(campaign_id=campaign.id, status=ActionStatus.PLANNED.value,
                               created_by_id=actor_id, **checked)
    session.add(action)
    session.flush()
    fields = {name: [None, _plain(checked[name])] for name in EDITABLE
              if checked[name] not in (None, False)}
    fields["status"] = [None, ActionStatus.PLANNED.value]
    _record(session, action, "created", fields, note=None, actor=actor, actor_id=actor_id,
            audit_action="improvement_action.create")
    return action


def edit_action(
    session: Session, action: ImprovementAction, values: Mapping[str, Any], *, actor: str,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Change the fields of `action` given in `values`; the fields that changed, before and
    after (nothing is recorded when nothing changed)."""
    current = {name: getattr(action, name) for name in EDITABLE}
    checked = _checked(session, action.campaign, {**current, **values})
    fields = {name: [_plain(current[name]), _plain(checked[name])] for name in EDITABLE
              if checked[name] != current[name]}
    if not fields:
        return {}
    for name in fields:
        setattr(action, name, checked[name])
    _record(session, action, "edited", fields, note=None, actor=actor, actor_id=actor_id,
            audit_action="improvement_action.change")
    return fields


def change_status(
    session: Session, action: ImprovementAction, status: str, *, note: str | None = None,
    today: date | None = None, actor: str, actor_id: int | None = None,
) -> ImprovementAction:
    """Move `action` to `status`: the one place a status changes.

    Done sets `done_on` (today); leaving done clears it. Abandoning needs a note saying why,
    since the next report states it. Any status may follow any other (an abandoned action may be
    taken up again), but not itself."""
    try:
        new = ActionStatus(status)
    except ValueError:
        raise ActionError(f"status: {status!r} is not one of "
                          f"{', '.join(s.value for s in ActionStatus)}") from None
    if new.value == action.status:
        raise ActionError(f"status: the action is already {new.value}")
    note = _text(note, "note", 2000, required=new is ActionStatus.ABANDONED)
    before = action.status
    action.status = new.value
    action.done_on = (today or date.today()) if new is ActionStatus.DONE else None
    _record(session, action, "status", {"status": [before, new.value]}, note=note, actor=actor,
            actor_id=actor_id, audit_action="improvement_action.status")
    return action


# --- reading ------------------------------------------------------------------------------------


def is_overdue(action: ImprovementAction, today: date | None = None) -> bool:
    return action.status in OPEN_STATUSES and action.due_on < (today or date.today())


@dataclass(frozen=True)
class ActionFilters:
    """The list's filters, as the page's query string gives them."""

    status: str = ""  # a status, "open" (planned or in progress), or "" for all
    owner: str = ""  # a user id, "me", or ""
    due: str = ""  # "overdue", "soon" (open, due within DUE_SOON_DAYS), or ""
    campaign: str = ""  # a campaign's slug, or ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ActionFilters:
        status = args.get("status", "")
        if status not in ("", "open", *(s.value for s in ActionStatus)):
            status = ""
        owner = args.get("owner", "")
        if owner != "me" and not owner.isdigit():
            owner = ""
        due = args.get("due", "")
        if due not in ("overdue", "soon"):
            due = ""
        return cls(status=status, owner=owner, due=due, campaign=args.get("campaign", "")[:100])

    def query_args(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}


def filtered_query(filters: ActionFilters, *, user_id: int | None,
                   today: date | None = None) -> Select[tuple[ImprovementAction]]:
    """The actions the filters keep, soonest due first."""
    today = today or date.today()
    query = select(ImprovementAction).options(joinedload(ImprovementAction.campaign),
                                              joinedload(ImprovementAction.owner))
    if filters.status == "open":
        query = query.where(ImprovementAction.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(ImprovementAction.status == filters.status)
    if filters.owner == "me":
        query = query.where(ImprovementAction.owner_id == user_id)
    elif filters.owner:
        query = query.where(ImprovementAction.owner_id == int(filters.owner))
    if filters.due:
        query = query.where(ImprovementAction.status.in_(OPEN_STATUSES))
        if filters.due == "overdue":
            query = query.where(ImprovementAction.due_on < today)
        else:
            query = query.where(ImprovementAction.due_on >= today,
                                ImprovementAction.due_on <= today + timedelta(DUE_SOON_DAYS))
    if filters.campaign:
        query = query.join(Campaign, Campaign.id == ImprovementAction.campaign_id).where(
            Campaign.slug == filters.campaign)
    return query.order_by(ImprovementAction.due_on, ImprovementAction.id)


def due_actions(session: Session, *, today: date | None = None, limit: int = 10
                ) -> tuple[list[ImprovementAction], int, int]:
    """The open actions overdue or due within `DUE_SOON_DAYS`, soonest first (at most `limit`),
    with how many are overdue and due soon in all."""
    today = today or date.today()
    query = filtered_query(ActionFilters(status="open"), user_id=None, today=today).where(
        ImprovementAction.due_on <= today + timedelta(DUE_SOON_DAYS))
    actions = list(session.scalars(query).unique())
    overdue = sum(1 for action in actions if action.due_on < today)
    return actions[:limit], overdue, len(actions) - overdue


def actions_of(session: Session, campaign_ids: list[int]) -> list[ImprovementAction]:
    """The actions decided from these campaigns, in the order they were recorded."""
    if not campaign_ids:
        return []
    return list(session.scalars(
        select(ImprovementAction).where(ImprovementAction.campaign_id.in_(campaign_ids))
        .options(joinedload(ImprovementAction.owner))
        .order_by(ImprovementAction.id)).unique())


def plan_csv(actions: list[ImprovementAction], today: date) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for action in actions:
        writer.writerow(safe_row(action_row(action, today)))
    return out.getvalue()


def action_row(action: ImprovementAction, today: date) -> list[Any]:
    """One action as a CSV row of `EXPORT_COLUMNS` (the stored codes and units: a share's
    target is a share)."""
    campaign = action.campaign
    return [
        action.id, campaign.programme.name, campaign.slug, campaign.year, action.title,
        action.item or "", action.commitment or "", action.change, action.owner.email,
        action.due_on.isoformat(), action.status,
        action.done_on.isoformat() if action.done_on else "",
        int(is_overdue(action, today)), action.indicator or "",
        "" if action.target is None else repr(action.target), int(action.public),
        action.created_at.isoformat(timespec="seconds"),
        action.updated_at.isoformat(timespec="seconds"),
    ]


def public_changes(session: Session, campaign: Campaign | None) -> list[dict[str, Any]]:
    """"What we changed this year" on the published results of `campaign`: the actions the
    manager chose to show, done, decided from its results or from the programme's campaign
    before it (the changes made since the customers were last asked), most recent first.
    Neither the owner nor the target is published."""
    if campaign is None:
        return []
    earlier = session.scalars(select(Campaign.id).where(
        Campaign.programme_id == campaign.programme_id, Campaign.year < campaign.year)
        .order_by(Campaign.year.desc(), Campaign.id.desc())).first()
    ids = [campaign.id] + ([earlier] if earlier is not None else [])
    actions = session.scalars(select(ImprovementAction).where(
        ImprovementAction.campaign_id.in_(ids), ImprovementAction.public.is_(True),
        ImprovementAction.status == ActionStatus.DONE.value)
        .order_by(ImprovementAction.done_on.desc(), ImprovementAction.id)).all()
    return [{"title": action.title, "item": action.item, "commitment": action.commitment,
             "change": action.change, "done_on": action.done_on.isoformat()}
            for action in actions]
