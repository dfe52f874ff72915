"""The audit trail: `barometre audit verify` on a tampered database, and its web page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from survey.audit import read_head, record_event, seal_pending_events
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
    seal(app)
    return ids


def seal(app) -> None:
    with app.app_context():
        seal_pending_events(db.session, key=app.config["AUDIT_KEY"],
                            instance_path=app.config["INSTANCE_PATH"])


def _tamper(app, event_id: int) -> None:
    with app.app_context():
        db.session.execute(text("UPDATE audit_event SET action = 'test.hidden' WHERE id = :id"),
                           {"id": event_id})
        db.session.commit()


def test_audit_verify_passes_on_an_intact_trail(app, runner, trail) -> None:
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 0
    assert "audit trail intact: 131 events sealed" in result.output  # and the account's creation
    head = read_head(app.config["INSTANCE_PATH"])
    assert head.seq == 131 and f"head {head.hash}" in result.output


def test_deleting_the_newest_events_is_detected_by_the_recorded_head(app, runner, trail) -> None:
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_event WHERE seq > 128"))
        db.session.commit()
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 2
    assert "does not reach the head recorded in the instance folder (event 131" in result.output
    assert "ends at event 128" in result.output


def test_a_trail_rebuilt_without_the_key_is_refused(app, runner, trail) -> None:
    """Whoever can write to the database recomputes a plain hash chain; not the keyed one."""
    import hashlib
    import json

    with app.app_context():
        rows = db.session.execute(text("SELECT id, seq, prev_hash, hash, action FROM audit_event "
                                       "ORDER BY seq")).all()
        db.session.execute(text("UPDATE audit_event SET prev_hash = NULL, hash = NULL"))
        previous = "0" * 64
        for row in rows:  # the forger's own chain, over the same rows, hiding event 50
            action = "test.hidden" if row.seq == 50 else row.action
            forged = hashlib.sha256(json.dumps([action, previous]).encode()).hexdigest()
            db.session.execute(text("UPDATE audit_event SET action = :a, prev_hash = :p, "
                                    "hash = :h WHERE id = :id"),
                               {"a": action, "p": previous, "h": forged, "id": row.id})
            previous = forged
        db.session.commit()
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 2
    assert "content changed" in result.output


def test_a_head_printed_in_a_report_catches_a_truncation_without_the_head_file(
        app, runner, trail) -> None:
    head = read_head(app.config["INSTANCE_PATH"])
    # An attacker who could reach the instance folder too: the report's copy remains.
    (Path(app.config["INSTANCE_PATH"]) / "audit_head.json").unlink()
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_event WHERE seq = 131"))
        db.session.commit()
    assert runner.invoke(["audit", "verify"]).exit_code == 0  # nothing left to compare with
    result = runner.invoke(["audit", "verify", "--head", head.hash])
    assert result.exit_code == 2
    assert "does not reach the head given" in result.output
    assert runner.invoke(["audit", "verify", "--head", "xyz"]).exit_code == 2


def test_events_wait_unsealed_then_are_chained(app, runner, trail) -> None:
    with app.app_context():
        record_event(db.session, "test.late", actor="cli")
        db.session.commit()
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 0
    assert "131 events sealed" in result.output and "1 newer events wait" in result.output
    sealed = runner.invoke(["audit", "seal"])
    assert sealed.exit_code == 0 and "sealed 1 events; head 132" in sealed.output
    assert "132 events sealed" in runner.invoke(["audit", "verify"]).output


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
