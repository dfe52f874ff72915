"""Recording, changing and moving improvement actions: every change checked, kept in the
action's history and in the audit trail."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from survey.campaigns.operations import get_campaign
from survey.extensions import db
from survey.improvement import operations as ops
from survey.models import AuditEvent, ImprovementAction


def values(plan, **changes):
    base = {"title": "Rappel sous 24 h", "item": "phone_wait", "commitment": None,
            "change": "Un rappel automatique quand l'attente dépasse 3 minutes.",
            "owner_id": plan.manager, "due_on": date(2026, 6, 30),
            "indicator": "phone_wait_satisfied", "target": 0.8, "public": False}
    return {**base, **changes}


def test_an_action_is_recorded_changed_and_moved_with_its_history(app, plan) -> None:
    with app.app_context():
        campaign = get_campaign(db.session, plan.previous)
        action = ops.create_action(db.session, campaign, values(plan), actor="user:1",
                                   actor_id=plan.manager)
        db.session.commit()
        assert action.status == "planned" and action.done_on is None
        changed = ops.edit_action(db.session, action, {"due_on": date(2026, 9, 30),
                                                       "target": 0.85}, actor="user:1")
        assert changed == {"due_on": ["2026-06-30", "2026-09-30"], "target": [0.8, 0.85]}
        assert ops.edit_action(db.session, action, {"target": 0.85}, actor="user:1") == {}
        ops.change_status(db.session, action, "in_progress", actor="user:1")
        ops.change_status(db.session, action, "done", today=date(2026, 5, 2), actor="user:1")
        assert action.done_on == date(2026, 5, 2)
        ops.change_status(db.session, action, "in_progress", note="Pas encore en place",
                          actor="user:1")
        assert action.done_on is None
        db.session.commit()
        kinds = [change.kind for change in action.changes]
        assert kinds == ["created", "edited", "status", "status", "status"]
        assert action.changes[0].fields["title"] == [None, "Rappel sous 24 h"]
        assert action.changes[-1].note == "Pas encore en place"
        events = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "improvement_action").order_by(AuditEvent.id)).all()
        assert events == ["improvement_action.create", "improvement_action.change",
                          "improvement_action.status", "improvement_action.status",
                          "improvement_action.status"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": " "}, "title"),
    ({"item": None, "commitment": None}, "item"),
    ({"item": "no_such_item"}, "item"),
    ({"owner_id": None}, "owner_id"),
    ({"indicator": "no_such_indicator"}, "indicator"),
    ({"indicator": "phone_wait_satisfied", "target": 1.2}, "target"),
    ({"indicator": "phone_wait_satisfied", "target": None}, "target"),
    ({"indicator": None, "target": 0.5}, "indicator"),
    ({"due_on": None}, "due_on"),
])
def test_an_action_that_cannot_be_followed_is_refused_naming_the_field(
        app, plan, changes, field) -> None:
    with app.app_context():
        campaign = get_campaign(db.session, plan.previous)
        with pytest.raises(ops.ActionError) as refused:
            ops.create_action(db.session, campaign, values(plan, **changes), actor="test")
        assert str(refused.value).startswith(f"{field}: ")
        assert db.session.scalar(select(ImprovementAction)) is None


def test_an_auditor_cannot_own_an_action_and_a_free_commitment_needs_no_item(app, plan) -> None:
    with app.app_context():
        campaign = get_campaign(db.session, plan.previous)
        with pytest.raises(ops.ActionError, match="owner_id"):
            ops.create_action(db.session, campaign, values(plan, owner_id=plan.auditor),
                              actor="test")
        action = ops.create_action(
            db.session, campaign,
            values(plan, item=None, commitment="Horaires d'ouverture affichés", indicator=None,
                   target=None), actor="test")
        assert action.item is None and action.commitment == "Horaires d'ouverture affichés"


def test_status_changes_are_checked_in_one_place(app, plan) -> None:
    with app.app_context():
        action = ops.create_action(db.session, get_campaign(db.session, plan.previous),
                                   values(plan), actor="test")
        with pytest.raises(ops.ActionError, match="already planned"):
            ops.change_status(db.session, action, "planned", actor="test")
        with pytest.raises(ops.ActionError, match="is not one of"):
            ops.change_status(db.session, action, "finished", actor="test")
        with pytest.raises(ops.ActionError, match="note: required"):
            ops.change_status(db.session, action, "abandoned", actor="test")
        ops.change_status(db.session, action, "abandoned", note="Budget refusé", actor="test")
        assert action.status == "abandoned"


def test_due_and_overdue_actions_are_listed_soonest_first(app, plan) -> None:
    with app.app_context():
        campaign = get_campaign(db.session, plan.previous)
        late = ops.create_action(db.session, campaign, values(plan, due_on=date(2026, 3, 1)),
                                 actor="test")
        soon = ops.create_action(db.session, campaign, values(plan, due_on=date(2026, 4, 20)),
                                 actor="test")
        ops.create_action(db.session, campaign, values(plan, due_on=date(2026, 12, 1)),
                          actor="test")
        done = ops.create_action(db.session, campaign, values(plan, due_on=date(2026, 2, 1)),
                                 actor="test")
        ops.change_status(db.session, done, "done", actor="test")
        actions, overdue, due_soon = ops.due_actions(db.session, today=date(2026, 4, 1))
        assert [a.id for a in actions] == [late.id, soon.id]
        assert (overdue, due_soon) == (1, 1)
        query = ops.filtered_query(ops.ActionFilters(due="overdue"), user_id=None,
                                   today=date(2026, 4, 1))
        assert [a.id for a in db.session.scalars(query).unique()] == [late.id]
        query = ops.filtered_query(ops.ActionFilters(status="done"), user_id=None)
        assert [a.id for a in db.session.scalars(query).unique()] == [done.id]
