"""Retention and erasure per client (issue #16): each client is the controller of its
customers' data, so its own retention period decides when its campaigns are purged, and an
erasure in one client leaves another client's customer of the same id untouched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from survey.clients.scope import client_scope
from survey.extensions import db
from survey.models import AuditEvent, Campaign, Client, Customer, utcnow
from survey.privacy.operations import erase_customer, purge_every_client
from survey.worker.tasks import retention_purge
from tests.privacy.test_purge import _invite
from tests.survey.factories import make_campaign, make_customer


@pytest.fixture
def two_clients(app):
    """Client `default` keeps 30 days, client `acme` 200: each has a campaign closed 60 days
    ago with a customer of the same id and address."""
    with app.app_context():
        default = db.session.get(Client, 1)
        default.retention_days = 30
        acme = Client(slug="acme", name="Acme", retention_days=200)
        db.session.add(acme)
        db.session.commit()
        closed = utcnow() - timedelta(days=60)
        for client_id, slug in ((default.id, "default-2025"), (acme.id, "acme-2025")):
            with client_scope(client_id):
                campaign = make_campaign(slug=slug, status="closed", closed_at=closed)
                customer = make_customer(external_id="C1", email="same@example.org")
                _invite(campaign, customer, "same@example.org")
                db.session.commit()
        return default.id, acme.id


def _emails(client_id):
    with client_scope(client_id):
        db.session.expire_all()
        return db.session.scalars(select(Customer.email)).all()


def test_the_daily_purge_uses_each_clients_retention_period(app, two_clients):
    default, acme = two_clients
    with app.app_context():
        done = purge_every_client(db.session, default_days=90, actor="test")
        db.session.commit()
        assert {slug: (days, s.campaigns) for slug, (days, s) in done.items()} == {
            "acme": (200, ()), "default": (30, ("default-2025",))}
        assert _emails(default) == [None] and _emails(acme) == ["same@example.org"]
        purged = db.session.scalars(select(Campaign.slug).where(
            Campaign.purged_at.is_not(None))).all()
        assert purged == ["default-2025"]
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "privacy.purge")).one()
        assert event.client_id == default and event.summary["retention_days"] == 30


def test_an_installation_default_applies_to_a_client_without_its_own(app, two_clients):
    default, acme = two_clients
    with app.app_context():
        db.session.get(Client, acme).retention_days = None
        db.session.commit()
        done = purge_every_client(db.session, default_days=45, actor="test")
        db.session.commit()
        assert done["acme"][0] == 45 and done["acme"][1].campaigns == ("acme-2025",)
        assert _emails(acme) == [None]


def test_the_scheduled_task_reports_each_client(app, two_clients):
    from survey.worker.registry import JobContext

    with app.app_context():
        context = JobContext(app=app, session=db.session, job_id=0, kind="scheduled",
                             parameters={}, user_id=None, campaign_id=None, attempt=1,
                             progress=lambda *a, **k: None, worker_id="test", now=utcnow())
        result = retention_purge(context)
        assert result["campaigns"] == ["default-2025"]
        assert result["clients"]["acme"] == {"retention_days": 200, "campaigns": []}


def test_purge_client_uses_that_clients_period(runner, app, two_clients):
    default, acme = two_clients
    result = runner.invoke(["purge", "--client", "acme"])
    assert result.exit_code == 0, result.output
    assert "would erase" not in result.output and "no campaign (closed more than 200 days" \
        in result.output
    result = runner.invoke(["purge", "--client", "default"])
    assert "erased: default-2025 (closed more than 30 days ago)" in result.output
    assert runner.invoke(["purge"]).exit_code == 2  # two clients: name one
    result = runner.invoke(["purge", "--client", "acme", "--retention-days", "10"])
    assert "erased: acme-2025 (closed more than 10 days ago)" in result.output


def test_an_erasure_acts_within_one_client(runner, app, two_clients):
    default, acme = two_clients
    result = runner.invoke(["customers", "erase", "--client", "acme", "--external-id", "C1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _emails(acme) == [] and _emails(default) == ["same@example.org"]
        with client_scope(default):
            assert erase_customer(db.session, secret_key=app.config["SECRET_KEY"],
                                  email="same@example.org", actor="test") == 1
