"""`/healthz` and the structured logs: what an operator's probe and log shipper read."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import select, text

from survey import create_app
from survey.auth.operations import create_user
from survey.extensions import db
from survey.models import Message, WorkerHeartbeat, utcnow
from tests.respond.helpers import make_link, open_campaign
from tests.survey.factories import make_invitation


def test_a_fresh_migrated_instance_is_healthy_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] and migrations["current"] == migrations["head"]
    # No sender ever ran and nothing waits: idle, not a fault.
    assert body["checks"]["sender"]["state"] == "idle"
    assert body["checks"]["sender"]["heartbeat_age_seconds"] is None


def test_queued_messages_without_a_live_sender_make_the_service_unhealthy(app, client):
    with app.app_context():
        invitation = make_invitation()
        db.session.add(Message(invitation_id=invitation.id, campaign_id=invitation.campaign_id,
                               channel="email", to_address="someone@example.org"))
        db.session.add(WorkerHeartbeat(worker_id="host:1",
                                       seen_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    sender = response.get_json()["checks"]["sender"]
    assert sender["state"] == "down" and sender["messages_waiting"] is True
    assert sender["heartbeat_age_seconds"] >= 590
    # The answer never carries personal data, whatever the queue holds.
    assert b"someone@example.org" not in response.data

    with app.app_context():
        db.session.get(WorkerHeartbeat, "host:1").seen_at = utcnow()
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["sender"]["state"] == "running"


def test_a_database_behind_the_code_is_reported(app, client):
    with app.app_context():
        head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
        db.session.commit()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        migrations = response.get_json()["checks"]["migrations"]
        assert migrations == {"ok": False, "current": "behind", "head": head}
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :head"),
                               {"head": head})
            db.session.commit()


def test_an_unreachable_database_answers_503(tmp_path, database_url):
    # A database server that does not listen: a port nobody uses on this machine.
    down = "postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2" \
        if database_url.startswith("postgresql") else f"sqlite:///{tmp_path}/missing/x.db"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": down, "SECRET_KEY": "k" * 40})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["migrations"]["ok"] is False


def parsed_lines(caplog, logger: str) -> list[dict]:
    handler_format = __import__("survey.logging", fromlist=["JsonFormatter"]).JsonFormatter()
    return [json.loads(handler_format.format(record)) for record in caplog.records
            if record.name == logger]


def test_one_json_line_per_request_names_the_rule_never_the_token(app, client, caplog):
    with app.app_context():
        campaign = open_campaign()
        _, link = make_link(campaign, language="fr")
    token = link.rstrip("/").split("/")[-1]
    with caplog.at_level(logging.INFO, logger="survey.requests"):
        client.get(link)
        client.get("/healthz")
        client.get("/no/such/page/" + token)
    lines = parsed_lines(caplog, "survey.requests")
    assert [line["path"] for line in lines] == ["/r/<token>", "/healthz", "<unmatched>"]
    first = lines[0]
    assert first["event"] == "request" and first["method"] == "GET"
    assert first["status"] in (200, 302)
    assert first["user_id"] is None
    assert isinstance(first["duration_ms"], float)
    assert lines[2]["status"] == 404
    assert all(token not in record.getMessage() and token not in json.dumps(line)
               for record, line in zip(caplog.records, lines, strict=False))


def test_the_request_line_names_the_signed_in_user(app, client, caplog):
    with app.app_context():
        user_id = create_user(db.session, "manager@example.org", "manager",
                              "a-long-password-123", actor="test").id
        db.session.commit()
    client.post("/login", data={"email": "manager@example.org",
                                "password": "a-long-password-123"})
    with caplog.at_level(logging.INFO, logger="survey.requests"):
        client.get("/manage/campaigns")
    line = parsed_lines(caplog, "survey.requests")[-1]
    assert line["path"] == "/manage/campaigns" and line["user_id"] == user_id


def test_the_formatter_writes_one_parseable_line_with_the_callers_fields():
    from survey.logging import JsonFormatter

    record = logging.LogRecord("survey.x", logging.INFO, __file__, 1, "sent %d", (3,), None)
    record.fields = {"event": "send.batch", "sent": 3}
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "sent 3" and parsed["event"] == "send.batch"
    assert parsed["level"] == "info" and parsed["logger"] == "survey.x"


def test_one_json_line_per_sent_batch_without_addresses(app, caplog):
    from tests.distribution.fakes import FakeSendGrid
    from tests.distribution.test_sending import launched, sender

    with FakeSendGrid() as fake, app.app_context():
        app.config.update(EMAIL_BACKEND="sendgrid", SENDGRID_API_KEY="SG.test-key",
                          SENDGRID_HOST=fake.url, SEND_TIMEOUT=1)
        launched(app, emails=1200)
        addresses = set(db.session.scalars(select(Message.to_address)))
        with caplog.at_level(logging.INFO, logger="survey.distribution.worker"):
            stats = sender(app, duplicate_share=0).run(once=True)
    assert stats.sent == 1200
    lines = [line for line in parsed_lines(caplog, "survey.distribution.worker")
             if line.get("event") == "send.batch"]
    assert [(line["channel"], line["sent"], line["failed"]) for line in lines] == \
        [("email", 1000, 0), ("email", 200, 0)]
    assert lines[0]["worker"] == "test-worker" and lines[0]["backend"] == "sendgrid"
    text_of_lines = json.dumps(lines)
    assert not any(address in text_of_lines for address in addresses if address)
