"""The audit trail: `barometre audit verify` on a tampered database, and its web page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from survey.audit import record_event
from survey.extensions import db
from tests.survey.factories import make_campaign
from tests.trust.helpers import logged_in, make_user


@pytest.fixture
def trail(app):
    """Two campaigns and 130 events: 60 of one campaign, 10 of the other, 60 outside both."""
    with app.app_context():
        north, south = make_campaign(slug="north"), make_campaign(slug="south")
        ids = {"north": north.id, "south": south.id, "events": []}
        for i in range(130):
            campaign_id = north.id if i < 60 else south.id if i < 70 else None
            action = "test.north" if i < 60 else "test.south" if i < 70 else "test.other"
            event_id = record_event(db.session, action, actor="cli", campaign_id=campaign_id,
                                 object_type="thing", object_id=i, summary={"i": i})
            ids["events"].append(event_id)
        db.session.commit()
    make_user(app, "auditor@example.org", "auditor")
    return ids


def _tamper(app, event_id: int) -> None:
    with app.app_context():
        db.session.execute(text("UPDATE audit_event SET action = 'test.hidden' WHERE id = :id"),
                           {"id": event_id})
        db.session.commit()


def test_audit_verify_passes_on_an_intact_trail(runner, trail) -> None:
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 0
    assert "audit trail intact: 131 events" in result.output  # and the account's creation


def test_audit_verify_names_a_row_changed_by_hand_and_exits_2(app, runner, trail) -> None:
    changed = trail["events"][77]
    _tamper(app, changed)
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 2
    assert f"audit trail broken at event {changed}: content changed" in result.output
    as_json = runner.invoke(["audit", "verify", "--json"])
    assert as_json.exit_code == 2
    assert f'"first_broken_id": {changed}' in as_json.output


def test_audit_verify_detects_a_deleted_row(app, runner, trail) -> None:
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"),
                           {"id": trail["events"][5]})
        db.session.commit()
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 2
    assert f"broken at event {trail['events'][6]}: does not follow" in result.output


def _ids_shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"<tr(?: class=\"broken\")?>\s*<td>(\d+)</td>", page)]


def test_the_trail_page_shows_events_newest_first_a_page_at_a_time(app, trail) -> None:
    client = logged_in(app, "auditor@example.org")
    first = client.get("/audit")
    assert first.status_code == 200
    shown = _ids_shown(first.text)
    events = trail["events"]
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    assert shown[0] > events[-1]  # the auditor's own login is the newest event
    third = _ids_shown(client.get("/audit?page=3").text)
    assert third[-1] == events[0]  # the oldest, on the last page
    assert _ids_shown(client.get("/audit?page=999").text) == third  # clamped to the last page
    assert "Chain intact" in first.text or "Chaîne intacte" in first.text


def test_the_trail_filters_by_campaign_and_action(app, trail) -> None:
    client = logged_in(app, "auditor@example.org")
    north = client.get(f"/audit?campaign={trail['north']}")
    shown = _ids_shown(north.text)
    assert len(shown) == 50 and set(shown) <= set(trail["events"][:60])
    second = _ids_shown(client.get(f"/audit?campaign={trail['north']}&page=2").text)
    assert len(second) == 10 and second[-1] == trail["events"][0]
    assert f'<a href="/audit?page=2&amp;campaign={trail["north"]}' in north.text
    south = _ids_shown(client.get(f"/audit?campaign={trail['south']}&action=test.south").text)
    assert south == sorted(trail["events"][60:70], reverse=True)
    assert _ids_shown(client.get(f"/audit?campaign={trail['south']}&action=test.north").text) \
        == []
    options = re.findall(r"<option[^>]*value=\"([^\"]*)\"", north.text)
    assert {str(trail["north"]), str(trail["south"]), "test.north", "user.login"} <= set(options)


@pytest.mark.parametrize("query", ["campaign=abc", "campaign=99999", "action=nope",
                                   "page=-1", "page=x", "campaign=1%27%20OR%201=1--"])
def test_unknown_filters_show_the_whole_trail(app, trail, query) -> None:
    client = logged_in(app, "auditor@example.org")
    response = client.get(f"/audit?{query}")
    assert response.status_code == 200
    assert len(_ids_shown(response.text)) == 50


def test_the_banner_names_the_first_broken_event(app, trail) -> None:
    changed = trail["events"][100]
    _tamper(app, changed)
    client = logged_in(app, "auditor@example.org")
    page = client.get("/audit").text
    assert f"event {changed}" in page or f"l’événement {changed}" in page
    assert 'role="alert"' in page
    assert f'<tr class="broken">\n    <td>{changed}</td>' in page


def test_the_trail_page_needs_a_login(client, trail) -> None:
    response = client.get("/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
