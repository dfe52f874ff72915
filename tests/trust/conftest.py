"""A demo year seeded once per test module: two campaigns with customers, messages, answers,
follow-ups and reports, and one account of each role (a client's viewer included)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from survey import create_app
from survey.extensions import db
from survey.jobs.operations import finish_job, mark_running, queue_job
from survey.models import Campaign, Customer, FollowUp, ImprovementAction, Job, JobKind, Report
from survey.worker.queue import run_pending_jobs
from tests.conftest import empty_all_tables
from tests.trust.helpers import make_user

SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


@dataclass
class Seeded:
    app: Flask
    open_slug: str
    closed_slug: str
    report_id: int  # a report of the open campaign
    follow_up_id: int  # a follow-up of the open campaign
    token: str  # the test link's token (open campaign)
    outbox_file: str
    report_job_id: int  # a finished report job of the open campaign
    pack_job_id: int  # an auditor's pack of the open campaign, made by the worker's code
    programme_id: int = 0  # the demo's programme
    action_id: int = 0  # the demo's first improvement action
    users: dict[str, int] = field(default_factory=dict)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    external_ids: set[str] = field(default_factory=set)


def seeded_app(database_url: str, instance: Path, **config: object) -> Flask:
    return create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": SECRET_KEY, "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://127.0.0.1:5000", **config,
    })


@pytest.fixture(scope="module")
def seeded(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    from survey.demo import seed_demo

    instance = tmp_path_factory.mktemp("seeded-instance")
    app = seeded_app(database_url, instance)
    with app.app_context():
        empty_all_tables()
        lines = seed_demo(customers=800)
        token = re.search(r"/r/(\S+)", "\n".join(lines)).group(1)
        open_campaign = db.session.scalars(select(Campaign).where(Campaign.status == "open")).one()
        closed = db.session.scalars(select(Campaign).where(Campaign.status == "closed")).one()
        report_id = db.session.scalars(select(Report.id).where(
            Report.campaign_id == open_campaign.id)).first()
        follow_up_id = db.session.scalars(select(FollowUp.id).where(
            FollowUp.campaign_id == open_campaign.id).order_by(FollowUp.id)).first()
        customers = db.session.execute(select(Customer.email, Customer.phone, Customer.name,
                                              Customer.external_id)).all()
        job = queue_job(db.session, JobKind.REPORT, actor="test", user_id=None,
                        campaign_id=open_campaign.id, parameters={"lang": "fr"})
        mark_running(db.session, job.id)
        finish_job(db.session, job.id, result={"report_id": report_id, "lang": "fr"})
        pack = queue_job(db.session, JobKind.AUDIT_PACK, actor="test", user_id=None,
                         campaign_id=open_campaign.id, parameters={"lang": "fr", "pdf": False})
        db.session.commit()
        seeded = Seeded(
            app=app, open_slug=open_campaign.slug, closed_slug=closed.slug, report_id=report_id,
            follow_up_id=follow_up_id, token=token,
            outbox_file=sorted(p.name for p in (instance / "outbox").iterdir())[0],
            report_job_id=job.id, pack_job_id=pack.id, programme_id=open_campaign.programme_id,
            action_id=db.session.scalars(select(ImprovementAction.id)
                                         .order_by(ImprovementAction.id)).first(),
            emails={c.email for c in customers if c.email},
            phones={c.phone for c in customers if c.phone},
            names={c.name for c in customers if c.name},
            external_ids={c.external_id for c in customers},
        )
    assert report_id and follow_up_id and len(seeded.emails) > 500
    run_pending_jobs(app, worker_id="trust-fixture")
    with app.app_context():
        made = db.session.get(Job, seeded.pack_job_id)
        assert made.state == "succeeded", made.error
    for role in ("admin", "manager", "auditor", "client_viewer"):
        seeded.users[role] = make_user(app, f"{role}@trust.example", role)
    yield seeded
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
