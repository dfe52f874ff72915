from datetime import timedelta

import pytest

from survey.audit import verify_chain
from survey.extensions import db
from survey.models import AuditEvent, Customer, Invitation, Message, Suppression, utcnow
from survey.privacy.operations import ErasureError, erase_customer, purge_personal_data
from tests.survey.factories import make_campaign, make_customer, make_invitation


def _invite(campaign, customer, address):
    invitation = make_invitation(campaign, customer=customer, disposition="complete")
    db.session.add(Message(invitation_id=invitation.id, campaign_id=campaign.id,
                           channel="email", to_address=address, state="sent"))
    return invitation


@pytest.fixture
def campaigns(app):
    """An old closed campaign, a recently closed one and an open one sharing a customer."""
    with app.app_context():
        now = utcnow()
        old = make_campaign(slug="old", status="closed", closed_at=now - timedelta(days=120),
                            launched_at=now - timedelta(days=150))
        recent = make_campaign(slug="recent", status="closed", closed_at=now - timedelta(days=10))
        live = make_campaign(slug="live", status="open")
        alice = make_customer(external_id="A", email="alice@example.org", name="Alice")
        bob = make_customer(external_id="B", email="bob@example.org", phone="+33612345678")
        carol = make_customer(external_id="C", email="carol@example.org")
        _invite(old, alice, "alice@example.org")
        _invite(old, bob, "bob@example.org")
        _invite(live, bob, "bob@example.org")
        _invite(recent, carol, "carol@example.org")
        ids = {"old": old.id, "recent": recent.id, "live": live.id}
        db.session.commit()
    return ids


def test_dry_run_counts_and_changes_nothing(app, campaigns) -> None:
    with app.app_context():
        summary = purge_personal_data(db.session, retention_days=90, dry_run=True, actor="test")
        db.session.commit()
        assert summary.campaigns == ("old",)
        assert (summary.messages_blanked, summary.invitations_unlinked,
                summary.customers_erased) == (2, 2, 1)
        assert db.session.query(Message).filter(Message.to_address.is_(None)).count() == 0
        assert db.session.query(Invitation).filter(Invitation.customer_id.is_(None)).count() == 0


def test_purge_erases_what_is_past_retention_and_keeps_the_statistics(app, campaigns) -> None:
    with app.app_context():
        before = sorted((i.campaign_id, i.stratum, i.design_weight, i.disposition)
                        for i in db.session.query(Invitation))
        summary = purge_personal_data(db.session, retention_days=90, actor="test")
        db.session.commit()
        assert summary.customers_erased == 1
        alice = db.session.query(Customer).filter_by(external_id="A").one()
        bob = db.session.query(Customer).filter_by(external_id="B").one()
        carol = db.session.query(Customer).filter_by(external_id="C").one()
        assert (alice.email, alice.name, alice.erased_at is not None) == (None, None, True)
        assert alice.last_invited_on is not None  # the recontact rule survives the purge
        assert bob.email == "bob@example.org"  # still in an open campaign
        assert carol.email == "carol@example.org"  # closed only 10 days ago
        old_messages = db.session.query(Message).filter_by(campaign_id=campaigns["old"]).all()
        assert [m.to_address for m in old_messages] == [None, None]
        assert db.session.query(Invitation).filter_by(campaign_id=campaigns["old"],
                                                      customer_id=None).count() == 2
        after = sorted((i.campaign_id, i.stratum, i.design_weight, i.disposition)
                       for i in db.session.query(Invitation))
        assert after == before
        # A second purge finds nothing more to do, and the trail still verifies.
        assert purge_personal_data(db.session, retention_days=90, actor="test").campaigns == ()
        assert verify_chain(db.session).ok


def test_purge_command(runner, campaigns) -> None:
    dry = runner.invoke(["purge", "--dry-run"])
    assert dry.exit_code == 0
    assert "would erase: old (closed more than 90 days ago)" in dry.output
    done = runner.invoke(["purge", "--retention-days", "5"])
    assert done.exit_code == 0
    assert "erased: old, recent" in done.output


def test_erasure_removes_the_customer_and_suppresses_the_contact(app, campaigns) -> None:
    with app.app_context():
        erased = erase_customer(db.session, secret_key=app.config["SECRET_KEY"],
                                email=" Bob@Example.org ", actor="test")
        db.session.commit()
        assert erased == 1
        assert db.session.query(Customer).filter_by(external_id="B").count() == 0
        assert db.session.query(Suppression).count() == 2  # email and phone
        assert db.session.query(Message).filter_by(to_address="bob@example.org").count() == 0
        assert db.session.query(Invitation).filter(Invitation.customer_id.is_(None)).count() == 2
        trail = [(e.action, e.object_id, e.summary) for e in db.session.query(AuditEvent)]
        assert any(action == "privacy.erase" for action, _, _ in trail)
        assert "bob" not in repr(trail).lower() and "612345678" not in repr(trail)


def test_erasure_names_exactly_one_customer(app) -> None:
    with app.app_context(), pytest.raises(ErasureError, match="exactly one"):
        erase_customer(db.session, secret_key="k" * 40, actor="test")


def test_erase_command_reports_bad_input(runner, campaigns) -> None:
    assert runner.invoke(["customers", "erase", "--external-id", "nobody"]).exit_code == 2
    result = runner.invoke(["customers", "erase", "--external-id", "A"])
    assert result.exit_code == 0 and "erased 1 customer" in result.output


def test_the_daily_purge_runs_from_the_workers_schedule(app, campaigns) -> None:
    """The retention purge as production runs it: a worker's scheduler queues the daily task,
    its job loop runs it (`survey.worker.process.Worker`), once a day across all workers."""
    import threading
    import time

    from sqlalchemy import select

    from survey.models import Job, ScheduledTask
    from survey.worker.process import Worker
    from survey.worker.scheduler import queue_due_tasks, schedule

    intervals = schedule(app.config, {})
    assert intervals["retention_purge"] == timedelta(days=1)
    worker = Worker(app, worker_id="purge-worker", send=False, idle_sleep=0.05, tick=0.05)
    worker.intervals = {"retention_purge": intervals["retention_purge"]}
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                done = db.session.scalars(select(Job).where(
                    Job.kind == "scheduled", Job.state == "succeeded")).all()
                db.session.remove()
            if done:
                break
            time.sleep(0.1)
    finally:
        worker.stop.set()
        thread.join(30)
    assert not worker.errors
    with app.app_context():
        (job,) = db.session.scalars(select(Job).where(Job.kind == "scheduled")).all()
        assert job.parameters == {"task": "retention_purge"} and job.state == "succeeded"
        assert job.result["campaigns"] == ["old"] and job.result["customers_erased"] == 1
        alice = db.session.query(Customer).filter_by(external_id="A").one()
        assert alice.email is None and alice.erased_at is not None
        assert db.session.query(Customer).filter_by(external_id="C").one().email  # 10 days
        purge = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "privacy.purge")).one()
        assert purge.actor == f"job:{job.id}"
        # Daily: not due again before a day has passed, then queued once more.
        row = db.session.get(ScheduledTask, "retention_purge")
        assert timedelta(hours=23) < row.next_run_at - utcnow() <= timedelta(days=1)
        assert queue_due_tasks(db.session, worker.intervals) == []
        tomorrow = utcnow() + timedelta(days=1, minutes=1)
        assert queue_due_tasks(db.session, worker.intervals, now=tomorrow) == ["retention_purge"]
