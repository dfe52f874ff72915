"""The improvement plan's pages: managers record and move actions (from the list, a campaign's
reports and each row of its drivers grid), auditors read them; the list filters and exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import select

from survey.campaigns.operations import get_campaign
from survey.extensions import db
from survey.improvement import operations as ops
from survey.models import ImprovementAction
from tests.improvement.test_operations import values
from tests.trust.helpers import logged_in


def _form(plan, **changes):
    data = {"title": "Rappel sous 24 h", "item": "phone_wait", "commitment": "",
            "change": "Rappel automatique.", "owner": str(plan.manager),
            "due_on": "2026-06-30", "indicator": "phone_wait_satisfied", "target": "80",
            "public": "y"}
    return {**data, **changes}


def test_a_manager_records_an_action_from_a_drivers_row_and_moves_it(app, plan) -> None:
    manager = logged_in(app, "manager@plan.example")
    grid = manager.get(f"/manage/campaigns/{plan.previous}/improvement")
    assert grid.status_code == 200
    page = grid.get_data(as_text=True)
    assert 'id="drivers-grid"' in page
    link = f"/manage/actions/new?campaign={plan.previous}&amp;item=phone_wait"
    assert link in page
    form = manager.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert '<option selected value="phone_wait">' in form
    assert '<option selected value="phone_wait_satisfied">' in form
    created = manager.post(f"/manage/actions/new?campaign={plan.previous}", data=_form(plan))
    assert created.status_code == 303
    with app.app_context():
        action = db.session.scalar(select(ImprovementAction))
        assert action.target == 0.8 and action.public and action.status == "planned"
        action_id = action.id
    detail = manager.get(f"/manage/actions/{action_id}").get_data(as_text=True)
    assert "Rappel automatique." in detail and 'id="history-table"' in detail
    refused = manager.post(f"/manage/actions/{action_id}/status", data={"status": "abandoned"})
    assert refused.status_code == 422
    moved = manager.post(f"/manage/actions/{action_id}/status",
                         data={"status": "in_progress", "note": "Lancé"})
    assert moved.status_code == 303
    edited = manager.post(f"/manage/actions/{action_id}/edit",
                          data=_form(plan, target="85", public=""))
    assert edited.status_code == 303
    history = manager.get(f"/manage/actions/{action_id}?lang=fr").get_data(as_text=True)
    assert "Lancé" in history and "80,0 % → 85,0 %" in history.replace("\u202f", " ").replace(
        "\u00a0", " ")
    with app.app_context():
        action = db.session.get(ImprovementAction, action_id)
        assert (action.status, action.target, action.public) == ("in_progress", 0.85, False)


def test_a_bad_target_is_refused_on_its_field(app, plan) -> None:
    manager = logged_in(app, "manager@plan.example")
    refused = manager.post(f"/manage/actions/new?campaign={plan.previous}",
                           data=_form(plan, target="140"))
    assert refused.status_code == 422
    assert "between 0 and 100" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ImprovementAction)) is None


def test_the_list_filters_and_exports_and_auditors_only_read(app, plan) -> None:
    today = date.today()
    with app.app_context():
        campaign = get_campaign(db.session, plan.previous)
        late = ops.create_action(db.session, campaign, values(
            plan, title="+En retard", due_on=today - timedelta(days=3)), actor="test")
        ops.create_action(db.session, campaign, values(
            plan, title="Plus tard", due_on=today + timedelta(days=90)), actor="test")
        db.session.commit()
        late_id = late.id
    auditor = logged_in(app, "auditor@plan.example")
    page = auditor.get("/manage/actions?due=overdue").get_data(as_text=True)
    assert "+En retard" in page and "Plus tard" not in page
    assert auditor.get(f"/manage/actions/{late_id}").status_code == 200
    assert auditor.get(f"/manage/actions/{late_id}/edit").status_code == 403
    assert auditor.post(f"/manage/actions/{late_id}/status",
                        data={"status": "done"}).status_code == 403
    exported = auditor.get("/manage/actions.csv?status=planned")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [row["title"] for row in rows] == ["'+En retard", "Plus tard"]
    assert rows[0]["overdue"] == "1" and rows[0]["target"] == "0.8"
    manager = logged_in(app, "manager@plan.example")
    home = manager.get("/").get_data(as_text=True)
    assert 'id="due-actions"' in home and "+En retard" in home and "Plus tard" not in home
    reports = manager.get(f"/manage/campaigns/{plan.previous}/reports").get_data(as_text=True)
    assert f"/manage/actions/new?campaign={plan.previous}" in reports


def test_the_published_results_show_what_was_changed_when_the_manager_chooses(
        app, plan, client) -> None:
    from survey.publication.results import publish

    with app.app_context():
        previous = get_campaign(db.session, plan.previous)
        shown = ops.create_action(db.session, previous, values(
            plan, title="Rappel sous 24 h", public=True), actor="test")
        hidden = ops.create_action(db.session, previous, values(
            plan, title="Action interne", public=False), actor="test")
        ops.create_action(db.session, previous, values(
            plan, title="Pas encore faite", public=True), actor="test")
        for action in (shown, hidden):
            ops.change_status(db.session, action, "done", today=date(2026, 3, 2), actor="test")
        publish(db.session, previous.programme, slug="service-client", actor="test")
        db.session.commit()
    page = client.get("/p/service-client?lang=fr").get_data(as_text=True)
    assert "Ce que nous avons changé cette année" in page and "Rappel sous 24 h" in page
    assert "Action interne" not in page and "Pas encore faite" not in page
    data = client.get("/p/service-client/results.json").get_json()
    assert [c["title"] for c in data["changes"]] == ["Rappel sous 24 h"]
    assert data["changes"][0]["done_on"] == "2026-03-02" and "owner" not in data["changes"][0]
